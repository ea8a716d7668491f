"""S3's object API over the embedded store, for server mode.

A script driving ``python -m s3batch_mock serve`` puts its manifest and reads its
completion report with ordinary S3 calls: ``aws s3 cp``, ``aws s3 ls``,
``aws s3api put-object``, boto3's ``put_object``/``get_object``, Java's ``S3Client``.
This module answers the object calls jobs need from the server's embedded store.
Response bodies are rendered from botocore's own S3 model by the wire layer, as the
s3control responses are.

Served: ListBuckets, CreateBucket, HeadBucket, DeleteBucket, ListObjects,
ListObjectsV2, PutObject, GetObject, HeadObject, DeleteObject, DeleteObjects,
GetObjectTagging, PutObjectTagging. Anything else gets ``501 NotImplemented`` saying so,
and pointing at moto mode (``s3batch_mock[server]``), which serves S3 in full.

User metadata arrives RFC 2047-decoded (``_headers.metadata_value``), as S3 stores it;
bodies in S3's ``aws-chunked`` content encoding (SDKs streaming uploads with chunk
signatures or trailing checksums) are decoded here, with every size and line checked.
"""

from __future__ import annotations

import contextlib
import email.utils
import functools
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import botocore.session
from botocore.model import ServiceModel, StructureShape

from s3batch_mock.stores import (
    SPOOL_BYTES,
    EmbeddedStore,
    ObjectInfo,
    ObjectStore,
    ObjectStoreError,
    check_readable,
)
from s3batch_mock.wire import (
    HttpResponse,
    XMLRefused,
    base_headers,
    new_request_id,
    parse_untrusted,
    render_document,
)

from ._headers import metadata_value

__all__ = ["ObjectRequest", "StreamingResponse", "serve_object"]

_NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"
_MAX_KEYS = 1000
#: The largest XML body the object API reads (DeleteObjects of 1,000 long keys fits).
_MAX_XML_BYTES = 2 << 20
_MAX_DELETE_KEYS = 1000
_SERVED = (
    "ListBuckets, CreateBucket, HeadBucket, DeleteBucket, ListObjects, ListObjectsV2, "
    "PutObject, GetObject, HeadObject, DeleteObject, DeleteObjects, GetObjectTagging and "
    "PutObjectTagging"
)
_LIST_V1_PARAMS = frozenset({"prefix", "delimiter", "marker", "max-keys", "encoding-type"})
_CHUNK_LINE_BYTES = 4096
_COPY_CHUNK = 1 << 16


@dataclass(frozen=True)
class ObjectRequest:
    """An S3 request addressed to a bucket (path-style or virtual-hosted) and key."""

    method: str
    bucket: str | None
    key: str | None
    query: Mapping[str, str]
    headers: Mapping[str, str]  # lower-case names
    body: IO[bytes]


@dataclass(frozen=True)
class StreamingResponse:
    """A response whose body is read from a stream (GetObject), never held whole."""

    status: int
    headers: dict[str, str]
    body: IO[bytes]
    length: int


class _S3Error(Exception):
    def __init__(self, code: str, status: int, message: str, resource: str = "") -> None:
        super().__init__(message)
        self.code, self.status, self.message, self.resource = code, status, message, resource


def address(host: str, path: str, server_hosts: frozenset[str]) -> tuple[str | None, str | None]:
    """The bucket and key a request names.

    Path-style (``/bucket/key``) unless the host is ``<bucket>.<one of server_hosts>``
    or ``<bucket>.localhost``, which is virtual-hosted style.
    """
    hostname = (urlsplit(f"//{host}").hostname or "").lower()
    bucket: str | None = None
    for base in (*server_hosts, "localhost"):
        if hostname.endswith("." + base):
            bucket = hostname[: -len(base) - 1]
            break
    raw = path.removeprefix("/")  # one slash: a key may itself start with "/"
    if bucket is None:
        first, slash, rest = raw.partition("/")
        if not first:
            return None, None
        return unquote(first), (unquote(rest) if slash and rest else None)
    return bucket, (unquote(raw) or None)


def serve_object(store: EmbeddedStore, request: ObjectRequest) -> HttpResponse | StreamingResponse:
    """Answer one S3 request from ``store``; S3's XML error for anything that fails."""
    request_id = new_request_id()
    try:
        handler = _handler_for(request)
        return handler(store, request, base_headers(request_id))
    except _S3Error as error:
        return _error(request, error, request_id)
    except ObjectStoreError as error:
        resource = f"/{request.bucket or ''}/{request.key or ''}".rstrip("/")
        failure = _S3Error(error.code, error.http_status, error.message, resource)
        return _error(request, failure, request_id)


