"""All or nothing: a copy whose parts cannot all succeed leaves no new object, in both stores.

A real S3PutObjectCopy job runs against the embedded store and against moto's S3
(``mock_aws``): a refused grantee, object-lock parameters S3 refuses (a mode without a
date, a date without a mode, a date in the past) or tags S3 refuses fail the task with
the same code in both stores, and the target bucket is left exactly as it was. S3's
codes: ``InvalidArgument`` (400) for the lock parameters, as S3 answers PutObject and
CopyObject (docs/moto.md cites the sources), ``MalformedACLError`` and
``BadRequest``/``InvalidTag`` for grants and tags.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from s3batch_mock import S3Batch, mock_s3batch
from s3batch_mock.stores import CopySpec, EmbeddedStore, ObjectStoreError
from s3batch_mock.stores._moto import MotoStore
from tests.conftest import store_of
from tests.test_operations_effects import (
    assert_succeeded,
    copy_to,
    only_failure,
    run_job,
    whole_seconds,
)

UTC = datetime.UTC
NO_ID = {"TypeIdentifier": "id"}  # a grantee without its Identifier: S3 refuses it


@pytest.fixture(params=["embedded", pytest.param("moto", marks=pytest.mark.slow)])
def batch(request: pytest.FixtureRequest) -> Iterator[S3Batch]:
    if request.param == "moto":
        with mock_aws(), mock_s3batch(progression="manual") as batch:
            yield batch
    else:
        with mock_s3batch(progression="manual") as batch:
            yield batch


def _versions(batch: S3Batch, bucket: str) -> list[tuple[str, str]]:
    """(key, ETag) of every object version in ``bucket``, however the store keeps them."""
    store = store_of(batch)
    if isinstance(store, MotoStore):
        s3 = boto3.client("s3", region_name="us-east-1")
        listed = s3.list_object_versions(Bucket=bucket).get("Versions", [])
        return sorted((v["Key"], v["ETag"].strip('"')) for v in listed)
    return sorted((info.key, info.etag) for info in store.objects(bucket))


def _in_days(days: int) -> datetime.datetime:
    return whole_seconds(datetime.timedelta(days=days))


REFUSED_COPIES: list[tuple[str, dict[str, Any], str]] = [
    (
        "a grantee without an identifier",
        {"AccessControlGrants": [{"Grantee": NO_ID, "Permission": "READ"}]},
        "MalformedACLError",
    ),
    ("a lock mode without a date", {"ObjectLockMode": "GOVERNANCE"}, "InvalidArgument"),
    ("a date without a lock mode", {"ObjectLockRetainUntilDate": "+30"}, "InvalidArgument"),
    (
        "a retain-until date in the past",
        {"ObjectLockMode": "GOVERNANCE", "ObjectLockRetainUntilDate": "-1"},
        "InvalidArgument",
    ),
    (
        "eleven tags",
        {"NewObjectTagging": [{"Key": f"k{i}", "Value": "v"} for i in range(11)]},
        "BadRequest",
    ),
    (
        "a grantee refused after a valid one and a legal hold",
        {
            "ObjectLockLegalHoldStatus": "ON",
            "AccessControlGrants": [
                {"Grantee": {"TypeIdentifier": "id", "Identifier": "ok"}, "Permission": "READ"},
                {"Grantee": NO_ID, "Permission": "WRITE_ACP"},
            ],
        },
        "MalformedACLError",
    ),
]


def _dated(options: dict[str, Any]) -> dict[str, Any]:
    """Turn the ``"+30"``/``"-1"`` day offsets into timestamps."""
    date = options.get("ObjectLockRetainUntilDate")
    if isinstance(date, str):
        return {**options, "ObjectLockRetainUntilDate": _in_days(int(date))}
    return options


@pytest.mark.parametrize(
    ("options", "code"),
    [(options, code) for _, options, code in REFUSED_COPIES],
    ids=[what for what, _, _ in REFUSED_COPIES],
)
def test_a_refused_copy_leaves_the_target_bucket_as_it_was(
    batch: S3Batch, options: dict[str, Any], code: str
) -> None:
    batch.objects.put("src", "a.txt", b"new body")
    batch.objects.create_bucket("vault", object_lock=True)  # versioned: every write shows
    batch.objects.put("vault", "a.txt", b"old body")
    before = _versions(batch, "vault")

    job_id = run_job(batch, copy_to("vault", **_dated(options)), [["src", "a.txt"]])

    status, got, message = only_failure(batch, job_id)
    assert (status, got) == ("400", code), message
    assert _versions(batch, "vault") == before
    assert batch.objects.get("vault", "a.txt") == b"old body"


def test_a_refused_copy_into_a_new_key_leaves_no_object(batch: S3Batch) -> None:
    batch.objects.put("src", "a.txt", b"body")
    batch.objects.create_bucket("dest")
    grants = [{"Grantee": NO_ID, "Permission": "READ"}]

    job_id = run_job(batch, copy_to(AccessControlGrants=grants), [["src", "a.txt"]])

    assert only_failure(batch, job_id)[1] == "MalformedACLError"
    assert batch.objects.keys("dest") == []


def test_a_valid_copy_with_every_part_still_lands_whole(batch: S3Batch) -> None:
    batch.objects.put("src", "a.txt", b"body")
    batch.objects.create_bucket("vault", object_lock=True)
    until = _in_days(30)
    grants = [{"Grantee": {"TypeIdentifier": "id", "Identifier": "reader"}, "Permission": "READ"}]

    job_id = run_job(
        batch,
        copy_to(
            "vault",
            AccessControlGrants=grants,
            NewObjectTagging=[{"Key": "team", "Value": "blue"}],
            ObjectLockLegalHoldStatus="ON",
            ObjectLockMode="GOVERNANCE",
            ObjectLockRetainUntilDate=until,
        ),
        [["src", "a.txt"]],
    )

    assert_succeeded(batch, job_id)
    copied = batch.objects.head("vault", "a.txt")
    assert (copied.legal_hold, copied.retention_mode, copied.retain_until) == (
        "ON",
        "GOVERNANCE",
        until,
    )
    assert dict(copied.tags) == {"team": "blue"}


# --------------------------------------------------------------------------- the stores


def _source(store: Any) -> Any:
    store.put("src", "a.txt", b"body")
    return store.head("src", "a.txt")


@pytest.mark.parametrize(
    "spec",
    [
        CopySpec(retention_mode="GOVERNANCE"),
        CopySpec(retain_until=datetime.datetime.now(UTC) + datetime.timedelta(days=1)),
        CopySpec(
            retention_mode="COMPLIANCE",
            retain_until=datetime.datetime.now(UTC) - datetime.timedelta(seconds=1),
        ),
    ],
    ids=["mode-only", "date-only", "past-date"],
)
def test_both_stores_refuse_lock_parameters_with_the_same_code(spec: CopySpec) -> None:
    embedded = EmbeddedStore()
    embedded.create_bucket("vault", object_lock=True)
    with pytest.raises(ObjectStoreError) as by_embedded:
        embedded.copy(_source(embedded), "vault", "a.txt", spec)
    assert embedded.keys("vault") == []
    with mock_aws():
        moto = MotoStore()
        moto.create_bucket("vault", object_lock=True)
        with pytest.raises(ObjectStoreError) as by_moto:
            moto.copy(_source(moto), "vault", "a.txt", spec)
        assert moto.keys("vault") == []
    assert (by_embedded.value.code, by_embedded.value.http_status) == ("InvalidArgument", 400)
    assert (by_moto.value.code, by_moto.value.http_status) == ("InvalidArgument", 400)


@pytest.mark.parametrize("failing", ["put_tags", "_set_acl", "_set_retention"])
def test_moto_store_undoes_a_copy_whose_follow_up_fails(
    monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    """Whatever moto refuses after the copy is made (here: each follow-up in turn,
    the last one after a legal hold was set), the copy is deleted again and the
    version it would have replaced stays the latest."""
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        store = MotoStore()
        store.create_bucket("vault", object_lock=True)
        store.put("vault", "a.txt", b"old body")
        source = _source(store)
        before = s3.list_object_versions(Bucket="vault")["Versions"]

        def refuse(*args: Any, **kwargs: Any) -> None:
            raise ObjectStoreError("InternalError", 500, "moto refused the follow-up")

        monkeypatch.setattr(store, failing, refuse)
        spec = CopySpec(
            tags={"team": "blue"},
            acl={"Grants": [{"Grantee": {"ID": "reader"}, "Permission": "READ"}]},
            legal_hold="ON",
            retention_mode="GOVERNANCE",
            retain_until=_in_days(30),
        )
        with pytest.raises(ObjectStoreError, match="moto refused"):
            store.copy(source, "vault", "a.txt", spec)

        after = s3.list_object_versions(Bucket="vault")["Versions"]
        assert [v["VersionId"] for v in after] == [v["VersionId"] for v in before]
        assert store.get("vault", "a.txt") == b"old body"


def test_embedded_put_acl_refuses_the_grants_moto_refuses() -> None:
    store = EmbeddedStore()
    store.put("photos", "a.jpg", b"x")
    bad = {"Grants": [{"Grantee": {"Type": "Group"}, "Permission": "READ"}]}
    with pytest.raises(ObjectStoreError) as raised:
        store.put_acl("photos", "a.jpg", None, bad)
    assert (raised.value.code, raised.value.http_status) == ("MalformedACLError", 400)
    assert store.head("photos", "a.jpg").acl is None  # unchanged
