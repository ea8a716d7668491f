"""The protocol jobs use to reach objects, whichever store serves them.

The backend never talks to S3 itself. Jobs read manifests, change objects and write
reports through ``ObjectStore``: the embedded store by default, moto's S3 while moto's
``mock_aws`` is active. Every method raises ``ObjectStoreError`` with the code and HTTP
status S3 would answer with.
"""

from __future__ import annotations

import datetime
import io
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import IO, Any, Protocol, cast

__all__ = [
    "ARCHIVED_STORAGE_CLASSES",
    "SPOOL_BYTES",
    "Body",
    "CopySpec",
    "InvalidName",
    "ObjectInfo",
    "ObjectStore",
    "ObjectStoreError",
    "body_stream",
    "moto_is_active",
]

#: Storage classes whose objects must be restored before they can be read.
ARCHIVED_STORAGE_CLASSES = frozenset({"GLACIER", "DEEP_ARCHIVE"})
_EMPTY: Mapping[str, str] = MappingProxyType({})


def _empty() -> Mapping[str, str]:
    return _EMPTY


# Bodies larger than this are kept in a temporary file, not in memory.
SPOOL_BYTES = 1 << 20


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


#: What ``put`` stores: bytes-like, text (stored as UTF-8) or a binary file object.
Body = bytes | bytearray | memoryview | str | IO[bytes]


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


class Objects(Protocol):
    """The objects a test puts and reads: the face ``batch.objects`` shows.

    Names and bodies are checked as S3 checks them. Jobs use the wider
    ``ObjectStore``; a test never needs (or sees) more than this.
    """

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


class ObjectStore(Objects, Protocol):
    """What a job needs from S3: the public face, and what tasks, manifests and reports
    do to objects."""

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


class ObjectsFace:
    """``batch.objects``: the ``Objects`` face of the active store, nothing more.

    The store itself (embedded, or moto's while ``mock_aws`` is active) also serves
    jobs; this keeps those internals out of what a test sees.
    """

    __slots__ = ("_store",)

    def __init__(self, store: ObjectStore) -> None:
        self._store = store

    def __repr__(self) -> str:
        return f"<objects of {self._store!r}>"

    def create_bucket(self, bucket: str, *, object_lock: bool = False) -> None:
        """Create a bucket (``object_lock=True`` allows legal holds and retention)."""
        self._store.create_bucket(bucket, object_lock=object_lock)

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
        return self._store.put(
            bucket,
            key,
            body,
            storage_class=storage_class,
            metadata=metadata,
            content_type=content_type,
            tags=tags,
        )

    def get(self, bucket: str, key: str) -> bytes:
        """The latest version's body."""
        return self._store.get(bucket, key)

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        """Keys in the bucket that start with ``prefix``, sorted."""
        return self._store.keys(bucket, prefix)

    def get_tags(self, bucket: str, key: str) -> dict[str, str]:
        """The latest version's tag set."""
        return self._store.get_tags(bucket, key)

    def head(self, bucket: str, key: str, version_id: str | None = None) -> ObjectInfo:
        """One version (the latest by default)."""
        return self._store.head(bucket, key, version_id)
