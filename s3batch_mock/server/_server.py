"""``S3BatchServer``: the mock served over HTTP, for the AWS CLI, scripts and other SDKs.

It puts the pieces together: one backend (the jobs), the WSGI application (``_app``)
that answers every request, waitress under it (``_http``) and, in moto mode, moto's
server application with an in-process ``mock_aws`` sharing its state (``_moto``).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import threading
from typing import IO, Any, Literal, get_args

from s3batch_mock._backend import Backend
from s3batch_mock._controller import S3Batch
from s3batch_mock._settings import Progression, Settings, check_seconds

from ._app import S3BatchApp
from ._control import ControlEndpoints, jsonable
from ._http import HttpServer
from ._moto import MotoSide, moto_server_available

__all__ = ["MODES", "Mode", "S3BatchServer"]

#: ``auto``: moto mode when moto's server parts are installed, else embedded.
Mode = Literal["auto", "moto", "embedded"]
MODES: tuple[Mode, ...] = get_args(Mode)
#: How long a connection may stay idle before the server closes it.
DEFAULT_IDLE_TIMEOUT = 60.0
_MAX_IDLE_TIMEOUT = 24 * 3600.0


class S3BatchServer:
    """The mock served over HTTP on ``host:port`` (``port=0`` picks a free port).

    Use it as a context manager (``with S3BatchServer() as server: server.url``),
    with ``start()``/``stop()``, or block in ``serve_forever()`` as
    ``python -m s3batch_mock serve`` does. ``server.batch`` is the same controller the
    in-process mock gives: jobs, objects, ``run()``, ``inject_error()``, ``reset()``.

    ``mode``: ``"moto"`` answers every request but the S3 Batch job calls with moto's
    server application, sharing moto's state with the jobs (needs
    ``s3batch_mock[server]``); ``"embedded"`` answers S3 object calls from the embedded
    store; ``"auto"`` (the default) picks moto when it is installed. ``server.mode``
    says which runs. In moto mode, moto's ``mock_aws`` is active in this process from
    ``start()`` to ``stop()``. ``idle_timeout``: seconds before an idle connection is
    closed.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        progression: Progression = "poll",
        step_seconds: float = 1.0,
        max_active_jobs: int | None = None,
        tasks_per_step: int = 1000,
        mode: Mode = "auto",
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        log: IO[str] | None = None,
    ) -> None:
        # Everything is checked before the port is bound.
        settings = Settings(progression, step_seconds, max_active_jobs, tasks_per_step)
        check_seconds("idle_timeout", idle_timeout, _MAX_IDLE_TIMEOUT, zero=False)
        self.mode: Literal["moto", "embedded"] = _resolve(mode)
        self.backend = Backend(settings)
        self.batch = S3Batch(self.backend)
        self._log = log
        self._moto = MotoSide() if self.mode == "moto" else None
        control = ControlEndpoints(
            self.batch, self.state, None if self._moto is None else self._moto.reset
        )

        def app_for(bound_host: str) -> S3BatchApp:
            """The application, once the socket is bound and its address known."""
            names = frozenset({bound_host.lower(), host.lower().strip("[]")})
            return S3BatchApp(
                self.backend,
                control,
                server_hosts=names,
                control_hosts=names if _is_loopback(bound_host) else None,
                moto_app=None if self._moto is None else self._moto.app,
                log=self.log,
            )

        self._http = HttpServer(app_for, host, port, idle_timeout=float(idle_timeout))
        self.host = str(self._http.host)
        self.port = int(self._http.port)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._stopped = False

    def __repr__(self) -> str:
        return f"<S3BatchServer {self.url} mode={self.mode} {self.backend.settings}>"

    @property
    def url(self) -> str:
        """``http://host:port``: the endpoint URL and the proxy URL clients are given."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> S3BatchServer:
        """Serve from a background thread; returns once the server is answering."""
        with self._lock:
            if self._thread is None and not self._stopped:
                self._thread = threading.Thread(
                    target=self.serve_forever, name="s3batch-mock-server", daemon=True
                )
                self._thread.start()
                self._http.wait_running(timeout=30)  # a safety net: it runs at once
        return self

    def serve_forever(self) -> None:
        """Serve from this thread until ``stop()`` is called from another one."""
        if self._moto is not None:
            self._moto.start()
        try:
            self._http.run()
        finally:
            if self._moto is not None:
                self._moto.stop()

    def stop(self, *, grace: float = 5.0) -> None:
        """Stop accepting (the port is released at once), let requests in flight finish
        (up to ``grace`` seconds), then close every connection. Safe to call twice."""
        with self._lock:
            self._stopped = True
            thread, self._thread = self._thread, None
        self._http.stop(grace)
        if thread is not None:
            thread.join(timeout=grace + 10)  # a safety net: the loop ends at once

    def __enter__(self) -> S3BatchServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def state(self) -> dict[str, Any]:
        """Everything the server holds, as JSON-ready data (``GET /_s3batch/state``)."""
        if self._moto is not None and self._http.running:
            buckets = self._moto.buckets()
        else:
            store = self.backend.embedded
            buckets = {name: store.keys(name) for name in store.buckets()}
        return {
            "mode": self.mode,
            "settings": dataclasses.asdict(self.backend.settings),
            "jobs": [jsonable(job) for job in self.batch.jobs()],
            "buckets": buckets,
            "calls": [
                {"operation": c.operation, "http_status": c.http_status, "error": c.error_code}
                for c in self.batch.calls
            ],
        }

    def log(self, line: str) -> None:
        if self._log is not None:
            print(line, file=self._log, flush=True)


def _resolve(mode: object) -> Literal["moto", "embedded"]:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(map(repr, MODES))}, not {mode!r}")
    if mode == "embedded":
        return "embedded"
    available = moto_server_available()
    if mode == "moto" and not available:
        raise ValueError(
            "mode='moto' needs moto's server parts: pip install 's3batch_mock[server]'"
        )
    return "moto" if available else "embedded"


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"
