"""aiobotocore (and so aioboto3) in-process: the same answers, state and records as boto3.

Driven through pytest-asyncio and through ``asyncio.run``, as users do both.
"""

from __future__ import annotations

import asyncio
import types
from collections.abc import AsyncIterator
from typing import Any

import aiobotocore.endpoint
import aiobotocore.session
import boto3
import botocore.config
import pytest
import pytest_asyncio
from botocore.exceptions import ClientError

from s3batch_mock import UnsupportedOperationError, current_batch, mock_s3batch
from tests.conftest import ACCOUNT, JOB_OPERATIONS, ROLE


def job_params(etag: str, **overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "AccountId": ACCOUNT,
        "ConfirmationRequired": True,
        "Operation": {"S3PutObjectTagging": {"TagSet": [{"Key": "k", "Value": "v"}]}},
        "Report": {"Enabled": False},
        "Manifest": {
            "Spec": {"Format": "S3BatchOperations_CSV_20180820", "Fields": ["Bucket", "Key"]},
            "Location": {"ObjectArn": "arn:aws:s3:::manifests/manifest.csv", "ETag": etag},
        },
        "Priority": 10,
        "RoleArn": ROLE,
    }
    params.update(overrides)
    return params


@pytest.fixture
def batch() -> Any:
    with mock_s3batch() as controller:
        controller.objects.put("photos", "a.jpg", b"a")
        controller.objects.put("photos", "b.jpg", b"b")
        controller.objects.put("manifests", "manifest.csv", "photos,a.jpg\nphotos,b.jpg\n")
        yield controller


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """aiobotocore's retry backoff sleeps for real: record the sleeps instead."""
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    if hasattr(aiobotocore.endpoint.AioEndpoint, "_sleep"):  # aiobotocore 3.8 and later
        monkeypatch.setattr(
            aiobotocore.endpoint.AioEndpoint, "_sleep", lambda self, seconds: sleep(seconds)
        )
    else:  # older releases call asyncio.sleep from the endpoint module
        fake = types.SimpleNamespace(**vars(asyncio))
        fake.sleep = sleep
        monkeypatch.setattr(aiobotocore.endpoint, "asyncio", fake)
    return slept


@pytest_asyncio.fixture
async def aio(batch: Any) -> AsyncIterator[Any]:
    session = aiobotocore.session.get_session()
    config = botocore.config.Config(retries={"mode": "standard", "max_attempts": 3})
    async with session.create_client("s3control", region_name="us-east-1", config=config) as c:
        yield c


def etag(batch: Any) -> str:
    return str(batch.objects.put("manifests", "manifest.csv", "photos,a.jpg\nphotos,b.jpg\n"))


@pytest.mark.asyncio
async def test_all_eight_operations(batch: Any, aio: Any) -> None:
    job_id = (await aio.create_job(**job_params(etag(batch), Tags=[{"Key": "a", "Value": "1"}])))[
        "JobId"
    ]
    job = (await aio.describe_job(AccountId=ACCOUNT, JobId=job_id))["Job"]
    assert job["JobId"] == job_id
    assert job["JobArn"] == f"arn:aws:s3:us-east-1:{ACCOUNT}:job/{job_id}"
    listed = await aio.list_jobs(AccountId=ACCOUNT)
    assert [j["JobId"] for j in listed["Jobs"]] == [job_id]
    priority = await aio.update_job_priority(AccountId=ACCOUNT, JobId=job_id, Priority=42)
    assert priority["Priority"] == 42
    assert (await aio.get_job_tagging(AccountId=ACCOUNT, JobId=job_id))["Tags"] == [
        {"Key": "a", "Value": "1"}
    ]
    await aio.put_job_tagging(AccountId=ACCOUNT, JobId=job_id, Tags=[{"Key": "b", "Value": "2"}])
    assert batch.job(job_id).tags == {"b": "2"}
    await aio.delete_job_tagging(AccountId=ACCOUNT, JobId=job_id)
    assert (await aio.get_job_tagging(AccountId=ACCOUNT, JobId=job_id))["Tags"] == []
    while (await aio.describe_job(AccountId=ACCOUNT, JobId=job_id))["Job"]["Status"] != (
        "Suspended"
    ):
        pass
    status = await aio.update_job_status(
        AccountId=ACCOUNT, JobId=job_id, RequestedJobStatus="Ready", StatusUpdateReason="go"
    )
    assert status["Status"] == "Ready"
    while (await aio.describe_job(AccountId=ACCOUNT, JobId=job_id))["Job"]["Status"] != (
        "Complete"
    ):
        pass
    assert sorted({c.operation for c in batch.calls}) == sorted(JOB_OPERATIONS)
    assert batch.objects.get_tags("photos", "b.jpg") == {"k": "v"}


