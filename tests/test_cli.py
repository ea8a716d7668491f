"""The AWS CLI v1 in-process (issue #5): ``awscli.clidriver`` commands run inside an
active mock share its state, and the documented ``aws s3control`` examples print what
AWS prints (awscli's ``examples/s3control/*.rst``; aws-semantics 3.4, 3.5, 4.4-4.6 and
appendix B).

About the documented outputs: they were produced in 2019 by a CLI that printed dicts in
hash order, so their key order means nothing. awscli v1 prints botocore's parsed
response with ``json.dumps(indent=4, ensure_ascii=False)`` plus a newline, and the
parser builds each dict in the model's member order, whatever order the server used.
So the tests compare the parsed JSON with the examples, and check the text against
that format and the model's order, never against the examples' order. Timestamps are
printed as they came over the wire (awscli v1's default ``cli_timestamp_format``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Iterator
from typing import Any
from unittest import mock

import boto3
import botocore.session
import pytest
import time_machine
from awscli.clidriver import create_clidriver  # type: ignore[import-untyped]

from s3batch_mock import S3Batch, mock_s3batch
from tests.conftest import ACCOUNT, describe, s3control

#: Slow: the AWS CLI's driver, in-process.
pytestmark = pytest.mark.slow

REGION = "us-west-2"  # the example's JobArn is in us-west-2
ROLE = f"arn:aws:iam::{ACCOUNT}:role/S3BatchJobRole"
OPERATION = {"S3PutObjectTagging": {"TagSet": [{"Key": "confidential", "Value": "true"}]}}
REPORT = {
    "Bucket": "arn:aws:s3:::employee-records-logs",
    "Prefix": "batch-op-create-job",
    "Format": "Report_CSV_20180820",
    "Enabled": True,
    "ReportScope": "AllTasks",
}
MANIFEST_BUCKET = "employee-records-logs"
MANIFEST_KEY = "inv-report/7a6a9be4-072c-407e-85a2-ec3e982f773e.csv"
MANIFEST_ARN = f"arn:aws:s3:::{MANIFEST_BUCKET}/{MANIFEST_KEY}"
# The example's ETag: not the MD5 of any manifest these tests store, so a job given it
# fails in Preparing (the ETag no longer matches), like the example's Failed job.
EXAMPLE_ETAG = "69f52a4e9f797e987155d9c8f5880897"
DATA_BUCKET = "employee-records"
KEYS = [f"employee-{n}.json" for n in range(8)]  # the example's job has 8 tasks

FAILED_CREATED = dt.datetime(2019, 10, 3, 21, 46, 7, 84000, tzinfo=dt.UTC)
CREATED = dt.datetime(2019, 10, 3, 21, 48, 48, 48000, tzinfo=dt.UTC)
TERMINATED = dt.datetime(2019, 10, 3, 21, 49, 53, 944000, tzinfo=dt.UTC)

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
AWS_CLI_CLIENT_ERROR = 255  # awscli v1 exits 255 on any error (v2 uses 254 for ClientError)
CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")

S3CONTROL = botocore.session.get_session().get_service_model("s3control")


# --------------------------------------------------------------------------- helpers


@pytest.fixture(autouse=True)
def _region(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI's region comes from the environment; conftest hides every config file."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)


class CLI:
    """``aws ...`` in-process, with its output captured by pytest's ``capsys``."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self._capsys = capsys

    def __call__(self, *args: str) -> tuple[int, Any, str, str]:
        """Run one command; returns (exit code, parsed JSON or None, stdout, stderr).

        Every JSON output (the default) is also checked for awscli's exact text format.
        """
        self._capsys.readouterr()  # drop anything printed before
        rc = create_clidriver().main(list(args))
        out, err = self._capsys.readouterr()
        if not out or "--output" in args:
            return rc, None, out, err
        parsed = json.loads(out)
        assert out == json.dumps(parsed, indent=4, ensure_ascii=False) + "\n"
        return rc, parsed, out, err

    def ok(self, *args: str) -> Any:
        """Run an ``s3control`` command that must succeed; returns the parsed output."""
        rc, parsed, _, err = self("s3control", *args, "--account-id", ACCOUNT)
        assert (rc, err) == (0, "")
        return parsed

    def fails(self, *args: str) -> str:
        """Run an ``s3control`` command that must fail; returns its stderr."""
        rc, parsed, out, err = self("s3control", *args, "--account-id", ACCOUNT)
        assert (rc, parsed, out) == (AWS_CLI_CLIENT_ERROR, None, "")
        return err


