"""Alibaba Cloud OSS's object API, over the object store the jobs use.

A script driving OSS batch jobs against the server puts its manifest and objects and
reads its completion report and the job's effects with the OSS object calls batch
code uses, through ``oss2``, ``alibabacloud-oss-v2``, ossutil or raw HTTP:

PutBucket, ListObjects, ListObjectsV2, PutObject, GetObject, HeadObject,
DeleteObject, GetObjectTagging, PutObjectTagging, GetObjectAcl and PutObjectAcl.

Addressed virtual-hosted (``<bucket>.oss-<region>.aliyuncs.com``, or
``<bucket>.<the server's host>``) or path style (``/<bucket>/<key>``). Answers speak
OSS: upper-case hex ETags, ``x-oss-`` headers (request ID, CRC-64 of the body,
storage class, object type), OSS's storage classes (``Archive`` and ``ColdArchive``
stand for the store's ``GLACIER`` and ``DEEP_ARCHIVE``), canned ACLs, and OSS's
``<Error>`` body. Signatures are never checked.
"""

from __future__ import annotations

import email.utils
import functools
import io
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import IO, Any, cast
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from s3batch_mock.stores import ObjectInfo, ObjectStore, ObjectStoreError, check_readable
from s3batch_mock.wire import MAX_BODY_BYTES, HttpResponse
from s3batch_mock.wire._oss import (
    OssError,
    new_oss_request_id,
    parse_xml,
    render_error,
    xml_document,
)

from ._s3_api import StreamingResponse, address, call_named, list_page

__all__ = ["OssObjectRequest", "serve_oss_object"]

_MAX_KEYS = 1000
_DEFAULT_MAX_KEYS = 100
_OWNER = "s3batch-mock"
#: OSS storage classes and the store's, both ways.
_TO_STORE = {
    "Standard": "STANDARD",
    "IA": "STANDARD_IA",
    "Archive": "GLACIER",
    "ColdArchive": "DEEP_ARCHIVE",
    "DeepColdArchive": "DEEP_ARCHIVE",
}
_FROM_STORE = {"STANDARD_IA": "IA", "GLACIER": "Archive", "DEEP_ARCHIVE": "ColdArchive"}
_CANNED_ACLS = ("default", "private", "public-read", "public-read-write")
_VIRTUAL_HOST = re.compile(
    r"^(?P<bucket>[a-z0-9][a-z0-9-]{1,61}[a-z0-9])\.oss-[a-z0-9-]+\.aliyuncs\.com$",
    re.IGNORECASE,
)
#: The CRC-64 OSS answers with (``x-oss-hash-crc64ecma``) is computed for bodies up to
#: this size; larger ones are answered without it (the SDKs then skip their check).
_CRC_MAX_BYTES = 16 << 20
_SERVED = (
    "PutBucket, ListObjects, ListObjectsV2, PutObject, GetObject, HeadObject, DeleteObject, "
    "GetObjectTagging, PutObjectTagging, GetObjectAcl and PutObjectAcl"
)


@dataclass(frozen=True)
class OssObjectRequest:
    """An OSS object request: method, Host, raw path and query, headers, body."""

    method: str
    host: str
    path: str
    query: str
    headers: Mapping[str, str]  # lower-case names
    body: IO[bytes]


class _Missing(Exception):
    """The store cannot do what the request asks (DeleteObject in moto mode)."""


def serve_oss_object(
    store: ObjectStore, request: OssObjectRequest, server_hosts: frozenset[str]
) -> HttpResponse | StreamingResponse:
    """Answer one OSS object request from ``store``; OSS's error for what fails."""
    request_id = new_oss_request_id()
    bucket, key = _address(request, server_hosts)
    params = dict(parse_qsl(request.query, keep_blank_values=True))
    host_id = (urlsplit(f"//{request.host}").hostname or "") or "oss-cn-hangzhou.aliyuncs.com"
    extra: dict[str, str] = {}
    if bucket:
        extra["BucketName"] = bucket
    try:
        handler = _handler_for(request.method, bucket, key, params, request.headers)
        return handler(_Call(store, request, bucket or "", key or "", params, request_id))
    except OssError as error:
        return _error(request, error, request_id, host_id, extra)
    except ObjectStoreError as error:
        code = error.code
        if key and code == "NoSuchKey":
            extra["Key"] = key
        message = _MESSAGES.get(code, error.message)
        return _error(
            request, OssError(code, error.http_status, message), request_id, host_id, extra
        )


