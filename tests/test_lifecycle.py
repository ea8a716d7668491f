"""The job lifecycle seen through boto3: progression modes, confirmation, cancellation,
dates, and every UpdateJobStatus request from every status a job can reach."""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import time_machine
from botocore.exceptions import ClientError
from freezegun import freeze_time

from s3batch_mock import S3Batch, mock_s3batch
from s3batch_mock._lifecycle import ALLOWED
from tests.conftest import ACCOUNT, assert_allowed_history, csv_manifest_job, describe, s3control

TERMINAL = ("Complete", "Failed", "Cancelled")
FULL_CONFIRMED_HISTORY = [
    "New", "Preparing", "Suspended", "Ready", "Active", "Completing", "Complete",
]  # fmt: skip
START = datetime.datetime(2030, 1, 1, 12, 0, 0, tzinfo=datetime.UTC)
WRONG_ETAG = "0" * 32


# --------------------------------------------------------------------------- helpers


def put_manifest(batch: Any, rows: int = 3) -> str:
    """A CSV manifest of ``rows`` objects at s3://manifests/manifest.csv; returns its ETag."""
    for number in range(rows):
        batch.objects.put("src", f"obj-{number}.txt", b"data")
    body = "".join(f"src,obj-{number}.txt\n" for number in range(rows))
    return str(batch.objects.put("manifests", "manifest.csv", body))


def status_of(client: Any, job_id: str) -> str:
    return str(describe(client, job_id)["Status"])


def update_status(client: Any, job_id: str, requested: str, **extra: Any) -> dict[str, Any]:
    return dict(
        client.update_job_status(
            AccountId=ACCOUNT, JobId=job_id, RequestedJobStatus=requested, **extra
        )
    )


def poll_statuses(client: Any, job_id: str, until: tuple[str, ...] = TERMINAL) -> list[str]:
    """DescribeJob until a status in ``until``; fails rather than looping forever."""
    seen: list[str] = []
    for _ in range(20):
        seen.append(status_of(client, job_id))
        if seen[-1] in until:
            return seen
    pytest.fail(f"polling never reached {until}: {seen}")


# --------------------------------------------------------------------------- poll mode


def test_poll_loop_sees_every_status_in_order_and_terminates(s3batch: S3Batch) -> None:
    client = s3control()
    job_id = csv_manifest_job(client, put_manifest(s3batch), ConfirmationRequired=False)

    seen = poll_statuses(client, job_id)

    assert seen == ["Preparing", "Ready", "Active", "Completing", "Complete"]
    job = s3batch.job(job_id)
    assert job.status_history == ["New", *seen]
    assert_allowed_history(job.status_history)


def test_poll_complete_job_stays_complete(s3batch: S3Batch) -> None:
    client = s3control()
    job_id = csv_manifest_job(client, put_manifest(s3batch), ConfirmationRequired=False)
    poll_statuses(client, job_id)

    assert [status_of(client, job_id) for _ in range(3)] == ["Complete"] * 3
    assert s3batch.job(job_id).status_history.count("Complete") == 1


@pytest.mark.parametrize(
    "confirmation",
    [{"ConfirmationRequired": True}, {}],
    ids=["ConfirmationRequired=True", "ConfirmationRequired-omitted"],
)
def test_poll_confirmation_rests_at_suspended_until_confirmed(
    s3batch: S3Batch, confirmation: dict[str, Any]
) -> None:
    client = s3control()
    job_id = csv_manifest_job(client, put_manifest(s3batch), **confirmation)

    assert poll_statuses(client, job_id, until=("Suspended",)) == ["Preparing", "Suspended"]
    for _ in range(3):
        job = describe(client, job_id)
        assert job["Status"] == "Suspended"
        assert job["SuspendedDate"] >= job["CreationTime"]
        assert job["SuspendedCause"]
    assert s3batch.job(job_id).confirmation_required is True

    response = update_status(client, job_id, "Ready")
    assert response["Status"] == "Ready"
    assert poll_statuses(client, job_id) == ["Active", "Completing", "Complete"]

    snapshot = s3batch.job(job_id)
    assert snapshot.status_history == FULL_CONFIRMED_HISTORY
    assert_allowed_history(snapshot.status_history)
    assert snapshot.suspended_date is not None
    assert snapshot.suspended_cause


