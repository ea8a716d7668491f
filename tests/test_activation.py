"""Activation: every way of turning the mock on and off, and what it does to the process.

Decorator (sync, async, classes), context manager, ``start()``/``stop()``, nesting,
eager settings validation, fake credentials and ``boto3.DEFAULT_SESSION``,
``patch_client``, unserved operations, coexistence with moto, ``batch.calls`` and
threads. Everything goes through real boto3 clients.
"""

from __future__ import annotations

import asyncio
import inspect
import io
import os
import subprocess
import sys
import threading
import unittest
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import botocore.config
import botocore.exceptions
import botocore.httpsession
import botocore.session
import pytest
from moto import mock_aws

import s3batch_mock
from s3batch_mock import (
    S3Batch,
    S3BatchMockError,
    UnsupportedOperationError,
    _hooks,
    current_batch,
    mock_s3batch,
    patch_client,
)
from tests.conftest import ACCOUNT, NetworkRefused, csv_manifest_job, s3control

CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
UNKNOWN_JOB_ID = "00000000-0000-4000-8000-000000000000"
AWS_CONFIG_FILE_VARIABLES = ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")
REPO_ROOT = Path(__file__).resolve().parent.parent


class ReachedNetwork(Exception):
    """botocore tried to send a request over HTTP (the mock did not answer it)."""


