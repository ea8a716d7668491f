"""LambdaInvoke jobs through boto3: the event a registered handler receives, the
context it is called with, how its answers become task results, and how handlers are
registered and found."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, unquote_plus

import pytest

import s3batch_mock.execution._lambdas
from s3batch_mock import S3Batch
from tests.conftest import ACCOUNT, ROLE, s3control

REGION = "us-east-1"
FUNCTION = "my-function"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{FUNCTION}"
REPORT = {
    "Enabled": True,
    "Bucket": "arn:aws:s3:::reports",
    "Format": "Report_CSV_20180820",
    "ReportScope": "AllTasks",
}
REPORT_COLUMNS = (
    "Bucket",
    "Key",
    "VersionId",
    "TaskStatus",
    "HTTPStatusCode",
    "ErrorCode",
    "ResultMessage",
)

Handler = Callable[[dict[str, Any], Any], Any]


# --------------------------------------------------------------------------- helpers


def respond(event: dict[str, Any], code: str, message: str = "ok") -> dict[str, Any]:
    """The documented response shape, answering ``code`` for every task of ``event``."""
    return {
        "invocationSchemaVersion": event["invocationSchemaVersion"],
        "treatMissingKeysAs": "PermanentFailure",
        "invocationId": event["invocationId"],
        "results": [
            {"taskId": task["taskId"], "resultCode": code, "resultString": message}
            for task in event["tasks"]
        ],
    }


class Recorder:
    """A handler that records each (event, context) and answers with ``answer``."""

    def __init__(self, answer: Callable[[dict[str, Any]], Any] | None = None) -> None:
        self.calls: list[tuple[dict[str, Any], Any]] = []
        self._answer = answer or (lambda event: respond(event, "Succeeded"))

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.calls.append((event, context))
        return self._answer(event)

    @property
    def events(self) -> list[dict[str, Any]]:
        return [event for event, _ in self.calls]


def lambda_job(
    batch: S3Batch,
    keys: list[str],
    *,
    function_arn: str = FUNCTION_ARN,
    with_versions: bool = False,
    report: bool = True,
    **lambda_params: Any,
) -> str:
    """Put ``keys`` in bucket ``src``, run a LambdaInvoke job over them; returns the JobId."""
    rows = []
    for key in keys:
        batch.objects.put("src", key, f"body of {key}")
        row = f"src,{quote(key, safe='/')}"
        if with_versions:
            row += f",{batch.objects.head('src', key).version_id}"
        rows.append(row + "\n")
    etag = batch.objects.put("manifests", "manifest.csv", "".join(rows))
    fields = ["Bucket", "Key", "VersionId"] if with_versions else ["Bucket", "Key"]
    if report:
        batch.objects.create_bucket("reports")
    response = s3control(REGION).create_job(
        AccountId=ACCOUNT,
        ConfirmationRequired=False,
        Operation={"LambdaInvoke": {"FunctionArn": function_arn, **lambda_params}},
        Report=REPORT if report else {"Enabled": False},
        Manifest={
            "Spec": {"Format": "S3BatchOperations_CSV_20180820", "Fields": fields},
            "Location": {"ObjectArn": "arn:aws:s3:::manifests/manifest.csv", "ETag": etag},
        },
        Priority=10,
        RoleArn=ROLE,
    )
    job_id = str(response["JobId"])
    batch.run(job_id)
    return job_id


def report_rows(batch: S3Batch, job_id: str) -> list[dict[str, str]]:
    """Every row of the job's completion report result CSVs, as column -> value."""
    keys = batch.objects.keys("reports", f"job-{job_id}/results/")
    assert keys, f"no result CSVs for job {job_id}: {batch.objects.keys('reports')}"
    rows = []
    for key in keys:
        text = batch.objects.get("reports", key).decode("utf-8")
        for row in csv.reader(io.StringIO(text)):
            assert len(row) == len(REPORT_COLUMNS), row
            rows.append(dict(zip(REPORT_COLUMNS, row, strict=True)))
    return rows


