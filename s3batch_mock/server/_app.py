"""The WSGI application: every request the server answers, whatever it addresses.

One process-wide backend serves, on one port:

- s3control job calls (``/v20180820/jobs...``) through the same dispatcher, wire layer
  and service as the in-process hook, so answers and errors are identical;
- ``/_s3batch/...`` control endpoints (``_control``), guarded against web pages;
- ``CONNECT host:port``: answered 200, after which the same connection carries plain
  HTTP requests to this server (proxy agents that always tunnel, as Node's do);
- Alibaba Cloud OSS: its batch-job calls (``/?batchJob...``) and its object calls
  (OSS-signed, ``x-oss-`` headers, ``*.aliyuncs.com`` hosts), in either mode (``_oss``);
- everything else: moto's server application in moto mode (``_moto``), else S3's
  object API on the embedded store (``_s3_api``).

S3 Control puts the account ID in front of the host name
(``123456789012.127.0.0.1:5050``), which does not resolve. The server is therefore
also an HTTP proxy: a client told to use it as its proxy sends every request to it
with the whole URL as the request target (absolute form), and no DNS lookup happens.
Every response header leaves through ``_headers.safe_headers``.
"""

from __future__ import annotations

import http
import ipaddress
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import IO, Any
from urllib.parse import parse_qsl, urlsplit

from s3batch_mock._backend import Backend
from s3batch_mock._dispatch import Unserved, not_served, respond
from s3batch_mock._errors import S3ControlError
from s3batch_mock.wire import (
    HttpResponse,
    UnknownRoute,
    new_request_id,
    render_error,
)

from ._control import PREFIX, ControlEndpoints, json_response, refusal
from ._headers import safe_headers
from ._http import WSGIApp, wire_request
from ._oss import answer_oss
from ._s3_api import ObjectRequest, StreamingResponse, address, serve_object

__all__ = ["S3BatchApp"]

_JOBS = "/v20180820/jobs"
_S3CONTROL_PREFIX = "/v20180820/"
_MOTO_API_PREFIX = "/moto-api/"
_COPY_CHUNK = 1 << 16
# RFC 3986 host: a bracketed IPv6 address or a registered name / IPv4, then a port.
_HOST = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~!$&'()*+,;=%-]*)(?::([0-9]{0,5}))?")
# SigV4's credential scope: Credential=<key>/<date>/<region>/<service>/aws4_request.
_SCOPE = re.compile(r"Credential=[^/,\s]*/[0-9]{8}/[^/,\s]*/([^/,\s]+)/aws4_request")
# The port a CONNECT to which carries TLS, which this plain-HTTP server cannot answer.
_TLS_PORT = 443

Response = HttpResponse | StreamingResponse


class _BadRequest(Exception):
    """A request this server cannot read (a malformed Host or request target): 400."""