def test_poll_suspended_date_stays_after_confirmation(s3batch: S3Batch) -> None:
    client = s3control()
    job_id = csv_manifest_job(client, put_manifest(s3batch))
    poll_statuses(client, job_id, until=("Suspended",))
    suspended = describe(client, job_id)

    update_status(client, job_id, "Ready")
    done = describe(client, job_id)

    assert done["Status"] == "Active"
    assert done["SuspendedDate"] == suspended["SuspendedDate"]
    assert done["SuspendedCause"] == suspended["SuspendedCause"]


def test_poll_list_jobs_advances_each_job_one_step_per_call(s3batch: S3Batch) -> None:
    client = s3control()
    etag = put_manifest(s3batch)
    straight = csv_manifest_job(client, etag, ConfirmationRequired=False)
    confirm = csv_manifest_job(client, etag)
    expected = [
        ("Preparing", "Preparing"),
        ("Ready", "Suspended"),
        ("Active", "Suspended"),
        ("Completing", "Suspended"),
        ("Complete", "Suspended"),
        ("Complete", "Suspended"),
    ]

    for want_straight, want_confirm in expected:
        listed = {j["JobId"]: j["Status"] for j in client.list_jobs(AccountId=ACCOUNT)["Jobs"]}
        assert listed == {straight: want_straight, confirm: want_confirm}

    straight_history = s3batch.job(straight).status_history
    confirm_history = s3batch.job(confirm).status_history
    assert straight_history == ["New", "Preparing", "Ready", "Active", "Completing", "Complete"]
    assert confirm_history == ["New", "Preparing", "Suspended"]
    assert_allowed_history(straight_history)
    assert_allowed_history(confirm_history)


def test_poll_controller_snapshots_do_not_move_jobs(s3batch: S3Batch) -> None:
    client = s3control()
    job_id = csv_manifest_job(client, put_manifest(s3batch), ConfirmationRequired=False)

    for _ in range(3):
        assert s3batch.job(job_id).status == "New"
        assert [j.status for j in s3batch.jobs()] == ["New"]

    assert status_of(client, job_id) == "Preparing"


# --------------------------------------------------------------------------- dates, progress


def test_termination_date_and_progress_on_complete(s3batch: S3Batch) -> None:
    client = s3control()
    job_id = csv_manifest_job(client, put_manifest(s3batch, rows=3), ConfirmationRequired=False)

    seen: list[dict[str, Any]] = []
    while not seen or seen[-1]["Status"] not in TERMINAL:
        seen.append(describe(client, job_id))
        assert len(seen) < 20, [job["Status"] for job in seen]

    by_status = {job["Status"]: job for job in seen}
    for status in ("Preparing", "Ready", "Active", "Completing"):
        assert "TerminationDate" not in by_status[status], status
    assert by_status["Ready"]["ProgressSummary"]["TotalNumberOfTasks"] == 3
    assert by_status["Ready"]["ProgressSummary"]["NumberOfTasksSucceeded"] == 0
    complete = by_status["Complete"]
    assert complete["TerminationDate"] >= complete["CreationTime"]
    assert complete["ProgressSummary"]["TotalNumberOfTasks"] == 3
    assert complete["ProgressSummary"]["NumberOfTasksSucceeded"] == 3
    assert complete["ProgressSummary"]["NumberOfTasksFailed"] == 0
    assert complete["FailureReasons"] == []

    snapshot = s3batch.job(job_id)
    assert snapshot.total_tasks == snapshot.succeeded_tasks == 3
    assert snapshot.termination_date is not None


def test_total_tasks_counted_when_preparing_ends(s3batch: S3Batch) -> None:
    client = s3control()
    job_id = csv_manifest_job(client, put_manifest(s3batch, rows=4))

    statuses = poll_statuses(client, job_id, until=("Suspended",))
    assert statuses[-1] == "Suspended"
    summary = describe(client, job_id)["ProgressSummary"]
    assert summary["TotalNumberOfTasks"] == 4
    assert summary["NumberOfTasksSucceeded"] == summary["NumberOfTasksFailed"] == 0
    assert s3batch.job(job_id).total_tasks == 4


