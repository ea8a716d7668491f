"""The settings of a mock scope: every keyword of ``mock_s3batch``, checked when given.

Every number is checked where it is given, never where it is first used: a value that
would make the clock arithmetic overflow (``datetime + timedelta(seconds=1e12)``) or
a sleep fail (``time.sleep(inf)``) is refused at construction with a message naming
the setting, its range and the value, so no later call can fail because of it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, get_args

__all__ = [
    "MAX_COUNT",
    "MAX_LATENCY_SECONDS",
    "MAX_STEP_SECONDS",
    "PROGRESSIONS",
    "Progression",
    "Settings",
    "check_count",
    "check_seconds",
]

#: How jobs move by themselves (docs/lifecycle.md, "Progression modes").
Progression = Literal["poll", "manual", "clock"]
PROGRESSIONS: tuple[Progression, ...] = get_args(Progression)

#: The longest ``step_seconds``: one year keeps every step and deadline far inside
#: ``datetime``'s range (year 9999) whatever the clock says.
MAX_STEP_SECONDS = 365 * 24 * 3600.0
#: The longest injected latency: an hour is far past any client's read timeout.
MAX_LATENCY_SECONDS = 3600.0
#: The largest count-like setting (``max_active_jobs``, ``tasks_per_step``, and
#: ``inject_error``/``inject_latency`` counts).
MAX_COUNT = 10**9


@dataclass(frozen=True)
class Settings:
    """How a mock scope behaves; validated when the mock is created, not when used.

    Ranges: ``step_seconds`` greater than 0 and at most ``MAX_STEP_SECONDS`` (one
    year); ``max_active_jobs`` None or 1 to ``MAX_COUNT``; ``tasks_per_step`` 1 to
    ``MAX_COUNT``. NaN, infinities and bools are refused.
    """

    progression: Progression = "poll"
    step_seconds: float = 1.0
    max_active_jobs: int | None = None
    tasks_per_step: int = 1000
    #: Let botocore requests for other services reach AWS's own endpoints while the
    #: mock is active (refused by default: see docs/usage.md, "No call reaches AWS").
    allow_real_aws: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.allow_real_aws, bool):
            raise TypeError(f"allow_real_aws must be True or False, not {self.allow_real_aws!r}")
        if self.progression not in PROGRESSIONS:
            raise ValueError(
                f"progression must be one of {', '.join(map(repr, PROGRESSIONS))}, "
                f"not {self.progression!r}"
            )
        check_seconds("step_seconds", self.step_seconds, MAX_STEP_SECONDS, zero=False)
        if self.max_active_jobs is not None:
            check_count("max_active_jobs", self.max_active_jobs, none="an int or None")
        check_count("tasks_per_step", self.tasks_per_step)


def check_seconds(name: str, value: object, maximum: float, *, zero: bool) -> float:
    """``value`` as a finite number of seconds in ``[0, maximum]`` (``(0, maximum]``
    unless ``zero``); ``TypeError`` for a non-number or a bool, ``ValueError`` else."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number, not {value!r}")
    if isinstance(value, float) and math.isnan(value):  # (an int may not fit a float)
        raise ValueError(f"{name} must be a number of seconds, not {value!r}")
    if zero and not value >= 0:
        raise ValueError(f"{name} must be 0 or more, not {value!r}")
    if not zero and not value > 0:
        raise ValueError(f"{name} must be greater than 0, not {value!r}")
    if value > maximum:  # compared as it is: an int too large for a float is no error here
        raise ValueError(f"{name} must be a finite number of at most {maximum:g}, not {value!r}")
    return float(value)


def check_count(name: str, value: object, *, none: str = "an int") -> int:
    """``value`` as an int from 1 to ``MAX_COUNT``; ``TypeError`` for a non-int or a
    bool (``none`` names what else is accepted), ``ValueError`` out of range."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be {none}, not {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be at least 1, not {value!r}")
    if value > MAX_COUNT:
        raise ValueError(f"{name} must be at most {MAX_COUNT:_}, not {value!r}")
    return value
