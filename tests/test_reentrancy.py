"""Lambda handlers that call s3control: on their own job or others, from their own
thread or from threads they wait for, while other threads poll (issue 10).

A step's work (tasks, handlers, manifests, reports) runs without the backend's lock,
with its job marked busy: a call that meets a busy job answers with the job as it
stands, and nothing steps it twice. Every wait here has a timeout, so a deadlock fails
the test instead of hanging it.
"""

from __future__ import annotations

import functools
import itertools
import threading
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from s3batch_mock import S3Batch, mock_s3batch
from tests.conftest import (
    ACCOUNT,
    ROLE,
    assert_allowed_history,
    csv_manifest_job,
    describe,
    s3control,
)

FUNCTION_ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:reentrant"
OTHER_ACCOUNT = "210987654321"
TERMINAL = ("Complete", "Cancelled", "Failed")
HAPPY = ["New", "Preparing", "Ready", "Active", "Completing", "Complete"]
CANCELLED = ["New", "Preparing", "Ready", "Active", "Cancelling", "Cancelled"]
TIMEOUT = 10.0

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
_manifests = itertools.count()


# --------------------------------------------------------------------------- helpers


def succeeded(event: dict[str, Any]) -> dict[str, Any]:
    """The documented response, every task of ``event`` Succeeded."""
    return {
        "invocationSchemaVersion": event["invocationSchemaVersion"],
        "treatMissingKeysAs": "PermanentFailure",
        "invocationId": event["invocationId"],
        "results": [
            {"taskId": task["taskId"], "resultCode": "Succeeded", "resultString": "ok"}
            for task in event["tasks"]
        ],
    }


def lambda_job(batch: S3Batch, client: Any, tasks: int, *, report: bool = False) -> str:
    """A LambdaInvoke job (confirmed at creation) over ``tasks`` new objects."""
    number = next(_manifests)
    rows = ""
    for n in range(tasks):
        batch.objects.put("src", f"m{number}/k{n}", b"x")
        rows += f"src,m{number}/k{n}\n"
    etag = batch.objects.put("manifests", f"lambda-{number}.csv", rows)
    if report:
        batch.objects.create_bucket("reports")
    return str(
        client.create_job(
            AccountId=ACCOUNT,
            ConfirmationRequired=False,
            Operation={"LambdaInvoke": {"FunctionArn": FUNCTION_ARN}},
            Manifest={
                "Spec": {"Format": "S3BatchOperations_CSV_20180820", "Fields": ["Bucket", "Key"]},
                "Location": {
                    "ObjectArn": f"arn:aws:s3:::manifests/lambda-{number}.csv",
                    "ETag": etag,
                },
            },
            Report=(
                {
                    "Enabled": True,
                    "Bucket": "arn:aws:s3:::reports",
                    "Format": "Report_CSV_20180820",
                    "ReportScope": "AllTasks",
                }
                if report
                else {"Enabled": False}
            ),
            Priority=10,
            RoleArn=ROLE,
        )["JobId"]
    )


def tagging_job(batch: S3Batch, client: Any, *, account: str = ACCOUNT, **params: Any) -> str:
    """A tagging job over two objects, in ``account``."""
    batch.objects.put("data", "a", b"a")
    batch.objects.put("data", "b", b"b")
    etag = batch.objects.put("manifests", "tagging.csv", "data,a\ndata,b\n")
    return csv_manifest_job(client, etag, key="tagging.csv", account=account, **params)