class S3BatchApp:
    """The WSGI application ``S3BatchServer`` serves.

    ``server_hosts``: the names the server is reached by (virtual-hosted S3 requests
    are ``<bucket>.<one of them>``); ``control_hosts``: the ``Host`` names the control
    endpoints accept (None: any); ``moto_app``: moto's WSGI application in moto mode.
    """

    def __init__(
        self,
        backend: Backend,
        control: ControlEndpoints,
        *,
        server_hosts: frozenset[str],
        control_hosts: frozenset[str] | None,
        moto_app: WSGIApp | None,
        log: Callable[[str], None],
    ) -> None:
        self._backend = backend
        self._control = control
        self._server_hosts = server_hosts
        self._control_hosts = control_hosts
        self._moto_app = moto_app
        self._log = log

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        method = str(environ["REQUEST_METHOD"])
        target = str(environ.get("REQUEST_URI") or environ.get("PATH_INFO") or "/")
        headers = _request_headers(environ)
        response: Response
        try:
            if method == "CONNECT":
                response = _connect(target)
            else:
                host, path, query = self._address(target, headers)
                if path.startswith(PREFIX):
                    response = self._control_call(method, path, query, headers)
                elif path == _JOBS or path.startswith(_JOBS + "/"):
                    response = self._s3control(method, host, path, query, headers, environ)
                elif (
                    oss := answer_oss(
                        self._backend,
                        method,
                        host,
                        path,
                        query,
                        headers,
                        environ["wsgi.input"],
                        self._server_hosts,
                    )
                ) is not None:  # OSS's job calls and object calls, in either mode
                    response = oss
                elif self._moto_app is not None:
                    if path.startswith(_MOTO_API_PREFIX):
                        why = refusal(headers, self._control_hosts)
                        if why is not None:
                            response = json_response(403, {"error": why})
                            return self._send(start_response, method, target, response)
                    return self._to_moto(environ, start_response, method, target)
                elif path.startswith(_S3CONTROL_PREFIX):
                    response = self._s3control(method, host, path, query, headers, environ)
                elif (service := _signed_for(headers)) not in (None, "s3", "s3-object-lambda"):
                    response = _other_service(service, headers)
                else:
                    bucket, key = address(host, path, self._server_hosts)
                    params = dict(parse_qsl(query, keep_blank_values=True))
                    body: IO[bytes] = environ["wsgi.input"]
                    request = ObjectRequest(method, bucket, key, params, headers, body)
                    response = serve_object(self._backend.embedded, request)
        except _BadRequest as exc:
            response = _xml_error(400, "BadRequest", str(exc))
        except Exception as exc:  # an internal failure must not hang the client
            response = _xml_error(500, "InternalError", f"{type(exc).__name__}: {exc}")
            self._log(f"s3batch_mock: internal error answering {method} {target}")
        return self._send(start_response, method, target, response)

    # ------------------------------------------------------------------ routes

    def _address(self, target: str, headers: Mapping[str, str]) -> tuple[str, str, str]:
        """(host, raw path, raw query) of a request in absolute or origin form."""
        if target.startswith(("http://", "https://")):  # absolute form: a proxy request
            try:
                parts = urlsplit(target)
            except ValueError:
                raise _BadRequest(f"The request target {target!r} is not a URL") from None
            host, path, query = parts.netloc, parts.path or "/", parts.query
        elif target.startswith("/"):  # origin form; "//key" is a path here, not a host
            host = headers.get("host", "")
            path, _, query = target.partition("?")
            path = path.partition("#")[0]
        else:
            raise _BadRequest(f"The request target {target!r} is neither a path nor a URL")
        _port_of(host)  # 400 for a malformed one
        return host, path, query

    def _control_call(
        self, method: str, path: str, query: str, headers: Mapping[str, str]
    ) -> HttpResponse:
        why = refusal(headers, self._control_hosts)
        if why is not None:
            return json_response(403, {"error": why})
        return self._control.answer(method, path[len(PREFIX) :], query)

    def _s3control(
        self,
        method: str,
        host: str,
        path: str,
        query: str,
        headers: Mapping[str, str],
        environ: dict[str, Any],
    ) -> HttpResponse:
        request = wire_request(method, host, path, query, headers, environ["wsgi.input"])
        try:
            return respond(self._backend, request)
        except (Unserved, UnknownRoute) as exc:
            return _xml_error(501, "NotImplemented", not_served(exc))

    def _to_moto(
        self,
        environ: dict[str, Any],
        start_response: Callable[..., Any],
        method: str,
        target: str,
    ) -> Iterable[bytes]:
        """Let moto's application answer, its headers made safe like ours."""
        assert self._moto_app is not None
        started: list[str] = []

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            started.append(status)
            kept = [(name, value) for name, value in headers if name.lower() != "server"]
            return start_response(status, safe_headers(kept), exc_info)

        try:
            result: Iterable[bytes] = self._moto_app(environ, start)
        except Exception as exc:
            if started:
                raise
            self._log(f"s3batch_mock: moto failed answering {method} {target}")
            response = _xml_error(500, "InternalError", f"{type(exc).__name__}: {exc}")
            return self._send(start_response, method, target, response)
        self._log(f"{method} {target} -> {started[0].split()[0] if started else '?'} (moto)")
        return result

    # ------------------------------------------------------------------ sending

    def _send(
        self, start_response: Callable[..., Any], method: str, target: str, response: Response
    ) -> Iterable[bytes]:
        headers = [
            (name, value)
            for name, value in response.headers.items()
            if name.lower() not in ("content-length", "server")
        ]
        length = response.length if isinstance(response, StreamingResponse) else len(response.body)
        if method == "HEAD":
            length = int(response.headers.get("Content-Length", length))
        headers.append(("Content-Length", str(length)))
        start_response(_status_line(response.status), safe_headers(headers))
        self._log(f"{method} {target} -> {response.status}")
        if method == "HEAD":
            if isinstance(response, StreamingResponse):
                response.body.close()
            return []
        if isinstance(response, StreamingResponse):
            return _Chunks(response.body)
        return [response.body]


