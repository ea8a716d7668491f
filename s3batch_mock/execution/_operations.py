"""The eleven job operations, each applied to one task through the object store.

Each function takes the task, the operation's parameters (as CreateJob received
them) and the job's context, and returns an ``Outcome``: what the completion report
records for the task. A failure S3 would answer with (missing object, archived
source, object lock rules, ...) is a failed task, never an exception.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from s3batch_mock._clock import now
from s3batch_mock.stores import (
    ARCHIVED_STORAGE_CLASSES,
    CopySpec,
    ObjectStore,
    ObjectStoreError,
    check_readable,
)

from ._checksums import UnsupportedAlgorithm, checksum, checksum_hex, read_chunks
from ._lambdas import LambdaRegistry, invoke
from ._manifests import Task, split_arn

__all__ = ["Context", "Outcome", "Performer", "prepare"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """One task's result, as a completion report row records it."""

    succeeded: bool
    http_status: int = 200
    error_code: str = ""
    message: str = ""


SUCCEEDED = Outcome(True)
#: The one empty tag set every S3DeleteObjectTagging task passes (checked once per job).
_NO_TAGS: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True)
class Context:
    """What every task of one job shares."""

    store: ObjectStore
    job_id: str
    lambdas: LambdaRegistry


Performer = Callable[[Task, Context], Outcome]


def prepare(name: str, params: Mapping[str, Any]) -> Performer:
    """The function that applies operation ``name`` to one task.

    Parameters are interpreted once per job, not once per task: a tag set becomes one
    read-only mapping shared by every object the job tags.
    """
    operation = _OPERATIONS[name]
    ready = _PREPARE.get(name, dict)(params)

    def perform(task: Task, context: Context) -> Outcome:
        if task.problem is not None:
            return Outcome(False, 400, "InvalidRequest", task.problem)
        try:
            return operation(ready, task, context)
        except ObjectStoreError as exc:
            return Outcome(False, exc.http_status, exc.code, exc.message)

    return perform


def _prepare_tagging(params: Mapping[str, Any]) -> dict[str, Any]:
    tags = {tag["Key"]: tag["Value"] for tag in params.get("TagSet", [])}
    return {**params, "TagSet": MappingProxyType(tags)}


def _prepare_copy(params: Mapping[str, Any]) -> dict[str, Any]:
    prefix = params.get("TargetKeyPrefix")
    return {
        **params,
        "Spec": _copy_spec(params),
        "TargetBucket": split_arn(params["TargetResource"])[0],
        "KeyFolder": f"{prefix.rstrip('/')}/" if prefix else "",
    }


def _put_tagging(params: Mapping[str, Any], task: Task, context: Context) -> Outcome:
    context.store.put_tags(task.bucket, task.key, task.version_id, params["TagSet"])
    return SUCCEEDED


def _add_tagging(params: Mapping[str, Any], task: Task, context: Context) -> Outcome:
    """OSS's AddObjectTagging: the job's tags merged into the object's (a key the job
    names takes the job's value). Read, then write: not atomic, as on OSS."""
    current = context.store.head(task.bucket, task.key, task.version_id).tags
    merged = {**current, **params["TagSet"]}
    context.store.put_tags(task.bucket, task.key, task.version_id, merged)
    return SUCCEEDED


def _delete_tagging(params: Mapping[str, Any], task: Task, context: Context) -> Outcome:
    context.store.put_tags(task.bucket, task.key, task.version_id, _NO_TAGS)
    return SUCCEEDED


def _copy(params: Mapping[str, Any], task: Task, context: Context) -> Outcome:
    store = context.store
    source = store.head(task.bucket, task.key, task.version_id)
    try:
        check_readable(source)
    except ObjectStoreError as exc:
        return Outcome(False, exc.http_status, exc.code, exc.message)
    since = params.get("ModifiedSinceConstraint")
    if since is not None and not source.last_modified > since:
        return Outcome(
            False,
            412,
            "PreconditionFailed",
            "At least one of the pre-conditions "
            f"you specified did not hold: not modified since {since.isoformat()}",
        )
    until = params.get("UnModifiedSinceConstraint")
    if until is not None and source.last_modified > until:
        return Outcome(
            False,
            412,
            "PreconditionFailed",
            "At least one of the pre-conditions "
            f"you specified did not hold: modified since {until.isoformat()}",
        )
    store.copy(source, params["TargetBucket"], params["KeyFolder"] + task.key, params["Spec"])
    return SUCCEEDED


def _copy_spec(params: Mapping[str, Any]) -> CopySpec:
    replace = params.get("MetadataDirective") == "REPLACE"
    new = params.get("NewObjectMetadata") or {}
    headers = {
        name: str(new[name])
        for name in ("CacheControl", "ContentDisposition", "ContentEncoding", "ContentLanguage")
        if name in new
    }
    if "HttpExpiresDate" in new:
        headers["Expires"] = new["HttpExpiresDate"].isoformat()
    acl: dict[str, Any] | None = None
    if "CannedAccessControlList" in params:
        acl = {"Canned": params["CannedAccessControlList"]}
    elif "AccessControlGrants" in params:
        acl = {"Grants": list(params["AccessControlGrants"])}
    kms = params.get("SSEAwsKmsKeyId")
    algorithm = new.get("SSEAlgorithm")
    tagging = params.get("NewObjectTagging")
    return CopySpec(
        metadata=dict(new.get("UserMetadata", {})) if replace else None,
        headers=headers if replace else None,
        content_type=new.get("ContentType") if replace else None,
        tags={t["Key"]: t["Value"] for t in tagging} if tagging else None,
        storage_class=params.get("StorageClass"),
        acl=acl,
        legal_hold=params.get("ObjectLockLegalHoldStatus"),
        retention_mode=params.get("ObjectLockMode"),
        retain_until=params.get("ObjectLockRetainUntilDate"),
        encryption="aws:kms" if kms or algorithm == "KMS" else None,
        kms_key_id=kms,
        bucket_key_enabled=params.get("BucketKeyEnabled"),
        checksum_algorithm=params.get("ChecksumAlgorithm"),
        redirect_location=params.get("RedirectLocation"),
    )


