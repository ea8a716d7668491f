"""The controller: what ``with mock_s3batch() as batch`` and the ``s3batch`` fixture give."""

from __future__ import annotations

from ._backend import Backend, Call
from ._jobs import Job
from ._lambdas import Handler
from ._stores import ObjectStore

__all__ = ["S3Batch"]


class S3Batch:
    """Inspect and drive the jobs of the active mock scope.

    It stays readable after its scope ends, as a record of what happened.
    """

    def __init__(self, backend: Backend) -> None:
        self._backend = backend

    def __repr__(self) -> str:
        return f"<S3Batch {self._backend.settings} jobs={len(self.jobs())}>"

    def job(self, job_id: str) -> Job:
        """A snapshot of one job. ``KeyError`` for an unknown id."""
        return self._backend.snapshot(job_id)

    def jobs(self) -> list[Job]:
        """Snapshots of every job of every account and region, oldest first."""
        return self._backend.snapshots()

    def step(self, job_id: str) -> str:
        """Take one automatic transition; returns the new status (unchanged at rest)."""
        return self._backend.step(job_id)

    def run(self, job_id: str | None = None) -> None:
        """Advance one job, or every job, until it rests (terminal or awaiting confirmation)."""
        self._backend.run(job_id)

    @property
    def objects(self) -> ObjectStore:
        """The active object store: moto's S3 while mock_aws is active, else the embedded one."""
        return self._backend.store

    def register_lambda(self, function_arn: str, handler: Handler) -> None:
        """Serve LambdaInvoke jobs naming ``function_arn`` with ``handler(event, context)``.

        ``function_arn`` may be a full ARN, a partial ARN or a name, with or without a
        qualifier; the handler gets the real S3 Batch event (schema 1.0 or 2.0) and
        returns the real response shape.
        """
        self._backend.lambdas.register(function_arn, handler)

    @property
    def calls(self) -> list[Call]:
        """Every intercepted s3control call, in order (a copy)."""
        with self._backend.lock:
            return list(self._backend.calls)

    def reset(self) -> None:
        """Drop all jobs, objects of the embedded store, lambdas and recorded calls."""
        self._backend.reset()
