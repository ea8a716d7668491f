"""``mock_s3batch``: decorator, context manager and ``start()``/``stop()``, one code path.

Every entry point goes through ``S3BatchMock.start`` and ``S3BatchMock.stop``. The
outermost activation creates the state and lends fake credentials; nested activations
share it; the last exit discards it and restores the user's environment exactly, down to
the credentials boto3's default session holds.
"""

from __future__ import annotations

import functools
import inspect
import os
import sys
import threading
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any, ParamSpec, TypeVar, overload

from . import _history, _hooks
from ._backend import Backend
from ._controller import S3Batch
from ._settings import Progression, Settings

__all__ = ["S3BatchMock", "current_batch", "mock_s3batch"]

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T", bound=Callable[..., Any])

#: Fake credentials lent while a mock is active (moto's convention of obvious fakes).
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


class _Scope:
    """The process-wide activation: depth, the shared backend, what to restore."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.depth = 0
        self.backend: Backend | None = None
        self.saved_env: dict[str, str | None] = {}
        self.saved_credentials: tuple[Any, Any] | None = None

    def enter(self, settings: Settings) -> Backend:
        with self.lock:
            if self.depth == 0:
                self.backend = Backend(settings)
                if _history.backends is not None:  # under pytest: for the failure report
                    _history.backends.append(self.backend)
                self.saved_env = {name: os.environ.get(name) for name in FAKE_CREDENTIALS}
                os.environ.update(FAKE_CREDENTIALS)
                self.saved_credentials = _default_credentials()
                _hooks.activate(self.backend)
            self.depth += 1
            assert self.backend is not None
            return self.backend

    def exit(self) -> None:
        with self.lock:
            self.depth -= 1
            if self.depth:
                return
            _hooks.deactivate()
            if self.backend is not None:
                self.backend.ended = True
            self.backend = None
            for name, value in self.saved_env.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            _forget_lent_credentials(self.saved_credentials)
            self.saved_credentials = None


def _default_credentials() -> tuple[Any, Any] | None:
    """boto3's default botocore session and the credentials it holds, if there is one.

    The session is kept across activations: its loaded service models make every
    ``boto3.client`` after the first cheap, and s3control is unsigned while mocked, so
    credentials it cached are no reason to drop it.
    """
    boto3 = sys.modules.get("boto3")
    session = getattr(getattr(boto3, "DEFAULT_SESSION", None), "_session", None)
    if session is None:
        return None
    return session, getattr(session, "_credentials", None)


def _forget_lent_credentials(saved: tuple[Any, Any] | None) -> None:
    """Leave boto3's default session holding the credentials it held before the mock.

    A session first asked for credentials under the mock cached the lent fakes; it
    forgets them, so code after the mock resolves the user's own again.
    """
    boto3 = sys.modules.get("boto3")
    session = getattr(getattr(boto3, "DEFAULT_SESSION", None), "_session", None)
    if session is None or not hasattr(session, "_credentials"):
        return
    before = saved[1] if saved is not None and saved[0] is session else None
    if session._credentials is not before:
        session._credentials = before


_scope = _Scope()


def current_batch() -> S3Batch:
    """The controller of the active mock, for code under a bare ``@mock_s3batch``.

    Raises ``RuntimeError`` when no mock is active.
    """
    backend = _scope.backend
    if backend is None:
        raise RuntimeError(
            "No mock_s3batch is active: call current_batch() inside a test decorated "
            "with @mock_s3batch, inside `with mock_s3batch():`, or after start()."
        )
    return S3Batch(backend)


class S3BatchMock:
    """The mock. Use it as a decorator, a context manager, or with ``start()``/``stop()``."""

    def __init__(
        self,
        *,
        progression: Progression = "poll",
        step_seconds: float = 1.0,
        max_active_jobs: int | None = None,
        tasks_per_step: int = 1000,
        allow_real_aws: bool = False,
    ) -> None:
        self.settings = Settings(
            progression, step_seconds, max_active_jobs, tasks_per_step, allow_real_aws
        )
        self._starts = 0
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"mock_s3batch({self.settings})"

    def start(self) -> S3Batch:
        """Activate the mock; returns the controller. Nested starts share one state."""
        backend = _scope.enter(self.settings)
        with self._lock:
            self._starts += 1
        return S3Batch(backend)

    def stop(self) -> None:
        """Deactivate one ``start()``. The last one discards the state."""
        with self._lock:
            if self._starts == 0:
                raise RuntimeError(
                    "mock_s3batch.stop() was called without a matching start(): "
                    "call start() first, or use it as a context manager or decorator."
                )
            self._starts -= 1
        _scope.exit()

    def __enter__(self) -> S3Batch:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __call__(self, target: T) -> T:
        """Decorate a function, coroutine function, or class (each test method)."""
        if isinstance(target, type):
            return self._decorate_class(target)  # type: ignore[return-value]
        if inspect.iscoroutinefunction(target):
            return self._decorate_coroutine(target)  # type: ignore[return-value]
        if callable(target):
            return self._decorate_function(target)  # type: ignore[return-value]
        raise TypeError(f"mock_s3batch can decorate a function or a class, not {target!r}")

    def _decorate_function(self, func: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            with self:
                return func(*args, **kwargs)

        return wrapper

    def _decorate_coroutine(
        self, func: Callable[P, Coroutine[Any, Any, R]]
    ) -> Callable[P, Coroutine[Any, Any, R]]:
        @functools.wraps(func)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            with self:
                return await func(*args, **kwargs)

        return wrapper

    def _decorate_class(self, cls: type) -> type:
        # A TestCase exists only once unittest is imported: importing it here would
        # cost every ``import s3batch_mock`` a few milliseconds for nothing.
        unittest = sys.modules.get("unittest")
        if unittest is not None and issubclass(cls, unittest.TestCase):
            test_case: Any = cls
            original_setup = test_case.setUp

            def setUp(test: Any) -> None:  # unittest's name (a unittest.TestCase)
                self.start()
                test.addCleanup(self.stop)
                original_setup(test)

            setattr(cls, "setUp", setUp)  # noqa: B010 - replaces the method on purpose
            return cls
        for name in dir(cls):  # inherited test methods too
            attribute = getattr(cls, name)
            if name.startswith("test") and inspect.isfunction(attribute):
                setattr(cls, name, self(attribute))
        if hasattr(cls, "setup_method") or hasattr(cls, "teardown_method"):
            self._cover_setup_method(cls)
        return cls

    def _cover_setup_method(self, cls: type) -> None:
        """pytest classes: ``setup_method`` and ``teardown_method`` run inside the scope."""
        original_setup = getattr(cls, "setup_method", None)
        original_teardown = getattr(cls, "teardown_method", None)

        def setup_method(test: Any, method: Any = None) -> None:
            self.start()
            try:
                if original_setup is not None:
                    _call_optional(original_setup, test, method)
            except BaseException:
                self.stop()
                raise

        def teardown_method(test: Any, method: Any = None) -> None:
            try:
                if original_teardown is not None:
                    _call_optional(original_teardown, test, method)
            finally:
                self.stop()

        cls.setup_method = setup_method  # type: ignore[attr-defined]
        cls.teardown_method = teardown_method  # type: ignore[attr-defined]


def _call_optional(func: Callable[..., Any], test: Any, method: Any) -> None:
    """Call a pytest xunit hook with ``method`` only if it takes it, as pytest does."""
    if len(inspect.signature(func).parameters) > 1:
        func(test, method)
    else:
        func(test)


@overload
def mock_s3batch(target: T, /) -> T: ...


@overload
def mock_s3batch(
    *,
    progression: Progression = "poll",
    step_seconds: float = 1.0,
    max_active_jobs: int | None = None,
    tasks_per_step: int = 1000,
    allow_real_aws: bool = False,
) -> S3BatchMock: ...


def mock_s3batch(
    target: T | None = None,
    /,
    *,
    progression: Progression = "poll",
    step_seconds: float = 1.0,
    max_active_jobs: int | None = None,
    tasks_per_step: int = 1000,
    allow_real_aws: bool = False,
) -> T | S3BatchMock:
    """Mock S3 Batch Operations' job API for boto3.

    ``@mock_s3batch`` decorates a test (function, coroutine function or class);
    ``mock_s3batch(progression="manual")`` returns a mock to use as a decorator, as
    ``with mock_s3batch() as batch:``, or through ``start()``/``stop()``.
    ``tasks_per_step`` is how many tasks an Active job runs per automatic step, so a
    polling loop sees progress grow. While the mock is active, botocore requests for
    other services whose endpoint is AWS's own are refused before any connection
    (``AWSCallRefused``) unless moto's ``mock_aws`` answers them; ``allow_real_aws=True``
    lets them through. Bad settings raise ``ValueError``/``TypeError``
    here, not at the first call.
    """
    mock = S3BatchMock(
        progression=progression,
        step_seconds=step_seconds,
        max_active_jobs=max_active_jobs,
        tasks_per_step=tasks_per_step,
        allow_real_aws=allow_real_aws,
    )
    if target is None:
        return mock
    return mock(target)