def _address(
    request: OssObjectRequest, server_hosts: frozenset[str]
) -> tuple[str | None, str | None]:
    name = (urlsplit(f"//{request.host}").hostname or "").lower()
    match = _VIRTUAL_HOST.match(name)
    if match is not None:
        raw = request.path.removeprefix("/")
        return match.group("bucket"), (unquote(raw) or None)
    return address(request.host, request.path, server_hosts)


def _error(
    request: OssObjectRequest,
    error: OssError,
    request_id: str,
    host_id: str,
    extra: Mapping[str, str],
) -> HttpResponse:
    error.ec = _EC.get(error.code, "0016-00000000")
    response = render_error(error, request_id, host_id, extra)
    if request.method == "HEAD":  # a HEAD answer has no body
        return HttpResponse(response.status, response.headers, b"")
    return response


#: OSS's own messages for the errors its SDKs' users meet most.
_MESSAGES = {
    "NoSuchKey": "The specified key does not exist.",
    "NoSuchBucket": "The specified bucket does not exist.",
}
#: The documented ECs of the object errors batch code meets.
_EC = {
    "NoSuchBucket": "0015-00000101",
    "NoSuchKey": "0026-00000001",
    "InvalidObjectState": "0016-00000801",
}


@dataclass(frozen=True)
class _Call:
    store: ObjectStore
    request: OssObjectRequest
    bucket: str
    key: str
    params: Mapping[str, str]
    request_id: str

    def headers(self) -> dict[str, str]:
        return {"x-oss-request-id": self.request_id, "Server": "AliyunOSS"}


_Handler = Callable[[_Call], "HttpResponse | StreamingResponse"]


def _handler_for(
    method: str,
    bucket: str | None,
    key: str | None,
    params: Mapping[str, str],
    headers: Mapping[str, str],
) -> _Handler:
    if bucket is not None and key is None:
        if method == "PUT" and not params.keys() - {"x-oss-ac-source-ip"}:
            return _put_bucket
        if method == "GET" and params.get("list-type") == "2":
            return _list_objects_v2
        if method == "GET" and not params.keys() - _LIST_PARAMS:
            return _list_objects
    elif bucket is not None and key is not None:
        if "tagging" in params:
            if method == "GET":
                return _get_tagging
            if method == "PUT":
                return _put_tagging
        elif "acl" in params:
            if method == "GET":
                return _get_acl
            if method == "PUT":
                return _put_acl
        elif not params.keys() - {"versionId"} and "x-oss-copy-source" not in headers:
            if method == "PUT":
                return _put_object
            if method in ("GET", "HEAD"):
                return _get_object
            if method == "DELETE":
                return _delete_object
    what = call_named(method, bucket, key, params)
    raise OssError(
        "NotImplemented",
        501,
        f"s3batch_mock serves the OSS object calls batch jobs need ({_SERVED}); it does "
        f"not serve {what}.",
    )


_LIST_PARAMS = frozenset({"prefix", "delimiter", "marker", "max-keys", "encoding-type"})


# ---------------------------------------------------------------------- buckets


def _put_bucket(call: _Call) -> HttpResponse:
    call.request.body.read()  # CreateBucketConfiguration: the storage class is not kept
    call.store.create_bucket(call.bucket)
    headers = call.headers()
    headers["Location"] = f"/{call.bucket}"
    return HttpResponse(200, headers, b"")


def _max_keys(params: Mapping[str, str]) -> int:
    text = params.get("max-keys", str(_DEFAULT_MAX_KEYS))
    try:
        value = int(text)
    except ValueError:
        raise OssError("InvalidArgument", 400, f"max-keys must be an integer: {text!r}") from None
    if not 0 <= value <= _MAX_KEYS:
        raise OssError("InvalidArgument", 400, f"max-keys must be 0 to {_MAX_KEYS}: {value}")
    return value


