"""The HTTP server under the WSGI application: waitress, with S3's limits.

waitress (Pylons) parses every request: request line, headers, ``Content-Length``,
``Transfer-Encoding: chunked``, ``Expect: 100-continue``, keep-alive and pipelining. It
reads each request whole in its event loop before a worker thread runs the
application, so a slow or idle client holds a socket, never a thread, and a request
whose body never arrives completely never reaches the application. Idle connections are
closed after ``idle_timeout`` seconds.

Three things are added here, each on waitress's own hooks (its parser and channel
classes), none by parsing HTTP anew:

- the body limit depends on what a request addresses: 1 MiB for s3control and the
  control endpoints (the service's own limit), 5 GiB (S3's single PUT) for the rest;
  both are checked against ``Content-Length`` as soon as the headers are read, before
  any byte of the body is taken in, and against a chunked body as it arrives;
- a request with both ``Transfer-Encoding`` and ``Content-Length`` (a smuggling
  attempt, RFC 9112 section 6.3) and a chunk-size line or trailer longer than the
  limits below are refused with 400;
- a client that ends its side of the connection in the middle of a body gets a 400
  answer (waitress would just close), and the request is never served.

Every refusal answers 400, 413 or 431 and closes the connection, so nothing after a
malformed request is read as a request.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Mapping
from typing import IO, Any, ClassVar

from waitress.adjustments import Adjustments  # type: ignore[import-untyped]
from waitress.channel import HTTPChannel  # type: ignore[import-untyped]
from waitress.parser import HTTPRequestParser, ParsingError  # type: ignore[import-untyped]
from waitress.server import TcpWSGIServer  # type: ignore[import-untyped]
from waitress.task import ThreadedTaskDispatcher, WSGITask  # type: ignore[import-untyped]
from waitress.utilities import BadRequest, RequestEntityTooLarge  # type: ignore[import-untyped]

from s3batch_mock.wire import MAX_BODY_BYTES, HttpRequest
from s3batch_mock.wire._oss import is_job_call

__all__ = [
    "MAX_HEADER_BYTES",
    "MAX_OBJECT_BYTES",
    "HttpServer",
    "WSGIApp",
    "body_limit",
    "wire_request",
]

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Any]

#: The request line and headers together (S3 itself allows 8 KiB of request headers).
MAX_HEADER_BYTES = 64 * 1024
#: The largest body of an S3 request: S3's limit for one PUT (5 GiB).
MAX_OBJECT_BYTES = 5 * 1024**3
#: A chunk-size line (size and extensions), and a chunked body's trailer section.
MAX_CHUNK_LINE_BYTES = 4096
MAX_TRAILER_BYTES = 16 * 1024
#: Requests served at once; more wait in waitress's queue. Injected latency and Lambda
#: handlers hold a thread for their whole call, so there are more than cores.
THREADS = 32
#: Open connections; past it waitress stops accepting until one closes.
CONNECTION_LIMIT = 500
_SMALL_BODY_PREFIXES = ("/v20180820/", "/_s3batch/")


def body_limit(path: str, query: str = "") -> int:
    """The largest body a request for ``path`` (and raw ``query``) may carry: 1 MiB for
    job calls of either dialect (s3control's, OSS's ``/?batchJob...``) and the control
    endpoints, 5 GiB for the rest."""
    if path.startswith(_SMALL_BODY_PREFIXES) or is_job_call(path, query):
        return MAX_BODY_BYTES
    return MAX_OBJECT_BYTES


def wire_request(
    method: str, host: str, path: str, query: str, headers: Mapping[str, str], body: IO[bytes]
) -> HttpRequest:
    """A job call as the wire layers (s3control's, OSS's) take it: an absolute URL
    (``localhost`` when the request named no host) and the body read whole.

    The parser refuses bodies over ``body_limit`` before reading them; reading one byte
    more keeps the service's own check in force all the same.
    """
    url = f"http://{host or 'localhost'}{path or '/'}" + (f"?{query}" if query else "")
    return HttpRequest(method, url, headers, body.read(MAX_BODY_BYTES + 1))


class _Parser(HTTPRequestParser):  # type: ignore[misc]
    """waitress's request parser with the per-path body limit and bounded chunk lines."""

    limit = MAX_OBJECT_BYTES

    def parse_header(self, header_plus: bytes) -> None:
        super().parse_header(header_plus)
        if self.chunked and "CONTENT_LENGTH" in self.headers:
            raise ParsingError("Transfer-Encoding and Content-Length together")
        self.limit = body_limit(self.path, self.query)

    def received(self, data: bytes) -> int:
        consumed: int = super().received(data)
        if self.error is not None or not self.headers_finished:
            return consumed
        body = self.body_rcv
        if self.content_length > self.limit or (body is not None and len(body) > self.limit):
            self._refuse(RequestEntityTooLarge(f"the body exceeds {self.limit} bytes"))
        elif self.chunked and body is not None and not body.completed:
            if len(body.control_line) > MAX_CHUNK_LINE_BYTES:
                self._refuse(BadRequest("Chunk-size line too long"))
            elif len(body.trailer) > MAX_TRAILER_BYTES:
                self._refuse(BadRequest("Chunked trailer too long"))
        return consumed

    def _refuse(self, error: Any) -> None:
        self.error = error
        self.completed = True