def only_row(batch: S3Batch, job_id: str) -> dict[str, str]:
    rows = report_rows(batch, job_id)
    assert len(rows) == 1, rows
    return rows[0]


def assert_complete(batch: S3Batch, job_id: str, succeeded: int, failed: int) -> None:
    job = batch.job(job_id)
    assert job.status == "Complete", (job.status_history, job.failure_reasons)
    assert job.failure_reasons == []
    assert (job.total_tasks, job.succeeded_tasks, job.failed_tasks) == (
        succeeded + failed,
        succeeded,
        failed,
    )


# --------------------------------------------------------------------------- the event


@pytest.mark.parametrize("schema", [None, "1.0"], ids=["schema-omitted", "schema-1.0"])
def test_schema_1_event_shape(s3batch: S3Batch, schema: str | None) -> None:
    handler = Recorder()
    s3batch.register_lambda(FUNCTION_ARN, handler)
    params: dict[str, Any] = {} if schema is None else {"InvocationSchemaVersion": schema}

    job_id = lambda_job(s3batch, ["a.txt"], **params)

    assert_complete(s3batch, job_id, succeeded=1, failed=0)
    assert len(handler.events) == 1
    event = handler.events[0]
    assert set(event) == {"invocationSchemaVersion", "invocationId", "job", "tasks"}
    assert event["invocationSchemaVersion"] == "1.0"
    assert isinstance(event["invocationId"], str)
    assert event["invocationId"]
    assert event["job"] == {"id": job_id}
    assert len(event["tasks"]) == 1
    task = event["tasks"][0]
    assert set(task) == {"taskId", "s3Key", "s3VersionId", "s3BucketArn"}
    assert isinstance(task["taskId"], str)
    assert task["taskId"]
    assert task["s3Key"] == "a.txt"
    assert task["s3VersionId"] is None
    assert task["s3BucketArn"] == "arn:aws:s3:::src"


def test_one_task_per_invocation(s3batch: S3Batch) -> None:
    handler = Recorder()
    s3batch.register_lambda(FUNCTION_ARN, handler)
    keys = ["a.txt", "b.txt", "c/d.txt", "e.txt"]

    job_id = lambda_job(s3batch, keys)

    assert_complete(s3batch, job_id, succeeded=4, failed=0)
    assert [len(event["tasks"]) for event in handler.events] == [1, 1, 1, 1]
    assert sorted(event["tasks"][0]["s3Key"] for event in handler.events) == sorted(keys)
    assert len({event["invocationId"] for event in handler.events}) == 4
    assert len({event["tasks"][0]["taskId"] for event in handler.events}) == 4


@pytest.mark.parametrize(
    ("key", "encoded"),
    [
        ("my file.txt", "my+file.txt"),
        ("dir/a+b.txt", "dir/a%2Bb.txt"),
        ("dir/x,y&z=1.txt", "dir/x%2Cy%26z%3D1.txt"),
        ("caf\u00e9.txt", "caf%C3%A9.txt"),
    ],
)
def test_keys_arrive_url_encoded(s3batch: S3Batch, key: str, encoded: str) -> None:
    handler = Recorder()
    s3batch.register_lambda(FUNCTION_ARN, handler)

    job_id = lambda_job(s3batch, [key])

    assert_complete(s3batch, job_id, succeeded=1, failed=0)
    s3_key = handler.events[0]["tasks"][0]["s3Key"]
    assert s3_key == encoded
    assert unquote_plus(s3_key) == key


def test_version_id_from_manifest(s3batch: S3Batch) -> None:
    handler = Recorder()
    s3batch.register_lambda(FUNCTION_ARN, handler)
    s3batch.objects.put("src", "a.txt", b"an older version")

    job_id = lambda_job(s3batch, ["a.txt"], with_versions=True)

    assert_complete(s3batch, job_id, succeeded=1, failed=0)
    latest = s3batch.objects.head("src", "a.txt").version_id
    assert handler.events[0]["tasks"][0]["s3VersionId"] == latest


