"""Time, through boto3 under freezegun and time-machine: every timestamp the mock writes,
clock-mode catch-up, the 90-day retention of ended jobs and the 30-day limit on
awaiting confirmation (design sections 3 and 5; aws-semantics 3.1, 3.2 and 4.4)."""

from __future__ import annotations

import datetime
import functools
import itertools
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import time_machine
from freezegun import freeze_time

from s3batch_mock import S3Batch, mock_s3batch
from tests.conftest import ACCOUNT, assert_allowed_history, csv_manifest_job, describe, s3control

START = datetime.datetime(2026, 1, 1, 12, 0, 0, 250000, tzinfo=datetime.UTC)
SECOND = datetime.timedelta(seconds=1)
DAY = datetime.timedelta(days=1)
RETENTION = datetime.timedelta(days=90)
CONFIRMATION_WINDOW = datetime.timedelta(days=30)
STEP_SECONDS = 5
STEP = datetime.timedelta(seconds=STEP_SECONDS)
WRONG_ETAG = "0" * 32
AT_REST = ("Complete", "Failed", "Cancelled", "Suspended")
MODES = ("poll", "manual", "clock")
TAGS = [{"Key": "team", "Value": "data"}]
REPORT = {
    "Enabled": True,
    "Bucket": "arn:aws:s3:::reports",
    "Format": "Report_CSV_20180820",
    "ReportScope": "AllTasks",
    "Prefix": "batch",
}


# --------------------------------------------------------------------------- the clock


class Clock:
    """The frozen test clock, whichever library froze it."""

    def __init__(
        self,
        library: str,
        tick: Callable[[datetime.timedelta], object],
        move: Callable[[datetime.datetime], object],
    ) -> None:
        self.library = library
        self._tick = tick
        self._move = move

    def advance(self, delta: datetime.timedelta) -> None:
        self._tick(delta)

    def move_to(self, moment: datetime.datetime) -> None:
        self._move(moment)

    @staticmethod
    def now() -> datetime.datetime:
        return datetime.datetime.now(datetime.UTC)


@pytest.fixture(params=["freezegun", "time-machine"])
def clock(request: pytest.FixtureRequest) -> Iterator[Clock]:
    """The clock frozen at START by freezegun or time-machine (list it before s3batch)."""
    if request.param == "freezegun":
        with freeze_time(START) as frozen:
            yield Clock("freezegun", frozen.tick, frozen.move_to)
    else:
        with time_machine.travel(START, tick=False) as traveller:
            yield Clock("time-machine", traveller.shift, traveller.move_to)


# --------------------------------------------------------------------------- helpers


def put_manifest(batch: Any, rows: int = 3, name: str = "manifest.csv") -> str:
    """``rows`` objects in bucket src and a CSV manifest naming them; returns its ETag."""
    for number in range(rows):
        batch.objects.put("src", f"obj-{number}.txt", b"x")
    body = "".join(f"src,obj-{number}.txt\n" for number in range(rows))
    return str(batch.objects.put("manifests", name, body))


def listed(client: Any) -> dict[str, dict[str, Any]]:
    return {j["JobId"]: j for j in client.list_jobs(AccountId=ACCOUNT)["Jobs"]}


def update_status(client: Any, job_id: str, requested: str) -> dict[str, Any]:
    return dict(
        client.update_job_status(AccountId=ACCOUNT, JobId=job_id, RequestedJobStatus=requested)
    )


def settle(mode: str, batch: S3Batch, client: Any, clock: Clock, job_id: str) -> dict[str, Any]:
    """Let the job reach rest the way its progression mode moves it; returns DescribeJob."""
    if mode == "manual":
        batch.run(job_id)
    elif mode == "clock":
        clock.advance(STEP * 30)
    for _ in range(20):
        job = describe(client, job_id)
        if job["Status"] in AT_REST:
            return job
    pytest.fail(f"job never came to rest: {batch.job(job_id).status_history}")


