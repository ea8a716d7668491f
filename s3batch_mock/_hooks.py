"""The botocore side: every client, sync or async, however old, served while a mock is active.

Four handlers live on a client's event emitter, inert until a mock is active:

- ``before-call`` (any service) notes whether the client is aiobotocore's, so the
  answer can be one aiobotocore awaits;
- ``before-sign`` (other services) refuses a request for AWS's own endpoint before it
  is signed, so before credentials are looked for (unless moto will answer it);
- ``choose-signer.s3-control`` leaves s3control requests unsigned: signing is the only
  reason they would need credentials;
- ``before-send.s3-control`` answers s3control requests in-process after botocore has
  validated, serialized and prepared them, so retries, response parsing and modeled
  exceptions are botocore's own. Being specific to s3-control, it runs before moto's
  generic ``before-send`` handler whichever was imported or activated first.

They reach a client two ways. Sessions made after ``install()`` get them from
``botocore.handlers.BUILTIN_HANDLERS``. Clients whose session is older (made before
``import s3batch_mock``, or by a library that keeps its own session) get them at their
first call under a mock, from a wrapper around ``BaseClient._make_api_call`` (and
aiobotocore's ``AioBaseClient._make_api_call``): methods are looked up on the class, so
the wrapper sees every client whenever it was made.

Fail closed: besides ``before-sign``, a wrapper around ``Endpoint._send`` (and
aiobotocore's), the last step before botocore opens a connection, refuses any request for
AWS's own endpoints while a mock is active. Whatever answers earlier (this mock, moto, a
Stubber) wins; a custom ``endpoint_url`` (LocalStack, MinIO, a moto server) goes through.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import sys
from collections.abc import Callable, Coroutine, Iterator, Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

import botocore
import botocore.client
import botocore.endpoint
import botocore.handlers
from botocore.awsrequest import AWSPreparedRequest, AWSResponse

from ._backend import Backend
from ._dispatch import Unserved, not_served, respond
from ._errors import AWSCallRefused, UnsupportedOperationError
from ._partitions import is_aws_host
from .stores import moto_is_active
from .wire import CaseInsensitiveHeaders, HttpRequest, HttpResponse, UnknownRoute

__all__ = ["activate", "active_backend", "deactivate", "install", "patch_client"]

_SEND_EVENT = "before-send.s3-control"
_SIGNER_EVENT = "choose-signer.s3-control"
_CALL_EVENT = "before-call"
_SIGN_EVENT = "before-sign"
_SIGN_S3CONTROL = "before-sign.s3-control"
#: What ``before-call`` tells ``before-send`` about an s3control request, in headers
#: of the request itself (botocore before 1.43.x gives ``before-send`` no context): the
#: client's region, and whether the client is aiobotocore's. Only ever read here.
_REGION_HEADER = "x-s3batch-mock-region"
_ASYNC_HEADER = "x-s3batch-mock-async"
#: The service and operation of a request, for the error that refuses it.
_OPERATION = "s3batch_mock.operation"
#: Set on a client (its ``__dict__``) once its emitter carries our handlers: this
#: module's switch, so a copy of this module loaded again hooks the client again.
_HOOKED = "_s3batch_mock_hooked"


class _Switch:
    """Which backend answers, if any. One per process: botocore's handlers are global."""

    backend: Backend | None = None


_switch = _Switch()


def activate(backend: Backend) -> None:
    install()
    _switch.backend = backend


def deactivate() -> None:
    _switch.backend = None


def active_backend() -> Backend | None:
    return _switch.backend


# ---------------------------------------------------------------------- the handlers


class _Headers(CaseInsensitiveHeaders):
    """botocore's request headers as text, each read only when the wire layer asks.

    botocore's ``HeadersDict`` (the stubs say ``HTTPHeaders``) is case-insensitive and
    holds bytes or text; copying every header would cost more than the lookups made.
    """

    def __init__(self, headers: Any) -> None:
        self._headers: Mapping[str, Any] = headers

    def __getitem__(self, name: str) -> str:
        value = self._headers[name]
        return value.decode("utf-8") if isinstance(value, bytes) else str(value)

    def __iter__(self) -> Iterator[str]:
        return iter(self._headers)

    def __len__(self) -> int:
        return len(self._headers)


