"""Scheduling with ``max_active_jobs`` (per account and Region), through boto3: which
waiting job starts, pre-emption through Pausing and Paused, UpdateJobPriority, and
``batch.run`` moving the jobs that hold the slots (design section 3; aws-semantics
3.1, 3.2 and 3.5)."""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import unquote_plus

import pytest
import time_machine
from freezegun import freeze_time

from s3batch_mock import S3Batch, mock_s3batch
from tests.conftest import ACCOUNT, assert_allowed_history, csv_manifest_job, describe, s3control

OTHER_ACCOUNT = "210987654321"
FUNCTION = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:counter"
OCCUPYING = ("Active", "Pausing")
START = datetime.datetime(2026, 1, 1, 12, 0, tzinfo=datetime.UTC)


# --------------------------------------------------------------------------- helpers


def assert_all_histories_allowed(batch: S3Batch) -> None:
    for job in batch.jobs():
        assert_allowed_history(job.status_history)


def make_job(
    batch: S3Batch,
    name: str,
    *,
    priority: int,
    rows: int = 3,
    region: str = "us-east-1",
    account: str = ACCOUNT,
    lambda_arn: str | None = None,
) -> str:
    """A job over its own ``rows`` objects src/<name>-<n>, tagging them job=<name>
    (or invoking ``lambda_arn``); no confirmation needed. Returns its id."""
    for number in range(rows):
        batch.objects.put("src", f"{name}-{number}", b"x")
    body = "".join(f"src,{name}-{number}\n" for number in range(rows))
    etag = batch.objects.put("manifests", f"{name}.csv", body)
    operation: dict[str, Any] = {"S3PutObjectTagging": {"TagSet": [{"Key": "job", "Value": name}]}}
    if lambda_arn is not None:
        operation = {"LambdaInvoke": {"FunctionArn": lambda_arn}}
    return csv_manifest_job(
        s3control(region),
        etag,
        key=f"{name}.csv",
        account=account,
        Priority=priority,
        ConfirmationRequired=False,
        Operation=operation,
        RoleArn=f"arn:aws:iam::{account}:role/batch",
    )


def status(batch: S3Batch, job_id: str) -> str:
    return batch.job(job_id).status


def check_slots(batch: S3Batch, limit: int) -> None:
    """No account and Region has more than ``limit`` jobs Active or Pausing."""
    occupied = Counter(
        (job.account_id, job.region) for job in batch.jobs() if job.status in OCCUPYING
    )
    assert all(count <= limit for count in occupied.values()), {
        job.job_id: job.status for job in batch.jobs()
    }


def step(batch: S3Batch, job_id: str, limit: int = 1) -> str:
    """``batch.step``, then check that the limit holds."""
    result = batch.step(job_id)
    check_slots(batch, limit)
    return result


def to_ready(batch: S3Batch, *job_ids: str, limit: int = 1) -> None:
    for job_id in job_ids:
        assert [step(batch, job_id, limit) for _ in range(2)] == ["Preparing", "Ready"]


def step_until(batch: S3Batch, job_id: str, wanted: tuple[str, ...], limit: int = 1) -> None:
    for _ in range(50):
        if status(batch, job_id) in wanted:
            return
        step(batch, job_id, limit)
    pytest.fail(f"never reached {wanted}: {batch.job(job_id).status_history}")


def reasons(batch: S3Batch, job_id: str, wanted: str) -> list[str]:
    return [t.reason or "" for t in batch.job(job_id).timeline if t.status == wanted]


class Counting:
    """A Lambda handler that succeeds and counts the keys it was called for."""

    def __init__(self) -> None:
        self.keys: Counter[str] = Counter()

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        results = []
        for task in event["tasks"]:
            self.keys[unquote_plus(task["s3Key"])] += 1
            results.append({"taskId": task["taskId"], "resultCode": "Succeeded"})
        return {
            "invocationSchemaVersion": event["invocationSchemaVersion"],
            "treatMissingKeysAs": "PermanentFailure",
            "invocationId": event["invocationId"],
            "results": results,
        }


# --------------------------------------------------------------------------- which job starts


