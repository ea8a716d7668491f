"""One job: its mutable record, the work of its automatic steps, and the frozen ``Job``
snapshot. Which status comes next is decided by ``_lifecycle``; this module does the
work a step needs (read the manifest, run tasks, write the report) and applies it."""

from __future__ import annotations

import copy
import datetime
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from . import _lifecycle as lc
from ._partitions import partition_of
from ._text import fit, readable
from .execution import (
    THRESHOLD_CODE,
    THRESHOLD_REASON,
    Execution,
    GeneratedManifest,
    ManifestError,
    RunOutcome,
    Runtime,
    open_tasks,
    split_arn,
)
from .stores import ObjectStoreError

__all__ = ["Apply", "Job", "JobRecord", "Transition", "Work"]

#: SuspendedCause while a job awaits confirmation (the exact AWS text is undocumented).
SUSPENDED_CAUSE = "AwaitingConfirmation"


#: The second half of a step: applies its outcome to the record, with the lock held.
Apply = Callable[[], None]
#: The first half of a step that has work to do (read a manifest, run tasks, write a
#: report): runs with the backend's lock released and returns the second half.
Work = Callable[[], Apply]


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
    #: ``"aws"`` (s3control) or ``"oss"`` (Alibaba Cloud OSS): the dialect the job was
    #: created through, and the only one that finds it.
    dialect: str = "aws"


