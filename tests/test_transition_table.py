"""The lifecycle's transition table (``_lifecycle.ALLOWED``) is the code's own.

Every edge of the table happens through boto3 calls and controller steps, and the table
has no edge the code cannot take. Every move is checked against the table: a move
outside it raises ``IllegalTransition`` inside the mock and changes nothing.
"""

from __future__ import annotations

import datetime
import itertools
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, get_args

import botocore.session
import pytest
import time_machine
from botocore.model import StringShape

from s3batch_mock import S3Batch
from s3batch_mock._jobs import JobRecord
from s3batch_mock._lifecycle import ALLOWED, IllegalTransition, Status
from tests.conftest import ACCOUNT, csv_manifest_job, describe, s3control

START = datetime.datetime(2031, 3, 1, 9, 0, tzinfo=datetime.UTC)
DAY = datetime.timedelta(days=1)
#: Every setting an edge needs: steps only when asked, one slot (for pre-emption), one
#: task per step (so a job stays Active while it has tasks left).
SETTINGS = pytest.mark.s3batch(progression="manual", max_active_jobs=1, tasks_per_step=1)

EDGES = sorted((before, after) for before, targets in ALLOWED.items() for after in targets)
STATUSES: tuple[Status, ...] = get_args(Status)


# --------------------------------------------------------------------------- driving jobs


class Driver:
    """Creates jobs through boto3 and moves them with boto3 calls and controller steps."""

    def __init__(self, batch: S3Batch, clock: time_machine.Traveller) -> None:
        self.batch = batch
        self.clock = clock
        self.client = s3control()
        self._names = itertools.count()

    def create(
        self,
        *,
        confirm: bool = True,
        usable: bool = True,
        rows: int = 3,
        objects: bool = True,
        priority: int = 10,
    ) -> str:
        """A tagging job over ``rows`` objects of its own (missing unless ``objects``);
        ``usable=False`` gives it a wrong manifest ETag, so Preparing fails."""
        name = f"job{next(self._names)}"
        if objects:
            for number in range(rows):
                self.batch.objects.put("src", f"{name}-{number}", b"x")
        body = "".join(f"src,{name}-{number}\n" for number in range(rows))
        etag = self.batch.objects.put("manifests", f"{name}.csv", body)
        return csv_manifest_job(
            self.client,
            etag if usable else "0" * 32,
            key=f"{name}.csv",
            ConfirmationRequired=confirm,
            Priority=priority,
        )

    def step(self, job_id: str, times: int = 1) -> None:
        for _ in range(times):
            self.batch.step(job_id)

    def request(self, job_id: str, status: str) -> None:
        self.client.update_job_status(AccountId=ACCOUNT, JobId=job_id, RequestedJobStatus=status)

    def status(self, job_id: str) -> str:
        return self.batch.job(job_id).status

    def step_while(self, job_id: str, status: str) -> None:
        """Step until the job leaves ``status`` (an Active job running its tasks)."""
        for _ in range(1100):
            if self.status(job_id) != status:
                return
            self.batch.step(job_id)
        pytest.fail(f"job {job_id} never left {status}")


Reach = Callable[[Driver], str]
Act = Callable[[Driver, str], None]


def preparing(confirm: bool = True, usable: bool = True) -> Reach:
    def reach(d: Driver) -> str:
        job_id = d.create(confirm=confirm, usable=usable)
        d.step(job_id)
        return job_id

    return reach


def new(d: Driver) -> str:
    return d.create()


def suspended(d: Driver) -> str:
    job_id = d.create(confirm=True)
    d.step(job_id, 2)
    return job_id


def ready(d: Driver, **create: Any) -> str:
    job_id = d.create(confirm=False, **create)
    d.step(job_id, 2)
    return job_id


def active(d: Driver, **create: Any) -> str:
    job_id = ready(d, **create)
    d.step(job_id)
    return job_id


def failing_tasks(d: Driver) -> str:
    """Active over 1,000 objects that do not exist: every task fails."""
    return active(d, rows=1000, objects=False)


def preempt(d: Driver) -> None:
    """A higher-priority job arrives and asks for the only slot."""
    high = ready(d, priority=50)
    d.step(high)


def pausing(d: Driver) -> str:
    low = active(d)
    preempt(d)
    return low


def paused(d: Driver) -> str:
    low = pausing(d)
    d.step(low)
    return low


def completing(d: Driver) -> str:
    job_id = active(d)
    d.step_while(job_id, "Active")
    return job_id


def cancelling(d: Driver) -> str:
    job_id = active(d)
    d.request(job_id, "Cancelled")
    return job_id


def failing(d: Driver) -> str:
    job_id = preparing(usable=False)(d)
    d.step(job_id)
    return job_id


def step(d: Driver, job_id: str) -> None:
    d.step(job_id)


def cancel(d: Driver, job_id: str) -> None:
    d.request(job_id, "Cancelled")


def confirm(d: Driver, job_id: str) -> None:
    d.request(job_id, "Ready")


def thirty_days_pass(d: Driver, job_id: str) -> None:
    d.clock.shift(30 * DAY)
    describe(d.client, job_id)  # any call applies the time-based rules


def run_tasks(d: Driver, job_id: str) -> None:
    d.step_while(job_id, "Active")


def slot_frees(d: Driver, job_id: str) -> None:
    d.batch.run(job_id)  # moves the job holding the slot too


def higher_priority_arrives(d: Driver, job_id: str) -> None:
    del job_id  # the new job pre-empts it
    preempt(d)


