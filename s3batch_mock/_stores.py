"""Object stores: the protocol jobs use to reach objects, and the embedded store.

The backend never talks to S3 itself. Jobs read manifests, change objects and write
reports through ``ObjectStore``. ``EmbeddedStore`` is the in-memory default;
``_moto_store.MotoStore`` serves the same protocol from moto's S3 while moto's
``mock_aws`` is active. Every method raises ``ObjectStoreError`` with the code and
HTTP status S3 would answer with.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import io
import ipaddress
import re
import shutil
import sys
import tempfile
import threading
import uuid
import weakref
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import IO, Any, Protocol, cast

from ._clock import now
from ._errors import S3BatchMockError

__all__ = [
    "ARCHIVED_STORAGE_CLASSES",
    "Body",
    "CopySpec",
    "EmbeddedStore",
    "InvalidName",
    "MockEndedError",
    "ObjectInfo",
    "ObjectStore",
    "ObjectStoreError",
    "body_stream",
    "check_bucket_name",
    "check_copy",
    "check_key",
    "check_object_tags",
    "check_prefix",
    "check_retention_change",
    "ended_message",
    "grant_headers",
    "moto_is_active",
]

#: Storage classes whose objects must be restored before they can be read.
ARCHIVED_STORAGE_CLASSES = frozenset({"GLACIER", "DEEP_ARCHIVE"})
_EMPTY: Mapping[str, str] = MappingProxyType({})


def _empty() -> Mapping[str, str]:
    return _EMPTY


# Bodies larger than this are kept in a temporary file, not in memory.
_SPOOL_BYTES = 1 << 20


def moto_is_active() -> bool:
    """True while moto's ``mock_aws`` is active (moto is never imported to find out)."""
    models = sys.modules.get("moto.core.models")
    stubber = getattr(models, "botocore_stubber", None)
    return bool(getattr(stubber, "enabled", False))


