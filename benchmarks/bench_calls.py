"""What a mocked call costs: DescribeJob against a canned answer and against moto, and
what entering and leaving the mock costs against moto's ``mock_aws``.

Run with ``nox -s benchmarks`` (every benchmark) or ``python benchmarks/bench_calls.py``
(``--quick`` for a smoke run). Each figure is a ratio of two sides measured in this
process in alternating batches; see ``_harness.py``.

Goals (issue #5):

- DescribeJob through the mock costs at most 1.15x the same call answered by a
  ``before-send`` handler that returns the very bytes the mock would (so both sides
  pay botocore's serialization and parsing, and only the mock's own work differs);
- at most 0.5x moto answering a comparable s3control call (GetAccessPoint);
- entering and leaving ``mock_s3batch()`` costs at most 0.05x ``mock_aws()``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import _harness
import boto3
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from moto import mock_aws

from s3batch_mock import S3Batch, mock_s3batch
from s3batch_mock._hooks import _Body, _on_before_send  # the same response body on both sides

ACCOUNT = _harness.ACCOUNT
REGION = "us-east-1"


def client() -> Any:
    return boto3.client("s3control", region_name=REGION)


def completed_job(batch: S3Batch, s3control: Any) -> str:
    """A job created through boto3 and run to Complete, so DescribeJob shows every
    member a finished job has (progress, TerminationDate) and does not move it."""
    job_id = _harness.tagging_job(batch, s3control)
    batch.run(job_id)
    return job_id


def captured_response(s3control: Any, job_id: str) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of the mock's answer to DescribeJob, as botocore saw it."""
    seen: list[dict[str, Any]] = []

    def keep(response_dict: dict[str, Any], **kwargs: Any) -> None:
        seen.append(response_dict)

    s3control.meta.events.register("before-parse.s3-control.DescribeJob", keep)
    s3control.describe_job(AccountId=ACCOUNT, JobId=job_id)
    s3control.meta.events.unregister("before-parse.s3-control.DescribeJob", keep)
    answer = seen[0]
    return answer["status_code"], dict(answer["headers"]), answer["body"]


def canned_client(status: int, headers: dict[str, str], body: bytes) -> Any:
    """A client whose s3control requests a ``before-send`` handler answers with fixed bytes.

    botocore calls every ``before-send`` handler, so the mock's own is unregistered
    from this client: only the canned handler does any work.
    """
    s3control = client()

    def answer(request: AWSPreparedRequest, **kwargs: Any) -> AWSResponse:
        # A plain dict, as the mock passes: AWSResponse copies it into a HeadersDict.
        fields: Any = headers
        return AWSResponse(request.url, status, fields, _Body(body))

    s3control.meta.events.unregister("before-send.s3-control", _on_before_send)
    s3control.meta.events.register("before-send.s3-control", answer)
    return s3control


def describe_vs_canned(rounds: int, block: int) -> _harness.Row:
    with mock_s3batch() as batch:
        # Set up with a client of its own: botocore's user agent lists the features a
        # client has used, so a client that created the job would send a longer one.
        setup = client()
        job_id = completed_job(batch, setup)
        canned = canned_client(*captured_response(setup, job_id))
        mocked = client()
        mine = canned.describe_job(AccountId=ACCOUNT, JobId=job_id)["Job"]
        theirs = mocked.describe_job(AccountId=ACCOUNT, JobId=job_id)["Job"]
        if mine != theirs or mine["Status"] != "Complete":
            raise RuntimeError("the canned answer differs from the mock's")
        pair = _harness.alternate(
            lambda: mocked.describe_job(AccountId=ACCOUNT, JobId=job_id),
            lambda: canned.describe_job(AccountId=ACCOUNT, JobId=job_id),
            rounds=rounds,
            block=block,
        )
    return _harness.Row(
        "DescribeJob, per call",
        "mock_s3batch",
        pair.subject,
        "canned before-send",
        pair.baseline,
        pair.ratio,
        1.15,
        "both sides pay botocore; the difference is the mock's own work",
    )


def describe_vs_moto(repeats: int, number: int) -> _harness.Row:
    def ours() -> float:
        with mock_s3batch() as batch:
            job_id = completed_job(batch, client())
            s3control = client()
            call: Callable[[], object] = lambda: s3control.describe_job(  # noqa: E731
                AccountId=ACCOUNT, JobId=job_id
            )
            call()
            return _harness.per_call(call, number)

    def moto() -> float:
        with mock_aws():
            client().create_access_point(AccountId=ACCOUNT, Name="benchmark", Bucket="photos")
            s3control = client()
            call: Callable[[], object] = lambda: s3control.get_access_point(  # noqa: E731
                AccountId=ACCOUNT, Name="benchmark"
            )
            call()
            return _harness.per_call(call, number)

    pair = _harness.paired(ours, moto, repeats=repeats)
    return _harness.Row(
        "DescribeJob vs moto, per call",
        "mock_s3batch DescribeJob",
        pair.subject,
        "moto GetAccessPoint",
        pair.baseline,
        pair.ratio,
        0.5,
        "moto serves no job call; GetAccessPoint is its closest s3control call: a GET "
        "of one resource by name, answered with a structure",
    )


def enter_exit_vs_moto(repeats: int, number: int) -> _harness.Row:
    def ours() -> None:
        with mock_s3batch():
            pass

    def moto() -> None:
        with mock_aws():
            pass

    ours()
    moto()
    pair = _harness.paired(
        lambda: _harness.per_call(ours, number * 20),
        lambda: _harness.per_call(moto, number),
        repeats=repeats,
    )
    return _harness.Row(
        "with-block enter + exit",
        "mock_s3batch()",
        pair.subject,
        "moto mock_aws()",
        pair.baseline,
        pair.ratio,
        0.05,
    )


def main() -> int:
    args = _harness.options(__doc__.splitlines()[0] if __doc__ else None)
    repeats = 5 if args.quick else 15
    rows = [
        describe_vs_canned(10 if args.quick else 40, 50),
        describe_vs_moto(repeats, 20 if args.quick else 100),
        enter_exit_vs_moto(repeats, 3 if args.quick else 10),
    ]
    _harness.report(rows, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
