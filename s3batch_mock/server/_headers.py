"""Header values in and out, the way S3 handles them.

HTTP header values are bytes a client and a server agree to read as ASCII (latin-1 at
most); a WSGI server hands them over, and takes them back, as latin-1 ``str``. S3's
user metadata may hold any Unicode, and S3 documents how it travels (S3 User Guide,
"Working with object metadata", user-defined metadata): "When using non-US-ASCII
characters in your metadata values, the provided Unicode string is examined for
non-US-ASCII characters. Values of such headers are character decoded as per RFC 2047
before storing and encoded as per RFC 2047 to make them mail-safe before returning."

So values are decoded on the way in (``metadata_value``) and every response header
leaves through ``safe_headers``: a value that is not printable ASCII is sent as one
RFC 2047 encoded word (``=?UTF-8?B?...?=``). Nothing a stored value holds (``€``, a
CR or LF) can then break a response or add a header line to it.
"""

from __future__ import annotations

import base64
import binascii
import email.errors
import email.header
import re
from collections.abc import Iterable

__all__ = ["encode_value", "metadata_value", "safe_headers"]

# Printable ASCII and horizontal tab: what a header value may carry as it is.
_PLAIN = re.compile(r"[\t\x20-\x7e]*")
# A header name is an RFC 9110 token.
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def metadata_value(raw: str) -> str:
    """A received ``x-amz-meta-*`` value as S3 stores it.

    ``raw`` is the latin-1 reading of the bytes on the wire: bytes that form UTF-8 are
    read as UTF-8, then RFC 2047 encoded words are decoded (S3 stores the decoded
    text). A malformed encoded word is kept as it was sent.
    """
    text = _unicode(raw)
    if "=?" not in text:
        return text
    try:
        return str(email.header.make_header(email.header.decode_header(text)))
    except (email.errors.HeaderParseError, binascii.Error, LookupError, UnicodeDecodeError):
        return text


def encode_value(value: str) -> str:
    """``value`` as it may appear on the wire: itself if printable ASCII, else as one
    RFC 2047 encoded word of its UTF-8 bytes (``=?UTF-8?B?...?=``)."""
    if _PLAIN.fullmatch(value):
        return value
    return "=?UTF-8?B?" + base64.b64encode(value.encode("utf-8", "surrogatepass")).decode() + "?="


def _unicode(value: str) -> str:
    """A value some application (moto) gave as the latin-1 reading of UTF-8 bytes, as
    the text those bytes are; any other value as it is."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def safe_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Response headers safe to write: a value that is not printable ASCII is RFC 2047
    encoded, and a header whose name is not a token is left out."""
    safe = []
    for name, value in headers:
        if not _TOKEN.fullmatch(name):
            continue
        text = str(value)
        safe.append((name, text if _PLAIN.fullmatch(text) else encode_value(_unicode(text))))
    return safe
