"""The ``/_s3batch/...`` control endpoints: ``GET state``, ``POST reset``, ``POST run``
and ``POST step``, and who may call them.

They drive the mock itself, so a web page the developer happens to open must not reach
them: a request that carries an ``Origin`` (browsers add it to cross-origin requests)
or a ``Sec-Fetch-Site`` naming another site is refused with 403 unless it comes from a
loopback origin, and a ``Host`` that is not the server's own or loopback (DNS
rebinding) is refused too. The endpoints that change state answer only POST, which a
cross-origin page cannot send without an ``Origin``.
"""

from __future__ import annotations

import dataclasses
import datetime
import ipaddress
import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from s3batch_mock._clock import iso8601
from s3batch_mock._controller import S3Batch
from s3batch_mock.wire import HttpResponse

__all__ = ["PREFIX", "ControlEndpoints", "jsonable", "refusal"]

PREFIX = "/_s3batch/"
_ENDPOINTS = [
    "GET /_s3batch/state",
    "POST /_s3batch/reset",
    "POST /_s3batch/run[?job_id=ID]",
    "POST /_s3batch/step?job_id=ID",
]
_METHODS = {"state": "GET", "reset": "POST", "run": "POST", "step": "POST"}


def _is_loopback_host(hostname: str | None) -> bool:
    name = (hostname or "").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def refusal(headers: Mapping[str, str], server_hosts: frozenset[str] | None) -> str | None:
    """Why a control request must be refused (403), or None if it may go on.

    ``headers`` have lower-case names; ``server_hosts`` are the names a loopback-bound
    server is reached by (its bound address and the host it was given), or None for a
    server bound elsewhere, which other machines reach by names it cannot know.
    """
    origin = headers.get("origin")
    if origin is not None:
        try:
            origin_host = urlsplit(origin).hostname
        except ValueError:
            origin_host = None
        if not _is_loopback_host(origin_host):
            return f"requests from the web origin {origin!r} may not use the control endpoints"
    if headers.get("sec-fetch-site", "").lower() in ("cross-site", "same-site"):
        return "cross-site browser requests may not use the control endpoints"
    host = headers.get("host")
    if host is not None and server_hosts is not None:
        try:
            hostname = urlsplit(f"//{host}").hostname
        except ValueError:
            hostname = None
        if not (_is_loopback_host(hostname) or (hostname or "") in server_hosts):
            return f"the control endpoints answer only to this server's own names, not {host!r}"
    return None


class ControlEndpoints:
    """Answers ``/_s3batch/<name>``; ``reset_also`` runs after a reset (moto's state)."""

    def __init__(
        self,
        batch: S3Batch,
        state: Callable[[], dict[str, Any]],
        reset_also: Callable[[], None] | None = None,
    ) -> None:
        self._batch = batch
        self._state = state
        self._reset_also = reset_also

    def answer(self, method: str, name: str, query: str) -> HttpResponse:
        params = dict(parse_qsl(query))
        job_id = params.get("job_id")
        allowed = _METHODS.get(name)
        if allowed is not None and method != allowed:
            response = json_response(
                405,
                {
                    "error": f"{PREFIX}{name} answers {allowed} only, not {method}",
                    "endpoints": _ENDPOINTS,
                },
            )
            response.headers["Allow"] = allowed
            return response
        try:
            if name == "state":
                return json_response(200, self._state())
            if name == "reset":
                self._batch.reset()
                if self._reset_also is not None:
                    self._reset_also()
                return json_response(200, {"reset": True})
            if name == "run":
                self._batch.run(job_id)
                return json_response(200, self._state())
            if name == "step" and job_id:
                return json_response(200, {"job_id": job_id, "status": self._batch.step(job_id)})
        except KeyError:
            return json_response(404, {"error": f"no job with id {job_id!r}"})
        return json_response(
            404,
            {
                "error": f"unknown control endpoint {method} {PREFIX}{name}",
                "endpoints": _ENDPOINTS,
            },
        )


def json_response(status: int, document: Mapping[str, Any]) -> HttpResponse:
    body = json.dumps(document, indent=2).encode("utf-8") + b"\n"
    return HttpResponse(status, {"Content-Type": "application/json"}, body)


def jsonable(value: Any) -> Any:
    """``value`` (a job's fields) as JSON-ready data."""
    if isinstance(value, datetime.datetime):
        return iso8601(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value))
    if isinstance(value, tuple) and hasattr(value, "_asdict"):  # Transition
        return jsonable(value._asdict())
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value
