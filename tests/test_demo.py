"""``python -m s3batch_mock demo``: the README's first command, a tour that must keep working."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from s3batch_mock.__main__ import main


@pytest.fixture
def tour(capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["demo"]) == 0
    out: str = capsys.readouterr().out
    return out


def test_the_tour_has_every_stop_in_order(tour: str) -> None:
    titles = re.findall(r"^(\d)\. (.+)$", tour, re.M)
    assert [number for number, _ in titles] == [str(n) for n in range(1, 9)]
    assert [title.split()[0] for _, title in titles] == [
        "A",  # a real manifest
        "CreateJob:",
        "Polling",
        "UpdateJobStatus",
        "Progress",
        "The",  # the completion report
        "A",  # a cancelled job
        "An",  # an error
    ]


def test_the_job_waits_for_confirmation_then_runs_with_visible_progress(tour: str) -> None:
    confirmed = tour.index('UpdateJobStatus -> "Ready"')
    assert "Suspended (AwaitingConfirmation)" in tour[:confirmed]
    running = tour[confirmed : tour.index("6. ")]
    succeeded = [int(n) for n in re.findall(r"Active\s+(\d+) succeeded", running)]
    assert succeeded == sorted(succeeded)
    assert len(set(succeeded)) >= 3, "progress grows over several DescribeJob calls"
    assert re.search(r"Complete +8 succeeded, 1 failed of 9 tasks", running)
    assert "New -> Preparing -> Suspended -> Ready -> Active -> Completing -> Complete" in running
    assert "{'reviewed': 'yes'}" in running


def test_the_report_shows_successes_and_the_missing_object(tour: str) -> None:
    report = tour[tour.index("6. ") : tour.index("7. ")]
    assert "manifest.json lists 2 result files" in report
    assert "demo-photos,2024/beach%20day.jpg,,succeeded,200,," in report
    assert "deleted%20last%20week.jpg,,failed,404,NoSuchKey," in report


def test_a_running_job_is_cancelled_and_an_error_is_shown(tour: str) -> None:
    cancelled = tour[tour.index("7. ") : tour.index("8. ")]
    assert 'Cancelled on a running job -> "Cancelling"' in cancelled
    assert cancelled.rstrip().splitlines()[-1].split()[1] == "Cancelled"
    error = tour[tour.index("8. ") :]
    assert "client.exceptions.JobStatusException (HTTP 400):" in error
    assert "from Complete to Ready" in error


@pytest.mark.slow
def test_the_demo_runs_as_the_readme_says() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "s3batch_mock", "demo"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "Done in" in done.stdout


def test_a_command_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([])
    assert exited.value.code == 2
    assert "demo" in capsys.readouterr().err
