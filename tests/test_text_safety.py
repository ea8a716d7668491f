"""Text can never break a response (issue 10, item 2; design section 5, last row).

Whatever text enters the mock, through an operation's parameters, a manifest of
either format, a ManifestGenerator's listing, ``objects.put``, ``inject_error`` or a
Lambda handler's result, it is either refused where it enters (a modeled error, or a
``ValueError`` naming the value) or carried safely into every later response and
report. The properties below feed arbitrary text (control characters, lone
surrogates, XML specials, very long strings) to each entry point and then ask every
operation about every job: each answer must be one botocore parses, a result or a
modeled ``ClientError``, and every report must be UTF-8 CSV that reads back.
"""

from __future__ import annotations

import csv
import datetime
import gzip
import io
import json
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any, TypeVar
from urllib.parse import quote

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ParamValidationError
from botocore.parsers import create_parser
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from s3batch_mock import S3Batch, mock_s3batch
from s3batch_mock._errors import S3ControlError
from s3batch_mock._text import NOT_XML, utf8_text, xml_text
from s3batch_mock.wire._s3control import render_error, render_result, service_model
from tests.conftest import ACCOUNT, ROLE, csv_manifest_job, describe, s3control, store_of

T = TypeVar("T")

MODELED_CODES = frozenset(
    {
        "BadRequestException",
        "NotFoundException",
        "JobStatusException",
        "IdempotencyException",
        "TooManyTagsException",
        "InvalidRequestException",
        "InvalidNextTokenException",
        "InternalServiceException",
        "TooManyRequestsException",
    }
)
FUNCTION_ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:text"
REPORT = {"Enabled": True, "Bucket": "arn:aws:s3:::reports", "Format": "Report_CSV_20180820"}
REPORT_COLUMNS = 7
RESULT_CODES = ("Succeeded", "PermanentFailure", "TemporaryFailure")

#: What the properties did, for the closing note (printed at the end of the module).
FIGURES: Counter[str] = Counter()

#: Every code point, lone surrogates (category Cs) and unassigned ones included.
ANY_CHARACTER = st.characters(exclude_categories=())
#: Characters that have broken responses or rows, to be met often.
NASTY = "<>&\"'\x00\x01\x08\x0b\x0c\x1f\r\n\t \x85\u2028\ud800\udbff\udc80\udfff\ufffe\uffff%é😀"
HOSTILE = st.one_of(
    st.text(ANY_CHARACTER, max_size=30),
    st.text(st.sampled_from(NASTY), max_size=30),
    # very long: a few characters repeated, past every maximum of the model
    st.builds(
        lambda unit, times: unit * times,
        st.text(st.one_of(ANY_CHARACTER, st.sampled_from(NASTY)), min_size=1, max_size=3),
        st.integers(100, 1500),
    ),
)
KEYS = st.one_of(
    st.text(ANY_CHARACTER, min_size=1, max_size=20),
    st.text(st.sampled_from(NASTY), min_size=1, max_size=20),
)


def fuzz(examples: int) -> settings:
    """Settings of the properties: no deadline (the first example loads botocore's
    model), no example database written into the tree."""
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )


@pytest.fixture(autouse=True, scope="module")
def _figures() -> Iterator[None]:
    yield
    print("\ntext safety figures:", dict(sorted(FIGURES.items())))


# --------------------------------------------------------------------------- checks


def attempt(call: Callable[[], T]) -> T | None:
    """``call()``'s result, or None when the call was refused as it may be: a modeled
    error botocore parsed, or botocore refusing the input before sending it. Anything
    else (an unparseable response, an exception out of the mock) fails the test."""
    FIGURES["calls"] += 1
    error: Any = None
    try:
        return call()
    except ClientError as exc:
        error = exc.response
        FIGURES["modeled errors"] += 1
    except ParamValidationError:
        FIGURES["refused by botocore"] += 1
    except UnicodeEncodeError as exc:  # botocore cannot percent-encode a lone surrogate
        frames = [f.filename for f in traceback.extract_tb(exc.__traceback__)]
        ours = [f for f in frames if "s3batch_mock" in f or "botocore" in f]
        assert "s3batch_mock" not in ours[-1], f"raised by the mock: {frames}"
        FIGURES["refused by botocore"] += 1
    if error is not None:
        # A bare status ("400") is what botocore reports when it cannot read the body.
        assert error["Error"]["Code"] in MODELED_CODES, error
        assert error["Error"].get("Message"), error
    return None


