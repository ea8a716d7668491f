"""Threads sharing one mock: the backend's lock, and activation from several threads.

Each thread builds its own boto3 session and client (boto3's default session is not
thread-safe), as threaded user code does.
"""

from __future__ import annotations

import itertools
import os
import random
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from s3batch_mock import MockEndedError, S3Batch, current_batch, mock_s3batch
from s3batch_mock._lifecycle import ALLOWED, AT_REST
from tests.conftest import ACCOUNT, csv_manifest_job

TIMEOUT = 60


@pytest.fixture(autouse=True)
def _frequent_thread_switches() -> Iterator[None]:
    """Switch threads far more often than CPython's 5 ms default, so races show up."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(previous)


def thread_client() -> Any:
    return boto3.session.Session().client("s3control", region_name="us-east-1")


def run_threads(targets: list[Callable[[], None]]) -> None:
    """Run each target in its own thread, all released at once; re-raise the first error."""
    barrier = threading.Barrier(len(targets))
    errors: list[BaseException] = []

    def wrapped(target: Callable[[], None]) -> None:
        try:
            barrier.wait(timeout=TIMEOUT)
            target()
        except BaseException as error:  # re-raised in the main thread
            errors.append(error)

    threads = [threading.Thread(target=wrapped, args=(t,), daemon=True) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    if errors:
        raise errors[0]


def assert_history_is_legal(batch: S3Batch, job_id: str) -> None:
    job = batch.job(job_id)
    history = job.status_history
    assert history[0] == "New", (job_id, history)
    assert history[-1] == job.status, (job_id, history, job.status)
    for before, after in itertools.pairwise(history):
        assert after in ALLOWED[before], f"job {job_id} took {before} -> {after}: {history}"


# --------------------------------------------------------------------------- creation


@pytest.mark.slow
def test_concurrent_create_job_loses_nothing():
    threads, per_thread = 8, 25
    created: list[list[str]] = [[] for _ in range(threads)]

    def creator(index: int) -> Callable[[], None]:
        def create() -> None:
            client = thread_client()
            for n in range(per_thread):
                created[index].append(
                    csv_manifest_job(client, "etag", Description=f"thread {index} job {n}")
                )

        return create

    with mock_s3batch(progression="manual") as batch:
        run_threads([creator(i) for i in range(threads)])

        ids = [job_id for per in created for job_id in per]
        assert len(ids) == threads * per_thread
        assert len(set(ids)) == threads * per_thread
        jobs = batch.jobs()
        assert len(jobs) == threads * per_thread
        assert {job.job_id for job in jobs} == set(ids)
        assert {job.description for job in jobs} == {
            f"thread {i} job {n}" for i in range(threads) for n in range(per_thread)
        }
        create_calls = [call for call in batch.calls if call.operation == "CreateJob"]
        assert len(create_calls) == threads * per_thread
        assert all(call.error_code is None for call in create_calls)
        # ListJobs sees every one of them, too.
        listed = thread_client().list_jobs(AccountId=ACCOUNT)["Jobs"]
        assert {job["JobId"] for job in listed} == set(ids)


def test_concurrent_same_token_creates_one_job():
    threads = 8
    token = "0f6e3f7a-5c1d-4a43-9a7e-1f6c1f3e2d10"
    results: list[str] = []

    def create() -> None:
        results.append(csv_manifest_job(thread_client(), "etag", ClientRequestToken=token))

    with mock_s3batch(progression="manual") as batch:
        run_threads([create] * threads)
        assert len(results) == threads
        assert len(set(results)) == 1
        assert [job.job_id for job in batch.jobs()] == results[:1]


# --------------------------------------------------------------------------- polling


@pytest.mark.slow
def test_concurrent_polling_and_updates_keep_jobs_consistent():
    n_jobs, pollers, rounds = 24, 6, 4
    unexpected: list[BaseException] = []
    modeled: list[str] = []
    lock = threading.Lock()

    def guarded(allowed: set[str], call: Callable[..., Any], **params: Any) -> None:
        try:
            call(**params)
        except ClientError as error:
            code = error.response["Error"]["Code"]
            with lock:
                if code in allowed:
                    modeled.append(code)
                else:
                    unexpected.append(error)
        except Exception as error:  # collected and asserted on below
            with lock:
                unexpected.append(error)

    with mock_s3batch(tasks_per_step=2) as batch:  # poll: every DescribeJob may move a job
        objects = [f"obj-{n}.txt" for n in range(5)]
        for key in objects:
            batch.objects.put("data", key, key.encode())
        etag = batch.objects.put(
            "manifests", "manifest.csv", "".join(f"data,{key}\n" for key in objects).encode()
        )
        setup = thread_client()
        job_ids = [
            csv_manifest_job(setup, etag, ConfirmationRequired=bool(n % 2)) for n in range(n_jobs)
        ]

        def poller(seed: int) -> Callable[[], None]:
            def poll() -> None:
                client = thread_client()
                order = random.Random(seed)
                for _ in range(rounds):
                    for job_id in order.sample(job_ids, len(job_ids)):
                        guarded(set(), client.describe_job, AccountId=ACCOUNT, JobId=job_id)
                    guarded(set(), client.list_jobs, AccountId=ACCOUNT)

            return poll

        def status_updater() -> None:
            client = thread_client()
            order = random.Random(100)
            for _ in range(rounds * 3):
                job_id = order.choice(job_ids)
                requested = order.choice(["Ready", "Cancelled", "Ready"])
                guarded(
                    {"JobStatusException"},
                    client.update_job_status,
                    AccountId=ACCOUNT,
                    JobId=job_id,
                    RequestedJobStatus=requested,
                )

        def priority_updater() -> None:
            client = thread_client()
            order = random.Random(200)
            for n in range(rounds * 3):
                job_id = order.choice(job_ids)
                guarded(
                    {"BadRequestException"},  # design 5: priority of a terminal job
                    client.update_job_priority,
                    AccountId=ACCOUNT,
                    JobId=job_id,
                    Priority=n,
                )

        def tagger() -> None:
            client = thread_client()
            order = random.Random(300)
            for n in range(rounds * 3):
                job_id = order.choice(job_ids)
                if n % 2:
                    guarded(set(), client.delete_job_tagging, AccountId=ACCOUNT, JobId=job_id)
                else:
                    guarded(
                        set(),
                        client.put_job_tagging,
                        AccountId=ACCOUNT,
                        JobId=job_id,
                        Tags=[{"Key": "round", "Value": str(n)}],
                    )

        run_threads(
            [poller(seed) for seed in range(pollers)] + [status_updater, priority_updater, tagger]
        )

        assert unexpected == []
        # Every call was recorded, none lost to a race.
        assert len(batch.calls) == n_jobs + pollers * rounds * (n_jobs + 1) + 3 * rounds * 3
        assert set(modeled) <= {"JobStatusException", "BadRequestException"}
        for job_id in job_ids:
            assert_history_is_legal(batch, job_id)

        batch.run()
        client = thread_client()
        for job_id in job_ids:
            assert_history_is_legal(batch, job_id)
            job = batch.job(job_id)
            assert job.status in AT_REST, (job_id, job.status_history)
            assert client.describe_job(AccountId=ACCOUNT, JobId=job_id)["Job"]["Status"] == (
                job.status
            )
            if job.status == "Complete":
                assert job.succeeded_tasks + job.failed_tasks == job.total_tasks == len(objects)
            tags = client.get_job_tagging(AccountId=ACCOUNT, JobId=job_id)["Tags"]
            assert len(tags) <= 1
            assert {t["Key"]: t["Value"] for t in tags} == job.tags


# --------------------------------------------------------------------------- activation


def test_activation_from_threads_nests_in_the_outer_scope(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "user-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "user-secret")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    threads = 4
    created: list[str] = []
    seen: list[S3Batch] = []

    def inner(index: int) -> Callable[[], None]:
        def work() -> None:
            with mock_s3batch() as inner_batch:
                seen.append(inner_batch)
                created.append(
                    csv_manifest_job(thread_client(), "etag", Description=f"thread {index}")
                )

        return work

    with mock_s3batch(progression="manual") as batch:
        run_threads([inner(i) for i in range(threads)])
        # The inner scopes have all exited; the outer one is still active and holds it all.
        assert current_batch().jobs() == batch.jobs()
        assert len(created) == threads
        assert {job.job_id for job in batch.jobs()} == set(created)
        assert [call.operation for call in batch.calls] == ["CreateJob"] * threads
        assert all({j.job_id for j in b.jobs()} == set(created) for b in seen)
        # Still served after the threads' scopes ended.
        assert csv_manifest_job(thread_client(), "etag") in {j.job_id for j in batch.jobs()}

    with pytest.raises(RuntimeError):
        current_batch()
    assert os.environ["AWS_ACCESS_KEY_ID"] == "user-key"
    assert os.environ["AWS_SECRET_ACCESS_KEY"] == "user-secret"
    assert "AWS_SESSION_TOKEN" not in os.environ


def test_overlapping_scopes_from_threads_without_an_outer_scope(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
    threads = 4
    inside = threading.Barrier(threads)
    created: list[str] = []

    def work() -> None:
        with mock_s3batch():
            # All four scopes are active at once here.
            inside.wait(timeout=TIMEOUT)
            created.append(csv_manifest_job(thread_client(), "etag"))
            inside.wait(timeout=TIMEOUT)
            assert len(current_batch().jobs()) == threads

    run_threads([work] * threads)
    assert len(set(created)) == threads
    with pytest.raises(RuntimeError):
        current_batch()
    assert "AWS_ACCESS_KEY_ID" not in os.environ
    assert "AWS_SESSION_TOKEN" not in os.environ


def test_start_in_one_thread_stop_in_another(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "user-key")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    mock = mock_s3batch()
    started: list[S3Batch] = []
    created: list[str] = []

    def start() -> None:
        started.append(mock.start())
        created.append(csv_manifest_job(thread_client(), "etag"))

    def stop() -> None:
        mock.stop()

    with ThreadPoolExecutor(max_workers=1) as pool_a:
        pool_a.submit(start).result(timeout=TIMEOUT)
    # Active for every thread, the main one included.
    assert [job.job_id for job in current_batch().jobs()] == created
    assert os.environ["AWS_ACCESS_KEY_ID"] == "testing"

    with ThreadPoolExecutor(max_workers=1) as pool_b:
        pool_b.submit(stop).result(timeout=TIMEOUT)

    with pytest.raises(RuntimeError):
        current_batch()
    assert os.environ["AWS_ACCESS_KEY_ID"] == "user-key"
    assert "AWS_SESSION_TOKEN" not in os.environ
    # The ended mock's controller says so, whichever thread ended it.
    with pytest.raises(MockEndedError):
        started[0].jobs()
    # One start, one stop: a second stop is an error, from any thread.
    with pytest.raises(RuntimeError, match="start"):
        mock.stop()

    # And the mock can be started again afterwards, with fresh state.
    with ThreadPoolExecutor(max_workers=1) as pool_c:
        again = pool_c.submit(mock.start).result(timeout=TIMEOUT)
    try:
        assert again.jobs() == []
        assert current_batch().jobs() == []
    finally:
        mock.stop()
    with pytest.raises(RuntimeError):
        current_batch()


def test_start_stop_repeated_across_threads():
    mocks = [mock_s3batch() for _ in range(20)]
    for mock in mocks:
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(mock.start).result(timeout=TIMEOUT)
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(mock.stop).result(timeout=TIMEOUT)
    with pytest.raises(RuntimeError):
        current_batch()