class _Task(WSGITask):  # type: ignore[misc]
    """waitress's WSGI task, writing header names as the application gave them.

    waitress capitalizes every name (``X-Amz-Meta-Color``); S3 sends user metadata in
    lower case, and SDKs keep the case they receive in the metadata keys they return.
    """

    def build_response_header(self) -> bytes:
        given = {_capitalized(name): name for name, _ in self.response_headers}
        block: bytes = super().build_response_header()
        status, *lines = block.decode("latin-1").removesuffix("\r\n\r\n").split("\r\n")
        named = []
        for line in lines:
            name, _, value = line.partition(": ")
            named.append(f"{given.get(name, name)}: {value}")
        return "\r\n".join([status, *named, "", ""]).encode("latin-1")


def _capitalized(name: str) -> str:
    """A header name as waitress writes it."""
    return "-".join(part.capitalize() for part in name.split("-"))


class _Channel(HTTPChannel):  # type: ignore[misc]
    """A connection; answers 400 when the client ends its side in the middle of a body."""

    parser_class = _Parser
    task_class = _Task

    def handle_read(self) -> None:
        request: Any = getattr(self, "request", None)
        if request is None or not request.headers_finished or request.completed:
            super().handle_read()  # no body under way: waitress's own handling
            return
        try:
            data = self.socket.recv(self.adj.recv_bytes)
        except BlockingIOError:
            return
        except OSError:
            self.handle_close()
            return
        if data:
            self.last_activity = time.time()
            self.received(data)
            return
        with self.requests_lock:  # EOF before the body's end: answer, then close
            request.error = BadRequest("The connection ended before the request body did")
            request.completed = True
            request.connection_close = True
            self.request = None
            self.requests.append(request)
            if len(self.requests) == 1:
                self.server.add_task(self)


class _Server(TcpWSGIServer):  # type: ignore[misc]
    channel_class = _Channel


class _Adjustments(Adjustments):  # type: ignore[misc]
    #: waitress resolves its default ``listen`` (``0.0.0.0:8080``) even when given a
    #: bound socket; a loopback one is resolved without any lookup, and never bound.
    listen: ClassVar[list[str]] = ["127.0.0.1:0"]


class HttpServer:
    """A WSGI application served by waitress from ``run()``'s thread.

    The socket is bound at construction (so the port is known, and taken, at once);
    ``app_for(bound_host)`` then makes the application.
    """

    def __init__(
        self, app_for: Callable[[str], WSGIApp], host: str, port: int, *, idle_timeout: float
    ) -> None:
        if not 0 <= port <= 65535:
            raise OverflowError(f"port must be 0-65535, not {port}")
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        try:
            ipaddress.ip_address(host)
            address: Any = (host, port)  # an address: no lookup
        except ValueError:
            address = socket.getaddrinfo(host, port, family, socket.SOCK_STREAM)[0][4]
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
        except BaseException:
            sock.close()
            raise
        adjustments = _Adjustments(
            sockets=[sock],
            threads=THREADS,
            connection_limit=CONNECTION_LIMIT,
            channel_timeout=idle_timeout,
            cleanup_interval=max(0.25, min(idle_timeout / 4, 10.0)),
            max_request_header_size=MAX_HEADER_BYTES,
            max_request_body_size=MAX_OBJECT_BYTES + 1,
            ident="AmazonS3",
            clear_untrusted_proxy_headers=False,
            log_socket_errors=False,
            asyncore_loop_timeout=0.5,
        )
        self.host, self.port = sock.getsockname()[:2]
        app = app_for(self.host)
        self._dispatcher = ThreadedTaskDispatcher()
        self._dispatcher.set_thread_count(THREADS)
        self._server = _Server(
            app,
            map={},
            _sock=sock,
            dispatcher=self._dispatcher,
            adj=adjustments,
            bind_socket=False,
            sockinfo=(sock.family, sock.type, sock.proto, sock.getsockname()),
        )
        self._running = threading.Event()
        self._closed = False

    def run(self) -> None:
        """Serve until ``stop()``; returns once every connection is closed."""
        self._running.set()
        try:
            self._server.run()
        finally:
            self._running.clear()

    def stop(self, grace: float) -> None:
        """Stop accepting (the port is released at once), let requests being answered
        finish for up to ``grace`` seconds, then close every connection. Safe to call
        twice, and before ``run()``."""
        if self._closed:
            return
        self._closed = True
        if not self._running.is_set():
            self._close_listener()
            self._close_connections()
            self._dispatcher.shutdown(timeout=grace)
            return
        self._in_loop(self._close_listener)
        deadline = time.monotonic() + grace
        while self._busy() and time.monotonic() < deadline:
            time.sleep(0.02)
        self._in_loop(self._close_connections)
        self._dispatcher.shutdown(timeout=grace)

    @property
    def running(self) -> bool:
        return self._running.is_set()

    def wait_running(self, timeout: float) -> bool:
        """True once ``run()`` is serving (within ``timeout`` seconds)."""
        return self._running.wait(timeout)

    # ------------------------------------------------------------------ internals

    def _in_loop(self, action: Callable[[], None]) -> None:
        """Run ``action`` in the event loop's thread (waitress's channels are not
        thread-safe) and wait for it."""
        done = threading.Event()

        def thunk() -> None:
            try:
                action()
            finally:
                done.set()

        self._server.trigger.pull_trigger(thunk)
        done.wait(timeout=10)  # the loop wakes at once; a safety net, not a timing

    def _busy(self) -> bool:
        channels = list(self._server.active_channels.values())
        return any(channel.requests for channel in channels)

    def _close_listener(self) -> None:
        server = self._server
        if server.socket is not None:
            server.accepting = False
            server.del_channel()
            server.socket.close()

    def _close_connections(self) -> None:
        """Close every connection and the loop's trigger: the loop then has nothing left
        to watch, and ``run()`` returns."""
        for channel in list(self._server.active_channels.values()):
            channel.handle_close()
        self._server.trigger.close()
