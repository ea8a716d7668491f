"""The wire layer: HTTP request <-> (operation, params), result/error -> HTTP response.

Nothing here is written per operation. Requests are parsed and responses rendered by
walking the shapes of botocore's own s3control service model (REST-XML), so the eight
job operations share one parser and one renderer that cannot drift from the model. The
renderer of each output shape is generated from that walk once, on first use.
The same functions serve the botocore hook and, later, the HTTP server.

No text can break a response: every string the renderer writes, error messages
included, is made XML-1.0-safe and UTF-8-encodable (``xml_text``: a character XML
cannot carry, a lone surrogate included, becomes U+FFFD), and none is written longer
than its shape's maximum (cut with ``…``).
"""

from __future__ import annotations

import base64
import datetime
import functools
import itertools
import os
import random
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, cast
from urllib.parse import parse_qsl, unquote, urlsplit

import botocore.session
from botocore.model import ListShape, MapShape, OperationModel, ServiceModel, Shape, StructureShape
from botocore.utils import parse_timestamp

from s3batch_mock._clock import iso8601
from s3batch_mock._errors import S3ControlError, invalid_input
from s3batch_mock._text import NOT_XML, fit, xml_text

from ._per_shape import PerShape

__all__ = [
    "CaseInsensitiveHeaders",
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
#: Larger request bodies are refused before parsing (the biggest valid CreateJob,
#: with every member at its maximum, is far smaller).
MAX_BODY_BYTES = 1 << 20


# Request IDs need to look real and differ, not to be secret: a generator of our own
# (seeded from the OS, reseeded in a forked child) costs no system call per response and
# leaves the ``random`` module's sequence, which tests may seed, untouched.
_ids = random.Random()
if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_ids.seed)


def new_request_id() -> str:
    """16 upper-case hexadecimal digits, the shape of a real ``x-amz-request-id``."""
    return f"{_ids.getrandbits(64):016X}"


class CaseInsensitiveHeaders(Mapping[str, str]):
    """Headers that answer a lookup by lower-case name whatever the names' case.

    ``parse_request`` reads such headers one by one, as it needs them; any other
    mapping it first copies with lower-cased names, which costs a pass over all of them.
    """