def test_termination_date_on_failed(s3batch: S3Batch) -> None:
    client = s3control()
    put_manifest(s3batch)
    job_id = csv_manifest_job(client, WRONG_ETAG, ConfirmationRequired=False)

    jobs: list[dict[str, Any]] = []
    while not jobs or jobs[-1]["Status"] not in TERMINAL:
        jobs.append(describe(client, job_id))
        assert len(jobs) < 20

    assert [j["Status"] for j in jobs] == ["Preparing", "Failing", "Failed"]
    assert ["TerminationDate" in j for j in jobs] == [False, False, True]
    assert s3batch.job(job_id).termination_date is not None
    assert_allowed_history(s3batch.job(job_id).status_history)


def test_termination_date_on_cancelled(s3batch: S3Batch) -> None:
    client = s3control()
    job_id = csv_manifest_job(client, put_manifest(s3batch))
    poll_statuses(client, job_id, until=("Suspended",))
    assert "TerminationDate" not in describe(client, job_id)

    update_status(client, job_id, "Cancelled")

    job = describe(client, job_id)
    assert job["Status"] == "Cancelled"
    assert job["TerminationDate"] >= job["CreationTime"]
    assert s3batch.job(job_id).termination_date is not None


# --------------------------------------------------------------------------- manual mode


@pytest.mark.s3batch(progression="manual")
def test_manual_describe_and_list_do_not_move_jobs(s3batch: S3Batch) -> None:
    client = s3control()
    job_id = csv_manifest_job(client, put_manifest(s3batch), ConfirmationRequired=False)

    for _ in range(3):
        assert status_of(client, job_id) == "New"
        assert [j["Status"] for j in client.list_jobs(AccountId=ACCOUNT)["Jobs"]] == ["New"]

    assert s3batch.job(job_id).status_history == ["New"]


@pytest.mark.s3batch(progression="manual")
def test_manual_step_returns_each_next_status(s3batch: S3Batch) -> None:
    client = s3control()
    job_id = csv_manifest_job(client, put_manifest(s3batch), ConfirmationRequired=False)

    steps = [s3batch.step(job_id) for _ in range(5)]

    assert steps == ["Preparing", "Ready", "Active", "Completing", "Complete"]
    assert status_of(client, job_id) == "Complete"
    assert_allowed_history(s3batch.job(job_id).status_history)


@pytest.mark.s3batch(progression="manual")
def test_manual_step_at_rest_returns_status_unchanged(s3batch: S3Batch) -> None:
    client = s3control()
    etag = put_manifest(s3batch)
    suspended = csv_manifest_job(client, etag)
    complete = csv_manifest_job(client, etag, ConfirmationRequired=False)
    s3batch.run()

    for job_id, status in ((suspended, "Suspended"), (complete, "Complete")):
        history = s3batch.job(job_id).status_history
        assert [s3batch.step(job_id) for _ in range(3)] == [status] * 3
        assert s3batch.job(job_id).status_history == history


@pytest.mark.s3batch(progression="manual")
def test_manual_run_stops_at_suspended_then_completes_after_confirmation(s3batch: S3Batch) -> None:
    client = s3control()
    job_id = csv_manifest_job(client, put_manifest(s3batch))

    s3batch.run(job_id)
    assert s3batch.job(job_id).status == "Suspended"
    s3batch.run(job_id)
    assert s3batch.job(job_id).status_history == ["New", "Preparing", "Suspended"]

    update_status(client, job_id, "Ready")
    s3batch.run(job_id)

    job = s3batch.job(job_id)
    assert job.status == "Complete"
    assert job.status_history == FULL_CONFIRMED_HISTORY
    assert_allowed_history(job.status_history)


