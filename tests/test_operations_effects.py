"""What each of the eleven job operations does to objects, seen through boto3.

Every test runs a real job (CreateJob with ConfirmationRequired=False, then
``batch.run``) and checks its documented effect through ``batch.objects``, or the
failed task it must produce, through the completion report row and the job's counts
(aws-semantics.md sections 2 and 4.2, design section 5).
"""

from __future__ import annotations

import base64
import csv
import datetime
import hashlib
import io
import json
import uuid
from collections.abc import Sequence
from typing import Any

import pytest

from s3batch_mock import S3Batch
from tests.conftest import ACCOUNT, csv_manifest_job, s3control

UTC = datetime.UTC
REPORTS = "reports"
KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
FUNCTION = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:batch-fn"


# --------------------------------------------------------------------------- helpers


def _report_config() -> dict[str, Any]:
    return {
        "Enabled": True,
        "Bucket": f"arn:aws:s3:::{REPORTS}",
        "Format": "Report_CSV_20180820",
        "ReportScope": "AllTasks",
    }


def start_job(
    batch: S3Batch,
    operation: dict[str, Any],
    rows: Sequence[Sequence[str]],
    *,
    fields: Sequence[str] = ("Bucket", "Key"),
    report: bool = True,
) -> str:
    """Store a CSV manifest of ``rows`` and create a job for it (not yet run)."""
    key = f"manifest-{uuid.uuid4().hex}.csv"
    body = "".join(",".join(row) + "\n" for row in rows)
    etag = batch.objects.put("manifests", key, body)
    if report:
        batch.objects.create_bucket(REPORTS)
    manifest = {
        "Spec": {"Format": "S3BatchOperations_CSV_20180820", "Fields": list(fields)},
        "Location": {"ObjectArn": f"arn:aws:s3:::manifests/{key}", "ETag": etag},
    }
    return csv_manifest_job(
        s3control(),
        etag,
        key=key,
        ConfirmationRequired=False,
        Operation=operation,
        Manifest=manifest,
        Report=_report_config() if report else {"Enabled": False},
    )


def run_job(
    batch: S3Batch,
    operation: dict[str, Any],
    rows: Sequence[Sequence[str]],
    **options: Any,
) -> str:
    """``start_job``, then run the job until it rests; returns its id."""
    job_id = start_job(batch, operation, rows, **options)
    batch.run(job_id)
    return job_id


def report_rows(batch: S3Batch, job_id: str) -> dict[str, list[list[str]]]:
    """The completion report's rows, by TaskExecutionStatus ("succeeded", "failed")."""
    manifest = json.loads(batch.objects.get(REPORTS, f"job-{job_id}/manifest.json"))
    rows: dict[str, list[list[str]]] = {"succeeded": [], "failed": []}
    for entry in manifest["Results"]:
        text = batch.objects.get(REPORTS, entry["Key"]).decode("utf-8")
        rows[entry["TaskExecutionStatus"]].extend(csv.reader(io.StringIO(text)))
    return rows


def only_failure(batch: S3Batch, job_id: str) -> tuple[str, str, str]:
    """(HTTP status, error code, message) of the job's one task, which must have failed."""
    job = batch.job(job_id)
    assert job.status == "Complete", (job.status_history, job.failure_reasons)
    assert (job.succeeded_tasks, job.failed_tasks) == (0, 1)
    rows = report_rows(batch, job_id)
    assert rows["succeeded"] == []
    assert len(rows["failed"]) == 1
    row = rows["failed"][0]
    assert row[3] == "failed"
    return row[4], row[5], row[6]


def assert_succeeded(batch: S3Batch, job_id: str, total: int = 1) -> None:
    job = batch.job(job_id)
    assert job.status == "Complete", (job.status_history, job.failure_reasons)
    assert (job.total_tasks, job.succeeded_tasks, job.failed_tasks) == (total, total, 0), (
        report_rows(batch, job_id)["failed"]
    )


def progress(job_id: str) -> dict[str, Any]:
    job = s3control().describe_job(AccountId=ACCOUNT, JobId=job_id)["Job"]
    return dict(job["ProgressSummary"])


