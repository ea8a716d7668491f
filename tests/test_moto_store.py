"""``MotoStore``: the object-store protocol over moto's S3.

Every method is checked against what a test's own boto3 client sees in moto, and
the error codes against ``EmbeddedStore``, the reference for the semantics, so that
a job fails the same way whichever store serves it.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import IO, Any

import boto3
import pytest
from moto import mock_aws

from s3batch_mock.stores import (
    CopySpec,
    EmbeddedStore,
    ObjectStore,
    ObjectStoreError,
    moto_is_active,
)
from s3batch_mock.stores import _moto as _moto_store
from s3batch_mock.stores._moto import MotoStore

#: moto's S3 in-process: each test starts mock_aws.
pytestmark = pytest.mark.slow

UTC = datetime.UTC
OWNER_ID = "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a"
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("s3", region_name="us-east-1")


@pytest.fixture
def store(s3: Any) -> MotoStore:
    return MotoStore()


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _versioned(s3: Any, bucket: str) -> None:
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})


def _tags(s3: Any, bucket: str, key: str, version_id: str | None = None) -> dict[str, str]:
    extra = {"VersionId": version_id} if version_id else {}
    response = s3.get_object_tagging(Bucket=bucket, Key=key, **extra)
    return {tag["Key"]: tag["Value"] for tag in response["TagSet"]}


def _grants(s3: Any, bucket: str, key: str, version_id: str | None = None) -> list[Any]:
    extra = {"VersionId": version_id} if version_id else {}
    grants = s3.get_object_acl(Bucket=bucket, Key=key, **extra)["Grants"]
    return sorted(grants, key=repr)


def _raises(code: str, status: int, call: Callable[[], object]) -> ObjectStoreError:
    with pytest.raises(ObjectStoreError) as info:
        call()
    assert (info.value.code, info.value.http_status) == (code, status), info.value
    assert info.value.message
    return info.value


def _future(days: int) -> datetime.datetime:
    return (datetime.datetime.now(UTC) + datetime.timedelta(days=days)).replace(microsecond=0)


# --------------------------------------------------------------------------- activation


def test_satisfies_the_object_store_protocol() -> None:
    store: ObjectStore = MotoStore()  # checked by mypy
    assert "MotoStore" in repr(store)


def test_moto_is_active_follows_mock_aws() -> None:
    assert not moto_is_active()
    with mock_aws():
        assert moto_is_active()
    assert not moto_is_active()


@pytest.mark.slow
def test_moto_is_active_does_not_import_moto() -> None:
    code = (
        "import sys\n"
        "from s3batch_mock.stores import moto_is_active\n"
        "assert moto_is_active() is False\n"
        "assert not [m for m in sys.modules if m == 'moto' or m.startswith('moto.')]\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_refuses_to_reach_real_s3_without_mock_aws() -> None:
    store = MotoStore()
    _raises("ServiceUnavailable", 503, lambda: store.put("bucket", "k", b"x"))
    with mock_aws():
        store.put("bucket", "k", b"x")
    # The client is cached, but still refused once the mock is off.
    _raises("ServiceUnavailable", 503, lambda: store.get("bucket", "k"))


def test_client_survives_a_new_mock_aws() -> None:
    store = MotoStore()
    with mock_aws():
        store.put("bucket", "k", b"first")
    with mock_aws():
        _raises("NoSuchBucket", 404, lambda: store.get("bucket", "k"))
        store.put("bucket", "k", b"second")
        assert store.get("bucket", "k") == b"second"


def test_clear_leaves_moto_state_alone(s3: Any, store: MotoStore) -> None:
    store.put("bucket", "k", b"x")
    store.clear()
    assert s3.get_object(Bucket="bucket", Key="k")["Body"].read() == b"x"


# --------------------------------------------------------------------------- put / get


def test_put_creates_the_bucket_and_returns_the_unquoted_etag(s3: Any, store: MotoStore) -> None:
    etag = store.put(
        "bucket",
        "dir/k.txt",
        "héllo",
        storage_class="STANDARD_IA",
        metadata={"owner": "me"},
        content_type="text/plain",
        tags={"a": "1", "b": "x y+z"},
    )
    assert etag == _md5("héllo".encode())
    got = s3.get_object(Bucket="bucket", Key="dir/k.txt")
    assert got["Body"].read() == "héllo".encode()
    assert got["ETag"] == f'"{etag}"'
    assert got["ContentType"] == "text/plain"
    assert got["Metadata"] == {"owner": "me"}
    assert got["StorageClass"] == "STANDARD_IA"
    assert _tags(s3, "bucket", "dir/k.txt") == {"a": "1", "b": "x y+z"}


def test_put_into_an_existing_bucket_keeps_its_objects(s3: Any, store: MotoStore) -> None:
    s3.create_bucket(Bucket="bucket")
    s3.put_object(Bucket="bucket", Key="old", Body=b"old")
    store.put("bucket", "new", b"new")
    assert store.keys("bucket") == ["new", "old"]


def test_get_and_get_tags(s3: Any, store: MotoStore) -> None:
    s3.create_bucket(Bucket="bucket")
    s3.put_object(Bucket="bucket", Key="k", Body=b"body", Tagging="t=v")
    assert store.get("bucket", "k") == b"body"
    assert store.get_tags("bucket", "k") == {"t": "v"}
    _raises("NoSuchKey", 404, lambda: store.get("bucket", "missing"))
    _raises("NoSuchKey", 404, lambda: store.get_tags("bucket", "missing"))
    _raises("NoSuchBucket", 404, lambda: store.get("no-bucket", "k"))


def test_keys_pages_and_filters(
    s3: Any, store: MotoStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_moto_store, "_PAGE_SIZE", 2)
    s3.create_bucket(Bucket="bucket")
    names = [f"p/{i}" for i in range(5)] + ["q/1", "a"]
    for name in names:
        s3.put_object(Bucket="bucket", Key=name, Body=b"")
    assert store.keys("bucket") == sorted(names)  # four pages
    assert [info.key for info in store.objects("bucket")] == sorted(names)
    assert store.keys("bucket", "q/") == ["q/1"]
    assert store.keys("bucket", "zzz") == []
    _raises("NoSuchBucket", 404, lambda: store.keys("no-bucket"))


# --------------------------------------------------------------------------- head


def test_head_reads_every_field_moto_keeps(s3: Any, store: MotoStore) -> None:
    s3.create_bucket(Bucket="bucket")
    s3.put_object(
        Bucket="bucket",
        Key="k",
        Body=b"hello",
        ContentType="text/plain",
        Metadata={"m": "1"},
        CacheControl="no-cache",
        ContentDisposition="inline",
        ContentEncoding="identity",
        ContentLanguage="en",
        Expires=datetime.datetime(2031, 1, 2, tzinfo=UTC),
        WebsiteRedirectLocation="/elsewhere",
        Tagging="x=1&y=2",
        ChecksumAlgorithm="SHA256",
    )
    info = store.head("bucket", "k")
    raw = s3.head_object(Bucket="bucket", Key="k", ChecksumMode="ENABLED")
    assert (info.bucket, info.key) == ("bucket", "k")
    assert info.etag == _md5(b"hello") == raw["ETag"].strip('"')
    assert info.version_id == "null"  # unversioned bucket
    assert info.size == 5
    assert info.last_modified == raw["LastModified"]
    assert info.last_modified.tzinfo is not None
    assert info.content_type == "text/plain"
    assert dict(info.metadata) == {"m": "1"}
    assert dict(info.headers) == {
        "CacheControl": "no-cache",
        "ContentDisposition": "inline",
        "ContentEncoding": "identity",
        "ContentLanguage": "en",
        "Expires": "Thu, 02 Jan 2031 00:00:00 GMT",
        "WebsiteRedirectLocation": "/elsewhere",
    }
    assert info.storage_class == "STANDARD"
    assert dict(info.tags) == {"x": "1", "y": "2"}
    assert info.acl is None
    assert (info.legal_hold, info.retention_mode, info.retain_until) == (None, None, None)
    assert info.restore_expiry is None
    assert info.encryption == "AES256"
    assert (info.kms_key_id, info.bucket_key_enabled) == (None, False)
    assert info.replication_status is None
    assert dict(info.checksums) == {"SHA256": raw["ChecksumSHA256"]}


def test_head_of_a_plain_object_has_the_defaults(s3: Any, store: MotoStore) -> None:
    s3.create_bucket(Bucket="bucket")
    s3.put_object(Bucket="bucket", Key="k", Body=b"")
    info = store.head("bucket", "k")
    assert info.content_type == "binary/octet-stream"
    assert dict(info.metadata) == dict(info.headers) == dict(info.tags) == {}
    assert info.size == 0


def test_head_versions(s3: Any, store: MotoStore) -> None:
    _versioned(s3, "bucket")
    first = s3.put_object(Bucket="bucket", Key="k", Body=b"one", Tagging="v=1")["VersionId"]
    second = s3.put_object(Bucket="bucket", Key="k", Body=b"two")["VersionId"]
    assert store.head("bucket", "k").version_id == second
    old = store.head("bucket", "k", first)
    assert (old.version_id, old.etag, dict(old.tags)) == (first, _md5(b"one"), {"v": "1"})
    assert dict(store.head("bucket", "k").tags) == {}


def test_head_null_version_of_an_unversioned_bucket(s3: Any, store: MotoStore) -> None:
    # moto answers 400 to HEAD ?versionId=null there; S3 takes it as the only version.
    s3.create_bucket(Bucket="bucket")
    s3.put_object(Bucket="bucket", Key="k", Body=b"x")
    assert store.head("bucket", "k", "null").version_id == "null"
    assert store.get_tags("bucket", "k") == {}


def test_head_errors(s3: Any, store: MotoStore) -> None:
    _raises("NoSuchBucket", 404, lambda: store.head("no-bucket", "k"))
    _raises("NoSuchBucket", 404, lambda: store.head("no-bucket", "k", "v1"))
    _versioned(s3, "bucket")
    version = s3.put_object(Bucket="bucket", Key="k", Body=b"x")["VersionId"]
    _raises("NoSuchKey", 404, lambda: store.head("bucket", "missing"))
    _raises("NoSuchKey", 404, lambda: store.head("bucket", "missing", version))
    error = _raises("NoSuchVersion", 404, lambda: store.head("bucket", "k", "no-such-version"))
    assert "no-such-version" in error.message
    s3.create_bucket(Bucket="plain")
    s3.put_object(Bucket="plain", Key="k", Body=b"x")
    _raises("NoSuchVersion", 404, lambda: store.head("plain", "k", "no-such-version"))


def test_head_of_a_deleted_key_is_no_such_key(s3: Any, store: MotoStore) -> None:
    _versioned(s3, "bucket")
    version = s3.put_object(Bucket="bucket", Key="k", Body=b"x")["VersionId"]
    s3.delete_object(Bucket="bucket", Key="k")  # a delete marker is now the latest
    _raises("NoSuchKey", 404, lambda: store.head("bucket", "k"))
    assert store.head("bucket", "k", version).version_id == version


# --------------------------------------------------------------------------- open / objects


def test_open_streams_one_version(s3: Any, store: MotoStore) -> None:
    _versioned(s3, "bucket")
    first = s3.put_object(Bucket="bucket", Key="k", Body=b"one")["VersionId"]
    s3.put_object(Bucket="bucket", Key="k", Body=b"two")
    with store.open("bucket", "k", first) as stream:
        assert stream.read(2) == b"on"
        assert stream.read() == b"e"
    with store.open("bucket", "k") as stream:
        assert stream.read() == b"two"
    _raises("NoSuchVersion", 404, lambda: store.open("bucket", "k", "no-such-version"))
    _raises("NoSuchKey", 404, lambda: store.open("bucket", "missing"))


def test_open_null_version_and_archived_object(s3: Any, store: MotoStore) -> None:
    s3.create_bucket(Bucket="bucket")
    s3.put_object(Bucket="bucket", Key="k", Body=b"x")
    s3.put_object(Bucket="bucket", Key="cold", Body=b"x", StorageClass="GLACIER")
    with store.open("bucket", "k", "null") as stream:
        assert stream.read() == b"x"
    _raises("InvalidObjectState", 403, lambda: store.open("bucket", "cold"))


def test_objects_heads_every_latest_version_in_key_order(s3: Any, store: MotoStore) -> None:
    _versioned(s3, "bucket")
    s3.put_object(Bucket="bucket", Key="b", Body=b"old")
    latest = s3.put_object(Bucket="bucket", Key="b", Body=b"bee", Tagging="t=1")["VersionId"]
    s3.put_object(Bucket="bucket", Key="a", Body=b"a")
    s3.put_object(Bucket="bucket", Key="c/d", Body=b"cd", StorageClass="GLACIER")
    found = list(store.objects("bucket"))
    assert [info.key for info in found] == ["a", "b", "c/d"]
    assert (found[1].version_id, found[1].etag, dict(found[1].tags)) == (
        latest,
        _md5(b"bee"),
        {"t": "1"},
    )
    assert found[2].storage_class == "GLACIER"
    s3.create_bucket(Bucket="empty")
    assert list(store.objects("empty")) == []
    _raises("NoSuchBucket", 404, lambda: list(store.objects("no-bucket")))


# --------------------------------------------------------------------------- write


class _OneWay(io.RawIOBase):
    """A stream that can only be read forward, as a pipe or a socket."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def test_write_streams_into_an_existing_bucket(s3: Any, store: MotoStore) -> None:
    s3.create_bucket(Bucket="bucket")
    info = store.write("bucket", "report.csv", io.BytesIO(b"a,b\n"))
    assert (info.bucket, info.key, info.size) == ("bucket", "report.csv", 4)
    assert info.etag == _md5(b"a,b\n")
    assert s3.get_object(Bucket="bucket", Key="report.csv")["Body"].read() == b"a,b\n"
    one_way: IO[bytes] = _OneWay(b"forward only")  # type: ignore[assignment]
    assert store.write("bucket", "pipe", one_way).size == 12
    assert store.get("bucket", "pipe") == b"forward only"


