"""Execution at scale: a tagging job of 100,000 and of 1,000,000 tasks.

Run with ``nox -s benchmarks`` (every benchmark) or ``python
benchmarks/bench_execution.py`` (``--quick``: 10,000 and 100,000 tasks). Each size runs
in a fresh interpreter so peak memory is its own. Figures are reported per task and as
ratios of the large job to the small one, measured on the same machine in the same
session, since absolute numbers on shared machines are noise.

Goal (issue #3): the 1M job costs at most 12x the 100k job in time and at most 2x in
peak memory: manifests and reports are streamed, never held whole.

Time and memory come from separate jobs over the same objects and manifest
(tracemalloc slows every allocation), so the objects are set up once per size. The
100,000-task job is timed three times (the median counts): a single run varies by a
quarter on a shared machine, and the 1,000,000-task one is too long to repeat.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import tracemalloc
from typing import Any

import _harness
import boto3

from s3batch_mock import S3Batch, mock_s3batch

SIZES = (100_000, 1_000_000)
QUICK_SIZES = (10_000, 100_000)
ACCOUNT = "123456789012"


def measure(tasks: int, runs: int) -> dict[str, float]:
    """Set up ``tasks`` objects and a manifest, then time ``runs`` jobs (the median
    counts) and trace one more."""
    with mock_s3batch(progression="manual", tasks_per_step=10_000) as batch:
        store = batch.objects
        store.create_bucket("reports")
        lines = []
        for n in range(tasks):
            key = f"photos/{n:07d}.jpg"
            store.put("media", key, b"")
            lines.append(f"media,{key}\n")
        etag = store.put("manifests", "big.csv", "".join(lines))
        del lines
        client = boto3.client("s3control", region_name="us-east-1")

        timings = []
        for _ in range(runs):
            job_id = create(client, etag)
            started = time.perf_counter()
            run(batch, job_id, tasks)
            timings.append(time.perf_counter() - started)

        job_id = create(client, etag)
        tracemalloc.start()
        baseline = tracemalloc.get_traced_memory()[0]
        run(batch, job_id, tasks)
        peak = tracemalloc.get_traced_memory()[1] - baseline
        tracemalloc.stop()
    return {"tasks": tasks, "seconds": statistics.median(timings), "peak_bytes": peak}


def create(client: Any, etag: str) -> str:
    job_id: str = client.create_job(
        AccountId=ACCOUNT,
        ConfirmationRequired=False,
        Operation={"S3PutObjectTagging": {"TagSet": [{"Key": "k", "Value": "v"}]}},
        Manifest={
            "Spec": {"Format": "S3BatchOperations_CSV_20180820", "Fields": ["Bucket", "Key"]},
            "Location": {"ObjectArn": "arn:aws:s3:::manifests/big.csv", "ETag": etag},
        },
        Report={
            "Enabled": True,
            "Bucket": "arn:aws:s3:::reports",
            "Format": "Report_CSV_20180820",
            "ReportScope": "AllTasks",
        },
        Priority=1,
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/batch",
    )["JobId"]
    return job_id


def run(batch: S3Batch, job_id: str, tasks: int) -> None:
    batch.run(job_id)
    job = batch.job(job_id)
    if job.status != "Complete" or job.succeeded_tasks != tasks:
        raise RuntimeError(f"the benchmark job did not complete: {job}")


def main() -> int:
    if "--one" in sys.argv:  # a child: one size, JSON out
        parser = argparse.ArgumentParser()
        parser.add_argument("--one", type=int, required=True)
        parser.add_argument("--runs", type=int, default=1)
        one = parser.parse_args()
        print(json.dumps(measure(one.one, one.runs)))
        return 0
    args = _harness.options(__doc__.splitlines()[0] if __doc__ else None)
    sizes = QUICK_SIZES if args.quick else SIZES
    # A single run varies by a quarter on a shared machine: the small job, cheap to
    # repeat, runs three times and its median counts.
    small, large = _child(sizes[0], 3), _child(sizes[1], 1)
    for r in (small, large):
        print(
            f"{r['tasks']:>9,.0f} tasks: {r['seconds']:7.2f} s, "
            f"{r['seconds'] / r['tasks'] * 1e6:6.1f} us/task, "
            f"peak {r['peak_bytes'] / 2**20:7.1f} MiB"
        )
    title = f"{large['tasks']:,.0f} tasks vs {small['tasks']:,.0f}"
    # The goals are about 100,000 against 1,000,000 tasks: a quick run's smaller jobs
    # take fewer steps of ``tasks_per_step`` than the ratio assumes, so it only reports.
    time_goal, memory_goal = (None, None) if args.quick else (12.0, 2.0)
    rows = [
        _harness.Row(
            f"job run time: {title}",
            f"{large['tasks']:,.0f}",
            large["seconds"],
            f"{small['tasks']:,.0f}",
            small["seconds"],
            large["seconds"] / small["seconds"],
            time_goal,
            "10x the tasks: linear is 10x",
        ),
        _harness.Row(
            f"job peak memory: {title}",
            f"{large['tasks']:,.0f}",
            large["peak_bytes"],
            f"{small['tasks']:,.0f}",
            small["peak_bytes"],
            large["peak_bytes"] / small["peak_bytes"],
            memory_goal,
            "manifests and reports are streamed",
            unit="B",
        ),
    ]
    _harness.report(rows, args)
    return 0


def _child(size: int, runs: int) -> dict[str, float]:
    """One size measured in a fresh interpreter, so its peak memory is its own."""
    command = [sys.executable, __file__, "--one", str(size), "--runs", str(runs)]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


if __name__ == "__main__":
    sys.exit(main())