def assert_all_answer(batch: S3Batch, client: Any) -> None:
    """Every operation on every job answers something botocore parses, and each
    string it answers is XML-safe and within its maximum."""
    pages = attempt(lambda: client.list_jobs(AccountId=ACCOUNT, MaxResults=1000))
    assert pages is not None, "ListJobs of the account must answer"
    for job_id in [job.job_id for job in batch.jobs()]:
        found = attempt(lambda: describe(client, job_id))  # noqa: B023 - called at once
        assert found is not None, f"DescribeJob of {job_id} must answer"
        for failure in found.get("FailureReasons", []):
            assert 1 <= len(failure["FailureCode"]) <= 64, failure
            assert 1 <= len(failure["FailureReason"]) <= 256, failure
            assert not NOT_XML.search(failure["FailureCode"] + failure["FailureReason"])
        tags = attempt(lambda: client.get_job_tagging(AccountId=ACCOUNT, JobId=job_id))  # noqa: B023
        assert tags is not None, f"GetJobTagging of {job_id} must answer"
        assert_reports_read(batch, job_id)
    FIGURES["jobs asked about"] += len(batch.jobs())


def assert_reports_read(batch: S3Batch, job_id: str) -> None:
    """Every object the job wrote (report, generated manifest) is UTF-8 that reads back."""
    for bucket in ("reports",):
        for key in batch.objects.keys(bucket):
            if f"job-{job_id}/" not in key:
                continue
            body = batch.objects.get(bucket, key)
            if key.endswith(".gz"):
                body = gzip.decompress(body)
            text = body.decode("utf-8")  # strict: a row UTF-8 cannot carry fails here
            if key.endswith(".json"):
                json.loads(text)
            else:
                rows = list(csv.reader(io.StringIO(text, newline="")))
                assert all(len(row) in (3, REPORT_COLUMNS) for row in rows), rows
                FIGURES["report rows read"] += len(rows)


def store(batch: S3Batch, bucket: str, key: str, body: bytes) -> bool:
    """Put an object; False when ``objects.put`` refuses the key (a ValueError)."""
    try:
        batch.objects.put(bucket, key, body)
    except ValueError:
        FIGURES["keys refused by objects.put"] += 1
        return False
    return True


def store_anyway(batch: S3Batch, bucket: str, key: str) -> None:
    """Put an object whatever its key: a key ``objects.put`` refuses is written with the
    store's own ``write`` (as a job writes), so listings can still meet it."""
    if not store(batch, bucket, key, b"x"):
        batch.objects.create_bucket(bucket)
        try:
            store_of(batch).write(bucket, key, io.BytesIO(b"x"))
        except ValueError:
            FIGURES["keys refused by the store"] += 1


def run_all(batch: S3Batch) -> None:
    """Move every job as far as it goes; nothing may escape ``run``."""
    batch.run()
    FIGURES["jobs run"] += len(batch.jobs())


# --------------------------------------------------------------------------- properties


