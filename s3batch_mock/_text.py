"""Text the mock carries: one home for what XML 1.0, UTF-8 and the model's maxima allow.

Everything stored, derived or echoed goes through these before it reaches a response or a
report: characters XML 1.0 cannot carry (C0 controls, lone surrogates, U+FFFE/U+FFFF)
are replaced, unprintable ones written as Python literals in messages, long text fitted.
"""

from __future__ import annotations

import re

__all__ = ["NOT_XML", "SURROGATE", "fit", "readable", "shortened", "utf8_text", "xml_text"]

# Characters XML 1.0 cannot carry: the complement of its Char production
# ``#x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]``
# (https://www.w3.org/TR/xml/#charsets), spelled out: the same set as the negated class,
# but compiled at import in about a millisecond instead of about nine.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
#: A lone surrogate, the only kind of ``str`` character UTF-8 cannot encode (a pair
#: decoded from UTF-8 is one character, U+10000 or above).
SURROGATE = re.compile("[\ud800-\udfff]")


def xml_text(text: str) -> str:
    """``text`` with every character XML 1.0 cannot carry replaced by U+FFFD.

    Those characters include every lone surrogate, so the result also encodes as UTF-8.
    Most text has none, and is returned as it is after one scan.
    """
    return NOT_XML.sub("\ufffd", text) if NOT_XML.search(text) else text


def utf8_text(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD, so UTF-8 can encode it."""
    return SURROGATE.sub("\ufffd", text) if SURROGATE.search(text) else text


def readable(text: str) -> str:
    """``text`` for a message: each character that does not print (controls, lone
    surrogates, U+FFFF, ...) written as a Python literal writes it (``\\x01``,
    ``\\ud800``), everything else as it is. The result is XML- and UTF-8-safe."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def fit(text: str, maximum: int) -> str:
    """``text`` cut to at most ``maximum`` characters, ending in ``…`` when cut."""
    return text if len(text) <= maximum else text[: maximum - 1] + "\u2026"


def shortened(text: str, maximum: int) -> str:
    """``text`` at most ``maximum`` characters long, its middle elided with ``…`` when
    too long, so a long key in a message keeps its start and its end."""
    if len(text) <= maximum:
        return text
    head = (maximum - 1) // 2
    return text[:head] + "\u2026" + text[len(text) - (maximum - 1 - head) :]