@pytest.fixture
def network_spy(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record (and stop) every request botocore would really send; returns the URLs."""
    sent: list[str] = []

    def send(self: Any, request: Any) -> Any:
        sent.append(request.url)
        raise ReachedNetwork(request.url)

    monkeypatch.setattr(botocore.httpsession.URLLib3Session, "send", send)
    return sent


def job_ids(batch: S3Batch) -> list[str]:
    return [job.job_id for job in batch.jobs()]


def describe_status(client: Any, job_id: str) -> str:
    return str(client.describe_job(AccountId=ACCOUNT, JobId=job_id)["Job"]["Status"])


def operations(batch: S3Batch) -> list[str]:
    return [call.operation for call in batch.calls]


# --------------------------------------------------------------------------- decorator


@mock_s3batch
def _decorated_sync_creates_job() -> tuple[str, list[str]]:
    """Docstring kept by the decorator."""
    job_id = csv_manifest_job(s3control(), "etag")
    return job_id, job_ids(current_batch())


@mock_s3batch
async def _decorated_coroutine_creates_job() -> tuple[str, list[str]]:
    """Coroutine docstring kept by the decorator."""
    await asyncio.sleep(0)
    job_id = csv_manifest_job(s3control(), "etag")
    await asyncio.sleep(0)
    return job_id, job_ids(current_batch())


class TestBareDecorator:
    def test_sync_function_is_served_and_returns_its_value(self):
        job_id, ids = _decorated_sync_creates_job()
        assert ids == [job_id]

    def test_sync_function_keeps_name_and_doc(self):
        assert _decorated_sync_creates_job.__name__ == "_decorated_sync_creates_job"
        assert _decorated_sync_creates_job.__doc__ == "Docstring kept by the decorator."

    def test_sync_function_deactivates_on_return(self):
        _decorated_sync_creates_job()
        with pytest.raises(RuntimeError):
            current_batch()

    def test_sync_function_deactivates_when_it_raises(self):
        @mock_s3batch
        def boom() -> None:
            raise KeyError("boom")

        with pytest.raises(KeyError):
            boom()
        with pytest.raises(RuntimeError):
            current_batch()
        assert "AWS_ACCESS_KEY_ID" not in os.environ

    def test_each_call_gets_fresh_state(self):
        first_id, _ = _decorated_sync_creates_job()
        second_id, ids = _decorated_sync_creates_job()
        assert first_id != second_id
        assert ids == [second_id]

    def test_async_function_stays_a_coroutine_function(self):
        assert inspect.iscoroutinefunction(_decorated_coroutine_creates_job)
        assert _decorated_coroutine_creates_job.__name__ == "_decorated_coroutine_creates_job"
        assert (
            _decorated_coroutine_creates_job.__doc__
            == "Coroutine docstring kept by the decorator."
        )

    def test_async_function_is_served_while_awaited(self):
        job_id, ids = asyncio.run(_decorated_coroutine_creates_job())
        assert ids == [job_id]
        with pytest.raises(RuntimeError):
            current_batch()

    def test_async_function_is_not_active_before_it_is_awaited(self):
        coroutine = _decorated_coroutine_creates_job()
        try:
            with pytest.raises(RuntimeError):
                current_batch()
        finally:
            asyncio.run(coroutine)

    def test_decorated_pytest_style_test_receives_fixtures(self, tmp_path):
        @mock_s3batch
        def uses_fixture(path: Path) -> Path:
            current_batch()
            return path

        assert uses_fixture(tmp_path) == tmp_path


class TestConfiguredDecorator:
    def test_manual_progression_keeps_job_new_until_stepped(self):
        @mock_s3batch(progression="manual")
        def scenario() -> None:
            client = s3control()
            job_id = csv_manifest_job(client, "etag")
            assert describe_status(client, job_id) == "New"
            assert describe_status(client, job_id) == "New"
            assert describe_status(client, job_id) == "New"
            new_status = current_batch().step(job_id)
            assert new_status != "New"
            assert describe_status(client, job_id) == new_status

        scenario()

    def test_default_poll_progression_moves_on_describe(self):
        # The contrast that makes the manual test meaningful.
        @mock_s3batch
        def scenario() -> list[str]:
            client = s3control()
            job_id = csv_manifest_job(client, "etag")
            return [describe_status(client, job_id) for _ in range(2)]

        statuses = scenario()
        assert statuses[0] != "New" or statuses[1] != "New"

    def test_configured_decorator_returns_value_and_keeps_metadata(self):
        @mock_s3batch(progression="manual")
        def answer() -> int:
            """The answer."""
            return 42

        assert answer() == 42
        assert answer.__name__ == "answer"
        assert answer.__doc__ == "The answer."


class TestCurrentBatch:
    def test_outside_any_mock_raises_runtime_error(self):
        with pytest.raises(RuntimeError, match="mock_s3batch"):
            current_batch()

    def test_inside_context_manager_sees_same_state(self):
        with mock_s3batch() as batch:
            job_id = csv_manifest_job(s3control(), "etag")
            assert isinstance(current_batch(), S3Batch)
            assert job_ids(current_batch()) == [job_id] == job_ids(batch)

    def test_after_exit_raises_again(self):
        with mock_s3batch():
            current_batch()
        with pytest.raises(RuntimeError):
            current_batch()


# --------------------------------------------------------------------------- classes


@mock_s3batch
class TestDecoratedPytestClass:
    """Collected by pytest itself: the decorator must cover each method and its hooks."""

    def setup_method(self, method):
        # Raises if setup_method runs outside the mock scope.
        self.batch = current_batch()
        self.client = s3control()
        self.setup_job = csv_manifest_job(self.client, "etag", Description="from setup")

    def teardown_method(self, method):
        # Still inside the same scope: the setup job is served and recorded.
        assert describe_status(self.client, self.setup_job)
        assert self.setup_job in job_ids(current_batch())

    def test_first_sees_only_its_setup_job(self):
        assert job_ids(current_batch()) == [self.setup_job]
        csv_manifest_job(self.client, "etag", Description="from test")

    def test_second_sees_only_its_setup_job(self):
        # Whichever of the two runs second would see the other's jobs if state leaked.
        assert job_ids(current_batch()) == [self.setup_job]
        csv_manifest_job(self.client, "etag", Description="from test")


class TestClassDecoratorDrivenByHand:
    """The pytest protocol replayed step by step, to look between the steps."""

    def _make_class(self, log: list[Any]) -> type:
        @mock_s3batch
        class Suite:
            def setup_method(self, method):
                log.append(("setup", job_ids(current_batch())))
                self.job_id = csv_manifest_job(s3control(), "etag")

            def teardown_method(self, method):
                log.append(("teardown", job_ids(current_batch())))

            def test_one(self):
                log.append(("test_one", job_ids(current_batch())))
                csv_manifest_job(s3control(), "etag")

            def test_two(self):
                log.append(("test_two", job_ids(current_batch())))

            def helper(self):
                return "not a test"

        return Suite

    def _run(self, cls: type, name: str) -> Any:
        instance = cls()
        method = getattr(instance, name)
        instance.setup_method(method)
        try:
            method()
        finally:
            instance.teardown_method(method)
        return instance

    def test_setup_test_and_teardown_share_one_scope(self):
        log: list[Any] = []
        instance = self._run(self._make_class(log), "test_one")
        setup_job = instance.job_id
        assert log[0] == ("setup", [])
        assert log[1] == ("test_one", [setup_job])
        assert log[2][0] == "teardown"
        assert log[2][1][0] == setup_job
        assert len(log[2][1]) == 2

    def test_scope_ends_after_teardown(self):
        log: list[Any] = []
        self._run(self._make_class(log), "test_one")
        with pytest.raises(RuntimeError):
            current_batch()
        assert "AWS_ACCESS_KEY_ID" not in os.environ

    def test_each_method_gets_fresh_state(self):
        log: list[Any] = []
        cls = self._make_class(log)
        self._run(cls, "test_one")
        second = self._run(cls, "test_two")
        assert ("test_two", [second.job_id]) in log

    def test_non_test_methods_are_left_alone(self):
        cls = self._make_class([])
        assert cls().helper() == "not a test"
        with pytest.raises(RuntimeError):
            current_batch()

    def test_teardown_method_without_setup_method_runs_inside_the_scope(self):
        seen: list[Any] = []

        @mock_s3batch
        class Suite:
            def teardown_method(self, method):
                seen.append(job_ids(current_batch()))

            def test_it(self):
                self.job_id = csv_manifest_job(s3control(), "etag")

        instance = Suite()
        # What pytest does: the decorator gave the class a setup_method to call first.
        instance.setup_method(instance.test_it)  # type: ignore[attr-defined]
        instance.test_it()
        instance.teardown_method(instance.test_it)
        assert seen == [[instance.job_id]]
        with pytest.raises(RuntimeError):
            current_batch()

    def test_setup_method_failure_leaves_no_active_scope(self):
        @mock_s3batch
        class Suite:
            def setup_method(self, method):
                raise ValueError("setup broke")

            def test_it(self):
                pass

        instance = Suite()
        with pytest.raises(ValueError, match="setup broke"):
            instance.setup_method(instance.test_it)
        with pytest.raises(RuntimeError):
            current_batch()


class TestDecoratedUnittestCase:
    def _run_case(self, case: type[unittest.TestCase]) -> unittest.TestResult:
        suite = unittest.TestLoader().loadTestsFromTestCase(case)
        return unittest.TextTestRunner(stream=io.StringIO()).run(suite)

    def test_setup_runs_inside_scope_and_each_test_gets_fresh_state(self):
        seen: dict[str, Any] = {}

        @mock_s3batch
        class Case(unittest.TestCase):
            def setUp(self):
                self.client = s3control()
                self.setup_job = csv_manifest_job(self.client, "etag")

            def tearDown(self):
                seen.setdefault("teardown", []).append(job_ids(current_batch()))

            def test_a(self):
                seen["a"] = job_ids(current_batch())
                assert job_ids(current_batch()) == [self.setup_job]
                csv_manifest_job(self.client, "etag")

            def test_b(self):
                seen["b"] = job_ids(current_batch())
                assert job_ids(current_batch()) == [self.setup_job]
                csv_manifest_job(self.client, "etag")

        result = self._run_case(Case)
        assert result.wasSuccessful(), result.failures + result.errors
        assert result.testsRun == 2
        assert len(seen["a"]) == 1
        assert len(seen["b"]) == 1
        assert seen["a"] != seen["b"]
        # tearDown also runs inside the scope, with both jobs still there.
        assert [len(ids) for ids in seen["teardown"]] == [2, 2]
        with pytest.raises(RuntimeError):
            current_batch()

    def test_failing_case_is_reported_and_scope_still_ends(self):
        @mock_s3batch
        class Case(unittest.TestCase):
            def test_fails(self):
                self.fail("on purpose")

        result = self._run_case(Case)
        assert not result.wasSuccessful()
        with pytest.raises(RuntimeError):
            current_batch()
        assert "AWS_ACCESS_KEY_ID" not in os.environ

    def test_configured_decorator_on_test_case(self):
        @mock_s3batch(progression="manual")
        class Case(unittest.TestCase):
            def test_job_stays_new(self):
                client = s3control()
                job_id = csv_manifest_job(client, "etag")
                assert describe_status(client, job_id) == "New"
                assert describe_status(client, job_id) == "New"

        result = self._run_case(Case)
        assert result.wasSuccessful(), result.failures + result.errors


# --------------------------------------------------------------- context manager, start/stop


class TestContextManager:
    def test_yields_the_controller(self):
        with mock_s3batch() as batch:
            assert isinstance(batch, S3Batch)
            job_id = csv_manifest_job(s3control(), "etag")
            assert job_ids(batch) == [job_id]
            assert batch.job(job_id).job_id == job_id

    def test_new_scope_starts_empty(self):
        with mock_s3batch():
            csv_manifest_job(s3control(), "etag")
        with mock_s3batch() as batch:
            assert batch.jobs() == []
            assert batch.calls == []

    def test_exit_on_exception_deactivates(self):
        with pytest.raises(ZeroDivisionError), mock_s3batch():
            _ = 1 / 0
        with pytest.raises(RuntimeError):
            current_batch()

    def test_calls_after_exit_are_not_served(self, network_spy):
        # Explicit credentials, so the only thing left to fail after exit is the send.
        client = s3control(aws_access_key_id="user", aws_secret_access_key="user-secret")
        with mock_s3batch() as batch:
            job_id = csv_manifest_job(client, "etag")
            assert describe_status(client, job_id)
            assert operations(batch) == ["CreateJob", "DescribeJob"]
        assert network_spy == []

        with pytest.raises(ReachedNetwork):
            client.describe_job(AccountId=ACCOUNT, JobId=job_id)
        assert network_spy, "the request should have gone to botocore's HTTP sender"

    def test_calls_after_exit_are_not_served_under_socket_guard(self):
        # Without the spy: the conftest's DNS guard stops the real send.
        client = s3control(
            aws_access_key_id="user",
            aws_secret_access_key="user-secret",
            config=botocore.config.Config(retries={"total_max_attempts": 1}),
        )
        with mock_s3batch():
            job_id = csv_manifest_job(client, "etag")
        with pytest.raises(botocore.exceptions.HTTPClientError) as caught:
            client.describe_job(AccountId=ACCOUNT, JobId=job_id)
        assert isinstance(caught.value.kwargs["error"], NetworkRefused)


class TestStartStop:
    def test_start_returns_controller_and_stop_deactivates(self):
        m = mock_s3batch()
        batch = m.start()
        try:
            assert isinstance(batch, S3Batch)
            job_id = csv_manifest_job(s3control(), "etag")
            assert job_ids(batch) == [job_id]
            assert job_ids(current_batch()) == [job_id]
        finally:
            m.stop()
        with pytest.raises(RuntimeError):
            current_batch()

    def test_stop_without_start_raises(self):
        with pytest.raises(RuntimeError, match="start"):
            mock_s3batch().stop()

    def test_stop_twice_raises(self):
        m = mock_s3batch()
        m.start()
        m.stop()
        with pytest.raises(RuntimeError):
            m.stop()

    def test_stop_of_another_instance_does_not_end_a_scope(self):
        m = mock_s3batch()
        m.start()
        try:
            with pytest.raises(RuntimeError):
                mock_s3batch().stop()
            current_batch()  # still active
        finally:
            m.stop()

    def test_restart_after_stop_starts_empty(self):
        m = mock_s3batch()
        m.start()
        csv_manifest_job(s3control(), "etag")
        m.stop()
        batch = m.start()
        try:
            assert batch.jobs() == []
        finally:
            m.stop()


# --------------------------------------------------------------------------- nesting


class TestNesting:
    def test_decorator_inside_context_manager_shares_state(self):
        @mock_s3batch
        def inner() -> tuple[str, list[str]]:
            return csv_manifest_job(s3control(), "etag"), job_ids(current_batch())

        with mock_s3batch() as outer:
            outer_job = csv_manifest_job(s3control(), "etag")
            inner_job, seen_inside = inner()
            assert seen_inside == [outer_job, inner_job]
            assert job_ids(outer) == [outer_job, inner_job]
            # Still served after the inner exit.
            assert describe_status(s3control(), inner_job)
        with mock_s3batch() as fresh:
            assert fresh.jobs() == []

    def test_context_manager_inside_context_manager_shares_state(self):
        client = s3control()
        with mock_s3batch() as outer:
            with mock_s3batch() as inner:
                job_id = csv_manifest_job(client, "etag")
                assert job_ids(inner) == [job_id]
            assert job_ids(outer) == [job_id]
            assert describe_status(client, job_id)
            assert os.environ["AWS_ACCESS_KEY_ID"] == "testing"
        with pytest.raises(RuntimeError):
            current_batch()
        with mock_s3batch() as fresh:
            assert fresh.jobs() == []

    def test_same_instance_nested(self):
        m = mock_s3batch()
        with m as outer:
            with m as inner:
                job_id = csv_manifest_job(s3control(), "etag")
                assert job_ids(inner) == [job_id]
            assert job_ids(outer) == [job_id]
            current_batch()
        with pytest.raises(RuntimeError):
            current_batch()

    def test_two_different_instances_nested(self):
        first = mock_s3batch()
        second = mock_s3batch(progression="manual")
        with first as outer:
            outer_job = csv_manifest_job(s3control(), "etag")
            with second as inner:
                inner_job = csv_manifest_job(s3control(), "etag")
                assert job_ids(inner) == [outer_job, inner_job]
            assert job_ids(outer) == [outer_job, inner_job]
        with pytest.raises(RuntimeError):
            current_batch()

    def test_start_stop_nested_in_context_manager(self):
        with mock_s3batch() as outer:
            m = mock_s3batch()
            inner = m.start()
            job_id = csv_manifest_job(s3control(), "etag")
            m.stop()
            assert job_ids(inner) == job_ids(outer) == [job_id]
            current_batch()


# --------------------------------------------------------------------------- settings


class TestSettingsValidatedEagerly:
    def test_unknown_progression_names_allowed_values(self):
        with pytest.raises(ValueError, match="progression") as raised:
            mock_s3batch(progression="bogus")  # type: ignore[call-overload]
        message = str(raised.value)
        for allowed in ("poll", "manual", "clock"):
            assert allowed in message
        assert "bogus" in message

    def test_unknown_progression_fails_at_decoration_not_at_call(self):
        with pytest.raises(ValueError, match="progression"):

            @mock_s3batch(progression="bogus")  # type: ignore[call-overload,untyped-decorator]
            def never_called() -> None:  # pragma: no cover
                pass

    @pytest.mark.parametrize("value", [0, 0.0, -1])
    def test_step_seconds_must_be_positive(self, value):
        with pytest.raises(ValueError, match="step_seconds"):
            mock_s3batch(step_seconds=value)

    @pytest.mark.parametrize("value", ["1", None, True])
    def test_step_seconds_must_be_a_number(self, value):
        with pytest.raises(TypeError, match="step_seconds"):
            mock_s3batch(step_seconds=value)

    @pytest.mark.parametrize("value", [0, -3])
    def test_max_active_jobs_must_be_at_least_one(self, value):
        with pytest.raises(ValueError, match="max_active_jobs"):
            mock_s3batch(max_active_jobs=value)

    def test_max_active_jobs_must_be_an_int(self):
        with pytest.raises(TypeError, match="max_active_jobs"):
            mock_s3batch(max_active_jobs="2")  # type: ignore[call-overload]

    def test_valid_settings_are_accepted(self):
        with mock_s3batch(progression="clock", step_seconds=0.5, max_active_jobs=3) as batch:
            assert batch.jobs() == []

    def test_invalid_settings_leave_nothing_active(self):
        with pytest.raises(ValueError, match="progression"):
            mock_s3batch(progression="bogus")  # type: ignore[call-overload]
        with pytest.raises(RuntimeError):
            current_batch()
        assert "AWS_ACCESS_KEY_ID" not in os.environ


# ------------------------------------------------------------ credentials and environment


class TestCredentialsAndEnvironment:
    def test_fake_credentials_inside(self):
        with mock_s3batch():
            for name in CREDENTIAL_VARIABLES:
                assert os.environ[name] == "testing"

    def test_unset_variables_are_unset_again_after_exit(self):
        before = dict(os.environ)
        with mock_s3batch():
            pass
        for name in CREDENTIAL_VARIABLES:
            assert name not in os.environ
        assert dict(os.environ) == before

    def test_user_values_are_restored_after_exit(self, monkeypatch):
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "user-key")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "user-secret")
        monkeypatch.setenv("AWS_SESSION_TOKEN", "user-token")
        before = dict(os.environ)
        with mock_s3batch():
            assert os.environ["AWS_ACCESS_KEY_ID"] == "testing"
        assert dict(os.environ) == before

    def test_partially_set_variables_are_restored_exactly(self, monkeypatch):
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "user-key")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "")
        before = dict(os.environ)
        with mock_s3batch():
            assert os.environ["AWS_SESSION_TOKEN"] == "testing"
            assert os.environ["AWS_SECRET_ACCESS_KEY"] == "testing"
        assert dict(os.environ) == before
        assert "AWS_SESSION_TOKEN" not in os.environ
        assert os.environ["AWS_SECRET_ACCESS_KEY"] == ""

    def test_environment_restored_when_body_raises(self, monkeypatch):
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "user-key")
        before = dict(os.environ)
        with pytest.raises(LookupError), mock_s3batch():
            raise LookupError
        assert dict(os.environ) == before

    def test_environment_restored_only_at_outermost_exit(self, monkeypatch):
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "user-key")
        with mock_s3batch():
            with mock_s3batch():
                pass
            assert os.environ["AWS_ACCESS_KEY_ID"] == "testing"
        assert os.environ["AWS_ACCESS_KEY_ID"] == "user-key"

    def test_client_created_before_with_no_credentials_works_inside(self):
        # conftest removed every credential source: this client has none at all.
        client = s3control()
        assert boto3.Session().get_credentials() is None
        with mock_s3batch() as batch:
            job_id = csv_manifest_job(client, "etag")
            assert describe_status(client, job_id)
            assert job_ids(batch) == [job_id]

    def test_client_created_inside_works(self):
        with mock_s3batch() as batch:
            client = s3control()
            job_id = csv_manifest_job(client, "etag")
            assert describe_status(client, job_id)
            assert job_ids(batch) == [job_id]

    def test_client_with_user_credentials_is_served(self, network_spy):
        client = s3control(aws_access_key_id="AKIAUSER", aws_secret_access_key="secret")
        with mock_s3batch() as batch:
            job_id = csv_manifest_job(client, "etag")
            assert job_ids(batch) == [job_id]
        assert network_spy == []


def access_key(session: Any) -> str:
    """The access key a boto3 session would sign with now."""
    return str(session.get_credentials().access_key)


class TestDefaultSession:
    """boto3's default session is kept (warm) and leaves holding what it held before."""

    @pytest.fixture
    def user_session(self, monkeypatch):
        monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
        boto3.setup_default_session(region_name="us-east-1")
        return boto3.DEFAULT_SESSION

    def test_kept_across_activations(self, user_session):
        with mock_s3batch():
            csv_manifest_job(s3control(), "etag")
            assert boto3.DEFAULT_SESSION is user_session
        assert boto3.DEFAULT_SESSION is user_session
        with mock_s3batch():
            assert boto3.DEFAULT_SESSION is user_session

    def test_lent_credentials_are_forgotten_on_exit(self, user_session):
        with mock_s3batch():
            assert access_key(user_session) == "testing"
        assert user_session.get_credentials() is None  # the tests' environment has none

    def test_users_own_credentials_are_kept_and_not_needed(self, monkeypatch):
        monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
        boto3.setup_default_session(
            region_name="us-east-1", aws_access_key_id="user", aws_secret_access_key="secret"
        )
        with mock_s3batch() as batch:
            csv_manifest_job(s3control(), "etag")  # unsigned: the user's key is never used
            assert len(batch.jobs()) == 1
            assert access_key(boto3.DEFAULT_SESSION) == "user"
        assert access_key(boto3.DEFAULT_SESSION) == "user"

    def test_session_made_inside_is_kept_without_the_lent_credentials(self, monkeypatch):
        monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
        with mock_s3batch():
            s3control()
            made = boto3.DEFAULT_SESSION
            assert made is not None
            assert access_key(made) == "testing"
        assert boto3.DEFAULT_SESSION is made
        assert made.get_credentials() is None

    def test_restored_after_nested_scopes(self, user_session):
        with mock_s3batch():
            with mock_s3batch():
                s3control()
            assert access_key(user_session) == "testing"
        assert user_session.get_credentials() is None


# ------------------------------------------------------------------------- patch_client


def _unhooked_client() -> Any:
    """A client whose events lack the mock's handlers, as if its session predated them."""
    session = botocore.session.Session()
    client = session.create_client(
        "s3control",
        region_name="us-east-1",
        aws_access_key_id="user",  # so that, unhooked, the request is signed and sent
        aws_secret_access_key="user-secret",
    )
    client.meta.events.unregister("before-send.s3-control", _hooks._on_before_send)
    client.meta.events.unregister("choose-signer.s3-control", _hooks._on_choose_signer)
    return client


class TestPatchClient:
    def test_returns_the_same_client(self):
        client = s3control()
        assert patch_client(client) is client

    def test_unhooked_client_is_served_without_patching(self, network_spy):
        client = _unhooked_client()
        with mock_s3batch() as batch:
            job_id = csv_manifest_job(client, "etag")
            assert describe_status(client, job_id)
            assert job_ids(batch) == [job_id]
            assert operations(batch) == ["CreateJob", "DescribeJob"]
        assert network_spy == []

    def test_patched_client_is_served(self, network_spy):
        client = patch_client(_unhooked_client())
        with mock_s3batch() as batch:
            job_id = csv_manifest_job(client, "etag")
            assert describe_status(client, job_id)
            assert job_ids(batch) == [job_id]
            assert operations(batch) == ["CreateJob", "DescribeJob"]
        assert network_spy == []

    def test_unhooked_client_patched_inside_the_mock(self, network_spy):
        client = _unhooked_client()
        with mock_s3batch() as batch:
            first = csv_manifest_job(client, "etag")
            patch_client(client)
            second = csv_manifest_job(client, "etag")
            assert job_ids(batch) == [first, second]
            assert operations(batch) == ["CreateJob", "CreateJob"]
        assert network_spy == []

    def test_patching_twice_serves_each_request_once(self):
        client = patch_client(patch_client(_unhooked_client()))
        with mock_s3batch() as batch:
            csv_manifest_job(client, "etag")
            assert len(batch.jobs()) == 1
            assert operations(batch) == ["CreateJob"]

    def test_patching_a_hooked_client_serves_each_request_once(self):
        client = s3control()
        patch_client(client)
        patch_client(client)
        with mock_s3batch() as batch:
            csv_manifest_job(client, "etag")
            assert len(batch.jobs()) == 1
            assert operations(batch) == ["CreateJob"]

    def test_patched_client_is_inert_outside_the_mock(self, network_spy):
        client = patch_client(
            s3control(aws_access_key_id="user", aws_secret_access_key="user-secret")
        )
        with pytest.raises(ReachedNetwork):
            client.describe_job(AccountId=ACCOUNT, JobId=UNKNOWN_JOB_ID)

    @pytest.mark.parametrize("not_a_client", [object(), None, "s3control"])
    def test_non_client_raises_type_error(self, not_a_client):
        with pytest.raises(TypeError):
            patch_client(not_a_client)


# --------------------------------------------------------------- unserved operations


class TestUnservedOperations:
    def test_unserved_operation_raises_unsupported_operation_error(self, network_spy):
        with mock_s3batch(), pytest.raises(UnsupportedOperationError) as raised:
            s3control().get_public_access_block(AccountId=ACCOUNT)
        assert isinstance(raised.value, S3BatchMockError)
        assert "GetPublicAccessBlock" in str(raised.value)
        assert network_spy == []

    def test_unserved_operation_never_reaches_the_socket(self):
        # No spy here: if it were sent, the conftest's socket guard would raise instead.
        with mock_s3batch(), pytest.raises(UnsupportedOperationError):
            s3control().list_access_points(AccountId=ACCOUNT)

    def test_unserved_operation_does_not_break_served_ones(self):
        with mock_s3batch() as batch:
            client = s3control()
            with pytest.raises(UnsupportedOperationError):
                client.get_public_access_block(AccountId=ACCOUNT)
            job_id = csv_manifest_job(client, "etag")
            assert job_ids(batch) == [job_id]


# --------------------------------------------------------------------------- moto


def _exercise_both_mocks() -> S3Batch:
    """Inside both mocks: s3batch_mock serves the job API, moto serves the rest."""
    batch = current_batch()
    client = s3control()
    job_id = csv_manifest_job(client, "etag")
    assert client.describe_job(AccountId=ACCOUNT, JobId=job_id)["Job"]["JobId"] == job_id
    assert job_ids(batch) == [job_id]
    assert operations(batch) == ["CreateJob", "DescribeJob"]

    with pytest.raises(client.exceptions.NoSuchPublicAccessBlockConfiguration):
        client.get_public_access_block(AccountId=ACCOUNT)
    # Served by moto, so not recorded as one of ours.
    assert operations(batch) == ["CreateJob", "DescribeJob"]

    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="moto-bucket")
    s3.put_object(Bucket="moto-bucket", Key="k", Body=b"body")
    assert s3.get_object(Bucket="moto-bucket", Key="k")["Body"].read() == b"body"
    return batch


