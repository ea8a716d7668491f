"""``batch.objects``, the face tests put objects through: bodies, bucket names and keys.

``put`` takes bytes, str (UTF-8) or a binary file object; anything else (an int used
to store that many zero bytes) is a ``TypeError``. Bucket names and keys are checked as
S3 checks them (S3 User Guide, "General purpose bucket naming rules" and "Naming
Amazon S3 objects"), with a ``ValueError`` naming the value, before anything is stored,
in both stores.
"""

from __future__ import annotations

import io
import ipaddress
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from s3batch_mock import ObjectStoreError, S3Batch, mock_s3batch
from s3batch_mock.stores import EmbeddedStore, check_bucket_name, check_key
from s3batch_mock.stores._moto import MotoStore
from tests.conftest import store_of


@pytest.fixture(params=["embedded", pytest.param("moto", marks=pytest.mark.slow)])
def batch(request: pytest.FixtureRequest) -> Iterator[S3Batch]:
    """The controller, with the embedded store or (under mock_aws) moto's."""
    if request.param == "moto":
        with mock_aws(), mock_s3batch() as batch:
            assert isinstance(store_of(batch), MotoStore)
            yield batch
    else:
        with mock_s3batch() as batch:
            assert isinstance(store_of(batch), EmbeddedStore)
            yield batch


def _buckets(batch: S3Batch) -> list[str]:
    store = store_of(batch)
    if isinstance(store, EmbeddedStore):
        return list(store.buckets())
    return [
        b["Name"] for b in boto3.client("s3", region_name="us-east-1").list_buckets()["Buckets"]
    ]


# --------------------------------------------------------------------------- bodies