def call_named(method: str, bucket: str | None, key: str | None, params: Mapping[str, str]) -> str:
    """An object call as a "not served" message names it: ``GET /bucket/key?acl``."""
    what = f"{method} /{bucket or ''}{'/' + key if key else ''}"
    return what + ("?" + "&".join(sorted(params)) if params else "")


_ObjectCall = Callable[
    [EmbeddedStore, ObjectRequest, dict[str, str]], HttpResponse | StreamingResponse
]


def _handler_for(request: ObjectRequest) -> _ObjectCall:
    method, query = request.method, request.query
    if request.bucket is None:
        if method == "GET":
            return _list_buckets
    elif request.key is None:
        if method == "PUT" and not query:
            return _create_bucket
        if method == "HEAD":
            return _head_bucket
        if method == "DELETE" and not query:
            return _delete_bucket
        if method == "GET" and query.get("list-type") == "2":
            return _list_objects
        if method == "GET" and not query.keys() - _LIST_V1_PARAMS:
            return _list_objects_v1
        if method == "POST" and query.keys() == {"delete"}:
            return _delete_objects
    elif "tagging" in query:
        if method == "GET":
            return _get_tagging
        if method == "PUT":
            return _put_tagging
    elif not query.keys() - {"versionId", "x-id"} and "x-amz-copy-source" not in request.headers:
        if method == "PUT":
            return _put_object
        if method == "GET":
            return _get_object
        if method == "HEAD":
            return _head_object
        if method == "DELETE":
            return _delete_object
    what = call_named(method, request.bucket, request.key, query)
    raise _S3Error(
        "NotImplemented",
        501,
        f"s3batch_mock's server keeps objects for jobs and serves {_SERVED}; it does not "
        f"serve {what}. For S3 in full (and IAM, STS, Lambda, ...), install "
        "'s3batch_mock[server]': the server then answers with moto.",
    )


# --------------------------------------------------------------------------- buckets


def _list_buckets(
    store: EmbeddedStore, request: ObjectRequest, headers: dict[str, str]
) -> HttpResponse:
    result = {
        "Buckets": [
            {"Name": name, "CreationDate": created} for name, created in store.buckets().items()
        ],
        "Owner": {"ID": "s3batch-mock", "DisplayName": "s3batch-mock"},
    }
    return _document("ListBuckets", result, "ListAllMyBucketsResult", headers)


def _create_bucket(
    store: EmbeddedStore, request: ObjectRequest, headers: dict[str, str]
) -> HttpResponse:
    bucket = _bucket(request)
    lock = request.headers.get("x-amz-bucket-object-lock-enabled", "").lower() == "true"
    store.create_bucket(bucket, object_lock=lock)
    headers["Location"] = f"/{bucket}"
    return HttpResponse(200, headers, b"")


def _head_bucket(
    store: EmbeddedStore, request: ObjectRequest, headers: dict[str, str]
) -> HttpResponse:
    store.keys(_bucket(request), "\x00")  # NoSuchBucket if it is missing
    return HttpResponse(200, headers, b"")


def _delete_bucket(
    store: EmbeddedStore, request: ObjectRequest, headers: dict[str, str]
) -> HttpResponse:
    store.delete_bucket(_bucket(request))
    return HttpResponse(204, headers, b"")


def _max_keys(query: Mapping[str, str]) -> int:
    try:
        value = int(query.get("max-keys", _MAX_KEYS))
    except ValueError:
        raise _S3Error("InvalidArgument", 400, "max-keys must be an integer") from None
    if value < 0:
        raise _S3Error("InvalidArgument", 400, "max-keys must be 0 or more")
    return min(value, _MAX_KEYS)


def _list_objects_v1(
    store: EmbeddedStore, request: ObjectRequest, headers: dict[str, str]
) -> HttpResponse:
    """ListObjects (version 1): ``marker`` pages; ``NextMarker`` only with a delimiter."""
    bucket, query = _bucket(request), request.query
    prefix, delimiter = query.get("prefix", ""), query.get("delimiter", "")
    max_keys = _max_keys(query)
    marker = query.get("marker", "")
    contents, prefixes, last, truncated = list_page(
        store, bucket, prefix, delimiter, marker, max_keys
    )
    encode = _encoder(query)
    result: dict[str, Any] = {
        "IsTruncated": truncated,
        "Marker": encode(marker),
        "Contents": _contents(contents, encode),
        "Name": bucket,
        "Prefix": encode(prefix),
        "MaxKeys": max_keys,
        "CommonPrefixes": [{"Prefix": encode(p)} for p in prefixes],
    }
    if delimiter:
        result["Delimiter"] = encode(delimiter)
        if truncated:
            result["NextMarker"] = encode(last)
    if "encoding-type" in query:
        result["EncodingType"] = query["encoding-type"]
    return _document("ListObjects", result, "ListBucketResult", headers)


