"""Fidelity found by real programs run against the mock (issue 12, item 6).

Each test drives real boto3 clients in-process and checks what a program written for
AWS reads: the ResultMessage of a checksum task as AWS's own checksum-validation
sample reads it, restores of tagged archived objects under moto, and the failure a
plain-CSV inventory data file gets.
"""

from __future__ import annotations

import base64
import csv
import gzip
import hashlib
import io
import json
import zlib
from typing import Any

import boto3
import pytest
from moto import mock_aws

from s3batch_mock import S3Batch, mock_s3batch
from tests.conftest import ACCOUNT, ROLE, describe, s3control

CSV_FORMAT = "S3BatchOperations_CSV_20180820"
INVENTORY = "S3InventoryReport_CSV_20161130"
BODY = b"integrity matters\n"


def _create_job(
    client: Any, operation: dict[str, Any], manifest: dict[str, Any], **extra: Any
) -> str:
    params: dict[str, Any] = {
        "AccountId": ACCOUNT,
        "ConfirmationRequired": False,
        "Operation": operation,
        "Manifest": manifest,
        "Report": {"Enabled": False},
        "Priority": 10,
        "RoleArn": ROLE,
    }
    params.update(extra)
    return str(client.create_job(**params)["JobId"])


def _csv_manifest(bucket: str, key: str, etag: str) -> dict[str, Any]:
    return {
        "Spec": {"Format": CSV_FORMAT, "Fields": ["Bucket", "Key"]},
        "Location": {"ObjectArn": f"arn:aws:s3:::{bucket}/{key}", "ETag": etag},
    }


# --------------------------------------------------------------------------- checksum rows


def _checksum_row(batch: S3Batch, algorithm: str, kind: str) -> list[str]:
    """Run one S3ComputeObjectChecksum task on ``BODY``; its completion report row."""
    batch.objects.put("data", "asset.bin", BODY)
    batch.objects.create_bucket("reports")
    etag = batch.objects.put("manifests", "sums.csv", "data,asset.bin\n")
    client = s3control()
    job_id = _create_job(
        client,
        {"S3ComputeObjectChecksum": {"ChecksumAlgorithm": algorithm, "ChecksumType": kind}},
        _csv_manifest("manifests", "sums.csv", etag),
        Report={
            "Enabled": True,
            "Bucket": "arn:aws:s3:::reports",
            "Format": "Report_CSV_20180820",
            "ReportScope": "AllTasks",
        },
    )
    batch.run(job_id)
    [results] = batch.objects.keys("reports", f"job-{job_id}/results/")
    [row] = csv.reader(io.StringIO(batch.objects.get("reports", results).decode()))
    return row


def _as_aws_sample_reads(row: list[str], algorithm: str) -> dict[str, Any]:
    """What aws-samples/sample-s3-batch-checksum-validation's results processor
    (lambda_functions/checksum_results_processor) takes from one report row."""
    found: dict[str, Any] = {"task_status": row[3].strip()}
    result = json.loads(row[6].strip())
    if (
        found["task_status"].lower() == "succeeded"
        and result.get("checksumAlgorithm") == algorithm
    ):
        found["checksum"] = result.get("checksum_hex")
        found["checksum_base64"] = result.get("checksum_base64")
        found["etag"] = result.get("ETag")
    return found


def test_checksum_result_message_has_the_keys_aws_sample_reads() -> None:
    with mock_s3batch() as batch:
        row = _checksum_row(batch, "SHA256", "FULL_OBJECT")

    digest = hashlib.sha256(BODY).digest()
    assert row[:6] == ["data", "asset.bin", "", "succeeded", "200", ""]
    assert _as_aws_sample_reads(row, "SHA256") == {
        "task_status": "succeeded",
        "checksum": digest.hex(),
        "checksum_base64": base64.b64encode(digest).decode("ascii"),
        "etag": hashlib.md5(BODY, usedforsecurity=False).hexdigest(),
    }


def test_checksum_result_message_layout() -> None:
    """Compact JSON, keys in a fixed order, hex in lower case, the type as requested
    (what an independent report importer checks before it uses a row)."""
    with mock_s3batch() as batch:
        row = _checksum_row(batch, "SHA256", "FULL_OBJECT")

    result = json.loads(row[6])
    assert list(result) == [
        "checksum_base64",
        "checksum_hex",
        "checksumAlgorithm",
        "checksumType",
        "ETag",
    ]
    assert row[6] == json.dumps(result, separators=(",", ":"))
    assert result["checksumType"] == "FULL_OBJECT"
    assert result["checksum_hex"] == result["checksum_hex"].lower()
    assert bytes.fromhex(result["checksum_hex"]) == base64.b64decode(result["checksum_base64"])


def test_composite_checksum_keeps_the_part_count_in_both_forms() -> None:
    with mock_s3batch() as batch:
        row = _checksum_row(batch, "CRC32", "COMPOSITE")

    part = zlib.crc32(BODY).to_bytes(4, "big")
    whole = zlib.crc32(part).to_bytes(4, "big")
    result = json.loads(row[6])
    assert result["checksumType"] == "COMPOSITE"
    assert result["checksumAlgorithm"] == "CRC32"
    assert result["checksum_base64"] == base64.b64encode(whole).decode("ascii") + "-1"
    assert result["checksum_hex"] == whole.hex() + "-1"


# --------------------------------------------------------------------------- tagged archives


