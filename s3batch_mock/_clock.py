"""The mock's one clock, and the one way it writes times.

``now()`` is ``datetime.now(timezone.utc)`` looked up at call time, so freezegun
and time-machine control every timestamp the mock produces.
"""

from __future__ import annotations

import datetime

__all__ = ["iso8601", "now"]


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def iso8601(moment: datetime.datetime) -> str:
    """``2019-10-03T21:48:48.048Z``: UTC with milliseconds, as AWS writes times."""
    moment = moment.astimezone(datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