def test_schema_2_event_with_user_arguments(s3batch: S3Batch) -> None:
    handler = Recorder()
    s3batch.register_lambda(FUNCTION_ARN, handler)
    arguments = {"destination": "archive", "mode": "fast"}

    job_id = lambda_job(
        s3batch, ["a b.txt"], InvocationSchemaVersion="2.0", UserArguments=arguments
    )

    assert_complete(s3batch, job_id, succeeded=1, failed=0)
    event = handler.events[0]
    assert set(event) == {"invocationSchemaVersion", "invocationId", "job", "tasks"}
    assert event["invocationSchemaVersion"] == "2.0"
    assert event["job"] == {"id": job_id, "userArguments": arguments}
    task = event["tasks"][0]
    assert set(task) == {"taskId", "s3Key", "s3VersionId", "s3Bucket"}
    assert task["s3Bucket"] == "src"
    assert task["s3Key"] == "a+b.txt"
    assert task["s3VersionId"] is None


def test_context_object(s3batch: S3Batch) -> None:
    handler = Recorder()
    s3batch.register_lambda(FUNCTION_ARN, handler)

    lambda_job(s3batch, ["a.txt", "b.txt"])

    assert len(handler.calls) == 2
    contexts = [context for _, context in handler.calls]
    for context in contexts:
        assert context.function_name == FUNCTION
        assert context.invoked_function_arn == FUNCTION_ARN
        assert isinstance(context.aws_request_id, str)
        assert context.aws_request_id
        remaining = context.get_remaining_time_in_millis()
        assert isinstance(remaining, int)
        assert remaining > 0
    assert contexts[0].aws_request_id != contexts[1].aws_request_id


# --------------------------------------------------------------------------- result codes


def test_succeeded_result_string_goes_to_report(s3batch: S3Batch) -> None:
    s3batch.register_lambda(
        FUNCTION_ARN, Recorder(lambda event: respond(event, "Succeeded", "copied to archive"))
    )

    job_id = lambda_job(s3batch, ["a.txt"])

    assert_complete(s3batch, job_id, succeeded=1, failed=0)
    row = only_row(s3batch, job_id)
    assert (row["Bucket"], row["Key"], row["TaskStatus"]) == ("src", "a.txt", "succeeded")
    assert row["ErrorCode"] == ""
    assert row["ResultMessage"] == "copied to archive"


def test_permanent_failure_fails_task(s3batch: S3Batch) -> None:
    handler = Recorder(lambda event: respond(event, "PermanentFailure", "no such thing"))
    s3batch.register_lambda(FUNCTION_ARN, handler)

    job_id = lambda_job(s3batch, ["a.txt"])

    assert_complete(s3batch, job_id, succeeded=0, failed=1)
    assert len(handler.calls) == 1  # a permanent failure is not retried
    row = only_row(s3batch, job_id)
    assert row["TaskStatus"] == "failed"
    assert row["ErrorCode"] == "PermanentFailure"
    assert row["ResultMessage"] == "no such thing"


def test_temporary_failure_is_retried_until_success(s3batch: S3Batch) -> None:
    answers = iter(["TemporaryFailure", "TemporaryFailure", "Succeeded"])
    handler = Recorder(lambda event: respond(event, next(answers), "try again"))
    s3batch.register_lambda(FUNCTION_ARN, handler)

    job_id = lambda_job(s3batch, ["a.txt"])

    assert_complete(s3batch, job_id, succeeded=1, failed=0)
    assert len(handler.calls) == 3
    assert {event["tasks"][0]["s3Key"] for event in handler.events} == {"a.txt"}
    assert only_row(s3batch, job_id)["TaskStatus"] == "succeeded"