def in_threads(*targets: Callable[[], object]) -> list[BaseException]:
    """Run each target in its own thread and wait for them (``TIMEOUT`` each): the
    errors they raised, and one for each thread that did not finish."""
    errors: list[BaseException] = []

    def wrapped(target: Callable[[], object]) -> None:
        try:
            target()
        except BaseException as error:  # handed back to the caller
            errors.append(error)

    threads = [threading.Thread(target=wrapped, args=(t,), daemon=True) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
        if thread.is_alive():
            errors.append(TimeoutError(f"a thread did not finish within {TIMEOUT} s"))
    return errors


def in_thread(target: Callable[[], object]) -> list[BaseException]:
    return in_threads(target)


def poll_until_rest(client: Any, job_id: str, account: str = ACCOUNT) -> None:
    """DescribeJob until the job is terminal (poll mode moves it one step per call)."""
    for _ in range(200):
        if describe(client, job_id, account)["Status"] in TERMINAL:
            return
    raise AssertionError(f"job {job_id} did not end: {describe(client, job_id, account)}")


def assert_counts_add_up(progress: list[dict[str, Any]]) -> None:
    """Successive ProgressSummary values of one job: consistent, never decreasing."""
    ran = [(p["NumberOfTasksSucceeded"], p["NumberOfTasksFailed"]) for p in progress]
    for summary, (done, failed) in zip(progress, ran, strict=True):
        assert done + failed <= summary["TotalNumberOfTasks"], progress
    for (done, failed), (later_done, later_failed) in itertools.pairwise(ran):
        assert later_done >= done, progress
        assert later_failed >= failed, progress


@pytest.fixture
def client() -> Any:
    return s3control()


# --------------------------------------------------------------------------- own job


@pytest.mark.parametrize(
    ("progression", "driver", "via"),
    [
        ("poll", "polling", "handler"),
        ("poll", "polling", "thread"),
        ("poll", "run", "handler"),
        ("manual", "run", "handler"),
        ("manual", "run", "thread"),
        ("clock", "run", "handler"),
    ],
)
def test_a_handler_describes_and_steps_its_own_job(
    client: Any, progression: str, driver: str, via: str
) -> None:
    """DescribeJob, ``batch.step`` and ``batch.run`` of the handler's own job, from the
    handler or from a thread it joins, answer with the job as it stands (Active): the
    job's step is not re-entered, and the job completes once, all tasks counted.

    (``batch.run`` of the job from a thread the handler waits for would wait for the
    handler: docs/lambda.md says so, and it is not done here.)"""
    with mock_s3batch(progression=progression, tasks_per_step=2) as batch:  # type: ignore[call-overload]
        seen: list[tuple[str, str, dict[str, Any]]] = []
        depth = [0, 0]  # current, deepest
        errors: list[BaseException] = []

        def look(job_id: str) -> None:
            seen.append(("describe", *_status_and_progress(describe(client, job_id))))
            seen.append(("step", batch.step(job_id), {}))
            if via == "handler":
                batch.run(job_id)  # from within its own step: returns, moves nothing
            seen.append(("snapshot", batch.job(job_id).status, {}))

        def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
            depth[0] += 1
            depth[1] = max(depth)
            try:
                job_id = event["job"]["id"]
                if via == "thread":
                    errors.extend(in_thread(lambda: look(job_id)))
                else:
                    look(job_id)
            except BaseException as error:  # a task failure would hide it
                errors.append(error)
            depth[0] -= 1
            return succeeded(event)

        batch.register_lambda(FUNCTION_ARN, handler)
        job_id = lambda_job(batch, client, 3)
        if driver == "run":
            batch.run(job_id)
        else:
            poll_until_rest(client, job_id)

        assert errors == []
        assert depth[1] == 1, "the handler was called from within itself"
        job = batch.job(job_id)
        assert job.status_history == HAPPY, job.timeline
        assert (job.total_tasks, job.succeeded_tasks, job.failed_tasks) == (3, 3, 0)
        assert len(seen) == 9
        assert {status for _, status, _ in seen} == {"Active"}
        assert_counts_add_up([progress for what, _, progress in seen if what == "describe"])


def _status_and_progress(job: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return job["Status"], job["ProgressSummary"]


@pytest.mark.parametrize(
    ("driver", "via"), [("run", "handler"), ("polling", "handler"), ("run", "thread")]
)
def test_a_handler_cancels_its_own_job(client: Any, driver: str, via: str) -> None:
    """The cancel a handler requests is honoured: no further task starts, the job goes
    Cancelling at once and Cancelled once the running task returns, and the report
    holds the task that ran."""
    with mock_s3batch() as batch:
        answers: list[str] = []
        errors: list[BaseException] = []

        def cancel(job_id: str) -> None:
            answers.append(
                client.update_job_status(
                    AccountId=ACCOUNT,
                    JobId=job_id,
                    RequestedJobStatus="Cancelled",
                    StatusUpdateReason="stopped by its handler",
                )["Status"]
            )
            answers.append(describe(client, job_id)["Status"])

        def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
            job_id = event["job"]["id"]
            if via == "thread":
                errors.extend(in_thread(lambda: cancel(job_id)))
            else:
                cancel(job_id)
            return succeeded(event)

        batch.register_lambda(FUNCTION_ARN, handler)
        job_id = lambda_job(batch, client, 3, report=True)
        if driver == "run":
            batch.run(job_id)
        else:
            poll_until_rest(client, job_id)

        assert errors == []
        assert answers == ["Cancelling", "Cancelling"]
        job = batch.job(job_id)
        assert job.status_history == CANCELLED, job.timeline
        assert job.status_update_reason == "stopped by its handler"
        assert (job.total_tasks, job.succeeded_tasks, job.failed_tasks) == (3, 1, 0)
        assert job.failure_reasons == []
        results = batch.objects.keys("reports", f"job-{job_id}/results/")
        assert len(results) == 1
        assert batch.objects.get("reports", results[0]).decode().count("\n") == 1


@pytest.mark.parametrize("via", ["handler", "thread"])
def test_a_handler_calls_every_operation_on_its_own_job_and_another(client: Any, via: str) -> None:
    """ListJobs, UpdateJobPriority and the tagging calls on the handler's own job and on
    another job are answered and take effect; ListJobs shows the own job Active."""
    with mock_s3batch() as batch:
        other = tagging_job(batch, client, ConfirmationRequired=True)
        batch.run(other)  # awaiting confirmation: polls leave it where it is
        listed: list[dict[str, str]] = []
        tags: list[list[dict[str, str]]] = []
        errors: list[BaseException] = []

        def operate(own: str, n: int) -> None:
            for job_id in (own, other):
                listed.append(
                    {j["JobId"]: j["Status"] for j in client.list_jobs(AccountId=ACCOUNT)["Jobs"]}
                )
                client.update_job_priority(AccountId=ACCOUNT, JobId=job_id, Priority=100 + n)
                client.put_job_tagging(
                    AccountId=ACCOUNT, JobId=job_id, Tags=[{"Key": "task", "Value": str(n)}]
                )
                tags.append(client.get_job_tagging(AccountId=ACCOUNT, JobId=job_id)["Tags"])

        calls = itertools.count()

        def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
            n, own = next(calls), event["job"]["id"]
            try:
                if via == "thread":
                    errors.extend(in_thread(lambda: operate(own, n)))
                else:
                    operate(own, n)
            except BaseException as error:  # a task failure would hide it
                errors.append(error)
            return succeeded(event)

        batch.register_lambda(FUNCTION_ARN, handler)
        own = lambda_job(batch, client, 3)
        batch.run(own)

        assert errors == []
        job = batch.job(own)
        assert job.status_history == HAPPY, job.timeline
        assert (job.succeeded_tasks, job.priority, job.tags) == (3, 102, {"task": "2"})
        assert all(seen[own] == "Active" for seen in listed), listed
        assert len(tags) == 6
        assert [t[0]["Value"] for t in tags] == ["0", "0", "1", "1", "2", "2"]
        other_job = batch.job(other)
        assert (other_job.status, other_job.priority) == ("Suspended", 102)
        assert other_job.tags == {"task": "2"}
        client.update_job_status(AccountId=ACCOUNT, JobId=other, RequestedJobStatus="Ready")
        batch.run(other)
        assert batch.job(other).status == "Complete"
        assert_allowed_history(batch.job(other).status_history)


def test_a_handler_joins_threads_that_call_s3control(client: Any) -> None:
    """A handler that starts threads calling s3control and the controller, and waits for
    them, is not deadlocked: the threads are answered while it waits."""
    with mock_s3batch(progression="manual") as batch:
        answers: list[str] = []
        errors: list[BaseException] = []

        def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
            job_id = event["job"]["id"]
            errors.extend(
                in_thread(lambda: answers.append(describe(client, job_id)["Status"]))
                + in_thread(lambda: answers.append(batch.job(job_id).status))
                + in_thread(lambda: answers.append(batch.step(job_id)))
                + in_thread(lambda: client.list_jobs(AccountId=ACCOUNT, JobStatuses=["Active"]))
            )
            return succeeded(event)

        batch.register_lambda(FUNCTION_ARN, handler)
        job_id = lambda_job(batch, client, 2)
        batch.run(job_id)

        assert errors == []
        assert answers == ["Active"] * 6
        assert batch.job(job_id).status_history == HAPPY


# --------------------------------------------------------------------------- other threads


def test_pollers_see_a_consistent_job_while_its_handlers_run(client: Any) -> None:
    """Eight threads poll DescribeJob (poll mode: each call may step the job) while the
    handler, itself describing its job, runs the tasks: every answer is a status of the
    job's history, in order, with counts that add up and never decrease; each task is
    called once."""
    tasks, pollers = 20, 8
    with mock_s3batch(tasks_per_step=3) as batch:
        called: list[str] = []
        errors: list[BaseException] = []

        def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
            called.append(event["tasks"][0]["s3Key"])
            try:
                describe(client, event["job"]["id"])
            except BaseException as error:  # a task failure would hide it
                errors.append(error)
            return succeeded(event)

        batch.register_lambda(FUNCTION_ARN, handler)
        job_id = lambda_job(batch, client, tasks)
        seen: list[list[dict[str, Any]]] = [[] for _ in range(pollers)]
        start = threading.Barrier(pollers)

        def poll(index: int) -> None:
            start.wait(TIMEOUT)
            for _ in range(500):
                job = describe(client, job_id)
                seen[index].append(job)
                if job["Status"] in TERMINAL:
                    return
            raise AssertionError("the job did not end")

        errors += in_threads(*(functools.partial(poll, i) for i in range(pollers)))

        assert errors == []
        job = batch.job(job_id)
        assert job.status_history == HAPPY, job.timeline
        assert (job.succeeded_tasks, job.failed_tasks) == (tasks, 0)
        assert sorted(called) == sorted(set(called))
        assert len(called) == tasks
        for answers in seen:
            order = [HAPPY.index(answer["Status"]) for answer in answers]
            assert order == sorted(order), [answer["Status"] for answer in answers]
            assert_counts_add_up([answer["ProgressSummary"] for answer in answers])


def test_other_calls_are_answered_while_a_handler_blocks(client: Any) -> None:
    """While a handler of account A waits (here on an Event), account B's calls, and A's
    own calls about the waiting job, are answered: no lock is held across a handler."""
    with mock_s3batch() as batch:
        entered, release = threading.Event(), threading.Event()

        def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
            entered.set()
            release.wait(TIMEOUT)
            return succeeded(event)

        batch.register_lambda(FUNCTION_ARN, handler)
        job_a = lambda_job(batch, client, 1)
        job_b = tagging_job(batch, client, account=OTHER_ACCOUNT, ConfirmationRequired=False)
        runner = threading.Thread(target=batch.run, args=(job_a,), daemon=True)
        runner.start()
        assert entered.wait(TIMEOUT)
        answers: list[str] = []

        def meanwhile() -> None:
            listed = client.list_jobs(AccountId=OTHER_ACCOUNT)["Jobs"]
            answers.append(listed[0]["Status"])
            poll_until_rest(client, job_b, OTHER_ACCOUNT)  # B's job runs to the end
            answers.append(describe(client, job_b, OTHER_ACCOUNT)["Status"])
            answers.append(describe(client, job_a)["Status"])  # A's: as it stands
            answers.append(batch.job(job_a).status)

        try:
            errors = in_thread(meanwhile)
        finally:
            release.set()
            runner.join(TIMEOUT)
        assert not runner.is_alive()
        assert errors == []
        assert answers == ["Preparing", "Complete", "Active", "Active"]
        assert batch.job(job_a).status_history == HAPPY


def test_run_waits_for_the_step_another_thread_is_taking(client: Any) -> None:
    """``batch.run`` of a job another thread is stepping (its handler blocked) waits for
    that step's outcome, then runs the job to its end: it returns only with the job at
    rest, and no task is run twice."""
    with mock_s3batch(progression="manual") as batch:
        entered, release = threading.Event(), threading.Event()
        called: list[str] = []

        def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
            called.append(event["tasks"][0]["s3Key"])
            entered.set()
            release.wait(TIMEOUT)
            return succeeded(event)

        batch.register_lambda(FUNCTION_ARN, handler)
        job_id = lambda_job(batch, client, 2)
        while batch.job(job_id).status != "Active":
            batch.step(job_id)
        stepper = threading.Thread(target=batch.step, args=(job_id,), daemon=True)
        stepper.start()
        assert entered.wait(TIMEOUT)
        returned: list[str] = []

        def run() -> None:
            batch.run(job_id)
            returned.append(batch.job(job_id).status)

        runner = threading.Thread(target=run, daemon=True)
        runner.start()
        runner.join(0.2)
        assert runner.is_alive()  # waiting for the stepper's outcome, not returned
        release.set()
        stepper.join(TIMEOUT)
        runner.join(TIMEOUT)
        assert not stepper.is_alive()
        assert not runner.is_alive()
        assert returned == ["Complete"]
        assert sorted(called) == sorted(set(called))
        assert len(called) == 2
        assert batch.job(job_id).status_history == HAPPY


# --------------------------------------------------------------------------- property

#: What a handler may do: (operation, on its own job or the other one).
OPERATIONS = (
    "describe",
    "list",
    "list-active",
    "priority",
    "put-tags",
    "get-tags",
    "delete-tags",
    "cancel",
    "confirm",
    "step",
    "run",
    "snapshot",
)
#: Modeled answers a handler's request may get, depending on the job's status.
MODELED = {"JobStatusException", "BadRequestException"}


@pytest.mark.slow
@settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    progression=st.sampled_from(["poll", "manual"]),
    plan=st.lists(
        st.tuples(
            st.integers(0, 2),  # during which task
            st.sampled_from(OPERATIONS),
            st.booleans(),  # on its own job (or the other)
            st.booleans(),  # from a thread it joins (or itself)
        ),
        max_size=8,
    ),
)
def test_any_sequence_of_calls_from_a_handler_leaves_every_job_consistent(
    client: Any, progression: str, plan: list[tuple[int, str, bool, bool]]
) -> None:
    """Whatever a handler does, on whichever job, from whichever thread: every call is
    answered (or refused with a modeled error), nothing escapes ``run``, every history
    is allowed, counts add up, the handler's own job shows Active or Cancelling to it,
    and a cancel it requested ends its job Cancelled."""
    with mock_s3batch(progression=progression) as batch:  # type: ignore[call-overload]
        other = tagging_job(batch, client, ConfirmationRequired=True)
        errors: list[BaseException] = []
        own_seen: list[tuple[str, dict[str, Any]]] = []
        cancelled: list[str] = []
        calls = itertools.count()

        def act(own: str, operation: str, job_id: str) -> None:
            if operation == "describe":
                job = describe(client, job_id)
                if job_id == own:
                    own_seen.append(_status_and_progress(job))
            elif operation.startswith("list"):
                wanted = {"JobStatuses": ["Active"]} if operation == "list-active" else {}
                for job in client.list_jobs(AccountId=ACCOUNT, **wanted)["Jobs"]:
                    if job["JobId"] == own:
                        own_seen.append(_status_and_progress(job))
            elif operation == "priority":
                client.update_job_priority(AccountId=ACCOUNT, JobId=job_id, Priority=7)
            elif operation == "put-tags":
                tags = [{"Key": "k", "Value": "v"}]
                client.put_job_tagging(AccountId=ACCOUNT, JobId=job_id, Tags=tags)
            elif operation == "get-tags":
                client.get_job_tagging(AccountId=ACCOUNT, JobId=job_id)
            elif operation == "delete-tags":
                client.delete_job_tagging(AccountId=ACCOUNT, JobId=job_id)
            elif operation in ("cancel", "confirm"):
                requested = "Cancelled" if operation == "cancel" else "Ready"
                answer = client.update_job_status(
                    AccountId=ACCOUNT, JobId=job_id, RequestedJobStatus=requested
                )
                if requested == "Cancelled":
                    cancelled.append(job_id)
                if job_id == own:
                    own_seen.append((answer["Status"], {}))
            elif operation == "step":
                status = batch.step(job_id)
                if job_id == own:
                    own_seen.append((status, {}))
            elif operation == "run":
                batch.run(job_id)
            else:
                batch.job(job_id)

        def guarded(own: str, operation: str, job_id: str) -> None:
            try:
                act(own, operation, job_id)
            except ClientError as error:
                if error.response["Error"]["Code"] not in MODELED:
                    errors.append(error)
            except BaseException as error:  # collected, asserted on below
                errors.append(error)

        def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
            task, own = next(calls), event["job"]["id"]
            for when, operation, on_own, threaded in plan:
                if when != task or (operation, on_own, threaded) == ("run", True, True):
                    continue  # batch.run of its job from a thread it waits for: see docs
                job_id = own if on_own else other
                if threaded:
                    errors.extend(in_thread(functools.partial(guarded, own, operation, job_id)))
                else:
                    guarded(own, operation, job_id)
            return succeeded(event)

        batch.register_lambda(FUNCTION_ARN, handler)
        own = lambda_job(batch, client, 3)
        batch.run()

        assert errors == []
        for job in batch.jobs():
            assert job.status in ("Suspended", *TERMINAL), job.timeline
            assert_allowed_history(job.status_history)
            ran = job.succeeded_tasks + job.failed_tasks
            assert ran <= job.total_tasks, job
            if job.status == "Complete":
                assert ran == job.total_tasks, job
        own_job = batch.job(own)
        assert {status for status, _ in own_seen} <= {"Active", "Cancelling"}, own_seen
        assert_counts_add_up([progress for _, progress in own_seen if progress])
        if own in cancelled:
            assert own_job.status_history == CANCELLED, own_job.timeline
        else:
            assert own_job.status_history == HAPPY, own_job.timeline
            assert own_job.succeeded_tasks == 3
        assert next(calls) <= 3  # each task called once, none re-entered
