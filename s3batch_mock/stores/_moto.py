"""``MotoStore``: the ``ObjectStore`` protocol served from moto's S3.

With moto's ``mock_aws`` active, a test's own boto3 calls and a job's changes must
meet in one place, so that what a job tags, copies or writes is what the test then
reads with ``s3.get_object_tagging`` and friends. ``MotoStore`` therefore goes
through moto's public S3 API with an ordinary boto3 client, never through moto's
internal backend classes, which change between moto releases.

moto is not S3 in every detail. Where it would make a job's outcome differ from
``EmbeddedStore`` (the reference for the semantics), this module works around it
through the public API, and says so where it does:

* ``HeadObject`` with a ``versionId`` on an unversioned bucket answers 400, where S3
  takes ``null`` as that object's only version.
* ``PutObjectLegalHold`` and ``PutObjectRetention`` crash inside moto on a missing
  key or version, and moto does not enforce GOVERNANCE/COMPLIANCE retention rules:
  both are checked here first.
* ``PutObjectAcl`` ignores an ``AccessControlPolicy`` body (moto applies the
  bucket's ACL instead) and the ``versionId`` (moto changes the latest version):
  grants are sent as ``x-amz-grant-*`` headers, which moto reads.
* ``CopyObject`` with object-lock headers is refused by moto for want of a checksum
  header botocore never sends on a copy: the lock is applied after the copy.
* ``CopyObject`` makes the copy before it checks and applies the new tags, so a
  refused tag would leave the copy behind. Tags are checked first and set after the
  copy, and a copy whose follow-up calls fail is deleted again (``MotoStore.copy``).
* ``GetObjectRetention`` answers 500: retention is read from HEAD's headers.
* ``GetObjectTagging`` answers ``InvalidObjectState`` for a GLACIER or DEEP_ARCHIVE
  object that is not restored (S3 answers it): ``head`` keeps that error in the
  object's ``tags``, so only what reads them fails with it, not the whole HEAD.

What cannot be worked around is listed in the ``MotoStore`` docstring.
"""

from __future__ import annotations

import datetime
import email.utils
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType
from typing import IO, Any, cast
from urllib.parse import urlencode

import boto3
import botocore.config
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from ._protocol import Body, CopySpec, ObjectInfo, ObjectStoreError, body_stream, moto_is_active
from ._rules import (
    check_copy,
    check_face,
    check_new_object,
    check_object_tags,
    check_prefix,
    check_retention_change,
    grant_headers,
    no_object_lock,
)

__all__ = ["MotoStore"]

_UTC = datetime.UTC
_EMPTY: Mapping[str, str] = MappingProxyType({})

# ObjectInfo.headers names, as both HeadObject answers and CopyObject takes them.
_HEADER_PARAMS = (
    "CacheControl",
    "ContentDisposition",
    "ContentEncoding",
    "ContentLanguage",
    "WebsiteRedirectLocation",
)
_CHECKSUM_ALGORITHMS = ("CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256")
# HEAD errors carry no body, so botocore reports the status as the code.
_STATUS_CODES = {
    400: "BadRequest",
    403: "AccessDenied",
    404: "NotFound",
    405: "MethodNotAllowed",
    412: "PreconditionFailed",
}
# Keys per ListObjectsV2 page: S3's maximum (a module constant so tests can page).
_PAGE_SIZE = 1000
_EXPIRY = re.compile(r'expiry-date="([^"]+)"')
# Everything moto answers is final: retrying a 500 from a moto bug only adds sleeps.
_CLIENT_CONFIG = botocore.config.Config(retries={"total_max_attempts": 1})
# Jobs upload in the calling thread: s3transfer's pool would cost a thread per write.
_TRANSFER = TransferConfig(use_threads=False)