def tag_set(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def tagging(tags: dict[str, str]) -> dict[str, Any]:
    return {"S3PutObjectTagging": {"TagSet": tag_set(tags)}}


def copy_to(bucket: str = "dest", **options: Any) -> dict[str, Any]:
    return {"S3PutObjectCopy": {"TargetResource": f"arn:aws:s3:::{bucket}", **options}}


def whole_seconds(delta: datetime.timedelta) -> datetime.datetime:
    """Now plus ``delta``, without microseconds (timestamps cross the wire in seconds)."""
    return (datetime.datetime.now(UTC) + delta).replace(microsecond=0)


def locked_object(batch: S3Batch, key: str = "a.txt", bucket: str = "locked") -> None:
    batch.objects.create_bucket(bucket, object_lock=True)
    batch.objects.put(bucket, key, b"locked body")


def retention(mode: str, until: datetime.datetime, bypass: bool | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {"Retention": {"Mode": mode, "RetainUntilDate": until}}
    if bypass is not None:
        params["BypassGovernanceRetention"] = bypass
    return {"S3PutObjectRetention": params}


# --------------------------------------------------------------------------- tagging


def test_put_object_tagging_replaces_the_whole_tag_set(s3batch: S3Batch) -> None:
    s3batch.objects.put("src", "a.txt", b"a", tags={"old": "1", "k": "before"})
    s3batch.objects.put("src", "b.txt", b"b")

    job_id = run_job(
        s3batch, tagging({"k": "v", "new": "2"}), [["src", "a.txt"], ["src", "b.txt"]]
    )

    assert_succeeded(s3batch, job_id, total=2)
    assert s3batch.objects.get_tags("src", "a.txt") == {"k": "v", "new": "2"}
    assert s3batch.objects.get_tags("src", "b.txt") == {"k": "v", "new": "2"}


def test_put_object_tagging_changes_only_the_manifest_version(s3batch: S3Batch) -> None:
    s3batch.objects.put("src", "a.txt", b"first", tags={"gen": "1"})
    old = s3batch.objects.head("src", "a.txt").version_id
    s3batch.objects.put("src", "a.txt", b"second", tags={"gen": "2"})
    latest = s3batch.objects.head("src", "a.txt").version_id

    job_id = run_job(
        s3batch,
        tagging({"tagged": "yes"}),
        [["src", "a.txt", old]],
        fields=("Bucket", "Key", "VersionId"),
    )

    assert_succeeded(s3batch, job_id)
    assert dict(s3batch.objects.head("src", "a.txt", old).tags) == {"tagged": "yes"}
    assert dict(s3batch.objects.head("src", "a.txt", latest).tags) == {"gen": "2"}
    assert s3batch.objects.get_tags("src", "a.txt") == {"gen": "2"}


def test_delete_object_tagging_clears_the_tags(s3batch: S3Batch) -> None:
    s3batch.objects.put("src", "a.txt", b"a", tags={"k": "v", "other": "x"})

    job_id = run_job(s3batch, {"S3DeleteObjectTagging": {}}, [["src", "a.txt"]])

    assert_succeeded(s3batch, job_id)
    assert s3batch.objects.get_tags("src", "a.txt") == {}


# --------------------------------------------------------------------------- copy


def test_copy_writes_the_source_body_into_the_target_bucket(s3batch: S3Batch) -> None:
    etag = s3batch.objects.put("src", "dir/a.txt", b"payload")
    s3batch.objects.create_bucket("dest")

    job_id = run_job(s3batch, copy_to(), [["src", "dir/a.txt"]])

    assert_succeeded(s3batch, job_id)
    assert s3batch.objects.keys("dest") == ["dir/a.txt"]
    assert s3batch.objects.get("dest", "dir/a.txt") == b"payload"
    assert s3batch.objects.head("dest", "dir/a.txt").etag == etag
    assert s3batch.objects.get("src", "dir/a.txt") == b"payload"


def test_copy_target_key_prefix_is_prepended(s3batch: S3Batch) -> None:
    s3batch.objects.put("src", "a.txt", b"a")
    s3batch.objects.put("src", "sub/b.txt", b"b")
    s3batch.objects.create_bucket("dest")

    job_id = run_job(
        s3batch, copy_to(TargetKeyPrefix="copies"), [["src", "a.txt"], ["src", "sub/b.txt"]]
    )

    assert_succeeded(s3batch, job_id, total=2)
    assert s3batch.objects.keys("dest") == ["copies/a.txt", "copies/sub/b.txt"]
    assert s3batch.objects.get("dest", "copies/sub/b.txt") == b"b"


def test_copy_metadata_directive_copy_keeps_metadata_and_content_type(s3batch: S3Batch) -> None:
    s3batch.objects.put(
        "src", "a.txt", b"a", metadata={"owner": "alice"}, content_type="text/plain"
    )
    s3batch.objects.create_bucket("dest")

    job_id = run_job(
        s3batch,
        copy_to(
            MetadataDirective="COPY",
            NewObjectMetadata={"UserMetadata": {"ignored": "yes"}, "ContentType": "image/png"},
        ),
        [["src", "a.txt"]],
    )

    assert_succeeded(s3batch, job_id)
    copied = s3batch.objects.head("dest", "a.txt")
    assert dict(copied.metadata) == {"owner": "alice"}
    assert copied.content_type == "text/plain"


def test_copy_redirect_location_is_set_whatever_the_metadata_directive(s3batch: S3Batch) -> None:
    s3batch.objects.put("src", "a.txt", b"a", metadata={"owner": "alice"})
    s3batch.objects.create_bucket("dest")

    job_id = run_job(s3batch, copy_to(RedirectLocation="/elsewhere.html"), [["src", "a.txt"]])

    assert_succeeded(s3batch, job_id)
    copied = s3batch.objects.head("dest", "a.txt")
    assert copied.headers["WebsiteRedirectLocation"] == "/elsewhere.html"
    assert dict(copied.metadata) == {"owner": "alice"}


def test_copy_metadata_directive_replace_uses_new_object_metadata(s3batch: S3Batch) -> None:
    s3batch.objects.put(
        "src", "a.txt", b"a", metadata={"owner": "alice"}, content_type="text/plain"
    )
    s3batch.objects.create_bucket("dest")

    job_id = run_job(
        s3batch,
        copy_to(
            MetadataDirective="REPLACE",
            NewObjectMetadata={
                "UserMetadata": {"team": "data"},
                "ContentType": "application/json",
                "CacheControl": "max-age=60",
                "ContentDisposition": "attachment",
                "ContentLanguage": "en",
            },
        ),
        [["src", "a.txt"]],
    )

    assert_succeeded(s3batch, job_id)
    copied = s3batch.objects.head("dest", "a.txt")
    assert dict(copied.metadata) == {"team": "data"}
    assert copied.content_type == "application/json"
    assert copied.headers["CacheControl"] == "max-age=60"
    assert copied.headers["ContentDisposition"] == "attachment"
    assert copied.headers["ContentLanguage"] == "en"
    # The source is untouched.
    assert dict(s3batch.objects.head("src", "a.txt").metadata) == {"owner": "alice"}


def test_copy_new_object_tagging_replaces_the_source_tags(s3batch: S3Batch) -> None:
    s3batch.objects.put("src", "a.txt", b"a", tags={"from": "source"})
    s3batch.objects.create_bucket("dest")

    job_id = run_job(
        s3batch, copy_to(NewObjectTagging=tag_set({"copied": "yes"})), [["src", "a.txt"]]
    )

    assert_succeeded(s3batch, job_id)
    assert s3batch.objects.get_tags("dest", "a.txt") == {"copied": "yes"}
    assert s3batch.objects.get_tags("src", "a.txt") == {"from": "source"}


def test_copy_without_new_object_tagging_keeps_the_source_tags(s3batch: S3Batch) -> None:
    s3batch.objects.put("src", "a.txt", b"a", tags={"from": "source", "n": "1"})
    s3batch.objects.create_bucket("dest")

    job_id = run_job(s3batch, copy_to(), [["src", "a.txt"]])

    assert_succeeded(s3batch, job_id)
    assert s3batch.objects.get_tags("dest", "a.txt") == {"from": "source", "n": "1"}


def test_copy_storage_class(s3batch: S3Batch) -> None:
    s3batch.objects.put("src", "a.txt", b"a")
    s3batch.objects.create_bucket("dest")

    job_id = run_job(s3batch, copy_to(StorageClass="STANDARD_IA"), [["src", "a.txt"]])

    assert_succeeded(s3batch, job_id)
    assert s3batch.objects.head("dest", "a.txt").storage_class == "STANDARD_IA"
    assert s3batch.objects.head("src", "a.txt").storage_class == "STANDARD"


def test_copy_canned_acl_is_recorded(s3batch: S3Batch) -> None:
    s3batch.objects.put("src", "a.txt", b"a")
    s3batch.objects.create_bucket("dest")

    job_id = run_job(
        s3batch, copy_to(CannedAccessControlList="bucket-owner-full-control"), [["src", "a.txt"]]
    )

    assert_succeeded(s3batch, job_id)
    assert s3batch.objects.head("dest", "a.txt").acl == {"Canned": "bucket-owner-full-control"}


def test_copy_sse_kms_key(s3batch: S3Batch) -> None:
    s3batch.objects.put("src", "a.txt", b"a")
    s3batch.objects.create_bucket("dest")

    job_id = run_job(
        s3batch, copy_to(SSEAwsKmsKeyId=KMS_KEY, BucketKeyEnabled=True), [["src", "a.txt"]]
    )

    assert_succeeded(s3batch, job_id)
    copied = s3batch.objects.head("dest", "a.txt")
    assert copied.encryption == "aws:kms"
    assert copied.kms_key_id == KMS_KEY
    assert copied.bucket_key_enabled is True
    assert s3batch.objects.head("src", "a.txt").encryption == "AES256"


def test_copy_object_lock_settings_into_an_object_lock_bucket(s3batch: S3Batch) -> None:
    s3batch.objects.put("src", "a.txt", b"a")
    s3batch.objects.create_bucket("vault", object_lock=True)
    until = whole_seconds(datetime.timedelta(days=30))

    job_id = run_job(
        s3batch,
        copy_to(
            "vault",
            ObjectLockLegalHoldStatus="ON",
            ObjectLockMode="GOVERNANCE",
            ObjectLockRetainUntilDate=until,
        ),
        [["src", "a.txt"]],
    )

    assert_succeeded(s3batch, job_id)
    copied = s3batch.objects.head("vault", "a.txt")
    assert copied.legal_hold == "ON"
    assert copied.retention_mode == "GOVERNANCE"
    assert copied.retain_until == until


@pytest.mark.parametrize(
    "lock",
    [
        {"ObjectLockLegalHoldStatus": "ON"},
        {"ObjectLockMode": "COMPLIANCE", "ObjectLockRetainUntilDate": "in-30-days"},
    ],
    ids=["legal-hold", "retention"],
)
def test_copy_object_lock_settings_need_an_object_lock_bucket(
    s3batch: S3Batch, lock: dict[str, Any]
) -> None:
    s3batch.objects.put("src", "a.txt", b"a")
    s3batch.objects.create_bucket("dest")
    if "ObjectLockRetainUntilDate" in lock:
        lock = {**lock, "ObjectLockRetainUntilDate": whole_seconds(datetime.timedelta(days=30))}

    job_id = run_job(s3batch, copy_to(**lock), [["src", "a.txt"]])

    status, code, _ = only_failure(s3batch, job_id)
    assert (status, code) == ("400", "InvalidRequest")
    assert s3batch.objects.keys("dest") == []


@pytest.mark.parametrize(
    ("constraint", "days", "holds"),
    [
        ("ModifiedSinceConstraint", -1, True),
        ("ModifiedSinceConstraint", 1, False),
        ("UnModifiedSinceConstraint", 1, True),
        ("UnModifiedSinceConstraint", -1, False),
    ],
    ids=["modified-since-past", "modified-since-future", "unmodified-future", "unmodified-past"],
)
def test_copy_time_constraints(s3batch: S3Batch, constraint: str, days: int, holds: bool) -> None:
    s3batch.objects.put("src", "a.txt", b"a")
    s3batch.objects.create_bucket("dest")
    moment = whole_seconds(datetime.timedelta(days=days))

    options: dict[str, Any] = {constraint: moment}
    job_id = run_job(s3batch, copy_to(**options), [["src", "a.txt"]])

    if holds:
        assert_succeeded(s3batch, job_id)
        assert s3batch.objects.keys("dest") == ["a.txt"]
    else:
        status, code, _ = only_failure(s3batch, job_id)
        assert (status, code) == ("412", "PreconditionFailed")
        assert s3batch.objects.keys("dest") == []


def test_copy_into_a_missing_bucket_fails_the_task(s3batch: S3Batch) -> None:
    s3batch.objects.put("src", "a.txt", b"a")

    job_id = run_job(s3batch, copy_to("no-such-bucket"), [["src", "a.txt"]])

    status, code, _ = only_failure(s3batch, job_id)
    assert (status, code) == ("404", "NoSuchBucket")


def test_copy_of_an_unrestored_glacier_object_fails(s3batch: S3Batch) -> None:
    s3batch.objects.put("src", "cold.txt", b"cold", storage_class="GLACIER")
    s3batch.objects.create_bucket("dest")

    job_id = run_job(s3batch, copy_to(), [["src", "cold.txt"]])

    status, code, _ = only_failure(s3batch, job_id)
    assert (status, code) == ("403", "InvalidObjectState")
    assert s3batch.objects.keys("dest") == []


def test_copy_of_a_restored_glacier_object_succeeds(s3batch: S3Batch) -> None:
    s3batch.objects.put("src", "cold.txt", b"cold", storage_class="GLACIER")
    s3batch.objects.create_bucket("dest")
    restore = run_job(
        s3batch, {"S3InitiateRestoreObject": {"ExpirationInDays": 1}}, [["src", "cold.txt"]]
    )
    assert_succeeded(s3batch, restore)

    job_id = run_job(s3batch, copy_to(), [["src", "cold.txt"]])

    assert_succeeded(s3batch, job_id)
    assert s3batch.objects.get("dest", "cold.txt") == b"cold"


# --------------------------------------------------------------------------- ACL


def test_put_object_acl_canned(s3batch: S3Batch) -> None:
    s3batch.objects.put("src", "a.txt", b"a")

    job_id = run_job(
        s3batch,
        {"S3PutObjectAcl": {"AccessControlPolicy": {"CannedAccessControlList": "public-read"}}},
        [["src", "a.txt"]],
    )

    assert_succeeded(s3batch, job_id)
    assert s3batch.objects.head("src", "a.txt").acl == {"Canned": "public-read"}


def test_put_object_acl_grant_list(s3batch: S3Batch) -> None:
    s3batch.objects.put("src", "a.txt", b"a")
    owner = {"ID": "owner-canonical-id", "DisplayName": "owner"}
    grants = [
        {
            "Grantee": {"TypeIdentifier": "id", "Identifier": "reader-id", "DisplayName": "r"},
            "Permission": "READ",
        },
        {
            "Grantee": {"TypeIdentifier": "emailAddress", "Identifier": "w@example.com"},
            "Permission": "WRITE_ACP",
        },
    ]

    job_id = run_job(
        s3batch,
        {
            "S3PutObjectAcl": {
                "AccessControlPolicy": {"AccessControlList": {"Owner": owner, "Grants": grants}}
            }
        },
        [["src", "a.txt"]],
    )

    assert_succeeded(s3batch, job_id)
    acl = s3batch.objects.head("src", "a.txt").acl
    assert acl is not None
    assert acl["Owner"] == owner
    assert acl["Grants"] == grants
    assert "Canned" not in acl


# --------------------------------------------------------------------------- restore


def test_restore_glacier_object_sets_expiry_days_ahead(s3batch: S3Batch) -> None:
    s3batch.objects.put("src", "cold.txt", b"cold", storage_class="GLACIER")
    before = datetime.datetime.now(UTC)

    job_id = run_job(
        s3batch, {"S3InitiateRestoreObject": {"ExpirationInDays": 3}}, [["src", "cold.txt"]]
    )

    after = datetime.datetime.now(UTC)
    assert_succeeded(s3batch, job_id)
    expiry = s3batch.objects.head("src", "cold.txt").restore_expiry
    assert expiry is not None
    three_days = datetime.timedelta(days=3)
    assert before + three_days <= expiry <= after + three_days


def test_restore_of_a_standard_object_fails(s3batch: S3Batch) -> None:
    s3batch.objects.put("src", "hot.txt", b"hot")

    job_id = run_job(
        s3batch, {"S3InitiateRestoreObject": {"ExpirationInDays": 3}}, [["src", "hot.txt"]]
    )

    status, code, _ = only_failure(s3batch, job_id)
    assert (status, code) == ("403", "InvalidObjectState")
    assert s3batch.objects.head("src", "hot.txt").restore_expiry is None


def test_restore_of_glacier_with_zero_days_fails(s3batch: S3Batch) -> None:
    s3batch.objects.put("src", "cold.txt", b"cold", storage_class="GLACIER")

    job_id = run_job(
        s3batch, {"S3InitiateRestoreObject": {"ExpirationInDays": 0}}, [["src", "cold.txt"]]
    )

    status, _, _ = only_failure(s3batch, job_id)
    assert status == "400"
    assert s3batch.objects.head("src", "cold.txt").restore_expiry is None


# --------------------------------------------------------------------------- object lock


def test_legal_hold_on_an_object_lock_bucket(s3batch: S3Batch) -> None:
    locked_object(s3batch)

    job_id = run_job(
        s3batch, {"S3PutObjectLegalHold": {"LegalHold": {"Status": "ON"}}}, [["locked", "a.txt"]]
    )

    assert_succeeded(s3batch, job_id)
    assert s3batch.objects.head("locked", "a.txt").legal_hold == "ON"

    release = run_job(
        s3batch, {"S3PutObjectLegalHold": {"LegalHold": {"Status": "OFF"}}}, [["locked", "a.txt"]]
    )

    assert_succeeded(s3batch, release)
    assert s3batch.objects.head("locked", "a.txt").legal_hold == "OFF"


def test_legal_hold_on_a_normal_bucket_fails(s3batch: S3Batch) -> None:
    s3batch.objects.put("src", "a.txt", b"a")

    job_id = run_job(
        s3batch, {"S3PutObjectLegalHold": {"LegalHold": {"Status": "ON"}}}, [["src", "a.txt"]]
    )

    status, code, _ = only_failure(s3batch, job_id)
    assert (status, code) == ("400", "InvalidRequest")
    assert s3batch.objects.head("src", "a.txt").legal_hold is None


@pytest.mark.parametrize("mode", ["GOVERNANCE", "COMPLIANCE"])
def test_retention_is_set(s3batch: S3Batch, mode: str) -> None:
    locked_object(s3batch)
    until = whole_seconds(datetime.timedelta(days=10))

    job_id = run_job(s3batch, retention(mode, until), [["locked", "a.txt"]])

    assert_succeeded(s3batch, job_id)
    info = s3batch.objects.head("locked", "a.txt")
    assert (info.retention_mode, info.retain_until) == (mode, until)


def test_retention_on_a_normal_bucket_fails(s3batch: S3Batch) -> None:
    s3batch.objects.put("src", "a.txt", b"a")
    until = whole_seconds(datetime.timedelta(days=10))

    job_id = run_job(s3batch, retention("GOVERNANCE", until), [["src", "a.txt"]])

    status, code, _ = only_failure(s3batch, job_id)
    assert (status, code) == ("400", "InvalidRequest")


def test_shortening_governance_retention_needs_bypass(s3batch: S3Batch) -> None:
    locked_object(s3batch)
    longer = whole_seconds(datetime.timedelta(days=10))
    shorter = whole_seconds(datetime.timedelta(days=5))
    assert_succeeded(
        s3batch, run_job(s3batch, retention("GOVERNANCE", longer), [["locked", "a.txt"]])
    )

    denied = run_job(s3batch, retention("GOVERNANCE", shorter), [["locked", "a.txt"]])

    status, code, _ = only_failure(s3batch, denied)
    assert (status, code) == ("403", "AccessDenied")
    assert s3batch.objects.head("locked", "a.txt").retain_until == longer

    bypassed = run_job(
        s3batch, retention("GOVERNANCE", shorter, bypass=True), [["locked", "a.txt"]]
    )

    assert_succeeded(s3batch, bypassed)
    assert s3batch.objects.head("locked", "a.txt").retain_until == shorter


def test_compliance_retention_cannot_be_shortened_even_with_bypass(s3batch: S3Batch) -> None:
    locked_object(s3batch)
    longer = whole_seconds(datetime.timedelta(days=10))
    shorter = whole_seconds(datetime.timedelta(days=5))
    assert_succeeded(
        s3batch, run_job(s3batch, retention("COMPLIANCE", longer), [["locked", "a.txt"]])
    )

    job_id = run_job(s3batch, retention("COMPLIANCE", shorter, bypass=True), [["locked", "a.txt"]])

    status, code, _ = only_failure(s3batch, job_id)
    assert (status, code) == ("403", "AccessDenied")
    info = s3batch.objects.head("locked", "a.txt")
    assert (info.retention_mode, info.retain_until) == ("COMPLIANCE", longer)


def test_compliance_retention_can_be_extended(s3batch: S3Batch) -> None:
    locked_object(s3batch)
    shorter = whole_seconds(datetime.timedelta(days=5))
    longer = whole_seconds(datetime.timedelta(days=10))
    assert_succeeded(
        s3batch, run_job(s3batch, retention("COMPLIANCE", shorter), [["locked", "a.txt"]])
    )

    job_id = run_job(s3batch, retention("COMPLIANCE", longer), [["locked", "a.txt"]])

    assert_succeeded(s3batch, job_id)
    assert s3batch.objects.head("locked", "a.txt").retain_until == longer


def test_retention_in_the_past_fails(s3batch: S3Batch) -> None:
    locked_object(s3batch)
    past = whole_seconds(-datetime.timedelta(days=1))

    job_id = run_job(s3batch, retention("GOVERNANCE", past), [["locked", "a.txt"]])

    status, _, _ = only_failure(s3batch, job_id)
    assert status == "400"
    assert s3batch.objects.head("locked", "a.txt").retain_until is None


# --------------------------------------------------------------------------- replicate, encrypt


def test_replicate_object_marks_it_completed(s3batch: S3Batch) -> None:
    s3batch.objects.put("src", "a.txt", b"a")
    assert s3batch.objects.head("src", "a.txt").replication_status is None

    job_id = run_job(s3batch, {"S3ReplicateObject": {}}, [["src", "a.txt"]])

    assert_succeeded(s3batch, job_id)
    assert s3batch.objects.head("src", "a.txt").replication_status == "COMPLETED"


@pytest.mark.parametrize("bucket_key", [True, False])
def test_update_object_encryption_to_sse_kms(s3batch: S3Batch, bucket_key: bool) -> None:
    s3batch.objects.put("src", "a.txt", b"a")

    job_id = run_job(
        s3batch,
        {
            "S3UpdateObjectEncryption": {
                "ObjectEncryption": {
                    "SSEKMS": {"KMSKeyArn": KMS_KEY, "BucketKeyEnabled": bucket_key}
                }
            }
        },
        [["src", "a.txt"]],
    )

    assert_succeeded(s3batch, job_id)
    info = s3batch.objects.head("src", "a.txt")
    assert (info.encryption, info.kms_key_id, info.bucket_key_enabled) == (
        "aws:kms",
        KMS_KEY,
        bucket_key,
    )
    assert s3batch.objects.get("src", "a.txt") == b"a"


# --------------------------------------------------------------------------- checksums

CHECK_DATA = b"123456789"


def _b64(value: int, width: int) -> str:
    return base64.b64encode(value.to_bytes(width, "big")).decode("ascii")


def _checksum_result(batch: S3Batch, algorithm: str, kind: str) -> dict[str, str]:
    batch.objects.put("src", "check.txt", CHECK_DATA)
    job_id = run_job(
        batch,
        {"S3ComputeObjectChecksum": {"ChecksumAlgorithm": algorithm, "ChecksumType": kind}},
        [["src", "check.txt"]],
    )
    assert_succeeded(batch, job_id)
    [row] = report_rows(batch, job_id)["succeeded"]
    assert row[:6] == ["src", "check.txt", "", "succeeded", "200", ""]
    result: dict[str, str] = json.loads(row[6])
    return result


@pytest.mark.parametrize(
    ("algorithm", "expected"),
    [
        ("CRC32", _b64(0xCBF43926, 4)),
        ("CRC32C", _b64(0xE3069283, 4)),
        ("CRC64NVME", _b64(0xAE8B14860A799888, 8)),
        ("SHA256", base64.b64encode(hashlib.sha256(CHECK_DATA).digest()).decode()),
        ("SHA1", base64.b64encode(hashlib.sha1(CHECK_DATA).digest()).decode()),
        ("MD5", base64.b64encode(hashlib.md5(CHECK_DATA).digest()).decode()),
    ],
    ids=["CRC32", "CRC32C", "CRC64NVME", "SHA256", "SHA1", "MD5"],
)
def test_compute_checksum_full_object(s3batch: S3Batch, algorithm: str, expected: str) -> None:
    result = _checksum_result(s3batch, algorithm, "FULL_OBJECT")

    assert result == {
        "checksum_base64": expected,
        "checksum_hex": base64.b64decode(expected).hex(),
        "checksumAlgorithm": algorithm,
        "checksumType": "FULL_OBJECT",
        "ETag": hashlib.md5(CHECK_DATA).hexdigest(),
    }


def test_compute_checksum_composite_is_the_checksum_of_the_one_part(s3batch: S3Batch) -> None:
    result = _checksum_result(s3batch, "SHA256", "COMPOSITE")

    part = hashlib.sha256(CHECK_DATA).digest()
    expected = base64.b64encode(hashlib.sha256(part).digest()).decode() + "-1"
    assert result == {
        "checksum_base64": expected,
        "checksum_hex": hashlib.sha256(part).hexdigest() + "-1",
        "checksumAlgorithm": "SHA256",
        "checksumType": "COMPOSITE",
        "ETag": hashlib.md5(CHECK_DATA).hexdigest(),
    }
    assert result["checksum_base64"].endswith("-1")


def test_compute_checksum_of_a_missing_object_fails(s3batch: S3Batch) -> None:
    s3batch.objects.create_bucket("src")

    job_id = run_job(
        s3batch,
        {"S3ComputeObjectChecksum": {"ChecksumAlgorithm": "CRC32", "ChecksumType": "FULL_OBJECT"}},
        [["src", "missing.txt"]],
    )

    status, code, _ = only_failure(s3batch, job_id)
    assert (status, code) == ("404", "NoSuchKey")


# --------------------------------------------------------------------------- Lambda


def test_lambda_invoke_smoke(s3batch: S3Batch) -> None:
    s3batch.objects.put("src", "a.txt", b"a")
    seen: list[str] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        task = event["tasks"][0]
        seen.append(task["s3Key"])
        return {
            "invocationSchemaVersion": event["invocationSchemaVersion"],
            "treatMissingKeysAs": "PermanentFailure",
            "invocationId": event["invocationId"],
            "results": [
                {
                    "taskId": task["taskId"],
                    "resultCode": "Succeeded",
                    "resultString": f"handled {task['s3Key']}",
                }
            ],
        }

    s3batch.register_lambda(FUNCTION, handler)

    job_id = run_job(s3batch, {"LambdaInvoke": {"FunctionArn": FUNCTION}}, [["src", "a.txt"]])

    assert_succeeded(s3batch, job_id)
    assert seen == ["a.txt"]
    [row] = report_rows(s3batch, job_id)["succeeded"]
    assert row[3:] == ["succeeded", "200", "", "handled a.txt"]


# --------------------------------------------------------------------------- missing targets


def test_missing_key_version_and_bucket_fail_their_tasks(s3batch: S3Batch) -> None:
    s3batch.objects.put("src", "a.txt", b"a")
    version = s3batch.objects.head("src", "a.txt").version_id
    s3batch.objects.put("src", "b.txt", b"b")

    job_id = run_job(
        s3batch,
        tagging({"k": "v"}),
        [
            ["src", "a.txt", version],
            ["src", "missing.txt", "0" * 32],
            ["src", "b.txt", "no-such-version"],
            ["no-such-bucket", "a.txt", version],
        ],
        fields=("Bucket", "Key", "VersionId"),
    )

    job = s3batch.job(job_id)
    assert job.status == "Complete"
    assert job.failure_reasons == []
    assert (job.total_tasks, job.succeeded_tasks, job.failed_tasks) == (4, 1, 3)
    summary = progress(job_id)
    assert (
        summary["TotalNumberOfTasks"],
        summary["NumberOfTasksSucceeded"],
        summary["NumberOfTasksFailed"],
    ) == (4, 1, 3)
    failed = {
        (row[0], row[1]): (row[3], row[4], row[5])
        for row in report_rows(s3batch, job_id)["failed"]
    }
    assert failed == {
        ("src", "missing.txt"): ("failed", "404", "NoSuchKey"),
        ("src", "b.txt"): ("failed", "404", "NoSuchVersion"),
        ("no-such-bucket", "a.txt"): ("failed", "404", "NoSuchBucket"),
    }
    assert s3batch.objects.get_tags("src", "a.txt") == {"k": "v"}
    assert s3batch.objects.get_tags("src", "b.txt") == {}


@pytest.mark.parametrize(
    "operation",
    [
        {"S3DeleteObjectTagging": {}},
        {"S3ReplicateObject": {}},
        {"S3PutObjectAcl": {"AccessControlPolicy": {"CannedAccessControlList": "private"}}},
        {"S3PutObjectCopy": {"TargetResource": "arn:aws:s3:::src"}},
    ],
    ids=lambda op: next(iter(op)),
)
def test_missing_object_fails_with_no_such_key_for_every_operation(
    s3batch: S3Batch, operation: dict[str, Any]
) -> None:
    s3batch.objects.create_bucket("src")

    job_id = run_job(s3batch, operation, [["src", "missing.txt"]])

    status, code, _ = only_failure(s3batch, job_id)
    assert (status, code) == ("404", "NoSuchKey")
    assert progress(job_id)["NumberOfTasksFailed"] == 1


# --------------------------------------------------------------------------- progress


@pytest.mark.s3batch(progression="manual", tasks_per_step=2)
def test_progress_grows_by_tasks_per_step(s3batch: S3Batch) -> None:
    for n in range(5):
        s3batch.objects.put("src", f"{n}.txt", b"x")
    job_id = start_job(s3batch, tagging({"k": "v"}), [["src", f"{n}.txt"] for n in range(5)])
    for _ in range(10):
        if s3batch.step(job_id) == "Active":
            break
    assert s3batch.job(job_id).succeeded_tasks == 0

    seen = []
    for _ in range(3):
        status = s3batch.step(job_id)
        seen.append((status, s3batch.job(job_id).succeeded_tasks, progress(job_id)))

    assert [(status, done) for status, done, _ in seen[:2]] == [("Active", 2), ("Active", 4)]
    assert [summary["NumberOfTasksSucceeded"] for _, _, summary in seen] == [2, 4, 5]
    assert seen[2][1] == 5
    # The step that ran the last task may already leave Active; no step runs more.
    status = seen[2][0]
    if status == "Active":
        status = s3batch.step(job_id)
    assert status == "Completing"
    assert s3batch.job(job_id).succeeded_tasks == 5
    assert s3batch.step(job_id) == "Complete"
    assert s3batch.job(job_id).status_history[-3:] == ["Active", "Completing", "Complete"]
    assert progress(job_id)["TotalNumberOfTasks"] == 5


# --------------------------------------------------------------------------- threshold


def threshold_job(batch: S3Batch, succeed: int, fail: int, *, failures_first: bool = True) -> str:
    """A tagging job over ``succeed`` existing and ``fail`` missing objects, run to rest."""
    batch.objects.create_bucket("src")
    good = []
    for n in range(succeed):
        batch.objects.put("src", f"ok-{n}", b"")
        good.append(["src", f"ok-{n}"])
    bad = [["src", f"missing-{n}"] for n in range(fail)]
    rows = bad + good if failures_first else good + bad
    return run_job(batch, tagging({"k": "v"}), rows, report=False)


def test_exactly_half_failed_after_1000_tasks_completes(s3batch: S3Batch) -> None:
    job_id = threshold_job(s3batch, succeed=500, fail=500)

    job = s3batch.job(job_id)
    assert job.status == "Complete"
    assert (job.total_tasks, job.succeeded_tasks, job.failed_tasks) == (1000, 500, 500)
    assert job.failure_reasons == []


def test_more_than_half_failed_after_1000_tasks_fails_the_job(s3batch: S3Batch) -> None:
    job_id = threshold_job(s3batch, succeed=499, fail=501)

    job = s3batch.job(job_id)
    assert job.status == "Failed"
    assert job.status_history[-2:] == ["Failing", "Failed"]
    assert (job.succeeded_tasks, job.failed_tasks) == (499, 501)
    assert len(job.failure_reasons) == 1
    assert "50%" in job.failure_reasons[0][1]
    described = s3control().describe_job(AccountId=ACCOUNT, JobId=job_id)["Job"]
    assert described["Status"] == "Failed"
    assert len(described["FailureReasons"]) == 1
    assert "50%" in described["FailureReasons"][0]["FailureReason"]


def test_threshold_is_checked_as_soon_as_1000_tasks_have_run(s3batch: S3Batch) -> None:
    # 501 of the first 1000 fail; the 300 successes after them would bring the
    # overall rate under 50 %, but the job fails at task 1000 and never runs them.
    job_id = threshold_job(s3batch, succeed=799, fail=501)

    job = s3batch.job(job_id)
    assert job.status == "Failed"
    assert job.total_tasks == 1300
    assert (job.succeeded_tasks, job.failed_tasks) == (499, 501)


def test_all_of_999_tasks_failing_still_completes(s3batch: S3Batch) -> None:
    job_id = threshold_job(s3batch, succeed=0, fail=999)

    job = s3batch.job(job_id)
    assert job.status == "Complete"
    assert (job.total_tasks, job.succeeded_tasks, job.failed_tasks) == (999, 0, 999)
    assert job.failure_reasons == []
