"""Completion reports, laid out as the S3 User Guide's examples show them.

``<Prefix>/job-<id>/manifest.json`` lists the result CSVs, each with its MD5;
succeeded and failed tasks go to separate ``results/<40 hex>.csv`` files. Rows are
Bucket, Key, VersionId, TaskStatus, HTTPStatusCode, ErrorCode, ResultMessage (the
column order of every real example), while manifest.json carries the documented
ReportSchema string as written. Rows are spooled to temporary files as tasks run,
so a report is never held whole in memory.

Any text can be written: keys are URL-encoded from the bytes they stand for, other
cells have lone surrogates replaced (U+FFFD), and a row with a carriage return is
written fully quoted, so every report is UTF-8 that a CSV reader reads back.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import json
import secrets
import tempfile
import weakref
from collections.abc import Mapping
from typing import IO, Any
from urllib.parse import quote

from s3batch_mock._clock import iso8601
from s3batch_mock._text import fit, readable, utf8_text
from s3batch_mock.stores import SPOOL_BYTES, ObjectStore, ObjectStoreError

from ._manifests import Task, key_bytes, split_arn
from ._operations import Outcome

__all__ = ["REPORT_SCHEMA", "ReportWriter"]

REPORT_SCHEMA = "Bucket, Key, VersionId, TaskStatus, ErrorCode, HTTPStatusCode, ResultMessage"
_MAX_REASON = 256  # JobFailureReason's maximum in the model


class _ResultFile:
    """One results CSV being written: spooled rows and how many there are."""

    def __init__(self) -> None:
        self.file: IO[bytes] = tempfile.SpooledTemporaryFile(SPOOL_BYTES)  # noqa: SIM115
        # A job dropped before it ends (its mock scope left) never calls close().
        weakref.finalize(self, self.file.close)
        self.text = io.TextIOWrapper(self.file, encoding="utf-8", newline="", write_through=True)
        self.writer = csv.writer(self.text, lineterminator="\n")
        # The csv module quotes a field holding the line terminator's characters only,
        # so a lone CR would be written bare and break the row for readers: such rows
        # are written with every field quoted (the same values, read back).
        self.quoted = csv.writer(self.text, lineterminator="\n", quoting=csv.QUOTE_ALL)
        self.rows = 0

    def add(self, row: list[str]) -> None:
        if any("\r" in cell for cell in row):
            self.quoted.writerow(row)
        else:
            self.writer.writerow(row)
        self.rows += 1

    def close(self) -> None:
        # A store may close the file it uploaded (boto3's upload_fileobj does).
        if not self.file.closed:
            self.text.detach()
            self.file.close()


class ReportWriter:
    """Collects task results for one job and writes its completion report."""

    def __init__(self, report: Mapping[str, Any]) -> None:
        self.enabled = bool(report.get("Enabled"))
        self.failed_only = report.get("ReportScope") == "FailedTasksOnly"
        self._report = report
        # No spool at all for a job without a report.
        self._files = {"succeeded": _ResultFile(), "failed": _ResultFile()} if self.enabled else {}

    def add(self, task: Task, outcome: Outcome) -> None:
        if not self.enabled or (outcome.succeeded and self.failed_only):
            return
        status = "succeeded" if outcome.succeeded else "failed"
        self._files[status].add(
            [
                utf8_text(task.bucket),
                quote(key_bytes(task.key), safe="/"),
                utf8_text(task.version_id or ""),
                status,
                str(outcome.http_status),
                utf8_text(outcome.error_code),
                utf8_text(outcome.message),  # a Lambda's resultString, say: any text
            ]
        )

    def write(self, store: ObjectStore, job_id: str, at: datetime.datetime) -> str | None:
        """Write the report; returns why it could not be written, or None."""
        try:
            if not self.enabled:
                return None
            bucket = split_arn(self._report["Bucket"])[0]
            prefix = self._report.get("Prefix", "").strip("/")
            base = f"{prefix}/job-{job_id}" if prefix else f"job-{job_id}"
            results = []
            for status, result in self._files.items():
                if not result.rows:
                    continue
                result.file.seek(0)
                digest = hashlib.md5(usedforsecurity=False)
                while chunk := result.file.read(1 << 16):
                    digest.update(chunk)
                result.file.seek(0)
                key = f"{base}/results/{secrets.token_hex(20)}.csv"
                store.write(bucket, key, result.file)
                results.append(
                    {
                        "TaskExecutionStatus": status,
                        "Bucket": bucket,
                        "MD5Checksum": digest.hexdigest(),
                        "Key": key,
                    }
                )
            manifest = {
                "Format": self._report.get("Format", "Report_CSV_20180820"),
                "ReportCreationDate": iso8601(at),
                "Results": results,
                "ReportSchema": REPORT_SCHEMA,
            }
            store.write(bucket, f"{base}/manifest.json", io.BytesIO(json.dumps(manifest).encode()))
            return None
        except ObjectStoreError as exc:
            reason = (
                "The job report could not be written to your report bucket. Please check "
                f"your permissions. ({exc.code}: {exc.message})"
            )
            return fit(readable(reason), _MAX_REASON)
        finally:
            self.close()

    def close(self) -> None:
        for result in self._files.values():
            result.close()
        self._files = {}
        self.enabled = False
