"""Every benchmark, each in a fresh interpreter, then one table of all their results.

``nox -s benchmarks`` runs this; ``python benchmarks/run.py --quick`` is a smoke run.
Options after the script name go to every benchmark (``--quick``, ``--markdown``).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import _harness

HERE = Path(__file__).resolve().parent
#: Quick ones first; the execution benchmark (minutes, in full) last.
BENCHMARKS = (
    "bench_calls.py",
    "bench_listing.py",
    "bench_import.py",
    "bench_tests.py",
    "bench_locks.py",
    "bench_server.py",
    "bench_execution.py",
)


def main() -> int:
    args = _harness.options(__doc__.splitlines()[0] if __doc__ else None)
    passed = [flag for flag, on in (("--quick", args.quick), ("--markdown", args.markdown)) if on]
    with tempfile.TemporaryDirectory() as scratch:
        results = Path(scratch) / "rows.jsonl"
        for name in BENCHMARKS:
            print(f"== {name}", flush=True)
            command = [sys.executable, str(HERE / name), *passed, "--json", str(results)]
            subprocess.run(command, check=True)
            print(flush=True)
        rows = _harness.load(results)
    print("== all benchmarks")
    _harness.report(rows, args)
    missed = [row.name for row in rows if row.verdict == "MISSED"]
    print(f"\n{len(rows) - len(missed)} of {len(rows)} rows within their goals or for context")
    return 0


if __name__ == "__main__":
    sys.exit(main())
