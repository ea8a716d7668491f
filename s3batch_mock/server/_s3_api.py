"""S3's object API over the embedded store, for server mode.

A script driving ``python -m s3batch_mock serve`` puts its manifest and reads its
completion report with ordinary S3 calls: ``aws s3 cp``, ``aws s3 ls``,
``aws s3api put-object``, boto3's ``put_object``/``get_object``, Java's ``S3Client``.
This module answers the object calls jobs need from the server's embedded store.
Response bodies are rendered from botocore's own S3 model by the wire layer, as the
s3control responses are.

Served: ListBuckets, CreateBucket, HeadBucket, ListObjectsV2, PutObject, GetObject,
HeadObject, DeleteObject, GetObjectTagging, PutObjectTagging. Anything else gets
``501 NotImplemented`` saying so.
"""

from __future__ import annotations

import email.utils
import functools
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import botocore.session
from botocore.model import ServiceModel, StructureShape

from s3batch_mock.stores import (
    ARCHIVED_STORAGE_CLASSES,
    EmbeddedStore,
    ObjectInfo,
    ObjectStoreError,
)
from s3batch_mock.wire import HttpResponse, base_headers, new_request_id, render_document

__all__ = ["ObjectRequest", "StreamingResponse", "serve_object"]

_NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"
_MAX_KEYS = 1000
_SERVED = (
    "ListBuckets, CreateBucket, HeadBucket, ListObjectsV2, PutObject, GetObject, "
    "HeadObject, DeleteObject, GetObjectTagging and PutObjectTagging"
)


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
        if method == "GET" and query.get("list-type") == "2":
            return _list_objects
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
    what = f"{method} {'/' + (request.bucket or '')}{'/' + request.key if request.key else ''}"
    if query:
        what += "?" + "&".join(sorted(query))
    raise _S3Error(
        "NotImplemented",
        501,
        f"s3batch_mock's server keeps objects for jobs and serves {_SERVED}; it does not "
        f"serve {what}. Put larger setups in place with a script using those calls.",
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


def _list_objects(
    store: EmbeddedStore, request: ObjectRequest, headers: dict[str, str]
) -> HttpResponse:
    bucket, query = _bucket(request), request.query
    prefix, delimiter = query.get("prefix", ""), query.get("delimiter", "")
    try:
        max_keys = min(int(query.get("max-keys", _MAX_KEYS)), _MAX_KEYS)
    except ValueError:
        raise _S3Error("InvalidArgument", 400, "max-keys must be an integer") from None
    token = query.get("continuation-token")
    after = max(_read_token(token) if token else "", query.get("start-after", ""))
    contents: list[ObjectInfo] = []
    prefixes: list[str] = []
    last = ""
    truncated = False
    for key, common in _listing(store, bucket, prefix, delimiter, after):
        if len(contents) + len(prefixes) == max_keys:
            truncated = True
            break
        if common is not None:
            prefixes.append(common)
            last = common
        else:
            contents.append(store.head(bucket, key))
            last = key
    encode: Callable[[str], str] = (
        functools.partial(quote, safe="/") if query.get("encoding-type") == "url" else str
    )
    result: dict[str, Any] = {
        "IsTruncated": truncated,
        "Contents": [
            {
                "Key": encode(info.key),
                "LastModified": info.last_modified,
                "ETag": f'"{info.etag}"',
                "Size": info.size,
                "StorageClass": info.storage_class,
            }
            for info in contents
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
    store: EmbeddedStore, bucket: str, prefix: str, delimiter: str, after: str
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
    info = store.write(
        _bucket(request),
        _key(request),
        request.body,
        content_type=given.get("content-type", "binary/octet-stream"),
        metadata={
            name.removeprefix("x-amz-meta-"): value
            for name, value in given.items()
            if name.startswith("x-amz-meta-")
        },
        tags=dict(parse_qsl(given.get("x-amz-tagging", ""), keep_blank_values=True)),
        storage_class=given.get("x-amz-storage-class", "STANDARD"),
    )
    headers.update({"ETag": f'"{info.etag}"', "x-amz-version-id": info.version_id})
    return HttpResponse(200, headers, b"")


def _get_object(
    store: EmbeddedStore, request: ObjectRequest, headers: dict[str, str]
) -> StreamingResponse:
    bucket, key = _bucket(request), _key(request)
    version = request.query.get("versionId")
    info = store.head(bucket, key, version)
    if info.storage_class in ARCHIVED_STORAGE_CLASSES and info.restore_expiry is None:
        raise _S3Error(
            "InvalidObjectState",
            403,
            f"The operation is not valid for the object's storage class ({info.storage_class});"
            " restore it first",
            f"/{bucket}/{key}",
        )
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
    try:
        root = ET.fromstring(request.body.read())
    except ET.ParseError as exc:
        raise _S3Error(
            "MalformedXML", 400, f"The XML you provided was not well-formed: {exc}"
        ) from None
    tags = {
        (tag.findtext("{*}Key") or ""): (tag.findtext("{*}Value") or "")
        for tag in root.iter()
        if tag.tag.rpartition("}")[2] == "Tag"
    }
    bucket, key, version = _bucket(request), _key(request), request.query.get("versionId")
    store.put_tags(bucket, key, version, tags)
    headers["x-amz-version-id"] = store.head(bucket, key, version).version_id
    return HttpResponse(200, headers, b"")


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
