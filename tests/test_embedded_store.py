"""The embedded store's own API: what tests, jobs and server mode build on."""

from __future__ import annotations

import gc
import io
import warnings

import pytest
import time_machine

from s3batch_mock import EmbeddedStore, ObjectStoreError

BIG = bytes(2 * 1024 * 1024)  # above the 1 MiB spool threshold: kept in a temporary file


def test_a_discarded_store_closes_its_temporary_files() -> None:
    store = EmbeddedStore()
    store.put("big", "blob.bin", BIG)
    assert store.get("big", "blob.bin") == BIG

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del store
        gc.collect()

    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []


def test_clear_and_delete_release_spooled_bodies() -> None:
    store = EmbeddedStore()
    store.put("big", "a.bin", BIG)
    store.put("big", "b.bin", BIG)
    store.delete("big", "a.bin")
    assert store.keys("big") == ["b.bin"]
    store.clear()
    assert store.buckets() == {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del store
        gc.collect()
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []


def test_write_keeps_content_type_metadata_tags_and_storage_class() -> None:
    store = EmbeddedStore()
    store.create_bucket("bkt")
    info = store.write(
        "bkt",
        "k",
        io.BytesIO(b"body"),
        content_type="text/csv",
        metadata={"owner": "me"},
        tags={"t": "1"},
        storage_class="GLACIER",
    )
    assert store.head("bkt", "k") == info
    assert (info.content_type, dict(info.metadata), dict(info.tags), info.storage_class) == (
        "text/csv",
        {"owner": "me"},
        {"t": "1"},
        "GLACIER",
    )


def test_write_needs_the_bucket_and_delete_of_a_missing_key_is_no_error() -> None:
    store = EmbeddedStore()
    with pytest.raises(ObjectStoreError) as missing:
        store.write("nowhere", "k", io.BytesIO(b"x"))
    assert (missing.value.code, missing.value.http_status) == ("NoSuchBucket", 404)
    store.create_bucket("bkt")
    store.delete("bkt", "never-there")
    with pytest.raises(ObjectStoreError) as no_bucket:
        store.delete("nowhere", "k")
    assert no_bucket.value.code == "NoSuchBucket"


def test_buckets_give_their_creation_time_in_name_order() -> None:
    store = EmbeddedStore()
    with time_machine.travel("2026-01-02 03:04:05Z", tick=False) as clock:
        store.create_bucket("zeta")
        clock.shift(60)
        store.put("alpha", "k", b"")
        clock.shift(60)
        store.create_bucket("zeta")  # again: keeps its first creation time
    assert [(name, created.isoformat()) for name, created in store.buckets().items()] == [
        ("alpha", "2026-01-02T03:05:05+00:00"),
        ("zeta", "2026-01-02T03:04:05+00:00"),
    ]
