"""ManifestGenerator jobs through boto3: every filter of S3JobManifestGenerator, jobs
that match nothing, and the generated manifest written when EnableManifestOutput is
true (its descriptor, its content, and a second job created from it)."""

from __future__ import annotations

import csv
import datetime
import gzip
import io
import json
from typing import Any
from urllib.parse import unquote

import pytest
from botocore.exceptions import ClientError
from freezegun import freeze_time

from s3batch_mock import S3Batch
from tests.conftest import ACCOUNT, ROLE, csv_manifest_job, s3control

TAG = {"Key": "picked", "Value": "yes"}
KMS_KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OTHER_KMS_KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/0000abcd-12ab-34cd-56ef-1234567890ab"
NO_KEYS = "Manifest generation found no keys matching the filter criteria"
OUTPUT = {
    "Bucket": "arn:aws:s3:::out",
    "ManifestPrefix": "gen",
    "ManifestFormat": "S3InventoryReport_CSV_20211130",
}


# --------------------------------------------------------------------------- helpers


def generator(
    filter_: dict[str, Any] | None = None,
    *,
    source: str = "arn:aws:s3:::src",
    output: dict[str, Any] | None = None,
) -> dict[str, Any]:
    spec: dict[str, Any] = {"SourceBucket": source, "EnableManifestOutput": output is not None}
    if filter_ is not None:
        spec["Filter"] = filter_
    if output is not None:
        spec["ManifestOutputLocation"] = output
    return {"S3JobManifestGenerator": spec}


def create_job(client: Any, operation: dict[str, Any], **source: Any) -> str:
    """CreateJob with ``Manifest=`` or ``ManifestGenerator=`` in ``source``."""
    response = client.create_job(
        AccountId=ACCOUNT,
        ConfirmationRequired=False,
        Operation=operation,
        Report={"Enabled": False},
        Priority=10,
        RoleArn=ROLE,
        **source,
    )
    return str(response["JobId"])


def tag_job(batch: S3Batch, manifest_generator: dict[str, Any]) -> str:
    """Run an S3PutObjectTagging job over a generated manifest; returns the JobId."""
    job_id = create_job(
        s3control(),
        {"S3PutObjectTagging": {"TagSet": [TAG]}},
        ManifestGenerator=manifest_generator,
    )
    assert "Manifest" not in batch.job(job_id).request
    batch.run(job_id)
    return job_id


def tagged(batch: S3Batch, bucket: str = "src") -> set[str]:
    """Keys of ``bucket`` that carry the tag the tagging jobs put."""
    return {
        key
        for key in batch.objects.keys(bucket)
        if batch.objects.get_tags(bucket, key).get(TAG["Key"]) == TAG["Value"]
    }


def assert_picked(batch: S3Batch, job_id: str, keys: set[str]) -> None:
    """The job completed with one succeeded task per key in ``keys``, which are tagged."""
    job = batch.job(job_id)
    assert job.status == "Complete", (job.status_history, job.failure_reasons)
    assert (job.total_tasks, job.succeeded_tasks, job.failed_tasks) == (len(keys), len(keys), 0)
    assert tagged(batch) == keys


def assert_failed(batch: S3Batch, job_id: str) -> str:
    """The job failed while preparing, with one FailureReasons entry; returns its reason."""
    job = batch.job(job_id)
    assert job.status == "Failed", job.status_history
    assert job.status_history == ["New", "Preparing", "Failing", "Failed"]
    assert job.total_tasks == 0
    assert len(job.failure_reasons) == 1
    described = s3control().describe_job(AccountId=ACCOUNT, JobId=job_id)["Job"]
    assert described["Status"] == "Failed"
    assert [(f["FailureCode"], f["FailureReason"]) for f in described["FailureReasons"]] == (
        job.failure_reasons
    )
    return job.failure_reasons[0][1]


def put(batch: S3Batch, *keys: str, **kwargs: Any) -> None:
    for key in keys:
        batch.objects.put("src", key, f"body of {key}", **kwargs)


def run_csv_job(batch: S3Batch, operation: dict[str, Any], keys: list[str]) -> None:
    """Run ``operation`` over ``keys`` of bucket ``src`` through a CSV manifest."""
    etag = batch.objects.put("manifests", "ops.csv", "".join(f"src,{k}\n" for k in keys))
    job_id = csv_manifest_job(
        s3control(), etag, key="ops.csv", ConfirmationRequired=False, Operation=operation
    )
    batch.run(job_id)
    job = batch.job(job_id)
    assert (job.status, job.succeeded_tasks) == ("Complete", len(keys)), job.failure_reasons


