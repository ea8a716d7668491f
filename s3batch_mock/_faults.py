"""Fault injection: errors and latency a test asks for, answered like AWS's own.

An injected error is rendered by the wire layer exactly as a real one, so botocore's
retry logic, exception classes and ``batch.calls`` treat it as they would AWS's:
``TooManyRequestsException`` is HTTP 400 and ``InternalServiceException`` HTTP 500,
the statuses botocore's retry modes key on.
"""

from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass

from ._errors import S3ControlError
from ._settings import MAX_LATENCY_SECONDS, check_count, check_seconds
from ._text import NOT_XML

__all__ = ["DEFAULT_STATUS", "MAX_MESSAGE", "Faults", "check_message"]

#: HTTP statuses of the codes S3 Control models (design section 5).
DEFAULT_STATUS = {"InternalServiceException": 500, "InternalError": 500, "ServiceUnavailable": 503}


#: ExceptionMessage's maximum length in the S3 Control model.
MAX_MESSAGE = 1024
MAX_CODE = 128
_CODE = re.compile(rf"[A-Za-z_][A-Za-z0-9_]{{0,{MAX_CODE - 1}}}")


def check_message(message: object) -> str:
    """An injected error message the wire can carry as it is, or ``ValueError``.

    The message goes into an XML error body, so it must be text XML 1.0 allows and
    UTF-8 can encode, and at most ``MAX_MESSAGE`` characters (the model's maximum).
    """
    if not isinstance(message, str):
        raise TypeError(f"message must be a str or None, not {message!r}")
    if len(message) > MAX_MESSAGE:
        raise ValueError(
            f"message must be at most {MAX_MESSAGE} characters (the model's maximum), "
            f"not {len(message)}: {message[:40]!r}..."
        )
    bad = NOT_XML.search(message)
    if bad is not None:
        raise ValueError(
            f"message must be text XML 1.0 and UTF-8 can carry; {bad.group()!r} at "
            f"position {bad.start()} cannot be sent: {message!r}"
        )
    return message


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
        """Plan an error; every argument is checked here, so the rule can always answer."""
        if rate is not None:
            given_rate: object = rate
            if isinstance(given_rate, bool) or not isinstance(given_rate, int | float):
                raise TypeError(f"rate must be a number between 0 and 1, not {rate!r}")
            if not 0 <= rate <= 1:  # NaN fails this too
                raise ValueError(f"rate must be between 0 and 1, not {rate!r}")
        else:
            check_count("count", count, none="a positive int")
        given_seed: object = seed
        if given_seed is not None and (
            isinstance(given_seed, bool) or not isinstance(given_seed, int)
        ):
            raise TypeError(f"seed must be an int or None, not {seed!r}")
        given_code: object = code
        if not isinstance(given_code, str) or not _CODE.fullmatch(code):
            raise ValueError(
                "code must be an error code such as 'TooManyRequestsException' (ASCII "
                f"letters, digits and underscores, at most {MAX_CODE} characters), not {code!r}"
            )
        status = DEFAULT_STATUS.get(code, 400) if http_status is None else http_status
        given_status: object = status
        if isinstance(given_status, bool) or not isinstance(given_status, int):
            raise TypeError(f"http_status must be an int (400-599), not {status!r}")
        if not 400 <= status <= 599:
            raise ValueError(f"http_status must be an error status (400-599), not {status!r}")
        if message is not None:
            check_message(message)
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
        """Plan a delay of 0 to ``MAX_LATENCY_SECONDS`` (an hour) for ``count`` calls."""
        delay = check_seconds("seconds", seconds, MAX_LATENCY_SECONDS, zero=True)
        if count is not None:
            check_count("count", count, none="an int or None (every call)")
        with self._lock:
            self._latency.setdefault(operation, []).append(_LatencyRule(delay, count))

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