def _page(
    call: _Call, after: str
) -> tuple[list[ObjectInfo], list[str], str, bool, Callable[[str], str]]:
    params = call.params
    prefix, delimiter = params.get("prefix", ""), params.get("delimiter", "")
    contents, prefixes, last, truncated = list_page(
        call.store, call.bucket, prefix, delimiter, after, _max_keys(params)
    )
    encode: Callable[[str], str] = str
    if params.get("encoding-type") == "url":
        encode = functools.partial(quote, safe="")
    return contents, prefixes, last, truncated, encode


def _contents(out: Any, info: ObjectInfo, encode: Callable[[str], str], owner: bool) -> None:
    out.open("Contents")
    out.leaf("Key", encode(info.key))
    out.leaf("LastModified", _iso(info))
    out.leaf("ETag", f'"{info.etag.upper()}"')
    out.leaf("Type", "Normal")
    out.leaf("Size", info.size)
    out.leaf("StorageClass", _storage_class(info))
    if owner:
        out.open("Owner")
        out.leaf("ID", _OWNER)
        out.leaf("DisplayName", _OWNER)
        out.close("Owner")
    out.close("Contents")


def _list_objects(call: _Call) -> HttpResponse:
    params = call.params
    marker = params.get("marker", "")
    contents, prefixes, last, truncated, encode = _page(call, marker)

    def build(out: Any) -> None:
        out.open("ListBucketResult")
        out.leaf("Name", call.bucket)
        out.leaf("Prefix", encode(params.get("prefix", "")))
        out.leaf("Marker", encode(marker))
        out.leaf("MaxKeys", _max_keys(params))
        out.leaf("Delimiter", encode(params.get("delimiter", "")))
        if params.get("encoding-type") == "url":
            out.leaf("EncodingType", "url")
        out.leaf("IsTruncated", truncated)
        if truncated:
            out.leaf("NextMarker", encode(last))
        _entries(out, contents, prefixes, encode, owner=True)

    return _xml_response(call, build)


def _entries(
    out: Any,
    contents: list[ObjectInfo],
    prefixes: list[str],
    encode: Callable[[str], str],
    *,
    owner: bool,
) -> None:
    """The objects and common prefixes of a ListObjects page, and the document's end."""
    for info in contents:
        _contents(out, info, encode, owner=owner)
    for prefix in prefixes:
        out.open("CommonPrefixes")
        out.leaf("Prefix", encode(prefix))
        out.close("CommonPrefixes")
    out.close("ListBucketResult")


def _list_objects_v2(call: _Call) -> HttpResponse:
    params = call.params
    token = params.get("continuation-token")
    after = params.get("start-after", "")
    if token:
        try:
            after = max(after, bytes.fromhex(token).decode("utf-8"))
        except ValueError:
            raise OssError(
                "InvalidArgument", 400, f"The continuation-token {token!r} is not valid"
            ) from None
    contents, prefixes, last, truncated, encode = _page(call, after)
    owner = params.get("fetch-owner") == "true"

    def build(out: Any) -> None:
        out.open("ListBucketResult")
        out.leaf("Name", call.bucket)
        out.leaf("Prefix", encode(params.get("prefix", "")))
        if "start-after" in params:
            out.leaf("StartAfter", encode(params["start-after"]))
        if token is not None:
            out.leaf("ContinuationToken", token)
        out.leaf("MaxKeys", _max_keys(params))
        out.leaf("Delimiter", encode(params.get("delimiter", "")))
        if params.get("encoding-type") == "url":
            out.leaf("EncodingType", "url")
        out.leaf("IsTruncated", truncated)
        if truncated:
            out.leaf("NextContinuationToken", last.encode("utf-8").hex())
        out.leaf("KeyCount", len(contents) + len(prefixes))
        _entries(out, contents, prefixes, encode, owner=owner)

    return _xml_response(call, build)


# ---------------------------------------------------------------------- objects


