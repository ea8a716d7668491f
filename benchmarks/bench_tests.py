"""What a user's test suite pays: a typical S3 Batch test against moto's smallest test, and
what the pytest plugin adds to a run that never uses it.

Run with ``nox -s benchmarks`` (every benchmark) or ``python benchmarks/bench_tests.py``
(``--quick`` for a smoke run).

- **A typical test** (issue #9): activate the mock, create an s3control client, put a
  manifest, create a job, poll DescribeJob to Complete, leave; against the smallest moto
  test: ``mock_aws``, one STS client, one call. Both as a test suite runs them, one after
  another in one process, in alternating batches. Goal: at most 0.5x.
- **The plugin at rest** (issue #9): a pytest run of one trivial test with the plugin
  loaded, against the same run with ``-p no:s3batch_mock``, each in a fresh interpreter,
  alternating. Goal: at most 0.05 s more (shown as a ratio with that goal folded in).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _harness
import boto3
from moto import mock_aws

from s3batch_mock import mock_s3batch

ROOT = Path(__file__).resolve().parent.parent


def typical_test() -> None:
    with mock_s3batch() as batch:
        client: Any = boto3.client("s3control", region_name="us-east-1")
        job_id = _harness.tagging_job(batch, client)
        status = ""
        while status not in ("Complete", "Failed", "Cancelled"):
            status = client.describe_job(AccountId=_harness.ACCOUNT, JobId=job_id)["Job"]["Status"]
        assert status == "Complete", status


def smallest_moto_test() -> None:
    with mock_aws():
        boto3.client("sts", region_name="us-east-1").get_caller_identity()


def batch_of(test: object, number: int) -> float:
    assert callable(test)
    return _harness.per_call(test, number)


def pytest_seconds(folder: Path, *flags: str) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *flags, str(folder)],
        check=True,
        env=env,
        cwd=folder,
        capture_output=True,
    )
    return time.perf_counter() - started


def main() -> int:
    args = _harness.options(__doc__.splitlines()[0] if __doc__ else None)
    number, repeats = (3, 3) if args.quick else (10, 9)
    typical_test()  # warm both sides: imports and the first session's models
    smallest_moto_test()
    pair = _harness.paired(
        lambda: batch_of(typical_test, number),
        lambda: batch_of(smallest_moto_test, number),
        repeats=repeats,
    )
    rows = [
        _harness.Row(
            "a typical test vs moto's smallest",
            "mock, client, manifest, job polled to Complete",
            pair.subject,
            "mock_aws + STS client + 1 call",
            pair.baseline,
            pair.ratio,
            0.5,
            "per test, in one process as a suite runs them",
        )
    ]
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        (folder / "test_plain.py").write_text("def test_plain():\n    assert True\n")
        pytest_seconds(folder)  # compile once, so neither side pays for it
        loaded: list[float] = []
        unloaded: list[float] = []
        for repeat in range(5 if args.quick else 15):
            sides = [(loaded, ()), (unloaded, ("-p", "no:s3batch_mock"))]
            for times, flags in sides if repeat % 2 else sides[::-1]:
                times.append(pytest_seconds(folder, *flags))
    with_plugin, without = statistics.median(loaded), statistics.median(unloaded)
    rows.append(
        _harness.Row(
            "pytest run that never uses the mock",
            "plugin loaded",
            with_plugin,
            "-p no:s3batch_mock",
            without,
            with_plugin / without,
            (without + 0.05) / without,
            f"adds {1000 * (with_plugin - without):+.0f} ms (goal: at most +50 ms)",
        )
    )
    _harness.report(rows, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