@dataclass(frozen=True)
class HttpRequest:
    """What arrived on the wire. Header names are matched case-insensitively."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes = b""
    #: The region the sender is configured for, when it says (an in-process botocore
    #: client's own ``region_name``); else the host or the signature's scope tells.
    region: str | None = None


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


#: An input member outside the body: (member, location, key, shape), the key being
#: what to look up: the URI label's group, the query parameter, the header in lower case.
_Located = tuple[str, str, str, Shape]


@dataclass(frozen=True)
class _Route:
    operation: OperationModel
    method: str
    path: re.Pattern[str]
    query_keys: frozenset[str]
    literal_length: int
    located: tuple[_Located, ...]  # the input's URI, query and header members
    body: bool  # whether any input member travels in the body


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
        members = operation.input_shape.members if operation.input_shape is not None else {}
        routes.append(
            _Route(
                operation=operation,
                method=operation.http["method"],
                path=re.compile(pattern + "$"),
                query_keys=frozenset(k for k, _ in parse_qsl(query, keep_blank_values=True)),
                literal_length=len(re.sub(r"\{[^}]+\}", "", uri)),
                located=_located(members),
                body=any(m.serialization.get("location") is None for m in members.values()),
            )
        )
    # The most literal route wins: /jobs/{id}/status before /jobs/{id}.
    routes.sort(key=lambda r: r.literal_length, reverse=True)
    return tuple(routes)


def _group(label: str) -> str:
    return "L_" + re.sub(r"\W", "_", label)


def _located(members: Mapping[str, Shape]) -> tuple[_Located, ...]:
    located = []
    for name, member in members.items():
        location = member.serialization.get("location")
        if location is None:
            continue
        wire_name = member.serialization.get("name", name)
        if location == "uri":
            key = _group(wire_name)
        else:
            key = wire_name.lower() if location == "header" else wire_name
        located.append((name, location, key, member))
    return tuple(located)


def _head(path: str) -> str | None:
    """The second segment of a path (``jobs`` in ``/v20180820/jobs/{id}``), if any."""
    segments = path.split("/", 3)
    return segments[2] if len(segments) > 2 else None


_Routes = tuple[_Route, ...]


@functools.cache
def _route_index() -> tuple[dict[tuple[str, str], _Routes], dict[str, _Routes]]:
    """The routes a request can match, by method and the path's second segment.

    Every s3control path is ``/v20180820/<literal>/...``, so a request needs to try only
    the routes of its method that share its second segment: a handful instead of the
    whole model. A route whose first two segments are not literal would be tried for
    every path of its method. Each list keeps the order of ``_routes()``.
    """
    routes = _routes()
    heads: list[str | None] = []
    for route in routes:
        segments = route.operation.http["requestUri"].partition("?")[0].split("/", 3)
        literal = len(segments) > 2 and "{" not in segments[1] and "{" not in segments[2]
        heads.append(segments[2] if literal else None)
    keyed = list(zip(routes, heads, strict=True))
    anywhere = {
        method: tuple(r for r, h in keyed if r.method == method and h is None)
        for method in {r.method for r in routes}
    }
    by_head = {
        (method, head): tuple(r for r, h in keyed if r.method == method and h in (head, None))
        for method, head in {(r.method, h) for r, h in keyed if h is not None}
    }
    return by_head, anywhere


def _match(method: str, path: str, query_keys: set[str]) -> tuple[_Route, dict[str, str]]:
    by_head, anywhere = _route_index()
    head = _head(path)
    if "\n" in path:  # ``$`` also matches before a final newline: try every route
        candidates: _Routes = _routes()
    elif head is None:
        candidates = anywhere.get(method, ())
    else:
        candidates = by_head.get((method, head)) or anywhere.get(method, ())
    for route in candidates:
        if route.method != method or not route.query_keys <= query_keys:
            continue
        found = route.path.match(path)
        if found:
            return route, found.groupdict()
    raise UnknownRoute(f"{method} {path}")


def operation_for(method: str, url: str) -> str:
    """The s3control operation a method and URL address (``UnknownRoute`` if none)."""
    return _address(method, url)[0].operation.name


# --------------------------------------------------------------------------- parsing


def parse_request(request: HttpRequest) -> ParsedRequest:
    """Turn an s3control HTTP request into its operation and parameters.

    Raises ``UnknownRoute`` for a path no operation has, and the operation's modeled
    invalid-input error for a request that cannot be read (broken XML, wrong types).
    """
    route, labels, query, host_region = _address(request.method, request.url)
    operation = route.operation
    headers = request.headers
    if not isinstance(headers, CaseInsensitiveHeaders):
        headers = {k.lower(): v for k, v in headers.items()}
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
            params = _parse_input(shape, route, labels, query, headers, request.body)
        except ET.ParseError as exc:
            raise invalid_input(name, _unreadable_xml(request.body, exc)) from None
        except ValueError as exc:
            raise invalid_input(name, f"The request could not be read: {exc}") from None
    account = str(params.get("AccountId") or headers.get("x-amz-account-id", ""))
    region = request.region or host_region or _region(headers)
    return ParsedRequest(name, params, account, region)


@functools.lru_cache(maxsize=512)
def _address(
    method: str, url: str
) -> tuple[_Route, Mapping[str, str], tuple[tuple[str, str], ...], str | None]:
    """The route, URI labels and query of a request, and the region its host names.

    Cached: a test addresses the same few URLs (its jobs') over and over, and none of
    this depends on anything but the method and the URL.
    """
    parts = urlsplit(url)
    query = tuple(parse_qsl(parts.query, keep_blank_values=True))
    route, labels = _match(method.upper(), parts.path, {k for k, _ in query})
    found = _REGION_IN_HOST.match(parts.hostname or "")
    return route, MappingProxyType(labels), query, found["region"] if found else None


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


def _region(headers: Mapping[str, str]) -> str:
    """The region of a request whose host does not name one: its signature's scope."""
    found = _REGION_IN_SCOPE.search(headers.get("authorization", ""))
    return found["region"] if found else "us-east-1"


def _parse_input(
    shape: StructureShape,
    route: _Route,
    labels: Mapping[str, str],
    query: tuple[tuple[str, str], ...],
    headers: Mapping[str, str],
    body: bytes,
) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for name, location, key, member in route.located:
        if location == "uri":
            raw = labels.get(key)
            if raw is not None:
                params[name] = _scalar(member, unquote(raw))
        elif location == "querystring":
            values = [v for k, v in query if k == key]
            if values and member.type_name == "list":
                params[name] = [_scalar(cast(ListShape, member).member, v) for v in values]
            elif values:
                params[name] = _scalar(member, values[-1])
        elif location == "header" and (value := headers.get(key)) is not None:
            params[name] = _scalar(member, value)
    if route.body and body.strip():
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
    if kind == "string":  # the common case first
        return text
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
    """Render a successful result as the operation's output shape lays it out."""
    shape, header_members = _output_plan(operation)
    headers = base_headers(request_id)
    if shape is None:
        return HttpResponse(200, headers, b"")
    for name, wire_name, text in header_members:
        value = result.get(name)
        if value is not None:
            headers[wire_name] = text(value)
    headers["Content-Type"] = "application/xml"
    return HttpResponse(200, headers, render_document(shape, result, f"{operation}Result"))


@functools.cache
def _output_plan(
    operation: str,
) -> tuple[StructureShape | None, tuple[tuple[str, str, Callable[[Any], str]], ...]]:
    """An operation's output shape (None when nothing goes in the body) and its header
    members: (member, header name, text of a value)."""
    shape = service_model().operation_model(operation).output_shape
    if shape is None:
        return None, ()
    headers = tuple(
        (name, member.serialization.get("name", name), _TEXTS.get(member.type_name, _string))
        for name, member in shape.members.items()
        if member.serialization.get("location") == "header"
    )
    if not any(m.serialization.get("location") is None for m in shape.members.values()):
        return None, headers
    return shape, headers


def render_document(
    shape: StructureShape, value: Mapping[str, Any], root: str, namespace: str = _NAMESPACE
) -> bytes:
    """The XML body of a structure: its body members (not headers) under ``<root>``.

    Any REST-XML model's shapes render this way; server mode renders S3's own
    responses (ListObjectsV2, ...) with botocore's S3 model through it.

    Whatever the strings hold, the document is one botocore parses (``_text``).
    """
    out = [_XML_DECLARATION]
    _renderer(shape)(value, root, out)
    out[1] = f'<{root} xmlns="{namespace}">'  # the root alone carries the namespace
    return "".join(out).encode("utf-8")


def render_error(error: S3ControlError, request_id: str) -> HttpResponse:
    """Render an error as S3 Control does: a wrapped ``<ErrorResponse>``.

    Code and message are made XML-safe, so any message (an injected one, one naming a
    hostile key) reaches botocore, which then raises ``client.exceptions.<Code>``.
    """
    headers = base_headers(request_id)
    headers["Content-Type"] = "application/xml"
    body = (
        f"{_XML_DECLARATION}<ErrorResponse><Error><Code>{_string(error.code)}</Code>"
        f"<Message>{_string(error.message)}</Message></Error>"
        f"<RequestId>{request_id}</RequestId><HostId>{headers['x-amz-id-2']}</HostId>"
        "</ErrorResponse>"
    )
    return HttpResponse(error.http_status, headers, body.encode("utf-8"))


def base_headers(request_id: str) -> dict[str, str]:
    """The headers every S3 response carries: request IDs and ``Server: AmazonS3``."""
    return {
        "x-amz-request-id": request_id,
        "x-amz-id-2": base64.b64encode(_ids.randbytes(57)).decode("ascii"),
        "Server": "AmazonS3",
    }


def _escape(text: str) -> str:
    """Text as XML character data: ``&``, ``<``, ``>`` and CR escaped (CR, so a parser
    does not turn it into LF). Most text has none of them, and is returned as it is."""
    if "&" in text or "<" in text or ">" in text or "\r" in text:
        return (
            text.replace("&", "&amp;")
            .replace("<", "&lt;")
            .replace(">", "&gt;")
            .replace("\r", "&#13;")
        )
    return text


# Each shape is compiled once (``_renderer``, a ``PerShape``) into a function that
# appends its XML to ``out``.
_Renderer = Callable[[Any, str, list[str]], None]


def _compile_renderer(shape: Shape) -> _Renderer:
    """Generate the renderer of ``shape`` as Python source, as ``dataclasses`` generates
    ``__init__``: every member, item and nested structure unrolled into one function,
    scalars written in place, so a document costs a few operations per value instead of
    a function call.

    Model names enter the source only as ``repr`` literals, so none can change the code.
    The output is exactly what walking the shapes member by member would produce.
    """
    source = _Source({"escape": _escape, "safe": xml_text, "fit": fit})
    source.line(1, "append = out.append")
    source.value(1, "value", None, shape, ())
    code = "def render(value, name, out):\n" + "\n".join(source.lines)
    exec(code, source.namespace)
    return cast(_Renderer, source.namespace["render"])


_renderer = PerShape[_Renderer](_compile_renderer)


class _Source:
    """The lines of a generated renderer and the names its code refers to."""

    #: Python allows a function 20 nested blocks: shapes nested deeper than this are
    #: rendered by a call to their own renderer.
    MAX_DEPTH = 12

    def __init__(self, namespace: dict[str, Any]) -> None:
        self.namespace = namespace
        self.lines: list[str] = []
        self._names = itertools.count()

    def line(self, depth: int, text: str) -> None:
        self.lines.append("    " * depth + text)

    def name(self, prefix: str, value: object = None) -> str:
        """A new name, bound to ``value`` in the namespace when one is given."""
        name = f"{prefix}_{next(self._names)}"
        if value is not None:
            self.namespace[name] = value
        return name

    def value(
        self,
        depth: int,
        var: str,
        element: str | None,
        shape: Shape,
        enclosing: tuple[Shape, ...],
    ) -> None:
        """Render ``var`` of ``shape`` as ``element`` (``None``: the renderer's ``name``)."""
        kind = shape.type_name
        opening = "'<' + name + '>'" if element is None else repr(f"<{element}>")
        closing = "'</' + name + '>'" if element is None else repr(f"</{element}>")
        if kind in ("structure", "list", "map") and (
            depth >= self.MAX_DEPTH or any(shape is s for s in enclosing)
        ):
            function = self.name("render", _renderer(shape))
            target = "name" if element is None else repr(element)
            self.line(depth, f"{function}({var}, {target}, out)")
        elif kind == "structure":
            self.line(depth, f"append({opening})")
            self.structure(depth, var, cast(StructureShape, shape), (*enclosing, shape))
            self.line(depth, f"append({closing})")
        elif kind == "list":
            item = cast(ListShape, shape).member
            item_var = self.name("item")
            self.line(depth, f"append({opening})")
            self.line(depth, f"for {item_var} in {var}:")
            item_name = item.serialization.get("name", "member")
            self.value(depth + 1, item_var, item_name, item, (*enclosing, shape))
            self.line(depth, f"append({closing})")
        elif kind == "map":
            key_shape, value_shape = cast(MapShape, shape).key, cast(MapShape, shape).value
            key_name = key_shape.serialization.get("name", "key")
            key, entry = self.name("key"), self.name("entry")
            self.line(depth, f"append({opening})")
            self.line(depth, f"for {key}, {entry} in {var}.items():")
            self.line(
                depth + 1,
                f"append({f'<entry><{key_name}>'!r} + escape(safe(str({key}))) + "
                f"{f'</{key_name}>'!r})",
            )
            value_name = value_shape.serialization.get("name", "value")
            self.value(depth + 1, entry, value_name, value_shape, (*enclosing, shape))
            self.line(depth + 1, "append('</entry>')")
            self.line(depth, f"append({closing})")
        elif (text := _TEXTS.get(kind)) is not None:
            self.line(depth, f"append({opening} + {self.name('text', text)}({var}) + {closing})")
        else:  # strings, numbers and anything else: escaped ``str``
            self.line(depth, f"t = str({var})")
            if kind == "string" and (maximum := shape.metadata.get("max")):
                # Derived text (a failure reason naming a long key) within the model's
                # maximum; input was already checked against it.
                self.line(depth, f"if len(t) > {int(maximum)}:")
                self.line(depth + 1, f"t = fit(t, {int(maximum)})")
            if kind not in _NUMBERS:  # ``_text``: printable text (most) needs no scan
                self.line(depth, "if not t.isprintable():")
                self.line(depth + 1, "t = safe(t)")
            self.line(depth, "if '&' in t or '<' in t or '>' in t or '\\r' in t:")
            self.line(depth + 1, "t = escape(t)")
            self.line(depth, f"append({opening} + t + {closing})")

    def structure(
        self, depth: int, var: str, shape: StructureShape, enclosing: tuple[Shape, ...]
    ) -> None:
        """The body members of a structure, in model order, each only when present."""
        get = self.name("get")
        self.line(depth, f"{get} = {var}.get")
        for member_name, member in shape.members.items():
            if member.serialization.get("location"):
                continue  # a header, URI label or query parameter, never in the body
            wire_name = member.serialization.get("name", member_name)
            present = self.name("v")
            self.line(depth, f"{present} = {get}({member_name!r})")
            self.line(depth, f"if {present} is not None:")
            if member.type_name == "list" and member.serialization.get("flattened"):
                item = self.name("item")
                self.line(depth + 1, f"for {item} in {present}:")
                member_shape = cast(ListShape, member).member
                self.value(depth + 2, item, wire_name, member_shape, enclosing)
            else:
                self.value(depth + 1, present, wire_name, member, enclosing)


def _string(value: Any) -> str:
    """Any value as XML character data: ``_text`` of its ``str``."""
    return _text(str(value))


def _text(text: str) -> str:
    """Text as XML character data any XML 1.0 parser reads and UTF-8 encodes: what XML
    cannot carry replaced (``xml_text``), then escaped. Printable text, which cannot
    hold such a character, is not scanned for one (the generated renderers inline this).
    """
    return _escape(text if text.isprintable() else xml_text(text))


#: Types whose ``str`` is always plain ASCII digits and signs.
_NUMBERS = frozenset({"integer", "long", "float", "double"})


def _boolean(value: Any) -> str:
    return "true" if value else "false"


def _blob(value: Any) -> str:
    return base64.b64encode(value).decode("ascii")


#: The text of a scalar by the shape's type; anything else is written as a string.
_TEXTS: dict[str, Callable[[Any], str]] = {
    "boolean": _boolean,
    "timestamp": iso8601,
    "blob": _blob,
}