class ObjectStoreError(Exception):
    """An S3-style failure reaching an object: code, HTTP status and message."""

    def __init__(self, code: str, http_status: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.http_status = http_status
        self.message = message


class InvalidName(ObjectStoreError, ValueError):
    """A bucket name, key or prefix S3 would refuse: a ``ValueError`` for the caller of
    ``batch.objects``, S3's own 400 error for the server's S3 API."""


class MockEndedError(S3BatchMockError, RuntimeError):
    """A controller, or its object store, used after its mock scope has ended."""


def ended_message(what: str) -> str:
    """What ``MockEndedError`` says: what happened, and what to do instead."""
    return (
        f"{what} belongs to a mock_s3batch scope that has ended (its `with` block, "
        "decorated test, fixture or last stop() is over), and its jobs, objects and "
        "calls were discarded. Use the controller of an active mock: the one `with "
        "mock_s3batch() as batch` gives inside the block, the s3batch fixture, start(), "
        "or current_batch()."
    )


# ---------------------------------------------------------------------- the face
# ``batch.objects`` is called with whatever a test passes: names and bodies are
# checked as S3 checks them, so a test cannot store what S3 would never hold.

#: What ``put`` stores: bytes-like, text (stored as UTF-8) or a binary file object.
Body = bytes | bytearray | memoryview | str | IO[bytes]

_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_BUCKET_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BUCKET_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
MAX_KEY_BYTES = 1024


def check_bucket_name(bucket: object) -> str:
    """``bucket`` if S3 accepts it as a general purpose bucket name, else ``InvalidName``.

    The rules of the S3 User Guide's "General purpose bucket naming rules": 3-63
    characters, lowercase letters, digits, dots and hyphens, a letter or digit at
    both ends, no ``..``, not an IP address, and none of the reserved prefixes and
    suffixes.
    """
    if not isinstance(bucket, str):
        raise TypeError(f"bucket must be a str, not {bucket!r}")
    problem = None
    if not _BUCKET.fullmatch(bucket):
        problem = (
            "3-63 characters of lowercase letters, digits, dots and hyphens, "
            "beginning and ending with a letter or digit"
        )
    elif ".." in bucket:
        problem = "no two adjacent dots"
    elif _is_ip_address(bucket):
        problem = "not formatted as an IP address"
    elif bucket.startswith(_BUCKET_PREFIXES) or bucket.endswith(_BUCKET_SUFFIXES):
        problem = "none of S3's reserved prefixes (xn--, sthree-, amzn-s3-demo-) or suffixes"
    if problem is not None:
        raise InvalidName(
            "InvalidBucketName",
            400,
            f"The specified bucket is not valid: {bucket!r} (a bucket name must be {problem})",
        )
    return bucket


def _is_ip_address(name: str) -> bool:
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        return False
    return True


def check_key(key: object) -> str:
    """``key`` if S3 can store it (1 to 1024 bytes of UTF-8), else ``InvalidName``."""
    if not isinstance(key, str):
        raise TypeError(f"key must be a str, not {key!r}")
    size = _utf8_size("key", key)
    if size == 0:
        raise InvalidName("InvalidArgument", 400, "An object key must not be empty: ''")
    if size > MAX_KEY_BYTES:
        raise InvalidName(
            "KeyTooLongError",
            400,
            f"Your key is too long: {size} bytes of UTF-8, at most {MAX_KEY_BYTES}: "
            f"{key[:40]!r}...",
        )
    return key


def check_prefix(prefix: object) -> str:
    """A listing prefix: text of at most 1024 bytes of UTF-8 (``""`` lists everything)."""
    if not isinstance(prefix, str):
        raise TypeError(f"prefix must be a str, not {prefix!r}")
    if _utf8_size("prefix", prefix) > MAX_KEY_BYTES:
        raise InvalidName(
            "KeyTooLongError", 400, f"The prefix is longer than any key: {prefix[:40]!r}..."
        )
    return prefix


def _utf8_size(name: str, text: str) -> int:
    try:
        return len(text.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise InvalidName(
            "InvalidArgument",
            400,
            f"The {name} is not valid UTF-8 ({exc.reason} at position {exc.start}): {text!r}",
        ) from None


def body_stream(body: object) -> IO[bytes]:
    """``put``'s body as a binary stream; ``TypeError`` for anything but bytes-like
    objects, text (stored as UTF-8) and binary file objects (``read()`` gives bytes)."""
    if isinstance(body, bytes | bytearray | memoryview):
        return io.BytesIO(bytes(body))
    if isinstance(body, str):
        try:
            return io.BytesIO(body.encode("utf-8"))
        except UnicodeEncodeError as exc:
            raise ValueError(
                f"body text must be encodable as UTF-8 ({exc.reason} at position "
                f"{exc.start}): {body[:40]!r}"
            ) from None
    if callable(getattr(body, "read", None)):
        return cast("IO[bytes]", _BinaryReader(body))
    raise TypeError(
        "body must be bytes, str (stored as UTF-8) or a binary file object, not "
        f"{type(body).__name__} {body!r:.60}"
    )


class _BinaryReader(io.RawIOBase):
    """A file object whose ``read`` is checked to give bytes (a text file gives str)."""

    def __init__(self, source: Any) -> None:
        super().__init__()
        self._source = source

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        chunk = self._source.read(-1 if size is None else size)
        if not isinstance(chunk, bytes | bytearray):
            raise TypeError(
                "body's read() must return bytes (open the file in binary mode, 'rb'), "
                f"not {type(chunk).__name__}"
            )
        return bytes(chunk)

    def readall(self) -> bytes:
        return self.read(-1)


# ---------------------------------------------------------------------- all or nothing
# A copy's tags, grants and lock are checked before anything is written, with the
# codes S3 answers, so a copy either lands with all of them or not at all, in both
# stores alike.

MAX_OBJECT_TAGS = 10
_TAG_TEXT = re.compile(r"[\w\s_.:/=+\-@]*")
# ACL permission -> the PutObjectAcl parameter that carries its x-amz-grant-* header.
_GRANT_PARAMS = {
    "FULL_CONTROL": "GrantFullControl",
    "READ": "GrantRead",
    "READ_ACP": "GrantReadACP",
    "WRITE_ACP": "GrantWriteACP",
    "WRITE": "GrantWrite",
}


def check_object_tags(tags: Mapping[str, str]) -> None:
    """S3's object tag rules: at most 10 tags, keys of 1-128 and values of 0-256
    characters (letters, digits, spaces and ``_.:/=+-@``), no ``aws:`` key."""
    if len(tags) > MAX_OBJECT_TAGS:
        raise ObjectStoreError(
            "BadRequest", 400, f"Object tags cannot be greater than {MAX_OBJECT_TAGS}"
        )
    for key, value in tags.items():
        if key.startswith("aws:"):
            raise ObjectStoreError(
                "InvalidTag", 400, f"Your TagKey cannot be prefixed with aws: {key!r}"
            )
        if not 1 <= len(key) <= 128 or not _TAG_TEXT.fullmatch(key):
            raise ObjectStoreError(
                "InvalidTag", 400, f"The TagKey you have provided is invalid: {key!r}"
            )
        if len(value) > 256 or not _TAG_TEXT.fullmatch(value):
            raise ObjectStoreError(
                "InvalidTag", 400, f"The TagValue you have provided is invalid: {value!r}"
            )


def grant_headers(grants: Any) -> dict[str, str]:
    """Grants as ``Grant*`` parameters: one comma-separated grantee list per permission.

    Also the check both stores make of an ACL's grants (``MalformedACLError``).
    """
    grantees: dict[str, list[str]] = {}
    for grant in grants:
        permission = str(grant.get("Permission", ""))
        param = _GRANT_PARAMS.get(permission)
        if param is None:
            raise ObjectStoreError(
                "MalformedACLError", 400, f"Unsupported ACL permission: {permission!r}"
            )
        grantees.setdefault(param, []).append(_grantee(grant.get("Grantee") or {}))
    return {param: ", ".join(values) for param, values in grantees.items()}


def _grantee(grantee: Mapping[str, Any]) -> str:
    """One grantee as a grant header names it, from S3's or S3 Batch's grant shape.

    S3 spells a grantee ``{"Type": "CanonicalUser", "ID": ...}``; S3 Batch's
    ``S3Grant`` spells it ``{"TypeIdentifier": "id", "Identifier": ...}``.
    """
    kind = grantee.get("TypeIdentifier")
    if kind is not None:
        label = {"id": "id", "emailAddress": "emailAddress", "uri": "uri"}.get(str(kind))
        value = grantee.get("Identifier")
    elif grantee.get("ID") is not None:
        label, value = "id", grantee["ID"]
    elif grantee.get("URI") is not None:
        label, value = "uri", grantee["URI"]
    elif grantee.get("EmailAddress") is not None:
        label, value = "emailAddress", grantee["EmailAddress"]
    else:
        label, value = None, None
    if label is None or not value:
        raise ObjectStoreError("MalformedACLError", 400, f"Unsupported ACL grantee: {grantee!r}")
    return f'{label}="{value}"'


def check_copy(spec: CopySpec) -> None:
    """What S3 refuses in a copy request before writing anything (S3's codes).

    ``ObjectLockMode`` and ``ObjectLockRetainUntilDate`` go together, and the date
    must be in the future (``InvalidArgument``, 400); grants and tags as above. The
    bucket's object lock configuration is checked by each store.
    """
    if (spec.retention_mode is None) != (spec.retain_until is None):
        raise ObjectStoreError(
            "InvalidArgument",
            400,
            "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both "
            "be supplied (ObjectLockMode and ObjectLockRetainUntilDate go together)",
        )
    if spec.retain_until is not None and spec.retain_until <= now():
        raise ObjectStoreError(
            "InvalidArgument",
            400,
            f"The retain until date must be in the future: {spec.retain_until.isoformat()}",
        )
    if spec.acl is not None and "Canned" not in spec.acl:
        grant_headers(spec.acl.get("Grants") or [])
    if spec.tags is not None:
        check_object_tags(spec.tags)


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """One object version as HEAD and the object's sub-resources describe it."""

    bucket: str
    key: str
    etag: str  # MD5 hex of the body, without quotes
    version_id: str
    size: int
    last_modified: datetime.datetime
    content_type: str = "binary/octet-stream"
    metadata: Mapping[str, str] = field(default_factory=_empty)  # user metadata (x-amz-meta-*)
    headers: Mapping[str, str] = field(
        default_factory=_empty
    )  # CacheControl, ContentDisposition, ...
    storage_class: str = "STANDARD"
    tags: Mapping[str, str] = field(default_factory=_empty)
    acl: Mapping[str, Any] | None = None  # {"Canned": ...} or {"Owner":..., "Grants": [...]}
    legal_hold: str | None = None
    retention_mode: str | None = None
    retain_until: datetime.datetime | None = None
    restore_expiry: datetime.datetime | None = None  # set once a restore was initiated
    encryption: str = "AES256"  # AES256 | aws:kms | aws:kms:dsse
    kms_key_id: str | None = None
    bucket_key_enabled: bool = False
    replication_status: str | None = None
    checksums: Mapping[str, str] = field(default_factory=_empty)


@dataclass(frozen=True)
class CopySpec:
    """How S3PutObjectCopy shapes the new object (``None`` keeps the source's value)."""

    metadata: Mapping[str, str] | None = None  # MetadataDirective REPLACE when set
    headers: Mapping[str, str] | None = None
    content_type: str | None = None
    tags: Mapping[str, str] | None = None
    storage_class: str | None = None
    acl: Mapping[str, Any] | None = None
    legal_hold: str | None = None
    retention_mode: str | None = None
    retain_until: datetime.datetime | None = None
    encryption: str | None = None
    kms_key_id: str | None = None
    bucket_key_enabled: bool | None = None
    checksum_algorithm: str | None = None
    redirect_location: str | None = None  # set whatever the metadata directive


class ObjectStore(Protocol):
    """What a job needs from S3."""

    def create_bucket(self, bucket: str, *, object_lock: bool = False) -> None:
        """Create a bucket (``object_lock=True`` allows legal holds and retention)."""
        ...

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
        """Store an object (creating the bucket if needed); returns its ETag, unquoted.

        ``body`` is bytes, str (stored as UTF-8) or a binary file object, anything
        else a ``TypeError``; a bucket name or key S3 would refuse is a ``ValueError``.
        """
        ...

    def get(self, bucket: str, key: str) -> bytes:
        """The latest version's body."""
        ...

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        """Keys in the bucket that start with ``prefix``, sorted."""
        ...

    def get_tags(self, bucket: str, key: str) -> dict[str, str]:
        """The latest version's tag set."""
        ...

    def head(self, bucket: str, key: str, version_id: str | None = None) -> ObjectInfo:
        """One version (the latest by default)."""
        ...

    def open(self, bucket: str, key: str, version_id: str | None = None) -> IO[bytes]:
        """A readable binary stream of one version's body."""
        ...

    def objects(self, bucket: str) -> Iterator[ObjectInfo]:
        """The latest version of every object in the bucket, in key order."""
        ...

    def write(self, bucket: str, key: str, body: IO[bytes]) -> ObjectInfo:
        """Store a stream as a new object; the bucket must exist (``NoSuchBucket``)."""
        ...

    def put_tags(
        self, bucket: str, key: str, version_id: str | None, tags: Mapping[str, str]
    ) -> None: ...

    def put_acl(
        self, bucket: str, key: str, version_id: str | None, acl: Mapping[str, Any]
    ) -> None: ...

    def put_legal_hold(
        self, bucket: str, key: str, version_id: str | None, status: str
    ) -> None: ...

    def put_retention(
        self,
        bucket: str,
        key: str,
        version_id: str | None,
        mode: str,
        until: datetime.datetime,
        bypass_governance: bool,
    ) -> None: ...

    def restore(self, bucket: str, key: str, version_id: str | None, days: int | None) -> None: ...

    def set_encryption(
        self, bucket: str, key: str, version_id: str | None, kms_key_id: str, bucket_key: bool
    ) -> None: ...

    def replicate(self, bucket: str, key: str, version_id: str | None) -> None: ...

    def copy(
        self,
        source: ObjectInfo,
        bucket: str,
        key: str,
        spec: CopySpec,
    ) -> ObjectInfo: ...


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
        self._face(bucket)
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
        self._face(bucket, key)
        stream = body_stream(body)
        check_object_tags(tags or {})
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
        self._face(bucket, key)
        with self.open(bucket, key) as stream:
            return stream.read()

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        self._face(bucket)
        return self._keys(bucket, check_prefix(prefix))

    def get_tags(self, bucket: str, key: str) -> dict[str, str]:
        self._face(bucket, key)
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
            copy = tempfile.SpooledTemporaryFile(_SPOOL_BYTES)  # noqa: SIM115 - returned
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
        self._face(bucket, key)
        with self._lock:
            self._bucket(bucket)
            for version in self._buckets[bucket].versions.pop(key, []):
                body = self._bodies.pop((bucket, key, version.version_id))
                if not isinstance(body, bytes):
                    body.close()

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

    def _face(self, bucket: str, *key: str) -> None:
        """The checks of every method for tests: the scope is alive, the names valid."""
        if self._ended is not None and self._ended():
            raise MockEndedError(ended_message("batch.objects"))
        check_bucket_name(bucket)
        for name in key:
            check_key(name)

    def _keys(self, bucket: str, prefix: str) -> list[str]:
        with self._lock:
            return sorted(
                k for k, v in self._bucket(bucket).versions.items() if v and k.startswith(prefix)
            )

    def _store(self, bucket: str, key: str, stream: IO[bytes], **attributes: Any) -> ObjectInfo:
        head = stream.read(_SPOOL_BYTES + 1)
        digest = hashlib.md5(head, usedforsecurity=False)
        size = len(head)
        body: bytes | IO[bytes] = head
        if size > _SPOOL_BYTES:  # large: keep it in a temporary file, not in memory
            spool = tempfile.SpooledTemporaryFile(_SPOOL_BYTES)  # noqa: SIM115 - the body
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
            raise ObjectStoreError(
                "InvalidRequest",
                400,
                f"Bucket is missing Object Lock Configuration: {bucket} (create it with "
                "batch.objects.create_bucket(bucket, object_lock=True))",
            )

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


def check_retention_change(
    current: ObjectInfo, mode: str, until: datetime.datetime, bypass_governance: bool
) -> None:
    """S3's rule for replacing a retention: COMPLIANCE can never be shortened or have its
    mode changed; GOVERNANCE only with BypassGovernanceRetention."""
    shortened = current.retain_until is not None and until < current.retain_until
    changed_mode = current.retention_mode is not None and mode != current.retention_mode
    if current.retention_mode == "COMPLIANCE" and (shortened or changed_mode):
        raise ObjectStoreError(
            "AccessDenied",
            403,
            "Access Denied: a COMPLIANCE retention cannot be shortened or changed to GOVERNANCE",
        )
    governed = current.retention_mode == "GOVERNANCE" and (shortened or changed_mode)
    if governed and not bypass_governance:
        raise ObjectStoreError(
            "AccessDenied",
            403,
            "Access Denied: shortening a GOVERNANCE retention needs BypassGovernanceRetention",
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