@pytest.mark.s3batch(progression="manual")
def test_manual_run_without_id_advances_every_job(s3batch: S3Batch) -> None:
    client = s3control()
    etag = put_manifest(s3batch)
    straight = csv_manifest_job(client, etag, ConfirmationRequired=False)
    confirm = csv_manifest_job(client, etag)
    broken = csv_manifest_job(client, WRONG_ETAG, ConfirmationRequired=False)

    s3batch.run()

    statuses = {job.job_id: job.status for job in s3batch.jobs()}
    assert statuses == {straight: "Complete", confirm: "Suspended", broken: "Failed"}
    for job in s3batch.jobs():
        assert_allowed_history(job.status_history)


@pytest.mark.s3batch(progression="manual")
def test_manual_run_with_id_leaves_other_jobs_alone(s3batch: S3Batch) -> None:
    client = s3control()
    etag = put_manifest(s3batch)
    first = csv_manifest_job(client, etag, ConfirmationRequired=False)
    second = csv_manifest_job(client, etag, ConfirmationRequired=False)

    s3batch.run(first)

    assert s3batch.job(first).status == "Complete"
    assert s3batch.job(second).status_history == ["New"]


def test_unknown_job_raises_key_error() -> None:
    with mock_s3batch(progression="manual") as batch:
        with pytest.raises(KeyError):
            batch.job("nope")
        with pytest.raises(KeyError):
            batch.step("nope")


# --------------------------------------------------------------------------- clock mode


@contextlib.contextmanager
def frozen_clock(library: str, start: datetime.datetime) -> Iterator[Callable[[float], None]]:
    """Freeze the clock at ``start`` with freezegun or time-machine; yields ``advance(s)``."""
    if library == "freezegun":
        with freeze_time(start) as frozen:

            def advance(seconds: float) -> None:
                frozen.tick(datetime.timedelta(seconds=seconds))

            yield advance
    else:
        with time_machine.travel(start, tick=False) as traveller:

            def shift(seconds: float) -> None:
                traveller.shift(seconds)

            yield shift


CLOCKS = pytest.mark.parametrize("library", ["freezegun", "time-machine"])


@CLOCKS
def test_clock_creation_time_is_frozen_time(library: str) -> None:
    with frozen_clock(library, START), mock_s3batch(progression="clock", step_seconds=5) as batch:
        client = s3control()
        job_id = csv_manifest_job(client, put_manifest(batch))

        assert describe(client, job_id)["CreationTime"] == START
        assert batch.job(job_id).creation_time == START


@CLOCKS
def test_clock_no_step_before_step_seconds(library: str) -> None:
    with (
        frozen_clock(library, START) as advance,
        mock_s3batch(progression="clock", step_seconds=5) as batch,
    ):
        client = s3control()
        job_id = csv_manifest_job(client, put_manifest(batch), ConfirmationRequired=False)

        assert status_of(client, job_id) == "New"
        advance(4.999)
        assert status_of(client, job_id) == "New"
        assert [j["Status"] for j in client.list_jobs(AccountId=ACCOUNT)["Jobs"]] == ["New"]
        advance(0.001)
        assert status_of(client, job_id) == "Preparing"


@CLOCKS
def test_clock_one_step_per_interval(library: str) -> None:
    with (
        frozen_clock(library, START) as advance,
        mock_s3batch(progression="clock", step_seconds=5) as batch,
    ):
        client = s3control()
        job_id = csv_manifest_job(client, put_manifest(batch), ConfirmationRequired=False)

        seen = []
        for _ in range(6):
            advance(5)
            seen.append(status_of(client, job_id))
            assert status_of(client, job_id) == seen[-1]  # observing again: no extra step

        assert seen == ["Preparing", "Ready", "Active", "Completing", "Complete", "Complete"]
        assert_allowed_history(batch.job(job_id).status_history)


