"""The controller: what ``with mock_s3batch() as batch`` and the ``s3batch`` fixture give."""

from __future__ import annotations

from ._backend import Backend, Call
from ._errors import MockEndedError, ended_message
from ._jobs import Job
from ._service import SERVED_OPERATIONS
from .execution import Handler
from .stores import Objects, ObjectsFace

__all__ = ["MockEndedError", "S3Batch"]


class S3Batch:
    """Inspect and drive the jobs of the active mock scope.

    Once the outermost scope that made it has ended (the ``with`` block, the decorated
    test, the fixture or the last ``stop()``), its state is discarded and every member
    raises ``MockEndedError`` (a ``RuntimeError``): nothing is read from, or written
    into, a mock that no longer serves anything.
    """

    def __init__(self, backend: Backend) -> None:
        self._backend = backend

    def __repr__(self) -> str:
        if self._backend.ended:  # a repr never raises
            return f"<S3Batch {self._backend.settings} ended>"
        # A repr must not move jobs: count them as they are.
        jobs = len(self._backend.snapshots(settle=False))
        return f"<S3Batch {self._backend.settings} jobs={jobs}>"

    def _live(self) -> Backend:
        """The backend, or ``MockEndedError`` once its scope has ended."""
        if self._backend.ended:
            raise MockEndedError(ended_message("this s3batch_mock controller"))
        return self._backend

    def job(self, job_id: str) -> Job:
        """A snapshot of one job. ``KeyError`` for an unknown id."""
        return self._live().snapshot(job_id)

    def jobs(self) -> list[Job]:
        """Snapshots of every job of every account and region, oldest first."""
        return self._live().snapshots()

    def step(self, job_id: str) -> str:
        """Take one automatic transition; returns the new status (unchanged at rest)."""
        return self._live().step(job_id)

    def run(self, job_id: str | None = None) -> None:
        """Advance one job, or every job, until it rests (terminal or awaiting confirmation)."""
        self._live().run(job_id)

    @property
    def objects(self) -> Objects:
        """The active object store's public face: moto's S3 while mock_aws is active,
        else the embedded store (``create_bucket``, ``put``, ``get``, ``keys``,
        ``get_tags``, ``head``)."""
        return ObjectsFace(self._live().store)

    def register_lambda(self, function_arn: str, handler: Handler) -> None:
        """Serve LambdaInvoke jobs naming ``function_arn`` with ``handler(event, context)``.

        ``function_arn`` may be a full ARN, a partial ARN or a name, with or without a
        qualifier; the handler gets the real S3 Batch event (schema 1.0 or 2.0) and
        returns the real response shape.
        """
        self._live().lambdas.register(function_arn, handler)

    def inject_error(
        self,
        operation: str,
        code: str,
        *,
        count: int = 1,
        rate: float | None = None,
        seed: int | None = None,
        message: str | None = None,
        http_status: int | None = None,
    ) -> None:
        """Make the next ``count`` calls of ``operation`` fail with error ``code``.

        With ``rate`` (0-1) instead, each call fails with that probability, the same
        sequence for the same ``seed``, until ``reset()``. The HTTP status defaults to
        AWS's: 500 for InternalServiceException, 400 for the rest, so botocore's
        retries behave as against AWS.

        Checked here, not when a call arrives: ``count`` 1 to 10**9, ``rate`` 0-1,
        ``seed`` an int, ``http_status`` 400-599, and ``message`` at most 1024
        characters of text XML 1.0 and UTF-8 can carry (``ValueError`` otherwise).
        """
        _check_operation(operation)
        self._live().faults.add_error(
            operation,
            code,
            count=count,
            rate=rate,
            seed=seed,
            message=message,
            http_status=http_status,
        )

    def inject_latency(self, operation: str, seconds: float, *, count: int | None = None) -> None:
        """Delay the next ``count`` calls of ``operation`` (every call if None) by ``seconds``.

        ``seconds`` is a finite number from 0 to 3600 (an hour); ``count`` from 1.
        """
        _check_operation(operation)
        self._live().faults.add_latency(operation, seconds, count=count)

    @property
    def calls(self) -> list[Call]:
        """Every intercepted s3control call, in order (a copy)."""
        backend = self._live()
        with backend.lock:
            return list(backend.calls)

    def reset(self) -> None:
        """Drop all jobs, objects of the embedded store, lambdas, injected faults and calls."""
        self._live().reset()


def _check_operation(operation: str) -> None:
    if operation not in SERVED_OPERATIONS:
        raise ValueError(
            f"{operation!r} is not an operation the mock serves; use one of "
            f"{', '.join(sorted(SERVED_OPERATIONS))}"
        )