def test_write_a_large_stream_in_parts(s3: Any, store: MotoStore) -> None:
    s3.create_bucket(Bucket="bucket")
    data = bytes(range(256)) * (40 * 1024 + 3)  # a little over 10 MiB: multipart
    info = store.write("bucket", "big", io.BytesIO(data))
    assert info.size == len(data)
    assert info.etag.endswith("-2")  # a multipart ETag
    assert store.get("bucket", "big") == data


def test_write_returns_the_new_version(s3: Any, store: MotoStore) -> None:
    _versioned(s3, "bucket")
    info = store.write("bucket", "k", io.BytesIO(b"x"))
    assert info.version_id == s3.head_object(Bucket="bucket", Key="k")["VersionId"]


def test_write_does_not_create_the_bucket(s3: Any, store: MotoStore) -> None:
    _raises("NoSuchBucket", 404, lambda: store.write("no-bucket", "k", io.BytesIO(b"x")))
    assert "no-bucket" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


# --------------------------------------------------------------------------- tags and ACLs


def test_put_tags_per_version(s3: Any, store: MotoStore) -> None:
    _versioned(s3, "bucket")
    first = s3.put_object(Bucket="bucket", Key="k", Body=b"1")["VersionId"]
    s3.put_object(Bucket="bucket", Key="k", Body=b"2", Tagging="keep=me")
    store.put_tags("bucket", "k", first, {"a": "1", "b": "2"})
    assert _tags(s3, "bucket", "k", first) == {"a": "1", "b": "2"}
    assert _tags(s3, "bucket", "k") == {"keep": "me"}
    store.put_tags("bucket", "k", None, {})
    assert _tags(s3, "bucket", "k") == {}
    _raises("NoSuchVersion", 404, lambda: store.put_tags("bucket", "k", "nope", {"a": "1"}))
    _raises("NoSuchKey", 404, lambda: store.put_tags("bucket", "missing", None, {}))


