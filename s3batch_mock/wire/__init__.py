"""The wire: HTTP requests in, operations and parameters out; results and errors back.

Driven by botocore's own s3control model (``_s3control``): routes, request parsing and
response rendering for the AWS REST-XML dialect, plus the service-side validation AWS
does and botocore does not (``_validation``). A second dialect (Alibaba OSS) sits beside
it. Nothing here knows about jobs.
"""

from __future__ import annotations

from ._s3control import (
    MAX_BODY_BYTES,
    CaseInsensitiveHeaders,
    HttpRequest,
    HttpResponse,
    ParsedRequest,
    UnknownRoute,
    base_headers,
    new_request_id,
    operation_for,
    parse_request,
    render_document,
    render_error,
    render_result,
    service_model,
)
from ._validation import Violation, check
from ._xml import XMLRefused, parse_untrusted

__all__ = [
    "MAX_BODY_BYTES",
    "CaseInsensitiveHeaders",
    "HttpRequest",
    "HttpResponse",
    "ParsedRequest",
    "UnknownRoute",
    "Violation",
    "XMLRefused",
    "base_headers",
    "check",
    "new_request_id",
    "operation_for",
    "parse_request",
    "parse_untrusted",
    "render_document",
    "render_error",
    "render_result",
    "service_model",
]
