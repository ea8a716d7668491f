"""Completion reports (aws-semantics.md section 5.4, design section 5), read back
through ``batch.objects`` after jobs driven through boto3.

Layout: ``<Prefix>/job-<id>/manifest.json`` listing ``<Prefix>/job-<id>/results/<40
hex>.csv`` files, succeeded and failed tasks in separate files. Rows carry Bucket,
Key, VersionId, TaskStatus, HTTPStatusCode, ErrorCode, ResultMessage, no header.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import json
import re
from collections.abc import Sequence
from typing import Any

import pytest

from s3batch_mock import S3Batch
from tests.conftest import ACCOUNT, csv_manifest_job, s3control

UTC = datetime.UTC
REPORTS = "reports"
SCHEMA = "Bucket, Key, VersionId, TaskStatus, ErrorCode, HTTPStatusCode, ResultMessage"
ISO_MS_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
TAGGING = {"S3PutObjectTagging": {"TagSet": [{"Key": "k", "Value": "v"}]}}

manual_one_task_per_step = pytest.mark.s3batch(progression="manual", tasks_per_step=1)


# --------------------------------------------------------------------------- helpers


def report_config(
    *, scope: str = "AllTasks", prefix: str | None = None, bucket: str = REPORTS
) -> dict[str, Any]:
    report: dict[str, Any] = {
        "Enabled": True,
        "Bucket": f"arn:aws:s3:::{bucket}",
        "Format": "Report_CSV_20180820",
        "ReportScope": scope,
    }
    if prefix is not None:
        report["Prefix"] = prefix
    return report


def create_job(
    batch: S3Batch,
    rows: Sequence[Sequence[str]],
    report: dict[str, Any],
    *,
    fields: Sequence[str] = ("Bucket", "Key"),
    operation: dict[str, Any] | None = None,
    confirm: bool = False,
) -> str:
    """Store a CSV manifest of ``rows`` (in its own bucket) and create a job for it."""
    body = "".join(",".join(row) + "\n" for row in rows)
    etag = batch.objects.put("manifests", "manifest.csv", body)
    manifest = {
        "Spec": {"Format": "S3BatchOperations_CSV_20180820", "Fields": list(fields)},
        "Location": {"ObjectArn": "arn:aws:s3:::manifests/manifest.csv", "ETag": etag},
    }
    return csv_manifest_job(
        s3control(),
        etag,
        ConfirmationRequired=confirm,
        Operation=operation or TAGGING,
        Manifest=manifest,
        Report=report,
    )


def mixed_job(batch: S3Batch, report: dict[str, Any] | None = None) -> str:
    """A finished job with two succeeded tasks and one failed (missing key)."""
    batch.objects.create_bucket(REPORTS)
    batch.objects.put("src", "a.txt", b"a")
    batch.objects.put("src", "b.txt", b"b")
    job_id = create_job(
        batch,
        [["src", "a.txt"], ["src", "missing.txt"], ["src", "b.txt"]],
        report or report_config(),
    )
    batch.run(job_id)
    return job_id


def load_manifest(batch: S3Batch, job_id: str, prefix: str = "") -> dict[str, Any]:
    base = f"{prefix}/job-{job_id}" if prefix else f"job-{job_id}"
    manifest: dict[str, Any] = json.loads(batch.objects.get(REPORTS, f"{base}/manifest.json"))
    return manifest


def results(batch: S3Batch, job_id: str, prefix: str = "") -> dict[str, list[list[str]]]:
    """Rows of each result file, by TaskExecutionStatus; each status at most once."""
    found: dict[str, list[list[str]]] = {}
    for entry in load_manifest(batch, job_id, prefix)["Results"]:
        status = entry["TaskExecutionStatus"]
        assert status not in found, "one file per status"
        text = batch.objects.get(entry["Bucket"], entry["Key"]).decode("utf-8")
        found[status] = list(csv.reader(io.StringIO(text)))
    return found


def advance_to(batch: S3Batch, job_id: str, status: str) -> None:
    for _ in range(20):
        if batch.job(job_id).status == status:
            return
        batch.step(job_id)
    raise AssertionError(f"never reached {status}: {batch.job(job_id).status_history}")


def cancel(job_id: str) -> str:
    response = s3control().update_job_status(
        AccountId=ACCOUNT, JobId=job_id, RequestedJobStatus="Cancelled"
    )
    return str(response["Status"])


# --------------------------------------------------------------------------- layout


def test_report_keys_without_prefix(s3batch: S3Batch) -> None:
    job_id = mixed_job(s3batch)

    keys = s3batch.objects.keys(REPORTS)

    assert f"job-{job_id}/manifest.json" in keys
    result_key = re.compile(rf"^job-{re.escape(job_id)}/results/[0-9a-f]{{40}}\.csv$")
    others = [k for k in keys if k != f"job-{job_id}/manifest.json"]
    assert len(others) == 2
    assert all(result_key.match(k) for k in others), others
    assert sorted(e["Key"] for e in load_manifest(s3batch, job_id)["Results"]) == sorted(others)


@pytest.mark.parametrize("prefix", ["reports/batch", "single"])
def test_report_keys_under_prefix(s3batch: S3Batch, prefix: str) -> None:
    job_id = mixed_job(s3batch, report_config(prefix=prefix))

    keys = s3batch.objects.keys(REPORTS)

    assert f"{prefix}/job-{job_id}/manifest.json" in keys
    result_key = re.compile(
        rf"^{re.escape(prefix)}/job-{re.escape(job_id)}/results/[0-9a-f]{{40}}\.csv$"
    )
    others = [k for k in keys if k != f"{prefix}/job-{job_id}/manifest.json"]
    assert len(others) == 2
    assert all(result_key.match(k) for k in others), others
    assert not [k for k in keys if k.startswith("job-")]
    entries = load_manifest(s3batch, job_id, prefix)["Results"]
    assert sorted(e["Key"] for e in entries) == sorted(others)


def test_report_objects_are_readable_through_the_store(s3batch: S3Batch) -> None:
    job_id = mixed_job(s3batch)

    for key in s3batch.objects.keys(REPORTS, f"job-{job_id}/"):
        assert s3batch.objects.get(REPORTS, key)
        assert s3batch.objects.head(REPORTS, key).size > 0


# --------------------------------------------------------------------------- manifest.json


def test_manifest_json_shape(s3batch: S3Batch) -> None:
    before = datetime.datetime.now(UTC).replace(microsecond=0)
    job_id = mixed_job(s3batch)
    after = datetime.datetime.now(UTC)

    manifest = load_manifest(s3batch, job_id)

    assert set(manifest) == {"Format", "ReportCreationDate", "Results", "ReportSchema"}
    assert manifest["Format"] == "Report_CSV_20180820"
    assert manifest["ReportSchema"] == SCHEMA
    created = manifest["ReportCreationDate"]
    assert ISO_MS_Z.match(created), created
    moment = datetime.datetime.strptime(created, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    assert before <= moment <= after
    assert len(manifest["Results"]) == 2
    for entry in manifest["Results"]:
        assert set(entry) == {"TaskExecutionStatus", "Bucket", "MD5Checksum", "Key"}
        assert entry["Bucket"] == REPORTS
        assert re.fullmatch(r"[0-9a-f]{32}", entry["MD5Checksum"])
    assert sorted(e["TaskExecutionStatus"] for e in manifest["Results"]) == [
        "failed",
        "succeeded",
    ]


def test_manifest_json_md5_is_the_md5_of_each_csv(s3batch: S3Batch) -> None:
    job_id = mixed_job(s3batch)

    for entry in load_manifest(s3batch, job_id)["Results"]:
        body = s3batch.objects.get(REPORTS, entry["Key"])
        assert entry["MD5Checksum"] == hashlib.md5(body).hexdigest()


# --------------------------------------------------------------------------- CSV rows


def test_rows_have_the_report_columns_and_no_header(s3batch: S3Batch) -> None:
    job_id = mixed_job(s3batch)

    rows = results(s3batch, job_id)

    assert sorted(rows["succeeded"]) == [
        ["src", "a.txt", "", "succeeded", "200", "", ""],
        ["src", "b.txt", "", "succeeded", "200", "", ""],
    ]
    [failed] = rows["failed"]
    assert failed[:6] == ["src", "missing.txt", "", "failed", "404", "NoSuchKey"]
    assert "missing.txt" in failed[6]
    assert all(len(row) == 7 for file_rows in rows.values() for row in file_rows)


def test_rows_carry_the_manifest_version_id(s3batch: S3Batch) -> None:
    s3batch.objects.create_bucket(REPORTS)
    s3batch.objects.put("src", "a.txt", b"a")
    version = s3batch.objects.head("src", "a.txt").version_id
    job_id = create_job(
        s3batch,
        [["src", "a.txt", version], ["src", "a.txt", "gone"]],
        report_config(),
        fields=("Bucket", "Key", "VersionId"),
    )
    s3batch.run(job_id)

    rows = results(s3batch, job_id)

    assert rows["succeeded"] == [["src", "a.txt", version, "succeeded", "200", "", ""]]
    assert rows["failed"][0][:6] == ["src", "a.txt", "gone", "failed", "404", "NoSuchVersion"]


def test_result_message_with_commas_and_quotes_round_trips(s3batch: S3Batch) -> None:
    s3batch.objects.create_bucket(REPORTS)
    s3batch.objects.put("src", "a.txt", b"123456789")
    job_id = create_job(
        s3batch,
        [["src", "a.txt"]],
        report_config(),
        operation={
            "S3ComputeObjectChecksum": {
                "ChecksumAlgorithm": "CRC32",
                "ChecksumType": "FULL_OBJECT",
            }
        },
    )
    s3batch.run(job_id)

    [row] = results(s3batch, job_id)["succeeded"]

    assert row[:6] == ["src", "a.txt", "", "succeeded", "200", ""]
    assert json.loads(row[6]) == {
        "checksum_base64": "y/Q5Jg==",
        "checksum_hex": "cbf43926",
        "checksumAlgorithm": "CRC32",
        "checksumType": "FULL_OBJECT",
        "ETag": "25f9e794323b453885f5181f1b624d0b",
    }


# --------------------------------------------------------------------------- scope


def test_all_tasks_scope_writes_both_files(s3batch: S3Batch) -> None:
    job_id = mixed_job(s3batch, report_config(scope="AllTasks"))

    rows = results(s3batch, job_id)

    assert set(rows) == {"succeeded", "failed"}
    assert (len(rows["succeeded"]), len(rows["failed"])) == (2, 1)


def test_failed_tasks_only_scope_writes_only_the_failed_file(s3batch: S3Batch) -> None:
    job_id = mixed_job(s3batch, report_config(scope="FailedTasksOnly"))

    rows = results(s3batch, job_id)

    assert set(rows) == {"failed"}
    assert [row[1] for row in rows["failed"]] == ["missing.txt"]
    assert len(s3batch.objects.keys(REPORTS, f"job-{job_id}/results/")) == 1


def test_job_without_failures_has_no_failed_file(s3batch: S3Batch) -> None:
    s3batch.objects.create_bucket(REPORTS)
    s3batch.objects.put("src", "a.txt", b"a")
    job_id = create_job(s3batch, [["src", "a.txt"]], report_config())
    s3batch.run(job_id)

    manifest = load_manifest(s3batch, job_id)

    assert [e["TaskExecutionStatus"] for e in manifest["Results"]] == ["succeeded"]
    assert len(s3batch.objects.keys(REPORTS, f"job-{job_id}/results/")) == 1


def test_disabled_report_writes_nothing(s3batch: S3Batch) -> None:
    s3batch.objects.create_bucket(REPORTS)
    s3batch.objects.put("src", "a.txt", b"a")
    job_id = create_job(s3batch, [["src", "a.txt"], ["src", "missing.txt"]], {"Enabled": False})
    s3batch.run(job_id)

    assert s3batch.job(job_id).status == "Complete"
    assert s3batch.objects.keys(REPORTS) == []
    assert s3batch.objects.keys("manifests") == ["manifest.csv"]
    assert s3batch.objects.keys("src") == ["a.txt"]


# --------------------------------------------------------------------------- when written


@pytest.mark.s3batch(progression="manual")
def test_report_is_written_on_entering_complete(s3batch: S3Batch) -> None:
    s3batch.objects.create_bucket(REPORTS)
    s3batch.objects.put("src", "a.txt", b"a")
    job_id = create_job(s3batch, [["src", "a.txt"]], report_config())

    advance_to(s3batch, job_id, "Completing")
    assert s3batch.objects.keys(REPORTS) == []

    assert s3batch.step(job_id) == "Complete"
    assert f"job-{job_id}/manifest.json" in s3batch.objects.keys(REPORTS)


def test_report_is_written_for_a_job_failed_by_the_threshold(s3batch: S3Batch) -> None:
    s3batch.objects.create_bucket(REPORTS)
    s3batch.objects.create_bucket("src")
    for n in range(499):
        s3batch.objects.put("src", f"ok-{n}", b"")
    rows = [["src", f"missing-{n}"] for n in range(501)]
    rows += [["src", f"ok-{n}"] for n in range(499)]
    job_id = create_job(s3batch, rows, report_config())
    s3batch.run(job_id)
    assert s3batch.job(job_id).status == "Failed"

    found = results(s3batch, job_id)

    assert (len(found["succeeded"]), len(found["failed"])) == (499, 501)
    assert {row[5] for row in found["failed"]} == {"NoSuchKey"}
    assert {row[3] for row in found["succeeded"]} == {"succeeded"}


@manual_one_task_per_step
def test_report_of_a_job_cancelled_while_active_has_the_rows_run_so_far(
    s3batch: S3Batch,
) -> None:
    s3batch.objects.create_bucket(REPORTS)
    for key in ("a.txt", "b.txt", "c.txt"):
        s3batch.objects.put("src", key, b"x")
    job_id = create_job(
        s3batch, [["src", "a.txt"], ["src", "b.txt"], ["src", "c.txt"]], report_config()
    )
    advance_to(s3batch, job_id, "Active")
    assert s3batch.step(job_id) == "Active"
    assert s3batch.job(job_id).succeeded_tasks == 1

    assert cancel(job_id) == "Cancelling"
    assert s3batch.step(job_id) == "Cancelled"

    job = s3batch.job(job_id)
    assert (job.total_tasks, job.succeeded_tasks, job.failed_tasks) == (3, 1, 0)
    found = results(s3batch, job_id)
    assert found == {"succeeded": [["src", "a.txt", "", "succeeded", "200", "", ""]]}
    assert s3batch.objects.get_tags("src", "b.txt") == {}


@pytest.mark.s3batch(progression="manual")
def test_no_report_for_a_job_cancelled_before_running(s3batch: S3Batch) -> None:
    s3batch.objects.create_bucket(REPORTS)
    s3batch.objects.put("src", "a.txt", b"a")
    job_id = create_job(s3batch, [["src", "a.txt"]], report_config(), confirm=True)
    advance_to(s3batch, job_id, "Suspended")

    assert cancel(job_id) == "Cancelled"
    s3batch.run(job_id)

    assert s3batch.job(job_id).status == "Cancelled"
    assert s3batch.objects.keys(REPORTS) == []


def test_missing_report_bucket_leaves_the_job_complete_with_a_failure_reason(
    s3batch: S3Batch,
) -> None:
    s3batch.objects.put("src", "a.txt", b"a")
    job_id = create_job(s3batch, [["src", "a.txt"]], report_config(bucket="no-such-reports"))
    s3batch.run(job_id)

    job = s3batch.job(job_id)
    assert job.status == "Complete"
    assert job.status_history[-2:] == ["Completing", "Complete"]
    assert job.succeeded_tasks == 1
    assert s3batch.objects.get_tags("src", "a.txt") == {"k": "v"}
    assert len(job.failure_reasons) == 1
    assert "could not be written" in job.failure_reasons[0][1]
    described = s3control().describe_job(AccountId=ACCOUNT, JobId=job_id)["Job"]
    assert described["Status"] == "Complete"
    [reason] = described["FailureReasons"]
    assert "could not be written" in reason["FailureReason"]
    assert 1 <= len(reason["FailureCode"]) <= 64
    assert 1 <= len(reason["FailureReason"]) <= 256


def test_each_job_gets_its_own_report(s3batch: S3Batch) -> None:
    first = mixed_job(s3batch)
    second = mixed_job(s3batch, report_config(scope="FailedTasksOnly"))

    assert first != second
    assert len(results(s3batch, first)) == 2
    assert set(results(s3batch, second)) == {"failed"}
    assert len(s3batch.objects.keys(REPORTS, f"job-{first}/")) == 3
    assert len(s3batch.objects.keys(REPORTS, f"job-{second}/")) == 2
