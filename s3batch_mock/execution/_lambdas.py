"""LambdaInvoke: the user's Python handlers, called with the real S3 Batch event.

Event and response shapes follow the S3 User Guide (batch-ops-invoke-lambda) and
the Lambda Developer Guide (services-s3-batch): one task per invocation; schema 1.0
sends ``s3BucketArn``, schema 2.0 sends ``s3Bucket`` and the job's ``userArguments``.
The handler answers ``Succeeded``, ``TemporaryFailure`` (retried) or
``PermanentFailure`` per task; a task it leaves out is treated as
``treatMissingKeysAs`` (``PermanentFailure`` by default).
"""

from __future__ import annotations

import base64
import json
import re
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

from ._manifests import key_bytes

__all__ = ["MAX_ATTEMPTS", "LambdaContext", "LambdaRegistry", "invoke"]

#: Attempts for a task the handler answers with TemporaryFailure (the first included).
MAX_ATTEMPTS = 3
_RESULT_CODES = ("Succeeded", "TemporaryFailure", "PermanentFailure")
# A name, a partial ARN (123456789012:function:name) or a full ARN, each with an
# optional version or alias qualifier: the forms FunctionArn accepts.
_FUNCTION = re.compile(
    r"^(?:arn:[^:]+:lambda:[^:]*:)?(?:\d{12}:)?(?:function:)?"
    r"(?P<name>[A-Za-z0-9_-]+)(?::(?P<qualifier>\$LATEST|[A-Za-z0-9_-]+))?$"
)

Handler = Callable[[dict[str, Any], "LambdaContext"], Any]


@dataclass(frozen=True)
class LambdaContext:
    """The parts of Lambda's context object handlers commonly read."""

    function_name: str
    invoked_function_arn: str
    aws_request_id: str
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 128

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


def _function_key(arn: str) -> tuple[str, str | None]:
    """(name, qualifier) of a function ARN, partial ARN or name."""
    found = _FUNCTION.match(arn)
    if found is None:
        return arn, None
    return found["name"], found["qualifier"]


