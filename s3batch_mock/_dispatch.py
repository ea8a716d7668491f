"""One request in, one response out: parse (wire), handle (service), render (wire).

The botocore hook and the HTTP server both call ``respond``; every served call is
recorded in the backend's call list, successes and errors alike.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from ._backend import Backend, Call
from ._errors import S3ControlError, invalid_input
from ._service import SERVED_OPERATIONS, handle
from .wire import (
    HttpRequest,
    HttpResponse,
    ParsedRequest,
    UnknownRoute,
    new_request_id,
    operation_for,
    parse_request,
    render_error,
    render_result,
)

__all__ = ["Unserved", "not_served", "respond"]


class Unserved(Exception):
    """A valid s3control request for an operation the mock does not serve."""

    def __init__(self, operation: str) -> None:
        super().__init__(operation)
        self.operation = operation


def not_served(exc: Unserved | UnknownRoute) -> str:
    """What the hook and the server say about a request the mock does not serve."""
    what = exc.operation if isinstance(exc, Unserved) else f"request {exc}"
    return (
        f"s3batch_mock does not serve s3control {what}; it serves the S3 Batch "
        f"Operations job calls ({', '.join(sorted(SERVED_OPERATIONS))})."
    )


def respond(backend: Backend, request: HttpRequest) -> HttpResponse:
    """Answer one s3control HTTP request from ``backend``.

    Raises ``wire.UnknownRoute`` for a path no s3control operation has, and
    ``Unserved`` for an s3control operation other than the eight job calls.
    """
    try:
        parsed = parse_request(request)
    except UnknownRoute:
        operation = _with_empty_label(request)
        if operation is None:
            raise
        error = invalid_input(
            operation,
            f"{operation}: a path parameter (JobId) is empty; it must be 5-36 characters "
            "of letters, digits, '-' and '_'.",
        )
        backend.record(Call(operation, {}, error.http_status, error.code))
        return render_error(error, new_request_id())
    except S3ControlError as error:
        # The route matched, so the operation is known, but its input is unreadable.
        operation = operation_for(request.method, request.url)
        if operation not in SERVED_OPERATIONS:
            raise Unserved(operation) from None
        backend.record(Call(operation, {}, error.http_status, error.code))
        return render_error(error, new_request_id())
    if parsed.operation not in SERVED_OPERATIONS:
        raise Unserved(parsed.operation)
    return respond_parsed(backend, parsed)


def _with_empty_label(request: HttpRequest) -> str | None:
    """The served operation a path addresses once its empty segments are filled in.

    With botocore's ``parameter_validation=False`` an empty ``JobId`` is sent as is:
    ``/v20180820/jobs/`` or ``/v20180820/jobs//tagging``, which no route matches. Such
    a request is a job call with a malformed parameter, answered with its modeled error.
    """
    path = urlsplit(request.url).path
    segments = path.split("/")
    if "" not in segments[1:]:
        return None
    filled = "/".join([segments[0], *(segment or "-" for segment in segments[1:])])
    try:
        operation = operation_for(request.method, filled)
    except UnknownRoute:
        return None
    return operation if operation in SERVED_OPERATIONS else None


def respond_parsed(backend: Backend, parsed: ParsedRequest) -> HttpResponse:
    """Handle a parsed request and render the result or the modeled error.

    Injected latency and errors (``batch.inject_latency``/``inject_error``) come first,
    answered exactly as the service's own would be.
    """
    delay = backend.faults.delay_for(parsed.operation)
    if delay:
        time.sleep(delay)
    try:
        injected = backend.faults.error_for(parsed.operation)
        if injected is not None:
            raise injected
        result = handle(backend, parsed)
    except S3ControlError as error:
        response = render_error(error, parsed.request_id)
        backend.record(Call(parsed.operation, parsed.params, error.http_status, error.code))
        return response
    response = render_result(parsed.operation, result, parsed.request_id)
    backend.record(Call(parsed.operation, parsed.params, response.status, None))
    return response