@pytest.fixture
def aws(capsys: pytest.CaptureFixture[str]) -> CLI:
    return CLI(capsys)


@pytest.fixture
def batch() -> Iterator[S3Batch]:
    with mock_s3batch() as controller:
        yield controller


def assert_model_order(value: Any, shape: Any) -> None:
    """Every dict in ``value`` has its keys in ``shape``'s member order (botocore's parser)."""
    if shape.type_name == "structure":
        assert list(value) == [name for name in shape.members if name in value]
        for name, member in value.items():
            assert_model_order(member, shape.members[name])
    elif shape.type_name == "list":
        for item in value:
            assert_model_order(item, shape.member)


def output_shape(operation: str) -> Any:
    return S3CONTROL.operation_model(operation).output_shape


def put_example_manifest(batch: S3Batch) -> str:
    """The 8 objects and the CSV manifest listing them; returns the manifest's ETag."""
    for key in KEYS:
        batch.objects.put(DATA_BUCKET, key, b"{}")
    rows = "".join(f"{DATA_BUCKET},{key}\n" for key in KEYS)
    return batch.objects.put(MANIFEST_BUCKET, MANIFEST_KEY, rows)


def manifest(etag: str) -> dict[str, Any]:
    return {
        "Spec": {"Format": "S3BatchOperations_CSV_20180820", "Fields": ["Bucket", "Key"]},
        "Location": {"ObjectArn": MANIFEST_ARN, "ETag": etag},
    }


def create_job_args(etag: str, *extra: str) -> tuple[str, ...]:
    """The documented ``create-job`` command (create-job.rst), with ``etag``."""
    return (
        "create-job",
        "--operation",
        '{"S3PutObjectTagging": { "TagSet": [{"Key":"confidential", "Value":"true"}] }}',
        "--report",
        '{"Bucket":"arn:aws:s3:::employee-records-logs","Prefix":"batch-op-create-job", '
        '"Format":"Report_CSV_20180820","Enabled":true,"ReportScope":"AllTasks"}',
        "--manifest",
        json.dumps(manifest(etag)),
        "--priority",
        "42",
        "--role-arn",
        ROLE,
        *extra,
    )


def create_job(aws: CLI, etag: str, *extra: str) -> str:
    created = aws.ok(*create_job_args(etag, *extra))
    return str(created["JobId"])


def suspended_job(aws: CLI, batch: S3Batch) -> str:
    """A job created by the documented command, now awaiting confirmation."""
    job_id = create_job(aws, put_example_manifest(batch))
    batch.run(job_id)
    assert batch.job(job_id).status == "Suspended"
    return job_id


# --------------------------------------------------------------------------- the examples


def test_create_job_prints_only_the_job_id(aws: CLI, batch: S3Batch) -> None:
    etag = put_example_manifest(batch)

    rc, created, out, err = aws("s3control", *create_job_args(etag), "--account-id", ACCOUNT)

    assert (rc, err) == (0, "")
    job_id = created["JobId"]
    assert created == {"JobId": job_id}
    assert out == f'{{\n    "JobId": "{job_id}"\n}}\n'
    assert UUID.match(job_id)
    [job] = batch.jobs()
    assert (job.job_id, job.account_id, job.region) == (job_id, ACCOUNT, REGION)
    assert (job.status, job.priority, job.operation) == ("New", 42, "S3PutObjectTagging")
    assert job.request["RoleArn"] == ROLE
    assert job.request["Operation"] == OPERATION
    assert job.request["Report"] == REPORT
    assert job.request["Manifest"] == manifest(etag)
    # The CLI fills in the idempotency token, as botocore does for boto3.
    [call] = batch.calls
    assert UUID.match(call.params["ClientRequestToken"])


