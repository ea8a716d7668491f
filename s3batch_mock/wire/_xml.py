"""XML bodies from untrusted senders, one rule for every dialect: bounded, UTF-8, no DTD.

ElementTree expands internal entities; a body that declares none cannot be blown up,
and a UTF-16 or UTF-32 body (which would hide ``<!DOCTYPE`` from a byte search) is
refused by its NUL bytes.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

__all__ = ["XMLRefused", "parse_untrusted"]


class XMLRefused(ValueError):
    """A body refused before or while parsing; ``too_large`` tells which kind."""

    def __init__(self, message: str, *, too_large: bool = False) -> None:
        super().__init__(message)
        self.too_large = too_large


def parse_untrusted(body: bytes, max_bytes: int) -> ET.Element:
    """The root element of ``body``, or ``XMLRefused`` saying what was wrong."""
    if len(body) > max_bytes:
        raise XMLRefused(f"The request body is larger than {max_bytes} bytes.", too_large=True)
    if b"\x00" in body:
        raise XMLRefused("The XML you provided was not well-formed: it is not UTF-8.")
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise XMLRefused("The XML you provided was not well-formed: DTDs are not allowed.")
    try:
        return ET.fromstring(body)
    except ET.ParseError as exc:
        raise XMLRefused(f"The XML you provided was not well-formed: {exc}.") from None