@pytest.mark.s3batch(progression="manual", max_active_jobs=1, tasks_per_step=1)
@pytest.mark.parametrize("low_steps_first", [True, False], ids=["low-first", "high-first"])
def test_only_the_higher_priority_ready_job_starts(
    s3batch: S3Batch, low_steps_first: bool
) -> None:
    low = make_job(s3batch, "low", priority=10)
    high = make_job(s3batch, "high", priority=20)
    to_ready(s3batch, low, high)

    order = [low, high] if low_steps_first else [high, low]
    steps = {job_id: step(s3batch, job_id) for job_id in order}
    assert steps == {low: "Ready", high: "Active"}

    while status(s3batch, high) == "Active":  # the slot is taken: low waits
        assert step(s3batch, low) == "Ready"
        step(s3batch, high)
    assert status(s3batch, high) in ("Completing", "Complete")
    if step(s3batch, low) != "Active":  # it may start as high leaves Active, or once it ended
        assert step(s3batch, high) == "Complete"
        assert step(s3batch, low) == "Active"
    assert reasons(s3batch, low, "Active") == [""]

    s3batch.run(low)
    s3batch.run(high)
    assert [status(s3batch, job_id) for job_id in (low, high)] == ["Complete", "Complete"]
    assert "Paused" not in s3batch.job(low).status_history
    assert s3batch.job(high).status_history == [
        "New", "Preparing", "Ready", "Active", "Completing", "Complete",
    ]  # fmt: skip
    assert_all_histories_allowed(s3batch)


@pytest.mark.s3batch(progression="manual", max_active_jobs=1)
def test_equal_priorities_start_oldest_first(s3batch: S3Batch) -> None:
    older = make_job(s3batch, "older", priority=10)
    newer = make_job(s3batch, "newer", priority=10)
    to_ready(s3batch, newer, older)  # the newer one is Ready first

    assert step(s3batch, newer) == "Ready"
    assert step(s3batch, older) == "Active"
    assert step(s3batch, newer) == "Ready"

    s3batch.run(older)
    step_until(s3batch, newer, ("Active",))
    s3batch.run()
    assert [job.status for job in s3batch.jobs()] == ["Complete", "Complete"]
    assert_all_histories_allowed(s3batch)


@pytest.mark.s3batch(progression="manual", max_active_jobs=2, tasks_per_step=1)
def test_limit_of_two_runs_two_jobs_and_queues_the_third(s3batch: S3Batch) -> None:
    jobs = [make_job(s3batch, f"job{n}", priority=10 * n) for n in (1, 2, 3)]
    to_ready(s3batch, *jobs, limit=2)

    highest_first = jobs[::-1]
    assert [step(s3batch, job_id, limit=2) for job_id in highest_first] == [
        "Active", "Active", "Ready",
    ]  # fmt: skip
    assert step(s3batch, jobs[0], limit=2) == "Ready"
    s3batch.run(jobs[2])
    assert step(s3batch, jobs[0], limit=2) == "Active"  # a slot came free

    s3batch.run()
    assert [job.status for job in s3batch.jobs()] == ["Complete"] * 3
    assert all("Paused" not in job.status_history for job in s3batch.jobs())
    assert_all_histories_allowed(s3batch)


# --------------------------------------------------------------------------- pre-emption