# --------------------------------------------------------------------------- key names

KEYS = (
    "logs/2024/app.log",
    "logs/2024/notes.txt",
    "images/cat.jpg",
    "images/dog.png",
    "docs/readme.txt",
    "archive/catalog.csv",
)


@pytest.mark.parametrize(
    ("constraint", "expected"),
    [
        ({"MatchAnyPrefix": ["logs/"]}, {"logs/2024/app.log", "logs/2024/notes.txt"}),
        ({"MatchAnyPrefix": ["images/"]}, {"images/cat.jpg", "images/dog.png"}),
        ({"MatchAnySuffix": [".txt"]}, {"logs/2024/notes.txt", "docs/readme.txt"}),
        ({"MatchAnySuffix": [".png"]}, {"images/dog.png"}),
        ({"MatchAnySubstring": ["cat"]}, {"images/cat.jpg", "archive/catalog.csv"}),
        ({"MatchAnySubstring": ["2024"]}, {"logs/2024/app.log", "logs/2024/notes.txt"}),
        ({"MatchAnyPrefix": ["logs/"], "MatchAnySuffix": [".txt"]}, {"logs/2024/notes.txt"}),
    ],
    ids=lambda value: json.dumps(value) if isinstance(value, dict) else "",
)
def test_key_name_constraint(
    s3batch: S3Batch, constraint: dict[str, list[str]], expected: set[str]
) -> None:
    put(s3batch, *KEYS)
    s3batch.objects.put("other", "logs/elsewhere.txt", b"not in the source bucket")

    job_id = tag_job(s3batch, generator({"KeyNameConstraint": constraint}))

    assert_picked(s3batch, job_id, expected)
    assert s3batch.objects.get_tags("other", "logs/elsewhere.txt") == {}


def test_no_filter_picks_every_object(s3batch: S3Batch) -> None:
    put(s3batch, *KEYS)

    job_id = tag_job(s3batch, generator())

    assert_picked(s3batch, job_id, set(KEYS))


# --------------------------------------------------------------------------- dates

JAN = datetime.datetime(2024, 1, 15, 12, 0, tzinfo=datetime.UTC)
JUN = datetime.datetime(2024, 6, 15, 12, 0, tzinfo=datetime.UTC)
DEC = datetime.datetime(2024, 12, 15, 12, 0, tzinfo=datetime.UTC)


def put_at_three_times(batch: S3Batch) -> None:
    for moment, key in ((JAN, "jan.txt"), (JUN, "jun.txt"), (DEC, "dec.txt")):
        with freeze_time(moment):
            put(batch, key)
        assert batch.objects.head("src", key).last_modified == moment


@pytest.mark.parametrize(
    ("filter_", "expected"),
    [
        ({"CreatedAfter": datetime.datetime(2024, 3, 1, tzinfo=datetime.UTC)}, {"jun", "dec"}),
        ({"CreatedBefore": datetime.datetime(2024, 3, 1, tzinfo=datetime.UTC)}, {"jan"}),
        ({"CreatedAfter": datetime.datetime(2024, 9, 1, tzinfo=datetime.UTC)}, {"dec"}),
        ({"CreatedBefore": datetime.datetime(2024, 9, 1, tzinfo=datetime.UTC)}, {"jan", "jun"}),
        (
            {
                "CreatedAfter": datetime.datetime(2024, 3, 1, tzinfo=datetime.UTC),
                "CreatedBefore": datetime.datetime(2024, 9, 1, tzinfo=datetime.UTC),
            },
            {"jun"},
        ),
    ],
    ids=["after-mar", "before-mar", "after-sep", "before-sep", "between"],
)
def test_created_after_and_before(
    s3batch: S3Batch, filter_: dict[str, Any], expected: set[str]
) -> None:
    put_at_three_times(s3batch)

    job_id = tag_job(s3batch, generator(filter_))

    assert_picked(s3batch, job_id, {f"{name}.txt" for name in expected})


# --------------------------------------------------------------------------- sizes


def put_sized(batch: S3Batch) -> None:
    for size in (10, 100, 1000):
        batch.objects.put("src", f"size-{size}", b"x" * size)