@pytest.mark.parametrize("storage_class", ["GLACIER", "DEEP_ARCHIVE"])
def test_restore_of_tagged_archived_objects_under_moto(storage_class: str) -> None:
    """moto refuses GetObjectTagging on an archived object; a restore never needs the
    tags, so the task must not fail for them."""
    with mock_aws(), mock_s3batch() as batch:
        s3: Any = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="cold")
        s3.create_bucket(Bucket="manifests")
        s3.put_object(
            Bucket="cold", Key="tagged.bin", Body=BODY, StorageClass=storage_class, Tagging="k=v"
        )
        s3.put_object(Bucket="cold", Key="plain.bin", Body=BODY, StorageClass=storage_class)
        s3.put_object(Bucket="manifests", Key="m.csv", Body=b"cold,tagged.bin\ncold,plain.bin\n")
        etag = s3.head_object(Bucket="manifests", Key="m.csv")["ETag"]
        client = s3control()
        job_id = _create_job(
            client,
            {"S3InitiateRestoreObject": {"ExpirationInDays": 1}},
            _csv_manifest("manifests", "m.csv", etag),
        )
        batch.run(job_id)
        job = describe(client, job_id)
        restored = s3.head_object(Bucket="cold", Key="tagged.bin").get("Restore", "")
        tags = s3.get_object_tagging(Bucket="cold", Key="tagged.bin")["TagSet"]

    assert job["Status"] == "Complete"
    assert job["ProgressSummary"]["NumberOfTasksSucceeded"] == 2
    assert job["ProgressSummary"]["NumberOfTasksFailed"] == 0
    assert "expiry-date" in restored
    assert tags == [{"Key": "k", "Value": "v"}]


def test_generated_manifest_lists_tagged_archived_objects_under_moto() -> None:
    """A ManifestGenerator lists objects (a HEAD each): a tagged GLACIER object among
    them must not fail the listing, nor its restore."""
    with mock_aws(), mock_s3batch() as batch:
        s3: Any = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="cold")
        s3.put_object(Bucket="cold", Key="a.bin", Body=BODY, StorageClass="GLACIER", Tagging="k=v")
        s3.put_object(Bucket="cold", Key="b.bin", Body=BODY, StorageClass="STANDARD")
        client = s3control()
        job_id = str(
            client.create_job(
                AccountId=ACCOUNT,
                ConfirmationRequired=False,
                Operation={"S3InitiateRestoreObject": {"ExpirationInDays": 1}},
                ManifestGenerator={
                    "S3JobManifestGenerator": {
                        "SourceBucket": "arn:aws:s3:::cold",
                        "EnableManifestOutput": False,
                        "Filter": {"MatchAnyStorageClass": ["GLACIER"]},
                    }
                },
                Report={"Enabled": False},
                Priority=10,
                RoleArn=ROLE,
            )["JobId"]
        )
        batch.run(job_id)
        job = describe(client, job_id)

    assert job["Status"] == "Complete"
    assert job["ProgressSummary"]["TotalNumberOfTasks"] == 1
    assert job["ProgressSummary"]["NumberOfTasksSucceeded"] == 1


# --------------------------------------------------------------------------- inventory data


def _inventory_job(batch: S3Batch, data_key: str, data: bytes) -> tuple[Any, str]:
    batch.objects.put("src", "a.txt", b"a")
    batch.objects.put("inv", data_key, data)
    document = {
        "sourceBucket": "src",
        "destinationBucket": "arn:aws:s3:::inv",
        "version": "2016-11-30",
        "creationTimestamp": "1514944800000",
        "fileFormat": "CSV",
        "fileSchema": "Bucket, Key",
        "files": [{"key": data_key, "size": len(data), "MD5checksum": "0" * 32}],
    }
    etag = batch.objects.put("inv", "src/config/manifest.json", json.dumps(document))
    client = s3control()
    job_id = _create_job(
        client,
        {"S3PutObjectTagging": {"TagSet": [{"Key": "k", "Value": "v"}]}},
        {
            "Spec": {"Format": INVENTORY},
            "Location": {"ObjectArn": "arn:aws:s3:::inv/src/config/manifest.json", "ETag": etag},
        },
    )
    batch.run(job_id)
    return client, job_id


def test_inventory_data_file_that_is_not_gzip_fails_naming_the_requirement() -> None:
    """S3 Inventory writes CSV data files gzip-compressed; a plain one fails the job
    with a reason that says so (not Python's "Not a gzipped file (b'ro')"), while a
    gzip one (here two gzip members) is read whole after the check."""
    with mock_s3batch() as batch:
        client, job_id = _inventory_job(batch, "data/plain.csv", b'"src","a.txt"\n')
        job = describe(client, job_id)

    assert job["Status"] == "Failed"
    [failure] = job["FailureReasons"]
    assert failure["FailureCode"] == "InvalidManifest"
    reason = failure["FailureReason"]
    assert "s3://inv/data/plain.csv" in reason
    assert "gzip-compressed (.csv.gz)" in reason
    assert "S3 Inventory" in reason
    assert "b'" not in reason  # no raw bytes from Python's gzip error

    data = gzip.compress(b'"src","a.txt"\n', mtime=0) + gzip.compress(b'"src","b.txt"\n', mtime=0)
    with mock_s3batch() as batch:
        batch.objects.put("src", "b.txt", b"b")
        client, job_id = _inventory_job(batch, "data/1.csv.gz", data)
        job = describe(client, job_id)
        tags = [batch.objects.get_tags("src", key) for key in ("a.txt", "b.txt")]

    assert job["Status"] == "Complete"
    assert job["ProgressSummary"]["NumberOfTasksSucceeded"] == 2
    assert tags == [{"k": "v"}, {"k": "v"}]
