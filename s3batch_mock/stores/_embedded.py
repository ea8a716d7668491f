"""The embedded store: S3 objects in memory (versions, tags, ACLs, locks, restores).

The default ``ObjectStore``; bodies above ``SPOOL_BYTES`` are spooled to disk.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import io
import shutil
import tempfile
import threading
import uuid
import weakref
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import IO, Any

from s3batch_mock._clock import now

from ._protocol import (
    _EMPTY,
    ARCHIVED_STORAGE_CLASSES,
    SPOOL_BYTES,
    Body,
    CopySpec,
    ObjectInfo,
    ObjectStoreError,
    body_stream,
)
from ._rules import (
    check_copy,
    check_face,
    check_header_values,
    check_new_object,
    check_object_tags,
    check_prefix,
    check_retention_change,
    grant_headers,
    no_object_lock,
)

__all__ = ["EmbeddedStore"]

_FIELDS = tuple(f.name for f in dataclasses.fields(ObjectInfo))


class _Version:
    """The embedded store's mutable record of one version; ``info()`` snapshots it.

    Changing a sub-resource (tags, ACL, hold, ...) sets one attribute in place, so a
    job touching a million objects allocates nothing per object.
    """

    __slots__ = _FIELDS
    version_id: str  # the one attribute read directly; the rest go through info()

    def __init__(self, info: ObjectInfo) -> None:
        for name in _FIELDS:
            setattr(self, name, getattr(info, name))

    def info(self) -> ObjectInfo:
        return ObjectInfo(*(getattr(self, name) for name in _FIELDS))


@dataclass
class _Bucket:
    versions: dict[str, list[_Version]] = field(default_factory=dict)
    object_lock: bool = False
    created: datetime.datetime = field(default_factory=now)


class EmbeddedStore:
    """An in-memory, versioned S3: ETags as MD5 hex, every put a new version.

    Only ``put`` and ``create_bucket`` create buckets; jobs writing into a missing
    bucket fail with ``NoSuchBucket`` as on S3. Bodies above 1 MiB are spooled to a
    temporary file, so large manifests and reports are not held in memory.

    The methods for tests (``create_bucket``, ``put``, ``get``, ``keys``,
    ``get_tags``, ``delete``) check names as S3 does, and raise ``MockEndedError``
    once ``ended()`` (the owning mock scope has ended) is true.
    """

    def __init__(self, *, ended: Callable[[], bool] | None = None) -> None:
        self._lock = threading.RLock()
        self._buckets: dict[str, _Bucket] = {}
        self._bodies: dict[tuple[str, str, str], bytes | IO[bytes]] = {}
        self._ended = ended
        # The last tag set found valid: a job passes one mapping for all its tasks.
        self._checked_tags: Mapping[str, str] | None = None
        # Bodies spooled to temporary files are closed when the store is discarded.
        weakref.finalize(self, _close_spools, self._bodies)

    def __repr__(self) -> str:
        return f"<EmbeddedStore buckets={sorted(self._buckets)}>"

    # ------------------------------------------------------------------ for tests

    def create_bucket(self, bucket: str, *, object_lock: bool = False) -> None:
        """Create an (empty) bucket; ``object_lock=True`` allows legal holds and retention."""
        check_face(self._ended, bucket)
        with self._lock:
            existing = self._buckets.setdefault(bucket, _Bucket())
            existing.object_lock = existing.object_lock or object_lock

    def put(
        self,
        bucket: str,
        key: str,
        body: Body,
        *,
        storage_class: str = "STANDARD",
        metadata: Mapping[str, str] | None = None,
        content_type: str = "binary/octet-stream",
        tags: Mapping[str, str] | None = None,
    ) -> str:
        """Store an object, creating the bucket if needed; returns its ETag (no quotes).

        Everything is checked before the bucket is created or a byte is stored.
        """
        check_face(self._ended, bucket, key)
        stream = body_stream(body)
        check_new_object(metadata, content_type, tags)
        self.create_bucket(bucket)
        info = self.write(
            bucket,
            key,
            stream,
            storage_class=storage_class,
            metadata=metadata,
            content_type=content_type,
            tags=tags,
        )
        return info.etag

    def get(self, bucket: str, key: str) -> bytes:
        check_face(self._ended, bucket, key)
        with self.open(bucket, key) as stream:
            return stream.read()

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        check_face(self._ended, bucket)
        return self._keys(bucket, check_prefix(prefix))

    def get_tags(self, bucket: str, key: str) -> dict[str, str]:
        check_face(self._ended, bucket, key)
        return dict(self.head(bucket, key).tags)

    def clear(self) -> None:
        """Drop every bucket and object."""
        with self._lock:
            _close_spools(self._bodies)
            self._buckets.clear()

    # ------------------------------------------------------------------ protocol

    def head(self, bucket: str, key: str, version_id: str | None = None) -> ObjectInfo:
        with self._lock:
            return self._version(bucket, key, version_id).info()

    def open(self, bucket: str, key: str, version_id: str | None = None) -> IO[bytes]:
        with self._lock:
            found = self._version(bucket, key, version_id)
            body = self._bodies[(bucket, key, found.version_id)]
            if isinstance(body, bytes):
                return io.BytesIO(body)
            body.seek(0)
            copy = tempfile.SpooledTemporaryFile(SPOOL_BYTES)  # noqa: SIM115 - returned
            shutil.copyfileobj(body, copy)
        copy.seek(0)
        return copy

    def objects(self, bucket: str) -> Iterator[ObjectInfo]:
        for key in self._keys(bucket, ""):
            yield self.head(bucket, key)

    def write(
        self,
        bucket: str,
        key: str,
        body: IO[bytes],
        *,
        storage_class: str = "STANDARD",
        metadata: Mapping[str, str] | None = None,
        content_type: str = "binary/octet-stream",
        tags: Mapping[str, str] | None = None,
    ) -> ObjectInfo:
        """Store a stream as a new version; the bucket must exist (``NoSuchBucket``)."""
        check_header_values(metadata or {}, content_type=content_type)
        with self._lock:
            self._bucket(bucket)
        return self._store(
            bucket,
            key,
            body,
            storage_class=storage_class,
            metadata=MappingProxyType(dict(metadata or {})),
            content_type=content_type,
            tags=_frozen(tags or {}),
        )

    def delete(self, bucket: str, key: str) -> None:
        """Remove every version of an object (a missing key is no error, as on S3)."""
        check_face(self._ended, bucket, key)
        with self._lock:
            self._bucket(bucket)
            for version in self._buckets[bucket].versions.pop(key, []):
                body = self._bodies.pop((bucket, key, version.version_id))
                if not isinstance(body, bytes):
                    body.close()

    def delete_bucket(self, bucket: str) -> None:
        """Remove an empty bucket (S3's DeleteBucket): ``NoSuchBucket`` if it is missing,
        ``BucketNotEmpty`` (409) while it holds an object."""
        with self._lock:
            if any(self._bucket(bucket).versions.values()):
                raise ObjectStoreError(
                    "BucketNotEmpty",
                    409,
                    f"The bucket you tried to delete is not empty: {bucket}",
                )
            del self._buckets[bucket]

    def buckets(self) -> dict[str, datetime.datetime]:
        """Every bucket's name and creation time, in name order."""
        with self._lock:
            return {name: self._buckets[name].created for name in sorted(self._buckets)}

    def put_tags(
        self, bucket: str, key: str, version_id: str | None, tags: Mapping[str, str]
    ) -> None:
        if tags is not self._checked_tags:  # one check per job, not per object
            check_object_tags(tags)
            self._checked_tags = tags
        self._change(bucket, key, version_id, tags=_frozen(tags))

    def put_acl(
        self, bucket: str, key: str, version_id: str | None, acl: Mapping[str, Any]
    ) -> None:
        if "Canned" not in acl:
            grant_headers(acl.get("Grants") or [])  # MalformedACLError, as MotoStore
        self._change(bucket, key, version_id, acl=acl)

    def put_legal_hold(self, bucket: str, key: str, version_id: str | None, status: str) -> None:
        self._require_object_lock(bucket)
        self._change(bucket, key, version_id, legal_hold=status)

    def put_retention(
        self,
        bucket: str,
        key: str,
        version_id: str | None,
        mode: str,
        until: datetime.datetime,
        bypass_governance: bool,
    ) -> None:
        self._require_object_lock(bucket)
        with self._lock:
            check_retention_change(
                self.head(bucket, key, version_id), mode, until, bypass_governance
            )
            self._change(bucket, key, version_id, retention_mode=mode, retain_until=until)

    def restore(self, bucket: str, key: str, version_id: str | None, days: int | None) -> None:
        with self._lock:
            current = self.head(bucket, key, version_id)
            if current.storage_class not in ARCHIVED_STORAGE_CLASSES | {"INTELLIGENT_TIERING"}:
                raise ObjectStoreError(
                    "InvalidObjectState",
                    403,
                    f"Restore is not allowed for the object's current storage class "
                    f"({current.storage_class})",
                )
            expiry = now() + datetime.timedelta(days=days or 1)
            self._change(bucket, key, version_id, restore_expiry=expiry)

    def set_encryption(
        self, bucket: str, key: str, version_id: str | None, kms_key_id: str, bucket_key: bool
    ) -> None:
        self._change(
            bucket,
            key,
            version_id,
            encryption="aws:kms",
            kms_key_id=kms_key_id,
            bucket_key_enabled=bucket_key,
        )

    def replicate(self, bucket: str, key: str, version_id: str | None) -> None:
        self._change(bucket, key, version_id, replication_status="COMPLETED")

    def copy(self, source: ObjectInfo, bucket: str, key: str, spec: CopySpec) -> ObjectInfo:
        """One new version with every attribute of ``spec``, or nothing at all: the
        request is checked first (``check_copy``), then stored in one step."""
        with self._lock:
            self._bucket(bucket)
            if spec.legal_hold or spec.retention_mode or spec.retain_until:
                self._require_object_lock(bucket)
            check_copy(spec)
            stream = self.open(source.bucket, source.key, source.version_id)
            changes: dict[str, Any] = {
                "metadata": source.metadata if spec.metadata is None else spec.metadata,
                "headers": _with_redirect(
                    source.headers if spec.headers is None else spec.headers,
                    spec.redirect_location,
                ),
                "content_type": spec.content_type or source.content_type,
                "tags": source.tags if spec.tags is None else _frozen(spec.tags),
                "storage_class": spec.storage_class or "STANDARD",
                "acl": spec.acl,
                "legal_hold": spec.legal_hold,
                "retention_mode": spec.retention_mode,
                "retain_until": spec.retain_until,
                "encryption": spec.encryption or "AES256",
                "kms_key_id": spec.kms_key_id,
                "bucket_key_enabled": bool(spec.bucket_key_enabled),
            }
            return self._store(bucket, key, stream, **changes)

    # ------------------------------------------------------------------ internals

    def _keys(self, bucket: str, prefix: str) -> list[str]:
        with self._lock:
            return sorted(
                k for k, v in self._bucket(bucket).versions.items() if v and k.startswith(prefix)
            )

    def _store(self, bucket: str, key: str, stream: IO[bytes], **attributes: Any) -> ObjectInfo:
        head = stream.read(SPOOL_BYTES + 1)
        digest = hashlib.md5(head, usedforsecurity=False)
        size = len(head)
        body: bytes | IO[bytes] = head
        if size > SPOOL_BYTES:  # large: keep it in a temporary file, not in memory
            spool = tempfile.SpooledTemporaryFile(SPOOL_BYTES)  # noqa: SIM115 - the body
            spool.write(head)
            while chunk := stream.read(1 << 16):
                digest.update(chunk)
                spool.write(chunk)
                size += len(chunk)
            body = spool
        info = ObjectInfo(
            bucket=bucket,
            key=key,
            etag=digest.hexdigest(),
            version_id=uuid.uuid4().hex,
            size=size,
            last_modified=now(),
            **attributes,
        )
        with self._lock:
            self._bucket(bucket).versions.setdefault(key, []).append(_Version(info))
            self._bodies[(bucket, key, info.version_id)] = body
        return info

    def _change(self, bucket: str, key: str, version_id: str | None, **changes: Any) -> None:
        with self._lock:
            found = self._version(bucket, key, version_id)
            for name, value in changes.items():
                setattr(found, name, value)

    def _require_object_lock(self, bucket: str) -> None:
        if not self._bucket(bucket).object_lock:
            raise no_object_lock(bucket)

    def _bucket(self, bucket: str) -> _Bucket:
        try:
            return self._buckets[bucket]
        except KeyError:
            raise ObjectStoreError(
                "NoSuchBucket", 404, f"The specified bucket does not exist: {bucket}"
            ) from None

    def _version(self, bucket: str, key: str, version_id: str | None) -> _Version:
        versions = self._bucket(bucket).versions.get(key)
        if not versions:
            raise ObjectStoreError(
                "NoSuchKey", 404, f"The specified key does not exist: s3://{bucket}/{key}"
            )
        if version_id is None:
            return versions[-1]
        for version in versions:
            if version.version_id == version_id:
                return version
        raise ObjectStoreError(
            "NoSuchVersion",
            404,
            f"The specified version does not exist: s3://{bucket}/{key}?versionId={version_id}",
        )


def _close_spools(bodies: dict[tuple[str, str, str], bytes | IO[bytes]]) -> None:
    for body in bodies.values():
        if not isinstance(body, bytes):
            body.close()
    bodies.clear()


def _frozen(tags: Mapping[str, str]) -> Mapping[str, str]:
    """A read-only tag set; one already read-only is shared as it is (jobs pass one
    mapping for all their tasks, so a million objects tagged alike cost one dict)."""
    if isinstance(tags, MappingProxyType):
        return tags
    return MappingProxyType(dict(tags)) if tags else _EMPTY


def _with_redirect(headers: Mapping[str, str], location: str | None) -> Mapping[str, str]:
    if location is None:
        return headers
    return MappingProxyType({**headers, "WebsiteRedirectLocation": location})