#: For each edge: how to bring a job to its first status, and what moves it on.
CASES: dict[tuple[str, str], tuple[Reach, Act]] = {
    ("New", "Preparing"): (new, step),
    ("New", "Cancelled"): (new, cancel),
    ("Preparing", "Ready"): (preparing(confirm=False), step),
    ("Preparing", "Suspended"): (preparing(confirm=True), step),
    ("Preparing", "Failing"): (preparing(usable=False), step),
    ("Preparing", "Cancelled"): (preparing(), cancel),
    ("Suspended", "Ready"): (suspended, confirm),
    ("Suspended", "Cancelled"): (suspended, cancel),
    ("Suspended", "Failing"): (suspended, thirty_days_pass),
    ("Ready", "Active"): (ready, step),
    ("Ready", "Cancelled"): (ready, cancel),
    ("Active", "Completing"): (active, run_tasks),
    ("Active", "Failing"): (failing_tasks, run_tasks),
    ("Active", "Cancelling"): (active, cancel),
    ("Active", "Pausing"): (active, higher_priority_arrives),
    ("Pausing", "Paused"): (pausing, step),
    ("Pausing", "Cancelling"): (pausing, cancel),
    ("Paused", "Active"): (paused, slot_frees),
    ("Paused", "Cancelling"): (paused, cancel),
    ("Completing", "Complete"): (completing, step),
    ("Cancelling", "Cancelled"): (cancelling, step),
    ("Failing", "Failed"): (failing, step),
}


@pytest.fixture
def driver(s3batch: S3Batch) -> Iterator[Driver]:
    with time_machine.travel(START, tick=False) as clock:
        yield Driver(s3batch, clock)


# --------------------------------------------------------------------------- the table


def test_the_table_has_every_status_of_the_model() -> None:
    model = botocore.session.get_session().get_service_model("s3control")
    shape = model.shape_for("JobStatus")
    assert isinstance(shape, StringShape)
    statuses = shape.enum

    assert set(ALLOWED) == set(statuses)
    assert set(STATUSES) == set(statuses)
    assert all(targets <= set(statuses) for targets in ALLOWED.values())


def test_every_edge_of_the_table_has_a_case() -> None:
    assert sorted(CASES) == EDGES


def test_the_documented_table_is_the_code_table() -> None:
    text = (Path(__file__).parents[1] / "docs" / "lifecycle.md").read_text(encoding="utf-8")
    section = text.split("### Every transition", 1)[1].split("\n#", 1)[0]
    rows = re.findall(r"^\| `(\w+)` \| `(\w+)` \|", section, flags=re.MULTILINE)

    assert len(rows) == len(set(rows)), "an edge is documented twice"
    assert sorted(rows) == EDGES


@SETTINGS
@pytest.mark.parametrize(("before", "after"), EDGES, ids=[f"{a}->{b}" for a, b in EDGES])
def test_every_edge_happens(driver: Driver, before: str, after: str) -> None:
    reach, act = CASES[(before, after)]
    job_id = reach(driver)
    history = driver.batch.job(job_id).status_history
    assert history[-1] == before, history

    act(driver, job_id)

    moved = driver.batch.job(job_id).status_history
    assert moved[: len(history)] == history
    assert moved[len(history) - 1 : len(history) + 1] == [before, after], moved
    assert describe(driver.client, job_id)["Status"] == moved[-1]


# --------------------------------------------------------------------------- enforcement


def record(status: Status) -> JobRecord:
    """A bare job record standing in ``status`` (set directly: no public way exists)."""
    job = JobRecord(
        job_id="job-under-test",
        account_id=ACCOUNT,
        region="us-east-1",
        sequence=0,
        request={"Operation": {"S3PutObjectTagging": {"TagSet": []}}},
        priority=1,
        confirmation_required=True,
        tags=[],
        creation_time=START,
    )
    job.status = status
    return job


NON_EDGES = [
    (before, after)
    for before in STATUSES
    for after in STATUSES
    if after not in ALLOWED[before]  # includes staying put: a move always changes status
]


@pytest.mark.parametrize(("before", "after"), NON_EDGES, ids=[f"{a}->{b}" for a, b in NON_EDGES])
def test_a_move_outside_the_table_raises_and_changes_nothing(
    before: Status, after: Status
) -> None:
    job = record(before)
    timeline = list(job.timeline)

    with pytest.raises(IllegalTransition) as caught:
        job.move(after, START + DAY, "no such edge")

    message = str(caught.value)
    assert "job-under-test" in message
    assert f"from {before} to {after}" in message
    assert (caught.value.job_id, caught.value.current, caught.value.target) == (
        "job-under-test",
        before,
        after,
    )
    assert job.status == before
    assert job.timeline == timeline
    assert job.termination_date is None


@SETTINGS
def test_an_automatic_step_outside_the_table_raises_in_the_caller(
    driver: Driver, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = driver.create()
    monkeypatch.setitem(ALLOWED, "New", frozenset({"Cancelled"}))

    with pytest.raises(IllegalTransition, match=f"job {job_id} cannot move from New to Preparing"):
        driver.batch.step(job_id)

    assert driver.batch.job(job_id).status_history == ["New"]


@SETTINGS
def test_a_requested_move_outside_the_table_raises_in_the_caller(
    driver: Driver, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = suspended(driver)
    monkeypatch.setitem(ALLOWED, "Suspended", frozenset({"Cancelled", "Failing"}))

    with pytest.raises(IllegalTransition, match="from Suspended to Ready"):
        confirm(driver, job_id)

    assert driver.batch.job(job_id).status_history == ["New", "Preparing", "Suspended"]
    assert describe(driver.client, job_id)["Status"] == "Suspended"
