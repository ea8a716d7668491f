"""The whole flow on moto's S3: objects put with boto3, jobs reading and changing them.

While moto's ``mock_aws`` is active, jobs and ``batch.objects`` use moto's S3, so a
manifest uploaded with ``s3.put_object`` is what the job reads, its effects show in
``s3.get_object_tagging`` and its report is listed by ``s3.list_objects_v2``.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack
from typing import Any

import boto3
import pytest
from moto import mock_aws

from s3batch_mock import S3Batch, current_batch, mock_s3batch
from s3batch_mock.stores import EmbeddedStore
from s3batch_mock.stores._moto import MotoStore
from tests.conftest import ACCOUNT, ROLE, s3control, store_of


def moto_outside() -> ExitStack:
    stack = ExitStack()
    stack.enter_context(mock_aws())
    stack.enter_context(mock_s3batch(progression="manual"))
    return stack


def s3batch_outside() -> ExitStack:
    stack = ExitStack()
    stack.enter_context(mock_s3batch(progression="manual"))
    stack.enter_context(mock_aws())
    return stack


ORDERS: dict[str, Callable[[], AbstractContextManager[Any]]] = {
    "mock_aws outside": moto_outside,
    "mock_s3batch outside": s3batch_outside,
}


@pytest.fixture(params=list(ORDERS), ids=list(ORDERS))
def both(request: pytest.FixtureRequest) -> Iterator[S3Batch]:
    with ORDERS[request.param]():
        yield current_batch()


def upload_job_inputs(s3: Any) -> str:
    """Two photos, a report bucket and a manifest naming them plus one missing key."""
    s3.create_bucket(Bucket="photos")
    s3.create_bucket(Bucket="reports")
    s3.create_bucket(Bucket="manifests")
    s3.put_object(Bucket="photos", Key="a.jpg", Body=b"a")
    s3.put_object(Bucket="photos", Key="b c.jpg", Body=b"bc")
    s3.put_object(
        Bucket="manifests", Key="m.csv", Body=b"photos,a.jpg\nphotos,b%20c.jpg\nphotos,gone.jpg\n"
    )
    return str(s3.head_object(Bucket="manifests", Key="m.csv")["ETag"])  # quoted, as AWS


def create_tagging_job(client: Any, etag: str) -> str:
    return str(
        client.create_job(
            AccountId=ACCOUNT,
            ConfirmationRequired=False,
            Operation={"S3PutObjectTagging": {"TagSet": [{"Key": "done", "Value": "yes"}]}},
            Manifest={
                "Spec": {"Format": "S3BatchOperations_CSV_20180820", "Fields": ["Bucket", "Key"]},
                "Location": {"ObjectArn": "arn:aws:s3:::manifests/m.csv", "ETag": etag},
            },
            Report={
                "Enabled": True,
                "Bucket": "arn:aws:s3:::reports",
                "Format": "Report_CSV_20180820",
                "ReportScope": "AllTasks",
                "Prefix": "batch",
            },
            Priority=1,
            RoleArn=ROLE,
        )["JobId"]
    )


def test_batch_objects_is_motos_s3_while_mock_aws_is_active(both: S3Batch) -> None:
    assert isinstance(store_of(both), MotoStore)
    both.objects.put("made-by-batch", "k.txt", b"hello")
    s3 = boto3.client("s3", region_name="us-east-1")
    assert s3.get_object(Bucket="made-by-batch", Key="k.txt")["Body"].read() == b"hello"


def test_batch_objects_is_the_embedded_store_without_moto() -> None:
    with mock_s3batch() as batch:
        assert isinstance(store_of(batch), EmbeddedStore)


def test_job_reads_moto_objects_and_its_effects_show_in_moto(both: S3Batch) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    etag = upload_job_inputs(s3)
    client = s3control()

    job_id = create_tagging_job(client, etag)
    both.run(job_id)

    job = client.describe_job(AccountId=ACCOUNT, JobId=job_id)["Job"]
    assert job["Status"] == "Complete"
    assert job["ProgressSummary"]["TotalNumberOfTasks"] == 3
    assert job["ProgressSummary"]["NumberOfTasksSucceeded"] == 2
    assert job["ProgressSummary"]["NumberOfTasksFailed"] == 1
    for key in ("a.jpg", "b c.jpg"):
        tags = s3.get_object_tagging(Bucket="photos", Key=key)["TagSet"]
        assert tags == [{"Key": "done", "Value": "yes"}]


def test_report_is_listed_and_read_through_motos_s3(both: S3Batch) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    job_id = create_tagging_job(s3control(), upload_job_inputs(s3))
    both.run(job_id)

    listed = s3.list_objects_v2(Bucket="reports", Prefix=f"batch/job-{job_id}/")
    keys = sorted(item["Key"] for item in listed["Contents"])
    assert keys[0] == f"batch/job-{job_id}/manifest.json"
    assert len(keys) == 3  # manifest.json + a succeeded and a failed results file
    manifest = json.loads(s3.get_object(Bucket="reports", Key=keys[0])["Body"].read())
    rows = {}
    for result in manifest["Results"]:
        body = s3.get_object(Bucket=result["Bucket"], Key=result["Key"])["Body"].read()
        rows[result["TaskExecutionStatus"]] = list(csv.reader(io.StringIO(body.decode())))
    assert sorted(r[1] for r in rows["succeeded"]) == ["a.jpg", "b%20c.jpg"]
    assert rows["failed"] == [["photos", "gone.jpg", "", "failed", "404", "NoSuchKey", ANY_TEXT]]


class _AnyText(str):
    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and bool(other)

    __hash__ = str.__hash__


ANY_TEXT = _AnyText()


def test_missing_manifest_in_moto_fails_the_job(both: S3Batch) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="manifests")
    client = s3control()
    job_id = create_tagging_job(client, '"0123"')
    both.run(job_id)
    job = both.job(job_id)
    assert job.status == "Failed"
    assert job.failure_reasons[0][0] == "NoSuchKey"


def test_stacked_decorators_in_both_orders() -> None:
    seen: list[str] = []

    def body() -> None:
        s3 = boto3.client("s3", region_name="us-east-1")
        job_id = create_tagging_job(s3control(), upload_job_inputs(s3))
        current_batch().run(job_id)
        seen.append(current_batch().job(job_id).status)

    mock_aws(mock_s3batch(body))()
    mock_s3batch(mock_aws(body))()
    assert seen == ["Complete", "Complete"]
