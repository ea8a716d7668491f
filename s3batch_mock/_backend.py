"""The backend: every job of one mock scope, per (account, region).

It owns identity (job IDs, ARNs), idempotency tokens, tags, listing and paging, and
when jobs move: automatic steps according to the progression mode, requested ones when
asked, time-based ones when their deadline has passed. Where a job moves is decided by
the lifecycle (``_lifecycle``) alone. Inputs arrive already validated by the service
layer.

Locking: one lock guards the job and token maps and every job record, and is held
only for bookkeeping, never across a step's work. A step that reads a manifest, runs
tasks (calling Lambda handlers) or writes a report marks its job busy, releases the
lock for the work, and applies the outcome under the lock afterwards
(``_advance``). Whoever meets a busy job meanwhile (another thread, or a handler of
that very job calling back) does not step it: it sees the job as it stands. So a
handler may call any operation, and one account's manifest holds up no other call.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import itertools
import json
import threading
import uuid
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from . import _lifecycle as lc
from ._clock import now
from ._errors import BadRequest, IdempotencyError, InvalidNextToken, NotFound
from ._faults import Faults
from ._jobs import Job, JobRecord
from ._settings import PROGRESSIONS, Settings
from .execution import LambdaRegistry, Runtime
from .stores import EmbeddedStore, ObjectStore, moto_is_active

__all__ = ["PROGRESSIONS", "Backend", "Call", "Settings"]

DEFAULT_PAGE_SIZE = 1000


class Call(NamedTuple):
    """One intercepted s3control call, as ``batch.calls`` lists it."""

    operation: str
    params: dict[str, Any]
    http_status: int
    error_code: str | None


class Backend:
    """All state of one outermost mock scope."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        #: Set when the mock scope that owns this backend has ended (see _mock._Scope).
        self.ended = False
        #: Held for bookkeeping only: never across a step's work (see the module doc).
        #: Reentrant for callers outside the backend; the backend takes it once per call.
        self.lock = threading.RLock()
        #: Notified whenever a busy job's step has been applied (``run`` waits on it).
        self._stepped = threading.Condition(self.lock)
        self.embedded = EmbeddedStore(ended=lambda: self.ended)
        self.lambdas = LambdaRegistry()
        self.faults = Faults()
        self._moto: ObjectStore | None = None
        self.calls: list[Call] = []
        self._jobs: dict[str, JobRecord] = {}
        #: (dialect, account, region, ClientRequestToken) -> (job ID, fingerprint)
        self._tokens: dict[tuple[str, str, str, str], tuple[str, str]] = {}
        self._sequence = itertools.count()
        self._next_deadline = _FAR_FUTURE

    def reset(self) -> None:
        """Drop jobs, tokens, objects of the embedded store and recorded calls."""
        with self.lock:
            self._jobs.clear()
            self._tokens.clear()
            self.embedded.clear()
            self.lambdas.clear()
            self.faults.clear()
            self.calls.clear()

    @property
    def store(self) -> ObjectStore:
        """moto's S3 while moto's mock_aws is active, else the embedded store."""
        if not moto_is_active():
            return self.embedded
        if self._moto is None:
            from .stores._moto import MotoStore  # noqa: PLC0415 - imports boto3's S3 model: only when needed

            self._moto = MotoStore(ended=lambda: self.ended)
        return self._moto

    def runtime(self) -> Runtime:
        return Runtime(self.store, self.lambdas, self.settings.tasks_per_step)

    def record(self, call: Call) -> None:
        with self.lock:
            self.calls.append(call)

    # ------------------------------------------------------------------ operations

    def create_job(
        self, account: str, region: str, params: dict[str, Any], *, dialect: str = "aws"
    ) -> dict[str, Any]:
        """Create a job from CreateJob's (s3control-shaped) parameters.

        ``dialect`` keeps jobs apart: an ``"oss"`` job (Alibaba Cloud OSS) has a
        44-character ID (base64 of a UUID's hex, as OSS's are), the 14-day
        confirmation window, and is found only through the OSS dialect.
        """
        request = {
            k: v for k, v in params.items() if k not in ("AccountId", "ClientRequestToken", "Tags")
        }
        token = params["ClientRequestToken"]
        fingerprint = _fingerprint(params)
        with self.lock:
            known = self._tokens.get((dialect, account, region, token))
            if known is not None:
                job_id, known_fingerprint = known
                if known_fingerprint != fingerprint:
                    raise IdempotencyError(
                        f"ClientRequestToken {token!r} was already used by a CreateJob "
                        f"request with different parameters (job {job_id}). Use a new "
                        "token for a new job, or repeat the original request exactly."
                    )
                return {"JobId": job_id}
            record = JobRecord(
                job_id=_new_job_id(dialect),
                account_id=account,
                region=region,
                sequence=next(self._sequence),
                request=request,
                priority=params["Priority"],
                # An omitted ConfirmationRequired behaves as true on the real service.
                confirmation_required=params.get("ConfirmationRequired", True),
                tags=list(params.get("Tags", [])),
                creation_time=now(),
                dialect=dialect,
            )
            self._jobs[record.job_id] = record
            self._tokens[(dialect, account, region, token)] = (record.job_id, fingerprint)
        return {"JobId": record.job_id}

    def describe_job(
        self, account: str, region: str, job_id: str, *, dialect: str = "aws"
    ) -> dict[str, Any]:
        with self.lock:
            record = self._find(account, region, job_id, dialect)
            self._observe(record, alone=True)
            descriptor = record.descriptor(now())
            if dialect == "oss":  # OSS echoes its own request, and -1 for uncounted tasks
                descriptor["TasksCounted"] = record.tasks_counted
                descriptor["Request"] = record.request
            return {"Job": descriptor}

    def list_jobs(
        self,
        account: str,
        region: str,
        statuses: Iterable[str] = (),
        max_results: int | None = None,
        next_token: str | None = None,
        *,
        dialect: str = "aws",
    ) -> dict[str, Any]:
        wanted = sorted(set(statuses))
        after = _read_token(next_token, wanted) if next_token else None
        page_size = max_results or DEFAULT_PAGE_SIZE
        with self.lock:
            self._settle()
            if self.settings.progression == "poll":
                # Every job of the account and region that is not at rest takes its
                # step, oldest first, before the page is chosen.
                for record in list(self._jobs.values()):
                    if (
                        record.status not in lc.AT_REST
                        and record.dialect == dialect
                        and record.account_id == account
                        and record.region == region
                    ):
                        self._observe(record)
            # ``_jobs`` holds the jobs in creation (sequence) order, so newest first is
            # its reverse, and the page ends at the first match past it: a page costs
            # what it lists, however many jobs are stored.
            page: list[JobRecord] = []
            more = False
            for record in reversed(self._jobs.values()):
                if (
                    record.dialect != dialect
                    or record.account_id != account
                    or record.region != region
                    or (after is not None and record.sequence >= after)
                    or (wanted and record.status not in wanted)
                ):
                    continue
                if len(page) == page_size:
                    more = True
                    break
                page.append(record)
            moment = now()
            result: dict[str, Any] = {"Jobs": [r.list_entry(moment) for r in page]}
            if dialect == "oss":  # OSS lists TerminationDate, and -1 for uncounted tasks
                for entry, record in zip(result["Jobs"], page, strict=True):
                    entry["TerminationDate"] = record.termination_date
                    entry["TasksCounted"] = record.tasks_counted
        if more:
            result["NextToken"] = _make_token(page[-1].sequence, wanted)
        return result

    def update_status(
        self,
        account: str,
        region: str,
        job_id: str,
        requested: str,
        reason: str | None,
        *,
        dialect: str = "aws",
    ) -> dict[str, Any]:
        with self.lock:
            record = self._find(account, region, job_id, dialect)
            early = dialect == "oss"  # OSS: Ready is accepted from Preparing too
            target = lc.requested_status(record.status, requested, early_confirmation=early)
            if target == record.status:  # confirmed while Preparing: recorded, no move
                record.confirmed_early = True
            else:
                record.move(target, now(), reason)
            self._note(record)
            if reason is not None:
                record.status_update_reason = reason
            result = {"JobId": record.job_id, "Status": record.status}
        if reason is not None:
            result["StatusUpdateReason"] = reason
        return result

    def update_priority(
        self, account: str, region: str, job_id: str, priority: int, *, dialect: str = "aws"
    ) -> dict[str, Any]:
        with self.lock:
            record = self._find(account, region, job_id, dialect)
            if record.status in lc.TERMINAL:
                raise BadRequest(
                    f"Cannot change the priority of job {job_id}: it has already ended "
                    f"with status {record.status}."
                )
            record.priority = priority
        return {"JobId": job_id, "Priority": priority}

    def get_tags(self, account: str, region: str, job_id: str) -> dict[str, Any]:
        with self.lock:
            return {"Tags": [dict(t) for t in self._find(account, region, job_id).tags]}

    def put_tags(
        self, account: str, region: str, job_id: str, tags: list[dict[str, str]]
    ) -> dict[str, Any]:
        with self.lock:
            self._find(account, region, job_id).tags = [dict(t) for t in tags]
        return {}

    def delete_tags(self, account: str, region: str, job_id: str) -> dict[str, Any]:
        with self.lock:
            self._find(account, region, job_id).tags = []
        return {}

    # ------------------------------------------------------------------ controller

    def snapshot(self, job_id: str) -> Job:
        with self.lock:
            return self._get(job_id).snapshot()

    def snapshots(self, *, settle: bool = True) -> list[Job]:
        """Every job, oldest first; ``settle=False`` shows them as they are, without
        applying the clock (for a report about what a test saw)."""
        with self.lock:
            if settle:
                self._settle()
            return [r.snapshot() for r in self._jobs.values()]  # held in creation order

    def step(self, job_id: str) -> str:
        with self.lock:
            record = self._get(job_id)
            self._advance(record, now())
            return record.status

    def run(self, job_id: str | None = None) -> None:
        """Advance one job (or all) until it rests, moving the jobs it waits for too.

        A job another thread is stepping is waited for; one this thread is stepping
        (``run`` called from its own Lambda handler) is left as it is.
        """
        me = threading.get_ident()
        with self.lock:
            if job_id is not None:
                targets = [self._get(job_id)]
            else:
                self._settle()
                targets = list(self._jobs.values())
            while any(r.status not in lc.AT_REST for r in targets):
                moved = False
                for record in targets:
                    if record.status not in lc.AT_REST:
                        moved |= self._advance(record, now())
                if not moved:  # waiting for a slot: move the jobs that hold them
                    for record in list(self._jobs.values()):
                        if record.status not in lc.AT_REST and self._blocks(record, targets):
                            moved |= self._advance(record, now())
                if moved:
                    continue
                elsewhere = [r for r in self._jobs.values() if r.busy not in (None, me)]
                if not any(r in targets or self._blocks(r, targets) for r in elsewhere):
                    break
                # Another thread is stepping a job this run needs: wait for its outcome.
                self._stepped.wait(_WAIT_SECONDS)

    # ------------------------------------------------------------------ internals

    def _get(self, job_id: str) -> JobRecord:
        """The controller's look-up, in any account and region; ``KeyError`` if unknown."""
        self._settle()
        record = self._jobs.get(job_id)
        if record is None:
            known = ", ".join(self._jobs) or "none"
            raise KeyError(f"no job {job_id!r} in this mock (jobs: {known})")
        return record

    def _find(self, account: str, region: str, job_id: str, dialect: str = "aws") -> JobRecord:
        self._settle()
        record = self._jobs.get(job_id)
        if (
            record is None
            or record.dialect != dialect
            or record.account_id != account
            or record.region != region
        ):
            raise NotFound(
                f"The specified job does not exist: no job {job_id} in account "
                f"{account} and region {region}."
            )
        return record

    def _observe(self, record: JobRecord, *, alone: bool = False) -> None:
        """DescribeJob or ListJobs looked at the job: poll mode takes one step first.

        ``alone``: DescribeJob looks at this job only (ListJobs steps every job).
        """
        if self.settings.progression != "poll" or record.status in lc.AT_REST:
            return
        if not self._advance(record, now()) and alone and record.status in lc.WAITING:
            # Waiting for a slot: on AWS the jobs holding the slots move on by
            # themselves, so they take a step too, and a loop that polls only the
            # waiting job still sees it start and finish.
            peers = self._peers(record)
            ahead = lc.first_waiting(peers)
            for other in peers:
                if other.status in lc.OCCUPYING or (other is ahead and other is not record):
                    self._advance(other, now())

    def _settle(self) -> None:
        """Bring every job up to the clock before anyone looks: clock-mode steps, then
        the time-based deadlines (which those steps may have started)."""
        if self.settings.progression == "clock":
            self._catch_up()
        self._expire()

    def _catch_up(self) -> None:
        """Clock mode: take every step whose time has come, in time order across jobs.

        Each step happens ``step_seconds`` after the job's previous one and is dated
        then, so a job that fell behind passes through every status in order, and the
        scheduler sees every job as it was at that moment.
        """
        interval = datetime.timedelta(seconds=self.settings.step_seconds)
        moment = now()
        latest: datetime.datetime | None = None  # the time of the last step taken
        waiting: set[str] = set()  # jobs whose slot is taken until something else moves
        while True:
            pending = [
                r
                for r in self._jobs.values()
                if r.status not in lc.AT_REST and r.busy is None and r.job_id not in waiting
            ]
            if not pending:
                return
            record = min(pending, key=lambda r: (r.last_step_at, r.sequence))
            due = record.last_step_at + interval
            if latest is not None and due < latest:
                due = latest
            if due > moment:
                return
            if self._advance(record, due):
                latest = due
                waiting.clear()
            else:
                waiting.add(record.job_id)

    def _advance(self, record: JobRecord, at: datetime.datetime) -> bool:
        """One automatic step, if the scheduler lets the job start; True if it moved.

        Called with the lock held once. A step with work (a manifest to read, tasks to
        run, a report to write) runs it with the lock released and the job marked
        busy; a busy job is not stepped again, by this thread or another, until that
        step's outcome is applied.
        """
        if record.busy is not None:
            return False
        before = (record.status, record.succeeded_tasks + record.failed_tasks)
        if record.status in lc.WAITING and not self._may_start(record, at):
            return False
        work = record.step(self.runtime(), at)
        if work is not None:
            record.busy = threading.get_ident()
            self.lock.release()
            try:
                apply = work()
            finally:
                self.lock.acquire()
                record.busy = None
                self._stepped.notify_all()
            apply()
        record.last_step_at = at
        self._note(record)
        return (record.status, record.succeeded_tasks + record.failed_tasks) != before

    # ------------------------------------------------------------------ scheduling

    def _peers(self, record: JobRecord) -> list[JobRecord]:
        return [
            r
            for r in self._jobs.values()
            if r.dialect == record.dialect
            and r.account_id == record.account_id
            and r.region == record.region
        ]

    def _may_start(self, record: JobRecord, at: datetime.datetime) -> bool:
        """Whether a Ready or Paused job may become Active now (``max_active_jobs``);
        applies the pre-emption the lifecycle decides instead (see ``lc.admit``)."""
        limit = self.settings.max_active_jobs
        if limit is None:  # every job starts at once: spare the look at its peers
            return True
        admission = lc.admit(record, self._peers(record), limit)
        preemption = admission.preemption
        if preemption is not None:
            preemption.job.move(preemption.status, at, preemption.reason)
        return admission.starts

    def _blocks(self, record: JobRecord, targets: list[JobRecord]) -> bool:
        """Whether ``record`` may hold up a waiting one of ``targets`` (same account and
        region, with ``max_active_jobs`` set)."""
        if self.settings.max_active_jobs is None or record in targets:
            return False
        return any(
            t.status in lc.WAITING
            and t.dialect == record.dialect
            and t.account_id == record.account_id
            and t.region == record.region
            for t in targets
        )

    # ------------------------------------------------------------------ time

    def _note(self, record: JobRecord) -> None:
        """Keep the next time-based deadline (30-day confirmation, 90-day retention)."""
        deadline = _deadline(record)
        if deadline is not None and deadline.at < self._next_deadline:
            self._next_deadline = deadline.at

    def _expire(self) -> None:
        """Apply the time-based rules whose deadline has passed, in every progression
        mode (``lc.deadline``): a job Suspended for 30 days fails; a job that ended 90
        days ago is gone.
        """
        moment = now()
        if moment < self._next_deadline:
            return
        upcoming = _FAR_FUTURE
        gone: set[str] = set()
        for record in list(self._jobs.values()):
            deadline = _deadline(record)
            if deadline is None:
                continue
            at = deadline.at
            if at <= moment and deadline.rule == "confirmation":
                reason = lc.confirmation_timeout_reason(record.confirmation_window)
                record.fail(lc.CONFIRMATION_TIMEOUT_CODE, reason, at)
                self._advance(record, at)  # Failing -> Failed: no work, no report
                retention = _deadline(record)  # now its retention ends
                at = retention.at if retention is not None else _FAR_FUTURE
            if at > moment:
                upcoming = min(upcoming, at)
            else:  # its retention is over
                del self._jobs[record.job_id]
                gone.add(record.job_id)
        if gone:
            self._tokens = {k: v for k, v in self._tokens.items() if v[0] not in gone}
        self._next_deadline = upcoming


