"""Model-driven validation of what botocore lets through but AWS rejects.

botocore checks types, required members and minimum lengths on the client. The
service also enforces maxima, patterns, enums, numeric ranges and unions; this module
walks an operation's input shape and reports the first violation with the field's
path and the rule, e.g. ``Description: must be at most 256 characters (got 300)``.
Everything the mock stores is also checked to be representable in XML 1.0, so no
stored text can produce a response botocore fails to parse.

Text the mock derives rather than receives (failure reasons naming keys, report rows,
injected error messages, Lambda results) is made safe instead, by ``s3batch_mock._text``
(docs/errors.md, "Text in responses").
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
from typing import Any, cast

from botocore.model import ListShape, MapShape, Shape, StringShape, StructureShape

from s3batch_mock._text import NOT_XML

from ._per_shape import PerShape

__all__ = ["Violation", "check", "xml_safe"]

# The only shape of model pattern that uses Unicode classes, e.g. the tag pattern
# ``^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$``, which Python's ``re`` cannot compile.
_UNICODE_CLASS_PATTERN = re.compile(r"^\^\(\[(?P<body>(?:\\p\{[A-Z]\}|\\.|[^\]\\])*)\]\*\)\$$")


class Violation(ValueError):
    """One input rule broken; ``path`` names the member (``Report.Bucket``)."""

    def __init__(self, path: str, rule: str) -> None:
        super().__init__(f"{path}: {rule}" if path else rule)
        self.path = path
        self.rule = rule


def xml_safe(path: str, text: str) -> None:
    """Reject text that XML 1.0 cannot represent (control characters, lone surrogates)."""
    bad = NOT_XML.search(text)
    if bad:
        raise Violation(
            path,
            f"contains the character U+{ord(bad.group()):04X} at position {bad.start()}, "
            "which is not allowed (XML 1.0 cannot carry it)",
        )


def check(shape: Shape, value: Any, path: str = "") -> None:
    """Raise ``Violation`` for the first rule of ``shape`` that ``value`` breaks."""
    _checker(shape)(value, path)


# Each shape's rules are gathered once into a function (``_checker``, a ``PerShape``):
# the model's metadata is read at compile time, and a call checks only the rules the
# shape has.
_Checker = Callable[[Any, str], None]


def _nothing(value: Any, path: str) -> None:
    """The checker of a shape without rules (booleans, timestamps, blobs)."""


def _compile_checker(shape: Shape) -> _Checker:
    kind = shape.type_name
    if kind == "structure":
        return _structure_checker(cast(StructureShape, shape))
    if kind == "list":
        return _list_checker(cast(ListShape, shape))
    if kind == "map":
        return _map_checker(cast(MapShape, shape))
    if kind == "string":
        return _string_checker(cast(StringShape, shape))
    if kind in ("integer", "long"):
        return _number_checker(shape)
    return _nothing


_checker = PerShape[_Checker](_compile_checker)


def _structure_checker(shape: StructureShape) -> _Checker:
    required = tuple(shape.required_members)
    members = tuple((name, _checker(member)) for name, member in shape.members.items())
    checked = tuple((name, check) for name, check in members if check is not _nothing)
    names = ", ".join(shape.members)
    union = bool(shape.metadata.get("union"))

    def check_structure(value: Any, path: str) -> None:
        prefix = f"{path}." if path else ""
        get = value.get
        for name in required:
            if get(name) is None:
                raise Violation(f"{prefix}{name}", "is required")
        if union:
            present = [name for name, _ in members if get(name) is not None]
            if len(present) != 1:
                raise Violation(
                    path,
                    f"must set exactly one of {names} (got {len(present)}: "
                    f"{', '.join(present) or 'none'})",
                )
        for name, check_member in checked:
            member = get(name)
            if member is not None:
                check_member(member, f"{prefix}{name}")

    return check_structure


def _list_checker(shape: ListShape) -> _Checker:
    check_size = _size_checker(shape, "items")
    check_item = _checker(shape.member)

    def check_list(value: Any, path: str) -> None:
        check_size(len(value), path)
        if check_item is not _nothing:
            for index, item in enumerate(value):
                check_item(item, f"{path}[{index}]")

    return check_list


def _map_checker(shape: MapShape) -> _Checker:
    check_size = _size_checker(shape, "entries")
    check_key, check_value = _checker(shape.key), _checker(shape.value)

    def check_map(value: Any, path: str) -> None:
        check_size(len(value), path)
        for key, item in value.items():
            check_key(key, f"{path} key")
            check_value(item, f"{path}[{key!r}]")

    return check_map


def _size_checker(shape: Shape, unit: str) -> Callable[[int, str], None]:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")

    def check_size(size: int, path: str) -> None:
        if low is not None and size < low:
            raise Violation(path, f"must have at least {low} {unit} (got {size})")
        if high is not None and size > high:
            raise Violation(path, f"must have at most {high} {unit} (got {size})")

    return check_size


def _string_checker(shape: StringShape) -> _Checker:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    enum = shape.enum
    allowed = frozenset(enum)
    pattern = shape.metadata.get("pattern")
    matches = _matcher(pattern) if pattern else None
    not_xml = NOT_XML.search

    def check_string(value: str, path: str) -> None:
        if not_xml(value):
            xml_safe(path, value)
        if low is not None and len(value) < low:
            raise Violation(path, f"must be at least {low} characters (got {len(value)})")
        if high is not None and len(value) > high:
            raise Violation(path, f"must be at most {high} characters (got {len(value)})")
        if enum and value not in allowed:
            raise Violation(path, f"must be one of {', '.join(enum)} (got {value!r})")
        if matches is not None and not matches(value):
            raise Violation(path, f"must match the pattern {pattern} (got {value!r})")

    return check_string


def _number_checker(shape: Shape) -> _Checker:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")

    def check_number(value: int, path: str) -> None:
        if low is not None and value < low:
            raise Violation(path, f"must be at least {low} (got {value})")
        if high is not None and value > high:
            raise Violation(path, f"must be at most {high} (got {value})")

    return check_number


@functools.cache
def _matcher(pattern: str) -> Callable[[str], bool]:
    """A predicate matching the whole value, as the service does.

    botocore's model leaves some patterns unanchored (JobId's ``[a-zA-Z0-9\\-\\_]+``)
    where the Smithy model anchors them; a JobId with ``/`` or ``!`` reaches the wire
    and the service rejects it, so patterns must match the whole value.
    """
    if "\\p{" not in pattern:
        compiled = re.compile(pattern)
        return lambda text: compiled.fullmatch(text) is not None
    found = _UNICODE_CLASS_PATTERN.match(pattern)
    if found is None:  # pragma: no cover - no such pattern in the s3control model
        raise NotImplementedError(f"unsupported Unicode pattern {pattern}")
    body = found["body"]
    categories = frozenset(re.findall(r"\\p\{([A-Z])\}", body))
    literals = frozenset(re.sub(r"\\(.)", r"\1", re.sub(r"\\p\{[A-Z]\}", "", body)))
    return lambda text: all(
        c in literals or unicodedata.category(c)[0] in categories for c in text
    )
