"""Server mode: the mock over HTTP, for the AWS CLI, shell scripts and other SDKs.

``_app`` is the HTTP front end (S3 Control job calls, the control endpoints, the proxy
path); ``_s3_api`` serves S3's object API from the embedded store.
"""

from __future__ import annotations

from ._app import S3BatchServer

__all__ = [
    "S3BatchServer",
]
