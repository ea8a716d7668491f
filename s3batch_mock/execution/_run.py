"""Running a job's tasks: the manifest stream, the operation per task, progress, the
failure threshold and the completion report.

An ``Execution`` lives while a job is Active (or paused, or cancelling) and runs up
to ``tasks_per_step`` tasks per automatic step, so a polling loop sees progress
grow. Tasks are read from the manifest as they run, never held as a list.
"""

from __future__ import annotations

import datetime
import enum
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from s3batch_mock.stores import ObjectStore

from ._lambdas import LambdaRegistry
from ._manifests import Task, open_tasks
from ._operations import Context, prepare
from ._reports import ReportWriter

__all__ = [
    "THRESHOLD_CODE",
    "THRESHOLD_MINIMUM",
    "THRESHOLD_REASON",
    "Execution",
    "RunOutcome",
    "Runtime",
]

#: The failure rate is checked only once this many tasks have run (User Guide,
#: batch-ops-job-status, "Tracking job failures").
THRESHOLD_MINIMUM = 1000
#: The job-level failure of a job past the failure threshold: code, then reason.
THRESHOLD_CODE = "TaskFailureThresholdExceeded"
THRESHOLD_REASON = (
    "The job failed because more than 50% of its tasks failed after at least "
    f"{THRESHOLD_MINIMUM:,} tasks ran."
)


class RunOutcome(enum.Enum):
    """Why ``Execution.run`` returned: the job's lifecycle decides what follows."""

    #: Tasks remain (the limit was reached, or the job stopped being Active).
    MORE = "more"
    #: Every task of the manifest has run.
    DONE = "done"
    #: The failure threshold is exceeded: the job fails.
    THRESHOLD = "threshold"


@dataclass(frozen=True)
class Runtime:
    """What steps need from the mock scope: the active store, lambdas, the pace."""

    store: ObjectStore
    lambdas: LambdaRegistry
    tasks_per_step: int = 1000


class Execution:
    """The running part of one job."""

    def __init__(
        self,
        job_id: str,
        request: Mapping[str, Any],
        runtime: Runtime,
        manifest_version: str | None = None,
    ) -> None:
        self.job_id = job_id
        name, params = next(iter(request["Operation"].items()))
        self._perform = prepare(name, params)
        self.report = ReportWriter(request["Report"])
        self.succeeded = 0
        self.failed = 0
        self._context = Context(runtime.store, job_id, runtime.lambdas)
        self._tasks: Iterator[Task] = open_tasks(runtime.store, request, manifest_version)

    def run(self, limit: int, stop: Callable[[], bool] = lambda: False) -> RunOutcome:
        """Run up to ``limit`` tasks; says whether tasks remain, all ran, or the
        failure threshold was exceeded.

        ``stop`` is asked before each task: once it answers True (the job was
        cancelled or pre-empted while its tasks ran), no further task starts. Runs
        without the backend's lock: it touches only this execution and the store.
        """
        if self._tripped():  # reached as the job was pre-empted: it fails on resuming
            return RunOutcome.THRESHOLD
        for _ in range(limit):
            if stop():
                return RunOutcome.MORE
            task = next(self._tasks, None)
            if task is None:
                return RunOutcome.DONE
            outcome = self._perform(task, self._context)
            if outcome.succeeded:
                self.succeeded += 1
            else:
                self.failed += 1
            self.report.add(task, outcome)
            if self._tripped():
                return RunOutcome.THRESHOLD
        return RunOutcome.MORE

    def _tripped(self) -> bool:
        """Whether the failure threshold is exceeded."""
        ran = self.succeeded + self.failed
        return ran >= THRESHOLD_MINIMUM and self.failed * 2 > ran

    def finish(self, store: ObjectStore, at: datetime.datetime) -> str | None:
        """Write the completion report if any task ran; returns why it failed, or None."""
        if self.succeeded + self.failed == 0:
            self.report.close()
            return None
        return self.report.write(store, self.job_id, at)