def test_describe_job_prints_the_completed_example_job(aws: CLI) -> None:
    with time_machine.travel(CREATED, tick=False) as traveller, mock_s3batch() as batch:
        etag = put_example_manifest(batch)
        # The example's job never waited for confirmation (no SuspendedDate, Complete
        # 66 s after its creation), so it is created with --no-confirmation-required:
        # the mock suspends a job whose ConfirmationRequired was left out, as AWS does
        # (aws-semantics 3.3).
        job_id = create_job(aws, etag, "--no-confirmation-required")

        # Poll as a script would; in "poll" mode each describe-job moves the job a step.
        seen: list[str] = []
        while not seen or seen[-1] not in ("Complete", "Failed"):
            if seen and seen[-1] == "Completing":
                traveller.move_to(TERMINATED)
            seen.append(aws.ok("describe-job", "--job-id", job_id)["Job"]["Status"])
        assert seen == ["Preparing", "Ready", "Active", "Completing", "Complete"]

        rc, described, out, err = aws(
            "s3control", "describe-job", "--account-id", ACCOUNT, "--job-id", job_id
        )
        for key in KEYS:
            assert batch.objects.get_tags(DATA_BUCKET, key) == {"confidential": "true"}

    # describe-job.rst, with this job's JobId, JobArn and manifest ETag.
    example: dict[str, Any] = {
        "Job": {
            "TerminationDate": "2019-10-03T21:49:53.944Z",
            "JobId": job_id,
            "FailureReasons": [],
            "Manifest": manifest(etag),
            "Operation": OPERATION,
            "RoleArn": ROLE,
            "ProgressSummary": {
                "TotalNumberOfTasks": 8,
                "NumberOfTasksFailed": 0,
                "NumberOfTasksSucceeded": 8,
            },
            "Priority": 42,
            "Report": REPORT,
            "JobArn": f"arn:aws:s3:us-west-2:{ACCOUNT}:job/{job_id}",
            "CreationTime": "2019-10-03T21:48:48.048Z",
            "Status": "Complete",
        }
    }
    # Two members the 2019 output does not show: ConfirmationRequired, which echoes
    # what this request sent (the example's request sent nothing), and
    # ProgressSummary.Timers, which joined the model after 2019.
    example["Job"]["ConfirmationRequired"] = False
    example["Job"]["ProgressSummary"]["Timers"] = {"ElapsedTimeInActiveSeconds": 0}
    assert (rc, err) == (0, "")
    assert described == example
    assert_model_order(described, output_shape("DescribeJob"))
    assert '\n        "FailureReasons": [],\n' in out


def list_example_jobs(aws: CLI) -> tuple[dict[str, Any], str, str]:
    """The two jobs of list-jobs.rst: a Failed one, then a Complete one 2 m 41 s later.

    Returns the list-jobs output and the two JobIds (failed, complete).
    """
    with time_machine.travel(FAILED_CREATED, tick=False) as traveller, mock_s3batch() as batch:
        etag = put_example_manifest(batch)
        failed = create_job(aws, EXAMPLE_ETAG, "--no-confirmation-required")
        batch.run(failed)
        assert batch.job(failed).status_history == ["New", "Preparing", "Failing", "Failed"]
        assert batch.job(failed).failure_reasons  # the ETag does not match the manifest

        traveller.move_to(CREATED)
        complete = create_job(aws, etag, "--no-confirmation-required")
        batch.run(complete)
        assert batch.job(complete).status == "Complete"

        listed = aws.ok("list-jobs")
    return listed, failed, complete


