"""pytest plugin (registered through the ``pytest11`` entry point): fixture and marker.

def test_a(s3batch): ...

@pytest.mark.s3batch(progression="manual")
def test_b(s3batch): ...
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ._controller import S3Batch
from ._mock import mock_s3batch

__all__ = ["s3batch"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "s3batch(progression='poll', step_seconds=1.0, max_active_jobs=None, "
        "tasks_per_step=1000): "
        "settings for the s3batch fixture's mock (the keywords of mock_s3batch)",
    )


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
