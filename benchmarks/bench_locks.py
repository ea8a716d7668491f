"""What one account's large manifest costs another account's calls: p99 latency of
account B's calls while account A prepares a 300,000-row manifest, against idle.

Run with ``nox -s benchmarks`` (every benchmark) or ``python benchmarks/bench_locks.py``
(``--quick`` for a smoke run: 30,000 rows, fewer calls). Both sides are measured in
this process, in one run; see ``_harness.py``.

Goal (issue 10, "locks scoped to the work"): while account A's job reads its manifest
(the Preparing step, in a thread of its own), account B's ListJobs and DescribeJob
calls, through a real boto3 client, have a p99 latency at most 5x their p99 when
nothing else runs. Preparing holds no lock across the manifest, so what remains is
sharing the interpreter with a busy thread (the GIL), not waiting for A.

Measured in manual mode, so B's calls only look (no step of B's jobs is timed), and
A's step is taken by ``batch.step`` in a background thread, as a test's helper thread
or a polling loop of another client would.
"""

from __future__ import annotations

import statistics
import sys
import threading
import time
from typing import Any

import _harness
import boto3

from s3batch_mock import S3Batch, mock_s3batch

ACCOUNT_A = "111111111111"
ACCOUNT_B = "222222222222"
REGION = "us-east-1"
ROWS, QUICK_ROWS = 300_000, 30_000


def create_job(client: Any, account: str, etag: str, key: str) -> str:
    job_id: str = client.create_job(
        AccountId=account,
        ConfirmationRequired=True,
        Operation={"S3PutObjectTagging": {"TagSet": [{"Key": "k", "Value": "v"}]}},
        Manifest={
            "Spec": {"Format": "S3BatchOperations_CSV_20180820", "Fields": ["Bucket", "Key"]},
            "Location": {"ObjectArn": f"arn:aws:s3:::manifests/{key}", "ETag": etag},
        },
        Report={"Enabled": False},
        Priority=10,
        RoleArn=f"arn:aws:iam::{account}:role/batch",
    )["JobId"]
    return job_id


def b_calls(client: Any, job_id: str) -> list[Any]:
    """Account B's two calls, alternated by the measuring loop."""
    return [
        lambda: client.list_jobs(AccountId=ACCOUNT_B),
        lambda: client.describe_job(AccountId=ACCOUNT_B, JobId=job_id),
    ]


def timed(calls: list[Any], number: int, until: threading.Event | None = None) -> list[float]:
    """Seconds of each of ``number`` calls (alternating), or of every call made until
    ``until`` is set (at least one round)."""
    clock = time.perf_counter
    latencies: list[float] = []
    index = 0
    while index < number if until is None else (not until.is_set() or index < len(calls)):
        started = clock()
        calls[index % len(calls)]()
        latencies.append(clock() - started)
        index += 1
    return latencies


def p99(latencies: list[float]) -> float:
    return statistics.quantiles(latencies, n=100, method="inclusive")[98]


def prepare_in_background(batch: S3Batch, job_id: str) -> tuple[threading.Event, list[float]]:
    """Start A's Preparing step (the whole manifest) in a thread; set when done."""
    done = threading.Event()
    took: list[float] = []

    def prepare() -> None:
        started = time.perf_counter()
        batch.step(job_id)  # Preparing -> Suspended: reads every row
        took.append(time.perf_counter() - started)
        done.set()

    threading.Thread(target=prepare, daemon=True).start()
    return done, took


def main() -> int:
    args = _harness.options(__doc__.splitlines()[0] if __doc__ else None)
    rows = QUICK_ROWS if args.quick else ROWS
    rounds = 2 if args.quick else 3
    idle_calls = 300 if args.quick else 2000
    with mock_s3batch(progression="manual") as batch:
        client = boto3.client("s3control", region_name=REGION)
        batch.objects.put("data", "a", b"a")
        small = batch.objects.put("manifests", "small.csv", "data,a\n")
        for _ in range(20):  # account B: a few finished jobs to list
            job_b = create_job(client, ACCOUNT_B, small, "small.csv")
            batch.run(job_b)  # to Suspended, awaiting confirmation
            client.update_job_status(AccountId=ACCOUNT_B, JobId=job_b, RequestedJobStatus="Ready")
            batch.run(job_b)
        large = batch.objects.put(
            "manifests", "large.csv", "".join(f"data,key-{n}\n" for n in range(rows))
        )
        calls = b_calls(client, job_b)
        timed(calls, 50)  # warm up botocore's caches
        idle: list[float] = []
        busy: list[float] = []
        took: list[float] = []
        for _ in range(rounds):
            idle += timed(calls, idle_calls // rounds)
            job_a = create_job(client, ACCOUNT_A, large, "large.csv")
            batch.step(job_a)  # New -> Preparing
            done, seconds = prepare_in_background(batch, job_a)
            busy += timed(calls, 0, until=done)
            done.wait()
            took += seconds
            if batch.job(job_a).total_tasks != rows:
                raise RuntimeError(f"job A prepared {batch.job(job_a).total_tasks} rows")
    idle_p99, busy_p99 = p99(idle), p99(busy)
    row = _harness.Row(
        f"Account B's ListJobs/DescribeJob while account A prepares {rows:,} rows: p99",
        "during A's Preparing",
        busy_p99,
        "idle",
        idle_p99,
        busy_p99 / idle_p99,
        5.0,
        f"{len(busy)} calls during {rounds} preparations of {statistics.median(took):.2f} s "
        f"each, {len(idle)} idle; slowest call {max(busy) * 1e3:.1f} ms",
    )
    _harness.report([row], args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
