"""Server mode: the mock over HTTP, for the AWS CLI, shell scripts and other SDKs.

``_server`` holds ``S3BatchServer``; ``_app`` is the WSGI application (s3control job
calls, ``CONNECT``, the proxy path, routing), ``_control`` the ``/_s3batch/`` control
endpoints, ``_http`` waitress under it, ``_moto`` moto mode, ``_s3_api`` S3's object
API on the embedded store, ``_oss`` and ``_oss_objects`` the Alibaba Cloud OSS dialect
(batch-job calls and object calls) and ``_headers`` header values in and out.
"""

from __future__ import annotations

from ._server import MODES, S3BatchServer

__all__ = [
    "MODES",
    "S3BatchServer",
]