def test_temporary_failure_gives_up_after_max_attempts(s3batch: S3Batch) -> None:
    handler = Recorder(lambda event: respond(event, "TemporaryFailure", "busy"))
    s3batch.register_lambda(FUNCTION_ARN, handler)

    job_id = lambda_job(s3batch, ["a.txt"])

    assert_complete(s3batch, job_id, succeeded=0, failed=1)
    assert len(handler.calls) == s3batch_mock.execution._lambdas.MAX_ATTEMPTS
    row = only_row(s3batch, job_id)
    assert row["TaskStatus"] == "failed"
    assert row["ErrorCode"] == "TemporaryFailure"


def test_temporary_failure_retries_are_per_task(s3batch: S3Batch) -> None:
    attempts: dict[str, int] = {}

    def answer(event: dict[str, Any]) -> dict[str, Any]:
        key = event["tasks"][0]["s3Key"]
        attempts[key] = attempts.get(key, 0) + 1
        return respond(event, "Succeeded" if attempts[key] == 2 else "TemporaryFailure")

    s3batch.register_lambda(FUNCTION_ARN, Recorder(answer))

    job_id = lambda_job(s3batch, ["a.txt", "b.txt", "c.txt"])

    assert_complete(s3batch, job_id, succeeded=3, failed=0)
    assert attempts == {"a.txt": 2, "b.txt": 2, "c.txt": 2}


def missing_results(treat_as: str | None) -> Callable[[dict[str, Any]], Any]:
    def answer(event: dict[str, Any]) -> dict[str, Any]:
        response: dict[str, Any] = {
            "invocationSchemaVersion": "1.0",
            "invocationId": event["invocationId"],
            "results": [],
        }
        if treat_as is not None:
            response["treatMissingKeysAs"] = treat_as
        return response

    return answer


def test_missing_result_treated_as_succeeded(s3batch: S3Batch) -> None:
    s3batch.register_lambda(FUNCTION_ARN, Recorder(missing_results("Succeeded")))

    job_id = lambda_job(s3batch, ["a.txt", "b.txt"])

    assert_complete(s3batch, job_id, succeeded=2, failed=0)
    assert {row["TaskStatus"] for row in report_rows(s3batch, job_id)} == {"succeeded"}


def test_missing_result_defaults_to_permanent_failure(s3batch: S3Batch) -> None:
    handler = Recorder(missing_results(None))
    s3batch.register_lambda(FUNCTION_ARN, handler)

    job_id = lambda_job(s3batch, ["a.txt", "b.txt"])

    assert_complete(s3batch, job_id, succeeded=0, failed=2)
    assert len(handler.calls) == 2
    rows = report_rows(s3batch, job_id)
    assert [(row["TaskStatus"], row["ErrorCode"]) for row in rows] == [
        ("failed", "PermanentFailure"),
        ("failed", "PermanentFailure"),
    ]


def test_handler_exception_fails_task_not_job(s3batch: S3Batch) -> None:
    def handler(event: dict[str, Any], context: Any) -> Any:
        raise ValueError("boom")

    s3batch.register_lambda(FUNCTION_ARN, handler)

    job_id = lambda_job(s3batch, ["a.txt", "b.txt"])

    assert_complete(s3batch, job_id, succeeded=0, failed=2)
    client = s3control(REGION)
    job = client.describe_job(AccountId=ACCOUNT, JobId=job_id)["Job"]
    assert job["Status"] == "Complete"
    assert job["ProgressSummary"]["NumberOfTasksFailed"] == 2
    for row in report_rows(s3batch, job_id):
        assert row["TaskStatus"] == "failed"
        assert row["ErrorCode"] == "PermanentFailure"
        assert row["ResultMessage"].startswith("Lambda returned function error:")
        assert "boom" in row["ResultMessage"]
        assert "ValueError" in row["ResultMessage"]


def _circular() -> list[Any]:
    """A resultString no JSON encoder can write."""
    loop: list[Any] = []
    loop.append(loop)
    return loop