class _Chunks:
    """A response body read from a stream in chunks, closed when the server is done."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream

    def __iter__(self) -> Iterator[bytes]:
        while chunk := self._stream.read(_COPY_CHUNK):
            yield chunk

    def close(self) -> None:
        self._stream.close()


def _connect(target: str) -> HttpResponse:
    """``CONNECT host:port``: 200, and the connection then carries plain HTTP to us.

    Every request that reaches this server is answered by it, whatever host it names
    (as for proxy requests in absolute form), so the tunnel's far end is the server
    itself. Port 443 means TLS, which a plain-HTTP server cannot answer: refused.
    """
    port = _port_of(target)
    if not port:
        raise _BadRequest(f"CONNECT needs a host:port target, not {target!r}")
    if int(port) == _TLS_PORT:
        return json_response(
            403,
            {
                "error": "s3batch_mock serves plain HTTP only: a tunnel to port 443 would "
                "carry TLS. Give clients an http:// endpoint."
            },
        )
    return HttpResponse(200, {}, b"")


def _signed_for(headers: Mapping[str, str]) -> str | None:
    """The service a SigV4-signed request is for (its credential scope names it)."""
    found = _SCOPE.search(headers.get("authorization", ""))
    return found[1].lower() if found else None


def _other_service(service: str, headers: Mapping[str, str]) -> HttpResponse:
    """501 for a service the embedded mode does not serve (IAM, STS, ...), in a form the
    SDK's protocol reads: query services (form bodies) get ``<ErrorResponse>``, the
    JSON ones a ``__type``, so the message reaches the user."""
    message = (
        f"s3batch_mock's embedded mode serves S3 Batch Operations and S3's object calls, "
        f"not {service}. Install 's3batch_mock[server]': the server then answers every "
        "other AWS call with moto."
    )
    if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        root = ET.Element("ErrorResponse")
        error = ET.SubElement(root, "Error")
        for name, text in (("Type", "Sender"), ("Code", "NotImplemented"), ("Message", message)):
            ET.SubElement(error, name).text = text
        ET.SubElement(root, "RequestId").text = new_request_id()
        body = b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root)
        return HttpResponse(501, {"Content-Type": "text/xml"}, body)
    document = {"__type": "NotImplemented", "message": message, "Message": message}
    response = json_response(501, document)
    response.headers["x-amzn-ErrorType"] = "NotImplemented"
    return response


def _port_of(host: str) -> str:
    """The port a ``Host`` (an absolute target's authority, a CONNECT target) names
    ("" for none); 400 for one that is not a valid host and port."""
    match = _HOST.fullmatch(host)
    valid = match is not None
    port = ""
    if match is not None:
        name, port = match.group(1), match.group(2) or ""
        if port and int(port) > 65535:
            valid = False
        if name.startswith("["):
            try:
                ipaddress.IPv6Address(name[1:-1])
            except ValueError:
                valid = False
    if not valid:
        raise _BadRequest(f"The Host {host!r} is not a valid host name and port")
    return port


def _request_headers(environ: Mapping[str, Any]) -> dict[str, str]:
    """The request's headers as sent, with lower-case names."""
    headers = {
        name[5:].lower().replace("_", "-"): str(value)
        for name, value in environ.items()
        if name.startswith("HTTP_")
    }
    for name in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(name):
            headers[name.lower().replace("_", "-")] = str(environ[name])
    return headers


def _status_line(status: int) -> str:
    try:
        return f"{status} {http.HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


def _xml_error(status: int, code: str, message: str) -> HttpResponse:
    return render_error(S3ControlError(message, code=code, http_status=status), new_request_id())