_FAR_FUTURE = datetime.datetime.max.replace(tzinfo=datetime.UTC)
#: How long ``run`` waits at most before looking again at a job another thread steps.
_WAIT_SECONDS = 0.5


def _deadline(record: JobRecord) -> lc.Deadline | None:
    return lc.deadline(
        record.status, record.suspended_date, record.termination_date, record.confirmation_window
    )


def _new_job_id(dialect: str) -> str:
    """A UUID (s3control), or base64 of a UUID's 32 hex digits (OSS: 44 characters,
    ``[A-Za-z0-9]{43}=``, as every OSS example shows)."""
    if dialect == "oss":
        return base64.b64encode(uuid.uuid4().hex.encode("ascii")).decode("ascii")
    return str(uuid.uuid4())


def _fingerprint(params: dict[str, Any]) -> str:
    relevant = {k: v for k, v in params.items() if k != "ClientRequestToken"}
    canonical = json.dumps(relevant, sort_keys=True, default=_json_default)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _json_default(value: object) -> str:
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    raise TypeError(type(value).__name__)


def _make_token(after_sequence: int, statuses: list[str]) -> str:
    payload = json.dumps([after_sequence, statuses], separators=(",", ":"))
    digest = hashlib.sha256(payload.encode()).hexdigest()[:12]
    return base64.b64encode(f"{payload}|{digest}".encode()).decode()


def _read_token(token: str, statuses: list[str]) -> int:
    problem: Callable[[str], InvalidNextToken] = lambda why: InvalidNextToken(  # noqa: E731
        f"The NextToken {token!r} is not valid: {why}. Pass the NextToken of the previous "
        "ListJobs response unchanged, with the same JobStatuses."
    )
    try:
        payload, _, digest = base64.b64decode(token, validate=True).decode().rpartition("|")
        after, token_statuses = json.loads(payload)
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError):
        raise problem("it was not issued by ListJobs") from None
    if hashlib.sha256(payload.encode()).hexdigest()[:12] != digest or not isinstance(after, int):
        raise problem("it was not issued by ListJobs")
    if token_statuses != statuses:
        raise problem("it was issued for a different JobStatuses filter")
    return after
