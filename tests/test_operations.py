"""The eight job operations, driven through real boto3 clients as users drive them.

Each test states one behaviour of CreateJob, DescribeJob, ListJobs, UpdateJobStatus,
UpdateJobPriority or Get/Put/DeleteJobTagging (aws-semantics.md sections 1-4, design
section 5). Server-side input validation lives in ``test_validation.py``.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any

import pytest
from botocore.validate import ParamValidator
from freezegun import freeze_time

from s3batch_mock import S3Batch, mock_s3batch
from tests.conftest import ACCOUNT, ROLE, csv_manifest_job, s3control

UTC = datetime.UTC
OTHER_ACCOUNT = "210987654321"
MAX_PRIORITY = 2147483647

manual = pytest.mark.s3batch(progression="manual")


# --------------------------------------------------------------------------- helpers


def _manifest(batch: S3Batch) -> str:
    """Store two objects and the CSV manifest ``csv_manifest_job`` points at; returns its ETag."""
    batch.objects.put("data", "a.txt", b"a")
    batch.objects.put("data", "b.txt", b"b")
    return batch.objects.put("manifests", "manifest.csv", b"data,a.txt\ndata,b.txt\n")


def _job(batch: S3Batch, client: Any = None, **overrides: Any) -> str:
    """A tagging job over a two-row manifest; returns its id."""
    return csv_manifest_job(client or s3control(), _manifest(batch), **overrides)


def _error(excinfo: pytest.ExceptionInfo[Any]) -> tuple[str, int, str]:
    """(code, HTTP status, message) of a botocore ClientError."""
    response = excinfo.value.response
    return (
        response["Error"]["Code"],
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Message"],
    )


def _describe(client: Any, job_id: str, account: str = ACCOUNT) -> dict[str, Any]:
    job: dict[str, Any] = client.describe_job(AccountId=account, JobId=job_id)["Job"]
    return job


def _advance_to(batch: S3Batch, job_id: str, status: str) -> None:
    """Step a job (manual progression) until it has ``status``."""
    for _ in range(10):
        if batch.job(job_id).status == status:
            return
        batch.step(job_id)
    raise AssertionError(f"job never reached {status}: {batch.job(job_id).status_history}")


def _job_in(batch: S3Batch, client: Any, status: str) -> str:
    """A job placed in ``status`` (manual progression)."""
    if status == "Failed":  # the manifest does not exist: Preparing -> Failing -> Failed
        job_id = csv_manifest_job(client, "0" * 32, key="missing.csv")
        _advance_to(batch, job_id, "Failed")
        return job_id
    if status in ("Suspended", "Cancelled"):
        job_id = _job(batch, client)
        _advance_to(batch, job_id, "Suspended")
        if status == "Cancelled":
            client.update_job_status(
                AccountId=ACCOUNT, JobId=job_id, RequestedJobStatus="Cancelled"
            )
        return job_id
    job_id = _job(batch, client, ConfirmationRequired=False)
    if status == "Cancelling":
        _advance_to(batch, job_id, "Active")
        client.update_job_status(AccountId=ACCOUNT, JobId=job_id, RequestedJobStatus="Cancelled")
    else:
        _advance_to(batch, job_id, status)
    assert batch.job(job_id).status == status
    return job_id


def _list_ids(client: Any, **kwargs: Any) -> list[str]:
    return [j["JobId"] for j in client.list_jobs(AccountId=ACCOUNT, **kwargs)["Jobs"]]


FULL_COPY = {
    "S3PutObjectCopy": {
        "TargetResource": "arn:aws:s3:::copy-target",
        "CannedAccessControlList": "bucket-owner-full-control",
        "AccessControlGrants": [
            {
                "Grantee": {
                    "TypeIdentifier": "id",
                    "Identifier": "79a59df900b949e55d96a1e698fbaced",
                    "DisplayName": "owner",
                },
                "Permission": "READ",
            }
        ],
        "MetadataDirective": "REPLACE",
        "ModifiedSinceConstraint": datetime.datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC),
        "NewObjectMetadata": {
            "CacheControl": "no-cache",
            "ContentType": "text/plain",
            "UserMetadata": {"team": "data", "stage": "prod"},
            "SSEAlgorithm": "KMS",
        },
        "NewObjectTagging": [{"Key": "copied", "Value": "yes"}],
        "StorageClass": "STANDARD_IA",
        "TargetKeyPrefix": "copies/",
        "ObjectLockLegalHoldStatus": "OFF",
        "ObjectLockMode": "GOVERNANCE",
        "ObjectLockRetainUntilDate": datetime.datetime(2031, 6, 7, 8, 9, 10, tzinfo=UTC),
        "BucketKeyEnabled": True,
        "ChecksumAlgorithm": "SHA256",
    }
}

LAMBDA = {
    "LambdaInvoke": {
        "FunctionArn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:process",
        "InvocationSchemaVersion": "2.0",
        "UserArguments": {"mode": "fast", "limit": "10"},
    }
}

REPORT = {
    "Bucket": "arn:aws:s3:::reports",
    "Format": "Report_CSV_20180820",
    "Enabled": True,
    "Prefix": "batch",
    "ReportScope": "FailedTasksOnly",
}

GENERATOR = {
    "S3JobManifestGenerator": {
        "ExpectedBucketOwner": ACCOUNT,
        "SourceBucket": "arn:aws:s3:::source",
        "EnableManifestOutput": True,
        "ManifestOutputLocation": {
            "ExpectedManifestBucketOwner": ACCOUNT,
            "Bucket": "arn:aws:s3:::generated",
            "ManifestPrefix": "manifests",
            "ManifestEncryption": {"SSES3": {}},
            "ManifestFormat": "S3InventoryReport_CSV_20211130",
        },
        "Filter": {
            "CreatedAfter": datetime.datetime(2020, 1, 1, tzinfo=UTC),
            "KeyNameConstraint": {"MatchAnyPrefix": ["data/"]},
            "MatchAnyObjectEncryption": [{"SSES3": {}}],
        },
    }
}


# --------------------------------------------------------------------------- CreateJob


def test_create_job_returns_a_lowercase_uuid4(s3batch: S3Batch) -> None:
    job_id = _job(s3batch)

    parsed = uuid.UUID(job_id)
    assert parsed.version == 4
    assert str(parsed) == job_id  # canonical form: lowercase, hyphenated
    assert [j.job_id for j in s3batch.jobs()] == [job_id]


def test_create_job_ids_are_unique(s3batch: S3Batch) -> None:
    ids = {_job(s3batch) for _ in range(3)}
    assert len(ids) == 3


@manual
def test_describe_job_echoes_arn_and_scalars(s3batch: S3Batch) -> None:
    client = s3control("eu-west-1")
    job_id = _job(s3batch, client, Description="nightly retag", Priority=42)

    job = _describe(client, job_id)

    assert job["JobId"] == job_id
    assert job["JobArn"] == f"arn:aws:s3:eu-west-1:{ACCOUNT}:job/{job_id}"
    assert job["Description"] == "nightly retag"
    assert job["Priority"] == 42
    assert job["RoleArn"] == ROLE
    assert job["Status"] == "New"


def test_describe_job_creation_time_is_tz_aware_and_now(s3batch: S3Batch) -> None:
    before = datetime.datetime.now(UTC)
    job_id = _job(s3batch)
    after = datetime.datetime.now(UTC)

    created = _describe(s3control(), job_id)["CreationTime"]

    assert created.tzinfo is not None
    # The wire carries milliseconds, so allow the truncation below `before`.
    assert before - datetime.timedelta(milliseconds=1) <= created <= after


@manual
def test_describe_job_echoes_manifest_full_copy_operation_and_report(s3batch: S3Batch) -> None:
    client = s3control()
    etag = _manifest(s3batch)
    manifest = {
        "Spec": {"Format": "S3BatchOperations_CSV_20180820", "Fields": ["Bucket", "Key"]},
        "Location": {
            "ObjectArn": "arn:aws:s3:::manifests/manifest.csv",
            "ObjectVersionId": "v1",
            "ETag": etag,
        },
    }
    job_id = csv_manifest_job(client, etag, Manifest=manifest, Operation=FULL_COPY, Report=REPORT)

    job = _describe(client, job_id)

    assert job["Manifest"] == manifest
    assert job["Operation"] == FULL_COPY
    assert job["Report"] == REPORT


@manual
def test_describe_job_echoes_lambda_invoke_with_user_arguments(s3batch: S3Batch) -> None:
    client = s3control()
    job_id = _job(s3batch, client, Operation=LAMBDA)

    job = _describe(client, job_id)

    assert job["Operation"] == LAMBDA
    assert s3batch.job(job_id).operation == "LambdaInvoke"


@manual
def test_describe_job_echoes_manifest_generator(s3batch: S3Batch) -> None:
    client = s3control()
    s3batch.objects.put("source", "data/a.txt", b"a")
    s3batch.objects.put("source", "other/b.txt", b"b")
    job_id = client.create_job(
        AccountId=ACCOUNT,
        Operation={"S3DeleteObjectTagging": {}},
        Report={"Enabled": False},
        ManifestGenerator=GENERATOR,
        Priority=5,
        RoleArn=ROLE,
    )["JobId"]

    job = _describe(client, job_id)

    assert job["ManifestGenerator"] == GENERATOR
    assert "Manifest" not in job
    assert job["Operation"] == {"S3DeleteObjectTagging": {}}


@manual
def test_describe_job_omits_members_without_value(s3batch: S3Batch) -> None:
    client = s3control()
    job_id = _job(s3batch, client)

    job = _describe(client, job_id)

    for absent in ("Description", "TerminationDate", "StatusUpdateReason", "ManifestGenerator"):
        assert absent not in job, absent
    assert job["FailureReasons"] == []


def test_confirmation_required_defaults_to_true(s3batch: S3Batch) -> None:
    client = s3control()
    job_id = _job(s3batch, client)

    assert _describe(client, job_id)["ConfirmationRequired"] is True
    assert s3batch.job(job_id).confirmation_required is True


def test_confirmation_required_false_is_echoed(s3batch: S3Batch) -> None:
    client = s3control()
    job_id = _job(s3batch, client, ConfirmationRequired=False)

    assert _describe(client, job_id)["ConfirmationRequired"] is False
    assert s3batch.job(job_id).confirmation_required is False


def test_tags_given_at_creation_are_returned_by_get_job_tagging(s3batch: S3Batch) -> None:
    client = s3control()
    tags = [{"Key": "team", "Value": "data"}, {"Key": "cost-center", "Value": "42"}]
    job_id = _job(s3batch, client, Tags=tags)

    assert client.get_job_tagging(AccountId=ACCOUNT, JobId=job_id)["Tags"] == tags
    assert s3batch.job(job_id).tags == {"team": "data", "cost-center": "42"}


def test_same_token_and_request_returns_the_same_job(s3batch: S3Batch) -> None:
    client = s3control()
    etag = _manifest(s3batch)

    first = csv_manifest_job(client, etag, ClientRequestToken="token-1")
    second = csv_manifest_job(client, etag, ClientRequestToken="token-1")

    assert first == second
    assert [j.job_id for j in s3batch.jobs()] == [first]


def test_same_token_with_different_request_is_an_idempotency_error(s3batch: S3Batch) -> None:
    client = s3control()
    etag = _manifest(s3batch)
    first = csv_manifest_job(client, etag, ClientRequestToken="token-1", Priority=1)

    with pytest.raises(client.exceptions.IdempotencyException) as excinfo:
        csv_manifest_job(client, etag, ClientRequestToken="token-1", Priority=2)

    code, status, message = _error(excinfo)
    assert (code, status) == ("IdempotencyException", 400)
    assert "token-1" in message
    assert [j.job_id for j in s3batch.jobs()] == [first]
    assert s3batch.job(first).priority == 1


def test_different_tokens_create_two_jobs(s3batch: S3Batch) -> None:
    client = s3control()
    etag = _manifest(s3batch)

    first = csv_manifest_job(client, etag, ClientRequestToken="token-1")
    second = csv_manifest_job(client, etag, ClientRequestToken="token-2")

    assert first != second
    assert [j.job_id for j in s3batch.jobs()] == [first, second]


# --------------------------------------------------------------------------- DescribeJob


def test_describe_unknown_job_is_not_found(s3batch: S3Batch) -> None:
    client = s3control()

    with pytest.raises(client.exceptions.NotFoundException) as excinfo:
        client.describe_job(AccountId=ACCOUNT, JobId=str(uuid.uuid4()))

    code, status, message = _error(excinfo)
    assert (code, status) == ("NotFoundException", 400)
    assert message.startswith("The specified job does not exist")


def test_describe_job_of_another_account_is_not_found(s3batch: S3Batch) -> None:
    client = s3control()
    job_id = _job(s3batch, client, account=OTHER_ACCOUNT)

    with pytest.raises(client.exceptions.NotFoundException):
        client.describe_job(AccountId=ACCOUNT, JobId=job_id)
    assert _describe(client, job_id, account=OTHER_ACCOUNT)["JobId"] == job_id


def test_describe_job_from_another_region_is_not_found(s3batch: S3Batch) -> None:
    job_id = _job(s3batch, s3control("us-east-1"))
    other = s3control("eu-west-1")

    with pytest.raises(other.exceptions.NotFoundException):
        other.describe_job(AccountId=ACCOUNT, JobId=job_id)
    assert _describe(s3control("us-east-1"), job_id)["JobId"] == job_id


@pytest.mark.parametrize("operation", ["copy", "lambda", "generator"])
def test_describe_job_response_matches_the_model(s3batch: S3Batch, operation: str) -> None:
    client = s3control()
    s3batch.objects.put("source", "data/a.txt", b"a")
    if operation == "generator":
        job_id = client.create_job(
            AccountId=ACCOUNT,
            Operation={"S3DeleteObjectTagging": {}},
            Report=REPORT,
            ManifestGenerator=GENERATOR,
            Priority=5,
            RoleArn=ROLE,
            Tags=[{"Key": "a", "Value": "b"}],
        )["JobId"]
    else:
        job_id = _job(
            s3batch,
            client,
            Operation=FULL_COPY if operation == "copy" else LAMBDA,
            Description="described",
        )
    client.update_job_status(
        AccountId=ACCOUNT, JobId=job_id, RequestedJobStatus="Cancelled", StatusUpdateReason="r"
    )

    response = client.describe_job(AccountId=ACCOUNT, JobId=job_id)
    response.pop("ResponseMetadata")
    shape = client.meta.service_model.operation_model("DescribeJob").output_shape
    report = ParamValidator().validate(response, shape)

    assert not report.has_errors(), report.generate_report()


# --------------------------------------------------------------------------- ListJobs


def test_list_jobs_is_newest_first(s3batch: S3Batch) -> None:
    client = s3control()
    with freeze_time("2030-01-01T00:00:00Z") as frozen:
        ids = []
        for _ in range(3):
            ids.append(_job(s3batch, client))
            frozen.tick(datetime.timedelta(seconds=5))

        jobs = client.list_jobs(AccountId=ACCOUNT)["Jobs"]

    assert [j["JobId"] for j in jobs] == ids[::-1]
    times = [j["CreationTime"] for j in jobs]
    assert times == sorted(times, reverse=True)
    assert times[0] - times[-1] == datetime.timedelta(seconds=10)


def test_list_jobs_created_in_the_same_instant_is_still_newest_first(s3batch: S3Batch) -> None:
    client = s3control()
    with freeze_time("2030-01-01T00:00:00Z"):
        ids = [_job(s3batch, client) for _ in range(3)]
        jobs = client.list_jobs(AccountId=ACCOUNT)["Jobs"]

    assert len({j["CreationTime"] for j in jobs}) == 1
    assert [j["JobId"] for j in jobs] == ids[::-1]


@manual
def test_list_job_entries_have_the_descriptor_members(s3batch: S3Batch) -> None:
    client = s3control()
    job_id = _job(s3batch, client, Priority=7)
    _advance_to(s3batch, job_id, "Suspended")

    (entry,) = client.list_jobs(AccountId=ACCOUNT)["Jobs"]

    assert entry["JobId"] == job_id
    assert entry["Operation"] == "S3PutObjectTagging"
    assert entry["Priority"] == 7
    assert entry["Status"] == "Suspended"
    created = s3batch.job(job_id).creation_time
    assert abs(entry["CreationTime"] - created) < datetime.timedelta(milliseconds=1)
    assert entry["ProgressSummary"]["TotalNumberOfTasks"] == 2
    assert entry["ProgressSummary"]["NumberOfTasksSucceeded"] == 0
    assert entry["ProgressSummary"]["NumberOfTasksFailed"] == 0
    assert "TerminationDate" not in entry


@manual
def test_list_jobs_filters_by_one_status(s3batch: S3Batch) -> None:
    client = s3control()
    new = _job_in(s3batch, client, "New")
    suspended = _job_in(s3batch, client, "Suspended")
    _job_in(s3batch, client, "Cancelled")

    assert _list_ids(client, JobStatuses=["Suspended"]) == [suspended]
    assert _list_ids(client, JobStatuses=["New"]) == [new]
    assert _list_ids(client, JobStatuses=["Complete"]) == []


@manual
def test_list_jobs_filters_by_several_statuses(s3batch: S3Batch) -> None:
    client = s3control()
    new = _job_in(s3batch, client, "New")
    _job_in(s3batch, client, "Suspended")
    cancelled = _job_in(s3batch, client, "Cancelled")

    assert _list_ids(client, JobStatuses=["New", "Cancelled"]) == [cancelled, new]
    # botocore repeats the query key once per status; the mock reads every value.
    assert s3batch.calls[-1].params["JobStatuses"] == ["New", "Cancelled"]


def test_list_jobs_pages_cover_every_job_once(s3batch: S3Batch) -> None:
    client = s3control()
    ids = [_job(s3batch, client) for _ in range(5)]

    pages: list[list[str]] = []
    kwargs: dict[str, Any] = {"AccountId": ACCOUNT, "MaxResults": 2}
    while True:
        response = client.list_jobs(**kwargs)
        pages.append([j["JobId"] for j in response["Jobs"]])
        if "NextToken" not in response:
            break
        kwargs["NextToken"] = response["NextToken"]
        assert len(pages) < 10, "paging does not end"

    assert [len(p) for p in pages] == [2, 2, 1]
    assert [i for page in pages for i in page] == ids[::-1]


def test_list_jobs_page_of_exactly_max_results_has_no_next_token(s3batch: S3Batch) -> None:
    client = s3control()
    for _ in range(2):
        _job(s3batch, client)

    response = client.list_jobs(AccountId=ACCOUNT, MaxResults=2)

    assert len(response["Jobs"]) == 2
    assert "NextToken" not in response


def test_list_jobs_default_page_returns_all_jobs(s3batch: S3Batch) -> None:
    client = s3control()
    ids = [_job(s3batch, client) for _ in range(12)]

    response = client.list_jobs(AccountId=ACCOUNT)

    assert [j["JobId"] for j in response["Jobs"]] == ids[::-1]
    assert "NextToken" not in response


def test_list_jobs_with_no_jobs_is_empty(s3batch: S3Batch) -> None:
    response = s3control().list_jobs(AccountId=ACCOUNT)

    assert response["Jobs"] == []
    assert "NextToken" not in response


@pytest.mark.parametrize("token", ["garbage", "has spaces"])
def test_list_jobs_with_a_made_up_token_is_invalid(s3batch: S3Batch, token: str) -> None:
    client = s3control()
    _job(s3batch, client)

    with pytest.raises(client.exceptions.InvalidNextTokenException) as excinfo:
        client.list_jobs(AccountId=ACCOUNT, NextToken=token)

    assert _error(excinfo)[:2] == ("InvalidNextTokenException", 400)


@manual
def test_list_jobs_token_from_another_status_filter_is_invalid(s3batch: S3Batch) -> None:
    client = s3control()
    for _ in range(3):
        _job(s3batch, client)
    token = client.list_jobs(AccountId=ACCOUNT, JobStatuses=["New"], MaxResults=1)["NextToken"]

    with pytest.raises(client.exceptions.InvalidNextTokenException) as excinfo:
        client.list_jobs(AccountId=ACCOUNT, JobStatuses=["Suspended"], NextToken=token)
    assert _error(excinfo)[:2] == ("InvalidNextTokenException", 400)

    with pytest.raises(client.exceptions.InvalidNextTokenException):
        client.list_jobs(AccountId=ACCOUNT, NextToken=token)
    # The token still works with the filter it was issued for.
    assert len(_list_ids(client, JobStatuses=["New"], NextToken=token)) == 2


def test_list_jobs_shows_only_the_callers_account_and_region(s3batch: S3Batch) -> None:
    here = s3control("us-east-1")
    mine = _job(s3batch, here)
    _job(s3batch, here, account=OTHER_ACCOUNT)
    elsewhere = _job(s3batch, s3control("eu-west-1"))

    assert _list_ids(here) == [mine]
    assert _list_ids(s3control("eu-west-1")) == [elsewhere]
    assert len(s3batch.jobs()) == 3


# --------------------------------------------------------------------------- UpdateJobStatus


@manual
def test_confirming_a_suspended_job_makes_it_ready(s3batch: S3Batch) -> None:
    client = s3control()
    job_id = _job_in(s3batch, client, "Suspended")

    response = client.update_job_status(
        AccountId=ACCOUNT, JobId=job_id, RequestedJobStatus="Ready"
    )

    assert response["JobId"] == job_id
    assert response["Status"] == "Ready"
    assert _describe(client, job_id)["Status"] == "Ready"


@manual
def test_cancelling_a_suspended_job_cancels_it_at_once(s3batch: S3Batch) -> None:
    client = s3control()
    job_id = _job_in(s3batch, client, "Suspended")

    response = client.update_job_status(
        AccountId=ACCOUNT, JobId=job_id, RequestedJobStatus="Cancelled"
    )

    assert response["Status"] == "Cancelled"
    job = _describe(client, job_id)
    assert job["Status"] == "Cancelled"
    assert "TerminationDate" in job
    assert s3batch.job(job_id).status_history[-2:] == ["Suspended", "Cancelled"]


@manual
@pytest.mark.parametrize("status", ["New", "Preparing", "Ready"])
def test_cancelling_a_job_that_has_not_started_cancels_it_at_once(
    s3batch: S3Batch, status: str
) -> None:
    client = s3control()
    job_id = _job_in(s3batch, client, status)

    response = client.update_job_status(
        AccountId=ACCOUNT, JobId=job_id, RequestedJobStatus="Cancelled"
    )

    assert response["Status"] == "Cancelled"
    assert s3batch.job(job_id).status == "Cancelled"


def test_cancelling_an_active_job_goes_through_cancelling(s3batch: S3Batch) -> None:
    client = s3control()
    job_id = _job(s3batch, client, ConfirmationRequired=False)
    _advance_to(s3batch, job_id, "Active")

    response = client.update_job_status(
        AccountId=ACCOUNT, JobId=job_id, RequestedJobStatus="Cancelled"
    )

    assert response["Status"] == "Cancelling"
    assert s3batch.job(job_id).status == "Cancelling"
    # poll progression: the next DescribeJob observes the automatic step.
    assert _describe(client, job_id)["Status"] == "Cancelled"
    assert s3batch.job(job_id).status_history[-3:] == ["Active", "Cancelling", "Cancelled"]


@manual
def test_status_update_reason_is_echoed_and_stored(s3batch: S3Batch) -> None:
    client = s3control()
    job_id = _job_in(s3batch, client, "Suspended")

    response = client.update_job_status(
        AccountId=ACCOUNT,
        JobId=job_id,
        RequestedJobStatus="Ready",
        StatusUpdateReason="approved by ops & QA <ticket 12>",
    )

    assert response["StatusUpdateReason"] == "approved by ops & QA <ticket 12>"
    assert _describe(client, job_id)["StatusUpdateReason"] == "approved by ops & QA <ticket 12>"
    assert s3batch.job(job_id).status_update_reason == "approved by ops & QA <ticket 12>"


@manual
def test_update_job_status_without_reason_has_none_in_response(s3batch: S3Batch) -> None:
    client = s3control()
    job_id = _job_in(s3batch, client, "Suspended")

    response = client.update_job_status(
        AccountId=ACCOUNT, JobId=job_id, RequestedJobStatus="Ready"
    )

    assert "StatusUpdateReason" not in response
    assert "StatusUpdateReason" not in _describe(client, job_id)


@manual
@pytest.mark.parametrize("status", ["New", "Preparing", "Ready", "Active"])
def test_ready_on_a_job_that_is_not_suspended_is_a_status_error(
    s3batch: S3Batch, status: str
) -> None:
    client = s3control()
    job_id = _job_in(s3batch, client, status)
    before = s3batch.job(job_id)

    with pytest.raises(client.exceptions.JobStatusException) as excinfo:
        client.update_job_status(AccountId=ACCOUNT, JobId=job_id, RequestedJobStatus="Ready")

    code, http_status, message = _error(excinfo)
    assert (code, http_status) == ("JobStatusException", 400)
    assert status in message
    assert "Ready" in message.replace(status, "", 1)
    assert s3batch.job(job_id) == before


@manual
@pytest.mark.parametrize("requested", ["Ready", "Cancelled"])
@pytest.mark.parametrize("status", ["Complete", "Cancelled", "Failed", "Cancelling"])
def test_no_status_change_on_an_ending_or_ended_job(
    s3batch: S3Batch, status: str, requested: str
) -> None:
    client = s3control()
    job_id = _job_in(s3batch, client, status)
    before = s3batch.job(job_id)

    with pytest.raises(client.exceptions.JobStatusException) as excinfo:
        client.update_job_status(AccountId=ACCOUNT, JobId=job_id, RequestedJobStatus=requested)

    code, http_status, message = _error(excinfo)
    assert (code, http_status) == ("JobStatusException", 400)
    assert status in message
    assert requested in message
    assert s3batch.job(job_id) == before


def test_update_status_of_unknown_job_is_not_found(s3batch: S3Batch) -> None:
    client = s3control()

    with pytest.raises(client.exceptions.NotFoundException) as excinfo:
        client.update_job_status(
            AccountId=ACCOUNT, JobId=str(uuid.uuid4()), RequestedJobStatus="Cancelled"
        )
    assert _error(excinfo)[1] == 400


# --------------------------------------------------------------------------- UpdateJobPriority


@manual
def test_update_priority_returns_and_stores_the_new_priority(s3batch: S3Batch) -> None:
    client = s3control()
    job_id = _job(s3batch, client, Priority=10)

    response = client.update_job_priority(AccountId=ACCOUNT, JobId=job_id, Priority=52)

    assert response["JobId"] == job_id
    assert response["Priority"] == 52
    assert _describe(client, job_id)["Priority"] == 52
    assert client.list_jobs(AccountId=ACCOUNT)["Jobs"][0]["Priority"] == 52
    assert s3batch.job(job_id).priority == 52


@manual
@pytest.mark.parametrize("priority", [0, MAX_PRIORITY])
def test_update_priority_accepts_the_bounds(s3batch: S3Batch, priority: int) -> None:
    client = s3control()
    job_id = _job(s3batch, client, Priority=10)

    response = client.update_job_priority(AccountId=ACCOUNT, JobId=job_id, Priority=priority)

    assert response["Priority"] == priority
    assert _describe(client, job_id)["Priority"] == priority


@pytest.mark.parametrize("priority", [0, MAX_PRIORITY])
def test_create_job_accepts_the_priority_bounds(s3batch: S3Batch, priority: int) -> None:
    client = s3control()
    job_id = _job(s3batch, client, Priority=priority)

    assert _describe(client, job_id)["Priority"] == priority


@manual
@pytest.mark.parametrize("status", ["Complete", "Cancelled", "Failed"])
def test_update_priority_of_an_ended_job_is_a_bad_request(s3batch: S3Batch, status: str) -> None:
    client = s3control()
    job_id = _job_in(s3batch, client, status)

    with pytest.raises(client.exceptions.BadRequestException) as excinfo:
        client.update_job_priority(AccountId=ACCOUNT, JobId=job_id, Priority=99)

    assert _error(excinfo)[:2] == ("BadRequestException", 400)
    assert s3batch.job(job_id).priority == 10


@manual
def test_update_priority_of_a_running_job_is_allowed(s3batch: S3Batch) -> None:
    client = s3control()
    job_id = _job_in(s3batch, client, "Active")

    assert client.update_job_priority(AccountId=ACCOUNT, JobId=job_id, Priority=3)["Priority"] == 3
    assert s3batch.job(job_id).status == "Active"


def test_update_priority_of_unknown_job_is_not_found(s3batch: S3Batch) -> None:
    client = s3control()

    with pytest.raises(client.exceptions.NotFoundException) as excinfo:
        client.update_job_priority(AccountId=ACCOUNT, JobId=str(uuid.uuid4()), Priority=1)
    assert _error(excinfo)[1] == 400


# --------------------------------------------------------------------------- job tagging


def _tags(client: Any, job_id: str) -> list[dict[str, str]]:
    tags: list[dict[str, str]] = client.get_job_tagging(AccountId=ACCOUNT, JobId=job_id)["Tags"]
    return tags


def test_get_tags_of_an_untagged_job_is_empty(s3batch: S3Batch) -> None:
    client = s3control()
    job_id = _job(s3batch, client)

    assert _tags(client, job_id) == []


def test_put_tags_replaces_the_whole_set(s3batch: S3Batch) -> None:
    client = s3control()
    job_id = _job(s3batch, client, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])

    response = client.put_job_tagging(
        AccountId=ACCOUNT, JobId=job_id, Tags=[{"Key": "c", "Value": "3"}]
    )

    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert _tags(client, job_id) == [{"Key": "c", "Value": "3"}]
    assert s3batch.job(job_id).tags == {"c": "3"}


def test_put_empty_tags_clears_them(s3batch: S3Batch) -> None:
    client = s3control()
    job_id = _job(s3batch, client, Tags=[{"Key": "a", "Value": "1"}])

    client.put_job_tagging(AccountId=ACCOUNT, JobId=job_id, Tags=[])

    assert _tags(client, job_id) == []


def test_delete_tags_clears_them(s3batch: S3Batch) -> None:
    client = s3control()
    job_id = _job(s3batch, client, Tags=[{"Key": "a", "Value": "1"}])

    response = client.delete_job_tagging(AccountId=ACCOUNT, JobId=job_id)

    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert _tags(client, job_id) == []
    assert s3batch.job(job_id).tags == {}


def test_fifty_tags_are_allowed(s3batch: S3Batch) -> None:
    client = s3control()
    job_id = _job(s3batch, client)
    tags = [{"Key": f"k{i}", "Value": f"v{i}"} for i in range(50)]

    client.put_job_tagging(AccountId=ACCOUNT, JobId=job_id, Tags=tags)

    assert _tags(client, job_id) == tags


def test_fifty_one_tags_are_too_many_and_change_nothing(s3batch: S3Batch) -> None:
    client = s3control()
    old = [{"Key": "keep", "Value": "me"}]
    job_id = _job(s3batch, client, Tags=old)

    with pytest.raises(client.exceptions.TooManyTagsException) as excinfo:
        client.put_job_tagging(
            AccountId=ACCOUNT,
            JobId=job_id,
            Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(51)],
        )

    code, status, message = _error(excinfo)
    assert (code, status) == ("TooManyTagsException", 400)
    assert "50" in message
    assert _tags(client, job_id) == old


def test_duplicate_tag_keys_are_a_bad_request_and_change_nothing(s3batch: S3Batch) -> None:
    client = s3control()
    old = [{"Key": "keep", "Value": "me"}]
    job_id = _job(s3batch, client, Tags=old)

    with pytest.raises(client.exceptions.BadRequestException) as excinfo:
        client.put_job_tagging(
            AccountId=ACCOUNT,
            JobId=job_id,
            Tags=[{"Key": "dup", "Value": "1"}, {"Key": "dup", "Value": "2"}],
        )

    code, status, message = _error(excinfo)
    assert (code, status) == ("BadRequestException", 400)
    assert "dup" in message
    assert _tags(client, job_id) == old


@pytest.mark.parametrize(
    ("tag", "field"),
    [({"Key": "bad*key", "Value": "v"}, "Key"), ({"Key": "ok", "Value": "semi;colon"}, "Value")],
)
def test_tag_pattern_violations_are_a_bad_request(
    s3batch: S3Batch, tag: dict[str, str], field: str
) -> None:
    client = s3control()
    job_id = _job(s3batch, client)

    with pytest.raises(client.exceptions.BadRequestException) as excinfo:
        client.put_job_tagging(AccountId=ACCOUNT, JobId=job_id, Tags=[tag])

    code, status, message = _error(excinfo)
    assert (code, status) == ("BadRequestException", 400)
    assert f"Tags[0].{field}" in message
    assert "pattern" in message
    assert _tags(client, job_id) == []


def test_unicode_letters_and_allowed_symbols_in_tags_are_accepted(s3batch: S3Batch) -> None:
    client = s3control()
    job_id = _job(s3batch, client)
    tags = [
        {"Key": "Größe", "Value": "日本"},
        {"Key": "path/to:key=+-@_.", "Value": "with space 123"},
        {"Key": "empty", "Value": ""},
    ]

    client.put_job_tagging(AccountId=ACCOUNT, JobId=job_id, Tags=tags)

    assert _tags(client, job_id) == tags


@pytest.mark.parametrize("call", ["get_job_tagging", "put_job_tagging", "delete_job_tagging"])
def test_tagging_an_unknown_job_is_not_found(s3batch: S3Batch, call: str) -> None:
    client = s3control()
    kwargs: dict[str, Any] = {"AccountId": ACCOUNT, "JobId": str(uuid.uuid4())}
    if call == "put_job_tagging":
        kwargs["Tags"] = [{"Key": "a", "Value": "b"}]

    with pytest.raises(client.exceptions.NotFoundException) as excinfo:
        getattr(client, call)(**kwargs)

    code, status, message = _error(excinfo)
    assert (code, status) == ("NotFoundException", 400)
    assert message.startswith("The specified job does not exist")


def test_tagging_a_job_of_another_account_is_not_found(s3batch: S3Batch) -> None:
    client = s3control()
    job_id = _job(s3batch, client, account=OTHER_ACCOUNT, Tags=[{"Key": "a", "Value": "b"}])

    with pytest.raises(client.exceptions.NotFoundException):
        client.delete_job_tagging(AccountId=ACCOUNT, JobId=job_id)
    assert s3batch.job(job_id).tags == {"a": "b"}


# --------------------------------------------------------------------------- the scope


def test_the_context_manager_serves_the_same_operations() -> None:
    with mock_s3batch(progression="manual") as batch:
        client = s3control()
        job_id = _job(batch, client)
        client.update_job_priority(AccountId=ACCOUNT, JobId=job_id, Priority=3)
        assert [(c.operation, c.http_status) for c in batch.calls] == [
            ("CreateJob", 200),
            ("UpdateJobPriority", 200),
        ]
        assert batch.job(job_id).priority == 3
