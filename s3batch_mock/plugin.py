"""pytest plugin (registered through the ``pytest11`` entry point): fixture and marker.

def test_a(s3batch): ...

@pytest.mark.s3batch(progression="manual")   # alone: the test runs inside the mock
def test_b(): ...

Loading it costs a pytest run next to nothing: botocore, boto3 and the mock are imported
only when a test uses the fixture or the marker.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from . import _history

if TYPE_CHECKING:
    from ._controller import S3Batch

__all__ = ["s3batch"]

_MARKER = "s3batch"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{_MARKER}(**settings): run the test inside an active mock_s3batch with these "
        "settings (the keywords of mock_s3batch); the s3batch fixture yields its controller",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The marker alone is enough: a marked test gets the fixture, set up first."""
    for item in items:
        names = getattr(item, "fixturenames", None)
        if (
            isinstance(names, list)
            and _MARKER not in names
            and item.get_closest_marker(_MARKER) is not None
        ):
            names.insert(0, _MARKER)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    _history.backends = []


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failing test's report gains a section with each job's status timeline."""
    report = yield
    if report.failed and report.when in ("setup", "call") and _history.backends:
        text = timelines(_history.backends)
        if text:
            report.sections.append(("s3batch jobs", text))
    return report


def timelines(backends: list[Any]) -> str:
    """Each job's statuses with their times and reasons, as a failed test shows them."""
    from ._clock import iso8601  # noqa: PLC0415 - nothing of the mock until a test uses it

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
    """An active ``mock_s3batch`` for the test (its marker's settings); yields its controller."""
    from ._mock import mock_s3batch  # noqa: PLC0415 - nothing of the mock until a test uses it

    marker = request.node.get_closest_marker(_MARKER)
    if marker is not None and marker.args:
        raise TypeError(
            "@pytest.mark.s3batch takes keyword arguments only, e.g. "
            "@pytest.mark.s3batch(progression='manual')"
        )
    with mock_s3batch(**(marker.kwargs if marker else {})) as batch:
        yield batch
