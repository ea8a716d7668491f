"""Execution at scale: a tagging job of 100,000 and of 1,000,000 tasks.

Run with ``nox -s benchmarks`` (or ``python benchmarks/bench_execution.py``). Each
size runs in a fresh interpreter so peak memory is its own. Figures are reported
per task and as ratios of the large job to the small one, measured on the same
machine in the same session, since absolute numbers on shared machines are noise.

Goal (issue #3): the 1M job costs at most 12x the 100k job in time and at most 2x in
peak memory: manifests and reports are streamed, never held whole.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import tracemalloc

import boto3

from s3batch_mock import mock_s3batch

SIZES = (100_000, 1_000_000)


def measure(tasks: int, trace: bool) -> dict[str, float]:
    """Set up ``tasks`` objects and a manifest, then time (or trace) the job alone.

    Time and memory come from separate runs: tracemalloc slows every allocation.
    """
    account = "123456789012"
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
        job_id = client.create_job(
            AccountId=account,
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
            RoleArn=f"arn:aws:iam::{account}:role/batch",
        )["JobId"]
        if trace:
            tracemalloc.start()
        baseline = tracemalloc.get_traced_memory()[0]
        started = time.perf_counter()
        batch.run(job_id)
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] - baseline
        tracemalloc.stop()
        job = batch.job(job_id)
        if job.status != "Complete" or job.succeeded_tasks != tasks:
            raise RuntimeError(f"the benchmark job did not complete: {job}")
    return (
        {"tasks": tasks, "seconds": elapsed, "peak_bytes": peak}
        if trace
        else {
            "tasks": tasks,
            "seconds": elapsed,
        }
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--one", type=int, help="measure one size in this process")
    parser.add_argument("--trace", action="store_true", help="with --one: peak memory")
    parser.add_argument("--sizes", type=int, nargs="*", default=list(SIZES))
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.trace)))
        return 0
    results = []
    for size in args.sizes:
        timed, traced = (_child(size, trace) for trace in (False, True))
        results.append({**timed, "peak_bytes": traced["peak_bytes"]})
    for r in results:
        print(
            f"{r['tasks']:>9,} tasks: {r['seconds']:7.2f} s, "
            f"{r['seconds'] / r['tasks'] * 1e6:6.1f} us/task, "
            f"peak {r['peak_bytes'] / 2**20:7.1f} MiB"
        )
    if len(results) == 2:
        small, large = results
        time_ratio = large["seconds"] / small["seconds"]
        memory_ratio = large["peak_bytes"] / small["peak_bytes"]
        print(
            f"time ratio {time_ratio:.2f}x (goal <= 12x), memory ratio {memory_ratio:.2f}x "
            "(goal <= 2x)"
        )
    return 0


def _child(size: int, trace: bool) -> dict[str, float]:
    """One measurement in a fresh interpreter, so its peak memory is its own."""
    command = [sys.executable, __file__, "--one", str(size)] + (["--trace"] if trace else [])
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


if __name__ == "__main__":
    sys.exit(main())