def mock_for(mode: str, **settings: Any) -> Any:
    return mock_s3batch(progression=mode, step_seconds=STEP_SECONDS, **settings)  # type: ignore[call-overload]


def assert_present(batch: S3Batch, client: Any, job_id: str, status: str) -> None:
    """Every way of looking at the job still finds it, with ``status``."""
    assert describe(client, job_id)["Status"] == status
    assert listed(client)[job_id]["Status"] == status
    assert client.get_job_tagging(AccountId=ACCOUNT, JobId=job_id)["Tags"] == TAGS
    assert batch.job(job_id).status == status
    assert job_id in [job.job_id for job in batch.jobs()]


def assert_gone(batch: S3Batch, client: Any, job_id: str) -> None:
    """Every way of looking at the job finds nothing."""
    with pytest.raises(client.exceptions.NotFoundException) as caught:
        describe(client, job_id)
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert job_id not in listed(client)
    with pytest.raises(client.exceptions.NotFoundException):
        client.get_job_tagging(AccountId=ACCOUNT, JobId=job_id)
    with pytest.raises(KeyError):
        batch.job(job_id)
    assert job_id not in [job.job_id for job in batch.jobs()]


# --------------------------------------------------------------------------- timestamps


@pytest.mark.s3batch(progression="manual")
def test_every_job_date_is_the_clock_at_that_transition(clock: Clock, s3batch: S3Batch) -> None:
    client = s3control()
    job_id = csv_manifest_job(client, put_manifest(s3batch), Tags=TAGS)
    preparing = START + 7 * SECOND
    suspended = START + 10 * SECOND
    ready = START + 2 * DAY
    active, completing, complete = (ready + n * 2 * SECOND for n in (1, 2, 3))

    clock.advance(7 * SECOND)
    assert s3batch.step(job_id) == "Preparing"
    clock.advance(3 * SECOND)
    assert s3batch.step(job_id) == "Suspended"

    job = describe(client, job_id)
    assert job["CreationTime"] == START
    assert job["SuspendedDate"] == suspended
    assert "TerminationDate" not in job
    snapshot = s3batch.job(job_id)
    assert (snapshot.creation_time, snapshot.suspended_date) == (START, suspended)
    assert snapshot.termination_date is None
    entry = listed(client)[job_id]
    assert entry["CreationTime"] == START
    assert "TerminationDate" not in entry

    clock.move_to(ready)
    update_status(client, job_id, "Ready")
    for status in ("Active", "Completing", "Complete"):
        clock.advance(2 * SECOND)
        assert s3batch.step(job_id) == status
    clock.advance(DAY)  # looking later changes none of the dates

    job = describe(client, job_id)
    assert job["CreationTime"] == START
    assert job["SuspendedDate"] == suspended
    assert job["TerminationDate"] == complete
    snapshot = s3batch.job(job_id)
    assert snapshot.creation_time == START
    assert snapshot.suspended_date == suspended
    assert snapshot.termination_date == complete
    entry = listed(client)[job_id]
    assert entry["CreationTime"] == START
    assert "TerminationDate" not in entry  # ListJobs leaves it out, as AWS's sample does
    assert [(t.status, t.at) for t in snapshot.timeline] == [
        ("New", START),
        ("Preparing", preparing),
        ("Suspended", suspended),
        ("Ready", ready),
        ("Active", active),
        ("Completing", completing),
        ("Complete", complete),
    ]
    assert_allowed_history(snapshot.status_history)


