"""A controller kept after its mock has ended says so, instead of answering from a dead mock.

docs/usage.md: the outermost exit discards the state. Every member of the controller,
and the object store's methods for tests, raise ``MockEndedError`` (a ``RuntimeError``
and an ``S3BatchMockError``) naming what happened and what to use instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from s3batch_mock import (
    EmbeddedStore,
    ObjectStoreError,
    S3Batch,
    S3BatchMockError,
    current_batch,
    mock_s3batch,
)
from s3batch_mock._controller import MockEndedError
from tests.conftest import csv_manifest_job, s3control

#: The id of the job the current test made (the same id is asked after the end).
JOB_ID = ["none"]

#: Every public member of the controller, used as a test would use it.
USES: dict[str, Callable[[S3Batch], Any]] = {
    "job": lambda b: b.job(JOB_ID[0]),
    "jobs": lambda b: b.jobs(),
    "step": lambda b: b.step(JOB_ID[0]),
    "run": lambda b: b.run(),
    "objects": lambda b: b.objects,
    "objects.put": lambda b: b.objects.put("photos", "a.jpg", b"x"),
    "register_lambda": lambda b: b.register_lambda("fn", lambda event, context: {}),
    "inject_error": lambda b: b.inject_error("ListJobs", "TooManyRequestsException"),
    "inject_latency": lambda b: b.inject_latency("ListJobs", 0.1),
    "calls": lambda b: b.calls,
    "reset": lambda b: b.reset(),
}


def test_every_member_is_covered() -> None:
    public = {name for name in dir(S3Batch) if not name.startswith("_")}
    assert public == {name.partition(".")[0] for name in USES}


def _assert_ended(use: Callable[[S3Batch], Any], batch: S3Batch) -> None:
    with pytest.raises(MockEndedError) as raised:
        use(batch)
    assert isinstance(raised.value, RuntimeError)
    assert isinstance(raised.value, S3BatchMockError)
    message = str(raised.value)
    assert "has ended" in message
    assert "discarded" in message
    assert "current_batch()" in message


@pytest.mark.parametrize("member", sorted(USES))
def test_after_a_with_block(member: str) -> None:
    with mock_s3batch() as batch:
        etag = batch.objects.put("manifests", "manifest.csv", "data,a.txt\n")
        JOB_ID[0] = csv_manifest_job(s3control(), etag)
        USES[member](batch)  # answers while the mock is active
    _assert_ended(USES[member], batch)


@pytest.mark.parametrize("member", sorted(USES))
def test_after_stop(member: str) -> None:
    mock = mock_s3batch()
    batch = mock.start()
    mock.stop()
    _assert_ended(USES[member], batch)


def test_after_a_decorated_function() -> None:
    kept: list[S3Batch] = []

    @mock_s3batch
    def decorated() -> None:
        kept.append(current_batch())

    decorated()
    for use in USES.values():
        _assert_ended(use, kept[0])


def test_no_write_reaches_the_next_mock() -> None:
    with mock_s3batch() as first:
        pass
    with mock_s3batch() as second:
        with pytest.raises(MockEndedError):
            first.objects.put("photos", "a.jpg", b"x")
        with pytest.raises(MockEndedError):
            first.inject_error("ListJobs", "TooManyRequestsException")
        assert s3control().list_jobs(AccountId="123456789012")["Jobs"] == []
        with pytest.raises(ObjectStoreError, match="NoSuchBucket"):
            second.objects.keys("photos")  # the refused put made no bucket here


def test_an_inner_exit_does_not_end_the_outer_mock() -> None:
    with mock_s3batch() as outer:
        with mock_s3batch() as inner:
            pass
        inner.objects.put("photos", "a.jpg", b"x")  # the shared state is still alive
        assert outer.objects.get("photos", "a.jpg") == b"x"
    _assert_ended(USES["jobs"], inner)


def test_repr_of_an_ended_controller_says_so_without_raising() -> None:
    with mock_s3batch() as batch:
        assert "jobs=0" in repr(batch)
    assert repr(batch).endswith("ended>")


@pytest.mark.parametrize(
    ("method", "args"),
    [
        ("put", ("photos", "a.jpg", b"x")),
        ("get", ("photos", "a.jpg")),
        ("keys", ("photos",)),
        ("get_tags", ("photos", "a.jpg")),
        ("create_bucket", ("photos",)),
        ("delete", ("photos", "a.jpg")),
    ],
)
def test_a_kept_store_refuses_once_its_owner_has_ended(method: str, args: tuple[Any, ...]) -> None:
    ended = False
    store = EmbeddedStore(ended=lambda: ended)
    store.put("photos", "a.jpg", b"x")
    getattr(store, method)(*args)
    ended = True
    with pytest.raises(MockEndedError, match=r"batch\.objects belongs to a mock_s3batch scope"):
        getattr(store, method)(*args)