def _put_acl(params: Mapping[str, Any], task: Task, context: Context) -> Outcome:
    policy = params.get("AccessControlPolicy", {})
    if "CannedAccessControlList" in policy:
        acl: dict[str, Any] = {"Canned": policy["CannedAccessControlList"]}
    else:
        acl = dict(policy.get("AccessControlList", {}))
    context.store.put_acl(task.bucket, task.key, task.version_id, acl)
    return SUCCEEDED


def _restore(params: Mapping[str, Any], task: Task, context: Context) -> Outcome:
    days = params.get("ExpirationInDays")
    if not days:  # only then does the storage class matter here: no HEAD per task otherwise
        info = context.store.head(task.bucket, task.key, task.version_id)
        if info.storage_class in ARCHIVED_STORAGE_CLASSES:
            return Outcome(
                False,
                400,
                "InvalidArgument",
                "ExpirationInDays must be at least 1 to restore an object in "
                + info.storage_class,
            )
    context.store.restore(task.bucket, task.key, task.version_id, days)
    return SUCCEEDED


def _legal_hold(params: Mapping[str, Any], task: Task, context: Context) -> Outcome:
    status = params["LegalHold"]["Status"]
    context.store.put_legal_hold(task.bucket, task.key, task.version_id, status)
    return SUCCEEDED


def _retention(params: Mapping[str, Any], task: Task, context: Context) -> Outcome:
    retention = params["Retention"]
    until = retention.get("RetainUntilDate")
    mode = retention.get("Mode")
    if until is None or mode is None:
        return Outcome(False, 400, "MalformedXML", "Retention needs both Mode and RetainUntilDate")
    if until <= now():
        return Outcome(
            False, 400, "InvalidArgument", "The retain until date must be in the future"
        )
    bypass = bool(params.get("BypassGovernanceRetention"))
    context.store.put_retention(task.bucket, task.key, task.version_id, mode, until, bypass)
    return SUCCEEDED


def _replicate(params: Mapping[str, Any], task: Task, context: Context) -> Outcome:
    context.store.replicate(task.bucket, task.key, task.version_id)
    return SUCCEEDED


def _compute_checksum(params: Mapping[str, Any], task: Task, context: Context) -> Outcome:
    """The checksum as the ResultMessage readers of real reports expect (docs/reports.md):
    compact JSON with ``checksum_base64``, ``checksum_hex`` (lower case),
    ``checksumAlgorithm``, ``checksumType`` and the object's ``ETag`` (unquoted)."""
    algorithm = params.get("ChecksumAlgorithm", "CRC64NVME")
    kind = params.get("ChecksumType", "FULL_OBJECT")
    info = context.store.head(task.bucket, task.key, task.version_id)
    with context.store.open(task.bucket, task.key, task.version_id) as body:
        try:
            value = checksum(algorithm, read_chunks(body))
        except UnsupportedAlgorithm as exc:
            return Outcome(False, 501, "NotImplemented", str(exc))
    if kind == "COMPOSITE":
        # A single-part object's composite checksum: the checksum of its one part's
        # checksum, with the part count appended.
        value = checksum(algorithm, [base64.b64decode(value)]) + "-1"
    result = {
        "checksum_base64": value,
        "checksum_hex": checksum_hex(value),
        "checksumAlgorithm": algorithm,
        "checksumType": kind,
        "ETag": info.etag,
    }
    return Outcome(True, 200, "", json.dumps(result, separators=(",", ":")))


def _update_encryption(params: Mapping[str, Any], task: Task, context: Context) -> Outcome:
    kms = params["ObjectEncryption"]["SSEKMS"]
    context.store.set_encryption(
        task.bucket, task.key, task.version_id, kms["KMSKeyArn"], bool(kms.get("BucketKeyEnabled"))
    )
    return SUCCEEDED


def _lambda(params: Mapping[str, Any], task: Task, context: Context) -> Outcome:
    result = invoke(
        context.lambdas, params, context.job_id, task.bucket, task.key, task.version_id
    )
    return Outcome(result.succeeded, result.http_status, result.error_code, result.message)


_OPERATIONS: dict[str, Callable[[Mapping[str, Any], Task, Context], Outcome]] = {
    "LambdaInvoke": _lambda,
    "S3PutObjectCopy": _copy,
    "S3PutObjectAcl": _put_acl,
    "S3PutObjectTagging": _put_tagging,
    "S3DeleteObjectTagging": _delete_tagging,
    "AddObjectTagging": _add_tagging,  # Alibaba Cloud OSS only
    "S3InitiateRestoreObject": _restore,
    "S3PutObjectLegalHold": _legal_hold,
    "S3PutObjectRetention": _retention,
    "S3ReplicateObject": _replicate,
    "S3ComputeObjectChecksum": _compute_checksum,
    "S3UpdateObjectEncryption": _update_encryption,
}

_PREPARE: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    "S3PutObjectTagging": _prepare_tagging,
    "AddObjectTagging": _prepare_tagging,
    "S3PutObjectCopy": _prepare_copy,
}
