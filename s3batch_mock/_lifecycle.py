"""Job statuses and every rule that moves a job between them: the one place that
decides which status comes next.

- requested: what UpdateJobStatus does from each status (``requested_status``);
- automatic: the next status of a job's automatic step (``FOLLOWS``,
  ``after_preparing``, ``after_running``, ``ON_FAILURE``);
- scheduling and pre-emption with ``max_active_jobs`` (``admit``);
- time: the 30-day confirmation timeout and the 90-day retention (``deadline``).

``ALLOWED`` is the table of every edge; ``check_move`` enforces it on each move
(``JobRecord.move``), so a rule that strays from the table fails loudly inside the mock.

Sources: the status table of the S3 User Guide (batch-ops-job-status) and the choices
of design section 5 where AWS is silent. Nothing here touches objects or reads the
clock: the job record (``_jobs``) does a step's work and applies these decisions, and
the backend (``_backend``) decides when steps happen.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Generic, Literal, NamedTuple, Protocol, TypeVar

from ._errors import JobStatusError

__all__ = [
    "ACTIVE",
    "ALLOWED",
    "AT_REST",
    "CANCELLED",
    "CANCELLING",
    "COMPLETE",
    "COMPLETING",
    "CONFIRMATION_TIMEOUT_CODE",
    "CONFIRMATION_TIMEOUT_REASON",
    "CONFIRMATION_WINDOW",
    "FAILED",
    "FAILING",
    "FOLLOWS",
    "NEW",
    "OCCUPYING",
    "ON_FAILURE",
    "OSS_CONFIRMATION_WINDOW",
    "PAUSED",
    "PAUSING",
    "PREPARING",
    "READY",
    "RETENTION",
    "SUSPENDED",
    "TERMINAL",
    "WAITING",
    "Admission",
    "Deadline",
    "IllegalTransition",
    "Preemption",
    "Schedulable",
    "Status",
    "admit",
    "after_preparing",
    "after_running",
    "check_move",
    "confirmation_timeout_reason",
    "deadline",
    "first_waiting",
    "requested_status",
]

#: The 13 values of the model's ``JobStatus`` enum.
Status = Literal[
    "New",
    "Preparing",
    "Suspended",
    "Ready",
    "Active",
    "Pausing",
    "Paused",
    "Completing",
    "Complete",
    "Cancelling",
    "Cancelled",
    "Failing",
    "Failed",
]

NEW: Final = "New"
PREPARING: Final = "Preparing"
SUSPENDED: Final = "Suspended"
READY: Final = "Ready"
ACTIVE: Final = "Active"
PAUSING: Final = "Pausing"
PAUSED: Final = "Paused"
COMPLETING: Final = "Completing"
COMPLETE: Final = "Complete"
CANCELLING: Final = "Cancelling"
CANCELLED: Final = "Cancelled"
FAILING: Final = "Failing"
FAILED: Final = "Failed"

TERMINAL: frozenset[Status] = frozenset({COMPLETE, CANCELLED, FAILED})
#: A job at rest takes no automatic step: terminal, or waiting for confirmation.
AT_REST: frozenset[Status] = TERMINAL | {SUSPENDED}
#: Waiting for a slot: the next automatic step makes the job Active.
WAITING: frozenset[Status] = frozenset({READY, PAUSED})
#: Holding one of the ``max_active_jobs`` slots.
OCCUPYING: frozenset[Status] = frozenset({ACTIVE, PAUSING})

#: Every edge a job may take, automatic or requested; ``check_move`` enforces it.
#: Keyed by plain ``str`` so a test can look up any status name it reads.
ALLOWED: Mapping[str, frozenset[str]] = {
    NEW: frozenset({PREPARING, CANCELLED}),
    PREPARING: frozenset({READY, SUSPENDED, FAILING, CANCELLED}),
    SUSPENDED: frozenset({READY, CANCELLED, FAILING}),
    READY: frozenset({ACTIVE, CANCELLED}),
    ACTIVE: frozenset({COMPLETING, FAILING, CANCELLING, PAUSING}),
    PAUSING: frozenset({PAUSED, CANCELLING}),
    PAUSED: frozenset({ACTIVE, CANCELLING}),
    COMPLETING: frozenset({COMPLETE}),
    CANCELLING: frozenset({CANCELLED}),
    FAILING: frozenset({FAILED}),
    COMPLETE: frozenset(),
    CANCELLED: frozenset(),
    FAILED: frozenset(),
}


class IllegalTransition(AssertionError):
    """A move outside ``ALLOWED``: a bug in the mock, never the caller's mistake."""

    def __init__(self, job_id: str, current: Status, target: Status) -> None:
        allowed = ", ".join(sorted(ALLOWED[current])) or "none"
        super().__init__(
            f"s3batch_mock bug: job {job_id} cannot move from {current} to {target} "
            f"(allowed from {current}: {allowed})."
        )
        self.job_id = job_id
        self.current = current
        self.target = target


