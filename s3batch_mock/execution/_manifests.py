"""Manifests: from a job's Manifest or ManifestGenerator to the stream of its tasks.

Formats (S3 User Guide, batch-ops-create-job and the inventory pages):

- ``S3BatchOperations_CSV_20180820``: no header; columns in ``Spec.Fields`` order
  (``Ignore`` columns skipped); keys URL-encoded; a VersionId column, when present,
  names the version.
- ``S3InventoryReport_CSV_20161130``: the ObjectArn names an inventory
  ``manifest.json`` whose ``files`` are gzip CSVs laid out by ``fileSchema``; a data
  file that is not gzip fails the job (``InvalidManifest``) saying so.
- ``S3JobManifestGenerator``: the source bucket's keys, filtered.

Rows are streamed, never held whole. Opening checks what fails the whole job (the
manifest cannot be read, or its ETag differs from the one the job was created with);
a malformed row fails only its own task, and so does a key that is not UTF-8 (a row
whose percent-encoded bytes do not decode, a listed key with a lone surrogate).
Failure reasons name keys readably (``readable``) and fit the model's maxima.
"""

from __future__ import annotations

import csv
import datetime
import gzip
import io
import json
import tempfile
import uuid
import weakref
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any, cast
from urllib.parse import quote, unquote

from s3batch_mock._text import SURROGATE, fit, readable, shortened
from s3batch_mock.stores import SPOOL_BYTES, ObjectInfo, ObjectStore, ObjectStoreError

__all__ = [
    "GeneratedManifest",
    "ManifestError",
    "Task",
    "Tasks",
    "key_bytes",
    "open_tasks",
    "split_arn",
]


_CSV = "S3BatchOperations_CSV_20180820"
_INVENTORY = "S3InventoryReport_CSV_20161130"
#: The first two bytes of every gzip member (RFC 1952): S3 Inventory's CSV data
#: files are gzip-compressed.
_GZIP_MAGIC = b"\x1f\x8b"
#: The model's maxima of a FailureCode and a FailureReason (JobFailureCode 1-64,
#: JobFailureReason 1-256), and of a location named in a reason.
_MAX_CODE, _MAX_REASON, _MAX_SHOWN = 64, 256, 120


@dataclass(frozen=True)
class Task:
    """One object a job acts on. ``problem`` is set when its manifest row is unusable."""

    bucket: str
    key: str
    version_id: str | None = None
    problem: str | None = None


class ManifestError(Exception):
    """The job's manifest cannot be used: the job fails with this code and reason.

    Both are made readable (characters that do not print escaped, as ``\\x01``) and
    cut to the model's maxima, whatever they were built from.
    """

    def __init__(self, code: str, reason: str) -> None:
        self.code = fit(readable(code), _MAX_CODE)
        self.reason = fit(readable(reason), _MAX_REASON)
        super().__init__(f"{self.code}: {self.reason}")


def _where(bucket: str, key: str) -> str:
    """``s3://bucket/key`` for a message, its middle elided when long."""
    return shortened(readable(f"s3://{bucket}/{key}"), _MAX_SHOWN)


def key_bytes(key: str) -> bytes:
    """The bytes a key stands for, to URL-encode it into a report or manifest row.

    UTF-8, except for the two kinds of key that are not: one read from a row whose
    bytes are not UTF-8 gets those bytes back (they are kept as U+DC80-U+DCFF,
    ``surrogateescape``); one with other lone surrogates is written as UTF-8 would
    write them (``surrogatepass``, ``\\ud800`` as ``%ED%A0%80``).
    """
    try:
        return key.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return key.encode("utf-8", "surrogatepass")


def _not_utf8(key: str) -> str | None:
    """Why a key (a listed one, say) is not a key S3 can hold, or None if it is."""
    bad = SURROGATE.search(key)
    if bad is None:
        return None
    return (
        f"The key {shortened(readable(key), _MAX_SHOWN)} is not valid UTF-8 (a lone surrogate "
        f"U+{ord(bad.group()):04X} at position {bad.start()})."
    )


class Tasks(Iterator[Task]):
    """A manifest's tasks, read lazily, and the manifest version they come from
    (``None`` for a generated manifest), so a job can pin what it prepared."""

    def __init__(self, rows: Iterator[Task], version_id: str | None = None) -> None:
        self._rows = rows
        self.version_id = version_id

    def __next__(self) -> Task:
        return next(self._rows)