@pytest.mark.slow
@fuzz(60)
@given(text=HOSTILE, job_id=HOSTILE)
def test_operation_parameters(text: str, job_id: str) -> None:
    """Each text parameter of the eight operations, one at a time."""
    FIGURES["inputs"] += 1
    with mock_s3batch() as batch:
        client = s3control()
        etag = batch.objects.put("manifests", "manifest.csv", "data,a.txt\n")
        batch.objects.put("data", "a.txt", b"a")
        batch.objects.create_bucket("reports")
        variants: list[dict[str, Any]] = [
            {"Description": text},
            {"ClientRequestToken": text},
            {"Tags": [{"Key": text, "Value": "v"}]},
            {"Tags": [{"Key": "k", "Value": text}]},
            {"Report": {**REPORT, "Prefix": text, "ReportScope": "AllTasks"}},
            {"Operation": {"S3PutObjectTagging": {"TagSet": [{"Key": "k", "Value": text}]}}},
        ]
        for overrides in variants:
            attempt(lambda o=overrides: csv_manifest_job(client, etag, **o))  # type: ignore[misc]
        target = csv_manifest_job(client, etag, ConfirmationRequired=True)
        batch.step(target)
        batch.step(target)  # Suspended, so an update to Ready is allowed
        attempt(
            lambda: client.update_job_status(
                AccountId=ACCOUNT,
                JobId=target,
                RequestedJobStatus="Ready",
                StatusUpdateReason=text,
            )
        )
        attempt(
            lambda: client.put_job_tagging(
                AccountId=ACCOUNT, JobId=target, Tags=[{"Key": "k", "Value": text}]
            )
        )
        attempt(lambda: client.describe_job(AccountId=ACCOUNT, JobId=job_id))
        attempt(lambda: client.update_job_priority(AccountId=ACCOUNT, JobId=job_id, Priority=1))
        attempt(lambda: client.delete_job_tagging(AccountId=ACCOUNT, JobId=job_id))
        attempt(lambda: client.list_jobs(AccountId=ACCOUNT, NextToken=text or "x"))
        run_all(batch)
        assert_all_answer(batch, client)


ROW_KEYS = st.lists(
    st.one_of(
        st.tuples(st.just("text"), KEYS),  # a key, URL-encoded into its row
        st.tuples(st.just("bytes"), st.binary(min_size=1, max_size=9)),  # any bytes, encoded
        st.tuples(st.just("raw"), KEYS),  # written into the row as it is
    ),
    min_size=1,
    max_size=6,
)


def _cell(kind: str, key: str | bytes) -> str:
    if isinstance(key, bytes):
        return quote(key, safe="")
    if kind == "text":
        return quote(key.encode("utf-8", "surrogatepass"), safe="/")
    return key