class LambdaRegistry:
    """Handlers registered with ``batch.register_lambda``, found by name and qualifier."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._handlers: dict[tuple[str, str | None], Handler] = {}

    def register(self, function_arn: str, handler: Handler) -> None:
        if not callable(handler):
            raise TypeError(f"handler must be callable, not {handler!r}")
        if _FUNCTION.match(function_arn) is None:
            raise ValueError(
                f"{function_arn!r} is not a Lambda function name or ARN "
                "(e.g. arn:aws:lambda:us-east-1:123456789012:function:my-function)"
            )
        with self._lock:
            self._handlers[_function_key(function_arn)] = handler

    def find(self, function_arn: str) -> Handler | None:
        name, qualifier = _function_key(function_arn)
        with self._lock:
            for candidate in ((name, qualifier), (name, None), (name, "$LATEST")):
                if candidate in self._handlers:
                    return self._handlers[candidate]
            return None

    def names(self) -> list[str]:
        with self._lock:
            return [name + (f":{q}" if q else "") for name, q in self._handlers]

    def clear(self) -> None:
        with self._lock:
            self._handlers.clear()


@dataclass(frozen=True)
class LambdaResult:
    succeeded: bool
    http_status: int
    error_code: str
    message: str


def invoke(
    registry: LambdaRegistry,
    operation: Mapping[str, Any],
    job_id: str,
    bucket: str,
    key: str,
    version_id: str | None,
) -> LambdaResult:
    """Run one task through the registered handler, retrying TemporaryFailure."""
    function_arn = operation["FunctionArn"]
    handler = registry.find(function_arn)
    if handler is None:
        known = ", ".join(registry.names()) or "none"
        return LambdaResult(
            False,
            404,
            "ResourceNotFoundException",
            f"Function not found: {function_arn}. Register a handler with "
            f"batch.register_lambda({function_arn!r}, handler) (registered: {known}).",
        )
    schema = operation.get("InvocationSchemaVersion", "1.0")
    task_id = base64.b64encode(uuid.uuid4().bytes).decode("ascii").rstrip("=")
    name, qualifier = _function_key(function_arn)
    result = LambdaResult(False, 200, "TemporaryFailure", "")
    for _ in range(MAX_ATTEMPTS):
        invocation_id = base64.b64encode(uuid.uuid4().bytes).decode("ascii")
        event = _event(schema, invocation_id, job_id, task_id, bucket, key, version_id, operation)
        context = LambdaContext(
            function_name=name,
            invoked_function_arn=function_arn,
            aws_request_id=str(uuid.uuid4()),
            function_version=qualifier or "$LATEST",
        )
        try:
            response = handler(event, context)
        except Exception as exc:  # the user's handler failing is a task outcome
            error = {"errorMessage": _exception_text(exc), "errorType": type(exc).__name__}
            return LambdaResult(
                False,
                200,
                "PermanentFailure",
                f"Lambda returned function error: {json.dumps(error)}",
            )
        result = _read_response(response, task_id)
        if result.error_code != "TemporaryFailure":
            return result
    return result


def _event(
    schema: str,
    invocation_id: str,
    job_id: str,
    task_id: str,
    bucket: str,
    key: str,
    version_id: str | None,
    operation: Mapping[str, Any],
) -> dict[str, Any]:
    # Keys reach the function URL-encoded, as the User Guide's examples decode them
    # with unquote_plus.
    task: dict[str, Any] = {"taskId": task_id, "s3Key": quote_plus(key_bytes(key), safe="/")}
    task["s3VersionId"] = version_id
    job: dict[str, Any] = {"id": job_id}
    if schema == "2.0":
        task["s3Bucket"] = bucket
        job["userArguments"] = dict(operation.get("UserArguments") or {})
    else:
        task["s3BucketArn"] = f"arn:aws:s3:::{bucket}"
    return {
        "invocationSchemaVersion": schema,
        "invocationId": invocation_id,
        "job": job,
        "tasks": [task],
    }


def _read_response(response: Any, task_id: str) -> LambdaResult:
    def invalid(why: str) -> LambdaResult:
        return LambdaResult(
            False, 200, "PermanentFailure", f"Lambda returned an invalid response: {why}"
        )

    if not isinstance(response, Mapping):
        return invalid(f"expected a JSON object, got {type(response).__name__}")
    results = response.get("results")
    if not isinstance(results, list):
        return invalid("it has no 'results' list")
    missing = response.get("treatMissingKeysAs", "PermanentFailure")
    if missing not in _RESULT_CODES:
        return invalid(f"treatMissingKeysAs is {missing!r}, not one of {', '.join(_RESULT_CODES)}")
    mine = [r for r in results if isinstance(r, Mapping) and r.get("taskId") == task_id]
    code: Any = missing
    message: Any = f"The function returned no result for task {task_id}"
    if mine:
        code, message = mine[0].get("resultCode"), mine[0].get("resultString", "")
    if code not in _RESULT_CODES:
        return invalid(f"resultCode is {code!r}, not one of {', '.join(_RESULT_CODES)}")
    try:  # the handler's own object: anything may fail in it (Lambda's MarshalError)
        text = message if isinstance(message, str) else json.dumps(message, default=str)
    except Exception as exc:
        return invalid(f"resultString cannot be written as JSON: {_exception_text(exc)}")
    if code == "Succeeded":
        return LambdaResult(True, 200, "", text)
    return LambdaResult(False, 200, code, text)


def _exception_text(exc: BaseException) -> str:
    """``str(exc)``, or a stand-in when the handler's exception cannot even say that."""
    try:
        return str(exc)
    except Exception:
        return f"<{type(exc).__name__} whose str() failed>"
