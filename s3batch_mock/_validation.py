"""Model-driven validation of what botocore lets through but AWS rejects.

botocore checks types, required members and minimum lengths on the client. The
service also enforces maxima, patterns, enums, numeric ranges and unions; this module
walks an operation's input shape and reports the first violation with the field's
path and the rule, e.g. ``Description: must be at most 256 characters (got 300)``.
Everything the mock stores is also checked to be representable in XML 1.0, so no
stored text can produce a response botocore fails to parse.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
from typing import Any, cast

from botocore.model import ListShape, MapShape, Shape, StringShape, StructureShape

__all__ = ["NOT_XML", "Violation", "check", "xml_safe"]

# Characters XML 1.0 can carry (https://www.w3.org/TR/xml/#charsets).
NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
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
    kind = shape.type_name
    if kind == "structure":
        _check_structure(shape, value, path)
    elif kind == "list":
        _check_size(shape, len(value), path, "items")
        member = cast(ListShape, shape).member
        for index, item in enumerate(value):
            check(member, item, f"{path}[{index}]")
    elif kind == "map":
        _check_size(shape, len(value), path, "entries")
        for key, item in value.items():
            check(cast(MapShape, shape).key, key, f"{path} key")
            check(cast(MapShape, shape).value, item, f"{path}[{key!r}]")
    elif kind == "string":
        _check_string(shape, value, path)
    elif kind in ("integer", "long"):
        _check_number(shape, value, path)


def _check_structure(shape: Shape, value: Any, path: str) -> None:
    assert isinstance(shape, StructureShape)
    prefix = f"{path}." if path else ""
    for name in shape.required_members:
        if value.get(name) is None:
            raise Violation(f"{prefix}{name}", "is required")
    present = [name for name in shape.members if value.get(name) is not None]
    if shape.metadata.get("union") and len(present) != 1:
        raise Violation(
            path,
            f"must set exactly one of {', '.join(shape.members)} (got {len(present)}: "
            f"{', '.join(present) or 'none'})",
        )
    for name in present:
        check(shape.members[name], value[name], f"{prefix}{name}")


def _check_size(shape: Shape, size: int, path: str, unit: str) -> None:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and size < low:
        raise Violation(path, f"must have at least {low} {unit} (got {size})")
    if high is not None and size > high:
        raise Violation(path, f"must have at most {high} {unit} (got {size})")


def _check_string(shape: Shape, value: str, path: str) -> None:
    xml_safe(path, value)
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and len(value) < low:
        raise Violation(path, f"must be at least {low} characters (got {len(value)})")
    if high is not None and len(value) > high:
        raise Violation(path, f"must be at most {high} characters (got {len(value)})")
    enum = cast(StringShape, shape).enum
    if enum and value not in enum:
        raise Violation(path, f"must be one of {', '.join(enum)} (got {value!r})")
    pattern = shape.metadata.get("pattern")
    if pattern and not _matcher(pattern)(value):
        raise Violation(path, f"must match the pattern {pattern} (got {value!r})")


def _check_number(shape: Shape, value: int, path: str) -> None:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and value < low:
        raise Violation(path, f"must be at least {low} (got {value})")
    if high is not None and value > high:
        raise Violation(path, f"must be at most {high} (got {value})")


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
