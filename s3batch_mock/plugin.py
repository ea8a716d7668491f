"""pytest plugin (registered through the ``pytest11`` entry point): fixture and marker.

def test_a(s3batch): ...

@pytest.mark.s3batch(progression="manual")
def test_b(s3batch): ...
"""

from __future__ import annotations

from collections.abc import Generator, Iterator

import pytest

from ._backend import Backend
from ._clock import iso8601
from ._controller import S3Batch
from ._mock import _scope, mock_s3batch

__all__ = ["s3batch"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "s3batch(progression='poll', step_seconds=1.0, max_active_jobs=None, "
        "tasks_per_step=1000): "
        "settings for the s3batch fixture's mock (the keywords of mock_s3batch)",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    _scope.history = []


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failing test's report gains a section with each job's status timeline."""
    report = yield
    if report.failed and report.when in ("setup", "call"):
        text = timelines(_scope.history or [])
        if text:
            report.sections.append(("s3batch jobs", text))
    return report


def timelines(backends: list[Backend]) -> str:
    """Each job's statuses with their times and reasons, as a failed test shows them."""
    lines = []
    for backend in backends:
        jobs = backend.snapshots(settle=False)
        for job in jobs:
            lines.append(
                f"job {job.job_id} {job.operation} (account {job.account_id}, {job.region}, "
                f"priority {job.priority}): {job.status}, tasks {job.succeeded_tasks} "
                f"succeeded / {job.failed_tasks} failed of {job.total_tasks}"
            )
            for entry in job.timeline:
                reason = f"  {entry.reason}" if entry.reason else ""
                lines.append(f"  {iso8601(entry.at)}  {entry.status:<10}{reason}".rstrip())
            lines.extend(f"  failure {code}: {reason}" for code, reason in job.failure_reasons)
    return "\n".join(lines)


@pytest.fixture
def s3batch(request: pytest.FixtureRequest) -> Iterator[S3Batch]:
    """An active ``mock_s3batch`` for the test; yields its controller."""
    marker = request.node.get_closest_marker("s3batch")
    if marker is not None and marker.args:
        raise TypeError(
            "@pytest.mark.s3batch takes keyword arguments only, e.g. "
            "@pytest.mark.s3batch(progression='manual')"
        )
    with mock_s3batch(**(marker.kwargs if marker else {})) as batch:
        yield batch
