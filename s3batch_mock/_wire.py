"""The wire layer: HTTP request <-> (operation, params), result/error -> HTTP response.

Nothing here is written per operation. Requests are parsed and responses rendered by
walking the shapes of botocore's own s3control service model (REST-XML), so the eight
job operations share one parser and one renderer that cannot drift from the model.
The same functions serve the botocore hook and, later, the HTTP server.
"""

from __future__ import annotations

import base64
import datetime
import functools
import re
import secrets
import string
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import parse_qsl, unquote, urlsplit

import botocore.session
from botocore.model import ListShape, MapShape, OperationModel, ServiceModel, Shape, StructureShape
from botocore.utils import parse_timestamp

from ._clock import iso8601
from ._errors import S3ControlError, invalid_input
from ._validation import NOT_XML

__all__ = [
    "HttpRequest",
    "HttpResponse",
    "ParsedRequest",
    "UnknownRoute",
    "base_headers",
    "new_request_id",
    "parse_request",
    "render_document",
    "render_error",
    "render_result",
    "service_model",
]

_NAMESPACE = "http://awss3control.amazonaws.com/doc/2018-08-20/"
_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
_REGION_IN_HOST = re.compile(
    r"^[^.]+\.s3-control(?:-fips)?(?:\.dualstack)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com"
)
_REGION_IN_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/(?P<region>[a-z0-9-]+)/")
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_ID_ALPHABET = string.ascii_uppercase + string.digits
#: Larger request bodies are refused before parsing (the biggest valid CreateJob,
#: with every member at its maximum, is far smaller).
MAX_BODY_BYTES = 1 << 20


def new_request_id() -> str:
    """16 upper-case alphanumerics, the shape of a real ``x-amz-request-id``."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(16))


@dataclass(frozen=True)
class HttpRequest:
    """What arrived on the wire. Header names are matched case-insensitively."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes = b""


@dataclass(frozen=True)
class HttpResponse:
    """What goes back on the wire."""

    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class ParsedRequest:
    """A request the model recognised: its operation, parameters, account and region."""

    operation: str
    params: dict[str, Any]
    account_id: str
    region: str
    request_id: str = field(default_factory=new_request_id)


class UnknownRoute(Exception):
    """No s3control operation in the model matches this method and path."""


@functools.cache
def service_model() -> ServiceModel:
    """botocore's s3control model, loaded on first use (not at import)."""
    return botocore.session.get_session().get_service_model("s3control")


# --------------------------------------------------------------------------- routing


@dataclass(frozen=True)
class _Route:
    operation: OperationModel
    method: str
    path: re.Pattern[str]
    query_keys: frozenset[str]
    literal_length: int


@functools.cache
def _routes() -> tuple[_Route, ...]:
    routes = []
    model = service_model()
    for name in model.operation_names:
        operation = model.operation_model(name)
        uri = operation.http["requestUri"]
        path, _, query = uri.partition("?")
        pattern = re.sub(
            r"\\\{([^}+]+)(\\\+)?\\\}",
            lambda m: f"(?P<{_group(m.group(1))}>{'.+' if m.group(2) else '[^/]+'})",
            re.escape(path),
        )
        routes.append(
            _Route(
                operation=operation,
                method=operation.http["method"],
                path=re.compile(pattern + "$"),
                query_keys=frozenset(k for k, _ in parse_qsl(query, keep_blank_values=True)),
                literal_length=len(re.sub(r"\{[^}]+\}", "", uri)),
            )
        )
    # The most literal route wins: /jobs/{id}/status before /jobs/{id}.
    routes.sort(key=lambda r: r.literal_length, reverse=True)
    return tuple(routes)


def _group(label: str) -> str:
    return "L_" + re.sub(r"\W", "_", label)


def _match(method: str, path: str, query_keys: set[str]) -> tuple[_Route, dict[str, str]]:
    for route in _routes():
        if route.method != method or not route.query_keys <= query_keys:
            continue
        found = route.path.match(path)
        if found:
            return route, found.groupdict()
    raise UnknownRoute(f"{method} {path}")


def operation_for(method: str, url: str) -> str:
    """The s3control operation a method and URL address (``UnknownRoute`` if none)."""
    parts = urlsplit(url)
    keys = {k for k, _ in parse_qsl(parts.query, keep_blank_values=True)}
    return _match(method.upper(), parts.path, keys)[0].operation.name


# --------------------------------------------------------------------------- parsing


