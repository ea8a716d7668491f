"""Where jobs reach objects: the protocol, S3's rules, the embedded store and moto's.

``ObjectStore`` is what jobs use; ``EmbeddedStore`` serves it in memory by default, and
``MotoStore`` (``stores._moto``, imported only when moto's ``mock_aws`` is active) from
moto's S3. ``_rules`` holds S3's own checks, one home for both stores.
"""

from __future__ import annotations

from ._embedded import EmbeddedStore
from ._protocol import (
    ARCHIVED_STORAGE_CLASSES,
    SPOOL_BYTES,
    Body,
    CopySpec,
    InvalidName,
    ObjectInfo,
    Objects,
    ObjectsFace,
    ObjectStore,
    ObjectStoreError,
    body_stream,
    moto_is_active,
)
from ._rules import (
    check_bucket_name,
    check_copy,
    check_key,
    check_object_tags,
    check_prefix,
    check_readable,
    check_retention_change,
    grant_headers,
)

__all__ = [
    "ARCHIVED_STORAGE_CLASSES",
    "SPOOL_BYTES",
    "Body",
    "CopySpec",
    "EmbeddedStore",
    "InvalidName",
    "ObjectInfo",
    "ObjectStore",
    "ObjectStoreError",
    "Objects",
    "ObjectsFace",
    "body_stream",
    "check_bucket_name",
    "check_copy",
    "check_key",
    "check_object_tags",
    "check_prefix",
    "check_readable",
    "check_retention_change",
    "grant_headers",
    "moto_is_active",
]
