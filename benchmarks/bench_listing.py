"""What a ListJobs page costs as jobs pile up: 10,000 jobs against 100.

Run with ``nox -s benchmarks`` (every benchmark) or ``python benchmarks/bench_listing.py``
(``--quick`` for a smoke run). Each figure is a ratio of two sides measured in this
process, call by call in turn; see ``_harness.py``.

Goal (issue #5): one ``list_jobs`` call costs at most 1.5x more with 10,000 jobs than
with 100, so a page costs what is on it, not what is stored.

The two sides are two mock states (backends) in one process, the active one swapped
before each call, so both are measured under the same conditions. Jobs are created
through the backend (a real CreateJob's parameters, replayed with new tokens): 10,000
CreateJob calls through boto3 would take most of a minute and measure nothing of
interest here. Every measured call goes through a real boto3 client.

``poll``, the default progression, steps every job of the account that a ListJobs
call observes and is not at rest; at rest (all Complete here) the call only looks.
``manual`` never steps. Both are measured; so is the first call after creation, when
every job is New and the call steps each one, for context.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import _harness
import boto3

from s3batch_mock import S3Batch, mock_s3batch
from s3batch_mock._backend import Backend
from s3batch_mock._hooks import activate, active_backend

ACCOUNT = "123456789012"
REGION = "us-east-1"
MANY, FEW = 10_000, 100


def create_job_params(batch: S3Batch) -> dict[str, Any]:
    """The parameters of one CreateJob made through boto3, as the mock received them."""
    client = boto3.client("s3control", region_name=REGION)
    client.create_job(
        AccountId=ACCOUNT,
        ConfirmationRequired=False,
        Operation={"S3PutObjectTagging": {"TagSet": [{"Key": "k", "Value": "v"}]}},
        Manifest={
            "Spec": {"Format": "S3BatchOperations_CSV_20180820", "Fields": ["Bucket", "Key"]},
            "Location": {"ObjectArn": "arn:aws:s3:::manifests/m.csv", "ETag": manifest(batch)},
        },
        Report={"Enabled": False},
        Description="benchmark job",
        Priority=10,
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/batch",
        ClientRequestToken="template",
    )
    return dict(batch.calls[-1].params)


def manifest(batch: S3Batch) -> str:
    batch.objects.put("photos", "a.jpg", b"a")
    return batch.objects.put("manifests", "m.csv", "photos,a.jpg\n")


def populate(backend: Backend, params: dict[str, Any], jobs: int, *, run: bool) -> None:
    """``jobs`` jobs made from ``params`` (new tokens), run to Complete when ``run``."""
    for number in range(jobs):
        backend.create_job(ACCOUNT, REGION, {**params, "ClientRequestToken": f"job-{number}"})
    if run:
        backend.run()


def prepared(batch: S3Batch, params: dict[str, Any], jobs: int, *, run: bool) -> Backend:
    """A backend like the active one, with its manifest and ``jobs`` jobs."""
    backend = Backend(active_backend().settings)  # type: ignore[union-attr]
    backend.embedded.put("photos", "a.jpg", b"a")
    backend.embedded.put("manifests", "m.csv", batch.objects.get("manifests", "m.csv"))
    populate(backend, params, jobs, run=run)
    return backend


def on(backend: Backend, call: Callable[[], object]) -> Callable[[], object]:
    """``call`` with ``backend`` answering (activating it costs one attribute store)."""

    def run() -> object:
        activate(backend)
        return call()

    return run


def compare(
    client: Any, large: Backend, small: Backend, page: int | None, rounds: int, block: int
) -> _harness.Pair:
    """One ListJobs (``page`` per page, or the default) against each backend, in turn."""
    kwargs: dict[str, Any] = {"AccountId": ACCOUNT}
    if page is not None:
        kwargs["MaxResults"] = page
    for backend in (large, small):
        activate(backend)
        listed = client.list_jobs(**kwargs)["Jobs"]
        if not listed or {j["Status"] for j in listed} != {"Complete"}:
            raise RuntimeError(f"expected Complete jobs, listed {listed[:1]}")
    return _harness.alternate(
        on(large, lambda: client.list_jobs(**kwargs)),
        on(small, lambda: client.list_jobs(**kwargs)),
        rounds=rounds,
        block=block,
    )


def in_flight(repeats: int, many: int, few: int) -> _harness.Pair:
    """The first ListJobs (100 per page) after creation: every job is New, and poll mode
    steps each one."""
    with mock_s3batch() as batch:
        params = create_job_params(batch)
        outer = active_backend()
        client = boto3.client("s3control", region_name=REGION)

        def first_call(jobs: int) -> Callable[[], float]:
            def measure() -> float:
                backend = prepared(batch, params, jobs, run=False)
                activate(backend)
                return _harness.per_call(
                    lambda: client.list_jobs(AccountId=ACCOUNT, MaxResults=100), 1
                )

            return measure

        pair = _harness.paired(first_call(many), first_call(few), repeats=repeats)
        activate(outer)  # type: ignore[arg-type]
    return pair


def main() -> int:
    args = _harness.options(__doc__.splitlines()[0] if __doc__ else None)
    many = 2_000 if args.quick else MANY
    rounds = 4 if args.quick else 20
    title = f"{many:,} jobs vs {FEW}"
    rows = []

    def row(name: str, pair: _harness.Pair, baseline: int, goal: float | None, note: str) -> None:
        rows.append(
            _harness.Row(
                name,
                f"{many:,} jobs",
                pair.subject,
                f"{baseline:,} jobs",
                pair.baseline,
                pair.ratio,
                goal,
                note,
            )
        )

    for progression in ("manual", "poll"):
        with mock_s3batch(progression=progression) as batch:
            params = create_job_params(batch)
            outer = active_backend()
            client = boto3.client("s3control", region_name=REGION)
            large = prepared(batch, params, many, run=True)
            small = prepared(batch, params, FEW, run=True)
            mode = "manual" if progression == "manual" else "poll, at rest"
            pair = compare(client, large, small, 100, rounds, 5)
            row(f"ListJobs, 100 per page, {mode}: {title}", pair, FEW, 1.5, "")
            if progression == "poll":
                # A default page lists up to 1,000 jobs: as many as the 100 stored, or
                # 1,000 of the 10,000 (each page costing about 10x a 100-job page).
                pair = compare(client, large, small, None, max(2, rounds // 5), 2)
                row(
                    f"ListJobs, default page, {mode}: {title}",
                    pair,
                    FEW,
                    1.5,
                    f"lists {min(many, 1000):,} jobs against {FEW}: what a page costs is "
                    "what is on it (see docs/performance.md)",
                )
                middle = prepared(batch, params, 1000, run=True)
                pair = compare(client, large, middle, None, max(2, rounds // 5), 2)
                row(
                    f"ListJobs, default page, {mode}: {many:,} jobs vs 1,000",
                    pair,
                    1000,
                    1.5,
                    "both pages list 1,000 jobs",
                )
            activate(outer)  # type: ignore[arg-type]
    pair = in_flight(3 if args.quick else 5, many, FEW)
    row(
        f"ListJobs, 100 per page, poll, first call after creation: {title}",
        pair,
        FEW,
        None,
        "poll mode steps every job the call observes (here New -> Preparing)",
    )
    _harness.report(rows, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