def test_list_jobs_prints_newest_first_with_the_failed_job(aws: CLI) -> None:
    listed, failed, complete = list_example_jobs(aws)

    # list-jobs.rst, plus ProgressSummary.Timers (a model member added after 2019).
    # TerminationDate is left out of this comparison: see the next test.
    timers = {"Timers": {"ElapsedTimeInActiveSeconds": 0}}
    example = {
        "Jobs": [
            {
                "Operation": "S3PutObjectTagging",
                "ProgressSummary": {
                    "NumberOfTasksFailed": 0,
                    "NumberOfTasksSucceeded": 8,
                    "TotalNumberOfTasks": 8,
                    **timers,
                },
                "CreationTime": "2019-10-03T21:48:48.048Z",
                "Status": "Complete",
                "JobId": complete,
                "Priority": 42,
            },
            {
                "Operation": "S3PutObjectTagging",
                "ProgressSummary": {
                    "NumberOfTasksFailed": 0,
                    "NumberOfTasksSucceeded": 0,
                    "TotalNumberOfTasks": 0,
                    **timers,
                },
                "CreationTime": "2019-10-03T21:46:07.084Z",
                "Status": "Failed",
                "JobId": failed,
                "Priority": 42,
            },
        ]
    }
    assert listed == example
    assert_model_order(listed, output_shape("ListJobs"))


def test_list_jobs_shows_no_termination_date_like_the_example(aws: CLI) -> None:
    listed, _, _ = list_example_jobs(aws)

    assert [sorted(entry) for entry in listed["Jobs"]] == [
        ["CreationTime", "JobId", "Operation", "Priority", "ProgressSummary", "Status"]
    ] * 2


def test_update_job_priority_prints_the_job_id_and_the_new_priority(
    aws: CLI, batch: S3Batch
) -> None:
    job_id = suspended_job(aws, batch)

    rc, updated, out, err = aws(
        "s3control",
        "update-job-priority",
        "--account-id",
        ACCOUNT,
        "--job-id",
        job_id,
        "--priority",
        "52",
    )

    assert (rc, err) == (0, "")
    assert updated == {"JobId": job_id, "Priority": 52}
    assert out == f'{{\n    "JobId": "{job_id}",\n    "Priority": 52\n}}\n'
    assert batch.job(job_id).priority == 52
    assert aws.ok("describe-job", "--job-id", job_id)["Job"]["Priority"] == 52


def test_update_job_status_cancels_a_job_awaiting_confirmation(aws: CLI, batch: S3Batch) -> None:
    job_id = suspended_job(aws, batch)

    rc, updated, out, err = aws(
        "s3control",
        "update-job-status",
        "--account-id",
        ACCOUNT,
        "--job-id",
        job_id,
        "--requested-job-status",
        "Cancelled",
    )

    # update-job-status.rst, example 1. The example prints Status first; botocore's
    # parser (UpdateJobStatusResult member order) puts JobId first.
    assert (rc, err) == (0, "")
    assert updated == {"Status": "Cancelled", "JobId": job_id}
    assert out == f'{{\n    "JobId": "{job_id}",\n    "Status": "Cancelled"\n}}\n'
    assert batch.job(job_id).status == "Cancelled"
    assert batch.job(job_id).termination_date is not None


def test_update_job_status_confirms_a_job_awaiting_confirmation(aws: CLI, batch: S3Batch) -> None:
    job_id = suspended_job(aws, batch)

    updated = aws.ok("update-job-status", "--job-id", job_id, "--requested-job-status", "Ready")

    assert updated == {"Status": "Ready", "JobId": job_id}  # example 2
    assert_model_order(updated, output_shape("UpdateJobStatus"))
    batch.run(job_id)
    assert batch.job(job_id).status == "Complete"
    assert batch.job(job_id).succeeded_tasks == 8


def test_update_job_status_cancels_a_running_job(aws: CLI, batch: S3Batch) -> None:
    job_id = suspended_job(aws, batch)
    aws.ok("update-job-status", "--job-id", job_id, "--requested-job-status", "Ready")
    assert batch.step(job_id) == "Active"

    updated = aws.ok(
        "update-job-status", "--job-id", job_id, "--requested-job-status", "Cancelled"
    )

    assert updated == {"Status": "Cancelling", "JobId": job_id}  # example 3
    assert_model_order(updated, output_shape("UpdateJobStatus"))
    # Cancelled follows by itself: the next describe-job ("poll" mode) sees it.
    assert aws.ok("describe-job", "--job-id", job_id)["Job"]["Status"] == "Cancelled"
    assert batch.job(job_id).status_history[-2:] == ["Cancelling", "Cancelled"]