@pytest.mark.asyncio
async def test_modeled_exceptions(aio: Any) -> None:
    with pytest.raises(aio.exceptions.NotFoundException) as caught:
        await aio.describe_job(AccountId=ACCOUNT, JobId="00000000-0000-0000-0000-000000000000")
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(aio.exceptions.BadRequestException):
        await aio.update_job_priority(
            AccountId=ACCOUNT, JobId="00000000-0000-0000-0000-000000000000", Priority=2**31
        )


@pytest.mark.asyncio
async def test_job_status_exception(batch: Any, aio: Any) -> None:
    job_id = (await aio.create_job(**job_params(etag(batch))))["JobId"]
    with pytest.raises(aio.exceptions.JobStatusException, match="Ready"):
        await aio.update_job_status(AccountId=ACCOUNT, JobId=job_id, RequestedJobStatus="Ready")


@pytest.mark.asyncio
async def test_injected_errors_are_retried_as_botocore_retries(batch: Any, aio: Any) -> None:
    job_id = (await aio.create_job(**job_params(etag(batch))))["JobId"]
    batch.inject_error("DescribeJob", "TooManyRequestsException", count=2)
    job = (await aio.describe_job(AccountId=ACCOUNT, JobId=job_id))["Job"]  # third attempt
    assert job["JobId"] == job_id
    assert [c.error_code for c in batch.calls if c.operation == "DescribeJob"] == [
        "TooManyRequestsException",
        "TooManyRequestsException",
        None,
    ]


@pytest.mark.asyncio
async def test_injected_error_past_the_retries_is_raised(
    batch: Any, aio: Any, no_backoff: list[float]
) -> None:
    batch.inject_error("ListJobs", "InternalServiceException", count=5, message="down")
    with pytest.raises(aio.exceptions.InternalServiceException, match="down"):
        await aio.list_jobs(AccountId=ACCOUNT)
    assert [c.http_status for c in batch.calls] == [500] * 4  # max_attempts=3 retries
    assert len(no_backoff) == 3  # aiobotocore backed off (awaited) between attempts


@pytest.mark.asyncio
async def test_injected_latency_never_blocks_the_event_loop(batch: Any, aio: Any) -> None:
    batch.inject_latency("ListJobs", 0.3, count=1)
    ticks = 0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0.01)

    task = asyncio.create_task(ticker())
    await aio.list_jobs(AccountId=ACCOUNT)
    done.set()
    await asyncio.wait_for(task, timeout=10)
    # While the call waited out its latency, the loop went on running the ticker.
    assert ticks >= 5, ticks


@pytest.mark.asyncio
async def test_list_jobs_paging(batch: Any, aio: Any) -> None:
    ids = [(await aio.create_job(**job_params(etag(batch))))["JobId"] for _ in range(5)]
    seen: list[str] = []
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"AccountId": ACCOUNT, "MaxResults": 2}
        if token:
            kwargs["NextToken"] = token
        page = await aio.list_jobs(**kwargs)
        seen += [j["JobId"] for j in page["Jobs"]]
        token = page.get("NextToken")
        if not token:
            break
    assert seen == ids[::-1]
    with pytest.raises(aio.exceptions.InvalidNextTokenException):
        await aio.list_jobs(AccountId=ACCOUNT, NextToken="not-a-token")


@pytest.mark.asyncio
async def test_same_state_and_answers_as_boto3(batch: Any, aio: Any) -> None:
    sync: Any = boto3.client("s3control", region_name="us-east-1")
    from_async = (await aio.create_job(**job_params(etag(batch))))["JobId"]
    from_sync = sync.create_job(**job_params(etag(batch)))["JobId"]
    async_view = (await aio.list_jobs(AccountId=ACCOUNT))["Jobs"]
    sync_view = sync.list_jobs(AccountId=ACCOUNT)["Jobs"]
    fixed = ("JobId", "Operation", "Priority", "CreationTime")  # status moves as they poll
    assert [{k: j[k] for k in fixed} for j in async_view] == [
        {k: j[k] for k in fixed} for j in sync_view
    ]
    assert [j["JobId"] for j in sync_view] == [from_sync, from_async]
    described = (await aio.describe_job(AccountId=ACCOUNT, JobId=from_sync))["Job"]
    again = sync.describe_job(AccountId=ACCOUNT, JobId=from_sync)["Job"]
    assert described["JobArn"] == again["JobArn"]
    assert described["Manifest"] == again["Manifest"]


@pytest.mark.asyncio
async def test_idempotent_create_through_both(batch: Any, aio: Any) -> None:
    params = job_params(etag(batch), ClientRequestToken="same-token")
    first = (await aio.create_job(**params))["JobId"]
    second = boto3.client("s3control", region_name="us-east-1").create_job(**params)["JobId"]
    assert first == second
    with pytest.raises(aio.exceptions.IdempotencyException):
        await aio.create_job(**{**params, "Priority": 11})