def _put_object(call: _Call) -> HttpResponse:
    given = call.request.headers
    call.store.keys(call.bucket, "\x00")  # NoSuchBucket: PutObject creates no bucket
    storage = given.get("x-oss-storage-class", "Standard")
    if storage not in _TO_STORE:
        raise OssError("InvalidArgument", 400, f"Unsupported storage class: {storage!r}")
    acl = given.get("x-oss-object-acl")
    if acl is not None and acl not in _CANNED_ACLS:
        raise OssError("InvalidArgument", 400, f"Unsupported ACL: {acl!r}")
    tags = dict(parse_qsl(given.get("x-oss-tagging", ""), keep_blank_values=True))
    etag = call.store.put(
        call.bucket,
        call.key,
        call.request.body,
        storage_class=_TO_STORE[storage],
        metadata={
            name.removeprefix("x-oss-meta-"): value
            for name, value in given.items()
            if name.startswith("x-oss-meta-")
        },
        content_type=given.get("content-type") or "application/octet-stream",
        tags=tags or None,
    )
    info = call.store.head(call.bucket, call.key)
    if acl is not None:
        call.store.put_acl(call.bucket, call.key, info.version_id, {"Canned": acl})
    headers = call.headers()
    headers["ETag"] = f'"{etag.upper()}"'
    crc = _crc(call.store, info)
    if crc is not None:
        headers["x-oss-hash-crc64ecma"] = crc
    return HttpResponse(200, headers, b"")


def _get_object(call: _Call) -> HttpResponse | StreamingResponse:
    version = call.params.get("versionId")
    info = call.store.head(call.bucket, call.key, version)
    headers = call.headers()
    headers.update(_object_headers(call.store, info))
    if call.request.method == "HEAD":
        return HttpResponse(200, headers, b"")
    try:
        check_readable(info)
    except ObjectStoreError:
        raise OssError(
            "InvalidObjectState",
            403,
            f"The operation is not valid for the object's state: {_storage_class(info)} "
            "objects must be restored (RestoreObject) before they are read.",
        ) from None
    body = call.store.open(call.bucket, call.key, info.version_id)
    span = _range(call.request.headers.get("range", ""), info.size)
    if span is None:
        return StreamingResponse(200, headers, body, info.size)
    start, end = span
    body.seek(start)
    headers["Content-Range"] = f"bytes {start}-{end}/{info.size}"
    headers["Content-Length"] = str(end - start + 1)
    headers.pop("x-oss-hash-crc64ecma", None)  # the whole object's: not this part's
    part = cast("IO[bytes]", _Limited(body, end - start + 1))
    return StreamingResponse(206, headers, part, end - start + 1)


_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _range(header: str, size: int) -> tuple[int, int] | None:
    """The first and last byte of a ``Range: bytes=a-b`` (or ``a-``, ``-n``); None for
    no range or one OSS ignores (it then answers the whole object, as OSS does)."""
    match = _RANGE.match(header.strip())
    if match is None or not any(match.groups()) or size == 0:
        return None
    first, last = match.groups()
    if not first:  # the last n bytes
        start, end = max(0, size - int(last)), size - 1
    else:
        start = int(first)
        end = min(int(last), size - 1) if last else size - 1
    if start > end or start >= size:
        return None
    return start, end


class _Limited(io.RawIOBase):
    """The first ``remaining`` bytes of a stream, which it closes when closed."""

    def __init__(self, stream: IO[bytes], remaining: int) -> None:
        super().__init__()
        self._stream = stream
        self._remaining = remaining

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        wanted = self._remaining if size is None or size < 0 else min(size, self._remaining)
        chunk = self._stream.read(wanted) if wanted else b""
        self._remaining -= len(chunk)
        return chunk

    def readinto(self, buffer: Any) -> int:
        chunk = self.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)

    def close(self) -> None:
        self._stream.close()
        super().close()


def _delete_object(call: _Call) -> HttpResponse:
    delete: Callable[[str, str], None] | None = getattr(call.store, "delete", None)
    if delete is None:
        raise OssError("NotImplemented", 501, "DeleteObject is served on the embedded store only.")
    call.store.keys(call.bucket, "\x00")  # NoSuchBucket
    delete(call.bucket, call.key)
    return HttpResponse(204, call.headers(), b"")


def _get_tagging(call: _Call) -> HttpResponse:
    info = call.store.head(call.bucket, call.key, call.params.get("versionId"))

    def build(out: Any) -> None:
        out.open("Tagging")
        out.open("TagSet")
        for name, value in info.tags.items():
            out.open("Tag")
            out.leaf("Key", name)
            out.leaf("Value", value)
            out.close("Tag")
        out.close("TagSet")
        out.close("Tagging")

    return _xml_response(call, build)