def _csv_text(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


@pytest.mark.slow
@fuzz(60)
@given(keys=ROW_KEYS)
def test_csv_manifest_rows(keys: list[tuple[str, str | bytes]]) -> None:
    """CSV manifest rows with any keys, and percent-encoded bytes that are not UTF-8."""
    FIGURES["inputs"] += 1
    with mock_s3batch() as batch:
        client = s3control()
        batch.objects.create_bucket("reports")
        for kind, key in keys:
            if kind == "text" and isinstance(key, str):
                store(batch, "data", key, b"x")
        # The manifest's own bytes may not be UTF-8 (a raw lone surrogate): the job fails.
        body = _csv_text([["data", _cell(kind, key)] for kind, key in keys])
        etag = batch.objects.put("manifests", "m.csv", body.encode("utf-8", "surrogatepass"))
        job_id = csv_manifest_job(
            client,
            etag,
            key="m.csv",
            ConfirmationRequired=False,
            Report={**REPORT, "ReportScope": "AllTasks"},
        )
        run_all(batch)
        assert_all_answer(batch, client)
        job = batch.job(job_id)
        assert job.status in ("Complete", "Failed"), job.status_history
        assert job.total_tasks >= job.succeeded_tasks + job.failed_tasks
        if job.status == "Complete":  # a key that is not UTF-8 fails its task
            assert job.failed_tasks >= sum(_not_utf8(kind, key) for kind, key in keys)


def _not_utf8(kind: str, key: str | bytes) -> bool:
    """Whether a row's key, URL-decoded, is not UTF-8 (rows written as they are aside)."""
    try:
        if isinstance(key, bytes):
            key.decode("utf-8")
        elif kind == "text":
            key.encode("utf-8")
    except UnicodeError:
        return True
    return False


@pytest.mark.slow
@fuzz(60)
@given(files=st.lists(KEYS, min_size=1, max_size=3), rows=st.lists(KEYS, max_size=4))
def test_inventory_manifests(files: list[str], rows: list[str]) -> None:
    """An inventory manifest.json naming data files by any key, with rows of any keys."""
    FIGURES["inputs"] += 1
    with mock_s3batch() as batch:
        client = s3control()
        batch.objects.create_bucket("reports")
        data = gzip.compress(_csv_text([["data", _cell("text", key)] for key in rows]).encode())
        for name in files:
            store(batch, "inv", name, data)
        document = {
            "sourceBucket": "data",
            "destinationBucket": "arn:aws:s3:::inv",
            "fileFormat": "CSV",
            "fileSchema": "Bucket, Key",
            "files": [{"key": name} for name in files],
        }
        # json.dumps writes a lone surrogate as the escape \ud800, as any JSON may hold.
        etag = batch.objects.put("inv", "manifest.json", json.dumps(document))
        job_id = client.create_job(
            AccountId=ACCOUNT,
            Operation={"S3PutObjectTagging": {"TagSet": []}},
            Report={**REPORT, "ReportScope": "AllTasks"},
            Manifest={
                "Spec": {"Format": "S3InventoryReport_CSV_20161130"},
                "Location": {"ObjectArn": "arn:aws:s3:::inv/manifest.json", "ETag": etag},
            },
            Priority=1,
            RoleArn=ROLE,
            ConfirmationRequired=False,
        )["JobId"]
        run_all(batch)
        assert_all_answer(batch, client)
        assert batch.job(job_id).status in ("Complete", "Failed")


def generator_job(client: Any, **generator: Any) -> str:
    """A ManifestGenerator job over bucket ``src``, its manifest and report in ``reports``."""
    return str(
        client.create_job(
            AccountId=ACCOUNT,
            Operation={"S3PutObjectTagging": {"TagSet": []}},
            Report={**REPORT, "Prefix": "report", "ReportScope": "AllTasks"},
            ManifestGenerator={
                "S3JobManifestGenerator": {
                    "SourceBucket": "arn:aws:s3:::src",
                    "EnableManifestOutput": True,
                    "ManifestOutputLocation": {
                        "Bucket": "arn:aws:s3:::reports",
                        "ManifestPrefix": "generated",
                        "ManifestFormat": "S3InventoryReport_CSV_20211130",
                    },
                    **generator,
                }
            },
            Priority=1,
            RoleArn=ROLE,
            ConfirmationRequired=False,
        )["JobId"]
    )


@pytest.mark.slow
@fuzz(60)
@given(keys=st.lists(KEYS, min_size=1, max_size=5))
def test_generator_listings(keys: list[str]) -> None:
    """A ManifestGenerator listing a bucket that holds objects under any keys."""
    FIGURES["inputs"] += 1
    with mock_s3batch() as batch:
        client = s3control()
        batch.objects.create_bucket("reports")
        for key in keys:
            store_anyway(batch, "src", key)
        batch.objects.create_bucket("src")
        generator_job(client)
        run_all(batch)
        assert_all_answer(batch, client)


@pytest.mark.slow
@fuzz(60)
@given(
    operation=st.sampled_from(["DescribeJob", "ListJobs", "GetJobTagging", "UpdateJobPriority"]),
    code=st.sampled_from(sorted(MODELED_CODES)),
    message=HOSTILE,
)
def test_injected_error_messages(operation: str, code: str, message: str) -> None:
    """``inject_error`` with any message: refused (ValueError) or answered parseably."""
    FIGURES["inputs"] += 1
    with mock_s3batch() as batch:
        # Without retries, so a 5xx code injected once is the answer botocore parses.
        client = s3control(config=Config(retries={"total_max_attempts": 1}))
        batch.objects.create_bucket("reports")
        etag = batch.objects.put("manifests", "manifest.csv", "data,a.txt\n")
        job_id = csv_manifest_job(client, etag)
        try:
            batch.inject_error(operation, code, message=message)
        except ValueError:
            FIGURES["messages refused by inject_error"] += 1
            return
        calls: dict[str, Callable[[], Any]] = {
            "DescribeJob": lambda: describe(client, job_id),
            "ListJobs": lambda: client.list_jobs(AccountId=ACCOUNT),
            "GetJobTagging": lambda: client.get_job_tagging(AccountId=ACCOUNT, JobId=job_id),
            "UpdateJobPriority": lambda: client.update_job_priority(
                AccountId=ACCOUNT, JobId=job_id, Priority=2
            ),
        }
        with pytest.raises(ClientError) as raised:
            calls[operation]()
        assert raised.value.response["Error"]["Code"] == code
        FIGURES["injected errors parsed"] += 1
        assert_all_answer(batch, client)


def lambda_job(batch: S3Batch, client: Any, keys: list[str]) -> str:
    """A LambdaInvoke job over ``keys`` in bucket ``data``, with a report."""
    for key in keys:
        batch.objects.put("data", key, b"x")
    rows = _csv_text([["data", quote(key, safe="/")] for key in keys])
    etag = batch.objects.put("manifests", "manifest.csv", rows)
    batch.objects.create_bucket("reports")
    return csv_manifest_job(
        client,
        etag,
        ConfirmationRequired=False,
        Operation={"LambdaInvoke": {"FunctionArn": FUNCTION_ARN}},
        Report={**REPORT, "ReportScope": "AllTasks"},
    )


def answering(code: str, message: str) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """A handler answering every task with ``code`` and ``message``."""

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {
            "invocationSchemaVersion": event["invocationSchemaVersion"],
            "treatMissingKeysAs": "PermanentFailure",
            "invocationId": event["invocationId"],
            "results": [
                {"taskId": task["taskId"], "resultCode": code, "resultString": message}
                for task in event["tasks"]
            ],
        }

    return handler


@pytest.mark.slow
@fuzz(60)
@given(
    code=st.one_of(st.sampled_from(RESULT_CODES), HOSTILE),
    message=HOSTILE,
)
def test_lambda_results(code: str, message: str) -> None:
    """A Lambda handler answering any resultCode and resultString."""
    FIGURES["inputs"] += 1
    with mock_s3batch() as batch:
        client = s3control()
        batch.register_lambda(FUNCTION_ARN, answering(code, message))
        job_id = lambda_job(batch, client, ["a.txt", "b c.txt"])
        run_all(batch)
        assert_all_answer(batch, client)
        rows = report_rows(batch, job_id)
        assert len(rows) == 2
        if code in ("Succeeded", "PermanentFailure"):
            assert {row[6] for row in rows} == {utf8_text(message)}


def report_rows(batch: S3Batch, job_id: str) -> list[list[str]]:
    """Every row of the job's report result CSVs in bucket ``reports``, any prefix."""
    rows: list[list[str]] = []
    for key in batch.objects.keys("reports"):
        if f"job-{job_id}/results/" not in key:
            continue
        text = batch.objects.get("reports", key).decode("utf-8")
        rows.extend(csv.reader(io.StringIO(text, newline="")))
    return rows


# --------------------------------------------------------------------------- the renderer


def _parse(operation: str, status: int, headers: dict[str, str], body: bytes) -> Any:
    """What botocore's RestXMLParser makes of a response (it raises if it cannot)."""
    shape = service_model().operation_model(operation).output_shape
    assert shape is not None
    response = {"status_code": status, "headers": headers, "body": body}
    return create_parser("rest-xml").parse(response, shape)


def _within(text: str, maximum: int) -> str:
    """What the renderer writes of ``text`` for a shape with that maximum."""
    cut = text if len(text) <= maximum else text[: maximum - 1] + "\u2026"
    return xml_text(cut)


@pytest.mark.slow
@fuzz(100)
@given(description=HOSTILE, reason=HOSTILE, code=HOSTILE, tag=HOSTILE)
def test_rendered_strings_parse(description: str, reason: str, code: str, tag: str) -> None:
    """Any strings in a result render to XML botocore reads back: each replaced only
    where XML 1.0 cannot carry it, and cut at its shape's maximum."""
    FIGURES["inputs"] += 1
    at = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
    job = {
        "JobId": "00000000-0000-0000-0000-000000000000",
        "Description": description,
        "Status": "Failed",
        "Priority": 1,
        "StatusUpdateReason": reason,
        "FailureReasons": [{"FailureCode": code, "FailureReason": reason}],
        "Operation": {"S3PutObjectTagging": {"TagSet": [{"Key": tag, "Value": tag}]}},
        "Report": {"Enabled": False},
        "CreationTime": at,
    }
    response = render_result("DescribeJob", {"Job": job}, "REQUEST")
    parsed = _parse("DescribeJob", 200, response.headers, response.body)["Job"]
    FIGURES["documents rendered"] += 1
    assert parsed["Description"] == _within(description, 256)
    assert parsed["StatusUpdateReason"] == _within(reason, 256)
    assert parsed["FailureReasons"] == [
        {"FailureCode": _within(code, 64), "FailureReason": _within(reason, 256)}
    ]
    tags = parsed["Operation"]["S3PutObjectTagging"]["TagSet"]
    assert tags == [{"Key": _within(tag, 128), "Value": _within(tag, 256)}]

    error = render_error(S3ControlError(description, code="BadRequestException"), "REQUEST")
    answer = _parse("DescribeJob", error.status, error.headers, error.body)["Error"]
    assert answer["Code"] == "BadRequestException"
    assert (answer["Message"] or "") == xml_text(description)  # an empty one parses as None


# --------------------------------------------------------------------------- the cases found


def inventory_job(batch: S3Batch, client: Any, files: list[str]) -> str:
    """An inventory-manifest job whose manifest.json names ``files`` (none stored)."""
    document = {"fileSchema": "Bucket, Key", "files": [{"key": name} for name in files]}
    etag = batch.objects.put("inv", "manifest.json", json.dumps(document))
    return str(
        client.create_job(
            AccountId=ACCOUNT,
            Operation={"S3PutObjectTagging": {"TagSet": []}},
            Report={"Enabled": False},
            Manifest={
                "Spec": {"Format": "S3InventoryReport_CSV_20161130"},
                "Location": {"ObjectArn": "arn:aws:s3:::inv/manifest.json", "ETag": etag},
            },
            Priority=1,
            RoleArn=ROLE,
            ConfirmationRequired=False,
        )["JobId"]
    )


@pytest.mark.parametrize(
    ("name", "shown", "code"),
    [
        ("data/a\u0001.csv.gz", "data/a\\x01.csv.gz", "NoSuchKey"),
        ("data/a\ud800.csv.gz", "data/a\\ud800.csv.gz", "InvalidManifest"),
    ],
)
def test_inventory_file_key_that_xml_cannot_carry(
    s3batch: S3Batch, name: str, shown: str, code: str
) -> None:
    """The issue's case: the job fails, with the key escaped readably in its reason,
    and DescribeJob and ListJobs still answer (they raised before)."""
    client = s3control()
    job_id = inventory_job(s3batch, client, [name])
    s3batch.run(job_id)
    job = describe(client, job_id)
    assert job["Status"] == "Failed"
    [failure] = job["FailureReasons"]
    assert failure["FailureCode"] == code
    assert shown in failure["FailureReason"]
    assert client.list_jobs(AccountId=ACCOUNT)["Jobs"][0]["Status"] == "Failed"


def test_long_key_in_a_failure_reason_fits_the_model(s3batch: S3Batch) -> None:
    """A reason naming a 1,000-character key keeps within JobFailureReason's 256, the
    key's middle elided, and says what failed."""
    client = s3control()
    job_id = inventory_job(s3batch, client, ["k" * 500 + "\x01" + "z" * 500])
    s3batch.run(job_id)
    [failure] = describe(client, job_id)["FailureReasons"]
    assert len(failure["FailureReason"]) <= 256
    assert failure["FailureReason"].startswith("Reading the inventory data file s3://inv/kkk")
    assert "k\u2026z" in failure["FailureReason"]  # the key shortened in its middle
    assert s3batch.job(job_id).failure_reasons == [("NoSuchKey", failure["FailureReason"])]


def test_csv_row_key_that_is_not_utf8_fails_its_task(s3batch: S3Batch) -> None:
    """``%ED%A0%80`` (an encoded surrogate) decodes to no text: its task fails with a
    readable reason, the report keeps the row's key, the other task runs."""
    client = s3control()
    s3batch.objects.put("data", "a.txt", b"a")
    s3batch.objects.create_bucket("reports")
    etag = s3batch.objects.put("manifests", "manifest.csv", "data,%ED%A0%80\ndata,a.txt\n")
    job_id = csv_manifest_job(
        client, etag, ConfirmationRequired=False, Report={**REPORT, "ReportScope": "AllTasks"}
    )
    s3batch.run(job_id)
    job = describe(client, job_id)
    assert job["Status"] == "Complete"
    assert job["ProgressSummary"]["NumberOfTasksFailed"] == 1
    [failed] = [row for row in report_rows(s3batch, job_id) if row[3] == "failed"]
    assert failed[:2] == ["data", "%ED%A0%80"]
    assert failed[5] == "InvalidRequest"
    assert "%ED%A0%80 is not valid UTF-8 once URL-decoded" in failed[6]


def test_listed_key_with_lone_surrogate(s3batch: S3Batch) -> None:
    """The issue's case: a key with a lone surrogate in the listed bucket. ``objects.put``
    refuses it (a ValueError naming it); a store holding it anyway (written as a job
    writes) fails its task readably, and DescribeJob and ListJobs still answer."""
    with pytest.raises(ValueError, match="ud800"):
        s3batch.objects.put("src", "a\ud800", b"x")
    store_anyway(s3batch, "src", "a\ud800")
    store_anyway(s3batch, "src", "b")
    s3batch.objects.create_bucket("reports")
    client = s3control()
    job_id = generator_job(client)
    s3batch.run(job_id)
    assert client.list_jobs(AccountId=ACCOUNT)["Jobs"][0]["Status"] == "Complete"
    job = describe(client, job_id)
    assert job["ProgressSummary"]["NumberOfTasksFailed"] == 1
    assert job["ProgressSummary"]["NumberOfTasksSucceeded"] == 1
    [failed] = [row for row in report_rows(s3batch, job_id) if row[3] == "failed"]
    assert failed[1] == "a%ED%A0%80"
    assert "a\\ud800 is not valid UTF-8" in failed[6]
    generated = [k for k in s3batch.objects.keys("reports", "generated/") if k.endswith(".gz")]
    listed = gzip.decompress(s3batch.objects.get("reports", generated[0])).decode("utf-8")
    assert "src,a%ED%A0%80," in listed


def test_injected_message_with_lone_surrogate(s3batch: S3Batch) -> None:
    """The issue's case: ``inject_error(..., message="\\ud800")`` is refused naming the
    value; and an error message holding one anyway renders as botocore reads it."""
    with pytest.raises(ValueError, match="ud800"):
        s3batch.inject_error("ListJobs", "InvalidRequestException", message="\ud800")
    error = S3ControlError("bad \ud800\x01 <&>", code="InvalidRequestException")
    response = render_error(error, "REQUEST")
    answer = _parse("ListJobs", response.status, response.headers, response.body)["Error"]
    assert answer == {"Code": "InvalidRequestException", "Message": "bad \ufffd\ufffd <&>"}


def test_injected_message_with_xml_specials(s3batch: S3Batch) -> None:
    client = s3control()
    s3batch.inject_error("ListJobs", "InvalidRequestException", message="<a> & 'b' \"c\"\r\n")
    with pytest.raises(ClientError) as raised:
        client.list_jobs(AccountId=ACCOUNT)
    assert raised.value.response["Error"]["Message"] == "<a> & 'b' \"c\"\r\n"


def test_lambda_result_string_that_utf8_cannot_carry(s3batch: S3Batch) -> None:
    """A resultString with a lone surrogate, CR and NUL: the report row is UTF-8 and
    reads back, the surrogate replaced, the rest kept."""
    client = s3control()
    s3batch.register_lambda(FUNCTION_ARN, answering("Succeeded", "a\ud800\r\x00b"))
    job_id = lambda_job(s3batch, client, ["a.txt"])
    s3batch.run(job_id)
    assert describe(client, job_id)["Status"] == "Complete"
    [row] = report_rows(s3batch, job_id)
    assert row[6] == "a\ufffd\r\x00b"


def test_inventory_data_file_with_corrupt_deflate_stream(s3batch: S3Batch) -> None:
    """A data file whose gzip stream is corrupt (``zlib.error``, not an ``OSError``)
    fails the job with a readable reason instead of escaping ``run``."""
    client = s3control()
    data = bytearray(gzip.compress(b"data,a.txt\n" * 100))
    data[10] ^= 0xFF  # the first byte of the deflate stream
    s3batch.objects.put("inv", "data.csv.gz", bytes(data))
    job_id = inventory_job(s3batch, client, ["data.csv.gz"])
    s3batch.objects.put("data", "a.txt", b"a")
    s3batch.run(job_id)
    job = describe(client, job_id)
    assert job["Status"] == "Failed"
    assert job["FailureReasons"][0]["FailureCode"] == "InvalidManifest"
    assert "cannot be read" in job["FailureReasons"][0]["FailureReason"]