@pytest.mark.s3batch(progression="manual")
@pytest.mark.parametrize("end", ["Failed", "Cancelled"])
def test_termination_date_of_failed_and_cancelled_is_the_clock(
    clock: Clock, s3batch: S3Batch, end: str
) -> None:
    client = s3control()
    etag = put_manifest(s3batch)
    job_id = csv_manifest_job(
        client, WRONG_ETAG if end == "Failed" else etag, ConfirmationRequired=True
    )
    clock.advance(SECOND)
    s3batch.step(job_id)  # Preparing
    clock.advance(SECOND)
    s3batch.step(job_id)  # Failing, or Suspended
    clock.advance(3 * DAY)
    if end == "Failed":
        assert s3batch.step(job_id) == "Failed"
    else:
        assert update_status(client, job_id, "Cancelled")["Status"] == "Cancelled"
    clock.advance(DAY)

    ended = START + 2 * SECOND + 3 * DAY
    job = describe(client, job_id)
    assert job["Status"] == end
    assert job["TerminationDate"] == ended
    assert "TerminationDate" not in listed(client)[job_id]  # as in AWS's list-jobs sample
    snapshot = s3batch.job(job_id)
    assert snapshot.termination_date == ended
    assert snapshot.timeline[-1].at == ended
    assert_allowed_history(snapshot.status_history)


def report_objects(batch: S3Batch, job_id: str) -> tuple[dict[str, Any], list[Any]]:
    """manifest.json of the job's completion report, and every report object's info."""
    keys = batch.objects.keys("reports", f"batch/job-{job_id}/")
    assert f"batch/job-{job_id}/manifest.json" in keys
    assert any("/results/" in key for key in keys), keys
    manifest = json.loads(batch.objects.get("reports", f"batch/job-{job_id}/manifest.json"))
    return manifest, [batch.objects.head("reports", key) for key in keys]


@pytest.mark.s3batch(progression="manual")
def test_report_dates_are_the_clock_when_the_job_completes(clock: Clock, s3batch: S3Batch) -> None:
    s3batch.objects.create_bucket("reports")
    client = s3control()
    job_id = csv_manifest_job(
        client, put_manifest(s3batch), ConfirmationRequired=False, Report=REPORT
    )
    for status in ("Preparing", "Ready", "Active", "Completing"):
        clock.advance(10 * SECOND)
        assert s3batch.step(job_id) == status
    clock.move_to(START + 3 * DAY)
    assert s3batch.step(job_id) == "Complete"
    clock.advance(DAY)

    manifest, objects = report_objects(s3batch, job_id)
    assert manifest["ReportCreationDate"] == "2026-01-04T12:00:00.250Z"
    assert [info.last_modified for info in objects] == [START + 3 * DAY] * len(objects)
    assert describe(client, job_id)["TerminationDate"] == START + 3 * DAY


def test_clock_catch_up_writes_the_report_at_its_own_time(clock: Clock) -> None:
    with mock_for("clock") as batch:
        batch.objects.create_bucket("reports")
        client = s3control()
        job_id = csv_manifest_job(
            client, put_manifest(batch), ConfirmationRequired=False, Report=REPORT
        )
        clock.advance(STEP * 100)

        job = describe(client, job_id)
        assert job["Status"] == "Complete"
        ended = START + 5 * STEP  # Preparing, Ready, Active, Completing, Complete
        assert job["TerminationDate"] == ended
        manifest, objects = report_objects(batch, job_id)
        assert manifest["ReportCreationDate"] == "2026-01-01T12:00:25.250Z"
        # The report is dated when the job entered Complete. The objects themselves are
        # written when a call catches the job up, so their LastModified is that call's
        # time, as S3 would stamp a write (docs/time.md, "Current limits").
        now = START + STEP * 100
        assert [info.last_modified for info in objects] == [now] * len(objects)


# --------------------------------------------------------------------------- clock catch-up