@pytest.mark.s3batch(progression="manual", max_active_jobs=1, tasks_per_step=1)
def test_higher_priority_job_preempts_and_the_low_job_resumes_where_it_stopped(
    s3batch: S3Batch,
) -> None:
    counting = Counting()
    s3batch.register_lambda(FUNCTION, counting)
    client = s3control()
    low = make_job(s3batch, "low", priority=10, rows=5, lambda_arn=FUNCTION)
    to_ready(s3batch, low)
    assert [step(s3batch, low) for _ in range(3)] == ["Active"] * 3
    assert s3batch.job(low).succeeded_tasks == 2

    high = make_job(s3batch, "high", priority=50, rows=2)
    to_ready(s3batch, high)
    assert step(s3batch, high) == "Ready"  # asks the low job to make room

    assert status(s3batch, low) == "Pausing"
    assert describe(client, low)["Status"] == "Pausing"
    [reason] = reasons(s3batch, low, "Pausing")
    assert "pre-empted" in reason
    assert high in reason
    assert step(s3batch, high) == "Ready"  # the slot is still held while Pausing

    succeeded = [s3batch.job(low).succeeded_tasks]
    assert step(s3batch, low) == "Paused"
    succeeded.append(s3batch.job(low).succeeded_tasks)
    assert step(s3batch, high) == "Active"
    while status(s3batch, high) in OCCUPYING:  # the slot is taken: low stays Paused
        assert step(s3batch, low) == "Paused"
        succeeded.append(s3batch.job(low).succeeded_tasks)
        step(s3batch, high)
    s3batch.run(high)
    assert status(s3batch, high) == "Complete"
    assert s3batch.objects.get_tags("src", "high-0") == {"job": "high"}

    while status(s3batch, low) != "Complete":
        step(s3batch, low)
        succeeded.append(s3batch.job(low).succeeded_tasks)

    assert succeeded == sorted(succeeded), succeeded  # never goes back
    assert succeeded[0] == 2
    job = s3batch.job(low)
    assert (job.succeeded_tasks, job.failed_tasks, job.total_tasks) == (5, 0, 5)
    assert counting.keys == {f"low-{n}": 1 for n in range(5)}
    assert job.status_history == [
        "New", "Preparing", "Ready", "Active", "Pausing", "Paused",
        "Active", "Completing", "Complete",
    ]  # fmt: skip
    summary = describe(client, low)["ProgressSummary"]
    assert (summary["NumberOfTasksSucceeded"], summary["TotalNumberOfTasks"]) == (5, 5)
    assert_all_histories_allowed(s3batch)


@pytest.mark.s3batch(progression="manual", max_active_jobs=1, tasks_per_step=1)
def test_lower_or_equal_priority_does_not_preempt(s3batch: S3Batch) -> None:
    running = make_job(s3batch, "running", priority=10, rows=4)
    to_ready(s3batch, running)
    assert step(s3batch, running) == "Active"
    equal = make_job(s3batch, "equal", priority=10)
    lower = make_job(s3batch, "lower", priority=5)
    to_ready(s3batch, equal, lower)

    for _ in range(3):
        assert step(s3batch, equal) == "Ready"
        assert step(s3batch, lower) == "Ready"
        assert status(s3batch, running) == "Active"

    s3batch.run()
    assert "Pausing" not in s3batch.job(running).status_history
    assert [job.status for job in s3batch.jobs()] == ["Complete"] * 3
    assert_all_histories_allowed(s3batch)


# --------------------------------------------------------------------------- UpdateJobPriority


@pytest.mark.s3batch(progression="manual", max_active_jobs=1, tasks_per_step=1)
def test_raising_a_waiting_jobs_priority_lets_it_start_first(s3batch: S3Batch) -> None:
    client = s3control()
    busy = make_job(s3batch, "busy", priority=100, rows=3)
    to_ready(s3batch, busy)
    assert step(s3batch, busy) == "Active"
    first = make_job(s3batch, "first", priority=10)
    second = make_job(s3batch, "second", priority=20)
    to_ready(s3batch, first, second)
    assert [step(s3batch, first), step(s3batch, second)] == ["Ready", "Ready"]

    response = client.update_job_priority(AccountId=ACCOUNT, JobId=first, Priority=30)
    assert (response["JobId"], response["Priority"]) == (first, 30)
    assert describe(client, first)["Priority"] == 30
    s3batch.run(busy)

    assert step(s3batch, second) == "Ready"
    assert step(s3batch, first) == "Active"
    assert "Pausing" not in s3batch.job(busy).status_history
    s3batch.run()
    assert [job.status for job in s3batch.jobs()] == ["Complete"] * 3
    assert_all_histories_allowed(s3batch)