def test_handler_exception_whose_str_fails_still_fails_only_the_task(s3batch: S3Batch) -> None:
    class Unprintable(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no text")

    def handler(event: dict[str, Any], context: Any) -> Any:
        raise Unprintable

    s3batch.register_lambda(FUNCTION_ARN, handler)

    job_id = lambda_job(s3batch, ["a.txt"])

    assert_complete(s3batch, job_id, succeeded=0, failed=1)
    row = only_row(s3batch, job_id)
    assert (row["TaskStatus"], row["ErrorCode"]) == ("failed", "PermanentFailure")
    assert row["ResultMessage"].startswith("Lambda returned function error:")
    assert "Unprintable" in row["ResultMessage"]


@pytest.mark.parametrize(
    "answer",
    [
        lambda event: None,
        lambda event: "text",
        lambda event: {"results": "x"},
        lambda event: respond(event, "Maybe"),
        lambda event: respond(event, "Succeeded", _circular()),  # type: ignore[arg-type]
        lambda event: respond(event, "Succeeded", {(1, 2): "x"}),  # type: ignore[arg-type]
    ],
    ids=[
        "None",
        "text",
        "results-not-a-list",
        "unknown-result-code",
        "circular-result-string",
        "result-string-with-tuple-keys",
    ],
)
def test_invalid_response_fails_task(
    s3batch: S3Batch, answer: Callable[[dict[str, Any]], Any]
) -> None:
    s3batch.register_lambda(FUNCTION_ARN, Recorder(answer))

    job_id = lambda_job(s3batch, ["a.txt"])

    assert_complete(s3batch, job_id, succeeded=0, failed=1)
    row = only_row(s3batch, job_id)
    assert row["TaskStatus"] == "failed"
    assert "invalid" in row["ResultMessage"].lower()
    assert "response" in row["ResultMessage"].lower()


def test_unregistered_function_fails_every_task(s3batch: S3Batch) -> None:
    s3batch.register_lambda("some-other-function", Recorder())

    job_id = lambda_job(s3batch, ["a.txt", "b.txt", "c.txt"])

    assert_complete(s3batch, job_id, succeeded=0, failed=3)
    rows = report_rows(s3batch, job_id)
    assert len(rows) == 3
    for row in rows:
        assert row["TaskStatus"] == "failed"
        assert row["ErrorCode"] == "ResourceNotFoundException"
        assert FUNCTION_ARN in row["ResultMessage"]
        assert "register_lambda" in row["ResultMessage"]


def test_unregistered_function_without_any_registration(s3batch: S3Batch) -> None:
    job_id = lambda_job(s3batch, ["a.txt"], report=False)

    assert_complete(s3batch, job_id, succeeded=0, failed=1)


# --------------------------------------------------------------------------- registration


@pytest.mark.parametrize(
    ("registered", "invoked"),
    [
        (FUNCTION_ARN, FUNCTION_ARN),
        (FUNCTION, FUNCTION_ARN),
        (FUNCTION_ARN, FUNCTION),
        (FUNCTION, FUNCTION),
    ],
    ids=["arn-arn", "name-arn", "arn-name", "name-name"],
)
def test_registration_by_arn_or_name(s3batch: S3Batch, registered: str, invoked: str) -> None:
    handler = Recorder()
    s3batch.register_lambda(registered, handler)

    job_id = lambda_job(s3batch, ["a.txt"], function_arn=invoked, report=False)

    assert_complete(s3batch, job_id, succeeded=1, failed=0)
    assert len(handler.calls) == 1
    assert handler.calls[0][1].function_name == FUNCTION
    assert handler.calls[0][1].invoked_function_arn == invoked


def test_qualified_arn_prefers_qualified_registration(s3batch: S3Batch) -> None:
    plain, prod = Recorder(), Recorder()
    s3batch.register_lambda(f"{FUNCTION_ARN}:prod", prod)
    s3batch.register_lambda(FUNCTION_ARN, plain)

    qualified = lambda_job(s3batch, ["a.txt"], function_arn=f"{FUNCTION_ARN}:prod", report=False)

    assert_complete(s3batch, qualified, succeeded=1, failed=0)
    assert (len(prod.calls), len(plain.calls)) == (1, 0)
    assert prod.calls[0][1].invoked_function_arn == f"{FUNCTION_ARN}:prod"

    unqualified = lambda_job(s3batch, ["a.txt"], function_arn=FUNCTION_ARN, report=False)

    assert_complete(s3batch, unqualified, succeeded=1, failed=0)
    assert (len(prod.calls), len(plain.calls)) == (1, 1)


def test_qualified_arn_falls_back_to_unqualified_registration(s3batch: S3Batch) -> None:
    plain = Recorder()
    s3batch.register_lambda(FUNCTION, plain)

    job_id = lambda_job(s3batch, ["a.txt"], function_arn=f"{FUNCTION_ARN}:prod", report=False)

    assert_complete(s3batch, job_id, succeeded=1, failed=0)
    assert len(plain.calls) == 1


def test_qualified_registration_does_not_serve_other_qualifiers(s3batch: S3Batch) -> None:
    prod = Recorder()
    s3batch.register_lambda(f"{FUNCTION}:prod", prod)

    job_id = lambda_job(s3batch, ["a.txt"], function_arn=f"{FUNCTION_ARN}:dev")

    assert_complete(s3batch, job_id, succeeded=0, failed=1)
    assert prod.calls == []
    assert only_row(s3batch, job_id)["ErrorCode"] == "ResourceNotFoundException"


def test_register_rejects_invalid_function_name(s3batch: S3Batch) -> None:
    with pytest.raises(ValueError, match="not an arn!!"):
        s3batch.register_lambda("not an arn!!", Recorder())


def test_register_rejects_non_callable_handler(s3batch: S3Batch) -> None:
    with pytest.raises(TypeError, match="callable"):
        s3batch.register_lambda(FUNCTION_ARN, "not a handler")  # type: ignore[arg-type]


def test_reset_drops_registrations(s3batch: S3Batch) -> None:
    handler = Recorder()
    s3batch.register_lambda(FUNCTION_ARN, handler)
    before = lambda_job(s3batch, ["a.txt"], report=False)
    assert_complete(s3batch, before, succeeded=1, failed=0)

    s3batch.reset()
    after = lambda_job(s3batch, ["a.txt"])

    assert_complete(s3batch, after, succeeded=0, failed=1)
    assert len(handler.calls) == 1
    assert only_row(s3batch, after)["ErrorCode"] == "ResourceNotFoundException"


# --------------------------------------------------------------------------- threshold


@pytest.mark.parametrize(("failing", "status"), [(600, "Failed"), (500, "Complete")])
def test_failure_threshold_applies_to_lambda_jobs(
    s3batch: S3Batch, failing: int, status: str
) -> None:
    keys = [f"obj-{n:04d}" for n in range(1000)]
    doomed = set(keys[:failing])

    def answer(event: dict[str, Any]) -> dict[str, Any]:
        key = unquote_plus(event["tasks"][0]["s3Key"])
        return respond(event, "PermanentFailure" if key in doomed else "Succeeded")

    handler = Recorder(answer)
    s3batch.register_lambda(FUNCTION_ARN, handler)

    job_id = lambda_job(s3batch, keys, report=False)

    job = s3batch.job(job_id)
    assert job.status == status, (job.status_history, job.failure_reasons)
    assert job.total_tasks == 1000
    assert job.failed_tasks == failing
    assert len(handler.calls) == 1000
    if status == "Failed":
        assert len(job.failure_reasons) == 1
        assert "50%" in job.failure_reasons[0][1]
    else:
        assert job.failure_reasons == []
