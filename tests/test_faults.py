"""Fault injection: ``batch.inject_error`` and ``batch.inject_latency``, seen through boto3.

Injected errors must look exactly like AWS's own to botocore: the modeled exception
class, the HTTP status botocore's retry modes key on (TooManyRequestsException 400,
InternalServiceException 500; aws-semantics 6.3), an entry in ``batch.calls`` per
attempt, and no side effect on the mock's state.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import botocore.config
import botocore.endpoint
import pytest

from s3batch_mock import S3Batch, mock_s3batch
from tests.conftest import ACCOUNT, csv_manifest_job, s3control

SERVED = (
    "CreateJob",
    "DeleteJobTagging",
    "DescribeJob",
    "GetJobTagging",
    "ListJobs",
    "PutJobTagging",
    "UpdateJobPriority",
    "UpdateJobStatus",
)


@pytest.fixture
def batch() -> Iterator[S3Batch]:
    with mock_s3batch(progression="manual") as controller:
        yield controller


@pytest.fixture
def backoffs(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """botocore's retry backoff sleeps really; record the sleeps instead of taking them.

    botocore sleeps between attempts in ``botocore.endpoint`` (``time.sleep``); only that
    module's ``time`` is replaced, so the mock's own sleeps (inject_latency) stay real.
    """
    slept: list[float] = []
    monkeypatch.setattr(botocore.endpoint, "time", SimpleNamespace(sleep=slept.append))
    return slept


def client(mode: str | None = None, **retries: Any) -> Any:
    """An s3control client; ``mode`` and ``retries`` go to botocore's retry config."""
    if mode is None and not retries:
        return s3control()
    config: Any = dict(retries)
    if mode is not None:
        config["mode"] = mode
    return s3control(config=botocore.config.Config(retries=config))


def no_retries() -> Any:
    return client("standard", total_max_attempts=1)


def new_job(batch: S3Batch) -> str:
    etag = batch.objects.put("manifests", "manifest.csv", b"data,a.txt\n")
    batch.objects.put("data", "a.txt", b"a")
    return csv_manifest_job(s3control(), etag)


def describe(c: Any, job_id: str) -> dict[str, Any]:
    return c.describe_job(AccountId=ACCOUNT, JobId=job_id)  # type: ignore[no-any-return]


def calls_of(batch: S3Batch, operation: str) -> list[Any]:
    return [call for call in batch.calls if call.operation == operation]


def error_codes(batch: S3Batch, operation: str) -> list[str | None]:
    return [call.error_code for call in calls_of(batch, operation)]


# --------------------------------------------------------------------------- basics


