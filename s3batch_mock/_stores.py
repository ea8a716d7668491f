"""Object stores: the small protocol jobs use to reach objects, and the embedded store.

The backend never talks to S3 itself. Jobs read manifests (and, as execution grows,
change objects and write reports) through ``ObjectStore``. ``EmbeddedStore`` is the
in-memory default; a moto adapter can serve the same protocol.
"""

from __future__ import annotations

import hashlib
import io
import threading
import uuid
from dataclasses import dataclass, field
from typing import IO, Protocol

__all__ = ["EmbeddedStore", "ObjectInfo", "ObjectStore", "ObjectStoreError"]


class ObjectStoreError(Exception):
    """An S3-style failure reaching an object: code, HTTP status and message."""

    def __init__(self, code: str, http_status: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.http_status = http_status
        self.message = message


@dataclass(frozen=True)
class ObjectInfo:
    """What a HEAD of one object version tells."""

    bucket: str
    key: str
    etag: str  # MD5 hex, without quotes
    version_id: str
    size: int


class ObjectStore(Protocol):
    """What a job needs from S3. Every method raises ``ObjectStoreError`` on failure."""

    def put(self, bucket: str, key: str, body: bytes | str) -> str:
        """Store an object; returns its ETag without quotes."""
        ...

    def get(self, bucket: str, key: str) -> bytes:
        """The latest version's body."""
        ...

    def head(self, bucket: str, key: str, version_id: str | None = None) -> ObjectInfo:
        """Metadata of the latest version, or of ``version_id``."""
        ...

    def open(self, bucket: str, key: str, version_id: str | None = None) -> IO[bytes]:
        """A readable binary stream of one version's body."""
        ...

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        """Keys in the bucket that start with ``prefix``, sorted."""
        ...

    def get_tags(self, bucket: str, key: str) -> dict[str, str]:
        """The latest version's tag set."""
        ...


@dataclass
class _Version:
    body: bytes
    etag: str
    version_id: str
    tags: dict[str, str] = field(default_factory=dict)


class EmbeddedStore:
    """An in-memory, versioned S3: buckets created on first ``put``, ETags as MD5 hex."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._buckets: dict[str, dict[str, list[_Version]]] = {}

    def put(self, bucket: str, key: str, body: bytes | str) -> str:
        data = body.encode("utf-8") if isinstance(body, str) else bytes(body)
        etag = hashlib.md5(data, usedforsecurity=False).hexdigest()
        version = _Version(data, etag, uuid.uuid4().hex)
        with self._lock:
            self._buckets.setdefault(bucket, {}).setdefault(key, []).append(version)
        return etag

    def get(self, bucket: str, key: str) -> bytes:
        return self._version(bucket, key, None).body

    def head(self, bucket: str, key: str, version_id: str | None = None) -> ObjectInfo:
        found = self._version(bucket, key, version_id)
        return ObjectInfo(bucket, key, found.etag, found.version_id, len(found.body))

    def open(self, bucket: str, key: str, version_id: str | None = None) -> IO[bytes]:
        return io.BytesIO(self._version(bucket, key, version_id).body)

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        with self._lock:
            return sorted(k for k in self._bucket(bucket) if k.startswith(prefix))

    def get_tags(self, bucket: str, key: str) -> dict[str, str]:
        return dict(self._version(bucket, key, None).tags)

    def clear(self) -> None:
        """Drop every bucket and object."""
        with self._lock:
            self._buckets.clear()

    def _bucket(self, bucket: str) -> dict[str, list[_Version]]:
        try:
            return self._buckets[bucket]
        except KeyError:
            raise ObjectStoreError(
                "NoSuchBucket", 404, f"The specified bucket does not exist: {bucket}"
            ) from None

    def _version(self, bucket: str, key: str, version_id: str | None) -> _Version:
        with self._lock:
            versions = self._bucket(bucket).get(key)
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
