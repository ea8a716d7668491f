"""Manifests seen through boto3: CSV rows, unusable manifests, inventory reports and
generated manifests, as they decide a job's tasks and its success or failure."""

from __future__ import annotations

import gzip
import hashlib
import json
from typing import Any

import pytest

from s3batch_mock import S3Batch
from s3batch_mock.execution._manifests import open_tasks
from tests.conftest import ACCOUNT, ROLE, csv_manifest_job, describe, s3control, store_of

TERMINAL = ("Complete", "Failed", "Cancelled")
INVENTORY = "S3InventoryReport_CSV_20161130"


# --------------------------------------------------------------------------- helpers


def poll_statuses(client: Any, job_id: str) -> list[str]:
    """DescribeJob until the job ends (poll mode: one step per call)."""
    seen: list[str] = []
    for _ in range(20):
        seen.append(describe(client, job_id)["Status"])
        if seen[-1] in TERMINAL:
            return seen
    pytest.fail(f"the job never ended: {seen}")


def run_csv_job(batch: Any, body: str, fields: list[str] | None = None, **overrides: Any) -> str:
    """Store ``body`` as a CSV manifest, create a job for it and run it to rest."""
    etag = batch.objects.put("manifests", "manifest.csv", body)
    spec: dict[str, Any] = {"Format": "S3BatchOperations_CSV_20180820"}
    if fields is not None:
        spec["Fields"] = fields
    manifest = {
        "Spec": spec,
        "Location": {"ObjectArn": "arn:aws:s3:::manifests/manifest.csv", "ETag": etag},
    }
    job_id = csv_manifest_job(
        s3control(), etag, ConfirmationRequired=False, Manifest=manifest, **overrides
    )
    batch.run(job_id)
    return job_id


def parsed_tasks(batch: Any, job_id: str) -> list[tuple[str, str, str | None, bool]]:
    """(bucket, key, version, unusable) of each task the job's manifest yields."""
    return [
        (task.bucket, task.key, task.version_id, task.problem is not None)
        for task in open_tasks(store_of(batch), batch.job(job_id).request)
    ]


def put_sources(batch: Any, *keys: str) -> None:
    for key in keys:
        batch.objects.put("src", key, f"body of {key}")


def assert_completed(batch: Any, job_id: str, total: int, failed: int = 0) -> None:
    job = batch.job(job_id)
    assert job.status == "Complete", (job.status_history, job.failure_reasons)
    assert job.failure_reasons == []
    assert (job.total_tasks, job.succeeded_tasks, job.failed_tasks) == (
        total,
        total - failed,
        failed,
    )


# --------------------------------------------------------------------------- CSV manifests


def test_csv_bucket_key(s3batch: S3Batch) -> None:
    put_sources(s3batch, "a.txt", "b.txt")

    job_id = run_csv_job(s3batch, "src,a.txt\nsrc,b.txt\n", ["Bucket", "Key"])

    assert_completed(s3batch, job_id, total=2)
    assert parsed_tasks(s3batch, job_id) == [
        ("src", "a.txt", None, False),
        ("src", "b.txt", None, False),
    ]


def test_csv_ignore_column_is_skipped(s3batch: S3Batch) -> None:
    put_sources(s3batch, "a.txt", "b.txt")

    # An empty first column would be an empty bucket if Ignore were not skipped.
    job_id = run_csv_job(s3batch, ",src,a.txt\nrow-2,src,b.txt\n", ["Ignore", "Bucket", "Key"])

    assert_completed(s3batch, job_id, total=2)
    assert parsed_tasks(s3batch, job_id) == [
        ("src", "a.txt", None, False),
        ("src", "b.txt", None, False),
    ]


def test_csv_key_before_bucket_follows_fields(s3batch: S3Batch) -> None:
    put_sources(s3batch, "a.txt")

    job_id = run_csv_job(s3batch, "a.txt,src\n", ["Key", "Bucket"])

    assert_completed(s3batch, job_id, total=1)
    assert parsed_tasks(s3batch, job_id) == [("src", "a.txt", None, False)]