class TestInjectError:
    def test_next_call_raises_the_modeled_exception_then_calls_work(self, batch):
        job_id = new_job(batch)
        c = s3control()
        batch.inject_error("DescribeJob", "NotFoundException")

        with pytest.raises(c.exceptions.NotFoundException) as excinfo:
            describe(c, job_id)
        assert excinfo.value.response["Error"]["Code"] == "NotFoundException"
        assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400

        assert describe(c, job_id)["Job"]["JobId"] == job_id
        assert describe(c, job_id)["Job"]["JobId"] == job_id
        assert error_codes(batch, "DescribeJob") == ["NotFoundException", None, None]

    def test_count_fails_exactly_that_many_calls(self, batch):
        job_id = new_job(batch)
        c = s3control()
        batch.inject_error("DescribeJob", "NotFoundException", count=3)

        for _ in range(3):
            with pytest.raises(c.exceptions.NotFoundException):
                describe(c, job_id)
        assert describe(c, job_id)["Job"]["JobId"] == job_id
        assert error_codes(batch, "DescribeJob") == ["NotFoundException"] * 3 + [None]

    def test_injected_call_is_recorded_with_status_and_code(self, batch):
        job_id = new_job(batch)
        batch.inject_error("DescribeJob", "NotFoundException")
        with pytest.raises(s3control().exceptions.NotFoundException):
            describe(s3control(), job_id)

        call = batch.calls[-1]
        assert call.operation == "DescribeJob"
        assert call.http_status == 400
        assert call.error_code == "NotFoundException"
        assert call.params["JobId"] == job_id

    def test_message_is_the_error_message(self, batch):
        batch.inject_error("ListJobs", "BadRequestException", message="the disk is on fire")
        c = no_retries()
        with pytest.raises(c.exceptions.BadRequestException) as excinfo:
            c.list_jobs(AccountId=ACCOUNT)
        assert excinfo.value.response["Error"]["Message"] == "the disk is on fire"
        assert "the disk is on fire" in str(excinfo.value)

    def test_default_message_names_code_and_operation(self, batch):
        batch.inject_error("ListJobs", "BadRequestException")
        c = no_retries()
        with pytest.raises(c.exceptions.BadRequestException) as excinfo:
            c.list_jobs(AccountId=ACCOUNT)
        message = excinfo.value.response["Error"]["Message"]
        assert "BadRequestException" in message
        assert "ListJobs" in message

    def test_http_status_overrides_the_default(self, batch):
        batch.inject_error("ListJobs", "BadRequestException", http_status=503)
        c = no_retries()
        with pytest.raises(c.exceptions.BadRequestException) as excinfo:
            c.list_jobs(AccountId=ACCOUNT)
        assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
        assert batch.calls[-1].http_status == 503
        assert batch.calls[-1].error_code == "BadRequestException"

    def test_internal_service_exception_defaults_to_500(self, batch):
        batch.inject_error("ListJobs", "InternalServiceException")
        c = no_retries()
        with pytest.raises(c.exceptions.InternalServiceException) as excinfo:
            c.list_jobs(AccountId=ACCOUNT)
        assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
        assert batch.calls[-1].http_status == 500

    def test_too_many_requests_defaults_to_400(self, batch):
        batch.inject_error("ListJobs", "TooManyRequestsException")
        c = no_retries()
        with pytest.raises(c.exceptions.TooManyRequestsException) as excinfo:
            c.list_jobs(AccountId=ACCOUNT)
        assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert batch.calls[-1].http_status == 400

    def test_injections_are_per_operation(self, batch):
        job_id = new_job(batch)
        c = s3control()
        batch.inject_error("DescribeJob", "NotFoundException")

        assert [job["JobId"] for job in c.list_jobs(AccountId=ACCOUNT)["Jobs"]] == [job_id]
        assert c.get_job_tagging(AccountId=ACCOUNT, JobId=job_id)["Tags"] == []
        assert error_codes(batch, "ListJobs") == [None]
        # The DescribeJob injection is still waiting for its call.
        with pytest.raises(c.exceptions.NotFoundException):
            describe(c, job_id)
        assert describe(c, job_id)["Job"]["JobId"] == job_id

    def test_several_injections_on_one_operation_are_consumed_in_order(self, batch):
        job_id = new_job(batch)
        c = no_retries()
        batch.inject_error("DescribeJob", "NotFoundException")
        batch.inject_error("DescribeJob", "BadRequestException")
        with pytest.raises(c.exceptions.NotFoundException):
            describe(c, job_id)
        with pytest.raises(c.exceptions.BadRequestException):
            describe(c, job_id)
        assert describe(c, job_id)["Job"]["JobId"] == job_id

    def test_injection_outlives_nothing_after_the_scope_ends(self):
        with mock_s3batch() as first:
            first.inject_error("ListJobs", "BadRequestException", count=5)
        with mock_s3batch() as second:
            assert s3control().list_jobs(AccountId=ACCOUNT)["Jobs"] == []
            assert error_codes(second, "ListJobs") == [None]


# --------------------------------------------------------------------------- retries