class _Unseekable(io.RawIOBase):
    """A binary stream that can only be read forwards, like a socket."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return self._data.readinto(buffer)


@pytest.mark.parametrize(
    ("body", "stored"),
    [
        (lambda: b"bytes", b"bytes"),
        (lambda: bytearray(b"array"), b"array"),
        (lambda: memoryview(b"view"), b"view"),
        (lambda: "text é", "text é".encode()),
        (lambda: "", b""),
        (lambda: io.BytesIO(b"stream"), b"stream"),
        (lambda: _Unseekable(b"forward only"), b"forward only"),
    ],
)
def test_put_takes_bytes_text_and_binary_files(
    batch: S3Batch, body: Callable[[], Any], stored: bytes
) -> None:
    etag = batch.objects.put("photos", "a.jpg", body())
    assert batch.objects.get("photos", "a.jpg") == stored
    assert batch.objects.head("photos", "a.jpg").etag == etag


def test_put_takes_a_file_opened_in_binary_mode(batch: S3Batch, tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    path.write_bytes(b"\xff\xd8 jpeg" * 1000)
    with path.open("rb") as file:
        batch.objects.put("photos", "a.jpg", file)
    assert batch.objects.get("photos", "a.jpg") == path.read_bytes()


def test_a_large_binary_file_is_stored_whole(batch: S3Batch) -> None:
    data = bytes(range(256)) * 9000  # over the 1 MiB the embedded store keeps in memory
    batch.objects.put("photos", "big.bin", io.BytesIO(data))
    assert batch.objects.get("photos", "big.bin") == data


@pytest.mark.parametrize("body", [10**6, 0, None, 1.5, [b"a"], {"a": 1}, object(), True])
def test_any_other_body_is_a_type_error(batch: S3Batch, body: Any) -> None:
    with pytest.raises(TypeError, match="body must be bytes, str"):
        batch.objects.put("photos", "a.jpg", body)
    assert _buckets(batch) == []  # nothing was created


def test_a_text_file_is_a_type_error_saying_to_open_it_in_binary_mode(
    batch: S3Batch, tmp_path: Path
) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("notes")
    with path.open() as file, pytest.raises(TypeError, match="'rb'"):
        batch.objects.put("photos", "notes.txt", file)  # type: ignore[arg-type]


def test_text_with_a_lone_surrogate_is_a_value_error(batch: S3Batch) -> None:
    with pytest.raises(ValueError, match="UTF-8"):
        batch.objects.put("photos", "a.txt", "bad \udc80")
    assert _buckets(batch) == []


# --------------------------------------------------------------------------- names


BAD_BUCKETS = [
    "",
    "ab",
    "a" * 64,
    "Photos",
    "my_bucket",
    "-photos",
    "photos-",
    ".photos",
    "photos.",
    "my..photos",
    "192.168.5.4",
    "xn--photos",
    "sthree-photos",
    "amzn-s3-demo-photos",
    "photos-s3alias",
    "photos--ol-s3",
    "photos.mrap",
    "photos--x-s3",
    "photos--table-s3",
    "phötos",
    "photos\udc80",
]


@pytest.mark.parametrize("bucket", BAD_BUCKETS)
def test_bucket_names_s3_refuses_are_value_errors(batch: S3Batch, bucket: str) -> None:
    with pytest.raises(ValueError, match="bucket is not valid") as raised:
        batch.objects.put(bucket, "a.jpg", b"x")
    assert repr(bucket) in str(raised.value)
    assert isinstance(raised.value, ObjectStoreError)  # InvalidBucketName on the server
    assert raised.value.code == "InvalidBucketName"
    for call in (
        lambda: batch.objects.create_bucket(bucket),
        lambda: batch.objects.get(bucket, "a.jpg"),
        lambda: batch.objects.keys(bucket),
        lambda: batch.objects.get_tags(bucket, "a.jpg"),
    ):
        with pytest.raises(ValueError, match="bucket is not valid"):
            call()
    assert _buckets(batch) == []


@pytest.mark.parametrize("bucket", ["abc", "a" * 63, "my.photos-2024", "1photos", "photos1"])
def test_bucket_names_s3_takes_are_taken(batch: S3Batch, bucket: str) -> None:
    batch.objects.put(bucket, "a.jpg", b"x")
    assert batch.objects.keys(bucket) == ["a.jpg"]


@pytest.mark.parametrize(
    ("key", "words"),
    [
        ("", "must not be empty"),
        ("k" * 1025, "too long"),
        ("é" * 513, "too long"),  # 1026 bytes of UTF-8
        ("bad \ud800", "not valid UTF-8"),
    ],
)
def test_keys_s3_refuses_are_value_errors(batch: S3Batch, key: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        batch.objects.put("photos", key, b"x")
    for call in (
        lambda: batch.objects.get("photos", key),
        lambda: batch.objects.get_tags("photos", key),
    ):
        with pytest.raises(ValueError, match=words):
            call()
    assert _buckets(batch) == []


@pytest.mark.parametrize("key", ["k" * 1024, "é" * 512, "a/b/../c d+e%20", "\x01 control", "🙂"])
def test_keys_s3_takes_are_taken(batch: S3Batch, key: str) -> None:
    batch.objects.put("photos", key, b"x")
    assert batch.objects.keys("photos") == [key]
    assert batch.objects.get("photos", key) == b"x"


@pytest.mark.parametrize("name", [None, 7, b"photos"])
def test_names_must_be_text(batch: S3Batch, name: Any) -> None:
    with pytest.raises(TypeError, match="must be a str"):
        batch.objects.put(name, "a.jpg", b"x")
    with pytest.raises(TypeError, match="must be a str"):
        batch.objects.put("photos", name, b"x")
    with pytest.raises(TypeError, match="must be a str"):
        batch.objects.keys("photos", name)


def test_a_prefix_must_be_utf8(batch: S3Batch) -> None:
    batch.objects.put("photos", "a.jpg", b"x")
    with pytest.raises(ValueError, match="not valid UTF-8"):
        batch.objects.keys("photos", "\udc80")


def test_object_tags_are_checked_before_anything_is_stored(batch: S3Batch) -> None:
    too_many = {f"k{i}": "v" for i in range(11)}
    with pytest.raises(ObjectStoreError, match="cannot be greater than 10"):
        batch.objects.put("photos", "a.jpg", b"x", tags=too_many)
    with pytest.raises(ObjectStoreError, match="aws:"):
        batch.objects.put("photos", "a.jpg", b"x", tags={"aws:owner": "me"})
    assert _buckets(batch) == []


# --------------------------------------------------------------------------- property


def _valid_bucket(name: str) -> bool:
    """The S3 User Guide's rules, written out independently of the store's check."""
    if not 3 <= len(name) <= 63 or not set(name) <= set("abcdefghijklmnopqrstuvwxyz0123456789.-"):
        return False
    if not (name[0].isalnum() and name[-1].isalnum()) or ".." in name:
        return False
    try:
        ipaddress.ip_address(name)
    except ValueError:
        pass
    else:
        return False
    prefixes = ("xn--", "sthree-", "amzn-s3-demo-")
    suffixes = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
    return not name.startswith(prefixes) and not name.endswith(suffixes)


_NAME_CHARS = st.sampled_from("abcz09.-_A \u00e9") | st.characters(codec=None)


@pytest.mark.slow
@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.text(_NAME_CHARS, max_size=70),
        st.from_regex(re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]"), fullmatch=True),
        st.ip_addresses(v=4).map(str),
    )
)
def test_bucket_names_are_checked_as_s3_checks_them(name: str) -> None:
    try:
        check_bucket_name(name)
    except ValueError:
        assert not _valid_bucket(name)
    else:
        assert _valid_bucket(name)


@pytest.mark.slow
@settings(max_examples=500)
@given(st.text(st.characters(codec=None), max_size=1100))
def test_keys_are_checked_as_s3_checks_them(key: str) -> None:
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError:
        size = -1
    try:
        check_key(key)
    except ValueError:
        assert not 1 <= size <= 1024
    else:
        assert 1 <= size <= 1024


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(st.one_of(st.binary(max_size=64), st.text(max_size=64), st.integers(), st.none()))
def test_embedded_put_stores_exactly_what_it_was_given(body: Any) -> None:
    store = EmbeddedStore()
    if isinstance(body, bytes | str):
        store.put("photos", "a.bin", body)
        expected = body.encode("utf-8") if isinstance(body, str) else body
        assert store.get("photos", "a.bin") == expected
    else:
        with pytest.raises(TypeError):
            store.put("photos", "a.bin", body)
        assert store.buckets() == {}
