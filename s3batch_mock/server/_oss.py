"""The Alibaba Cloud OSS dialect's way into the server application.

``answer_oss`` takes any request the application receives and answers it when it
speaks OSS: the five batch-job calls (``/?batchJob``, ``?batchJobStatus``,
``?batchJobPriority``, whatever the Host, origin or absolute form) through
``s3batch_mock._oss`` on the one backend, and OSS object calls (OSS-signed, with an
``x-oss-`` header, or sent to an ``*.aliyuncs.com`` host) through
``_oss_objects`` on the object store the jobs use. Anything else is left to the
application's other routes (None).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO

from s3batch_mock import _oss
from s3batch_mock._backend import Backend
from s3batch_mock.wire import HttpResponse
from s3batch_mock.wire._oss import is_job_call, is_oss_request

from ._http import wire_request
from ._oss_objects import OssObjectRequest, serve_oss_object
from ._s3_api import StreamingResponse

__all__ = ["answer_oss"]


def answer_oss(
    backend: Backend,
    method: str,
    host: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: IO[bytes],
    server_hosts: frozenset[str],
) -> HttpResponse | StreamingResponse | None:
    """The answer to an OSS request, or None for a request that is not one.

    ``host``, ``path`` and ``query`` as the request names them (raw); ``headers`` with
    lower-case names; ``body`` the request's body stream.
    """
    if is_job_call(path, query):
        return _oss.respond(backend, wire_request(method, host, path, query, headers, body))
    if not is_oss_request(headers, host, query):
        return None
    request = OssObjectRequest(method, host, path, query, headers, body)
    return serve_oss_object(backend.store, request, server_hosts)