class TestRetries:
    """aws-semantics 6.3: how botocore's retry modes treat the injected statuses."""

    def test_too_many_requests_is_not_retried_in_legacy_mode(self, batch, backoffs):
        job_id = new_job(batch)
        c = client("legacy")
        batch.inject_error("DescribeJob", "TooManyRequestsException", count=10)

        with pytest.raises(c.exceptions.TooManyRequestsException) as excinfo:
            describe(c, job_id)
        assert excinfo.value.response["ResponseMetadata"]["RetryAttempts"] == 0
        assert error_codes(batch, "DescribeJob") == ["TooManyRequestsException"]
        assert backoffs == []

    def test_too_many_requests_is_retried_in_standard_mode(self, batch, backoffs):
        job_id = new_job(batch)
        c = client("standard")  # standard mode's default: 3 attempts in all
        batch.inject_error("DescribeJob", "TooManyRequestsException", count=10)

        with pytest.raises(c.exceptions.TooManyRequestsException) as excinfo:
            describe(c, job_id)
        assert excinfo.value.response["ResponseMetadata"]["RetryAttempts"] == 2
        assert error_codes(batch, "DescribeJob") == ["TooManyRequestsException"] * 3
        assert len(backoffs) == 2

    def test_standard_mode_honours_total_max_attempts(self, batch, backoffs):
        job_id = new_job(batch)
        c = client("standard", total_max_attempts=3)
        batch.inject_error("DescribeJob", "TooManyRequestsException", count=10)

        with pytest.raises(c.exceptions.TooManyRequestsException) as excinfo:
            describe(c, job_id)
        assert excinfo.value.response["ResponseMetadata"]["RetryAttempts"] == 2
        assert len(calls_of(batch, "DescribeJob")) == 3

    def test_max_attempts_counts_retries_not_attempts(self, batch, backoffs):
        # botocore's client-config ``max_attempts`` is the number of *retries*: N + 1 in all.
        job_id = new_job(batch)
        c = client("standard", max_attempts=3)
        batch.inject_error("DescribeJob", "TooManyRequestsException", count=10)

        with pytest.raises(c.exceptions.TooManyRequestsException) as excinfo:
            describe(c, job_id)
        assert excinfo.value.response["ResponseMetadata"]["RetryAttempts"] == 3
        assert len(calls_of(batch, "DescribeJob")) == 4

    def test_standard_mode_succeeds_when_the_throttling_ends_in_time(self, batch, backoffs):
        job_id = new_job(batch)
        c = client("standard", total_max_attempts=3)
        batch.inject_error("DescribeJob", "TooManyRequestsException", count=2)

        response = describe(c, job_id)
        assert response["Job"]["JobId"] == job_id
        assert response["ResponseMetadata"]["RetryAttempts"] == 2
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
        assert error_codes(batch, "DescribeJob") == [
            "TooManyRequestsException",
            "TooManyRequestsException",
            None,
        ]
        assert len(backoffs) == 2

    def test_internal_error_is_retried_five_times_in_legacy_mode(self, batch, backoffs):
        job_id = new_job(batch)
        c = client("legacy")
        batch.inject_error("DescribeJob", "InternalServiceException", count=10)

        with pytest.raises(c.exceptions.InternalServiceException) as excinfo:
            describe(c, job_id)
        assert excinfo.value.response["ResponseMetadata"]["RetryAttempts"] == 4
        assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
        assert error_codes(batch, "DescribeJob") == ["InternalServiceException"] * 5
        assert {call.http_status for call in calls_of(batch, "DescribeJob")} == {500}
        assert len(backoffs) == 4

    def test_default_retry_mode_retries_internal_errors(self, batch, backoffs):
        job_id = new_job(batch)
        c = client()  # no retry config at all: botocore's default mode
        # botocore defaulted to legacy (5 attempts) until 1.44, then to standard (3).
        attempts = {"legacy": 5, "standard": 3}[c.meta.config.retries["mode"]]
        batch.inject_error("DescribeJob", "InternalServiceException", count=10)

        with pytest.raises(c.exceptions.InternalServiceException):
            describe(c, job_id)
        assert len(calls_of(batch, "DescribeJob")) == attempts

    def test_internal_error_is_retried_three_times_in_standard_mode(self, batch, backoffs):
        job_id = new_job(batch)
        c = client("standard")
        batch.inject_error("DescribeJob", "InternalServiceException", count=10)

        with pytest.raises(c.exceptions.InternalServiceException) as excinfo:
            describe(c, job_id)
        assert excinfo.value.response["ResponseMetadata"]["RetryAttempts"] == 2
        assert error_codes(batch, "DescribeJob") == ["InternalServiceException"] * 3
        assert len(backoffs) == 2

    @pytest.mark.parametrize(("mode", "failures"), [("legacy", 4), ("standard", 2)])
    def test_internal_error_recovers_within_the_attempts(self, batch, backoffs, mode, failures):
        job_id = new_job(batch)
        c = client(mode)
        batch.inject_error("DescribeJob", "InternalServiceException", count=failures)

        response = describe(c, job_id)
        assert response["Job"]["JobId"] == job_id
        assert response["ResponseMetadata"]["RetryAttempts"] == failures
        assert error_codes(batch, "DescribeJob") == ["InternalServiceException"] * failures + [
            None
        ]

    @pytest.mark.parametrize("mode", ["legacy", "standard"])
    def test_not_found_is_never_retried(self, batch, backoffs, mode):
        job_id = new_job(batch)
        c = client(mode)
        batch.inject_error("DescribeJob", "NotFoundException", count=10)

        with pytest.raises(c.exceptions.NotFoundException) as excinfo:
            describe(c, job_id)
        assert excinfo.value.response["ResponseMetadata"]["RetryAttempts"] == 0
        assert len(calls_of(batch, "DescribeJob")) == 1

    def test_retried_create_job_creates_one_job(self, batch, backoffs):
        # botocore fills ClientRequestToken once per call, so the retry is idempotent.
        etag = batch.objects.put("manifests", "manifest.csv", b"data,a.txt\n")
        c = client("standard")
        batch.inject_error("CreateJob", "InternalServiceException", count=1)

        job_id = csv_manifest_job(c, etag)
        assert [job.job_id for job in batch.jobs()] == [job_id]
        create_calls = calls_of(batch, "CreateJob")
        assert [call.error_code for call in create_calls] == ["InternalServiceException", None]
        tokens = {call.params["ClientRequestToken"] for call in create_calls}
        assert len(tokens) == 1


