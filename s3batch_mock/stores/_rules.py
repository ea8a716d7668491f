"""S3's own rules, one home for both stores: names, tags, grants, object lock.

Bucket names and keys as S3 checks them (for the public ``batch.objects`` face), the
object tags and grants a copy may carry, object-lock parameters and retention changes.
A broken rule is an ``ObjectStoreError`` with S3's code and status.
"""

from __future__ import annotations

import datetime
import ipaddress
import re
from collections.abc import Callable, Mapping
from typing import Any

from s3batch_mock._clock import now
from s3batch_mock._errors import MockEndedError, ended_message

from ._protocol import (
    ARCHIVED_STORAGE_CLASSES,
    CopySpec,
    InvalidName,
    ObjectInfo,
    ObjectStoreError,
)

__all__ = [
    "MAX_KEY_BYTES",
    "MAX_OBJECT_TAGS",
    "check_bucket_name",
    "check_copy",
    "check_face",
    "check_header_values",
    "check_key",
    "check_new_object",
    "check_object_tags",
    "check_prefix",
    "check_readable",
    "check_retention_change",
    "grant_headers",
    "no_object_lock",
]

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


def check_header_values(
    metadata: Mapping[str, str],
    headers: Mapping[str, str] | None = None,
    content_type: str | None = None,
) -> None:
    """User metadata, header-like attributes (``CacheControl``, ...) and the content type
    travel as HTTP header values: one holding a CR or LF would end its header line and
    start another, so it is refused (``InvalidArgument``, 400; a ``ValueError`` for the
    caller of ``batch.objects``). Any other text is stored; server mode sends values
    that are not ASCII RFC 2047-encoded, as S3 does."""
    named = [(f"x-amz-meta-{name}", value) for name, value in metadata.items()]
    named += [(f"the metadata name {name!r}", name) for name in metadata]
    named += list((headers or {}).items())
    if content_type is not None:
        named.append(("Content-Type", content_type))
    for name, value in named:
        if not isinstance(value, str):
            raise TypeError(f"{name} must be a str, not {value!r}")
        if "\r" in value or "\n" in value:
            raise InvalidName(
                "InvalidArgument",
                400,
                f"{name} contains a line break (CR or LF), which no HTTP header value may "
                f"hold: {value!r}",
            )


def check_face(ended: Callable[[], bool] | None, bucket: str, *keys: str) -> None:
    """The checks of every store method for tests: the owning scope is alive
    (``MockEndedError`` once ``ended()`` is true), the bucket name and keys valid."""
    if ended is not None and ended():
        raise MockEndedError(ended_message("batch.objects"))
    check_bucket_name(bucket)
    for key in keys:
        check_key(key)


def check_new_object(
    metadata: Mapping[str, str] | None, content_type: str, tags: Mapping[str, str] | None
) -> None:
    """What both stores' ``put`` checks of a new object besides its names and body:
    its header values (``check_header_values``) and its tag set (``check_object_tags``)."""
    check_header_values(metadata or {}, content_type=content_type)
    check_object_tags(tags or {})


def no_object_lock(bucket: str) -> ObjectStoreError:
    """S3's refusal of a legal hold or retention in a bucket without object lock."""
    return ObjectStoreError(
        "InvalidRequest",
        400,
        f"Bucket is missing Object Lock Configuration: {bucket} (create it with "
        "batch.objects.create_bucket(bucket, object_lock=True))",
    )


def check_copy(spec: CopySpec) -> None:
    """What S3 refuses in a copy request before writing anything (S3's codes).

    ``ObjectLockMode`` and ``ObjectLockRetainUntilDate`` go together, and the date
    must be in the future (``InvalidArgument``, 400); grants, tags and header values
    as above. The bucket's object lock configuration is checked by each store.
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
    check_header_values(spec.metadata or {}, spec.headers, spec.content_type)


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


def check_readable(info: ObjectInfo) -> None:
    """S3 reads (GET, a copy's source) no archived object until it is restored: one
    GLACIER or DEEP_ARCHIVE object without a restored copy is ``InvalidObjectState``."""
    if info.storage_class in ARCHIVED_STORAGE_CLASSES and info.restore_expiry is None:
        raise ObjectStoreError(
            "InvalidObjectState",
            403,
            "The operation is not valid for the object's storage class "
            f"({info.storage_class}); restore it first",
        )