def test_clock_catch_up_through_confirmation_sees_every_status_in_order(clock: Clock) -> None:
    with mock_for("clock") as batch:
        client = s3control()
        job_id = csv_manifest_job(client, put_manifest(batch), ConfirmationRequired=True)

        clock.advance(1000 * SECOND)  # 200 steps behind
        job = describe(client, job_id)
        assert job["Status"] == "Suspended"
        assert job["SuspendedDate"] == START + 2 * STEP
        clock.advance(1000 * SECOND)  # at rest: nothing is due while Suspended
        assert describe(client, job_id)["Status"] == "Suspended"
        confirmed = START + 2000 * SECOND
        assert update_status(client, job_id, "Ready")["Status"] == "Ready"
        clock.advance(1000 * SECOND)

        job = describe(client, job_id)
        assert job["Status"] == "Complete"
        assert job["TerminationDate"] == confirmed + 3 * STEP
        assert job["ProgressSummary"]["NumberOfTasksSucceeded"] == 3
        assert job["ProgressSummary"]["Timers"]["ElapsedTimeInActiveSeconds"] == STEP_SECONDS
        snapshot = batch.job(job_id)
        assert [(t.status, t.at) for t in snapshot.timeline] == [
            ("New", START),
            ("Preparing", START + STEP),
            ("Suspended", START + 2 * STEP),
            ("Ready", confirmed),
            ("Active", confirmed + STEP),
            ("Completing", confirmed + 2 * STEP),
            ("Complete", confirmed + 3 * STEP),
        ]
        assert_allowed_history(snapshot.status_history)


def test_clock_tasks_per_step_keeps_a_job_active_one_task_per_step(clock: Clock) -> None:
    with mock_for("clock", tasks_per_step=1) as batch:
        client = s3control()
        job_id = csv_manifest_job(client, put_manifest(batch, rows=3), ConfirmationRequired=False)
        clock.advance(3 * STEP)
        assert describe(client, job_id)["Status"] == "Active"
        active_at = START + 3 * STEP

        seen = []  # (status, tasks succeeded, ElapsedTimeInActiveSeconds) a step apart
        for _ in range(3):
            clock.advance(STEP)
            job = describe(client, job_id)
            summary = job["ProgressSummary"]
            elapsed = summary["Timers"]["ElapsedTimeInActiveSeconds"]
            seen.append((job["Status"], summary["NumberOfTasksSucceeded"], elapsed))

        assert seen[:2] == [("Active", 1, STEP_SECONDS), ("Active", 2, 2 * STEP_SECONDS)]
        assert seen[2][1:] == (3, 3 * STEP_SECONDS)
        assert (clock.now() - active_at).total_seconds() == 3 * STEP_SECONDS
        assert_allowed_history(batch.job(job_id).status_history)


def test_clock_catch_up_with_one_task_per_step_takes_each_step_at_its_time(clock: Clock) -> None:
    with mock_for("clock", tasks_per_step=1) as batch:
        client = s3control()
        etag = put_manifest(batch, rows=3)
        watched = csv_manifest_job(client, etag, ConfirmationRequired=False)
        behind = csv_manifest_job(client, etag, ConfirmationRequired=False)

        for _ in range(20):  # one job is looked at after every step, the other never
            clock.advance(STEP)
            describe(client, watched)
        job = describe(client, behind)

        assert job["Status"] == "Complete"
        summary = job["ProgressSummary"]
        assert (summary["NumberOfTasksSucceeded"], summary["TotalNumberOfTasks"]) == (3, 3)
        timeline = batch.job(behind).timeline
        assert [t.at for t in timeline] == [t.at for t in batch.job(watched).timeline]
        at = {t.status: t.at for t in timeline}
        active = (at["Completing"] - at["Active"]).total_seconds()
        assert active >= 3 * STEP_SECONDS  # three tasks, one per step
        assert active % STEP_SECONDS == 0
        assert summary["Timers"]["ElapsedTimeInActiveSeconds"] == active
        for earlier, later in itertools.pairwise(timeline):
            assert later.at > earlier.at, timeline
        assert_allowed_history(batch.job(behind).status_history)


# --------------------------------------------------------------------------- retention