class MotoStore:
    """The ``ObjectStore`` protocol over moto's S3, for tests that run ``mock_aws``.

    moto owns the state: ``clear`` does nothing, and what a test put with its own
    client is what jobs see. Every call refuses to run (``ServiceUnavailable``)
    while ``mock_aws`` is off, so a job can never reach real S3.

    Known differences from ``EmbeddedStore`` that moto's API leaves no way around:

    * ``head`` leaves ``acl`` as ``None``: reading it would cost a GetObjectAcl per
      object in ``objects``; ask moto with ``s3.get_object_acl``.
    * ``head(...).tags`` of a tagged GLACIER or DEEP_ARCHIVE object that is not
      restored cannot be read: reading it raises ``ObjectStoreError``
      (``InvalidObjectState``), where S3 would answer. Nothing else in ``head``
      fails for it, and no operation but one that reads those tags.
    * ``put_acl`` on an older version changes the latest one (moto ignores
      ``versionId`` there), and moto records an e-mail grantee as a group URI.
      moto keeps every grantee of a permission but GetObjectAcl shows only the
      first one.
    * ``create_bucket(object_lock=True)`` on an existing bucket fails with
      ``InvalidBucket`` unless the bucket is empty.
    * ``set_encryption`` copies the object onto itself, as S3 would for a copy:
      a versioned bucket gets a new version, and the ACL and object-lock settings
      are not carried over.
    * ``replicate`` only checks the object exists: moto has no replication, so
      ``replication_status`` stays as moto reports it.
    * ``restore`` follows moto, which refuses INTELLIGENT_TIERING objects.
    * a copy into an unversioned bucket whose follow-up calls fail is deleted again,
      and with it the object it had replaced (moto keeps no older version there).
      Everything ``check_copy`` knows S3 refuses is refused before the copy, so only
      a moto failure of its own gets that far.

    Like ``EmbeddedStore``, the methods for tests check names as S3 does and raise
    ``MockEndedError`` once ``ended()`` is true.
    """

    def __init__(self, *, ended: Callable[[], bool] | None = None) -> None:
        self._client: Any = None
        self._client_lock = threading.Lock()
        self._ended = ended

    def __repr__(self) -> str:
        return f"<MotoStore active={moto_is_active()}>"

    # ------------------------------------------------------------------ for tests

    def create_bucket(self, bucket: str, *, object_lock: bool = False) -> None:
        """Create a bucket, or turn object lock on for an existing one, like ``EmbeddedStore``.

        us-east-1 answers CreateBucket on a bucket one already owns with success, so
        this is idempotent; object lock on an existing bucket needs versioning first,
        and moto only allows it while the bucket is empty (``InvalidBucket``).
        """
        check_face(self._ended, bucket)
        s3 = self._s3()
        params: dict[str, Any] = {"Bucket": bucket}
        if object_lock:
            params["ObjectLockEnabledForBucket"] = True
        _call(s3.create_bucket, **params)
        if object_lock:
            _call(
                s3.put_bucket_versioning,
                Bucket=bucket,
                VersioningConfiguration={"Status": "Enabled"},
            )
            _call(
                s3.put_object_lock_configuration,
                Bucket=bucket,
                ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"},
            )

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

        The object is put first and the bucket created only on ``NoSuchBucket``, so
        the usual case costs one call. Names, body and tags are checked before either.
        """
        check_face(self._ended, bucket, key)
        with body_stream(body) as stream:
            data = stream.read()
        check_new_object(metadata, content_type, tags)
        params: dict[str, Any] = {
            "Bucket": bucket,
            "Key": key,
            "Body": data,
            "StorageClass": storage_class,
            "Metadata": dict(metadata or {}),
            "ContentType": content_type,
        }
        if tags:
            params["Tagging"] = urlencode(dict(tags))
        s3 = self._s3()
        try:
            response = _call(s3.put_object, **params)
        except ObjectStoreError as exc:
            if exc.code != "NoSuchBucket":
                raise
            self.create_bucket(bucket)
            response = _call(s3.put_object, **params)
        return _etag(response)

    def get(self, bucket: str, key: str) -> bytes:
        check_face(self._ended, bucket, key)
        with self.open(bucket, key) as stream:
            return stream.read()

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        check_face(self._ended, bucket)
        return sorted(self._list(bucket, check_prefix(prefix)))

    def get_tags(self, bucket: str, key: str) -> dict[str, str]:
        check_face(self._ended, bucket, key)
        response = _call(self._s3().get_object_tagging, Bucket=bucket, Key=key)
        return _tag_dict(response)

    def clear(self) -> None:
        """Nothing to drop: moto owns the objects, and ``mock_aws`` resets them."""

    # ------------------------------------------------------------------ protocol

    def head(self, bucket: str, key: str, version_id: str | None = None) -> ObjectInfo:
        """HEAD, plus GetObjectTagging only when HEAD counts tags.

        Object-lock state, checksums and restore expiry all come from HEAD's own
        headers, so a head costs one or two calls rather than one per sub-resource.
        moto refuses GetObjectTagging on a GLACIER or DEEP_ARCHIVE object that is not
        restored (``InvalidObjectState``) where S3 answers: such an object's ``tags``
        are then ``_UnreadableTags``, which fail only what reads them, so a restore
        (or any task that never looks at the tags) is not failed by them.
        """
        response = self._head(bucket, key, version_id)
        tags: Mapping[str, str] = _EMPTY
        if response.get("TagCount"):
            params = _version_params(bucket, key, response.get("VersionId"))
            try:
                tags = MappingProxyType(_tag_dict(_call(self._s3().get_object_tagging, **params)))
            except ObjectStoreError as exc:
                if exc.code != "InvalidObjectState":
                    raise
                tags = _UnreadableTags(exc)
        return _object_info(bucket, key, response, tags)

    def open(self, bucket: str, key: str, version_id: str | None = None) -> IO[bytes]:
        """The GetObject body itself: the stream is read from moto as the caller reads."""
        response = _call(self._s3().get_object, **_version_params(bucket, key, version_id))
        return cast("IO[bytes]", response["Body"])

    def objects(self, bucket: str) -> Iterator[ObjectInfo]:
        for key in self._list(bucket, ""):
            yield self.head(bucket, key)

    def write(self, bucket: str, key: str, body: IO[bytes]) -> ObjectInfo:
        """Upload a stream of any size without creating the bucket.

        ``upload_fileobj`` reads the stream in parts (multipart above 8 MiB), so a
        large report is never held in memory, and a missing bucket fails the first
        request with ``NoSuchBucket``.
        """
        _call(self._s3().upload_fileobj, body, bucket, key, Config=_TRANSFER)
        return self.head(bucket, key)

    def put_tags(
        self, bucket: str, key: str, version_id: str | None, tags: Mapping[str, str]
    ) -> None:
        """An empty tag set goes as DeleteObjectTagging, which S3 treats the same.

        moto crashes on PutObjectTagging with no tag, and on DeleteObjectTagging of a
        missing key or version, so the version is checked first there.
        """
        check_object_tags(tags)
        s3 = self._s3()
        if not tags:
            self._head(bucket, key, version_id)
            _call(s3.delete_object_tagging, **_version_params(bucket, key, version_id))
            return
        tag_set = [{"Key": name, "Value": value} for name, value in tags.items()]
        _call(
            s3.put_object_tagging,
            **_version_params(bucket, key, version_id),
            Tagging={"TagSet": tag_set},
        )

    def put_acl(
        self, bucket: str, key: str, version_id: str | None, acl: Mapping[str, Any]
    ) -> None:
        """Canned ACLs as ``ACL``; grants as ``x-amz-grant-*`` headers.

        moto ignores an ``AccessControlPolicy`` body and silently applies the
        bucket's ACL; it does read the grant headers, which S3 takes too. It also
        ignores ``versionId``, so the version is checked here to fail as S3 would.
        """
        if version_id is not None:
            self._head(bucket, key, version_id)
        self._set_acl(bucket, key, version_id, acl)

    def _set_acl(
        self, bucket: str, key: str, version_id: str | None, acl: Mapping[str, Any]
    ) -> None:
        s3 = self._s3()
        params = _version_params(bucket, key, version_id)
        if "Canned" in acl:
            _call(s3.put_object_acl, **params, ACL=acl["Canned"])
            return
        grants = grant_headers(acl.get("Grants") or [])
        if grants:
            _call(s3.put_object_acl, **params, **grants)
            return
        # No grant at all: only a policy body can say so. moto then applies the
        # bucket's ACL; S3 would leave the object with no grant.
        owner = acl.get("Owner") or _call(s3.get_object_acl, **params)["Owner"]
        policy = {"Owner": dict(owner), "Grants": []}
        _call(s3.put_object_acl, **params, AccessControlPolicy=policy)

    def put_legal_hold(self, bucket: str, key: str, version_id: str | None, status: str) -> None:
        """Check lock, then the version, then set: moto crashes on a missing version."""
        self._require_object_lock(bucket)
        self._head(bucket, key, version_id)
        self._set_legal_hold(bucket, key, version_id, status)

    def _set_legal_hold(self, bucket: str, key: str, version_id: str | None, status: str) -> None:
        _call(
            self._s3().put_object_legal_hold,
            **_version_params(bucket, key, version_id),
            LegalHold={"Status": status},
        )

    def put_retention(
        self,
        bucket: str,
        key: str,
        version_id: str | None,
        mode: str,
        until: datetime.datetime,
        bypass_governance: bool,
    ) -> None:
        """S3's retention rules, checked here because moto accepts any change.

        A COMPLIANCE retention can be neither shortened nor switched to GOVERNANCE;
        a GOVERNANCE one only with ``BypassGovernanceRetention``. Without this check
        the same job would succeed under moto and fail under ``EmbeddedStore``.
        """
        self._require_object_lock(bucket)
        self._set_retention(bucket, key, version_id, mode, until, bypass_governance)

    def _set_retention(
        self,
        bucket: str,
        key: str,
        version_id: str | None,
        mode: str,
        until: datetime.datetime,
        bypass_governance: bool,
    ) -> None:
        """``put_retention`` once the bucket is known to have object lock."""
        current = _object_info(bucket, key, self._head(bucket, key, version_id), _EMPTY)
        check_retention_change(current, mode, until, bypass_governance)
        _call(
            self._s3().put_object_retention,
            **_version_params(bucket, key, version_id),
            Retention={"Mode": mode, "RetainUntilDate": until},
            BypassGovernanceRetention=bypass_governance,
        )

    def restore(self, bucket: str, key: str, version_id: str | None, days: int | None) -> None:
        """moto ignores ``versionId`` on RestoreObject (it restores the latest version, or
        says ``InvalidObjectState`` of it), so the version is checked here first."""
        self._head(bucket, key, version_id)
        _call(
            self._s3().restore_object,
            **_version_params(bucket, key, version_id),
            RestoreRequest={"Days": days or 1},
        )

    def set_encryption(
        self, bucket: str, key: str, version_id: str | None, kms_key_id: str, bucket_key: bool
    ) -> None:
        """Copy the object onto itself with SSE-KMS, S3's way to change encryption.

        Metadata and tags are copied; the storage class is passed again because a
        copy without one lands in STANDARD.
        """
        current = _object_info(bucket, key, self._head(bucket, key, version_id), _EMPTY)
        params: dict[str, Any] = {
            "Bucket": bucket,
            "Key": key,
            "CopySource": _copy_source(bucket, key, current.version_id),
            "ServerSideEncryption": "aws:kms",
            "SSEKMSKeyId": kms_key_id,
            "BucketKeyEnabled": bucket_key,
            "MetadataDirective": "COPY",
            "TaggingDirective": "COPY",
        }
        if current.storage_class != "STANDARD":
            params["StorageClass"] = current.storage_class
        _call(self._s3().copy_object, **params)

    def replicate(self, bucket: str, key: str, version_id: str | None) -> None:
        """moto has no replication: only the object's existence is checked."""
        self._head(bucket, key, version_id)

    def copy(self, source: ObjectInfo, bucket: str, key: str, spec: CopySpec) -> ObjectInfo:
        """CopyObject shaped by ``spec``, then the tags, grants and lock S3 would set with it.

        Any of ``metadata``, ``headers`` and ``content_type`` needs the REPLACE
        directive, which replaces all three: the ones ``spec`` leaves out are taken
        from ``source``, as ``EmbeddedStore`` keeps them. Header names other than
        ``_HEADER_PARAMS`` and ``Expires`` have no CopyObject parameter and are
        dropped. Tags, grants and object lock go in follow-up calls (moto tags a copy
        after making it, CopyObject has no write grant, and moto refuses lock headers
        on a copy).

        All or nothing: the bucket's lock configuration and everything ``check_copy``
        checks are refused before anything is copied, and a copy whose follow-up
        calls still fail is deleted before the error is raised.
        """
        if spec.legal_hold or spec.retention_mode or spec.retain_until:
            self._require_object_lock(bucket)
        check_copy(spec)
        params: dict[str, Any] = {
            "Bucket": bucket,
            "Key": key,
            "CopySource": _copy_source(source.bucket, source.key, source.version_id),
        }
        if spec.metadata is not None or spec.headers is not None or spec.content_type is not None:
            params["MetadataDirective"] = "REPLACE"
            params["Metadata"] = dict(source.metadata if spec.metadata is None else spec.metadata)
            params["ContentType"] = spec.content_type or source.content_type
            params.update(_header_params(source.headers if spec.headers is None else spec.headers))
        if spec.tags is not None:
            params["TaggingDirective"] = "REPLACE"  # no tags yet: set after the copy
        if spec.storage_class:
            params["StorageClass"] = spec.storage_class
        if spec.acl is not None and "Canned" in spec.acl:
            params["ACL"] = spec.acl["Canned"]
        if spec.encryption:
            params["ServerSideEncryption"] = spec.encryption
        if spec.kms_key_id:
            params["SSEKMSKeyId"] = spec.kms_key_id
        if spec.bucket_key_enabled is not None:
            params["BucketKeyEnabled"] = spec.bucket_key_enabled
        if spec.checksum_algorithm:
            params["ChecksumAlgorithm"] = spec.checksum_algorithm
        if spec.redirect_location:
            params["WebsiteRedirectLocation"] = spec.redirect_location
        try:
            response = _call(self._s3().copy_object, **params)
        except ObjectStoreError as exc:
            if exc.code != "NoSuchVersion":
                raise
            # moto says NoSuchVersion for ?versionId=null of a deleted key.
            raise self._missing(source.bucket, source.key, source.version_id) from None
        version_id: str | None = response.get("VersionId")
        try:
            self._finish_copy(bucket, key, version_id, spec)
        except ObjectStoreError:
            self._undo_copy(bucket, key, version_id, spec)
            raise
        return self.head(bucket, key, version_id)

    def _finish_copy(self, bucket: str, key: str, version_id: str | None, spec: CopySpec) -> None:
        """What CopyObject could not set, on the version the copy made; the lock
        last, so that nothing after it can fail and the copy can still be undone."""
        if spec.tags:
            self.put_tags(bucket, key, version_id, spec.tags)
        if spec.acl is not None and "Canned" not in spec.acl:
            self._set_acl(bucket, key, version_id, spec.acl)
        if spec.legal_hold:
            self._set_legal_hold(bucket, key, version_id, spec.legal_hold)
        if spec.retention_mode and spec.retain_until:
            self._set_retention(
                bucket, key, version_id, spec.retention_mode, spec.retain_until, False
            )

    def _undo_copy(self, bucket: str, key: str, version_id: str | None, spec: CopySpec) -> None:
        """Delete the version a failed copy made (best effort: the copy's own error is
        what the caller gets). A legal hold set before the failure is lifted first."""
        s3 = self._s3()
        params = _version_params(bucket, key, version_id)
        try:
            if spec.legal_hold == "ON":
                s3.put_object_legal_hold(**params, LegalHold={"Status": "OFF"})
            if spec.retention_mode:
                params["BypassGovernanceRetention"] = True
            s3.delete_object(**params)
        except ClientError:
            pass

    # ------------------------------------------------------------------ internals

    def _s3(self) -> Any:
        """The cached client, made on first use so that moto's env credentials apply.

        Refuses while ``mock_aws`` is off: the same client would otherwise send a
        job's writes to real S3 with whatever credentials it finds.
        """
        if not moto_is_active():
            raise ObjectStoreError(
                "ServiceUnavailable",
                503,
                "moto's mock_aws is not active: MotoStore will not send requests to real S3",
            )
        with self._client_lock:
            if self._client is None:
                # Its own obvious fakes: moto answers whatever signs, and the process's
                # environment may lose its credentials while a long-lived store (the
                # server's) still works.
                session = boto3.session.Session(
                    aws_access_key_id="testing",
                    aws_secret_access_key="testing",
                    aws_session_token="testing",
                )
                self._client = session.client("s3", region_name="us-east-1", config=_CLIENT_CONFIG)
            return self._client

    def _list(self, bucket: str, prefix: str) -> Iterator[str]:
        paginator = self._s3().get_paginator("list_objects_v2")
        try:
            pages = paginator.paginate(
                Bucket=bucket, Prefix=prefix, PaginationConfig={"PageSize": _PAGE_SIZE}
            )
            for page in pages:
                for item in page.get("Contents", []):
                    yield str(item["Key"])
        except ClientError as exc:
            raise _store_error(exc) from None

    def _head(self, bucket: str, key: str, version_id: str | None) -> dict[str, Any]:
        """HeadObject, with S3's error codes restored.

        A HEAD error has no body, so botocore only knows the status: the codes are
        worked out from the bucket and the key. ``null`` on an unversioned bucket is
        retried without ``versionId``, the only version such a bucket holds.
        """
        s3 = self._s3()
        params = _version_params(bucket, key, version_id)
        try:
            return cast("dict[str, Any]", s3.head_object(**params, ChecksumMode="ENABLED"))
        except ClientError as exc:
            status = _status(exc)
            if version_id == "null" and status == 400:
                return self._head(bucket, key, None)
            if status not in (400, 404) or _code(exc) not in ("400", "404"):
                raise _store_error(exc) from None
            raise self._missing(bucket, key, version_id) from None

    def _missing(self, bucket: str, key: str, version_id: str | None) -> ObjectStoreError:
        """Which of bucket, key or version is missing, as S3 would have said in a body."""
        s3 = self._s3()
        try:
            s3.head_bucket(Bucket=bucket)
        except ClientError as exc:
            if _status(exc) == 404:
                return ObjectStoreError(
                    "NoSuchBucket", 404, f"The specified bucket does not exist: {bucket}"
                )
            return _store_error(exc)
        if version_id is not None:
            try:
                s3.head_object(Bucket=bucket, Key=key)
            except ClientError:
                pass  # no current version either: the key is missing
            else:
                return ObjectStoreError(
                    "NoSuchVersion",
                    404,
                    f"The specified version does not exist: s3://{bucket}/{key}"
                    f"?versionId={version_id}",
                )
        return ObjectStoreError(
            "NoSuchKey", 404, f"The specified key does not exist: s3://{bucket}/{key}"
        )

    def _require_object_lock(self, bucket: str) -> None:
        """S3's refusal of lock settings on a bucket without object lock, before any change."""
        try:
            response = self._s3().get_object_lock_configuration(Bucket=bucket)
        except ClientError as exc:
            if _code(exc) != "ObjectLockConfigurationNotFoundError":
                raise _store_error(exc) from None
            response = {}
        enabled = response.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled")
        if enabled != "Enabled":
            raise no_object_lock(bucket)