def list_page(
    store: ObjectStore, bucket: str, prefix: str, delimiter: str, after: str, max_keys: int
) -> tuple[list[ObjectInfo], list[str], str, bool]:
    """(objects, common prefixes, last key or prefix listed, truncated) of one page."""
    contents: list[ObjectInfo] = []
    prefixes: list[str] = []
    last = ""
    for key, common in _listing(store, bucket, prefix, delimiter, after):
        if len(contents) + len(prefixes) == max_keys:
            return contents, prefixes, last, True
        if common is not None:
            prefixes.append(common)
            last = common
        else:
            contents.append(store.head(bucket, key))
            last = key
    return contents, prefixes, last, False


def _encoder(query: Mapping[str, str]) -> Callable[[str], str]:
    if query.get("encoding-type") == "url":
        return functools.partial(quote, safe="/")
    return str


def _contents(contents: list[ObjectInfo], encode: Callable[[str], str]) -> list[dict[str, Any]]:
    return [
        {
            "Key": encode(info.key),
            "LastModified": info.last_modified,
            "ETag": f'"{info.etag}"',
            "Size": info.size,
            "StorageClass": info.storage_class,
            "Owner": {"ID": "s3batch-mock", "DisplayName": "s3batch-mock"},
        }
        for info in contents
    ]


def _delete_objects(
    store: EmbeddedStore, request: ObjectRequest, headers: dict[str, str]
) -> HttpResponse:
    """DeleteObjects: up to 1000 keys; each is deleted or reported as an error."""
    bucket = _bucket(request)
    store.keys(bucket, "\x00")  # NoSuchBucket if it is missing
    root = _xml(request)
    objects = [item for item in root.iter() if item.tag.rpartition("}")[2] == "Object"]
    if not objects or len(objects) > _MAX_DELETE_KEYS:
        raise _S3Error(
            "MalformedXML",
            400,
            f"Delete takes 1 to {_MAX_DELETE_KEYS} objects, not {len(objects)}",
        )
    quiet = (root.findtext("{*}Quiet") or "").strip().lower() == "true"
    deleted: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for item in objects:
        key = item.findtext("{*}Key") or ""
        try:
            store.delete(bucket, key)
        except ObjectStoreError as error:
            errors.append({"Key": key, "Code": error.code, "Message": error.message})
        else:
            if not quiet:
                deleted.append({"Key": key})
    return _document(
        "DeleteObjects", {"Deleted": deleted, "Errors": errors}, "DeleteResult", headers
    )


def _list_objects(
    store: EmbeddedStore, request: ObjectRequest, headers: dict[str, str]
) -> HttpResponse:
    bucket, query = _bucket(request), request.query
    prefix, delimiter = query.get("prefix", ""), query.get("delimiter", "")
    max_keys = _max_keys(query)
    token = query.get("continuation-token")
    after = max(_read_token(token) if token else "", query.get("start-after", ""))
    contents, prefixes, last, truncated = list_page(
        store, bucket, prefix, delimiter, after, max_keys
    )
    encode = _encoder(query)
    result: dict[str, Any] = {
        "IsTruncated": truncated,
        "Contents": [
            {key: value for key, value in item.items() if key != "Owner"}
            for item in _contents(contents, encode)
        ],
        "Name": bucket,
        "Prefix": encode(prefix),
        "MaxKeys": max_keys,
        "CommonPrefixes": [{"Prefix": encode(p)} for p in prefixes],
        "KeyCount": len(contents) + len(prefixes),
    }
    if delimiter:
        result["Delimiter"] = encode(delimiter)
    if "encoding-type" in query:
        result["EncodingType"] = query["encoding-type"]
    if token is not None:
        result["ContinuationToken"] = token
    if "start-after" in query:
        result["StartAfter"] = encode(query["start-after"])
    if truncated:
        result["NextContinuationToken"] = _make_token(last)
    return _document("ListObjectsV2", result, "ListBucketResult", headers)