# --------------------------------------------------------------------------- rates


def outcomes(batch: S3Batch, n: int = 40) -> list[bool]:
    """Call ListJobs ``n`` times (no retries): True for each call that failed."""
    c = no_retries()
    failed = []
    for _ in range(n):
        try:
            c.list_jobs(AccountId=ACCOUNT)
        except c.exceptions.TooManyRequestsException:
            failed.append(True)
        else:
            failed.append(False)
    return failed


def seeded_sequence(seed: int, rate: float = 0.5) -> list[bool]:
    with mock_s3batch() as batch:
        batch.inject_error("ListJobs", "TooManyRequestsException", rate=rate, seed=seed)
        sequence = outcomes(batch)
        # batch.calls agrees with what the client saw.
        assert [call.error_code is not None for call in batch.calls] == sequence
        return sequence


class TestRate:
    def test_same_seed_gives_the_same_sequence(self):
        first = seeded_sequence(7)
        second = seeded_sequence(7)
        assert first == second

    def test_different_seed_gives_a_different_sequence(self):
        assert seeded_sequence(7) != seeded_sequence(8)

    def test_failure_fraction_is_roughly_the_rate(self):
        sequence = seeded_sequence(7)
        assert 10 <= sum(sequence) <= 30
        # Not a fixed pattern such as "every other call" either: both outcomes repeat.
        assert any(a == b for a, b in itertools.pairwise(sequence))

    def test_rate_keeps_failing_beyond_any_count(self):
        with mock_s3batch() as batch:
            batch.inject_error("ListJobs", "TooManyRequestsException", rate=0.5, seed=7)
            assert sum(outcomes(batch, 200)) > 50

    def test_rate_zero_never_fails(self):
        with mock_s3batch() as batch:
            batch.inject_error("ListJobs", "TooManyRequestsException", rate=0, seed=1)
            assert outcomes(batch, 30) == [False] * 30

    def test_rate_one_always_fails_until_reset(self):
        with mock_s3batch() as batch:
            batch.inject_error("ListJobs", "TooManyRequestsException", rate=1)
            assert outcomes(batch, 30) == [True] * 30
            batch.reset()
            assert outcomes(batch, 5) == [False] * 5
            assert len(batch.calls) == 5

    def test_reset_clears_counted_injections(self):
        with mock_s3batch() as batch:
            batch.inject_error("ListJobs", "TooManyRequestsException", count=5)
            batch.inject_error("DescribeJob", "NotFoundException", count=5)
            batch.reset()
            job_id = new_job(batch)
            assert outcomes(batch, 3) == [False] * 3
            assert describe(s3control(), job_id)["Job"]["JobId"] == job_id