@dataclass
class JobRecord:
    """The backend's live, mutable state of one job. Guarded by the backend's lock.

    While a step's work runs without that lock, ``busy`` names the thread taking the
    step: nobody else steps the job meanwhile, and the work touches no field but
    ``execution`` (its own) until its outcome is applied under the lock.
    """

    job_id: str
    account_id: str
    region: str
    sequence: int
    request: dict[str, Any]
    priority: int
    confirmation_required: bool
    tags: list[dict[str, str]]
    creation_time: datetime.datetime
    status: lc.Status = lc.NEW
    #: The dialect the job was created through (``"aws"`` or ``"oss"``).
    dialect: str = "aws"
    #: Confirmed (``Ready`` requested) while still Preparing: no Suspended stop.
    confirmed_early: bool = False
    timeline: list[Transition] = field(default_factory=list)
    termination_date: datetime.datetime | None = None
    suspended_date: datetime.datetime | None = None
    suspended_cause: str | None = None
    status_update_reason: str | None = None
    failure_reasons: list[tuple[str, str]] = field(default_factory=list)
    total_tasks: int = 0
    succeeded_tasks: int = 0
    failed_tasks: int = 0
    active_seconds: float = 0.0
    generated_manifest: dict[str, Any] | None = None
    manifest_version: str | None = None  # the manifest version read at Preparing
    execution: Execution | None = field(default=None, repr=False, compare=False)
    #: The ident of the thread whose step of this job is running its work, if any.
    busy: int | None = field(default=None, repr=False, compare=False)

    #: When the job last took a step (a transition, or a batch of tasks while Active):
    #: clock mode takes the next one ``step_seconds`` later.
    last_step_at: datetime.datetime = field(default=datetime.datetime.min, compare=False)

    def __post_init__(self) -> None:
        if not self.timeline:
            self.timeline.append(Transition(lc.NEW, self.creation_time))
        self.last_step_at = self.creation_time

    # ------------------------------------------------------------------ identity

    @functools.cached_property
    def arn(self) -> str:  # job ID, account and region never change
        if self.dialect == "oss":
            return f"acs:oss:{self.region}:{self.account_id}:job/{self.job_id}"
        return (
            f"arn:{partition_of(self.region)}:s3:{self.region}:{self.account_id}:job/{self.job_id}"
        )

    @property
    def confirmation_window(self) -> datetime.timedelta:
        """How long the job may wait for confirmation while Suspended before it fails
        (14 days for an OSS job, 30 for an s3control one)."""
        return lc.OSS_CONFIRMATION_WINDOW if self.dialect == "oss" else lc.CONFIRMATION_WINDOW

    @property
    def operation_name(self) -> str:
        return str(next(iter(self.request["Operation"])))

    @property
    def last_transition_at(self) -> datetime.datetime:
        return self.timeline[-1].at

    # ------------------------------------------------------------------ moving

    def move(self, status: lc.Status, at: datetime.datetime, reason: str | None = None) -> None:
        """Record a transition; keeps dates and the Active timer in step with it.

        Every status change goes through here, and an edge outside the lifecycle's
        table raises ``IllegalTransition`` (a bug in the mock) before anything changes.
        """
        lc.check_move(self.job_id, self.status, status)
        if self.status == lc.ACTIVE:
            self.active_seconds += max(0.0, (at - self.last_transition_at).total_seconds())
        self.status = status
        self.timeline.append(Transition(status, at, reason))
        self.last_step_at = at
        if status in lc.TERMINAL:
            self.termination_date = at
        if status == lc.SUSPENDED:
            self.suspended_date = at
            self.suspended_cause = SUSPENDED_CAUSE

    def fail(self, code: str, reason: str, at: datetime.datetime) -> None:
        """A job-level failure: recorded in FailureReasons, then Failing (``ON_FAILURE``).

        Code and reason are made printable and fitted to the model's maxima (64, 256)
        here, so ``batch.job().failure_reasons`` holds what DescribeJob shows."""
        code, reason = fit(readable(code), 64), fit(readable(reason), 256)
        self.failure_reasons.append((code, reason))
        self.move(lc.ON_FAILURE, at, reason)

    def step(self, runtime: Runtime, at: datetime.datetime) -> Work | None:
        """Take one automatic step (none at rest), with the backend's lock held.

        A transition that needs no work happens at once (None). A step with work
        returns it instead: the caller runs it without the lock, then applies what it
        returns with the lock held again. Requests that arrive meanwhile (a cancel, a
        pre-emption) stand: the outcome never undoes them.
        """
        if self.status == lc.PREPARING:  # the next status depends on the manifest
            return functools.partial(self._prepare, runtime, at)
        if self.status == lc.ACTIVE:  # ... on the tasks that run
            return functools.partial(self._run, runtime, at)
        target = lc.FOLLOWS.get(self.status)
        if target is None:  # at rest
            return None
        if target in lc.TERMINAL and self.execution is not None:
            return functools.partial(self._end, target, runtime, at)
        self.move(target, at)  # no work (an ending with no task run writes no report)
        return None

    def _prepare(self, runtime: Runtime, at: datetime.datetime) -> Apply:
        """Read the whole manifest (without the lock): count its tasks, write the
        generated manifest if asked; then Ready or Suspended, or Failing."""
        generator = self.request.get("ManifestGenerator", {}).get("S3JobManifestGenerator")
        output = None
        if generator and generator["EnableManifestOutput"]:
            source = split_arn(generator["SourceBucket"])[0]
            output = GeneratedManifest(generator["ManifestOutputLocation"], source, self.job_id)
        failure: tuple[str, str] | None = None
        total, version, descriptor = 0, None, None
        try:
            tasks = open_tasks(runtime.store, self.request)
            for task in tasks:
                total += 1
                if output is not None:
                    output.add(task)
            version = tasks.version_id
            if output is not None:
                descriptor = output.write(runtime.store, at)
        except ManifestError as exc:
            failure = (exc.code, exc.reason)
        except ObjectStoreError as exc:
            failure = (exc.code, f"Writing the generated manifest failed: {exc.message}")

        def apply() -> None:
            if self.status != lc.PREPARING:  # cancelled meanwhile: that stands
                return
            if failure is not None:
                self.fail(*failure, at)
                return
            self.total_tasks = total
            self.manifest_version = version
            self.generated_manifest = descriptor
            confirm = self.confirmation_required and not self.confirmed_early
            self.move(lc.after_preparing(confirmation_required=confirm), at)

        return apply

    def _run(self, runtime: Runtime, at: datetime.datetime) -> Apply:
        """Run up to ``tasks_per_step`` tasks (without the lock), stopping after the
        running task once the job is no longer Active (cancelled or pre-empted)."""
        execution = self.execution
        failure: tuple[str, str] | None = None
        outcome = RunOutcome.MORE
        try:
            if execution is None:
                execution = Execution(self.job_id, self.request, runtime, self.manifest_version)
            # A lock-free read of one attribute: the worst case is one more task.
            outcome = execution.run(runtime.tasks_per_step, lambda: self.status != lc.ACTIVE)
        except ManifestError as exc:  # the manifest, or a row deep in it, was unreadable
            failure = (exc.code, exc.reason)

        def apply() -> None:
            self.execution = execution
            if execution is not None:  # the tasks that ran count either way
                self.succeeded_tasks = execution.succeeded
                self.failed_tasks = execution.failed
            if self.status != lc.ACTIVE:  # cancelled or pre-empted meanwhile: that stands
                return
            if failure is not None:
                self.fail(*failure, at)
            elif outcome is RunOutcome.THRESHOLD:
                self.fail(THRESHOLD_CODE, THRESHOLD_REASON, at)
            else:
                target = lc.after_running(finished=outcome is RunOutcome.DONE)
                if target is not None:
                    self.move(target, at)

        return apply

    def _end(self, status: lc.Status, runtime: Runtime, at: datetime.datetime) -> Apply:
        """Enter a terminal status; the completion report is written (without the
        lock) on the way in. No request can move a Completing, Cancelling or Failing
        job meanwhile."""
        execution = self.execution
        problem = execution.finish(runtime.store, at) if execution is not None else None

        def apply() -> None:
            self.execution = None
            if problem is not None:
                self.failure_reasons.append(("ReportNotWritten", fit(readable(problem), 256)))
            self.move(status, at)

        return apply

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
            dialect=self.dialect,
        )

    @property
    def tasks_counted(self) -> bool:
        """Whether the manifest was read and its tasks counted (the job got past
        Preparing to Suspended or Ready)."""
        return any(t.status in (lc.SUSPENDED, lc.READY) for t in self.timeline)

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
            "GeneratedManifestDescriptor": self.generated_manifest,
        }

    def list_entry(self, now: datetime.datetime) -> dict[str, Any]:
        """The JobListDescriptor ListJobs returns.

        No TerminationDate: the model has the member, but the one real ListJobs output
        AWS published (awscli's list-jobs example) leaves it out for a Complete and a
        Failed job, while describe-job shows it for the same job. DescribeJob has it.
        """
        return {
            "JobId": self.job_id,
            "Description": self.request.get("Description"),
            "Operation": self.operation_name,
            "Priority": self.priority,
            "Status": self.status,
            "CreationTime": self.creation_time,
            "ProgressSummary": self.progress(now),
        }