def check_move(job_id: str, current: Status, target: Status) -> None:
    """Raise ``IllegalTransition`` unless ``current -> target`` is an edge of ``ALLOWED``."""
    if target not in ALLOWED[current]:
        raise IllegalTransition(job_id, current, target)


# ---------------------------------------------------------------------- requested

_CANCEL_AT_ONCE: frozenset[Status] = frozenset({NEW, PREPARING, SUSPENDED, READY})
_CANCEL_GRADUALLY: frozenset[Status] = frozenset({ACTIVE, PAUSING, PAUSED})


def requested_status(
    current: Status, requested: str, *, early_confirmation: bool = False
) -> Status:
    """The status an UpdateJobStatus request moves a job to, or ``JobStatusError``.

    ``Ready`` confirms a Suspended job. ``Cancelled`` ends a job that has not started
    at once, and sends a running or paused one through ``Cancelling``.

    ``early_confirmation`` (the OSS dialect): ``Ready`` is also accepted from
    Preparing, answered with Preparing itself (no move): the confirmation is recorded
    and the job goes on to Ready instead of Suspended once its manifest is read.
    """
    if requested == READY and current == SUSPENDED:
        return READY
    if requested == READY and current == PREPARING and early_confirmation:
        return PREPARING
    if requested == CANCELLED and current in _CANCEL_AT_ONCE:
        return CANCELLED
    if requested == CANCELLED and current in _CANCEL_GRADUALLY:
        return CANCELLING
    if requested == READY:
        hint = (
            "only a Suspended or Preparing job can be confirmed"
            if early_confirmation
            else "only a Suspended job (one awaiting confirmation) can be confirmed"
        )
    elif current in TERMINAL:
        hint = "the job has already ended"
    else:
        hint = f"the job is already {current.lower()} and finishes by itself"
    raise JobStatusError(
        f"Cannot change the status of a job from {current} to {requested}: {hint}."
    )


# ---------------------------------------------------------------------- automatic

#: The automatic step of each status whose next status needs no outcome to decide.
#: Ready and Paused become Active only once ``admit`` lets them start; the three
#: endings write the completion report on the way in (if a task ran). Preparing and
#: Active decide with the outcome of their work (``after_preparing``,
#: ``after_running``); a job at rest has no automatic step.
FOLLOWS: Mapping[Status, Status] = {
    NEW: PREPARING,
    READY: ACTIVE,
    PAUSED: ACTIVE,
    PAUSING: PAUSED,
    COMPLETING: COMPLETE,
    CANCELLING: CANCELLED,
    FAILING: FAILED,
}


def after_preparing(*, confirmation_required: bool) -> Status:
    """Where a Preparing job goes once its manifest was read without a problem:
    Suspended to await confirmation, or straight to Ready."""
    return SUSPENDED if confirmation_required else READY


def after_running(*, finished: bool) -> Status | None:
    """Where an Active job goes after a step that ran tasks without failing the job:
    Completing once no task is left, else it stays Active (None)."""
    return COMPLETING if finished else None


#: Where a job-level failure sends a job: from Preparing (unusable manifest), Active
#: (the failure threshold, or an unreadable manifest row) or Suspended (confirmation
#: timed out). ``check_move`` refuses it from any other status.
ON_FAILURE: Final[Status] = FAILING


# ---------------------------------------------------------------------- scheduling


class Schedulable(Protocol):
    """What scheduling reads of a job (``JobRecord`` has it)."""

    @property
    def job_id(self) -> str: ...
    @property
    def status(self) -> Status: ...
    @property
    def priority(self) -> int: ...
    @property
    def sequence(self) -> int: ...


