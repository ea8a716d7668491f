"""The settings of a mock scope: every keyword of ``mock_s3batch``, checked when given."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PROGRESSIONS", "Settings"]

PROGRESSIONS = ("poll", "manual", "clock")


@dataclass(frozen=True)
class Settings:
    """How a mock scope behaves; validated when the mock is created, not when used."""

    progression: str = "poll"
    step_seconds: float = 1.0
    max_active_jobs: int | None = None
    tasks_per_step: int = 1000

    def __post_init__(self) -> None:
        if self.progression not in PROGRESSIONS:
            raise ValueError(
                f"progression must be one of {', '.join(map(repr, PROGRESSIONS))}, "
                f"not {self.progression!r}"
            )
        if isinstance(self.step_seconds, bool) or not isinstance(self.step_seconds, int | float):
            raise TypeError(f"step_seconds must be a number, not {self.step_seconds!r}")
        if not self.step_seconds > 0:
            raise ValueError(f"step_seconds must be greater than 0, not {self.step_seconds!r}")
        limit: object = self.max_active_jobs
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)):
            raise TypeError(f"max_active_jobs must be an int or None, not {limit!r}")
        if limit is not None and limit < 1:
            raise ValueError(f"max_active_jobs must be at least 1, not {limit!r}")
        pace: object = self.tasks_per_step
        if isinstance(pace, bool) or not isinstance(pace, int):
            raise TypeError(f"tasks_per_step must be an int, not {pace!r}")
        if pace < 1:
            raise ValueError(f"tasks_per_step must be at least 1, not {pace!r}")