def _listing(
    store: ObjectStore, bucket: str, prefix: str, delimiter: str, after: str
) -> Iterator[tuple[str, str | None]]:
    """(key, None) for each object and (key, prefix) once per common prefix, in order."""
    seen = ""
    for key in store.keys(bucket, prefix):
        if key <= after or (seen and key.startswith(seen)):
            continue
        cut = key.find(delimiter, len(prefix)) if delimiter else -1
        if cut < 0:
            yield key, None
            continue
        seen = key[: cut + len(delimiter)]
        if seen > after:  # a prefix already returned on an earlier page is not repeated
            yield key, seen


def _make_token(last: str) -> str:
    return last.encode("utf-8").hex()


def _read_token(token: str) -> str:
    try:
        return bytes.fromhex(token).decode("utf-8")
    except ValueError:
        raise _S3Error(
            "InvalidArgument", 400, "The continuation token provided is incorrect"
        ) from None


# --------------------------------------------------------------------------- objects


def _put_object(
    store: EmbeddedStore, request: ObjectRequest, headers: dict[str, str]
) -> HttpResponse:
    given = request.headers
    with _decoded_body(request) as body:
        info = store.write(
            _bucket(request),
            _key(request),
            body,
            content_type=given.get("content-type", "binary/octet-stream"),
            metadata={
                name.removeprefix("x-amz-meta-"): metadata_value(value)
                for name, value in given.items()
                if name.startswith("x-amz-meta-")
            },
            tags=dict(parse_qsl(given.get("x-amz-tagging", ""), keep_blank_values=True)),
            storage_class=given.get("x-amz-storage-class", "STANDARD"),
        )
    headers.update({"ETag": f'"{info.etag}"', "x-amz-version-id": info.version_id})
    return HttpResponse(200, headers, b"")


def _decoded_body(request: ObjectRequest) -> contextlib.AbstractContextManager[IO[bytes]]:
    """The object's bytes: the body itself, or decoded from S3's ``aws-chunked``
    content encoding (``<hex size>[;chunk-signature=...]\\r\\n<data>\\r\\n`` ...
    ``0\\r\\n``, then trailers such as a checksum, then an empty line)."""
    given = request.headers
    encoded = "aws-chunked" in given.get("content-encoding", "").lower() or given.get(
        "x-amz-content-sha256", ""
    ).startswith("STREAMING-")
    if not encoded:
        return contextlib.nullcontext(request.body)  # the server closes its own body
    decoded = tempfile.SpooledTemporaryFile(SPOOL_BYTES)  # noqa: SIM115 - returned
    try:
        _decode_chunks(request.body, decoded)
    except BaseException:
        decoded.close()
        raise
    declared = given.get("x-amz-decoded-content-length")
    if declared is not None and declared.strip() != str(decoded.tell()):
        decoded.close()
        raise _S3Error(
            "IncompleteBody",
            400,
            f"The aws-chunked body holds {decoded.tell()} bytes, not the "
            f"x-amz-decoded-content-length of {declared}",
        )
    decoded.seek(0)
    return decoded


def _decode_chunks(source: IO[bytes], target: IO[bytes]) -> None:
    while True:
        line = _chunk_line(source)
        size_field = line.split(b";", 1)[0].strip()
        if not size_field or len(size_field) > 16 or size_field.strip(b"0123456789abcdefABCDEF"):
            raise _S3Error("InvalidRequest", 400, f"aws-chunked: bad chunk size {line[:40]!r}")
        size = int(size_field, 16)
        if size == 0:
            while _chunk_line(source):  # trailers (checksums) up to an empty line or the end
                pass
            return
        while size > 0:
            chunk = source.read(min(size, _COPY_CHUNK))
            if not chunk:
                raise _S3Error("IncompleteBody", 400, "aws-chunked: the body ends inside a chunk")
            target.write(chunk)
            size -= len(chunk)
        if source.read(2) != b"\r\n":
            raise _S3Error("InvalidRequest", 400, "aws-chunked: a chunk is not ended by CRLF")


def _chunk_line(source: IO[bytes]) -> bytes:
    """One CRLF-ended line of at most ``_CHUNK_LINE_BYTES`` (b"" at the body's end)."""
    line = source.readline(_CHUNK_LINE_BYTES + 1)
    if len(line) > _CHUNK_LINE_BYTES:
        raise _S3Error("InvalidRequest", 400, "aws-chunked: a chunk line is too long")
    return line.rstrip(b"\r\n")


def _get_object(
    store: EmbeddedStore, request: ObjectRequest, headers: dict[str, str]
) -> StreamingResponse:
    bucket, key = _bucket(request), _key(request)
    version = request.query.get("versionId")
    info = store.head(bucket, key, version)
    try:
        check_readable(info)
    except ObjectStoreError as exc:
        raise _S3Error(exc.code, exc.http_status, exc.message, f"/{bucket}/{key}") from None
    headers.update(_object_headers(info))
    return StreamingResponse(200, headers, store.open(bucket, key, info.version_id), info.size)