# ---------------------------------------------------------------------- helpers


class _UnreadableTags(Mapping[str, str]):
    """The tags of an object moto would not show (see ``MotoStore.head``).

    Reading them raises the ``ObjectStoreError`` moto answered GetObjectTagging
    with, so a task that does need them fails as that call failed; holding them
    (in an ``ObjectInfo``) costs nothing.
    """

    __slots__ = ("_error",)

    def __init__(self, error: ObjectStoreError) -> None:
        self._error = error

    def _refuse(self) -> ObjectStoreError:
        error = self._error
        return ObjectStoreError(error.code, error.http_status, error.message)

    def __getitem__(self, name: str) -> str:
        raise self._refuse()

    def __iter__(self) -> Iterator[str]:
        raise self._refuse()

    def __len__(self) -> int:
        raise self._refuse()

    def __eq__(self, other: object) -> bool:
        return self is other  # unknown tags equal nothing else (and never raise here)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<tags moto would not read: {self._error.code}>"


def _call(method: Any, *args: Any, **kwargs: Any) -> Any:
    """Call a client method, turning botocore's ``ClientError`` into ``ObjectStoreError``."""
    try:
        return method(*args, **kwargs)
    except ClientError as exc:
        raise _store_error(exc) from None


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 500))


def _store_error(exc: ClientError) -> ObjectStoreError:
    status = _status(exc)
    code = _code(exc)
    if not code or code.isdigit():
        code = _STATUS_CODES.get(status, "InternalError")
    message = str(exc.response.get("Error", {}).get("Message") or exc)
    return ObjectStoreError(code, status, message)