# --------------------------------------------------------------------------- no effect


class TestInjectedErrorChangesNothing:
    def test_create_job_creates_no_job(self, batch):
        etag = batch.objects.put("manifests", "manifest.csv", b"data,a.txt\n")
        c = no_retries()
        batch.inject_error("CreateJob", "InternalServiceException")

        with pytest.raises(c.exceptions.InternalServiceException):
            csv_manifest_job(c, etag)
        assert batch.jobs() == []
        assert c.list_jobs(AccountId=ACCOUNT)["Jobs"] == []

    def test_create_job_token_is_not_consumed(self, batch):
        etag = batch.objects.put("manifests", "manifest.csv", b"data,a.txt\n")
        c = no_retries()
        batch.inject_error("CreateJob", "BadRequestException")
        token = "3b1f6a2e-1b0e-4d2c-9a51-6a4c2b8a9f00"

        with pytest.raises(c.exceptions.BadRequestException):
            csv_manifest_job(c, etag, ClientRequestToken=token)
        # Same token, different request: a consumed token would be an IdempotencyException.
        job_id = csv_manifest_job(c, etag, ClientRequestToken=token, Priority=99)
        assert batch.job(job_id).priority == 99

    def test_update_job_status_leaves_the_status(self, batch):
        job_id = new_job(batch)
        c = no_retries()
        batch.inject_error("UpdateJobStatus", "InternalServiceException")

        with pytest.raises(c.exceptions.InternalServiceException):
            c.update_job_status(AccountId=ACCOUNT, JobId=job_id, RequestedJobStatus="Cancelled")
        assert batch.job(job_id).status == "New"
        assert batch.job(job_id).status_history == ["New"]
        assert describe(c, job_id)["Job"]["Status"] == "New"

    def test_update_job_priority_leaves_the_priority(self, batch):
        job_id = new_job(batch)
        c = no_retries()
        batch.inject_error("UpdateJobPriority", "TooManyRequestsException")

        with pytest.raises(c.exceptions.TooManyRequestsException):
            c.update_job_priority(AccountId=ACCOUNT, JobId=job_id, Priority=500)
        assert batch.job(job_id).priority == 10
        assert describe(c, job_id)["Job"]["Priority"] == 10

    def test_tagging_leaves_the_tags(self, batch):
        job_id = new_job(batch)
        c = no_retries()
        c.put_job_tagging(AccountId=ACCOUNT, JobId=job_id, Tags=[{"Key": "a", "Value": "1"}])
        batch.inject_error("PutJobTagging", "InternalServiceException")
        batch.inject_error("DeleteJobTagging", "InternalServiceException")

        with pytest.raises(c.exceptions.InternalServiceException):
            c.put_job_tagging(AccountId=ACCOUNT, JobId=job_id, Tags=[{"Key": "b", "Value": "2"}])
        with pytest.raises(c.exceptions.InternalServiceException):
            c.delete_job_tagging(AccountId=ACCOUNT, JobId=job_id)
        assert batch.job(job_id).tags == {"a": "1"}
        assert c.get_job_tagging(AccountId=ACCOUNT, JobId=job_id)["Tags"] == [
            {"Key": "a", "Value": "1"}
        ]

    def test_describe_job_does_not_step_the_job_in_poll_mode(self):
        with mock_s3batch() as batch:  # poll: a served DescribeJob moves the job
            job_id = new_job(batch)
            c = no_retries()
            batch.inject_error("DescribeJob", "InternalServiceException")
            with pytest.raises(c.exceptions.InternalServiceException):
                describe(c, job_id)
            assert batch.job(job_id).status_history == ["New"]
            assert describe(c, job_id)["Job"]["Status"] == "Preparing"