@CLOCKS
def test_clock_job_behind_catches_up_each_step_at_its_due_time(library: str) -> None:
    with (
        frozen_clock(library, START) as advance,
        mock_s3batch(progression="clock", step_seconds=5) as batch,
    ):
        client = s3control()
        job_id = csv_manifest_job(client, put_manifest(batch), ConfirmationRequired=False)

        advance(30)
        job = describe(client, job_id)

        assert job["Status"] == "Complete"
        assert job["TerminationDate"] == START + datetime.timedelta(seconds=25)
        snapshot = batch.job(job_id)
        assert snapshot.status_history == [
            "New", "Preparing", "Ready", "Active", "Completing", "Complete",
        ]  # fmt: skip
        assert [t.at for t in snapshot.timeline] == [
            START + datetime.timedelta(seconds=5 * n) for n in range(6)
        ]
        assert_allowed_history(snapshot.status_history)


@CLOCKS
def test_clock_steps_resume_step_seconds_after_confirmation(library: str) -> None:
    with (
        frozen_clock(library, START) as advance,
        mock_s3batch(progression="clock", step_seconds=5) as batch,
    ):
        client = s3control()
        job_id = csv_manifest_job(client, put_manifest(batch))

        advance(100)
        assert status_of(client, job_id) == "Suspended"
        update_status(client, job_id, "Ready")
        advance(4)
        assert status_of(client, job_id) == "Ready"
        advance(1)
        assert status_of(client, job_id) == "Active"

        timeline = batch.job(job_id).timeline
        assert [(t.status, t.at) for t in timeline[-2:]] == [
            ("Ready", START + datetime.timedelta(seconds=100)),
            ("Active", START + datetime.timedelta(seconds=105)),
        ]


@CLOCKS
def test_clock_update_job_status_takes_due_steps_first(library: str) -> None:
    with (
        frozen_clock(library, START) as advance,
        mock_s3batch(progression="clock", step_seconds=5) as batch,
    ):
        client = s3control()
        job_id = csv_manifest_job(client, put_manifest(batch))

        advance(12)  # due: Preparing at +5, Suspended at +10; nothing observed it yet
        response = update_status(client, job_id, "Ready")

        assert response["Status"] == "Ready"
        assert batch.job(job_id).status_history == ["New", "Preparing", "Suspended", "Ready"]


# --------------------------------------------------------------------------- cancellation


@pytest.mark.parametrize(
    ("status", "describes", "confirmation"),
    [("New", 0, True), ("Preparing", 1, True), ("Suspended", 2, True), ("Ready", 2, False)],
)
def test_cancel_before_running_is_immediate(
    s3batch: S3Batch, status: str, describes: int, confirmation: bool
) -> None:
    client = s3control()
    job_id = csv_manifest_job(client, put_manifest(s3batch), ConfirmationRequired=confirmation)
    for _ in range(describes):
        describe(client, job_id)
    assert s3batch.job(job_id).status == status

    response = update_status(client, job_id, "Cancelled")

    assert response["Status"] == "Cancelled"
    job = describe(client, job_id)
    assert job["Status"] == "Cancelled"
    assert "TerminationDate" in job
    history = s3batch.job(job_id).status_history
    assert history[-2:] == [status, "Cancelled"]
    assert "Cancelling" not in history
    assert_allowed_history(history)


def test_cancel_active_goes_through_cancelling_in_poll_mode(s3batch: S3Batch) -> None:
    client = s3control()
    job_id = csv_manifest_job(client, put_manifest(s3batch), ConfirmationRequired=False)
    assert poll_statuses(client, job_id, until=("Active",))[-1] == "Active"

    response = update_status(client, job_id, "Cancelled")

    assert response["Status"] == "Cancelling"
    assert s3batch.job(job_id).termination_date is None
    job = describe(client, job_id)
    assert job["Status"] == "Cancelled"
    assert "TerminationDate" in job
    history = s3batch.job(job_id).status_history
    assert history == ["New", "Preparing", "Ready", "Active", "Cancelling", "Cancelled"]
    assert_allowed_history(history)