@pytest.mark.asyncio
async def test_calls_are_recorded(batch: Any, aio: Any) -> None:
    job_id = (await aio.create_job(**job_params(etag(batch))))["JobId"]
    with pytest.raises(ClientError):
        await aio.describe_job(AccountId=ACCOUNT, JobId="missing-job")
    calls = batch.calls
    assert [(c.operation, c.http_status, c.error_code) for c in calls] == [
        ("CreateJob", 200, None),
        ("DescribeJob", 400, "NotFoundException"),
    ]
    assert calls[0].params["Priority"] == 10
    assert job_id


@pytest.mark.asyncio
async def test_unserved_call_fails_without_changing_anything(batch: Any, aio: Any) -> None:
    with pytest.raises(UnsupportedOperationError, match="GetPublicAccessBlock"):
        await aio.get_public_access_block(AccountId=ACCOUNT)
    assert batch.calls == []


@pytest.mark.asyncio
async def test_a_region_of_its_own(batch: Any) -> None:
    session = aiobotocore.session.get_session()
    async with session.create_client("s3control", region_name="cn-north-1") as china:
        job_id = (await china.create_job(**job_params(etag(batch))))["JobId"]
        arn = (await china.describe_job(AccountId=ACCOUNT, JobId=job_id))["Job"]["JobArn"]
    assert arn == f"arn:aws-cn:s3:cn-north-1:{ACCOUNT}:job/{job_id}"
    assert batch.job(job_id).region == "cn-north-1"


@pytest.mark.asyncio
async def test_other_services_are_refused(batch: Any) -> None:
    from s3batch_mock import AWSCallRefused  # noqa: PLC0415

    session = aiobotocore.session.get_session()
    async with session.create_client("sts", region_name="us-east-1") as sts:
        with pytest.raises(AWSCallRefused, match="sts GetCallerIdentity"):
            await sts.get_caller_identity()


@pytest.mark.asyncio
async def test_lambda_handler_runs_off_the_event_loop(batch: Any, aio: Any) -> None:
    loop_thread: list[bool] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        try:
            asyncio.get_running_loop()
            loop_thread.append(True)
        except RuntimeError:
            loop_thread.append(False)
        task = event["tasks"][0]
        return {
            "invocationSchemaVersion": "1.0",
            "treatMissingKeysAs": "PermanentFailure",
            "invocationId": event["invocationId"],
            "results": [
                {"taskId": task["taskId"], "resultCode": "Succeeded", "resultString": "ok"}
            ],
        }

    arn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:tagger"
    batch.register_lambda(arn, handler)
    params = job_params(
        etag(batch), ConfirmationRequired=False, Operation={"LambdaInvoke": {"FunctionArn": arn}}
    )
    job_id = (await aio.create_job(**params))["JobId"]
    while (await aio.describe_job(AccountId=ACCOUNT, JobId=job_id))["Job"]["Status"] != (
        "Complete"
    ):
        pass
    assert loop_thread == [False, False]
    assert batch.job(job_id).succeeded_tasks == 2


@pytest.mark.asyncio
@mock_s3batch
async def test_decorated_coroutine_with_aiobotocore() -> None:
    batch = current_batch()
    batch.objects.put("manifests", "manifest.csv", "")
    session = aiobotocore.session.get_session()
    async with session.create_client("s3control", region_name="us-east-1") as c:
        assert (await c.list_jobs(AccountId=ACCOUNT))["Jobs"] == []


def test_with_asyncio_run() -> None:
    async def main() -> str:
        session = aiobotocore.session.get_session()
        async with session.create_client("s3control", region_name="eu-west-1") as c:
            job_id: str = (await c.create_job(**job_params(tag)))["JobId"]
            await c.describe_job(AccountId=ACCOUNT, JobId=job_id)
            return job_id

    with mock_s3batch() as controller:
        tag = controller.objects.put("manifests", "manifest.csv", "photos,a.jpg\n")
        job_id = asyncio.run(main())
        assert controller.job(job_id).region == "eu-west-1"
        assert [c.operation for c in controller.calls] == ["CreateJob", "DescribeJob"]


def test_client_made_before_the_mock_is_served() -> None:
    async def main() -> None:
        session = aiobotocore.session.get_session()
        async with session.create_client("s3control", region_name="us-east-1") as c:
            with mock_s3batch() as controller:
                assert (await c.list_jobs(AccountId=ACCOUNT))["Jobs"] == []
                assert [call.operation for call in controller.calls] == ["ListJobs"]

    asyncio.run(main())