def test_csv_version_ids(s3batch: S3Batch) -> None:
    put_sources(s3batch, "a.txt", "b.txt")
    s3batch.objects.put("src", "a.txt", b"second version")
    a_old = s3batch.objects.head("src", "a.txt").version_id
    b_latest = s3batch.objects.head("src", "b.txt").version_id

    job_id = run_csv_job(
        s3batch, f"src,a.txt,{a_old}\nsrc,b.txt,{b_latest}\n", ["Bucket", "Key", "VersionId"]
    )

    assert_completed(s3batch, job_id, total=2)
    assert parsed_tasks(s3batch, job_id) == [
        ("src", "a.txt", a_old, False),
        ("src", "b.txt", b_latest, False),
    ]


def test_csv_has_no_header_row(s3batch: S3Batch) -> None:
    put_sources(s3batch, "a.txt")

    # The first row is a task even when it looks like a header.
    job_id = run_csv_job(s3batch, "Bucket,Key\nsrc,a.txt\n", ["Bucket", "Key"])

    assert s3batch.job(job_id).total_tasks == 2
    assert parsed_tasks(s3batch, job_id)[0] == ("Bucket", "Key", None, False)


def test_csv_keys_are_url_decoded(s3batch: S3Batch) -> None:
    put_sources(s3batch, "my file.txt", "dir/a+b,c.txt")

    job_id = run_csv_job(s3batch, "src,my%20file.txt\nsrc,dir/a%2Bb%2Cc.txt\n", ["Bucket", "Key"])

    assert_completed(s3batch, job_id, total=2)
    assert [key for _, key, _, _ in parsed_tasks(s3batch, job_id)] == [
        "my file.txt",
        "dir/a+b,c.txt",
    ]


def test_csv_blank_lines_are_skipped(s3batch: S3Batch) -> None:
    put_sources(s3batch, "a.txt", "b.txt")

    job_id = run_csv_job(s3batch, "\nsrc,a.txt\n\n\nsrc,b.txt\n\n", ["Bucket", "Key"])

    assert_completed(s3batch, job_id, total=2)


def test_csv_crlf_line_endings(s3batch: S3Batch) -> None:
    put_sources(s3batch, "a.txt", "b.txt")

    job_id = run_csv_job(s3batch, "src,a.txt\r\nsrc,b.txt\r\n", ["Bucket", "Key"])

    assert_completed(s3batch, job_id, total=2)
    assert [key for _, key, _, _ in parsed_tasks(s3batch, job_id)] == ["a.txt", "b.txt"]


@pytest.mark.parametrize("rows", [1, 5, 250])
def test_csv_total_tasks_counts_rows(s3batch: S3Batch, rows: int) -> None:
    body = "".join(f"src,obj-{n}.txt\n" for n in range(rows))
    put_sources(s3batch, *(f"obj-{n}.txt" for n in range(rows)))

    job_id = run_csv_job(s3batch, body, ["Bucket", "Key"])

    assert_completed(s3batch, job_id, total=rows)
    summary = describe(s3control(), job_id)["ProgressSummary"]
    assert summary["TotalNumberOfTasks"] == rows
    assert summary["NumberOfTasksSucceeded"] == rows


def test_csv_row_with_wrong_column_count_fails_only_its_task(s3batch: S3Batch) -> None:
    put_sources(s3batch, "a.txt", "b.txt", "c.txt")

    job_id = run_csv_job(s3batch, "src,a.txt\nsrc,b.txt,extra\nsrc,c.txt\n", ["Bucket", "Key"])

    assert_completed(s3batch, job_id, total=3, failed=1)
    summary = describe(s3control(), job_id)["ProgressSummary"]
    assert summary["NumberOfTasksFailed"] == 1
    assert summary["NumberOfTasksSucceeded"] == 2


def test_csv_empty_version_id_fails_only_its_task(s3batch: S3Batch) -> None:
    put_sources(s3batch, "a.txt", "b.txt")
    version = s3batch.objects.head("src", "a.txt").version_id

    job_id = run_csv_job(
        s3batch, f"src,a.txt,{version}\nsrc,b.txt,\n", ["Bucket", "Key", "VersionId"]
    )

    assert_completed(s3batch, job_id, total=2, failed=1)
    job = describe(s3control(), job_id)
    assert job["FailureReasons"] == []
    assert job["ProgressSummary"]["NumberOfTasksFailed"] == 1


# --------------------------------------------------------------------------- unusable manifests