def test_update_job_status_reason_is_printed_and_stored(aws: CLI, batch: S3Batch) -> None:
    job_id = suspended_job(aws, batch)

    updated = aws.ok(
        "update-job-status",
        "--job-id",
        job_id,
        "--requested-job-status",
        "Cancelled",
        "--status-update-reason",
        "wrong tag set",
    )

    assert updated == {
        "JobId": job_id,
        "Status": "Cancelled",
        "StatusUpdateReason": "wrong tag set",
    }
    assert batch.job(job_id).status_update_reason == "wrong tag set"


# --------------------------------------------------------------------------- errors


def test_describe_job_of_an_unknown_job_is_not_found(aws: CLI, batch: S3Batch) -> None:
    err = aws.fails("describe-job", "--job-id", "93735294-df46-44d5-8638-6356f335324e")

    assert err.startswith(
        "\nAn error occurred (NotFoundException) when calling the DescribeJob operation: "
        "The specified job does not exist"
    )
    assert err.endswith("\n")
    assert batch.calls[-1].error_code == "NotFoundException"


def test_confirming_a_complete_job_is_a_job_status_error(aws: CLI, batch: S3Batch) -> None:
    job_id = create_job(aws, put_example_manifest(batch), "--no-confirmation-required")
    batch.run(job_id)

    err = aws.fails("update-job-status", "--job-id", job_id, "--requested-job-status", "Ready")

    assert err.startswith(
        "\nAn error occurred (JobStatusException) when calling the UpdateJobStatus operation: "
    )
    assert batch.job(job_id).status == "Complete"


def test_priority_above_the_maximum_is_rejected_by_the_mock(aws: CLI, batch: S3Batch) -> None:
    job_id = suspended_job(aws, batch)

    # botocore checks only the minimum of a range, so 2**31 reaches the server.
    err = aws.fails("update-job-priority", "--job-id", job_id, "--priority", "2147483648")

    assert err.startswith(
        "\nAn error occurred (BadRequestException) when calling the UpdateJobPriority "
        "operation: Priority"
    )
    last = batch.calls[-1]
    assert (last.operation, last.params["Priority"], last.error_code) == (
        "UpdateJobPriority",
        2147483648,
        "BadRequestException",
    )
    assert batch.job(job_id).priority == 42


def test_negative_priority_never_leaves_the_cli(aws: CLI, batch: S3Batch) -> None:
    job_id = suspended_job(aws, batch)
    calls = len(batch.calls)

    err = aws.fails("update-job-priority", "--job-id", job_id, "--priority", "-1")

    assert err == (
        "\nParameter validation failed:\n"
        "Invalid value for parameter Priority, value: -1, valid min value: 0\n"
    )
    assert len(batch.calls) == calls
    assert batch.job(job_id).priority == 42


def test_job_id_outside_the_pattern_is_a_bad_request(aws: CLI, batch: S3Batch) -> None:
    # Long enough for botocore's length check, so only the server sees the pattern.
    err = aws.fails("describe-job", "--job-id", "not a job!")

    assert err.startswith(
        "\nAn error occurred (BadRequestException) when calling the DescribeJob operation: JobId"
    )
    assert batch.calls[-1].error_code == "BadRequestException"


# --------------------------------------------------------------------------- shared state


def test_a_job_created_with_boto3_is_listed_by_the_cli(aws: CLI, batch: S3Batch) -> None:
    client = s3control(REGION)
    etag = put_example_manifest(batch)
    job_id = client.create_job(
        AccountId=ACCOUNT,
        Operation=OPERATION,
        Report={"Enabled": False},
        Manifest=manifest(etag),
        Priority=7,
        RoleArn=ROLE,
        Description="from boto3",
    )["JobId"]

    listed = aws.ok("list-jobs")

    [entry] = listed["Jobs"]
    assert (entry["JobId"], entry["Description"], entry["Priority"]) == (job_id, "from boto3", 7)
    assert aws.ok("describe-job", "--job-id", job_id)["Job"]["Description"] == "from boto3"