def end_job(mode: str, batch: S3Batch, client: Any, clock: Clock, end: str) -> str:
    """A job with TAGS that ends with ``end`` in ``mode``; returns its id."""
    etag = put_manifest(batch)
    job_id = csv_manifest_job(
        client,
        WRONG_ETAG if end == "Failed" else etag,
        ConfirmationRequired=end == "Cancelled",
        Tags=TAGS,
    )
    job = settle(mode, batch, client, clock, job_id)
    if end == "Cancelled":
        assert job["Status"] == "Suspended"
        clock.advance(SECOND)
        update_status(client, job_id, "Cancelled")
    return job_id


@pytest.mark.parametrize("end", ["Complete", "Failed", "Cancelled"])
@pytest.mark.parametrize("mode", MODES)
def test_ended_job_is_kept_90_days_then_gone(clock: Clock, mode: str, end: str) -> None:
    with mock_for(mode) as batch:
        client = s3control()
        job_id = end_job(mode, batch, client, clock, end)
        ended = describe(client, job_id)["TerminationDate"]
        assert describe(client, job_id)["Status"] == end

        clock.move_to(ended + 45 * DAY)
        assert_present(batch, client, job_id, end)
        clock.move_to(ended + RETENTION - SECOND)
        assert_present(batch, client, job_id, end)
        assert_allowed_history(batch.job(job_id).status_history)
        clock.advance(SECOND)

        assert_gone(batch, client, job_id)
        with pytest.raises(client.exceptions.NotFoundException):
            update_status(client, job_id, "Cancelled")
        clock.advance(DAY)
        assert_gone(batch, client, job_id)


def test_expiry_spares_younger_jobs(clock: Clock) -> None:
    with mock_for("manual") as batch:
        client = s3control()
        old = end_job("manual", batch, client, clock, "Complete")
        clock.advance(10 * DAY)
        young = end_job("manual", batch, client, clock, "Complete")

        clock.move_to(START + RETENTION)
        assert_gone(batch, client, old)
        assert_present(batch, client, young, "Complete")
        clock.move_to(START + 10 * DAY + RETENTION)
        assert_gone(batch, client, young)


def test_expired_jobs_free_their_tokens_and_only_theirs(clock: Clock) -> None:
    with mock_for("manual") as batch:
        client = s3control()
        etag = put_manifest(batch)
        create = functools.partial(csv_manifest_job, client, etag, ConfirmationRequired=False)
        old = [create(ClientRequestToken=f"old-{n}") for n in range(2)]
        for job_id in old:
            batch.run(job_id)
        clock.advance(10 * DAY)
        young = create(ClientRequestToken="young")
        batch.run(young)

        clock.move_to(START + RETENTION + SECOND)
        for job_id in old:
            assert_gone(batch, client, job_id)
        # The tokens of the expired jobs name nothing now: a different request may
        # use them, and gets a new job.
        reused = [create(ClientRequestToken=f"old-{n}", Priority=n + 1) for n in range(2)]
        assert set(reused).isdisjoint(old)
        assert [describe(client, job_id)["Priority"] for job_id in reused] == [1, 2]
        # The young job's token still names it, and still refuses a different request.
        assert create(ClientRequestToken="young") == young
        with pytest.raises(client.exceptions.IdempotencyException):
            create(ClientRequestToken="young", Priority=99)


OBSERVERS = ("DescribeJob", "ListJobs", "GetJobTagging", "batch.job", "batch.jobs")


def look(observer: str, batch: S3Batch, client: Any, job_id: str) -> None:
    """Look for the job one way, expecting not to find it."""
    if observer == "DescribeJob":
        with pytest.raises(client.exceptions.NotFoundException):
            describe(client, job_id)
    elif observer == "ListJobs":
        assert job_id not in listed(client)
    elif observer == "GetJobTagging":
        with pytest.raises(client.exceptions.NotFoundException):
            client.get_job_tagging(AccountId=ACCOUNT, JobId=job_id)
    elif observer == "batch.job":
        with pytest.raises(KeyError):
            batch.job(job_id)
    else:
        assert job_id not in [job.job_id for job in batch.jobs()]