def _head_object(
    store: EmbeddedStore, request: ObjectRequest, headers: dict[str, str]
) -> HttpResponse:
    info = store.head(_bucket(request), _key(request), request.query.get("versionId"))
    headers.update(_object_headers(info))
    return HttpResponse(200, headers, b"")


def _delete_object(
    store: EmbeddedStore, request: ObjectRequest, headers: dict[str, str]
) -> HttpResponse:
    store.delete(_bucket(request), _key(request))
    return HttpResponse(204, headers, b"")


def _get_tagging(
    store: EmbeddedStore, request: ObjectRequest, headers: dict[str, str]
) -> HttpResponse:
    info = store.head(_bucket(request), _key(request), request.query.get("versionId"))
    headers["x-amz-version-id"] = info.version_id
    result = {"TagSet": [{"Key": k, "Value": v} for k, v in info.tags.items()]}
    return _document("GetObjectTagging", result, "Tagging", headers)


def _put_tagging(
    store: EmbeddedStore, request: ObjectRequest, headers: dict[str, str]
) -> HttpResponse:
    root = _xml(request)
    tags = {
        (tag.findtext("{*}Key") or ""): (tag.findtext("{*}Value") or "")
        for tag in root.iter()
        if tag.tag.rpartition("}")[2] == "Tag"
    }
    bucket, key, version = _bucket(request), _key(request), request.query.get("versionId")
    store.put_tags(bucket, key, version, tags)
    headers["x-amz-version-id"] = store.head(bucket, key, version).version_id
    return HttpResponse(200, headers, b"")


def _xml(request: ObjectRequest) -> ET.Element:
    """The request's XML body (tagging, DeleteObjects): at most ``_MAX_XML_BYTES``, read
    no further; UTF-8 and no DTD (``wire.parse_untrusted``)."""
    try:
        return parse_untrusted(request.body.read(_MAX_XML_BYTES + 1), _MAX_XML_BYTES)
    except XMLRefused as exc:
        code = "EntityTooLarge" if exc.too_large else "MalformedXML"
        raise _S3Error(code, 400, str(exc)) from None


def _object_headers(info: ObjectInfo) -> dict[str, str]:
    headers = {
        "ETag": f'"{info.etag}"',
        "Content-Length": str(info.size),
        "Content-Type": info.content_type,
        "Last-Modified": email.utils.format_datetime(info.last_modified, usegmt=True),
        "Accept-Ranges": "bytes",
        "x-amz-version-id": info.version_id,
    }
    headers.update({f"x-amz-meta-{name}": value for name, value in info.metadata.items()})
    if info.storage_class != "STANDARD":
        headers["x-amz-storage-class"] = info.storage_class
    if info.tags:
        headers["x-amz-tagging-count"] = str(len(info.tags))
    if info.restore_expiry is not None:
        expiry = email.utils.format_datetime(info.restore_expiry, usegmt=True)
        headers["x-amz-restore"] = f'ongoing-request="false", expiry-date="{expiry}"'
    return headers


# --------------------------------------------------------------------------- helpers


def _bucket(request: ObjectRequest) -> str:
    assert request.bucket is not None  # routed only with a bucket
    return request.bucket


def _key(request: ObjectRequest) -> str:
    assert request.key is not None  # routed only with a key
    return request.key


@functools.cache
def _model() -> ServiceModel:
    return botocore.session.get_session().get_service_model("s3")


def _document(
    operation: str, result: Mapping[str, Any], root: str, headers: dict[str, str]
) -> HttpResponse:
    shape = _model().operation_model(operation).output_shape
    assert isinstance(shape, StructureShape)
    headers["Content-Type"] = "application/xml"
    return HttpResponse(200, headers, render_document(shape, result, root, _NAMESPACE))


def _error(request: ObjectRequest, error: _S3Error, request_id: str) -> HttpResponse:
    headers = base_headers(request_id)
    if request.method == "HEAD":  # S3 answers HEAD errors with the status alone
        return HttpResponse(error.status, headers, b"")
    root = ET.Element("Error")
    for name, text in (
        ("Code", error.code),
        ("Message", error.message),
        ("Resource", error.resource),
        ("RequestId", request_id),
        ("HostId", headers["x-amz-id-2"]),
    ):
        ET.SubElement(root, name).text = text
    headers["Content-Type"] = "application/xml"
    body = b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root)
    return HttpResponse(error.status, headers, body)