def test_put_tags_on_the_null_version(s3: Any, store: MotoStore) -> None:
    s3.create_bucket(Bucket="bucket")
    s3.put_object(Bucket="bucket", Key="k", Body=b"1")
    store.put_tags("bucket", "k", "null", {"a": "1"})
    assert _tags(s3, "bucket", "k") == {"a": "1"}


def test_put_acl_canned(s3: Any, store: MotoStore) -> None:
    s3.create_bucket(Bucket="bucket")
    s3.put_object(Bucket="bucket", Key="k", Body=b"1")
    store.put_acl("bucket", "k", None, {"Canned": "public-read"})
    assert {"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "READ"} in _grants(
        s3, "bucket", "k"
    )
    store.put_acl("bucket", "k", "null", {"Canned": "private"})
    assert _grants(s3, "bucket", "k") == [
        {"Grantee": {"ID": OWNER_ID, "Type": "CanonicalUser"}, "Permission": "FULL_CONTROL"}
    ]


def test_put_acl_grants_in_s3_and_s3_batch_shapes(s3: Any, store: MotoStore) -> None:
    s3.create_bucket(Bucket="bucket")
    s3.put_object(Bucket="bucket", Key="k", Body=b"1")
    owner = {"ID": OWNER_ID, "DisplayName": "webfile"}
    store.put_acl(
        "bucket",
        "k",
        None,
        {
            "Owner": owner,
            "Grants": [
                {
                    "Grantee": {"Type": "CanonicalUser", "ID": OWNER_ID},
                    "Permission": "FULL_CONTROL",
                },
                {"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "READ"},
                {"Grantee": {"Type": "CanonicalUser", "ID": "reader"}, "Permission": "READ"},
                {"Grantee": {"Type": "CanonicalUser", "ID": "writer"}, "Permission": "WRITE"},
            ],
        },
    )
    # moto keeps both READ grantees, but GetObjectAcl shows one grantee per permission.
    assert _grants(s3, "bucket", "k") == sorted(
        [
            {"Grantee": {"ID": OWNER_ID, "Type": "CanonicalUser"}, "Permission": "FULL_CONTROL"},
            {"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "READ"},
            {"Grantee": {"ID": "writer", "Type": "CanonicalUser"}, "Permission": "WRITE"},
        ],
        key=repr,
    )
    # S3 Batch's S3Grant shape, as S3PutObjectAcl's AccessControlList carries it.
    by_id = {"TypeIdentifier": "id", "Identifier": "acp"}
    by_uri = {"TypeIdentifier": "uri", "Identifier": ALL_USERS}
    store.put_acl(
        "bucket",
        "k",
        None,
        {
            "Owner": owner,
            "Grants": [
                {"Grantee": by_id, "Permission": "READ_ACP"},
                {"Grantee": by_uri, "Permission": "WRITE_ACP"},
            ],
        },
    )
    assert _grants(s3, "bucket", "k") == sorted(
        [
            {"Grantee": {"ID": "acp", "Type": "CanonicalUser"}, "Permission": "READ_ACP"},
            {"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "WRITE_ACP"},
        ],
        key=repr,
    )


def test_put_acl_errors(s3: Any, store: MotoStore) -> None:
    _versioned(s3, "bucket")
    s3.put_object(Bucket="bucket", Key="k", Body=b"1")
    bad_permission = {"Grants": [{"Grantee": {"ID": "x"}, "Permission": "EVERYTHING"}]}
    _raises("MalformedACLError", 400, lambda: store.put_acl("bucket", "k", None, bad_permission))
    bad_grantee = {"Grants": [{"Grantee": {"Type": "Group"}, "Permission": "READ"}]}
    _raises("MalformedACLError", 400, lambda: store.put_acl("bucket", "k", None, bad_grantee))
    canned = {"Canned": "private"}
    # moto would apply the ACL to the latest version: the version is checked first.
    _raises("NoSuchVersion", 404, lambda: store.put_acl("bucket", "k", "nope", canned))
    _raises("NoSuchKey", 404, lambda: store.put_acl("bucket", "missing", None, canned))


def test_put_acl_with_no_grants_sends_a_policy(s3: Any, store: MotoStore) -> None:
    s3.create_bucket(Bucket="bucket")
    s3.put_object(Bucket="bucket", Key="k", Body=b"1", ACL="public-read")
    store.put_acl("bucket", "k", None, {"Grants": []})
    # moto answers a policy body with the bucket's ACL (S3 would leave no grant).
    assert _grants(s3, "bucket", "k") == [
        {"Grantee": {"ID": OWNER_ID, "Type": "CanonicalUser"}, "Permission": "FULL_CONTROL"}
    ]


# --------------------------------------------------------------------------- object lock


def test_create_bucket_with_object_lock(s3: Any, store: MotoStore) -> None:
    store.create_bucket("locked", object_lock=True)
    config = s3.get_object_lock_configuration(Bucket="locked")["ObjectLockConfiguration"]
    assert config["ObjectLockEnabled"] == "Enabled"
    store.create_bucket("locked")  # idempotent, and does not turn the lock off
    store.create_bucket("later")
    store.create_bucket("later", object_lock=True)  # like EmbeddedStore: turned on
    store.put("later", "k", b"x")
    store.put_legal_hold("later", "k", None, "ON")
    assert store.head("later", "k").legal_hold == "ON"
    # moto turns object lock on only while the bucket is empty.
    store.put("full", "k", b"x")
    _raises("InvalidBucket", 400, lambda: store.create_bucket("full", object_lock=True))


def test_put_legal_hold(s3: Any, store: MotoStore) -> None:
    s3.create_bucket(Bucket="locked", ObjectLockEnabledForBucket=True)
    first = s3.put_object(Bucket="locked", Key="k", Body=b"1")["VersionId"]
    s3.put_object(Bucket="locked", Key="k", Body=b"2")
    store.put_legal_hold("locked", "k", first, "ON")
    assert s3.get_object_legal_hold(Bucket="locked", Key="k", VersionId=first)["LegalHold"] == {
        "Status": "ON"
    }
    assert store.head("locked", "k", first).legal_hold == "ON"
    assert store.head("locked", "k").legal_hold is None
    store.put_legal_hold("locked", "k", first, "OFF")
    assert store.head("locked", "k", first).legal_hold == "OFF"


def test_put_legal_hold_errors(s3: Any, store: MotoStore) -> None:
    s3.create_bucket(Bucket="locked", ObjectLockEnabledForBucket=True)
    s3.put_object(Bucket="locked", Key="k", Body=b"1")
    s3.create_bucket(Bucket="plain")
    s3.put_object(Bucket="plain", Key="k", Body=b"1")
    _raises("InvalidRequest", 400, lambda: store.put_legal_hold("plain", "k", None, "ON"))
    # moto itself crashes on these two; the store answers as S3 does.
    _raises("NoSuchKey", 404, lambda: store.put_legal_hold("locked", "missing", None, "ON"))
    _raises("NoSuchVersion", 404, lambda: store.put_legal_hold("locked", "k", "nope", "ON"))
    _raises("NoSuchBucket", 404, lambda: store.put_legal_hold("no-bucket", "k", None, "ON"))


def test_put_retention(s3: Any, store: MotoStore) -> None:
    s3.create_bucket(Bucket="locked", ObjectLockEnabledForBucket=True)
    version = s3.put_object(Bucket="locked", Key="k", Body=b"1")["VersionId"]
    until = _future(30)
    store.put_retention("locked", "k", version, "GOVERNANCE", until, False)
    head = s3.head_object(Bucket="locked", Key="k", VersionId=version)
    assert head["ObjectLockMode"] == "GOVERNANCE"
    assert head["ObjectLockRetainUntilDate"] == until
    info = store.head("locked", "k")
    assert (info.retention_mode, info.retain_until) == ("GOVERNANCE", until)
    assert info.retain_until is not None
    assert info.retain_until.tzinfo == UTC
    # Extending needs no bypass; shortening a GOVERNANCE retention does.
    store.put_retention("locked", "k", None, "GOVERNANCE", _future(60), False)
    shorter = _future(10)
    _raises(
        "AccessDenied",
        403,
        lambda: store.put_retention("locked", "k", None, "GOVERNANCE", shorter, False),
    )
    store.put_retention("locked", "k", None, "GOVERNANCE", shorter, True)
    assert store.head("locked", "k").retain_until == shorter


def test_compliance_retention_cannot_be_shortened_or_weakened(s3: Any, store: MotoStore) -> None:
    s3.create_bucket(Bucket="locked", ObjectLockEnabledForBucket=True)
    s3.put_object(Bucket="locked", Key="k", Body=b"1")
    store.put_retention("locked", "k", None, "COMPLIANCE", _future(30), False)
    for mode, until in (("COMPLIANCE", _future(10)), ("GOVERNANCE", _future(40))):
        with pytest.raises(ObjectStoreError) as info:
            store.put_retention("locked", "k", None, mode, until, True)
        assert (info.value.code, info.value.http_status) == ("AccessDenied", 403)
    store.put_retention("locked", "k", None, "COMPLIANCE", _future(40), False)
    assert store.head("locked", "k").retention_mode == "COMPLIANCE"


def test_put_retention_errors(s3: Any, store: MotoStore) -> None:
    s3.create_bucket(Bucket="locked", ObjectLockEnabledForBucket=True)
    s3.create_bucket(Bucket="plain")
    s3.put_object(Bucket="plain", Key="k", Body=b"1")
    until = _future(1)
    _raises(
        "InvalidRequest",
        400,
        lambda: store.put_retention("plain", "k", None, "GOVERNANCE", until, False),
    )
    _raises(
        "NoSuchKey",
        404,
        lambda: store.put_retention("locked", "missing", None, "GOVERNANCE", until, False),
    )


# --------------------------------------------------------------------------- restore and others


def test_restore_an_archived_object(s3: Any, store: MotoStore) -> None:
    s3.create_bucket(Bucket="bucket")
    s3.put_object(Bucket="bucket", Key="cold", Body=b"x", StorageClass="DEEP_ARCHIVE")
    assert store.head("bucket", "cold").restore_expiry is None
    before = datetime.datetime.now(UTC).replace(microsecond=0)
    store.restore("bucket", "cold", None, 3)
    assert 'ongoing-request="false"' in s3.head_object(Bucket="bucket", Key="cold")["Restore"]
    expiry = store.head("bucket", "cold").restore_expiry
    assert expiry is not None
    assert (
        before + datetime.timedelta(days=3)
        <= expiry
        <= before + datetime.timedelta(days=3, seconds=5)
    )
    assert store.get("bucket", "cold") == b"x"


def test_restore_days_default_to_one(s3: Any, store: MotoStore) -> None:
    s3.create_bucket(Bucket="bucket")
    s3.put_object(Bucket="bucket", Key="cold", Body=b"x", StorageClass="GLACIER")
    store.restore("bucket", "cold", "null", None)
    expiry = store.head("bucket", "cold").restore_expiry
    assert expiry is not None
    assert expiry - datetime.datetime.now(UTC) < datetime.timedelta(days=1, seconds=5)


def test_restore_errors(s3: Any, store: MotoStore) -> None:
    s3.create_bucket(Bucket="bucket")
    s3.put_object(Bucket="bucket", Key="hot", Body=b"x")
    _raises("InvalidObjectState", 403, lambda: store.restore("bucket", "hot", None, 1))
    _raises("NoSuchKey", 404, lambda: store.restore("bucket", "missing", None, 1))


def test_restore_of_a_missing_version_fails_and_restores_nothing(
    s3: Any, store: MotoStore
) -> None:
    """moto ignores versionId on RestoreObject: the store checks the version itself."""
    _versioned(s3, "cold")
    s3.put_object(Bucket="cold", Key="k", Body=b"x", StorageClass="GLACIER")
    _raises("NoSuchVersion", 404, lambda: store.restore("cold", "k", "nope", 1))
    assert store.head("cold", "k").restore_expiry is None


def test_set_encryption_keeps_metadata_tags_and_storage_class(s3: Any, store: MotoStore) -> None:
    s3.create_bucket(Bucket="bucket")
    s3.put_object(
        Bucket="bucket",
        Key="k",
        Body=b"secret",
        Metadata={"m": "1"},
        ContentType="text/plain",
        Tagging="t=1",
        StorageClass="STANDARD_IA",
    )
    store.set_encryption("bucket", "k", None, KMS_KEY, True)
    head = s3.head_object(Bucket="bucket", Key="k")
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == KMS_KEY
    assert head["BucketKeyEnabled"] is True
    info = store.head("bucket", "k")
    assert (info.encryption, info.kms_key_id, info.bucket_key_enabled) == (
        "aws:kms",
        KMS_KEY,
        True,
    )
    assert (dict(info.metadata), info.content_type) == ({"m": "1"}, "text/plain")
    assert (dict(info.tags), info.storage_class) == ({"t": "1"}, "STANDARD_IA")
    assert store.get("bucket", "k") == b"secret"
    _raises(
        "NoSuchKey", 404, lambda: store.set_encryption("bucket", "missing", None, KMS_KEY, False)
    )


def test_set_encryption_of_an_older_version(s3: Any, store: MotoStore) -> None:
    _versioned(s3, "bucket")
    first = s3.put_object(Bucket="bucket", Key="k", Body=b"one")["VersionId"]
    s3.put_object(Bucket="bucket", Key="k", Body=b"two")
    store.set_encryption("bucket", "k", first, KMS_KEY, False)
    # A copy onto itself: the encrypted copy of the old version is the new latest.
    info = store.head("bucket", "k")
    assert (info.encryption, info.etag) == ("aws:kms", _md5(b"one"))
    _raises(
        "NoSuchVersion", 404, lambda: store.set_encryption("bucket", "k", "nope", KMS_KEY, False)
    )


def test_replicate_only_checks_the_object(s3: Any, store: MotoStore) -> None:
    s3.create_bucket(Bucket="bucket")
    s3.put_object(Bucket="bucket", Key="k", Body=b"x")
    store.replicate("bucket", "k", None)
    store.replicate("bucket", "k", "null")
    assert store.head("bucket", "k").replication_status is None  # moto does not replicate
    _raises("NoSuchKey", 404, lambda: store.replicate("bucket", "missing", None))
    _raises("NoSuchBucket", 404, lambda: store.replicate("no-bucket", "k", None))


# --------------------------------------------------------------------------- copy


@pytest.fixture
def source(s3: Any, store: MotoStore) -> Any:
    s3.create_bucket(Bucket="src")
    s3.create_bucket(Bucket="dst")
    s3.put_object(
        Bucket="src",
        Key="k",
        Body=b"payload",
        Metadata={"m": "1"},
        ContentType="text/plain",
        CacheControl="no-cache",
        Tagging="t=1",
    )
    return store.head("src", "k")


def test_copy_keeps_the_source_by_default(s3: Any, store: MotoStore, source: Any) -> None:
    info = store.copy(source, "dst", "copied", CopySpec())
    assert (info.bucket, info.key, info.etag) == ("dst", "copied", source.etag)
    assert s3.get_object(Bucket="dst", Key="copied")["Body"].read() == b"payload"
    assert dict(info.metadata) == {"m": "1"}
    assert (info.content_type, dict(info.headers)) == ("text/plain", {"CacheControl": "no-cache"})
    assert _tags(s3, "dst", "copied") == {"t": "1"} == dict(info.tags)
    assert (info.storage_class, info.encryption) == ("STANDARD", "AES256")


def test_copy_replaces_metadata_and_tags(s3: Any, store: MotoStore, source: Any) -> None:
    spec = CopySpec(
        metadata={"n": "2"},
        headers={
            "ContentLanguage": "fr",
            "Expires": "2032-01-01T00:00:00+00:00",
            "WebsiteRedirectLocation": "/x",
        },
        content_type="text/csv",
        tags={"new": "a b+c"},
        storage_class="ONEZONE_IA",
        checksum_algorithm="SHA256",
    )
    info = store.copy(source, "dst", "k", spec)
    raw = s3.head_object(Bucket="dst", Key="k", ChecksumMode="ENABLED")
    assert raw["Metadata"] == {"n": "2"} == dict(info.metadata)
    assert raw["ContentType"] == "text/csv" == info.content_type
    assert "CacheControl" not in raw  # REPLACE drops the source's headers
    assert dict(info.headers) == {
        "ContentLanguage": "fr",
        "Expires": "Thu, 01 Jan 2032 00:00:00 GMT",
        "WebsiteRedirectLocation": "/x",
    }
    assert _tags(s3, "dst", "k") == {"new": "a b+c"}
    assert raw["StorageClass"] == "ONEZONE_IA" == info.storage_class
    assert "SHA256" in info.checksums


def test_copy_with_only_new_headers_keeps_the_metadata(
    s3: Any, store: MotoStore, source: Any
) -> None:
    info = store.copy(source, "dst", "k", CopySpec(headers={"ContentLanguage": "de"}))
    assert dict(info.metadata) == {"m": "1"}
    assert info.content_type == "text/plain"
    assert dict(info.headers) == {"ContentLanguage": "de"}
    info = store.copy(source, "dst", "k2", CopySpec(content_type="image/png"))
    assert (info.content_type, dict(info.headers)) == ("image/png", {"CacheControl": "no-cache"})


def test_copy_with_empty_tags_drops_them(s3: Any, store: MotoStore, source: Any) -> None:
    store.copy(source, "dst", "k", CopySpec(tags={}))
    assert _tags(s3, "dst", "k") == {}


def test_copy_acls(s3: Any, store: MotoStore, source: Any) -> None:
    store.copy(source, "dst", "canned", CopySpec(acl={"Canned": "public-read"}))
    assert {"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "READ"} in _grants(
        s3, "dst", "canned"
    )
    grants = {
        "Grants": [
            {"Grantee": {"TypeIdentifier": "id", "Identifier": "reader"}, "Permission": "READ"},
            {"Grantee": {"TypeIdentifier": "id", "Identifier": "writer"}, "Permission": "WRITE"},
        ]
    }
    store.copy(source, "dst", "granted", CopySpec(acl=grants))
    assert _grants(s3, "dst", "granted") == [
        {"Grantee": {"ID": "reader", "Type": "CanonicalUser"}, "Permission": "READ"},
        {"Grantee": {"ID": "writer", "Type": "CanonicalUser"}, "Permission": "WRITE"},
    ]


def test_copy_with_kms(s3: Any, store: MotoStore, source: Any) -> None:
    spec = CopySpec(encryption="aws:kms", kms_key_id=KMS_KEY, bucket_key_enabled=True)
    info = store.copy(source, "dst", "k", spec)
    raw = s3.head_object(Bucket="dst", Key="k")
    assert (raw["ServerSideEncryption"], raw["SSEKMSKeyId"]) == ("aws:kms", KMS_KEY)
    assert (info.encryption, info.kms_key_id, info.bucket_key_enabled) == (
        "aws:kms",
        KMS_KEY,
        True,
    )


def test_copy_with_object_lock(s3: Any, store: MotoStore, source: Any) -> None:
    s3.create_bucket(Bucket="locked", ObjectLockEnabledForBucket=True)
    until = _future(7)
    spec = CopySpec(legal_hold="ON", retention_mode="GOVERNANCE", retain_until=until)
    info = store.copy(source, "locked", "k", spec)
    raw = s3.head_object(Bucket="locked", Key="k", VersionId=info.version_id)
    assert raw["ObjectLockLegalHoldStatus"] == "ON"
    assert (raw["ObjectLockMode"], raw["ObjectLockRetainUntilDate"]) == ("GOVERNANCE", until)
    assert (info.legal_hold, info.retention_mode, info.retain_until) == ("ON", "GOVERNANCE", until)


def test_copy_with_object_lock_and_grants_checks_nothing_twice(
    s3: Any, store: MotoStore, source: Any
) -> None:
    s3.create_bucket(Bucket="locked", ObjectLockEnabledForBucket=True)
    sent: list[str] = []
    store._s3().meta.events.register("before-call.s3", lambda model, **_: sent.append(model.name))
    grants = {"Grants": [{"Grantee": {"ID": "reader"}, "Permission": "READ"}]}
    spec = CopySpec(
        acl=grants, legal_hold="ON", retention_mode="GOVERNANCE", retain_until=_future(7)
    )

    info = store.copy(source, "locked", "k", spec)

    assert (info.legal_hold, info.retention_mode) == ("ON", "GOVERNANCE")
    # One lock check before the copy; one HEAD for the retention rules, one for the result.
    assert sent == [
        "GetObjectLockConfiguration",
        "CopyObject",
        "PutObjectAcl",
        "PutObjectLegalHold",
        "HeadObject",
        "PutObjectRetention",
        "HeadObject",
        "GetObjectTagging",
    ]


def test_copy_with_object_lock_into_a_plain_bucket_copies_nothing(
    s3: Any, store: MotoStore, source: Any
) -> None:
    spec = CopySpec(legal_hold="ON")
    _raises("InvalidRequest", 400, lambda: store.copy(source, "dst", "k", spec))
    assert store.keys("dst") == []
    half = CopySpec(retention_mode="GOVERNANCE")
    s3.create_bucket(Bucket="locked", ObjectLockEnabledForBucket=True)
    _raises("InvalidArgument", 400, lambda: store.copy(source, "locked", "k", half))


def test_copy_a_specific_version(s3: Any, store: MotoStore) -> None:
    _versioned(s3, "src")
    _versioned(s3, "dst")
    first = s3.put_object(Bucket="src", Key="k", Body=b"one")["VersionId"]
    s3.put_object(Bucket="src", Key="k", Body=b"two")
    info = store.copy(store.head("src", "k", first), "dst", "k", CopySpec())
    assert info.version_id == s3.head_object(Bucket="dst", Key="k")["VersionId"]
    assert store.get("dst", "k") == b"one"


def test_copy_errors(s3: Any, store: MotoStore, source: Any) -> None:
    _raises("NoSuchBucket", 404, lambda: store.copy(source, "no-bucket", "k", CopySpec()))
    s3.delete_object(Bucket="src", Key="k")
    _raises("NoSuchKey", 404, lambda: store.copy(source, "dst", "k", CopySpec()))
    s3.put_object(Bucket="src", Key="cold", Body=b"x", StorageClass="GLACIER")
    cold = store.head("src", "cold")
    _raises("ObjectNotInActiveTierError", 403, lambda: store.copy(cold, "dst", "k", CopySpec()))


# --------------------------------------------------------------------------- parity


def _error_scenarios(store: Any) -> dict[str, tuple[str, int]]:
    """Set up the same objects in either store and collect each failure's (code, status)."""
    store.create_bucket("plain")
    store.create_bucket("locked", object_lock=True)
    store.put("plain", "k", b"x")
    store.put("locked", "k", b"x")
    store.put_retention("locked", "k", None, "COMPLIANCE", _future(30), False)
    scenarios: dict[str, Callable[[], object]] = {
        "head missing bucket": lambda: store.head("no-bucket", "k"),
        "head missing key": lambda: store.head("plain", "missing"),
        "head missing version": lambda: store.head("plain", "k", "no-such-version"),
        "write missing bucket": lambda: store.write("no-bucket", "k", io.BytesIO(b"x")),
        "tags missing key": lambda: store.put_tags("plain", "missing", None, {}),
        "legal hold plain bucket": lambda: store.put_legal_hold("plain", "k", None, "ON"),
        "retention shortened": lambda: store.put_retention(
            "locked", "k", None, "COMPLIANCE", _future(1), True
        ),
        "restore standard": lambda: store.restore("plain", "k", None, 1),
        "replicate missing key": lambda: store.replicate("plain", "missing", None),
        "copy lock into plain": lambda: store.copy(
            store.head("plain", "k"), "plain", "c", CopySpec(legal_hold="ON")
        ),
    }
    outcomes = {}
    for name, call in scenarios.items():
        try:
            call()
        except ObjectStoreError as exc:
            outcomes[name] = (exc.code, exc.http_status)
        else:
            outcomes[name] = ("no error", 200)
    return outcomes


def test_errors_match_the_embedded_store(s3: Any, store: MotoStore) -> None:
    assert _error_scenarios(store) == _error_scenarios(EmbeddedStore())