J = TypeVar("J", bound=Schedulable)


@dataclass(frozen=True)
class Preemption(Generic[J]):
    """A running job made to give up its slot: it moves to ``status`` (Pausing)."""

    job: J
    status: Status
    reason: str  # what the timeline records


@dataclass(frozen=True)
class Admission(Generic[J]):
    """The scheduler's answer for a waiting (Ready or Paused) job."""

    #: The job becomes Active now.
    starts: bool
    #: The running job it pre-empts instead, if any.
    preemption: Preemption[J] | None = None


def first_waiting(peers: Iterable[J]) -> J | None:
    """The waiting job among ``peers`` (one account and region) that starts next:
    the highest priority, the oldest among equals."""
    waiting = [r for r in peers if r.status in WAITING]
    return max(waiting, key=lambda r: (r.priority, -r.sequence), default=None)


def admit(job: J, peers: Sequence[J], limit: int | None) -> Admission[J]:
    """Whether a Ready or Paused job may become Active now (``max_active_jobs``).

    ``peers`` are the jobs of its account and region. The highest-priority waiting job
    (oldest first among equals) starts when a slot is free. When none is, it pre-empts
    the lowest-priority Active job below it, which goes Pausing, then Paused, and frees
    its slot; the waiting job starts on a later step.
    """
    if limit is None:
        return Admission(starts=True)
    if first_waiting(peers) is not job:
        return Admission(starts=False)
    occupying = [r for r in peers if r.status in OCCUPYING]
    if len(occupying) < limit:
        return Admission(starts=True)
    running = [r for r in occupying if r.status == ACTIVE]
    if running:
        lowest = min(running, key=lambda r: (r.priority, r.sequence))
        if lowest.priority < job.priority:
            reason = f"pre-empted by job {job.job_id} (priority {job.priority})"
            return Admission(starts=False, preemption=Preemption(lowest, PAUSING, reason))
    return Admission(starts=False)


# ---------------------------------------------------------------------- time

#: How long AWS keeps an ended job (troubleshooting-batch-operations), and waits for a
#: Suspended job's confirmation (batch-ops-create-job).
RETENTION: Final = datetime.timedelta(days=90)
CONFIRMATION_WINDOW: Final = datetime.timedelta(days=30)
#: Alibaba Cloud OSS fails a job left Suspended for more than 14 days (CreateJob's
#: usage notes); jobs created through the OSS dialect carry this window.
OSS_CONFIRMATION_WINDOW: Final = datetime.timedelta(days=14)
#: The FailureReasons entry of a job whose confirmation timed out (the mock's text).
CONFIRMATION_TIMEOUT_CODE: Final = "ConfirmationTimeout"


def confirmation_timeout_reason(window: datetime.timedelta) -> str:
    """The FailureReason of a job whose confirmation timed out after ``window``."""
    return (
        f"The job was not confirmed within {window.days} days of being suspended, "
        "so it was failed."
    )


#: The FailureReason of an s3control job whose confirmation timed out.
CONFIRMATION_TIMEOUT_REASON: Final = confirmation_timeout_reason(CONFIRMATION_WINDOW)


class Deadline(NamedTuple):
    """The time-based rule pending on a job, and when it applies."""

    at: datetime.datetime
    #: ``"confirmation"``: the job fails (``ON_FAILURE``, with
    #: ``CONFIRMATION_TIMEOUT_CODE``); ``"retention"``: the job is deleted.
    rule: Literal["confirmation", "retention"]


def deadline(
    status: Status,
    suspended_date: datetime.datetime | None,
    termination_date: datetime.datetime | None,
    window: datetime.timedelta = CONFIRMATION_WINDOW,
) -> Deadline | None:
    """The next time-based rule of a job in ``status``: a Suspended job fails
    ``window`` (30 days; 14 for OSS jobs) after it was suspended; an ended job is gone
    90 days after its TerminationDate. None for any other job."""
    if status == SUSPENDED and suspended_date is not None:
        return Deadline(suspended_date + window, "confirmation")
    if status in TERMINAL and termination_date is not None:
        return Deadline(termination_date + RETENTION, "retention")
    return None