@pytest.mark.s3batch(progression="manual")
def test_cancel_active_then_cancelled_on_next_step(s3batch: S3Batch) -> None:
    client = s3control()
    job_id = csv_manifest_job(client, put_manifest(s3batch), ConfirmationRequired=False)
    for _ in range(3):
        s3batch.step(job_id)

    assert update_status(client, job_id, "Cancelled")["Status"] == "Cancelling"
    assert status_of(client, job_id) == "Cancelling"
    assert "TerminationDate" not in describe(client, job_id)

    assert s3batch.step(job_id) == "Cancelled"
    assert s3batch.step(job_id) == "Cancelled"
    history = s3batch.job(job_id).status_history
    assert "Cancelling" in history
    assert history[-2:] == ["Cancelling", "Cancelled"]
    assert_allowed_history(history)


# ---------------------------------------------------------------------- UpdateJobStatus matrix

# How to reach each status in manual mode:
# (ConfirmationRequired, manifest ETag right, actions: "step" or a RequestedJobStatus).
ROUTES: dict[str, tuple[bool, bool, tuple[str, ...]]] = {
    "New": (True, True, ()),
    "Preparing": (True, True, ("step",)),
    "Suspended": (True, True, ("step", "step")),
    "Ready": (False, True, ("step", "step")),
    "Active": (False, True, ("step",) * 3),
    "Completing": (False, True, ("step",) * 4),
    "Complete": (False, True, ("step",) * 5),
    "Cancelling": (False, True, ("step", "step", "step", "Cancelled")),
    "Cancelled": (True, True, ("Cancelled",)),
    "Failing": (False, False, ("step", "step")),
    "Failed": (False, False, ("step", "step", "step")),
}
ACCEPTED = {
    ("Suspended", "Ready"): "Ready",
    ("New", "Cancelled"): "Cancelled",
    ("Preparing", "Cancelled"): "Cancelled",
    ("Suspended", "Cancelled"): "Cancelled",
    ("Ready", "Cancelled"): "Cancelled",
    ("Active", "Cancelled"): "Cancelling",
}
MATRIX = [
    pytest.param(status, requested, ACCEPTED.get((status, requested)), id=f"{status}-{requested}")
    for status in ROUTES
    for requested in ("Ready", "Cancelled")
]


def reach(batch: Any, client: Any, status: str) -> str:
    confirmation, good_etag, actions = ROUTES[status]
    etag = put_manifest(batch)
    job_id = csv_manifest_job(
        client, etag if good_etag else WRONG_ETAG, ConfirmationRequired=confirmation
    )
    for action in actions:
        if action == "step":
            batch.step(job_id)
        else:
            update_status(client, job_id, action)
    assert batch.job(job_id).status == status, batch.job(job_id).status_history
    return job_id


@pytest.mark.s3batch(progression="manual")
@pytest.mark.parametrize(("status", "requested", "expected"), MATRIX)
def test_update_job_status_matrix(
    s3batch: S3Batch, status: str, requested: str, expected: str | None
) -> None:
    client = s3control()
    job_id = reach(s3batch, client, status)
    before = s3batch.job(job_id)

    if expected is None:
        with pytest.raises(ClientError) as caught:
            update_status(client, job_id, requested, StatusUpdateReason="matrix")
        error = caught.value.response
        assert error["Error"]["Code"] == "JobStatusException"
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert status in error["Error"]["Message"]
        assert requested in error["Error"]["Message"]
        assert isinstance(caught.value, client.exceptions.JobStatusException)
        after = s3batch.job(job_id)
        assert after.status_history == before.status_history
        assert after.status_update_reason == before.status_update_reason
        assert after.termination_date == before.termination_date
        assert status_of(client, job_id) == status
        return

    response = update_status(client, job_id, requested, StatusUpdateReason="matrix")

    assert response["Status"] == expected
    assert response["StatusUpdateReason"] == "matrix"
    after = s3batch.job(job_id)
    assert after.status == expected
    assert after.status_history == [*before.status_history, expected]
    assert after.status_update_reason == "matrix"
    assert (after.termination_date is not None) == (expected in TERMINAL)
    job = describe(client, job_id)
    assert job["Status"] == expected
    assert job["StatusUpdateReason"] == "matrix"
    assert_allowed_history(after.status_history)


def test_matrix_covers_every_reachable_status() -> None:
    reachable = {s for s in ALLOWED if s not in ("Pausing", "Paused")}
    assert set(ROUTES) == reachable