def _put_tagging(call: _Call) -> HttpResponse:
    root = parse_xml(call.request.body.read(MAX_BODY_BYTES + 1))
    tags = {(tag.findtext("Key") or ""): (tag.findtext("Value") or "") for tag in root.iter("Tag")}
    version = call.params.get("versionId")
    call.store.put_tags(call.bucket, call.key, version, tags)
    return HttpResponse(200, call.headers(), b"")


def _get_acl(call: _Call) -> HttpResponse:
    info = call.store.head(call.bucket, call.key, call.params.get("versionId"))
    grant = (info.acl or {}).get("Canned", "default")

    def build(out: Any) -> None:
        out.open("AccessControlPolicy")
        out.open("Owner")
        out.leaf("ID", _OWNER)
        out.leaf("DisplayName", _OWNER)
        out.close("Owner")
        out.open("AccessControlList")
        out.leaf("Grant", grant)
        out.close("AccessControlList")
        out.close("AccessControlPolicy")

    return _xml_response(call, build)


def _put_acl(call: _Call) -> HttpResponse:
    acl = call.request.headers.get("x-oss-object-acl", "")
    if acl not in _CANNED_ACLS:
        raise OssError(
            "InvalidArgument",
            400,
            f"x-oss-object-acl must be one of {', '.join(_CANNED_ACLS)}, not {acl!r}",
        )
    call.store.put_acl(call.bucket, call.key, call.params.get("versionId"), {"Canned": acl})
    return HttpResponse(200, call.headers(), b"")


# ---------------------------------------------------------------------- helpers


def _xml_response(call: _Call, build: Callable[[Any], None]) -> HttpResponse:
    headers = call.headers()
    headers["Content-Type"] = "application/xml"
    return HttpResponse(200, headers, xml_document(build))


def _storage_class(info: ObjectInfo) -> str:
    return _FROM_STORE.get(info.storage_class, "Standard")


def _iso(info: ObjectInfo) -> str:
    return info.last_modified.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _object_headers(store: ObjectStore, info: ObjectInfo) -> dict[str, str]:
    headers = {
        "ETag": f'"{info.etag.upper()}"',
        "Content-Length": str(info.size),
        "Content-Type": info.content_type,
        "Last-Modified": email.utils.format_datetime(info.last_modified, usegmt=True),
        "Accept-Ranges": "bytes",
        "x-oss-object-type": "Normal",
        "x-oss-storage-class": _storage_class(info),
    }
    headers.update({f"x-oss-meta-{name}": value for name, value in info.metadata.items()})
    if info.tags:
        headers["x-oss-tagging-count"] = str(len(info.tags))
    if info.restore_expiry is not None:
        expiry = email.utils.format_datetime(info.restore_expiry, usegmt=True)
        headers["x-oss-restore"] = f'ongoing-request="false", expiry-date="{expiry}"'
    crc = _crc(store, info)
    if crc is not None:
        headers["x-oss-hash-crc64ecma"] = crc
    return headers


def _crc(store: ObjectStore, info: ObjectInfo) -> str | None:
    """The body's CRC-64/ECMA-182 (as OSS computes it), in decimal; None if too large.

    Remembered per version (version IDs are UUIDs, never reused) for the last few."""
    if info.size > _CRC_MAX_BYTES:
        return None
    version = (info.bucket, info.key, info.version_id, info.etag)
    known = _CRCS.get(version)
    if known is not None:
        return known
    crc = 0xFFFFFFFFFFFFFFFF
    table = _crc_table()
    with store.open(info.bucket, info.key, info.version_id) as body:
        while chunk := body.read(1 << 16):
            for byte in chunk:
                crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    value = str(crc ^ 0xFFFFFFFFFFFFFFFF)
    with _CRCS_LOCK:
        if len(_CRCS) >= _CRCS_KEPT:
            _CRCS.pop(next(iter(_CRCS)))
        _CRCS[version] = value
    return value


_CRCS: dict[tuple[str, str, str, str], str] = {}
_CRCS_LOCK = threading.Lock()
_CRCS_KEPT = 256


@functools.cache
def _crc_table() -> tuple[int, ...]:
    polynomial = 0xC96C5795D7870F42  # ECMA-182, reflected
    table = []
    for index in range(256):
        value = index
        for _ in range(8):
            value = (value >> 1) ^ polynomial if value & 1 else value >> 1
        table.append(value)
    return tuple(table)
