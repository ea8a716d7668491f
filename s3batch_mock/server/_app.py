"""Server mode: the same mock over HTTP, for the AWS CLI, shell scripts and other SDKs.

One process-wide backend serves three kinds of request on one port:

- s3control job calls (``/v20180820/...``) through the same dispatcher, wire layer
  and service as the in-process hook, so answers and errors are identical;
- S3 object calls on the embedded store (``_s3_api``), for manifests and reports;
- ``/_s3batch/...`` control endpoints: ``GET state``, ``POST reset``, ``POST run``
  and ``POST step``.

S3 Control puts the account ID in front of the host name
(``123456789012.127.0.0.1:5050``), which does not resolve. The server is therefore
also an HTTP proxy: a client told to use it as its proxy sends every request to it,
host name and all, and no DNS lookup happens. See docs/server.md for the recipes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import json
import shutil
import socket
import sys
import tempfile
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import IO, Any, BinaryIO, cast
from urllib.parse import parse_qsl, urlsplit

from s3batch_mock._backend import Backend, Settings
from s3batch_mock._clock import iso8601
from s3batch_mock._controller import S3Batch
from s3batch_mock._dispatch import Unserved, not_served, respond
from s3batch_mock._errors import S3ControlError
from s3batch_mock.stores import SPOOL_BYTES
from s3batch_mock.wire import (
    MAX_BODY_BYTES,
    HttpRequest,
    HttpResponse,
    UnknownRoute,
    new_request_id,
    render_error,
)

from ._s3_api import ObjectRequest, StreamingResponse, address, serve_object

__all__ = ["S3BatchServer"]

_S3CONTROL_PREFIX = "/v20180820/"
_CONTROL_PREFIX = "/_s3batch/"
_COPY_CHUNK = 1 << 16
_POLL_SECONDS = 0.05  # how soon serve_forever notices stop()


class S3BatchServer:
    """The mock served over HTTP on ``host:port`` (``port=0`` picks a free port).

    Use it as a context manager (``with S3BatchServer() as server: server.url``),
    with ``start()``/``stop()``, or block in ``serve_forever()`` as
    ``python -m s3batch_mock serve`` does. ``server.batch`` is the same controller the
    in-process mock gives: jobs, objects, ``run()``, ``inject_error()``, ``reset()``.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        progression: str = "poll",
        step_seconds: float = 1.0,
        max_active_jobs: int | None = None,
        tasks_per_step: int = 1000,
        log: IO[str] | None = None,
    ) -> None:
        settings = Settings(progression, step_seconds, max_active_jobs, tasks_per_step)
        self.backend = Backend(settings)
        self.batch = S3Batch(self.backend)
        server_class = _HTTPServer6 if ":" in host else _HTTPServer
        self._httpd = server_class((host, port), _Handler)
        self._httpd.mock = self
        self._log = log
        self._thread: threading.Thread | None = None
        self._serving = False
        bound_host, bound_port = self._httpd.server_address[:2]
        self.host = str(bound_host)
        self.port = int(bound_port)
        self._server_hosts = frozenset({self.host.lower(), host.lower()})

    def __repr__(self) -> str:
        return f"<S3BatchServer {self.url} {self.backend.settings}>"

    @property
    def url(self) -> str:
        """``http://host:port``: the endpoint URL and the proxy URL clients are given."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> S3BatchServer:
        """Serve from a background thread; returns at once."""
        if self._thread is None:
            self._serving = True
            self._thread = threading.Thread(
                target=self.serve_forever, name="s3batch-mock-server", daemon=True
            )
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve from this thread until ``stop()`` is called from another one."""
        self._serving = True
        try:
            self._httpd.serve_forever(poll_interval=_POLL_SECONDS)
        finally:
            self._serving = False

    def stop(self, *, grace: float = 5.0) -> None:
        """Stop accepting, let requests in flight finish (up to ``grace`` seconds), and
        release the port. Idle keep-alive connections are closed. Safe to call twice."""
        if self._serving:
            self._httpd.shutdown()  # returns once serve_forever's loop has ended
        with self._httpd.idle:
            self._httpd.idle.wait_for(lambda: self._httpd.in_flight == 0, timeout=grace)
        self._httpd.drop_connections()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> S3BatchServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ answering

    def answer(
        self, method: str, target: str, headers: Mapping[str, str], body: IO[bytes]
    ) -> HttpResponse | StreamingResponse:
        """One request, whatever it addresses. ``target`` may be absolute (proxy form)."""
        if target.startswith(("http://", "https://")):  # absolute form: a proxy request
            parts = urlsplit(target)
            host, path, query = parts.netloc, parts.path or "/", parts.query
        else:  # origin form; "//key" is a path here, not a network-path reference
            host = headers.get("host", self.url)
            path, _, query = target.partition("?")
        if path.startswith(_CONTROL_PREFIX):
            return self._control(method, path[len(_CONTROL_PREFIX) :], query)
        if path.startswith(_S3CONTROL_PREFIX):
            return self._s3control(method, host, path, query, headers, body)
        bucket, key = address(host, path, self._server_hosts)
        params = dict(parse_qsl(query, keep_blank_values=True))
        request = ObjectRequest(method, bucket, key, params, headers, body)
        return serve_object(self.backend.embedded, request)

    def _s3control(
        self,
        method: str,
        host: str,
        path: str,
        query: str,
        headers: Mapping[str, str],
        body: IO[bytes],
    ) -> HttpResponse:
        url = f"http://{host}{path}" + (f"?{query}" if query else "")
        # A body over the limit is read one byte past it, so the service refuses it.
        request = HttpRequest(method, url, headers, body.read(MAX_BODY_BYTES + 1))
        try:
            return respond(self.backend, request)
        except (Unserved, UnknownRoute) as exc:
            return _xml_error(501, "NotImplemented", not_served(exc))

    def _control(self, method: str, name: str, query: str) -> HttpResponse:
        params = dict(parse_qsl(query))
        job_id = params.get("job_id")
        try:
            if (method, name) == ("GET", "state"):
                return _json(200, self.state())
            if (method, name) == ("POST", "reset"):
                self.batch.reset()
                return _json(200, {"reset": True})
            if (method, name) == ("POST", "run"):
                self.batch.run(job_id)
                return _json(200, self.state())
            if (method, name) == ("POST", "step") and job_id:
                return _json(200, {"job_id": job_id, "status": self.batch.step(job_id)})
        except KeyError:
            return _json(404, {"error": f"no job with id {job_id!r}"})
        return _json(
            404,
            {
                "error": f"unknown control endpoint {method} {_CONTROL_PREFIX}{name}",
                "endpoints": [
                    "GET /_s3batch/state",
                    "POST /_s3batch/reset",
                    "POST /_s3batch/run[?job_id=ID]",
                    "POST /_s3batch/step?job_id=ID",
                ],
            },
        )

    def state(self) -> dict[str, Any]:
        """Everything the server holds, as JSON-ready data (``GET /_s3batch/state``)."""
        store = self.backend.embedded
        return {
            "settings": dataclasses.asdict(self.backend.settings),
            "jobs": [_jsonable(dataclasses.asdict(job)) for job in self.batch.jobs()],
            "buckets": {name: store.keys(name) for name in store.buckets()},
            "calls": [
                {"operation": c.operation, "http_status": c.http_status, "error": c.error_code}
                for c in self.batch.calls
            ],
        }

    def log(self, line: str) -> None:
        if self._log is not None:
            print(line, file=self._log, flush=True)