@pytest.mark.parametrize("observer", OBSERVERS)
def test_expired_job_is_gone_for_whichever_call_looks_first(clock: Clock, observer: str) -> None:
    with mock_s3batch() as batch:
        client = s3control()
        job_id = end_job("poll", batch, client, clock, "Complete")
        ended = describe(client, job_id)["TerminationDate"]
        clock.move_to(ended + RETENTION + SECOND)

        look(observer, batch, client, job_id)  # the first call after the deadline

        assert_gone(batch, client, job_id)


def test_clock_job_never_looked_at_is_gone_90_days_after_it_ended(clock: Clock) -> None:
    with mock_for("clock") as batch:
        client = s3control()
        job_id = csv_manifest_job(client, put_manifest(batch), ConfirmationRequired=False)

        clock.advance(5 * STEP + RETENTION)  # it completed at START + 5 steps: gone by now

        with pytest.raises(client.exceptions.NotFoundException):
            describe(client, job_id)
        assert_gone(batch, client, job_id)


# (ConfirmationRequired, manifest ETag right, manual steps at one task per step)
NON_TERMINAL = {
    "New": (False, True, 0),
    "Preparing": (False, True, 1),
    "Ready": (False, True, 2),
    "Active": (False, True, 4),
    "Completing": (False, True, 7),
    "Failing": (False, False, 2),
}


@pytest.mark.parametrize("status", list(NON_TERMINAL))
def test_job_that_has_not_ended_is_never_expired(clock: Clock, status: str) -> None:
    confirmation, good_etag, steps = NON_TERMINAL[status]
    with mock_for("manual", tasks_per_step=1) as batch:
        client = s3control()
        etag = put_manifest(batch, rows=3)
        job_id = csv_manifest_job(
            client,
            etag if good_etag else WRONG_ETAG,
            ConfirmationRequired=confirmation,
            Tags=TAGS,
        )
        for _ in range(steps):
            clock.advance(SECOND)
            batch.step(job_id)
        history = batch.job(job_id).status_history
        assert history[-1] == status

        for days in (31, 91, 365, 3650):
            clock.move_to(START + days * DAY)
            assert_present(batch, client, job_id, status)
        assert batch.job(job_id).status_history == history


def test_cancelling_job_is_never_expired(clock: Clock) -> None:
    with mock_for("manual", tasks_per_step=1) as batch:
        client = s3control()
        job_id = csv_manifest_job(
            client, put_manifest(batch), ConfirmationRequired=False, Tags=TAGS
        )
        for _ in range(4):
            batch.step(job_id)
        assert update_status(client, job_id, "Cancelled")["Status"] == "Cancelling"

        clock.move_to(START + 1000 * DAY)
        assert_present(batch, client, job_id, "Cancelling")
        assert batch.step(job_id) == "Cancelled"
        assert describe(client, job_id)["TerminationDate"] == START + 1000 * DAY
        clock.advance(RETENTION)
        assert_gone(batch, client, job_id)


# --------------------------------------------------------------------------- 30 days Suspended


def suspend(mode: str, batch: S3Batch, client: Any, clock: Clock) -> tuple[str, datetime.datetime]:
    """A job with TAGS awaiting confirmation; returns its id and SuspendedDate."""
    job_id = csv_manifest_job(client, put_manifest(batch), ConfirmationRequired=True, Tags=TAGS)
    job = settle(mode, batch, client, clock, job_id)
    assert job["Status"] == "Suspended"
    return job_id, job["SuspendedDate"]


