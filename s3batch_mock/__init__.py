"""s3batch_mock: test code that drives Amazon S3 Batch Operations through boto3, offline.

from s3batch_mock import mock_s3batch

@mock_s3batch
def test_my_batch_code(): ...
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from ._backend import Call
from ._controller import S3Batch
from ._errors import S3BatchMockError, UnsupportedOperationError
from ._hooks import install as _install
from ._hooks import patch_client
from ._jobs import Job, Transition
from ._mock import S3BatchMock, current_batch, mock_s3batch
from ._server import S3BatchServer
from ._stores import EmbeddedStore, ObjectInfo, ObjectStore, ObjectStoreError

__all__ = [
    "Call",
    "EmbeddedStore",
    "Job",
    "ObjectInfo",
    "ObjectStore",
    "ObjectStoreError",
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

try:
    __version__ = version("s3batch_mock")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

_install()
