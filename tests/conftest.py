"""Shared test setup: no network, ever, and a few small helpers."""

from __future__ import annotations

import ipaddress
import itertools
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.loaders
import botocore.session
import freezegun
import pytest

from s3batch_mock._lifecycle import ALLOWED

# freezegun patches every module's reference to the clock; pytest's own timing must keep
# the real one, or ``--durations`` reports frozen tests as lasting since 1970.
freezegun.configure(extend_ignore_list=["_pytest", "pytest_timeout", "xdist"])

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/batch"
#: The eight S3 Batch Operations job calls, written out (not read from the package).
JOB_OPERATIONS = (
    "CreateJob",
    "DescribeJob",
    "ListJobs",
    "UpdateJobStatus",
    "UpdateJobPriority",
    "GetJobTagging",
    "PutJobTagging",
    "DeleteJobTagging",
)


class NetworkRefused(AssertionError):
    """A test tried to reach something other than loopback."""


def _is_loopback(address: Any) -> bool:
    if not isinstance(address, tuple):  # AF_UNIX paths
        return True
    host = address[0]
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _guarded_connect(self: socket.socket, address: Any) -> None:
    if not _is_loopback(address):
        raise NetworkRefused(f"tests must not reach the network (tried {address!r})")
    _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    if not _is_loopback(address):
        raise NetworkRefused(f"tests must not reach the network (tried {address!r})")
    return _real_connect_ex(self, address)


_real_getaddrinfo = socket.getaddrinfo


def _loopback_name(host: Any) -> bool:
    """A name that resolves to loopback without asking DNS (or no name at all)."""
    if host is None:
        return True
    name = host.decode("ascii", "replace") if isinstance(host, bytes) else str(host)
    name = name.rstrip(".").lower()
    if name in ("localhost", "") or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        return False


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    if not _loopback_name(host):
        raise NetworkRefused(f"tests must not look up names on the network (tried {host!r})")
    return _real_getaddrinfo(host, *args, **kwargs)


@pytest.fixture(autouse=True, scope="session")
def _refuse_network() -> Iterator[None]:
    """No test reaches the network: connects and DNS lookups of non-loopback names fail."""
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign,assignment]
    socket.getaddrinfo = _guarded_getaddrinfo
    yield
    socket.socket.connect = _real_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _real_connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = _real_getaddrinfo


class _SearchPaths(list[str]):
    """A shared loader's search paths: boto3 appends its data path on every ``Session``."""

    def append(self, path: str) -> None:
        if path not in self:
            super().append(path)


_real_create_loader = botocore.session.create_loader
_loaders: dict[str | None, botocore.loaders.Loader] = {}


def _shared_loader(search_path_string: str | None = None) -> botocore.loaders.Loader:
    """One botocore data loader per data path, for every session the tests make.

    Each new botocore session (and moto's ``mock_aws`` makes boto3 start a new default
    session every time) would otherwise read and parse the service models again: about
    half a second for S3's. The models are read-only data, so sharing them changes
    nothing but the time, as botocore shares them between the clients of one session
    (the AWS CLI's own test utilities share one loader the same way).
    """
    loader = _loaders.get(search_path_string)
    if loader is None:
        extra = None
        if search_path_string is not None:
            extra = [
                os.path.expanduser(os.path.expandvars(path))
                for path in search_path_string.split(os.pathsep)
            ]
        loader = botocore.loaders.Loader(extra_search_paths=_SearchPaths(extra or []))
        _loaders[search_path_string] = loader
    return loader


@pytest.fixture(autouse=True, scope="session")
def _share_botocore_loaders() -> Iterator[None]:
    botocore.session.create_loader = _shared_loader
    yield
    botocore.session.create_loader = _real_create_loader


@pytest.fixture(scope="session")
def _no_aws_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty directory: the AWS config and credentials files named in it never exist
    (one for the session, so that no test pays for a ``tmp_path`` it does not use)."""
    return tmp_path_factory.mktemp("no-aws-config")


@pytest.fixture(autouse=True)
def _no_user_aws_config(monkeypatch: pytest.MonkeyPatch, _no_aws_files: Path) -> None:
    """Tests never see the developer's AWS config or credentials."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(_no_aws_files / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(_no_aws_files / "aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def pytester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """pytester whose inner sessions run as a plain pytest run, also under pytest-xdist.

    An inner ``runpytest`` runs in this process and reads its environment: in an xdist
    worker, ``PYTEST_XDIST_WORKER`` would tell the inner session's plugins that they run
    in a worker (pytest-benchmark then warns, this test's ``filterwarnings = error`` makes
    the warning an INTERNALERROR, and the inner run prints no summary to assert on).
    """
    for name in list(os.environ):
        if name.startswith("PYTEST_XDIST_"):
            monkeypatch.delenv(name)
    return pytester


def s3control(region: str = "us-east-1", **kwargs: Any) -> Any:
    return boto3.client("s3control", region_name=region, **kwargs)


def csv_manifest_job(
    client: Any,
    etag: str,
    *,
    bucket: str = "manifests",
    key: str = "manifest.csv",
    account: str = ACCOUNT,
    **overrides: Any,
) -> str:
    """CreateJob for a CSV manifest already stored at s3://bucket/key; returns the JobId."""
    params: dict[str, Any] = {
        "AccountId": account,
        "Operation": {"S3PutObjectTagging": {"TagSet": [{"Key": "k", "Value": "v"}]}},
        "Report": {"Enabled": False},
        "Manifest": {
            "Spec": {"Format": "S3BatchOperations_CSV_20180820", "Fields": ["Bucket", "Key"]},
            "Location": {"ObjectArn": f"arn:aws:s3:::{bucket}/{key}", "ETag": etag},
        },
        "Priority": 10,
        "RoleArn": ROLE,
    }
    params.update(overrides)
    return str(client.create_job(**params)["JobId"])


def describe(client: Any, job_id: str, account: str = ACCOUNT) -> dict[str, Any]:
    """DescribeJob's ``Job``."""
    return dict(client.describe_job(AccountId=account, JobId=job_id)["Job"])


def assert_allowed_history(history: list[str]) -> None:
    """Every status change in ``history`` is an edge the lifecycle allows."""
    assert history, "a job always has at least its initial status"
    assert history[0] == "New", f"history must start at New: {history}"
    for before, after in itertools.pairwise(history):
        assert after in ALLOWED[before], (
            f"{before} -> {after} is not an allowed transition (history {history})"
        )


def store_of(batch: Any) -> Any:
    """The object store behind ``batch.objects``, with what jobs use (``open``,
    ``objects``, ``write``, ``restore``...). ``batch.objects`` shows tests only the
    public face; the few tests that check what jobs see reach past it here, in one place.
    """
    return batch.objects._store
