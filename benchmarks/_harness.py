"""What every benchmark shares: paired timing, the results table, the common options.

A figure from a shared or noisy machine means little alone, so every benchmark is a
ratio of a subject to a baseline measured in the same process, interleaved so that
noise hits both sides alike:

- ``alternate`` times single calls, subject and baseline in turn (which goes first
  alternates too), and compares the medians of the per-call times: a slow stretch of
  the machine slows both sides, and a burst of noise spoils a few calls the median
  ignores;
- ``paired`` does the same with batches, for sides that cannot be interleaved call by
  call (each needs its own mock active), and takes the median of per-batch ratios.

The collector is paused while timing (as ``timeit`` does) and run between batches,
so no side pays for the other's garbage.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "ACCOUNT",
    "Pair",
    "Row",
    "alternate",
    "load",
    "options",
    "paired",
    "per_call",
    "print_table",
    "report",
    "tagging_job",
]

ACCOUNT = "123456789012"


def tagging_job(batch: Any, client: Any) -> str:
    """Two objects and their CSV manifest in ``batch``'s store, and a tagging job over
    them created through ``client`` (boto3 s3control): the job the benchmarks time."""
    etag = batch.objects.put("manifests", "m.csv", "photos,a.jpg\nphotos,b.jpg\n")
    batch.objects.put("photos", "a.jpg", b"a")
    batch.objects.put("photos", "b.jpg", b"b")
    job_id: str = client.create_job(
        AccountId=ACCOUNT,
        ConfirmationRequired=False,
        Operation={"S3PutObjectTagging": {"TagSet": [{"Key": "k", "Value": "v"}]}},
        Manifest={
            "Spec": {"Format": "S3BatchOperations_CSV_20180820", "Fields": ["Bucket", "Key"]},
            "Location": {"ObjectArn": "arn:aws:s3:::manifests/m.csv", "ETag": etag},
        },
        Report={"Enabled": False},
        Description="benchmark job",
        Priority=10,
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/batch",
    )["JobId"]
    return job_id


@dataclass(frozen=True)
class Row:
    """One line of the results table: subject / baseline, against a goal."""

    name: str
    subject: str
    subject_value: float
    baseline: str
    baseline_value: float
    ratio: float
    goal: float | None  # the largest acceptable ratio; None: shown for context only
    note: str = ""
    unit: str = "s"  # "s" (seconds per call or per run) or "B" (bytes)

    @property
    def verdict(self) -> str:
        if self.goal is None:
            return "info"
        return "met" if self.ratio <= self.goal else "MISSED"


@dataclass(frozen=True)
class Pair:
    """A paired measurement: per-call seconds of each side, and their ratio."""

    subject: float
    baseline: float
    ratio: float


def per_call(func: Callable[[], object], number: int) -> float:
    """Seconds per call of ``func`` over ``number`` calls, the collector paused."""
    gc.collect()
    gc.disable()
    try:
        started = time.perf_counter()
        for _ in range(number):
            func()
        return (time.perf_counter() - started) / number
    finally:
        gc.enable()


def alternate(
    subject: Callable[[], object], baseline: Callable[[], object], *, rounds: int, block: int
) -> Pair:
    """Time ``rounds`` x ``block`` single calls of each side, in turn; medians and their
    ratio."""
    clock = time.perf_counter
    subjects: list[float] = []
    baselines: list[float] = []
    for _ in range(rounds):
        gc.collect()
        gc.disable()
        try:
            for index in range(block):
                first, second = (subject, baseline) if index % 2 else (baseline, subject)
                started = clock()
                first()
                middle = clock()
                second()
                ended = clock()
                s, b = (
                    (middle - started, ended - middle)
                    if index % 2
                    else (ended - middle, middle - started)
                )
                subjects.append(s)
                baselines.append(b)
        finally:
            gc.enable()
    s_median, b_median = statistics.median(subjects), statistics.median(baselines)
    return Pair(s_median, b_median, s_median / b_median)


def paired(subject: Callable[[], float], baseline: Callable[[], float], *, repeats: int) -> Pair:
    """Run ``subject`` and ``baseline`` (each times one batch and returns seconds per
    call) ``repeats`` times, alternating which goes first; medians of each side and of
    the per-repeat ratios."""
    subjects: list[float] = []
    baselines: list[float] = []
    for repeat in range(repeats):
        if repeat % 2:
            b = baseline()
            s = subject()
        else:
            s = subject()
            b = baseline()
        subjects.append(s)
        baselines.append(b)
    ratios = [s / b for s, b in zip(subjects, baselines, strict=True)]
    return Pair(
        statistics.median(subjects), statistics.median(baselines), statistics.median(ratios)
    )


def options(description: str | None) -> argparse.Namespace:
    """The options every benchmark file takes."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run: fewer repeats, smaller sizes"
    )
    parser.add_argument("--json", type=Path, help="also append the rows to this file (JSON lines)")
    parser.add_argument(
        "--markdown", action="store_true", help="print the table as Markdown (for the docs)"
    )
    return parser.parse_args()


def report(rows: Sequence[Row], args: argparse.Namespace) -> None:
    """Print the table, and append the rows to ``--json`` when given."""
    print_table(rows, markdown=args.markdown)
    if args.json is not None:
        with args.json.open("a", encoding="utf-8") as out:
            for row in rows:
                out.write(json.dumps(asdict(row)) + "\n")


def load(path: Path) -> list[Row]:
    """Rows that ``report`` appended to ``path``."""
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return [Row(**json.loads(line)) for line in lines if line.strip()]


def quantity(value: float, unit: str) -> str:
    """A duration or a size, in a unit that keeps it readable."""
    if unit == "B":
        return f"{value / 2**20:.1f} MiB"
    if value < 1e-3:
        return f"{value * 1e6:.1f} µs"
    if value < 1:
        return f"{value * 1e3:.2f} ms"
    return f"{value:.2f} s"


def print_table(rows: Iterable[Row], *, markdown: bool = False) -> None:
    header = ("benchmark", "subject", "baseline", "ratio", "goal", "result")
    lines = [
        (
            row.name,
            f"{row.subject} {quantity(row.subject_value, row.unit)}",
            f"{row.baseline} {quantity(row.baseline_value, row.unit)}",
            f"{row.ratio:.3f}x",
            f"<= {row.goal:g}x" if row.goal is not None else "-",
            row.verdict,
        )
        for row in rows
    ]
    notes = [(row.name, row.note) for row in rows if row.note]
    if markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "|".join(["---"] * 3 + ["--:"] + ["---"] * 2) + "|")
        for line in lines:
            print("| " + " | ".join(line) + " |")
    else:
        widths = [max(len(cells[i]) for cells in [header, *lines]) for i in range(len(header))]
        for cells in [header, tuple("-" * w for w in widths), *lines]:
            print("  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)))
    for name, note in notes:
        print(f"  {name}: {note}")