def _version_params(bucket: str, key: str, version_id: str | None) -> dict[str, Any]:
    params: dict[str, Any] = {"Bucket": bucket, "Key": key}
    if version_id is not None:
        params["VersionId"] = version_id
    return params


def _copy_source(bucket: str, key: str, version_id: str) -> dict[str, str]:
    """The exact version, ``null`` included: a versioned bucket may hold a ``null`` one."""
    return {"Bucket": bucket, "Key": key, "VersionId": version_id}


def _etag(response: Mapping[str, Any]) -> str:
    return str(response.get("ETag", "")).strip('"')


def _tag_dict(response: Mapping[str, Any]) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in response.get("TagSet", [])}


def _utc(value: datetime.datetime) -> datetime.datetime:
    """botocore hands some timestamps back in local time; ObjectInfo keeps UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=_UTC)
    return value.astimezone(_UTC)


def _restore_expiry(header: str | None) -> datetime.datetime | None:
    """``expiry-date`` of ``ongoing-request="false", expiry-date="<RFC 1123>"``."""
    match = _EXPIRY.search(header or "")
    if match is None:
        return None
    try:
        return _utc(email.utils.parsedate_to_datetime(match.group(1)))
    except (TypeError, ValueError):
        return None


def _object_info(
    bucket: str, key: str, response: Mapping[str, Any], tags: Mapping[str, str]
) -> ObjectInfo:
    headers = {name: str(response[name]) for name in _HEADER_PARAMS if response.get(name)}
    if response.get("ExpiresString"):
        headers["Expires"] = str(response["ExpiresString"])
    elif isinstance(response.get("Expires"), datetime.datetime):
        headers["Expires"] = email.utils.format_datetime(_utc(response["Expires"]), usegmt=True)
    checksums = {
        algorithm: str(response[f"Checksum{algorithm}"])
        for algorithm in _CHECKSUM_ALGORITHMS
        if response.get(f"Checksum{algorithm}")
    }
    retain_until = response.get("ObjectLockRetainUntilDate")
    return ObjectInfo(
        bucket=bucket,
        key=key,
        etag=_etag(response),
        version_id=str(response.get("VersionId") or "null"),
        size=int(response.get("ContentLength", 0)),
        last_modified=_utc(response["LastModified"]),
        content_type=str(response.get("ContentType") or "binary/octet-stream"),
        metadata=MappingProxyType(dict(response.get("Metadata") or {})),
        headers=MappingProxyType(headers) if headers else _EMPTY,
        storage_class=str(response.get("StorageClass") or "STANDARD"),
        tags=tags,
        acl=None,
        legal_hold=response.get("ObjectLockLegalHoldStatus"),
        retention_mode=response.get("ObjectLockMode"),
        retain_until=_utc(retain_until) if isinstance(retain_until, datetime.datetime) else None,
        restore_expiry=_restore_expiry(response.get("Restore")),
        encryption=str(response.get("ServerSideEncryption") or "AES256"),
        kms_key_id=response.get("SSEKMSKeyId"),
        bucket_key_enabled=bool(response.get("BucketKeyEnabled", False)),
        replication_status=response.get("ReplicationStatus"),
        checksums=MappingProxyType(checksums) if checksums else _EMPTY,
    )


def _header_params(headers: Mapping[str, str]) -> dict[str, Any]:
    params: dict[str, Any] = {name: headers[name] for name in _HEADER_PARAMS if name in headers}
    if "Expires" in headers:
        # Either HEAD's RFC 1123 form or an ISO 8601 one; botocore takes both.
        params["Expires"] = headers["Expires"]
    return params
