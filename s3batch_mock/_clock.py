"""The mock's one clock, and the one way it writes times.

``now()`` is ``datetime.now(timezone.utc)`` looked up at call time, so freezegun
and time-machine control every timestamp the mock produces.
"""

from __future__ import annotations

import datetime
import functools

__all__ = ["iso8601", "now"]


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def iso8601(moment: datetime.datetime) -> str:
    """``2019-10-03T21:48:48.048Z``: UTC with milliseconds, as AWS writes times."""
    if moment.tzinfo is None:  # local time: the zone may change, so never cached
        return _iso8601(moment)
    return _iso8601_aware(moment)


@functools.lru_cache(maxsize=4096)
def _iso8601_aware(moment: datetime.datetime) -> str:
    """The same text for equal instants, whatever their zones, so it can be cached: a
    job's times are written at every DescribeJob and on every ListJobs page."""
    return _iso8601(moment)


def _iso8601(moment: datetime.datetime) -> str:
    m = moment.astimezone(datetime.UTC)
    if m.year < 1000:  # strftime's %Y, unlike isoformat, does not pad on every platform
        return m.strftime("%Y-%m-%dT%H:%M:%S.") + f"{m.microsecond // 1000:03d}Z"
    return m.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"
