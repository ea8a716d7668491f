"""s3batch_mock: test code that drives Amazon S3 Batch Operations through boto3, offline.

from s3batch_mock import mock_s3batch

@mock_s3batch
def test_my_batch_code(): ...

Names are loaded when first used, so importing the package (as pytest does for the
plugin) costs nothing until a mock is wanted. Every botocore client is served while a
mock is active, however and whenever it was created.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from ._backend import Call
    from ._controller import S3Batch
    from ._errors import (
        AWSCallRefused,
        MockEndedError,
        S3BatchMockError,
        UnsupportedOperationError,
    )
    from ._hooks import patch_client
    from ._jobs import Job, Transition
    from ._mock import S3BatchMock, current_batch, mock_s3batch
    from .server import S3BatchServer
    from .stores import EmbeddedStore, ObjectInfo, Objects, ObjectStore, ObjectStoreError

__all__ = [
    "AWSCallRefused",
    "Call",
    "EmbeddedStore",
    "Job",
    "MockEndedError",
    "ObjectInfo",
    "ObjectStore",
    "ObjectStoreError",
    "Objects",
    "S3Batch",
    "S3BatchMock",
    "S3BatchMockError",
    "S3BatchServer",
    "Transition",
    "UnsupportedOperationError",
    "__version__",
    "current_batch",
    "mock_s3batch",
    "patch_client",
]

#: Where each public name lives.
_HOMES = {
    "AWSCallRefused": "_errors",
    "Call": "_backend",
    "EmbeddedStore": "stores",
    "Job": "_jobs",
    "MockEndedError": "_errors",
    "ObjectInfo": "stores",
    "Objects": "stores",
    "ObjectStore": "stores",
    "ObjectStoreError": "stores",
    "S3Batch": "_controller",
    "S3BatchMock": "_mock",
    "S3BatchMockError": "_errors",
    "S3BatchServer": "server",
    "Transition": "_jobs",
    "UnsupportedOperationError": "_errors",
    "current_batch": "_mock",
    "mock_s3batch": "_mock",
    "patch_client": "_hooks",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(f"{__name__}.{_HOMES[name]}")
    value = getattr(module, name)
    # Not cached here: the submodule is the one home of each name (a test tool that
    # unloads and reloads submodules, as pytester does, then gets the live one).
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