class TestMotoCoexistence:
    # The hook is registered on `before-send.s3-control`, a more specific event than
    # moto's generic `before-send`; botocore calls more specific handlers first, so the
    # mock answers the job API before moto sees the request, whichever was imported or
    # activated first. This module imports s3batch_mock before moto (the usual order);
    # `test_moto_imported_first` covers the other order in a fresh interpreter.

    def test_mock_aws_outside(self, network_spy):
        with mock_aws(), mock_s3batch():
            _exercise_both_mocks()
        assert network_spy == []

    def test_mock_s3batch_outside(self, network_spy):
        with mock_s3batch(), mock_aws():
            _exercise_both_mocks()
        assert network_spy == []

    def test_decorators_mock_aws_outermost(self, network_spy):
        @mock_aws
        @mock_s3batch
        def scenario() -> None:
            _exercise_both_mocks()

        scenario()
        assert network_spy == []

    def test_decorators_mock_s3batch_outermost(self, network_spy):
        @mock_s3batch
        @mock_aws
        def scenario() -> None:
            _exercise_both_mocks()

        scenario()
        assert network_spy == []

    @pytest.mark.parametrize("s3batch_outside", [True, False])
    def test_environment_restored_after_both(self, s3batch_outside, monkeypatch):
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "user-key")
        before = dict(os.environ)
        mocks: list[Any] = [mock_s3batch(), mock_aws()]
        if not s3batch_outside:
            mocks.reverse()
        with mocks[0], mocks[1]:
            assert os.environ["AWS_ACCESS_KEY_ID"] != "user-key"
        assert dict(os.environ) == before

    def test_unserved_operation_without_moto_still_raises_after_moto_exits(self):
        with mock_s3batch():
            with mock_aws():
                pass
            with pytest.raises(UnsupportedOperationError):
                s3control().get_public_access_block(AccountId=ACCOUNT)

    @pytest.mark.slow
    def test_moto_imported_first(self):
        script = f"""
import botocore.httpsession

def refuse(self, request):
    raise SystemExit("reached the network: " + request.url)

botocore.httpsession.URLLib3Session.send = refuse

import moto  # before s3batch_mock
from moto import mock_aws
import boto3
from s3batch_mock import current_batch, mock_s3batch

with mock_aws(), mock_s3batch():
    client = boto3.client("s3control", region_name="us-east-1")
    job_id = client.create_job(
        AccountId="{ACCOUNT}",
        ConfirmationRequired=False,
        Operation={{"S3PutObjectTagging": {{"TagSet": []}}}},
        Report={{"Enabled": False}},
        Manifest={{
            "Spec": {{"Format": "S3BatchOperations_CSV_20180820", "Fields": ["Bucket", "Key"]}},
            "Location": {{"ObjectArn": "arn:aws:s3:::m/m.csv", "ETag": "e"}},
        }},
        Priority=1,
        RoleArn="arn:aws:iam::{ACCOUNT}:role/r",
    )["JobId"]
    assert [j.job_id for j in current_batch().jobs()] == [job_id]
    try:
        client.get_public_access_block(AccountId="{ACCOUNT}")
    except client.exceptions.NoSuchPublicAccessBlockConfiguration:
        pass
    else:
        raise AssertionError("moto did not serve GetPublicAccessBlock")
print("ok")
"""
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("AWS_") or key in AWS_CONFIG_FILE_VARIABLES
        }
        env["AWS_EC2_METADATA_DISABLED"] = "true"
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
        result = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "ok"