class _HTTPServer(ThreadingHTTPServer):
    """One thread per connection. Threads are daemons, so an idle keep-alive connection
    never holds up shutdown; ``in_flight`` counts requests being answered instead."""

    daemon_threads = True
    mock: S3BatchServer

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler)
        self.idle = threading.Condition()
        self.in_flight = 0
        self.connections: set[socket.socket] = set()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.idle:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.idle:
            self.connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up (or is hung up on by ``stop()``) is no error."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

    def drop_connections(self) -> None:
        """End every open connection: handlers waiting for a next request see EOF."""
        with self.idle:
            for connection in self.connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)


class _HTTPServer6(_HTTPServer):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive; every method goes through ``S3BatchServer.answer``."""

    protocol_version = "HTTP/1.1"
    server: _HTTPServer
    server_version = "AmazonS3"

    def version_string(self) -> str:
        return self.server_version

    def _handle(self) -> None:
        with self.server.idle:
            self.server.in_flight += 1
        try:
            self._answer()
        finally:
            with self.server.idle:
                self.server.in_flight -= 1
                self.server.idle.notify_all()

    def _answer(self) -> None:
        headers = {name.lower(): value for name, value in self.headers.items()}
        with _read_body(cast(BinaryIO, self.rfile), headers) as body:
            mock = self.server.mock
            try:
                response = mock.answer(self.command, self._target(), headers, body)
            except Exception as exc:  # an internal failure must not hang the client
                response = _xml_error(500, "InternalError", f"{type(exc).__name__}: {exc}")
                mock.log(f"s3batch_mock: internal error answering {self.command} {self.path}")
        self.send_response(response.status)
        # send_response wrote Server; Content-Length is written once, below.
        for name, value in response.headers.items():
            if name.lower() not in ("content-length", "server"):
                self.send_header(name, value)
        length = response.length if isinstance(response, StreamingResponse) else len(response.body)
        if self.command == "HEAD":
            length = int(response.headers.get("Content-Length", length))
        self.send_header("Content-Length", str(length))
        self.end_headers()
        if self.command != "HEAD":
            if isinstance(response, StreamingResponse):
                with response.body:
                    shutil.copyfileobj(response.body, self.wfile, _COPY_CHUNK)
            else:
                self.wfile.write(response.body)
        mock.log(f"{self.command} {self.path} -> {response.status}")

    def _target(self) -> str:
        """The request target as sent. ``self.path`` collapses a leading "//", which
        would turn the key "/lead" of a virtual-hosted request into "lead"."""
        words = self.requestline.split()
        return words[1] if len(words) >= 2 else self.path

    # BaseHTTPRequestHandler dispatches on these stdlib names.
    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle  # noqa: N815

    def log_message(self, format: str, *args: Any) -> None:
        """Requests are logged once, by ``_handle``, to the server's log stream."""