def split_arn(arn: str) -> tuple[str, str]:
    """``arn:aws:s3:::bucket/some/key`` -> ``("bucket", "some/key")``."""
    resource = arn.split(":", 5)[-1]
    bucket, _, key = resource.partition("/")
    return bucket, key


def open_tasks(
    store: ObjectStore, request: Mapping[str, Any], version: str | None = None
) -> Tasks:
    """The tasks of a job created with ``request`` (CreateJob's parameters).

    Raises ``ManifestError`` at once if the manifest cannot be used; the returned
    iterator then reads the rows lazily. ``version`` pins the manifest version read
    when the job was prepared, so replacing the manifest later changes nothing.
    """
    generator = request.get("ManifestGenerator", {}).get("S3JobManifestGenerator")
    if generator is not None:
        return Tasks(_generated(store, generator))
    manifest = request["Manifest"]
    location = manifest["Location"]
    bucket, key = split_arn(location["ObjectArn"])
    version = version or location.get("ObjectVersionId")
    try:
        info = store.head(bucket, key, version)
    except ObjectStoreError as exc:
        raise ManifestError(
            exc.code, f"Reading the manifest {_where(bucket, key)} failed: {exc.message}"
        ) from None
    expected = location.get("ETag", "").strip('"')
    if expected != info.etag:
        raise ManifestError(
            "PreconditionFailed",
            f"The manifest's ETag is {info.etag} but the job was created with {expected}.",
        )
    spec = manifest["Spec"]
    if spec["Format"] == _INVENTORY:
        return Tasks(_inventory(store, bucket, key, info.version_id), info.version_id)
    rows = _csv_rows(store.open(bucket, key, info.version_id), spec.get("Fields"))
    return Tasks(rows, info.version_id)


def _csv_rows(stream: IO[bytes], fields: list[str] | None) -> Iterator[Task]:
    with io.TextIOWrapper(stream, encoding="utf-8", newline="") as text:
        layout: _Layout | None = _Layout(fields) if fields else None
        try:
            for number, row in enumerate(csv.reader(text), start=1):
                if not row or row == [""]:
                    continue
                if layout is None:  # no Fields: Bucket, Key and an optional VersionId
                    layout = _Layout(["Bucket", "Key", "VersionId"][: max(2, min(len(row), 3))])
                yield layout.task(row, number)
        except (UnicodeDecodeError, csv.Error, OSError, EOFError, zlib.error) as exc:
            raise ManifestError("InvalidManifest", f"The manifest cannot be read: {exc}") from None


class _Layout:
    """Where Bucket, Key and VersionId sit in a manifest's rows, worked out once."""

    def __init__(self, fields: list[str]) -> None:
        self.fields = fields
        self.bucket = fields.index("Bucket") if "Bucket" in fields else None
        self.key = fields.index("Key") if "Key" in fields else None
        self.version = fields.index("VersionId") if "VersionId" in fields else None

    def task(self, row: list[str], number: int) -> Task:
        if len(row) != len(self.fields):
            return Task(
                row[0],
                _key(row[1], number)[0] if len(row) > 1 else "",
                problem=(
                    f"Manifest row {number} has {len(row)} columns but the manifest's Fields "
                    f"name {len(self.fields)} ({', '.join(self.fields)})."
                ),
            )
        bucket = row[self.bucket] if self.bucket is not None else ""
        key, problem = _key(row[self.key], number) if self.key is not None else ("", None)
        if not bucket or not key:
            return Task(bucket, key, problem=f"Manifest row {number} has no bucket or no key.")
        if problem is not None:
            return Task(bucket, key, problem=problem)
        if self.version is None:
            return Task(bucket, key)
        version = row[self.version]
        if not version:
            return Task(bucket, key, problem="Task failed due to missing VersionId")
        return Task(bucket, key, version)


