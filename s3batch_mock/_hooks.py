"""The botocore side: handlers installed at import, inert until a mock is active.

``before-send.s3-control`` answers s3control requests in-process after botocore has
validated, serialized and prepared them, so retries, response parsing and modeled
exceptions are botocore's own. Being specific to s3-control, it runs before moto's
generic ``before-send`` handler whichever was imported or activated first.
``choose-signer.s3-control`` leaves s3control requests unsigned while a mock is
active: signing is the only reason they need credentials.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, TypeVar

import botocore
import botocore.handlers
from botocore.awsrequest import AWSPreparedRequest, AWSResponse

from ._backend import Backend
from ._dispatch import Unserved, not_served, serve
from ._errors import UnsupportedOperationError
from ._stores import moto_is_active
from ._wire import CaseInsensitiveHeaders, HttpRequest, UnknownRoute

__all__ = ["activate", "active_backend", "deactivate", "install", "patch_client"]

_SEND_EVENT = "before-send.s3-control"
_SIGNER_EVENT = "choose-signer.s3-control"


class _Switch:
    """Which backend answers, if any. One per process: botocore's handlers are global."""

    backend: Backend | None = None


_switch = _Switch()


def activate(backend: Backend) -> None:
    _switch.backend = backend


def deactivate() -> None:
    _switch.backend = None


def active_backend() -> Backend | None:
    return _switch.backend


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


def _on_before_send(request: AWSPreparedRequest, **kwargs: Any) -> AWSResponse | None:
    backend = _switch.backend
    if backend is None:
        return None
    http = HttpRequest(
        method=request.method,
        url=request.url,
        headers=_Headers(request.headers),
        body=_body_bytes(request.body),
    )
    try:
        response = serve(backend, http)
    except (Unserved, UnknownRoute) as exc:
        if moto_is_active():
            return None  # moto's own before-send handler runs next and serves it
        raise UnsupportedOperationError(
            f"{not_served(exc)} The call was stopped before reaching the network. To have "
            "it answered, activate moto's mock_aws as well, or stub it with botocore's Stubber."
        ) from None
    # AWSResponse copies the headers into its own case-insensitive HeadersDict, so a
    # plain dict is all it needs (the stubs ask for the costlier email-based HTTPHeaders).
    headers: Any = response.headers
    return AWSResponse(request.url, response.status, headers, _Body(response.body))


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


_HANDLERS = ((_SEND_EVENT, _on_before_send), (_SIGNER_EVENT, _on_choose_signer))


def install() -> None:
    """Add the handlers to botocore's built-ins, so every new session gets them. Idempotent."""
    for entry in _HANDLERS:
        if entry not in botocore.handlers.BUILTIN_HANDLERS:
            botocore.handlers.BUILTIN_HANDLERS.append(entry)


ClientT = TypeVar("ClientT")


def patch_client(client: ClientT) -> ClientT:
    """Route ``client``'s s3control calls through the mock; returns the client.

    Needed only for a client whose botocore session existed before s3batch_mock was
    imported. Safe to call on any client, any number of times.
    """
    events = getattr(getattr(client, "meta", None), "events", None)
    if events is None:
        raise TypeError(f"patch_client expects a botocore client, got {client!r}")
    for event, handler in _HANDLERS:
        # Drop the copy a session registered from BUILTIN_HANDLERS, then register one
        # keyed copy: each request is answered exactly once however often we patch.
        unique_id = f"s3batch_mock:{event}"
        events.unregister(event, unique_id=unique_id)
        events.unregister(event, handler)
        events.register(event, handler, unique_id=unique_id)
    return client