@pytest.mark.s3batch(progression="manual", max_active_jobs=1, tasks_per_step=1)
@pytest.mark.parametrize("change", ["raise-waiting", "lower-active"])
def test_priority_change_past_the_active_job_preempts_it(s3batch: S3Batch, change: str) -> None:
    client = s3control()
    active = make_job(s3batch, "active", priority=10, rows=5)
    to_ready(s3batch, active)
    assert [step(s3batch, active) for _ in range(2)] == ["Active", "Active"]
    waiting = make_job(s3batch, "waiting", priority=5)
    to_ready(s3batch, waiting)
    assert step(s3batch, waiting) == "Ready"
    assert status(s3batch, active) == "Active"  # priority 5 does not pre-empt 10

    if change == "raise-waiting":
        client.update_job_priority(AccountId=ACCOUNT, JobId=waiting, Priority=50)
    else:
        client.update_job_priority(AccountId=ACCOUNT, JobId=active, Priority=1)
    assert step(s3batch, waiting) == "Ready"

    assert status(s3batch, active) == "Pausing"
    [reason] = reasons(s3batch, active, "Pausing")
    assert "pre-empted" in reason
    assert waiting in reason
    assert step(s3batch, active) == "Paused"
    assert step(s3batch, waiting) == "Active"
    s3batch.run()
    assert [job.status for job in s3batch.jobs()] == ["Complete", "Complete"]
    assert s3batch.job(active).succeeded_tasks == 5
    assert_all_histories_allowed(s3batch)


# --------------------------------------------------------------------------- account, Region


@pytest.mark.s3batch(progression="manual", max_active_jobs=1, tasks_per_step=1)
def test_limit_is_per_account_and_region(s3batch: S3Batch) -> None:
    busy = make_job(s3batch, "busy", priority=10, rows=4)
    to_ready(s3batch, busy)
    assert step(s3batch, busy) == "Active"
    same = make_job(s3batch, "same", priority=5)
    west = make_job(s3batch, "west", priority=99, region="us-west-2")
    other = make_job(s3batch, "other", priority=99, account=OTHER_ACCOUNT)
    to_ready(s3batch, same, west, other)

    assert step(s3batch, same) == "Ready"
    assert step(s3batch, west) == "Active"  # not blocked by a job of another Region
    assert step(s3batch, other) == "Active"  # nor of another account
    assert status(s3batch, busy) == "Active"  # and they pre-empt nothing here
    assert describe(s3control("us-west-2"), west)["Status"] == "Active"
    assert describe(s3control(), other, account=OTHER_ACCOUNT)["Status"] == "Active"

    s3batch.run()
    assert {job.job_id: job.status for job in s3batch.jobs()} == dict.fromkeys(
        (busy, same, west, other), "Complete"
    )
    assert all("Pausing" not in job.status_history for job in s3batch.jobs())
    assert_all_histories_allowed(s3batch)


@pytest.mark.s3batch(progression="manual", max_active_jobs=1, tasks_per_step=1)
def test_preemption_is_per_account_and_region(s3batch: S3Batch) -> None:
    busy = make_job(s3batch, "busy", priority=10, rows=4)
    to_ready(s3batch, busy)
    assert step(s3batch, busy) == "Active"
    west_busy = make_job(s3batch, "west-busy", priority=1, rows=4, region="us-west-2")
    to_ready(s3batch, west_busy)
    assert step(s3batch, west_busy) == "Active"

    high = make_job(s3batch, "high", priority=50)
    to_ready(s3batch, high)
    step(s3batch, high)

    assert status(s3batch, busy) == "Pausing"
    assert status(s3batch, west_busy) == "Active"
    s3batch.run()
    assert "Pausing" not in s3batch.job(west_busy).status_history
    assert_all_histories_allowed(s3batch)


# --------------------------------------------------------------------------- batch.run


@pytest.mark.s3batch(progression="manual", max_active_jobs=1, tasks_per_step=1)
@pytest.mark.parametrize("low_state", ["Ready", "Paused"])
def test_run_of_a_waiting_job_moves_the_jobs_holding_the_slot(
    s3batch: S3Batch, low_state: str
) -> None:
    low = make_job(s3batch, "low", priority=10, rows=4)
    high = make_job(s3batch, "high", priority=20, rows=4)
    if low_state == "Ready":
        to_ready(s3batch, low, high)
        assert step(s3batch, high) == "Active"
    else:
        to_ready(s3batch, low)
        assert [step(s3batch, low) for _ in range(2)] == ["Active"] * 2
        to_ready(s3batch, high)
        step(s3batch, high)
        assert step(s3batch, low) == "Paused"
        assert step(s3batch, high) == "Active"
    assert step(s3batch, low) == low_state

    s3batch.run(low)

    assert status(s3batch, low) == "Complete"
    assert status(s3batch, high) in ("Completing", "Complete")  # moved out of the way
    for job in s3batch.jobs():
        assert (job.succeeded_tasks, job.total_tasks) == (4, 4)
    assert_all_histories_allowed(s3batch)


