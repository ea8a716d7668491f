"""moto mode: moto's own server application answers every request but the job calls.

With moto's server parts installed (``pip install 's3batch_mock[server]'``, which brings
``moto[server]``), ``S3BatchServer`` serves S3 Batch Operations job calls itself and
passes every other request to moto's WSGI application (what ``moto_server`` serves):
S3 in full, IAM, STS, Lambda, CloudFormation and the rest.

Jobs and scripts see the same objects: while the server runs, moto's ``mock_aws`` is
active in this process, started without a reset, so jobs reach objects through
``MotoStore`` (moto's S3 via boto3), and moto's server application answers scripts
from the very same in-memory backends.
"""

from __future__ import annotations

import importlib.util
from typing import Any

__all__ = ["MotoSide", "moto_server_available"]

# What moto's server application imports beyond moto itself (moto[server]).
_SERVER_MODULES = ("moto", "flask", "flask_cors", "werkzeug")


def moto_server_available() -> bool:
    """True if moto and its server parts can be imported (without importing them)."""
    return all(importlib.util.find_spec(name) is not None for name in _SERVER_MODULES)


class MotoSide:
    """moto's server application and the in-process ``mock_aws`` that shares its state."""

    def __init__(self) -> None:
        # Imported here: moto is optional, and importing it costs a second.
        from moto import __version__, mock_aws  # noqa: PLC0415
        from moto.moto_server.werkzeug_app import (  # noqa: PLC0415
            DomainDispatcherApplication,
            create_backend_app,
        )

        self.version: str = __version__
        self.app: Any = DomainDispatcherApplication(create_backend_app)
        self._mock: Any = mock_aws()
        self._active = False

    def start(self) -> None:
        """Activate ``mock_aws`` in this process, keeping whatever state moto holds."""
        if not self._active:
            self._mock.start(reset=False)
            self._active = True

    def stop(self) -> None:
        """Deactivate this server's ``mock_aws``; moto's state stays for whoever else
        uses moto in this process (a new ``mock_aws()`` resets it as usual)."""
        if self._active:
            self._active = False
            self._mock.stop(remove_data=False)

    def reset(self) -> None:
        """Drop everything moto holds (what moto's own ``POST /moto-api/reset`` does)."""
        from moto.core.base_backend import BackendDict  # noqa: PLC0415
        from moto.core.model_instances import reset_model_data  # noqa: PLC0415

        BackendDict.reset()
        reset_model_data()

    def buckets(self) -> dict[str, list[str]]:
        """Every bucket in moto's S3 and its keys, for ``GET /_s3batch/state``."""
        import boto3  # noqa: PLC0415

        if not self._active:  # the client below would otherwise reach AWS itself
            raise RuntimeError("moto's mock_aws is not active: refusing to call AWS")
        # AWS's own endpoint, whatever AWS_ENDPOINT_URL says: mock_aws answers it in-process.
        # Credentials given, not looked up: moto accepts any, and the environment may
        # hold none (a test that cleared it).
        s3 = boto3.session.Session().client(
            "s3",
            region_name="us-east-1",
            endpoint_url="https://s3.us-east-1.amazonaws.com",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        listing: dict[str, list[str]] = {}
        for bucket in s3.list_buckets().get("Buckets", []):
            keys: list[str] = []
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket["Name"]):
                keys.extend(item["Key"] for item in page.get("Contents", []))
            listing[bucket["Name"]] = keys
        return listing
