"""The controller: what ``with mock_s3batch() as batch`` and the ``s3batch`` fixture give."""

from __future__ import annotations

from ._backend import Backend, Call
from ._jobs import Job
from ._stores import EmbeddedStore

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
    def objects(self) -> EmbeddedStore:
        """The object store jobs read manifests from."""
        return self._backend.store

    @property
    def calls(self) -> list[Call]:
        """Every intercepted s3control call, in order (a copy)."""
        with self._backend.lock:
            return list(self._backend.calls)

    def reset(self) -> None:
        """Drop all jobs, objects of the embedded store and recorded calls."""
        self._backend.reset()