def parse_request(request: HttpRequest) -> ParsedRequest:
    """Turn an s3control HTTP request into its operation and parameters.

    Raises ``UnknownRoute`` for a path no operation has, and the operation's modeled
    invalid-input error for a request that cannot be read (broken XML, wrong types).
    """
    parts = urlsplit(request.url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    route, labels = _match(request.method.upper(), parts.path, {k for k, _ in query})
    operation = route.operation
    headers = {k.lower(): v for k, v in request.headers.items()}
    name = operation.name
    params: dict[str, Any] = {}
    shape = operation.input_shape
    if len(request.body) > MAX_BODY_BYTES:
        raise invalid_input(
            name,
            f"The request body is {len(request.body):,} bytes; the service accepts at most "
            f"{MAX_BODY_BYTES:,}.",
        )
    if shape is not None:
        try:
            params = _parse_input(shape, labels, query, headers, request.body)
        except ET.ParseError as exc:
            raise invalid_input(name, _unreadable_xml(request.body, exc)) from None
        except ValueError as exc:
            raise invalid_input(name, f"The request could not be read: {exc}") from None
    account = str(params.get("AccountId") or headers.get("x-amz-account-id", ""))
    return ParsedRequest(name, params, account, _region(parts.hostname or "", headers))


def _unreadable_xml(body: bytes, error: ET.ParseError) -> str:
    """Say why a body is not XML; name the element when a character XML cannot carry is why."""
    text = body.decode("utf-8", "replace")
    bad = NOT_XML.search(text)
    if bad is None:
        return f"The XML you provided was not well-formed: {error}"
    opened = re.findall(r"<([A-Za-z][\w.:-]*)[^>]*>", text[: bad.start()])
    where = opened[-1].rpartition(":")[2] if opened else "the body"
    return (
        f"{where}: contains the character U+{ord(bad.group()):04X}, which is not allowed "
        "(XML 1.0 cannot carry it)"
    )


def _region(host: str, headers: Mapping[str, str]) -> str:
    found = _REGION_IN_HOST.match(host)
    if found:
        return found["region"]
    found = _REGION_IN_SCOPE.search(headers.get("authorization", ""))
    return found["region"] if found else "us-east-1"


def _parse_input(
    shape: StructureShape,
    labels: Mapping[str, str],
    query: list[tuple[str, str]],
    headers: Mapping[str, str],
    body: bytes,
) -> dict[str, Any]:
    params: dict[str, Any] = {}
    body_members = False
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        wire_name = member.serialization.get("name", name)
        if location == "uri":
            raw = labels.get(_group(wire_name))
            if raw is not None:
                params[name] = _scalar(member, unquote(raw))
        elif location == "querystring":
            values = [v for k, v in query if k == wire_name]
            if values and member.type_name == "list":
                params[name] = [_scalar(cast(ListShape, member).member, v) for v in values]
            elif values:
                params[name] = _scalar(member, values[-1])
        elif location == "header":
            if wire_name.lower() in headers:
                params[name] = _scalar(member, headers[wire_name.lower()])
        elif location is None:
            body_members = True
    if body_members and body.strip():
        root = ET.fromstring(body)
        payload = shape.serialization.get("payload")
        if payload:
            params[payload] = _parse_xml(shape.members[payload], root)
        else:
            params.update(_parse_xml(shape, root))
    return params


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _parse_xml(shape: Shape, element: ET.Element) -> Any:
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        children: dict[str, list[ET.Element]] = {}
        for child in element:
            children.setdefault(_local(child.tag), []).append(child)
        result: dict[str, Any] = {}
        for name, member in shape.members.items():
            if member.serialization.get("location"):
                continue
            wire_name = member.serialization.get("name", name)
            found = children.get(wire_name)
            if not found:
                continue
            if member.type_name == "list" and member.serialization.get("flattened"):
                result[name] = [_parse_xml(cast(ListShape, member).member, e) for e in found]
            else:
                result[name] = _parse_xml(member, found[0])
        return result
    if kind == "list":
        item = cast(ListShape, shape).member
        item_name = item.serialization.get("name", "member")
        return [_parse_xml(item, e) for e in element if _local(e.tag) == item_name]
    if kind == "map":
        key_shape, value_shape = cast(MapShape, shape).key, cast(MapShape, shape).value
        key_name = key_shape.serialization.get("name", "key")
        value_name = value_shape.serialization.get("name", "value")
        mapping: dict[str, Any] = {}
        for entry in element:
            parts = {_local(e.tag): e for e in entry}
            if key_name not in parts:
                raise ValueError(f"a map entry of <{_local(element.tag)}> has no <{key_name}>")
            value = parts.get(value_name)
            mapping[parts[key_name].text or ""] = (
                _parse_xml(value_shape, value) if value is not None else ""
            )
        return mapping
    return _scalar(shape, element.text or "")


def _scalar(shape: Shape, text: str) -> Any:
    kind = shape.type_name
    if kind in ("integer", "long"):
        try:
            return int(text.strip())
        except ValueError:
            raise ValueError(f"{shape.name} must be an integer, got {text!r}") from None
    if kind == "boolean":
        value = text.strip().lower()
        if value not in ("true", "false"):
            raise ValueError(f"{shape.name} must be true or false, got {text!r}")
        return value == "true"
    if kind == "timestamp":
        try:
            moment = parse_timestamp(text.strip())
            # A time without a zone is UTC, as the service reads it; kept in UTC so
            # every later comparison and rendering works.
            if moment.tzinfo is None:
                return moment.replace(tzinfo=datetime.UTC)
            return moment.astimezone(datetime.UTC)
        except (ValueError, TypeError, OverflowError, RuntimeError):
            raise ValueError(f"{shape.name} must be a timestamp, got {text!r}") from None
    if kind == "blob":
        return base64.b64decode(text)
    if kind in ("float", "double"):
        return float(text)
    return text


# --------------------------------------------------------------------------- rendering


def render_result(operation: str, result: Mapping[str, Any], request_id: str) -> HttpResponse:
    """Render a successful result by walking the operation's output shape."""
    shape = service_model().operation_model(operation).output_shape
    headers = base_headers(request_id)
    if shape is None or not any(
        m.serialization.get("location") is None for m in shape.members.values()
    ):
        return HttpResponse(200, headers, b"")
    for name, member in shape.members.items():
        value = result.get(name)
        if value is not None and member.serialization.get("location") == "header":
            headers[member.serialization.get("name", name)] = _text(member, value)
    headers["Content-Type"] = "application/xml"
    return HttpResponse(200, headers, render_document(shape, result, f"{operation}Result"))


def render_document(
    shape: StructureShape, value: Mapping[str, Any], root: str, namespace: str = _NAMESPACE
) -> bytes:
    """The XML body of a structure: its body members (not headers) under ``<root>``.

    Any REST-XML model's shapes render this way; server mode renders S3's own
    responses (ListObjectsV2, ...) with botocore's S3 model through it.
    """
    out = [_XML_DECLARATION]
    _render(shape, value, root, out)
    out[1] = f'<{root} xmlns="{namespace}">'  # the root alone carries the namespace
    return "".join(out).encode("utf-8")


def render_error(error: S3ControlError, request_id: str) -> HttpResponse:
    """Render an error as S3 Control does: a wrapped ``<ErrorResponse>``."""
    headers = base_headers(request_id)
    headers["Content-Type"] = "application/xml"
    body = (
        f"{_XML_DECLARATION}<ErrorResponse><Error><Code>{_escape(error.code)}</Code>"
        f"<Message>{_escape(error.message)}</Message></Error>"
        f"<RequestId>{request_id}</RequestId><HostId>{headers['x-amz-id-2']}</HostId>"
        "</ErrorResponse>"
    )
    return HttpResponse(error.http_status, headers, body.encode("utf-8"))


def base_headers(request_id: str) -> dict[str, str]:
    """The headers every S3 response carries: request IDs and ``Server: AmazonS3``."""
    return {
        "x-amz-request-id": request_id,
        "x-amz-id-2": base64.b64encode(secrets.token_bytes(57)).decode("ascii"),
        "Server": "AmazonS3",
    }


def _escape(text: str) -> str:
    return text.translate(_ESCAPES)


def _render(shape: Shape, value: Any, name: str, out: list[str]) -> None:
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        out.append(f"<{name}>")
        for member_name, member in shape.members.items():
            member_value = value.get(member_name)
            if member_value is None or member.serialization.get("location"):
                continue
            wire_name = member.serialization.get("name", member_name)
            if member.type_name == "list" and member.serialization.get("flattened"):
                item = cast(ListShape, member).member
                for entry in member_value:
                    _render(item, entry, wire_name, out)
            else:
                _render(member, member_value, wire_name, out)
        out.append(f"</{name}>")
    elif kind == "list":
        item = cast(ListShape, shape).member
        item_name = item.serialization.get("name", "member")
        out.append(f"<{name}>")
        for entry in value:
            _render(item, entry, item_name, out)
        out.append(f"</{name}>")
    elif kind == "map":
        key_shape, value_shape = cast(MapShape, shape).key, cast(MapShape, shape).value
        key_name = key_shape.serialization.get("name", "key")
        value_name = value_shape.serialization.get("name", "value")
        out.append(f"<{name}>")
        for key, entry in value.items():
            out.append(f"<entry><{key_name}>{_escape(str(key))}</{key_name}>")
            _render(value_shape, entry, value_name, out)
            out.append("</entry>")
        out.append(f"</{name}>")
    else:
        out.append(f"<{name}>{_text(shape, value)}</{name}>")


def _text(shape: Shape, value: Any) -> str:
    kind = shape.type_name
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "timestamp":
        return iso8601(value)
    if kind == "blob":
        return base64.b64encode(value).decode("ascii")
    return _escape(str(value))
