"""The Alibaba Cloud OSS batch-job dialect: one request in, one response out.

The OSS twin of ``_dispatch`` and ``_service``: ``wire._oss`` parses and checks the
request, the backend carries it out on the one job engine with ``dialect="oss"``
(so OSS jobs and s3control jobs never see each other), and ``wire._oss`` renders
the answer or OSS's error. Injected latency and errors (``batch.inject_latency`` /
``inject_error``) apply by operation name, as to s3control calls, and every call is
recorded in ``batch.calls`` as ``oss:<Operation>``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from ._backend import Backend, Call
from ._errors import IdempotencyError, InvalidNextToken, JobStatusError, NotFound, S3ControlError
from .wire import HttpRequest, HttpResponse
from .wire._oss import (
    OssError,
    OssRequest,
    engine_request,
    new_oss_request_id,
    oss_host_region,
    parse_request,
    render_error,
    render_result,
)

__all__ = ["DIALECT", "respond"]

DIALECT = "oss"


def respond(backend: Backend, request: HttpRequest) -> HttpResponse:
    """Answer one OSS job call (``/?batchJob``, ``?batchJobStatus``,
    ``?batchJobPriority``) from ``backend``."""
    try:
        parsed = parse_request(request)
    except OssError as error:
        request_id = new_oss_request_id()
        backend.record(Call("oss:?", {}, error.status, error.code))
        return render_error(error, request_id, _host_id(request))
    operation = parsed.operation
    delay = backend.faults.delay_for(operation)
    if delay:
        time.sleep(delay)
    try:
        injected = backend.faults.error_for(operation)
        if injected is not None:
            raise _as_oss(injected)
        result = _OPERATIONS[operation](backend, parsed)
    except OssError as error:
        backend.record(Call(f"oss:{operation}", parsed.params, error.status, error.code))
        return render_error(error, parsed.request_id, _host_id(request, parsed))
    except S3ControlError as error:
        failure = _as_oss(error)
        backend.record(Call(f"oss:{operation}", parsed.params, failure.status, failure.code))
        return render_error(failure, parsed.request_id, _host_id(request, parsed))
    backend.record(Call(f"oss:{operation}", parsed.params, 200, None))
    return render_result(operation, result, parsed.request_id)


def _host_id(request: HttpRequest, parsed: OssRequest | None = None) -> str:
    """What OSS's errors name as HostId: the endpoint the request was sent to."""
    host = parsed.host if parsed is not None else request.headers.get("host", "")
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    if parsed is not None and oss_host_region(name) is None:
        return f"oss-{parsed.region}.aliyuncs.com"
    return name or "oss-cn-hangzhou.aliyuncs.com"


def _as_oss(error: S3ControlError) -> OssError:
    """An engine error (or an injected one) in OSS's terms (oss-batch.md section 5)."""
    if isinstance(error, NotFound):
        return OssError("NoSuchJob", 404, error.message)
    if isinstance(error, JobStatusError | IdempotencyError | InvalidNextToken):
        return OssError("InvalidArgument", 400, error.message)
    if error.code in ("BadRequestException", "InvalidRequestException"):
        return OssError("InvalidArgument", 400, error.message)
    return OssError(error.code, error.http_status, error.message)


def _create(backend: Backend, parsed: OssRequest) -> dict[str, Any]:
    params = parsed.params
    token = params.get("ClientRequestToken") or f"oss-{uuid.uuid4()}"
    request = engine_request(params, token)
    return backend.create_job(parsed.account, parsed.region, request, dialect=DIALECT)


def _describe(backend: Backend, parsed: OssRequest) -> dict[str, Any]:
    return backend.describe_job(
        parsed.account, parsed.region, parsed.params["JobId"], dialect=DIALECT
    )


def _list(backend: Backend, parsed: OssRequest) -> dict[str, Any]:
    params = parsed.params
    return backend.list_jobs(
        parsed.account,
        parsed.region,
        params["Statuses"],
        params["MaxKeys"],
        params["ContinuationToken"],
        dialect=DIALECT,
    )


def _priority(backend: Backend, parsed: OssRequest) -> dict[str, Any]:
    params = parsed.params
    return backend.update_priority(
        parsed.account, parsed.region, params["JobId"], params["Priority"], dialect=DIALECT
    )


def _status(backend: Backend, parsed: OssRequest) -> dict[str, Any]:
    params = parsed.params
    return backend.update_status(
        parsed.account,
        parsed.region,
        params["JobId"],
        params["RequestedJobStatus"],
        params["StatusUpdateReason"],
        dialect=DIALECT,
    )


_OPERATIONS: dict[str, Callable[[Backend, OssRequest], dict[str, Any]]] = {
    "CreateJob": _create,
    "DescribeJob": _describe,
    "ListJobs": _list,
    "UpdateJobPriority": _priority,
    "UpdateJobStatus": _status,
}