def test_a_job_created_with_the_cli_is_seen_by_the_controller_and_boto3(
    aws: CLI, batch: S3Batch
) -> None:
    job_id = create_job(aws, put_example_manifest(batch), "--description", "from the CLI")

    assert [job.job_id for job in batch.jobs()] == [job_id]
    job = describe(s3control(REGION), job_id)
    assert (job["Description"], job["Priority"], job["RoleArn"]) == ("from the CLI", 42, ROLE)
    s3control(REGION).update_job_priority(AccountId=ACCOUNT, JobId=job_id, Priority=60)
    assert aws.ok("describe-job", "--job-id", job_id)["Job"]["Priority"] == 60


def test_the_cli_sees_only_its_region(aws: CLI, batch: S3Batch) -> None:
    job_id = create_job(aws, put_example_manifest(batch), "--region", "us-east-1")

    assert batch.job(job_id).region == "us-east-1"
    assert aws.ok("list-jobs") == {"Jobs": []}
    assert [entry["JobId"] for entry in aws.ok("list-jobs", "--region", "us-east-1")["Jobs"]] == [
        job_id
    ]


def test_job_tagging_round_trips_between_the_cli_and_boto3(aws: CLI, batch: S3Batch) -> None:
    client = s3control(REGION)
    job_id = create_job(aws, put_example_manifest(batch), "--tags", "Key=team,Value=hr")
    assert aws.ok("get-job-tagging", "--job-id", job_id) == {
        "Tags": [{"Key": "team", "Value": "hr"}]
    }

    # put-job-tagging and delete-job-tagging answer an empty body: the CLI prints nothing.
    rc, parsed, out, err = aws(
        "s3control",
        "put-job-tagging",
        "--account-id",
        ACCOUNT,
        "--job-id",
        job_id,
        "--tags",
        "Key=confidential,Value=true",
        "Key=owner,Value=records",
    )
    assert (rc, parsed, out, err) == (0, None, "", "")
    assert client.get_job_tagging(AccountId=ACCOUNT, JobId=job_id)["Tags"] == [
        {"Key": "confidential", "Value": "true"},
        {"Key": "owner", "Value": "records"},
    ]

    client.put_job_tagging(AccountId=ACCOUNT, JobId=job_id, Tags=[{"Key": "k", "Value": "v"}])
    tagging = aws.ok("get-job-tagging", "--job-id", job_id)
    assert tagging == {"Tags": [{"Key": "k", "Value": "v"}]}
    assert_model_order(tagging, output_shape("GetJobTagging"))

    assert aws.ok("delete-job-tagging", "--job-id", job_id) is None
    assert batch.job(job_id).tags == {}
    assert aws.ok("get-job-tagging", "--job-id", job_id) == {"Tags": []}


def test_query_and_text_output_work_as_in_a_shell_script(aws: CLI, batch: S3Batch) -> None:
    job_id = suspended_job(aws, batch)

    rc, _, out, err = aws(
        "s3control",
        "describe-job",
        "--account-id",
        ACCOUNT,
        "--job-id",
        job_id,
        "--query",
        "Job.[Status, Priority]",
        "--output",
        "text",
    )

    assert (rc, out, err) == (0, "Suspended\t42\n", "")


# --------------------------------------------------------------------------- credentials


def test_no_credentials_are_needed(aws: CLI) -> None:
    # conftest hides every credential and config file; nothing else is set up here.
    assert not any(name in os.environ for name in CREDENTIAL_VARIABLES)
    assert boto3.Session().get_credentials() is None

    # Even without the fake credentials the mock lends, the CLI works: its s3control
    # requests are left unsigned.
    with mock_s3batch() as batch, mock.patch.dict(os.environ):
        for name in CREDENTIAL_VARIABLES:
            os.environ.pop(name, None)
        job_id = create_job(aws, put_example_manifest(batch))
        assert aws.ok("list-jobs")["Jobs"][0]["JobId"] == job_id

    assert not any(name in os.environ for name in CREDENTIAL_VARIABLES)