def _read_body(stream: BinaryIO, headers: Mapping[str, str]) -> IO[bytes]:
    """The request body, spooled to disk above 1 MiB.

    Handles ``Transfer-Encoding: chunked`` and S3's ``aws-chunked`` content encoding
    (SDKs that stream uploads with chunk signatures or trailing checksums).
    """
    spool = tempfile.SpooledTemporaryFile(SPOOL_BYTES)  # noqa: SIM115 - returned
    if "chunked" in headers.get("transfer-encoding", "").lower():
        _copy_chunks(stream, spool)
    else:
        _copy_exactly(stream, spool, int(headers.get("content-length") or 0))
    spool.seek(0)
    encoded = "aws-chunked" in headers.get("content-encoding", "").lower() or headers.get(
        "x-amz-content-sha256", ""
    ).startswith("STREAMING-")
    if not encoded:
        return spool
    decoded = tempfile.SpooledTemporaryFile(SPOOL_BYTES)  # noqa: SIM115 - returned
    with spool:
        _copy_chunks(spool, decoded)
    decoded.seek(0)
    return decoded


def _copy_chunks(source: IO[bytes], target: IO[bytes]) -> None:
    """Copy a chunked body: ``<hex size>[;extensions]\\r\\n<data>\\r\\n`` ... ``0\\r\\n``."""
    while True:
        line = source.readline()
        if not line:
            return
        size = int(line.split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            while source.readline().strip():  # trailers (checksums) up to a blank line
                pass
            return
        if not _copy_exactly(source, target, size):
            return
        source.readline()  # the CRLF closing the chunk


def _copy_exactly(source: IO[bytes], target: IO[bytes], size: int) -> bool:
    """Copy ``size`` bytes; False if the source ended first."""
    while size > 0:
        chunk = source.read(min(size, _COPY_CHUNK))
        if not chunk:
            return False
        target.write(chunk)
        size -= len(chunk)
    return True


def _json(status: int, document: Mapping[str, Any]) -> HttpResponse:
    body = json.dumps(document, indent=2).encode("utf-8") + b"\n"
    return HttpResponse(status, {"Content-Type": "application/json"}, body)


def _xml_error(status: int, code: str, message: str) -> HttpResponse:
    return render_error(S3ControlError(message, code=code, http_status=status), new_request_id())


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return iso8601(value)
    if isinstance(value, tuple) and hasattr(value, "_asdict"):  # Transition
        return _jsonable(value._asdict())
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value