class _Body:
    """The raw body botocore reads a response from (``stream()``, ``read()``)."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **kwargs: Any) -> Iterator[bytes]:
        if self._data:
            yield self._data

    def read(self, *args: Any, **kwargs: Any) -> bytes:
        data, self._data = self._data, b""
        return data


class _AsyncBody(_Body):
    """The raw body aiobotocore awaits a response from."""

    async def read(self, *args: Any, **kwargs: Any) -> bytes:  # type: ignore[override]
        return _Body.read(self)


def _on_before_call(
    model: Any = None,
    params: Any = None,
    request_signer: Any = None,
    context: Any = None,
    **kwargs: Any,
) -> None:
    """Note whether the client is aiobotocore's, its region and the call, for the
    handlers that come later in the same request."""
    if _switch.backend is None or not isinstance(context, dict):
        return
    is_async = type(request_signer).__module__.startswith("aiobotocore")
    if is_async:
        _install_aio()  # aiobotocore may have been imported since the activation
    if model is None:
        return
    context[_OPERATION] = f"{model.service_model.service_name} {model.name}"
    headers = params.get("headers") if isinstance(params, dict) else None
    if model.service_model.service_id.hyphenize() == "s3-control" and isinstance(headers, dict):
        region = context.get("client_region")
        if region:
            headers[_REGION_HEADER] = str(region)
        if is_async:
            headers[_ASYNC_HEADER] = "1"


def _on_before_send(request: AWSPreparedRequest, **kwargs: Any) -> Any:
    backend = _switch.backend
    if backend is None:
        return None
    sent = _Headers(request.headers)
    http = HttpRequest(
        method=request.method,
        url=request.url,
        headers=sent,
        body=_body_bytes(request.body),
        region=sent.get(_REGION_HEADER) or None,
    )
    if sent.get(_ASYNC_HEADER):
        # aiobotocore awaits what a handler returns: the answer is made in a worker
        # thread, so injected latency and Lambda handlers never block the event loop.
        return _serve_async(backend, http)
    try:
        response = respond(backend, http)
    except (Unserved, UnknownRoute) as exc:
        return _unserved(exc)
    # AWSResponse copies the headers into its own case-insensitive HeadersDict, so a
    # plain dict is all it needs (the stubs ask for the costlier email-based HTTPHeaders).
    headers: Any = response.headers
    return AWSResponse(request.url, response.status, headers, _Body(response.body))


async def _serve_async(backend: Backend, http: HttpRequest) -> Any:
    from aiobotocore.awsrequest import AioAWSResponse  # noqa: PLC0415 - only for aio clients

    try:
        response: HttpResponse = await _in_worker(respond, backend, http)
    except (Unserved, UnknownRoute) as exc:
        return _unserved(exc)
    headers: Any = response.headers
    return AioAWSResponse(http.url, response.status, headers, _AsyncBody(response.body))


R = TypeVar("R")


async def _in_worker(func: Callable[..., R], *args: Any) -> R:
    """Run ``func`` in a worker thread of the running event loop (asyncio, else anyio's)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # not asyncio: aiobotocore's httpx backend on trio has anyio
        import anyio.to_thread  # noqa: PLC0415

        result: R = await anyio.to_thread.run_sync(func, *args)
        return result
    return await asyncio.to_thread(func, *args)


def _unserved(exc: Unserved | UnknownRoute) -> None:
    if moto_is_active():
        return None  # moto's own before-send handler runs next and serves it
    raise UnsupportedOperationError(
        f"{not_served(exc)} The call was stopped before reaching the network. To have it "
        "answered, activate moto's mock_aws as well, or stub it with botocore's Stubber "
        "on a separate client (a Stubber on this client would take over its job calls "
        "too, and answer them UnStubbedResponseError)."
    ) from None


def _on_before_sign(request: Any = None, event_name: str = "", **kwargs: Any) -> None:
    """Refuse a request for AWS's own endpoint before it is signed (so before botocore
    asks for credentials), unless moto's before-send handler is there to answer it."""
    if (
        _switch.backend is not None
        and not event_name.startswith(_SIGN_S3CONTROL)
        and not moto_is_active()
    ):
        _refuse(request)


def _on_choose_signer(**kwargs: Any) -> Any:
    return botocore.UNSIGNED if _switch.backend is not None else None


def _body_bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    data = body.read()
    if hasattr(body, "seek"):
        body.seek(0)
    return data if isinstance(data, bytes) else str(data).encode("utf-8")


_EVENT_HANDLERS = (
    (_CALL_EVENT, _on_before_call),
    (_SIGN_EVENT, _on_before_sign),
    (_SIGNER_EVENT, _on_choose_signer),
    (_SEND_EVENT, _on_before_send),
)


# ------------------------------------------------------------ reaching every client


def _refuse(request: Any) -> None:
    """Fail closed: refuse a request for AWS's own endpoint while a mock is active."""
    backend = _switch.backend
    if backend is None or backend.settings.allow_real_aws:
        return
    host = urlsplit(getattr(request, "url", "") or "").hostname or ""
    if not is_aws_host(host):
        return  # the user's own server: LocalStack, MinIO, a moto server, ...
    context = getattr(request, "context", None) or {}
    operation = context.get(_OPERATION) or "a request"
    served_by = (
        "moto's mock_aws is active but did not answer it"
        if moto_is_active()
        else "only S3 Batch Operations' job calls are answered in-process"
    )
    raise AWSCallRefused(
        f"s3batch_mock refused {operation} to {host}: while mock_s3batch is active, no "
        f"request reaches AWS, and {served_by}. To serve it, activate moto's mock_aws too "
        "(in either order), or create the client with an endpoint_url of your own server "
        "(LocalStack, MinIO, moto's server). To let it reach AWS on purpose, use "
        "mock_s3batch(allow_real_aws=True)."
    )


def _wrap_make_api_call(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def _make_api_call(self: Any, operation_name: str, api_params: Any) -> Any:
        if _switch.backend is not None and self.__dict__.get(_HOOKED) is not _switch:
            patch_client(self)
        return original(self, operation_name, api_params)

    return _make_api_call


def _wrap_make_api_call_async(
    original: Callable[..., Coroutine[Any, Any, Any]],
) -> Callable[..., Coroutine[Any, Any, Any]]:
    @functools.wraps(original)
    async def _make_api_call(self: Any, operation_name: str, api_params: Any) -> Any:
        if _switch.backend is not None and self.__dict__.get(_HOOKED) is not _switch:
            patch_client(self)
        return await original(self, operation_name, api_params)

    return _make_api_call


def _wrap_send(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def _send(self: Any, request: Any) -> Any:
        if _switch.backend is not None:
            _refuse(request)
        return original(self, request)

    return _send


def _wrap_send_async(
    original: Callable[..., Coroutine[Any, Any, Any]],
) -> Callable[..., Coroutine[Any, Any, Any]]:
    @functools.wraps(original)
    async def _send(self: Any, request: Any) -> Any:
        if _switch.backend is not None:
            _refuse(request)
        return await original(self, request)

    return _send


def _patch(cls: type, name: str, wrap: Callable[[Any], Any]) -> None:
    """Wrap ``cls.name`` once; installing twice is harmless.

    The wrapper is marked with this module's switch. A wrapper left by an earlier copy of
    this module (a test tool that reloads modules) is replaced, never wrapped again.
    """
    original = cls.__dict__.get(name)
    if original is None:
        return
    owner = getattr(original, "_s3batch_mock", None)
    if owner is _switch:
        return
    if owner is not None:
        original = original.__wrapped__
    wrapper = wrap(original)
    wrapper._s3batch_mock = _switch
    setattr(cls, name, wrapper)


def install() -> None:
    """Reach every botocore client: built-in handlers for new sessions, class wrappers
    for old ones, the fail-closed check before any connection. Idempotent and cheap."""
    builtin = botocore.handlers.BUILTIN_HANDLERS
    # Handlers of an earlier copy of this module (reloaded by a test tool) go.
    builtin[:] = [
        entry
        for entry in builtin
        if entry in _EVENT_HANDLERS or getattr(entry[1], "__module__", None) != __name__
    ]
    for entry in _EVENT_HANDLERS:
        if entry not in builtin:
            builtin.append(entry)
    _patch(botocore.client.BaseClient, "_make_api_call", _wrap_make_api_call)
    _patch(botocore.endpoint.Endpoint, "_send", _wrap_send)
    _install_aio()


def _install_aio() -> None:
    """aiobotocore's classes override both methods: wrap them too, once it is imported.

    Only a process that imported aiobotocore can have its clients. One that imports it
    later gets the handlers from its sessions, and these wrappers at the next activation
    or at its first aiobotocore call under a mock.
    """
    aio_client = sys.modules.get("aiobotocore.client")
    if aio_client is not None:
        _patch(aio_client.AioBaseClient, "_make_api_call", _wrap_make_api_call_async)
    aio_endpoint = sys.modules.get("aiobotocore.endpoint")
    if aio_endpoint is not None:
        _patch(aio_endpoint.AioEndpoint, "_send", _wrap_send_async)


ClientT = TypeVar("ClientT")


def patch_client(client: ClientT) -> ClientT:
    """Route ``client``'s s3control calls through the mock; returns the client.

    No longer needed: every client is served while a mock is active, however old. Kept
    for code written against earlier versions; safe on any client, any number of times.
    """
    events = getattr(getattr(client, "meta", None), "events", None)
    if events is None:
        raise TypeError(f"patch_client expects a botocore client, got {client!r}")
    for event, handler in _EVENT_HANDLERS:
        # Drop the copy a session registered from BUILTIN_HANDLERS, then register one
        # keyed copy: each request is answered exactly once however often we patch.
        unique_id = f"s3batch_mock:{event}"
        events.unregister(event, unique_id=unique_id)
        # botocore trips over an event whose node holds no handlers: nothing to drop.
        with contextlib.suppress(AttributeError, ValueError):
            events.unregister(event, handler)
        events.register(event, handler, unique_id=unique_id)
    client.__dict__[_HOOKED] = _switch
    return client


# Clients made from now on carry the handlers; older ones get them at their first call.
install()
