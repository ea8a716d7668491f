"""Job statuses and the rules for moving between them.

Sources: the status table of the S3 User Guide (batch-ops-job-status) and the choices
of design section 5 where AWS is silent. Nothing here touches objects or time; the
job record (``_jobs``) applies these rules.
"""

from __future__ import annotations

from ._errors import JobStatusError

__all__ = [
    "ACTIVE",
    "ALLOWED",
    "AT_REST",
    "CANCELLED",
    "CANCELLING",
    "COMPLETE",
    "COMPLETING",
    "FAILED",
    "FAILING",
    "NEW",
    "OCCUPYING",
    "PAUSED",
    "PAUSING",
    "PREPARING",
    "READY",
    "SUSPENDED",
    "TERMINAL",
    "WAITING",
    "requested_status",
]

NEW = "New"
PREPARING = "Preparing"
SUSPENDED = "Suspended"
READY = "Ready"
ACTIVE = "Active"
PAUSING = "Pausing"
PAUSED = "Paused"
COMPLETING = "Completing"
COMPLETE = "Complete"
CANCELLING = "Cancelling"
CANCELLED = "Cancelled"
FAILING = "Failing"
FAILED = "Failed"

TERMINAL = frozenset({COMPLETE, CANCELLED, FAILED})
#: A job at rest takes no automatic step: terminal, or waiting for confirmation.
AT_REST = TERMINAL | {SUSPENDED}
#: Waiting for a slot: the next automatic step makes the job Active.
WAITING = frozenset({READY, PAUSED})
#: Holding one of the ``max_active_jobs`` slots.
OCCUPYING = frozenset({ACTIVE, PAUSING})

#: Every edge a job may take, automatic or requested. Tests assert histories against it.
ALLOWED: dict[str, frozenset[str]] = {
    NEW: frozenset({PREPARING, CANCELLED}),
    PREPARING: frozenset({READY, SUSPENDED, FAILING, CANCELLED}),
    SUSPENDED: frozenset({READY, CANCELLED, FAILING}),
    READY: frozenset({ACTIVE, CANCELLED}),
    ACTIVE: frozenset({COMPLETING, FAILING, CANCELLING, PAUSING}),
    PAUSING: frozenset({PAUSED, CANCELLING}),
    PAUSED: frozenset({ACTIVE, CANCELLING}),
    COMPLETING: frozenset({COMPLETE}),
    CANCELLING: frozenset({CANCELLED}),
    FAILING: frozenset({FAILED}),
    COMPLETE: frozenset(),
    CANCELLED: frozenset(),
    FAILED: frozenset(),
}

_CANCEL_AT_ONCE = frozenset({NEW, PREPARING, SUSPENDED, READY})
_CANCEL_GRADUALLY = frozenset({ACTIVE, PAUSING, PAUSED})


def requested_status(current: str, requested: str) -> str:
    """The status an UpdateJobStatus request moves a job to, or ``JobStatusError``.

    ``Ready`` confirms a Suspended job. ``Cancelled`` ends a job that has not started
    at once, and sends a running or paused one through ``Cancelling``.
    """
    if requested == READY and current == SUSPENDED:
        return READY
    if requested == CANCELLED and current in _CANCEL_AT_ONCE:
        return CANCELLED
    if requested == CANCELLED and current in _CANCEL_GRADUALLY:
        return CANCELLING
    if requested == READY:
        hint = "only a Suspended job (one awaiting confirmation) can be confirmed"
    elif current in TERMINAL:
        hint = "the job has already ended"
    else:
        hint = f"the job is already {current.lower()} and finishes by itself"
    raise JobStatusError(
        f"Cannot change the status of a job from {current} to {requested}: {hint}."
    )