@pytest.mark.s3batch(progression="manual", max_active_jobs=1, tasks_per_step=1)
def test_run_of_a_waiting_high_job_preempts_and_leaves_the_low_job_paused(
    s3batch: S3Batch,
) -> None:
    low = make_job(s3batch, "low", priority=10, rows=4)
    to_ready(s3batch, low)
    assert step(s3batch, low) == "Active"
    high = make_job(s3batch, "high", priority=20)
    to_ready(s3batch, high)

    s3batch.run(high)

    assert status(s3batch, high) == "Complete"
    assert status(s3batch, low) == "Paused"
    s3batch.run()
    assert status(s3batch, low) == "Complete"
    assert_all_histories_allowed(s3batch)


@pytest.mark.parametrize("limit", [1, 2])
def test_run_completes_every_job(limit: int) -> None:
    with mock_s3batch(progression="manual", max_active_jobs=limit, tasks_per_step=1) as batch:
        names = [f"job{n}" for n in range(6)]
        jobs = {}
        for number, name in enumerate(names[:3]):
            jobs[name] = make_job(batch, name, priority=10 + number, rows=3)
            to_ready(batch, jobs[name], limit=limit)
            step(batch, jobs[name], limit)
        for number, name in enumerate(names[3:]):  # later and higher: they pre-empt
            jobs[name] = make_job(batch, name, priority=50 + number, rows=2)
        jobs["west"] = make_job(batch, "west", priority=1, region="us-west-2")

        batch.run()

        for job in batch.jobs():
            assert job.status == "Complete", job.status_history
            assert job.succeeded_tasks == job.total_tasks > 0
            assert_allowed_history(job.status_history)
        for name in [*names, "west"]:
            rows = 3 if name in names[:3] or name == "west" else 2
            for number in range(rows):
                assert batch.objects.get_tags("src", f"{name}-{number}") == {"job": name}
        assert any("Paused" in batch.job(job_id).status_history for job_id in jobs.values())


# --------------------------------------------------------------------------- poll mode


@pytest.mark.s3batch(max_active_jobs=1, tasks_per_step=1)
def test_poll_describe_loop_over_all_jobs_completes_them_all(s3batch: S3Batch) -> None:
    client = s3control()
    jobs = [
        make_job(s3batch, f"job{n}", priority=priority) for n, priority in enumerate([10, 30, 20])
    ]
    late = None

    for round_number in range(200):
        statuses = [describe(client, job_id)["Status"] for job_id in jobs]
        check_slots(s3batch, 1)
        if round_number == 6:  # a later, more urgent job arrives while one runs
            assert "Active" in statuses
            late = make_job(s3batch, "late", priority=99, rows=2)
            jobs.append(late)
        if all(s == "Complete" for s in statuses) and late is not None:
            break
    else:
        pytest.fail(f"polling never finished: {[s3batch.job(j).status_history for j in jobs]}")

    for job in s3batch.jobs():
        assert job.status == "Complete"
        assert job.succeeded_tasks == job.total_tasks
        assert_allowed_history(job.status_history)
    assert any("Paused" in job.status_history for job in s3batch.jobs())


@pytest.mark.s3batch(max_active_jobs=1, tasks_per_step=1)
def test_poll_list_jobs_shows_pausing_and_paused_on_preemption(s3batch: S3Batch) -> None:
    client = s3control()
    low = make_job(s3batch, "low", priority=10, rows=6)
    seen: dict[str, list[str]] = {low: []}
    high = None

    for _ in range(100):
        listed = {j["JobId"]: j["Status"] for j in client.list_jobs(AccountId=ACCOUNT)["Jobs"]}
        for job_id, job_status in listed.items():
            if not seen[job_id] or seen[job_id][-1] != job_status:
                seen[job_id].append(job_status)
        if high is None and listed[low] == "Active":
            high = make_job(s3batch, "high", priority=50, rows=2)
            seen[high] = []
        if high is not None and set(listed.values()) == {"Complete"}:
            break
    else:
        pytest.fail(f"listing never finished: {seen}")

    assert seen[low] == [
        "Preparing", "Ready", "Active", "Pausing", "Paused", "Active", "Completing", "Complete",
    ]  # fmt: skip
    assert seen[high] == ["Preparing", "Ready", "Active", "Completing", "Complete"]
    assert s3batch.job(low).succeeded_tasks == 6
    assert_all_histories_allowed(s3batch)