@pytest.mark.parametrize(
    ("filter_", "expected"),
    [
        ({"ObjectSizeGreaterThanBytes": 50}, {1000, 100}),
        ({"ObjectSizeGreaterThanBytes": 100}, {1000}),
        ({"ObjectSizeLessThanBytes": 500}, {10, 100}),
        ({"ObjectSizeLessThanBytes": 100}, {10}),
        ({"ObjectSizeGreaterThanBytes": 10, "ObjectSizeLessThanBytes": 1000}, {100}),
    ],
    ids=["gt-50", "gt-100-is-strict", "lt-500", "lt-100-is-strict", "between"],
)
def test_object_size(s3batch: S3Batch, filter_: dict[str, int], expected: set[int]) -> None:
    put_sized(s3batch)

    job_id = tag_job(s3batch, generator(filter_))

    assert_picked(s3batch, job_id, {f"size-{size}" for size in expected})


# --------------------------------------------------------------------------- storage classes


@pytest.mark.parametrize(
    ("classes", "expected"),
    [
        (["STANDARD"], {"standard"}),
        (["GLACIER"], {"glacier"}),
        (["GLACIER", "DEEP_ARCHIVE"], {"glacier", "deep"}),
        (["STANDARD_IA", "STANDARD"], {"ia", "standard"}),
    ],
)
def test_match_any_storage_class(s3batch: S3Batch, classes: list[str], expected: set[str]) -> None:
    put(s3batch, "standard")
    put(s3batch, "glacier", storage_class="GLACIER")
    put(s3batch, "deep", storage_class="DEEP_ARCHIVE")
    put(s3batch, "ia", storage_class="STANDARD_IA")

    job_id = tag_job(s3batch, generator({"MatchAnyStorageClass": classes}))

    assert_picked(s3batch, job_id, expected)


# --------------------------------------------------------------------------- replication


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (["NONE"], {"a", "c"}),
        (["COMPLETED"], {"b"}),
        (["COMPLETED", "NONE"], {"a", "b", "c"}),
    ],
)
def test_object_replication_statuses(
    s3batch: S3Batch, statuses: list[str], expected: set[str]
) -> None:
    put(s3batch, "a", "b", "c")
    run_csv_job(s3batch, {"S3ReplicateObject": {}}, ["b"])

    job_id = tag_job(s3batch, generator({"ObjectReplicationStatuses": statuses}))

    assert_picked(s3batch, job_id, expected)


def test_replication_status_without_replicated_objects_fails(s3batch: S3Batch) -> None:
    put(s3batch, "a", "b")

    job_id = tag_job(s3batch, generator({"ObjectReplicationStatuses": ["COMPLETED"]}))

    assert assert_failed(s3batch, job_id) == NO_KEYS
    assert tagged(s3batch) == set()


# --------------------------------------------------------------------------- encryption


def put_with_one_kms_object(batch: S3Batch) -> None:
    put(batch, "a", "b", "c")
    run_csv_job(
        batch,
        {"S3UpdateObjectEncryption": {"ObjectEncryption": {"SSEKMS": {"KMSKeyArn": KMS_KEY}}}},
        ["b"],
    )
    assert batch.objects.head("src", "b").kms_key_id == KMS_KEY


def test_encryption_sse_s3_matches_default_objects(s3batch: S3Batch) -> None:
    put_with_one_kms_object(s3batch)

    job_id = tag_job(s3batch, generator({"MatchAnyObjectEncryption": [{"SSES3": {}}]}))

    assert_picked(s3batch, job_id, {"a", "c"})


def test_encryption_sse_kms_matches_that_key(s3batch: S3Batch) -> None:
    put_with_one_kms_object(s3batch)

    job_id = tag_job(
        s3batch, generator({"MatchAnyObjectEncryption": [{"SSEKMS": {"KmsKeyArn": KMS_KEY}}]})
    )

    assert_picked(s3batch, job_id, {"b"})


def test_encryption_sse_kms_without_key_matches_any_kms_object(s3batch: S3Batch) -> None:
    put_with_one_kms_object(s3batch)

    job_id = tag_job(s3batch, generator({"MatchAnyObjectEncryption": [{"SSEKMS": {}}]}))

    assert_picked(s3batch, job_id, {"b"})


