"""``python -m s3batch_mock demo``: a whole job lifecycle on the embedded store."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import boto3

from ._mock import mock_s3batch

ACCOUNT = "123456789012"


def demo() -> int:
    """Create a manifest, a job that needs confirmation, confirm it, poll it to Complete."""
    with mock_s3batch() as batch:
        keys = ["photos/2024/beach.jpg", "photos/2024/city night.jpg", "photos/2025/snow.jpg"]
        for key in keys:
            batch.objects.put("media-bucket", key, b"\xff\xd8 not really a jpeg")
        # Manifest keys are URL-encoded, one "bucket,key" row per object.
        manifest = "".join(f"media-bucket,{quote(key)}\n" for key in keys)
        etag = batch.objects.put("manifests", "jobs/retag.csv", manifest)
        print(f"Manifest s3://manifests/jobs/retag.csv ({len(keys)} objects, ETag {etag})")

        client: Any = boto3.client("s3control", region_name="us-east-1")
        job_id = client.create_job(
            AccountId=ACCOUNT,
            Operation={"S3PutObjectTagging": {"TagSet": [{"Key": "reviewed", "Value": "yes"}]}},
            Manifest={
                "Spec": {"Format": "S3BatchOperations_CSV_20180820", "Fields": ["Bucket", "Key"]},
                "Location": {"ObjectArn": "arn:aws:s3:::manifests/jobs/retag.csv", "ETag": etag},
            },
            Report={"Enabled": False},
            Priority=10,
            RoleArn=f"arn:aws:iam::{ACCOUNT}:role/batch-operations",
            Description="Tag reviewed photos",
        )["JobId"]
        print(f"CreateJob -> {job_id}")

        status = _poll(client, job_id)
        if status == "Suspended":
            response = client.update_job_status(
                AccountId=ACCOUNT,
                JobId=job_id,
                RequestedJobStatus="Ready",
                StatusUpdateReason="Confirmed by the demo",
            )
            print(f"UpdateJobStatus Ready -> {response['Status']}")
            status = _poll(client, job_id)

        job = batch.job(job_id)
        print(f"Done: {status}; history {' -> '.join(job.status_history)}")
        for key in keys:
            print(f"  s3://media-bucket/{key} tags {batch.objects.get_tags('media-bucket', key)}")
        return 0 if status == "Complete" else 1


def _poll(client: Any, job_id: str) -> str:
    """DescribeJob until the job rests; prints each status it sees."""
    while True:
        job = client.describe_job(AccountId=ACCOUNT, JobId=job_id)["Job"]
        done = job["ProgressSummary"]
        print(
            f"  DescribeJob: {job['Status']:<10} tasks {done['NumberOfTasksSucceeded']}"
            f"/{done['TotalNumberOfTasks']} succeeded, {done['NumberOfTasksFailed']} failed"
        )
        if job["Status"] in ("Suspended", "Complete", "Failed", "Cancelled"):
            return str(job["Status"])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m s3batch_mock")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="run a whole S3 Batch job lifecycle in-process")
    parser.parse_args(argv)
    return demo()


if __name__ == "__main__":
    sys.exit(main())