def _key(encoded: str, number: int) -> tuple[str, str | None]:
    """A row's URL-encoded key, decoded, and why it is unusable (None if it is not).

    Bytes that are not UTF-8 fail the task, with a reason showing the row's text
    (``unquote`` alone would turn them into U+FFFD and act on another key); the key
    keeps them, as ``surrogateescape`` characters, for the report row.
    """
    try:
        return unquote(encoded, errors="strict"), None
    except UnicodeDecodeError as exc:
        return unquote(encoded, errors="surrogateescape"), (
            f"Manifest row {number}: the key {shortened(readable(encoded), _MAX_SHOWN)} is not "
            f"valid UTF-8 once URL-decoded ({exc.reason})."
        )


def _inventory(store: ObjectStore, bucket: str, key: str, version: str | None) -> Iterator[Task]:
    try:
        with store.open(bucket, key, version) as raw:
            document = json.load(raw)
        columns = [c.strip() for c in document["fileSchema"].split(",")]
        files = [f["key"] for f in document["files"]]
        data_bucket = split_arn(document.get("destinationBucket", f"arn:aws:s3:::{bucket}"))[0]
        for name in (data_bucket, *files):  # JSON can spell any text, lone surrogates too
            if not isinstance(name, str):
                raise TypeError(f"{name!r} is not a string")
            if (why := _not_utf8(name)) is not None:
                raise ValueError(why)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ManifestError(
            "InvalidManifest", f"The inventory manifest {_where(bucket, key)} is invalid: {exc}"
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
            where = _where(bucket, data_key)
            raise ManifestError(
                exc.code, f"Reading the inventory data file {where} failed: {exc.message}"
            ) from None
        with data:
            magic = data.read(len(_GZIP_MAGIC))
            if magic and magic != _GZIP_MAGIC:
                raise ManifestError(
                    "InvalidManifest",
                    f"The inventory data file {_where(bucket, data_key)} is not gzip: "
                    "S3 Inventory CSV data files must be gzip-compressed (.csv.gz), as "
                    "S3 Inventory writes them.",
                )
            with gzip.open(_Rejoined(magic, data), "rb") as unzipped:
                # Inventories write a null version as an empty string, which Batch
                # Operations rejects for that task (only the literal "null" is accepted).
                yield from _csv_rows(cast(IO[bytes], unzipped), fields)


class _Rejoined(io.RawIOBase):
    """A stream whose first bytes were already read (to check them), made whole again."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        super().__init__()
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self._head:
            size = min(len(view), len(self._head))
            view[:size] = self._head[:size]
            self._head = self._head[size:]
            return size
        chunk = self._rest.read(len(view))
        view[: len(chunk)] = chunk
        return len(chunk)


def _generated(store: ObjectStore, generator: Mapping[str, Any]) -> Iterator[Task]:
    bucket = split_arn(generator["SourceBucket"])[0]
    keep = _filter(generator.get("Filter", {}))
    try:
        objects = store.objects(bucket)
        first = next((info for info in objects if keep(info)), None)
    except ObjectStoreError as exc:
        raise ManifestError(exc.code, f"Manifest generation failed: {exc.message}") from None
    if first is None:
        if generator.get("AllowNoKeys"):  # OSS's KeyPrefixManifestGenerator: 0 tasks
            return iter(())
        raise ManifestError(
            "NoKeysFound", "Manifest generation found no keys matching the filter criteria"
        )
    return _generated_rest(first, objects, keep)


def _generated_rest(
    first: ObjectInfo, objects: Iterator[ObjectInfo], keep: Callable[[ObjectInfo], bool]
) -> Iterator[Task]:
    yield _listed(first)
    for info in objects:
        if keep(info):
            yield _listed(info)


def _listed(info: ObjectInfo) -> Task:
    """The task of a listed object; one whose key is not UTF-8 fails (a store that
    holds such a key is not one S3 would be)."""
    return Task(info.bucket, info.key, info.version_id, _not_utf8(info.key))


_ENCRYPTION = {"SSES3": "AES256", "SSEKMS": "aws:kms", "DSSEKMS": "aws:kms:dsse", "NOTSSE": ""}


def _filter(spec: Mapping[str, Any]) -> Callable[[ObjectInfo], bool]:
    """Every JobManifestGeneratorFilter field, applied to what the store records."""
    names = spec.get("KeyNameConstraint", {})
    prefixes = names.get("MatchAnyPrefix") or [""]
    suffixes = names.get("MatchAnySuffix") or [""]
    substrings = names.get("MatchAnySubstring") or [""]
    after, before = spec.get("CreatedAfter"), spec.get("CreatedBefore")
    larger, smaller = spec.get("ObjectSizeGreaterThanBytes"), spec.get("ObjectSizeLessThanBytes")
    classes = spec.get("MatchAnyStorageClass")
    replication = spec.get("ObjectReplicationStatuses")
    encryptions = spec.get("MatchAnyObjectEncryption")

    def encrypted_as_asked(info: ObjectInfo) -> bool:
        for choice in encryptions or ():
            kind, details = next(iter(choice.items()))
            if _ENCRYPTION.get(kind) != info.encryption:
                continue
            wanted_key = (details or {}).get("KmsKeyArn")
            if wanted_key is None or wanted_key == info.kms_key_id:
                return True
        return False

    def keep(info: ObjectInfo) -> bool:
        key = info.key
        return (
            any(key.startswith(p) for p in prefixes)
            and any(key.endswith(s) for s in suffixes)
            and any(s in key for s in substrings)
            and (after is None or info.last_modified > after)
            and (before is None or info.last_modified < before)
            and (larger is None or info.size > larger)
            and (smaller is None or info.size < smaller)
            and (not classes or info.storage_class in classes)
            and (not replication or (info.replication_status or "NONE") in replication)
            and (not encryptions or encrypted_as_asked(info))
        )

    return keep


class GeneratedManifest:
    """The manifest a ManifestGenerator writes when ``EnableManifestOutput`` is true.

    Format ``S3InventoryReport_CSV_20211130``: a gzip CSV of Bucket, Key, VersionId
    and a ``manifest.json`` pointing at it, under
    ``<ManifestPrefix>/job-<id>/`` in the output bucket (AWS does not document the
    key layout). Rows are compressed as they come, never held as a list.
    """

    FORMAT = "S3InventoryReport_CSV_20211130"

    def __init__(self, location: Mapping[str, Any], source_bucket: str, job_id: str) -> None:
        self._bucket = split_arn(location["Bucket"])[0]
        prefix = str(location.get("ManifestPrefix", "")).strip("/")
        self._base = f"{prefix}/job-{job_id}" if prefix else f"job-{job_id}"
        self._source = source_bucket
        self._spool = tempfile.SpooledTemporaryFile(SPOOL_BYTES)  # noqa: SIM115 - closed in write
        weakref.finalize(self, self._spool.close)  # or when a job dropped unfinished goes
        self._gzip = gzip.GzipFile(fileobj=self._spool, mode="wb")
        self._text = io.TextIOWrapper(self._gzip, encoding="utf-8", newline="")
        self._csv = csv.writer(self._text, lineterminator="\n")

    def add(self, task: Task) -> None:
        self._csv.writerow(
            [task.bucket, quote(key_bytes(task.key), safe="/"), task.version_id or ""]
        )

    def write(self, store: ObjectStore, at: datetime.datetime) -> dict[str, Any]:
        """Store the data file and manifest.json; returns the GeneratedManifestDescriptor."""
        self._text.flush()
        self._text.detach()
        self._gzip.close()
        size = self._spool.tell()
        self._spool.seek(0)
        data_key = f"{self._base}/data/{uuid.uuid4()}.csv.gz"
        try:
            data = store.write(self._bucket, data_key, cast(IO[bytes], self._spool))
        finally:
            self._spool.close()
        document = {
            "sourceBucket": self._source,
            "destinationBucket": f"arn:aws:s3:::{self._bucket}",
            "version": "2021-11-30",
            "creationTimestamp": str(int(at.timestamp() * 1000)),
            "fileFormat": "CSV",
            "fileSchema": "Bucket, Key, VersionId",
            "files": [{"key": data_key, "size": size, "MD5checksum": data.etag}],
        }
        manifest_key = f"{self._base}/manifest.json"
        written = store.write(
            self._bucket, manifest_key, io.BytesIO(json.dumps(document).encode("utf-8"))
        )
        return {
            "Format": self.FORMAT,
            "Location": {
                "ObjectArn": f"arn:aws:s3:::{self._bucket}/{manifest_key}",
                "ETag": written.etag,
            },
        }