# --------------------------------------------------------------------------- validation


class TestValidation:
    def test_unknown_operation_lists_the_served_ones(self, batch):
        with pytest.raises(ValueError, match="DescribeJobs") as excinfo:
            batch.inject_error("DescribeJobs", "NotFoundException")
        message = str(excinfo.value)
        for operation in SERVED:
            assert operation in message

    def test_operation_the_mock_does_not_serve(self, batch):
        with pytest.raises(ValueError, match="GetAccessPoint"):
            batch.inject_error("GetAccessPoint", "NotFoundException")

    @pytest.mark.parametrize("rate", [1.5, -0.1])
    def test_rate_out_of_range(self, batch, rate):
        with pytest.raises(ValueError, match="rate"):
            batch.inject_error("ListJobs", "TooManyRequestsException", rate=rate)

    @pytest.mark.parametrize("count", [0, -1])
    def test_count_must_be_positive(self, batch, count):
        with pytest.raises(ValueError, match="count"):
            batch.inject_error("ListJobs", "TooManyRequestsException", count=count)

    @pytest.mark.parametrize("status", [200, 302, 399, 600])
    def test_http_status_must_be_an_error_status(self, batch, status):
        with pytest.raises(ValueError, match="http_status"):
            batch.inject_error("ListJobs", "TooManyRequestsException", http_status=status)

    @pytest.mark.parametrize("code", ["not a code!", "", "Bad-Code"])
    def test_code_must_look_like_an_error_code(self, batch, code):
        with pytest.raises(ValueError, match="code"):
            batch.inject_error("ListJobs", code)

    def test_rejected_injection_leaves_nothing_behind(self, batch):
        for name, value in (("rate", 1.5), ("count", 0), ("http_status", 200)):
            with pytest.raises(ValueError, match=name):
                batch.inject_error("ListJobs", "TooManyRequestsException", **{name: value})
        assert outcomes(batch, 3) == [False] * 3


# --------------------------------------------------------------------------- latency


class TestInjectLatency:
    def test_counted_delay_applies_to_that_call_only(self, batch):
        c = s3control()
        c.list_jobs(AccountId=ACCOUNT)  # warm the client up
        batch.inject_latency("ListJobs", 0.2, count=1)

        started = time.perf_counter()
        c.list_jobs(AccountId=ACCOUNT)
        delayed = time.perf_counter() - started

        started = time.perf_counter()
        c.list_jobs(AccountId=ACCOUNT)
        undelayed = time.perf_counter() - started

        assert delayed >= 0.2
        assert undelayed < 0.2

    def test_delay_is_per_operation(self, batch):
        job_id = new_job(batch)
        c = s3control()
        batch.inject_latency("ListJobs", 0.2, count=1)

        started = time.perf_counter()
        describe(c, job_id)
        assert time.perf_counter() - started < 0.2
        # Still waiting for its ListJobs call.
        started = time.perf_counter()
        c.list_jobs(AccountId=ACCOUNT)
        assert time.perf_counter() - started >= 0.2

    def test_delayed_call_still_answers(self, batch):
        job_id = new_job(batch)
        batch.inject_latency("DescribeJob", 0.01, count=1)
        assert describe(s3control(), job_id)["Job"]["JobId"] == job_id
        assert error_codes(batch, "DescribeJob") == [None]

    def test_negative_seconds_rejected(self, batch):
        with pytest.raises(ValueError, match="seconds"):
            batch.inject_latency("ListJobs", -0.1)

    def test_unknown_operation_rejected(self, batch):
        with pytest.raises(ValueError, match="ListJob"):
            batch.inject_latency("ListJob", 0.1)

    def test_reset_clears_latency(self, batch):
        c = s3control()
        batch.inject_latency("ListJobs", 0.5)
        batch.reset()
        started = time.perf_counter()
        c.list_jobs(AccountId=ACCOUNT)
        assert time.perf_counter() - started < 0.5
