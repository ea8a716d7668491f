"""Manifests: from a job's Manifest or ManifestGenerator to the stream of its tasks.

Formats (S3 User Guide, batch-ops-create-job and the inventory pages):

- ``S3BatchOperations_CSV_20180820``: no header; columns in ``Spec.Fields`` order
  (``Ignore`` columns skipped); keys URL-encoded; a VersionId column, when present,
  names the version.
- ``S3InventoryReport_CSV_20161130``: the ObjectArn names an inventory
  ``manifest.json`` whose ``files`` are gzip CSVs laid out by ``fileSchema``.
- ``S3JobManifestGenerator``: the source bucket's keys, filtered.

Rows are streamed, never held whole. Opening checks what fails the whole job (the
manifest cannot be read, or its ETag differs from the one the job was created with);
a malformed row fails only its own task.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any, cast
from urllib.parse import unquote

from ._stores import ObjectStore, ObjectStoreError

__all__ = ["ManifestError", "Task", "open_tasks", "split_arn"]

_CSV = "S3BatchOperations_CSV_20180820"
_INVENTORY = "S3InventoryReport_CSV_20161130"


@dataclass(frozen=True)
class Task:
    """One object a job acts on. ``problem`` is set when its manifest row is unusable."""

    bucket: str
    key: str
    version_id: str | None = None
    problem: str | None = None


class ManifestError(Exception):
    """The job's manifest cannot be used: the job fails with this code and reason."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


def split_arn(arn: str) -> tuple[str, str]:
    """``arn:aws:s3:::bucket/some/key`` -> ``("bucket", "some/key")``."""
    resource = arn.split(":", 5)[-1]
    bucket, _, key = resource.partition("/")
    return bucket, key


def open_tasks(store: ObjectStore, request: Mapping[str, Any]) -> Iterator[Task]:
    """The tasks of a job created with ``request`` (CreateJob's parameters).

    Raises ``ManifestError`` at once if the manifest cannot be used; the returned
    iterator then reads the rows lazily.
    """
    generator = request.get("ManifestGenerator", {}).get("S3JobManifestGenerator")
    if generator is not None:
        return _generated(store, generator)
    manifest = request["Manifest"]
    location = manifest["Location"]
    bucket, key = split_arn(location["ObjectArn"])
    version = location.get("ObjectVersionId")
    try:
        info = store.head(bucket, key, version)
    except ObjectStoreError as exc:
        raise ManifestError(
            exc.code, f"Reading the manifest s3://{bucket}/{key} failed: {exc.message}"
        ) from None
    expected = location.get("ETag", "").strip('"')
    if expected != info.etag:
        raise ManifestError(
            "PreconditionFailed",
            f"The manifest's ETag is {info.etag} but the job was created with {expected}.",
        )
    spec = manifest["Spec"]
    if spec["Format"] == _INVENTORY:
        return _inventory(store, bucket, key, version)
    return _csv_rows(store.open(bucket, key, info.version_id), spec.get("Fields"))


def _csv_rows(stream: IO[bytes], fields: list[str] | None) -> Iterator[Task]:
    with io.TextIOWrapper(stream, encoding="utf-8", newline="") as text:
        for number, row in enumerate(csv.reader(text), start=1):
            if not row or row == [""]:
                continue
            yield _task(row, fields or _default_fields(row), number)


def _default_fields(row: list[str]) -> list[str]:
    return ["Bucket", "Key", "VersionId"][: max(2, min(len(row), 3))]


def _task(row: list[str], fields: list[str], number: int) -> Task:
    if len(row) != len(fields):
        return Task(
            row[0] if row else "",
            unquote(row[1]) if len(row) > 1 else "",
            problem=(
                f"Manifest row {number} has {len(row)} columns but the manifest's Fields "
                f"name {len(fields)} ({', '.join(fields)})."
            ),
        )
    values = {name: value for name, value in zip(fields, row, strict=True) if name != "Ignore"}
    bucket, key = values.get("Bucket", ""), unquote(values.get("Key", ""))
    if not bucket or not key:
        return Task(bucket, key, problem=f"Manifest row {number} has no bucket or no key.")
    if "VersionId" in values and not values["VersionId"]:
        return Task(bucket, key, problem="Task failed due to missing VersionId")
    return Task(bucket, key, values.get("VersionId"))


def _inventory(store: ObjectStore, bucket: str, key: str, version: str | None) -> Iterator[Task]:
    try:
        with store.open(bucket, key, version) as raw:
            document = json.load(raw)
        columns = [c.strip() for c in document["fileSchema"].split(",")]
        files = [f["key"] for f in document["files"]]
        data_bucket = split_arn(document.get("destinationBucket", f"arn:aws:s3:::{bucket}"))[0]
    except (ValueError, KeyError, TypeError) as exc:
        raise ManifestError(
            "InvalidManifest", f"The inventory manifest s3://{bucket}/{key} is invalid: {exc}"
        ) from None
    fields = [c if c in ("Bucket", "Key", "VersionId") else "Ignore" for c in columns]
    return _inventory_rows(store, data_bucket, files, fields)


def _inventory_rows(
    store: ObjectStore, bucket: str, files: list[str], fields: list[str]
) -> Iterator[Task]:
    for data_key in files:
        try:
            data = store.open(bucket, data_key)
        except ObjectStoreError as exc:
            raise ManifestError(
                exc.code,
                f"Reading the inventory data file s3://{bucket}/{data_key} failed: {exc.message}",
            ) from None
        with gzip.open(data, "rb") as unzipped:
            # Inventories write a null version as an empty string, which Batch
            # Operations rejects for that task (only the literal "null" is accepted).
            yield from _csv_rows(cast(IO[bytes], unzipped), fields)


def _generated(store: ObjectStore, generator: Mapping[str, Any]) -> Iterator[Task]:
    bucket = split_arn(generator["SourceBucket"])[0]
    constraint = generator.get("Filter", {}).get("KeyNameConstraint", {})
    prefixes = constraint.get("MatchAnyPrefix") or [""]
    suffixes = constraint.get("MatchAnySuffix") or [""]
    substrings = constraint.get("MatchAnySubstring") or [""]
    try:
        keys = store.keys(bucket)
    except ObjectStoreError as exc:
        raise ManifestError(exc.code, f"Manifest generation failed: {exc.message}") from None
    matching = [
        key
        for key in keys
        if any(key.startswith(p) for p in prefixes)
        and any(key.endswith(s) for s in suffixes)
        and any(s in key for s in substrings)
    ]
    if not matching:
        raise ManifestError(
            "NoKeysFound", "Manifest generation found no keys matching the filter criteria"
        )
    return (Task(bucket, key) for key in matching)
