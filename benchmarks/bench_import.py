"""What importing s3batch_mock costs over importing boto3.

Run with ``nox -s benchmarks`` (every benchmark) or ``python benchmarks/bench_import.py``
(``--quick`` for a smoke run). Each import runs in a fresh interpreter, the two
alternating, and the figure is the ratio of the medians of their wall times: the whole
``python -c "import ..."`` process, so interpreter start-up is in both.

Goal (issue #5): at most 1.25x. Since issue #9 the package loads its names when first
used, so ``import s3batch_mock`` alone imports neither botocore nor boto3 and comes in
well under 1x; ``from s3batch_mock import mock_s3batch`` pays for botocore then.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import _harness

ROOT = Path(__file__).resolve().parent.parent


def import_seconds(module: str) -> float:
    """Wall time of ``python -c "import <module>"`` in a fresh interpreter."""
    env = dict(os.environ)
    # The source tree first, so an uninstalled checkout measures itself.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.pop("PYTHONSTARTUP", None)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", f"import {module}"], check=True, env=env)
    return time.perf_counter() - started


def main() -> int:
    args = _harness.options(__doc__.splitlines()[0] if __doc__ else None)
    repeats = 5 if args.quick else 21
    import_seconds("s3batch_mock.plugin")  # compile the package once, so no side pays for it
    ours: list[float] = []
    theirs: list[float] = []
    for repeat in range(repeats):
        pair = ("s3batch_mock", "boto3") if repeat % 2 else ("boto3", "s3batch_mock")
        for module in pair:
            (ours if module == "s3batch_mock" else theirs).append(import_seconds(module))
    subject, baseline = statistics.median(ours), statistics.median(theirs)
    row = _harness.Row(
        "import, fresh interpreter",
        "import s3batch_mock",
        subject,
        "import boto3",
        baseline,
        subject / baseline,
        1.25,
        "whole process wall time: the package is lazy, its names load on first use",
    )
    _harness.report([row], args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