# --------------------------------------------------------------------------- calls


class TestCalls:
    def test_successful_calls_are_recorded(self):
        with mock_s3batch() as batch:
            client = s3control()
            job_id = csv_manifest_job(client, "etag")
            client.describe_job(AccountId=ACCOUNT, JobId=job_id)
            create, describe = batch.calls
        assert create.operation == "CreateJob"
        assert create.params["AccountId"] == ACCOUNT
        assert create.params["Priority"] == 10
        assert create.http_status == 200
        assert create.error_code is None
        assert describe.operation == "DescribeJob"
        assert describe.params["AccountId"] == ACCOUNT
        assert describe.params["JobId"] == job_id
        assert describe.http_status == 200
        assert describe.error_code is None

    def test_failed_call_is_recorded_with_status_and_code(self):
        with mock_s3batch() as batch:
            client = s3control()
            with pytest.raises(client.exceptions.NotFoundException):
                client.describe_job(AccountId=ACCOUNT, JobId=UNKNOWN_JOB_ID)
            (call,) = batch.calls
        assert call.operation == "DescribeJob"
        assert call.params["JobId"] == UNKNOWN_JOB_ID
        assert call.params["AccountId"] == ACCOUNT
        assert call.http_status == 400
        assert call.error_code == "NotFoundException"

    def test_calls_is_a_copy(self):
        with mock_s3batch() as batch:
            csv_manifest_job(s3control(), "etag")
            batch.calls.clear()
            assert operations(batch) == ["CreateJob"]


# --------------------------------------------------------------------------- threads


class TestThreads:
    def test_threads_share_one_mock(self):
        threads, per_thread = 8, 20
        barrier = threading.Barrier(threads)

        def worker(index: int) -> list[str]:
            client = boto3.session.Session().client("s3control", region_name="us-east-1")
            barrier.wait(timeout=30)
            return [
                csv_manifest_job(client, "etag", Description=f"t{index}-{n}")
                for n in range(per_thread)
            ]

        with mock_s3batch() as batch:
            with ThreadPoolExecutor(max_workers=threads) as pool:
                results = list(pool.map(worker, range(threads)))
            ids = [job_id for result in results for job_id in result]
            assert len(ids) == threads * per_thread
            assert len(set(ids)) == threads * per_thread
            assert len(batch.jobs()) == threads * per_thread
            assert set(job_ids(batch)) == set(ids)
            assert operations(batch).count("CreateJob") == threads * per_thread


def test_public_names_are_exported():
    for name in ("mock_s3batch", "patch_client", "current_batch", "S3Batch"):
        assert hasattr(s3batch_mock, name)