def test_encryption_sse_kms_with_other_key_matches_none(s3batch: S3Batch) -> None:
    put_with_one_kms_object(s3batch)

    job_id = tag_job(
        s3batch,
        generator({"MatchAnyObjectEncryption": [{"SSEKMS": {"KmsKeyArn": OTHER_KMS_KEY}}]}),
    )

    assert assert_failed(s3batch, job_id) == NO_KEYS
    assert tagged(s3batch) == set()


def test_encryption_not_sse_matches_none(s3batch: S3Batch) -> None:
    put_with_one_kms_object(s3batch)

    job_id = tag_job(s3batch, generator({"MatchAnyObjectEncryption": [{"NOTSSE": {}}]}))

    assert assert_failed(s3batch, job_id) == NO_KEYS
    assert tagged(s3batch) == set()


# --------------------------------------------------------------------------- combined filters


def test_filters_combine_with_and(s3batch: S3Batch) -> None:
    s3batch.objects.put("src", "logs/small.txt", b"x")
    s3batch.objects.put("src", "logs/large.txt", b"x" * 500)
    s3batch.objects.put("src", "logs/cold.txt", b"x" * 500, storage_class="GLACIER")
    s3batch.objects.put("src", "other/large.txt", b"x" * 500)

    job_id = tag_job(
        s3batch,
        generator(
            {
                "KeyNameConstraint": {"MatchAnyPrefix": ["logs/"]},
                "ObjectSizeGreaterThanBytes": 100,
                "MatchAnyStorageClass": ["STANDARD"],
            }
        ),
    )

    assert_picked(s3batch, job_id, {"logs/large.txt"})


# --------------------------------------------------------------------------- failures


def test_no_match_fails_job(s3batch: S3Batch) -> None:
    put(s3batch, *KEYS)

    job_id = tag_job(
        s3batch, generator({"KeyNameConstraint": {"MatchAnyPrefix": ["nothing-here/"]}})
    )

    assert assert_failed(s3batch, job_id) == NO_KEYS
    assert tagged(s3batch) == set()


def test_empty_source_bucket_fails_job(s3batch: S3Batch) -> None:
    s3batch.objects.create_bucket("src")

    job_id = tag_job(s3batch, generator())

    assert assert_failed(s3batch, job_id) == NO_KEYS


def test_missing_source_bucket_fails_job(s3batch: S3Batch) -> None:
    put(s3batch, *KEYS)

    job_id = tag_job(s3batch, generator(source="arn:aws:s3:::no-such-bucket"))

    assert "no-such-bucket" in assert_failed(s3batch, job_id)
    assert tagged(s3batch) == set()


# --------------------------------------------------------------------------- manifest output