@pytest.mark.parametrize("mode", MODES)
def test_suspended_for_30_days_fails_with_confirmation_timeout(clock: Clock, mode: str) -> None:
    with mock_for(mode) as batch:
        client = s3control()
        job_id, suspended = suspend(mode, batch, client, clock)

        clock.move_to(suspended + CONFIRMATION_WINDOW - SECOND)
        assert_present(batch, client, job_id, "Suspended")
        job = describe(client, job_id)
        assert job["FailureReasons"] == []
        assert "TerminationDate" not in job

        clock.advance(SECOND)
        job = describe(client, job_id)
        assert job["Status"] == "Failed"
        assert job["SuspendedDate"] == suspended
        assert job["TerminationDate"] == suspended + CONFIRMATION_WINDOW
        [failure] = job["FailureReasons"]
        assert failure["FailureCode"] == "ConfirmationTimeout"
        assert "30 days" in failure["FailureReason"]
        entry = listed(client)[job_id]
        assert entry["Status"] == "Failed"
        snapshot = batch.job(job_id)
        assert snapshot.status_history[-3:] == ["Suspended", "Failing", "Failed"]
        assert [t.at for t in snapshot.timeline[-2:]] == [suspended + CONFIRMATION_WINDOW] * 2
        assert snapshot.failure_reasons == [("ConfirmationTimeout", failure["FailureReason"])]
        assert snapshot.termination_date == suspended + CONFIRMATION_WINDOW
        assert_allowed_history(snapshot.status_history)


@pytest.mark.parametrize("mode", MODES)
def test_confirming_before_30_days_prevents_the_timeout(clock: Clock, mode: str) -> None:
    with mock_for(mode) as batch:
        client = s3control()
        job_id, suspended = suspend(mode, batch, client, clock)

        clock.move_to(suspended + CONFIRMATION_WINDOW - SECOND)
        assert update_status(client, job_id, "Ready")["Status"] == "Ready"
        clock.advance(DAY)
        if mode == "manual":
            assert_present(batch, client, job_id, "Ready")
        job = settle(mode, batch, client, clock, job_id)

        assert job["Status"] == "Complete"
        assert job["FailureReasons"] == []
        history = batch.job(job_id).status_history
        assert "Failing" not in history
        assert history[-4:] == ["Ready", "Active", "Completing", "Complete"]
        assert_allowed_history(history)


@pytest.mark.parametrize("mode", MODES)
def test_timed_out_job_is_kept_90_more_days_then_gone(clock: Clock, mode: str) -> None:
    with mock_for(mode) as batch:
        client = s3control()
        job_id, suspended = suspend(mode, batch, client, clock)
        clock.move_to(suspended + CONFIRMATION_WINDOW)
        assert describe(client, job_id)["Status"] == "Failed"

        clock.move_to(suspended + CONFIRMATION_WINDOW + RETENTION - SECOND)
        assert_present(batch, client, job_id, "Failed")
        clock.advance(SECOND)
        assert_gone(batch, client, job_id)


def test_suspended_job_left_alone_past_both_deadlines_is_gone(clock: Clock) -> None:
    with mock_for("manual") as batch:
        client = s3control()
        job_id, suspended = suspend("manual", batch, client, clock)

        # Failed at 30 days, so gone at 120 days, though nothing looked in between.
        clock.move_to(suspended + CONFIRMATION_WINDOW + RETENTION + SECOND)

        assert_gone(batch, client, job_id)


def test_clock_job_never_looked_at_fails_30_days_after_it_was_suspended(clock: Clock) -> None:
    with mock_for("clock") as batch:
        client = s3control()
        job_id = csv_manifest_job(client, put_manifest(batch), ConfirmationRequired=True)
        suspended = START + 2 * STEP

        clock.advance(2 * STEP + CONFIRMATION_WINDOW + DAY)
        job = describe(client, job_id)

        assert job["Status"] == "Failed"
        assert job["SuspendedDate"] == suspended
        assert job["TerminationDate"] == suspended + CONFIRMATION_WINDOW
        assert [f["FailureCode"] for f in job["FailureReasons"]] == ["ConfirmationTimeout"]
        history = batch.job(job_id).status_history
        assert history == ["New", "Preparing", "Suspended", "Failing", "Failed"]
        assert_allowed_history(history)
