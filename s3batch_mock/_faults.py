"""Fault injection: errors and latency a test asks for, answered like AWS's own.

An injected error is rendered by the wire layer exactly as a real one, so botocore's
retry logic, exception classes and ``batch.calls`` treat it as they would AWS's:
``TooManyRequestsException`` is HTTP 400 and ``InternalServiceException`` HTTP 500,
the statuses botocore's retry modes key on.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

from ._errors import S3ControlError

__all__ = ["DEFAULT_STATUS", "Faults"]

#: HTTP statuses of the codes S3 Control models (design section 5).
DEFAULT_STATUS = {"InternalServiceException": 500, "InternalError": 500, "ServiceUnavailable": 503}


@dataclass
class _ErrorRule:
    code: str
    http_status: int
    message: str
    remaining: int | None  # None: until reset, at ``rate``
    rate: float | None
    chance: random.Random


@dataclass
class _LatencyRule:
    seconds: float
    remaining: int | None


class Faults:
    """The errors and delays planned per operation, consumed as calls arrive."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._errors: dict[str, list[_ErrorRule]] = {}
        self._latency: dict[str, list[_LatencyRule]] = {}

    def add_error(
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
        if rate is not None and not 0 <= rate <= 1:
            raise ValueError(f"rate must be between 0 and 1, not {rate!r}")
        given: object = count
        if rate is None and (isinstance(given, bool) or not isinstance(given, int) or count < 1):
            raise ValueError(f"count must be a positive int, not {count!r}")
        if not code or not code.isidentifier():
            raise ValueError(
                f"code must be an error code such as 'TooManyRequestsException', not {code!r}"
            )
        status = DEFAULT_STATUS.get(code, 400) if http_status is None else http_status
        if not 400 <= status <= 599:
            raise ValueError(f"http_status must be an error status (400-599), not {status!r}")
        rule = _ErrorRule(
            code=code,
            http_status=status,
            message=message or f"Injected by s3batch_mock: {code} for {operation}.",
            remaining=None if rate is not None else count,
            rate=rate,
            chance=random.Random(seed),
        )
        with self._lock:
            self._errors.setdefault(operation, []).append(rule)

    def add_latency(self, operation: str, seconds: float, *, count: int | None = None) -> None:
        given: object = seconds
        if isinstance(given, bool) or not isinstance(given, int | float):
            raise TypeError(f"seconds must be a number, not {seconds!r}")
        if not seconds >= 0:
            raise ValueError(f"seconds must be 0 or more, not {seconds!r}")
        times: object = count
        if times is not None and (isinstance(times, bool) or not isinstance(times, int)):
            raise TypeError(f"count must be an int or None, not {count!r}")
        if count is not None and count < 1:
            raise ValueError(f"count must be at least 1 (or None for every call), not {count!r}")
        with self._lock:
            self._latency.setdefault(operation, []).append(_LatencyRule(seconds, count))

    def error_for(self, operation: str) -> S3ControlError | None:
        """The error this call of ``operation`` must fail with, if any (consumes it)."""
        with self._lock:
            rules = self._errors.get(operation, [])
            for rule in rules:
                if rule.remaining is None:  # a rate: this call may pass
                    assert rule.rate is not None
                    if rule.chance.random() >= rule.rate:
                        continue
                else:
                    rule.remaining -= 1
                    if rule.remaining == 0:
                        rules.remove(rule)  # safe: the loop ends here
                return S3ControlError(rule.message, code=rule.code, http_status=rule.http_status)
        return None

    def delay_for(self, operation: str) -> float:
        """Seconds to wait before answering this call (consumes counted rules)."""
        with self._lock:
            rules = self._latency.get(operation, [])
            total = 0.0
            for rule in list(rules):
                total += rule.seconds
                if rule.remaining is not None:
                    rule.remaining -= 1
                    if rule.remaining == 0:
                        rules.remove(rule)
            return total

    def clear(self) -> None:
        with self._lock:
            self._errors.clear()
            self._latency.clear()