def generated_files(batch: S3Batch, job_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(GeneratedManifestDescriptor from DescribeJob, the manifest.json it points at)."""
    described = s3control().describe_job(AccountId=ACCOUNT, JobId=job_id)["Job"]
    descriptor = described["GeneratedManifestDescriptor"]
    bucket, _, key = (
        descriptor["Location"]["ObjectArn"].removeprefix("arn:aws:s3:::").partition("/")
    )
    return descriptor, json.loads(batch.objects.get(bucket, key))


def data_rows(batch: S3Batch, document: dict[str, Any]) -> list[list[str]]:
    bucket = document["destinationBucket"].removeprefix("arn:aws:s3:::")
    rows: list[list[str]] = []
    for entry in document["files"]:
        text = gzip.decompress(batch.objects.get(bucket, entry["key"])).decode("utf-8")
        rows.extend(csv.reader(io.StringIO(text)))
    return rows


def test_manifest_output_descriptor(s3batch: S3Batch) -> None:
    put(s3batch, *KEYS)
    s3batch.objects.create_bucket("out")

    job_id = tag_job(
        s3batch, generator({"KeyNameConstraint": {"MatchAnyPrefix": ["logs/"]}}, output=OUTPUT)
    )

    assert_picked(s3batch, job_id, {"logs/2024/app.log", "logs/2024/notes.txt"})
    descriptor, _ = generated_files(s3batch, job_id)
    manifest_key = f"gen/job-{job_id}/manifest.json"
    assert descriptor == {
        "Format": "S3InventoryReport_CSV_20211130",
        "Location": {
            "ObjectArn": f"arn:aws:s3:::out/{manifest_key}",
            "ETag": s3batch.objects.head("out", manifest_key).etag,
        },
    }


def test_manifest_output_content(s3batch: S3Batch) -> None:
    put(s3batch, *KEYS, "logs/with space.txt")
    s3batch.objects.create_bucket("out")

    job_id = tag_job(
        s3batch, generator({"KeyNameConstraint": {"MatchAnyPrefix": ["logs/"]}}, output=OUTPUT)
    )

    _, document = generated_files(s3batch, job_id)
    assert document["fileSchema"] == "Bucket, Key, VersionId"
    assert document["fileFormat"] == "CSV"
    assert document["destinationBucket"] == "arn:aws:s3:::out"
    assert len(document["files"]) >= 1
    for entry in document["files"]:
        assert entry["key"].endswith(".csv.gz")
        body = s3batch.objects.get("out", entry["key"])
        assert entry["size"] == len(body)
    rows = data_rows(s3batch, document)
    matched = ["logs/2024/app.log", "logs/2024/notes.txt", "logs/with space.txt"]
    assert sorted((bucket, unquote(key), version) for bucket, key, version in rows) == [
        ("src", key, s3batch.objects.head("src", key).version_id) for key in matched
    ]
    assert "logs/with space.txt" not in [key for _, key, _ in rows]  # keys are URL-encoded


def test_job_from_generated_manifest_has_same_tasks(s3batch: S3Batch) -> None:
    client = s3control()
    put(s3batch, *KEYS, "logs/with space.txt")
    s3batch.objects.create_bucket("out")
    first = tag_job(
        s3batch, generator({"KeyNameConstraint": {"MatchAnyPrefix": ["logs/"]}}, output=OUTPUT)
    )
    descriptor, _ = generated_files(s3batch, first)

    second = create_job(
        client,
        {"S3PutObjectTagging": {"TagSet": [{"Key": "second", "Value": "run"}]}},
        Manifest={
            "Spec": {"Format": "S3InventoryReport_CSV_20161130"},
            "Location": descriptor["Location"],
        },
    )
    s3batch.run(second)

    job = s3batch.job(second)
    assert job.status == "Complete", (job.status_history, job.failure_reasons)
    assert job.total_tasks == s3batch.job(first).total_tasks == 3
    assert (job.succeeded_tasks, job.failed_tasks) == (3, 0)
    assert {
        key for key in s3batch.objects.keys("src") if s3batch.objects.get_tags("src", key)
    } == {"logs/2024/app.log", "logs/2024/notes.txt", "logs/with space.txt"}
    assert s3batch.objects.get_tags("src", "logs/with space.txt") == {"second": "run"}


def test_no_manifest_output_means_no_descriptor(s3batch: S3Batch) -> None:
    put(s3batch, *KEYS)
    s3batch.objects.create_bucket("out")

    job_id = tag_job(s3batch, generator({"KeyNameConstraint": {"MatchAnyPrefix": ["logs/"]}}))

    described = s3control().describe_job(AccountId=ACCOUNT, JobId=job_id)["Job"]
    assert described["Status"] == "Complete"
    assert "GeneratedManifestDescriptor" not in described
    assert s3batch.objects.keys("out") == []


def test_manifest_output_bucket_missing_fails_job(s3batch: S3Batch) -> None:
    put(s3batch, *KEYS)

    job_id = tag_job(
        s3batch, generator({"KeyNameConstraint": {"MatchAnyPrefix": ["logs/"]}}, output=OUTPUT)
    )

    reason = assert_failed(s3batch, job_id)
    assert "generated manifest" in reason.lower()
    assert tagged(s3batch) == set()
    described = s3control().describe_job(AccountId=ACCOUNT, JobId=job_id)["Job"]
    assert "GeneratedManifestDescriptor" not in described


def test_manifest_output_without_location_is_rejected(s3batch: S3Batch) -> None:
    put(s3batch, *KEYS)
    spec = {"SourceBucket": "arn:aws:s3:::src", "EnableManifestOutput": True}

    with pytest.raises(ClientError) as caught:
        create_job(
            s3control(),
            {"S3PutObjectTagging": {"TagSet": [TAG]}},
            ManifestGenerator={"S3JobManifestGenerator": spec},
        )

    error = caught.value.response
    assert error["Error"]["Code"] == "BadRequestException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "ManifestOutputLocation" in error["Error"]["Message"]
    assert s3batch.jobs() == []