def assert_failed_with_one_reason(batch: Any, client: Any, job_id: str) -> tuple[str, str]:
    """Poll the job to its end: Preparing, Failing, Failed, with one FailureReasons entry."""
    assert poll_statuses(client, job_id) == ["Preparing", "Failing", "Failed"]
    job = describe(client, job_id)
    assert len(job["FailureReasons"]) == 1
    code = job["FailureReasons"][0]["FailureCode"]
    reason = job["FailureReasons"][0]["FailureReason"]
    assert 1 <= len(code) <= 64
    assert 1 <= len(reason) <= 256
    snapshot = batch.job(job_id)
    assert snapshot.failure_reasons == [(code, reason)]
    assert snapshot.status_history == ["New", "Preparing", "Failing", "Failed"]
    assert snapshot.total_tasks == 0
    return code, reason


def test_missing_manifest_key_fails_job(s3batch: S3Batch) -> None:
    client = s3control()
    etag = s3batch.objects.put("manifests", "manifest.csv", "src,a.txt\n")

    job_id = csv_manifest_job(client, etag, key="wrong.csv", ConfirmationRequired=False)

    _, reason = assert_failed_with_one_reason(s3batch, client, job_id)
    assert "manifests/wrong.csv" in reason


def test_missing_manifest_bucket_fails_job(s3batch: S3Batch) -> None:
    client = s3control()
    etag = s3batch.objects.put("manifests", "manifest.csv", "src,a.txt\n")

    job_id = csv_manifest_job(client, etag, bucket="no-such-bucket", ConfirmationRequired=False)

    _, reason = assert_failed_with_one_reason(s3batch, client, job_id)
    assert "no-such-bucket/manifest.csv" in reason


def test_manifest_etag_mismatch_fails_job(s3batch: S3Batch) -> None:
    client = s3control()
    s3batch.objects.put("manifests", "manifest.csv", "src,a.txt\n")
    wrong = hashlib.md5(b"something else", usedforsecurity=False).hexdigest()

    job_id = csv_manifest_job(client, wrong, ConfirmationRequired=False)

    _, reason = assert_failed_with_one_reason(s3batch, client, job_id)
    assert "etag" in reason.lower()


def test_manifest_etag_with_quotes_is_accepted(s3batch: S3Batch) -> None:
    client = s3control()
    put_sources(s3batch, "a.txt")
    etag = s3batch.objects.put("manifests", "manifest.csv", "src,a.txt\n")

    job_id = csv_manifest_job(client, f'"{etag}"', ConfirmationRequired=False)

    assert poll_statuses(client, job_id)[-1] == "Complete"
    assert_completed(s3batch, job_id, total=1)


def test_manifest_changed_after_create_job_fails_job(s3batch: S3Batch) -> None:
    client = s3control()
    etag = s3batch.objects.put("manifests", "manifest.csv", "src,a.txt\n")
    job_id = csv_manifest_job(client, etag, ConfirmationRequired=False)
    s3batch.objects.put("manifests", "manifest.csv", "src,a.txt\nsrc,b.txt\n")

    _, reason = assert_failed_with_one_reason(s3batch, client, job_id)
    assert "etag" in reason.lower()


def versioned_manifest(batch: Any) -> tuple[str, str, str]:
    """Two versions of s3://manifests/manifest.csv: (old version id, old ETag, new ETag)."""
    old_etag = batch.objects.put("manifests", "manifest.csv", "src,a\nsrc,b\nsrc,c\n")
    old_version = batch.objects.head("manifests", "manifest.csv").version_id
    new_etag = batch.objects.put("manifests", "manifest.csv", "src,a\n")
    assert batch.objects.head("manifests", "manifest.csv").version_id != old_version
    return old_version, old_etag, new_etag


def versioned_location(version: str, etag: str) -> dict[str, Any]:
    return {
        "Spec": {"Format": "S3BatchOperations_CSV_20180820", "Fields": ["Bucket", "Key"]},
        "Location": {
            "ObjectArn": "arn:aws:s3:::manifests/manifest.csv",
            "ObjectVersionId": version,
            "ETag": etag,
        },
    }


def test_manifest_object_version_id_reads_that_version(s3batch: S3Batch) -> None:
    client = s3control()
    put_sources(s3batch, "a", "b", "c")
    old_version, old_etag, _ = versioned_manifest(s3batch)

    job_id = csv_manifest_job(
        client,
        old_etag,
        ConfirmationRequired=False,
        Manifest=versioned_location(old_version, old_etag),
    )

    assert poll_statuses(client, job_id)[-1] == "Complete"
    assert_completed(s3batch, job_id, total=3)


