"""One job: its mutable record, its automatic steps, and the frozen ``Job`` snapshot."""

from __future__ import annotations

import copy
import datetime
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from . import _lifecycle as lc
from ._manifests import ManifestError, open_tasks
from ._stores import ObjectStore

__all__ = ["Job", "JobRecord", "Transition"]

#: SuspendedCause while a job awaits confirmation (the exact AWS text is undocumented).
SUSPENDED_CAUSE = "AwaitingConfirmation"


class Transition(NamedTuple):
    """One entry of a job's timeline."""

    status: str
    at: datetime.datetime
    reason: str | None = None


@dataclass(frozen=True)
class Job:
    """A snapshot of one job, as ``batch.job(job_id)`` returns it."""

    job_id: str
    account_id: str
    region: str
    job_arn: str
    status: str
    priority: int
    description: str | None
    operation: str
    confirmation_required: bool
    total_tasks: int
    succeeded_tasks: int
    failed_tasks: int
    failure_reasons: list[tuple[str, str]]
    tags: dict[str, str]
    creation_time: datetime.datetime
    termination_date: datetime.datetime | None
    suspended_date: datetime.datetime | None
    suspended_cause: str | None
    status_update_reason: str | None
    status_history: list[str]
    timeline: list[Transition]
    request: dict[str, Any] = field(repr=False)