# --------------------------------------------------------------------------- no limit


@pytest.mark.s3batch(progression="manual", tasks_per_step=1)
def test_without_a_limit_every_ready_job_starts_at_once(s3batch: S3Batch) -> None:
    jobs = [make_job(s3batch, f"job{n}", priority=10 * n) for n in range(4)]
    to_ready(s3batch, *jobs, limit=4)

    assert [step(s3batch, job_id, limit=4) for job_id in jobs] == ["Active"] * 4
    assert [job.status for job in s3batch.jobs()] == ["Active"] * 4

    s3batch.run()
    for job in s3batch.jobs():
        assert job.status == "Complete"
        assert job.status_history == [
            "New", "Preparing", "Ready", "Active", "Completing", "Complete",
        ]  # fmt: skip


@pytest.mark.s3batch(tasks_per_step=1)
def test_poll_without_a_limit_never_pauses(s3batch: S3Batch) -> None:
    client = s3control()
    low = make_job(s3batch, "low", priority=1, rows=6)
    high = None
    seen: set[str] = set()
    both_active = False

    for _ in range(100):
        listed = {j["JobId"]: j["Status"] for j in client.list_jobs(AccountId=ACCOUNT)["Jobs"]}
        seen.update(listed.values())
        both_active |= list(listed.values()) == ["Active", "Active"]
        if high is None and listed[low] == "Active":
            high = make_job(s3batch, "high", priority=99, rows=6)
        if high is not None and set(listed.values()) == {"Complete"}:
            break

    assert both_active
    assert not seen & {"Pausing", "Paused"}
    assert [job.status for job in s3batch.jobs()] == ["Complete", "Complete"]
    assert_all_histories_allowed(s3batch)


# --------------------------------------------------------------------------- clock mode


@pytest.fixture(params=["freezegun", "time-machine"])
def advance(request: pytest.FixtureRequest) -> Iterator[Callable[[datetime.timedelta], Any]]:
    """The clock frozen at START; yields a function that moves it forward."""
    if request.param == "freezegun":
        with freeze_time(START) as frozen:
            yield frozen.tick
    else:
        with time_machine.travel(START, tick=False) as traveller:
            yield traveller.shift


def test_clock_limit_holds_in_simulated_time(
    advance: Callable[[datetime.timedelta], Any],
) -> None:
    with mock_s3batch(progression="clock", step_seconds=5, max_active_jobs=1) as batch:
        client = s3control()
        high = make_job(batch, "high", priority=20)
        low = make_job(batch, "low", priority=10)

        advance(datetime.timedelta(seconds=1000))
        statuses = [describe(client, job_id)["Status"] for job_id in (low, high)]

        assert statuses == ["Complete", "Complete"]
        at = {
            job_id: {t.status: t.at for t in batch.job(job_id).timeline} for job_id in (low, high)
        }
        # The higher-priority job runs first; the other starts once the slot is free.
        assert at[high]["Active"] < at[low]["Active"]
        assert at[low]["Active"] >= at[high]["Completing"]
        for job_id in (low, high):
            assert_allowed_history(batch.job(job_id).status_history)


@pytest.mark.s3batch(max_active_jobs=1, tasks_per_step=1)
def test_poll_loop_on_one_waiting_job_terminates(s3batch: S3Batch) -> None:
    """Polling only the waiting job: the jobs holding the slot, and the job queued
    ahead of it, move on by themselves, as they would on AWS."""
    client = s3control()
    low = make_job(s3batch, "low", priority=1, rows=4)
    for _ in range(4):
        describe(client, low)
    assert status(s3batch, low) == "Active"
    same = make_job(s3batch, "same", priority=1)
    high = make_job(s3batch, "high", priority=5)

    for target in (high, same):
        for _ in range(100):
            if describe(client, target)["Status"] == "Complete":
                break
        else:
            pytest.fail(f"polling {target} never reached Complete: {s3batch.jobs()}")

    s3batch.run()
    assert [job.status for job in s3batch.jobs()] == ["Complete"] * 3
    assert "Paused" in s3batch.job(low).status_history
    assert_all_histories_allowed(s3batch)