def test_manifest_object_version_id_needs_that_versions_etag(s3batch: S3Batch) -> None:
    client = s3control()
    old_version, _, new_etag = versioned_manifest(s3batch)

    job_id = csv_manifest_job(
        client,
        new_etag,
        ConfirmationRequired=False,
        Manifest=versioned_location(old_version, new_etag),
    )

    _, reason = assert_failed_with_one_reason(s3batch, client, job_id)
    assert "etag" in reason.lower()


def test_manifest_unknown_object_version_id_fails_job(s3batch: S3Batch) -> None:
    client = s3control()
    _, _, new_etag = versioned_manifest(s3batch)

    job_id = csv_manifest_job(
        client,
        new_etag,
        ConfirmationRequired=False,
        Manifest=versioned_location("no-such-version", new_etag),
    )

    assert_failed_with_one_reason(s3batch, client, job_id)


# --------------------------------------------------------------------------- inventory reports


def gzip_csv(rows: list[str]) -> bytes:
    return gzip.compress("".join(f"{row}\n" for row in rows).encode(), mtime=0)


def put_inventory(batch: Any, files: dict[str, list[str]]) -> str:
    """Data files and an inventory manifest.json in bucket ``inv``; returns its ETag."""
    entries = []
    for key, rows in files.items():
        data = gzip_csv(rows)
        batch.objects.put("inv", key, data)
        entries.append(
            {
                "key": key,
                "size": len(data),
                "MD5checksum": hashlib.md5(data, usedforsecurity=False).hexdigest(),
            }
        )
    document = {
        "sourceBucket": "src",
        "destinationBucket": "arn:aws:s3:::inv",
        "version": "2016-11-30",
        "creationTimestamp": "1514944800000",
        "fileFormat": "CSV",
        "fileSchema": "Bucket, Key, VersionId, IsLatest, Size",
        "files": entries,
    }
    return str(batch.objects.put("inv", "src/config/manifest.json", json.dumps(document)))


def inventory_manifest(etag: str) -> dict[str, Any]:
    return {
        "Spec": {"Format": INVENTORY},
        "Location": {"ObjectArn": "arn:aws:s3:::inv/src/config/manifest.json", "ETag": etag},
    }


def test_inventory_manifest_counts_rows_across_data_files(s3batch: S3Batch) -> None:
    client = s3control()
    put_sources(s3batch, "a.txt", "b c.txt", "d.txt", "e.txt", "f.txt")
    v1, v2, v3, v4, v5 = (
        s3batch.objects.head("src", key).version_id
        for key in ("a.txt", "b c.txt", "d.txt", "e.txt", "f.txt")
    )
    etag = put_inventory(
        s3batch,
        {
            "data/1.csv.gz": [
                f'"src","a.txt","{v1}","true","5"',
                f'"src","b%20c.txt","{v2}","true","7"',
            ],
            "data/2.csv.gz": [
                f'"src","d.txt","{v3}","true","1"',
                f'"src","e.txt","{v4}","true","2"',
                f'"src","f.txt","{v5}","true","3"',
            ],
        },
    )

    job_id = csv_manifest_job(
        client, etag, ConfirmationRequired=False, Manifest=inventory_manifest(etag)
    )

    assert poll_statuses(client, job_id)[-1] == "Complete"
    assert_completed(s3batch, job_id, total=5)
    assert describe(client, job_id)["ProgressSummary"]["TotalNumberOfTasks"] == 5
    assert parsed_tasks(s3batch, job_id)[:2] == [
        ("src", "a.txt", v1, False),
        ("src", "b c.txt", v2, False),
    ]


def test_inventory_manifest_etag_mismatch_fails_job(s3batch: S3Batch) -> None:
    client = s3control()
    put_inventory(s3batch, {"data/1.csv.gz": ['"src","a.txt","v1","true","5"']})
    wrong = "f" * 32

    job_id = csv_manifest_job(
        client, wrong, ConfirmationRequired=False, Manifest=inventory_manifest(wrong)
    )

    _, reason = assert_failed_with_one_reason(s3batch, client, job_id)
    assert "etag" in reason.lower()