@dataclass
class JobRecord:
    """The backend's live, mutable state of one job. Guarded by the backend's lock."""

    job_id: str
    account_id: str
    region: str
    sequence: int
    request: dict[str, Any]
    priority: int
    confirmation_required: bool
    tags: list[dict[str, str]]
    creation_time: datetime.datetime
    status: str = lc.NEW
    timeline: list[Transition] = field(default_factory=list)
    termination_date: datetime.datetime | None = None
    suspended_date: datetime.datetime | None = None
    suspended_cause: str | None = None
    status_update_reason: str | None = None
    failure_reasons: list[tuple[str, str]] = field(default_factory=list)
    total_tasks: int = 0
    succeeded_tasks: int = 0
    failed_tasks: int = 0
    unusable_tasks: int = 0  # manifest rows that cannot become a task
    active_seconds: float = 0.0

    def __post_init__(self) -> None:
        if not self.timeline:
            self.timeline.append(Transition(lc.NEW, self.creation_time))

    # ------------------------------------------------------------------ identity

    @property
    def arn(self) -> str:
        partition = "aws-cn" if self.region.startswith("cn-") else "aws"
        if self.region.startswith("us-gov-"):
            partition = "aws-us-gov"
        return f"arn:{partition}:s3:{self.region}:{self.account_id}:job/{self.job_id}"

    @property
    def operation_name(self) -> str:
        return str(next(iter(self.request["Operation"])))

    @property
    def last_transition_at(self) -> datetime.datetime:
        return self.timeline[-1].at

    # ------------------------------------------------------------------ moving

    def move(self, status: str, at: datetime.datetime, reason: str | None = None) -> None:
        """Record a transition; keeps dates and the Active timer in step with it."""
        if self.status == lc.ACTIVE:
            self.active_seconds += max(0.0, (at - self.last_transition_at).total_seconds())
        self.status = status
        self.timeline.append(Transition(status, at, reason))
        if status in lc.TERMINAL:
            self.termination_date = at
        if status == lc.SUSPENDED:
            self.suspended_date = at
            self.suspended_cause = SUSPENDED_CAUSE

    def step(self, store: ObjectStore, at: datetime.datetime) -> str:
        """Take one automatic step (none at rest); returns the status after it."""
        status = self.status
        if status == lc.NEW:
            self.move(lc.PREPARING, at)
        elif status == lc.PREPARING:
            self._prepare(store, at)
        elif status in (lc.READY, lc.PAUSED):
            self.move(lc.ACTIVE, at)
        elif status == lc.ACTIVE:
            self._run(at)
        elif status == lc.PAUSING:
            self.move(lc.PAUSED, at)
        elif status == lc.COMPLETING:
            self.move(lc.COMPLETE, at)
        elif status == lc.CANCELLING:
            self.move(lc.CANCELLED, at)
        elif status == lc.FAILING:
            self.move(lc.FAILED, at)
        return self.status

    def _prepare(self, store: ObjectStore, at: datetime.datetime) -> None:
        try:
            total = problems = 0
            for task in open_tasks(store, self.request):
                total += 1
                problems += task.problem is not None
        except ManifestError as exc:
            self.failure_reasons.append((exc.code, exc.reason))
            self.move(lc.FAILING, at, exc.reason)
            return
        self.total_tasks = total
        self.unusable_tasks = problems
        self.move(lc.SUSPENDED if self.confirmation_required else lc.READY, at)

    def _run(self, at: datetime.datetime) -> None:
        # Every usable task succeeds; applying the operation itself is the
        # execution layer's job (docs/lifecycle.md, "Current limits").
        self.failed_tasks = self.unusable_tasks
        self.succeeded_tasks = self.total_tasks - self.unusable_tasks
        self.move(lc.COMPLETING, at)

    # ------------------------------------------------------------------ views

    def snapshot(self) -> Job:
        return Job(
            job_id=self.job_id,
            account_id=self.account_id,
            region=self.region,
            job_arn=self.arn,
            status=self.status,
            priority=self.priority,
            description=self.request.get("Description"),
            operation=self.operation_name,
            confirmation_required=self.confirmation_required,
            total_tasks=self.total_tasks,
            succeeded_tasks=self.succeeded_tasks,
            failed_tasks=self.failed_tasks,
            failure_reasons=list(self.failure_reasons),
            tags={t["Key"]: t["Value"] for t in self.tags},
            creation_time=self.creation_time,
            termination_date=self.termination_date,
            suspended_date=self.suspended_date,
            suspended_cause=self.suspended_cause,
            status_update_reason=self.status_update_reason,
            status_history=[t.status for t in self.timeline],
            timeline=list(self.timeline),
            request=copy.deepcopy(self.request),
        )

    def progress(self, now: datetime.datetime) -> dict[str, Any]:
        elapsed = self.active_seconds
        if self.status == lc.ACTIVE:
            elapsed += max(0.0, (now - self.last_transition_at).total_seconds())
        return {
            "TotalNumberOfTasks": self.total_tasks,
            "NumberOfTasksSucceeded": self.succeeded_tasks,
            "NumberOfTasksFailed": self.failed_tasks,
            "Timers": {"ElapsedTimeInActiveSeconds": int(elapsed)},
        }

    def descriptor(self, now: datetime.datetime) -> dict[str, Any]:
        """The JobDescriptor DescribeJob returns; members without a value are left out."""
        request = self.request
        return {
            "JobId": self.job_id,
            "ConfirmationRequired": self.confirmation_required,
            "Description": request.get("Description"),
            "JobArn": self.arn,
            "Status": self.status,
            "Manifest": request.get("Manifest"),
            "Operation": request["Operation"],
            "Priority": self.priority,
            "ProgressSummary": self.progress(now),
            "StatusUpdateReason": self.status_update_reason,
            "FailureReasons": [
                {"FailureCode": code, "FailureReason": reason}
                for code, reason in self.failure_reasons
            ],
            "Report": request["Report"],
            "CreationTime": self.creation_time,
            "TerminationDate": self.termination_date,
            "RoleArn": request["RoleArn"],
            "SuspendedDate": self.suspended_date,
            "SuspendedCause": self.suspended_cause,
            "ManifestGenerator": request.get("ManifestGenerator"),
        }

    def list_entry(self, now: datetime.datetime) -> dict[str, Any]:
        """The JobListDescriptor ListJobs returns."""
        return {
            "JobId": self.job_id,
            "Description": self.request.get("Description"),
            "Operation": self.operation_name,
            "Priority": self.priority,
            "Status": self.status,
            "CreationTime": self.creation_time,
            "TerminationDate": self.termination_date,
            "ProgressSummary": self.progress(now),
        }