def test_inventory_data_files_are_closed_once_read(s3batch: S3Batch) -> None:
    opened: list[Any] = []

    class Recording:
        """The embedded store, keeping every stream it hands out."""

        def __getattr__(self, name: str) -> Any:
            return getattr(store_of(s3batch), name)

        def open(self, bucket: str, key: str, version_id: str | None = None) -> Any:
            stream = store_of(s3batch).open(bucket, key, version_id)
            opened.append(stream)
            return stream

    etag = put_inventory(
        s3batch,
        {"data/1.csv.gz": ['"src","a.txt","","true","5"'], "data/2.csv.gz": []},
    )
    request = {"Manifest": inventory_manifest(etag)}

    tasks = list(open_tasks(Recording(), request))

    assert [(t.bucket, t.key) for t in tasks] == [("src", "a.txt")]
    assert len(opened) == 3  # manifest.json and both data files
    assert all(stream.closed for stream in opened)


# --------------------------------------------------------------------------- generated manifests

SOURCE_KEYS = (
    "logs/2024/app.log",
    "logs/2024/notes.txt",
    "images/cat.jpg",
    "images/dog.png",
    "docs/readme.txt",
    "archive/catalog.csv",
)


def generator_job(client: Any, constraint: dict[str, list[str]]) -> str:
    response = client.create_job(
        AccountId=ACCOUNT,
        ConfirmationRequired=False,
        Operation={"S3PutObjectTagging": {"TagSet": [{"Key": "k", "Value": "v"}]}},
        Report={"Enabled": False},
        ManifestGenerator={
            "S3JobManifestGenerator": {
                "SourceBucket": "arn:aws:s3:::src",
                "EnableManifestOutput": False,
                "Filter": {"KeyNameConstraint": constraint},
            }
        },
        Priority=10,
        RoleArn=ROLE,
    )
    return str(response["JobId"])


@pytest.mark.parametrize(
    ("constraint", "matching"),
    [
        ({"MatchAnyPrefix": ["logs/"]}, 2),
        ({"MatchAnyPrefix": ["logs/", "docs/"]}, 3),
        ({"MatchAnySuffix": [".txt"]}, 2),
        ({"MatchAnySuffix": [".jpg", ".png", ".csv"]}, 3),
        ({"MatchAnySubstring": ["cat"]}, 2),
        ({"MatchAnySubstring": ["dog", "2024"]}, 3),
        ({"MatchAnyPrefix": ["images/"], "MatchAnySuffix": [".png"]}, 1),
    ],
    ids=lambda value: json.dumps(value) if isinstance(value, dict) else str(value),
)
def test_manifest_generator_counts_matching_keys(
    s3batch: S3Batch, constraint: dict[str, list[str]], matching: int
) -> None:
    client = s3control()
    put_sources(s3batch, *SOURCE_KEYS)
    s3batch.objects.put("other", "logs/elsewhere.txt", b"not in the source bucket")

    job_id = generator_job(client, constraint)

    assert poll_statuses(client, job_id)[-1] == "Complete"
    assert_completed(s3batch, job_id, total=matching)
    assert describe(client, job_id)["ProgressSummary"]["TotalNumberOfTasks"] == matching


def test_manifest_generator_without_matches_fails_job(s3batch: S3Batch) -> None:
    client = s3control()
    put_sources(s3batch, *SOURCE_KEYS)

    job_id = generator_job(client, {"MatchAnyPrefix": ["nothing-here/"]})

    _, reason = assert_failed_with_one_reason(s3batch, client, job_id)
    assert reason == "Manifest generation found no keys matching the filter criteria"


@pytest.mark.s3batch(progression="manual")
def test_job_runs_the_manifest_version_it_prepared(s3batch: S3Batch) -> None:
    put_sources(s3batch, "a.txt", "b.txt", "c.txt")
    etag = s3batch.objects.put("manifests", "manifest.csv", "src,a.txt\nsrc,b.txt\n")
    job_id = csv_manifest_job(s3control(), etag, ConfirmationRequired=False)
    s3batch.step(job_id)
    assert s3batch.step(job_id) == "Ready"  # prepared: two tasks

    s3batch.objects.put("manifests", "manifest.csv", "src,c.txt\n")  # replaced afterwards
    s3batch.run(job_id)

    job = s3batch.job(job_id)
    assert (job.status, job.total_tasks, job.succeeded_tasks) == ("Complete", 2, 2)
    assert s3batch.objects.get_tags("src", "a.txt") == {"k": "v"}
    assert s3batch.objects.get_tags("src", "c.txt") == {}
