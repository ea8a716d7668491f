"""The Alibaba Cloud OSS batch-job dialect on the wire (spec: ``oss-batch.md``).

OSS serves the job API of S3 Batch Operations in its own dialect: no bucket, path
``/``, the five calls told apart by a sub-resource (``?batchJob`` GET and POST,
``?batchJobStatus``, ``?batchJobPriority``), query parameters for everything but
CreateJob's XML body, XML without a namespace, Unix-second timestamps and OSS's own
error body (``<Error>`` with Code, Message, RequestId, HostId and EC).

This module parses and checks such requests (``parse_request``), tells who sends them
(``identity``: the AccessKeyId of either signature version is the account; signatures
are never checked), maps CreateJob onto the engine's s3control-shaped request
(``engine_request``) and renders answers (``render_result``, ``render_error``).
Nothing here knows about jobs; ``s3batch_mock._oss`` joins it to the backend.
"""

from __future__ import annotations

import datetime
import re
import secrets
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from s3batch_mock._text import xml_text

from ._s3control import MAX_BODY_BYTES, HttpRequest, HttpResponse
from ._xml import XMLRefused, parse_untrusted

__all__ = [
    "DEFAULT_REGION",
    "OPERATIONS",
    "OPERATION_NAMES",
    "SUB_RESOURCES",
    "OssError",
    "OssRequest",
    "engine_request",
    "identity",
    "is_job_call",
    "is_oss_request",
    "new_oss_request_id",
    "oss_host_region",
    "parse_request",
    "parse_xml",
    "render_error",
    "render_result",
    "xml_document",
]

#: The sub-resources that make a request on ``/`` an OSS job call.
SUB_RESOURCES = ("batchJob", "batchJobStatus", "batchJobPriority")
OPERATIONS = ("CreateJob", "DescribeJob", "ListJobs", "UpdateJobPriority", "UpdateJobStatus")
#: The region of a request whose Host and signature name none.
DEFAULT_REGION = "cn-hangzhou"
_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'

#: The 13 job statuses (the same as s3control's).
STATUSES = frozenset(
    {
        "Active",
        "Cancelled",
        "Cancelling",
        "Complete",
        "Completing",
        "Failed",
        "Failing",
        "New",
        "Paused",
        "Pausing",
        "Preparing",
        "Ready",
        "Suspended",
    }
)
_REQUESTABLE = ("Cancelled", "Ready")
_MAX_PRIORITY = 2147483647
_MAX_KEYS, _DEFAULT_MAX_KEYS = 1000, 100
_MAX_TOKEN = 1024
_MAX_REASON = 256
_MAX_DESCRIPTION = 256
_MAX_CLIENT_TOKEN = 64
_MAX_TAGS = 10
_CANNED_ACLS = ("default", "private", "public-read", "public-read-write")
_TIERS = {"Standard": "STANDARD", "Bulk": "BULK"}
_CSV_FORMAT = "OSS_BatchOperations_CSV_20250611"
_INVENTORY_FORMAT = "OSS_InventoryReport_CSV_20250611"
_ENGINE_FORMATS = {
    _CSV_FORMAT: "S3BatchOperations_CSV_20180820",
    _INVENTORY_FORMAT: "S3InventoryReport_CSV_20161130",
}
_REPORT_SCOPES = ("AllTasks", "FailedTasksOnly")
_BUCKET = re.compile(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]")
_FIELDS = frozenset({"Bucket", "Key", "VersionId", "Ignore"})

#: The engine's operation names and OSS's element names, both ways.
OPERATION_NAMES: Mapping[str, str] = {
    "S3PutObjectTagging": "PutObjectTagging",
    "AddObjectTagging": "AddObjectTagging",
    "S3DeleteObjectTagging": "DeleteObjectTagging",
    "S3PutObjectAcl": "PutObjectAcl",
    "S3InitiateRestoreObject": "RestoreObject",
}

# ---------------------------------------------------------------------- identity

_HOST_REGION = re.compile(
    r"(?:^|\.)oss-(?P<region>[a-z0-9-]+?)(?:-internal)?\.aliyuncs\.com$", re.IGNORECASE
)
_V1 = re.compile(r"^OSS (?P<ak>[^:\s]+):")
_V4 = re.compile(r"^OSS4-HMAC-SHA256\s")
_V4_CREDENTIAL = re.compile(
    r"Credential=(?P<ak>[^/,\s]+)/\d{8}/(?P<region>[^/,\s]+)/oss/aliyun_v4_request"
)
_QUERY_V4_CREDENTIAL = re.compile(r"^(?P<ak>[^/]+)/\d{8}/(?P<region>[^/]+)/oss/aliyun_v4_request$")
_NOT_REGIONS = frozenset({"accelerate", "accelerate-overseas"})
#: The EC (error center code) OSS answers with. Only ``0002-00000902`` (an unknown
#: AccessKeyId) and ``0017-00001009`` (an invalid RoleArn) are documented for batch
#: jobs; the rest are the mock's own: ``0017`` (batch operations) with a zero number.
_EC_AUTH = "0002-00000000"
_EC_BATCH = "0017-00000000"
_EC_ROLE_ARN = "0017-00001009"


class OssError(Exception):
    """An error answered in OSS's form: code, HTTP status, message and EC."""

    def __init__(self, code: str, status: int, message: str, ec: str = _EC_BATCH) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.status = status
        self.message = message
        self.ec = ec


def _invalid(message: str, ec: str = _EC_BATCH) -> OssError:
    return OssError("InvalidArgument", 400, message, ec)


def _malformed(message: str) -> OssError:
    return OssError("MalformedXML", 400, message)


def new_oss_request_id() -> str:
    """24 upper-case hexadecimal digits, the shape of a real ``x-oss-request-id``."""
    return secrets.token_hex(12).upper()


def oss_host_region(host: str) -> str | None:
    """The region an ``oss-<region>[-internal].aliyuncs.com`` host names (a bucket's
    virtual host ``<bucket>.oss-...`` too); None for any other host."""
    name = (urlsplit(f"//{host}").hostname or "").lower()
    match = _HOST_REGION.search(name)
    if match is None or match.group("region") in _NOT_REGIONS:
        return None
    return match.group("region")


def is_oss_request(headers: Mapping[str, str], host: str, query: str) -> bool:
    """Whether a request speaks OSS: OSS-signed (header or presigned query), any
    ``x-oss-`` header, or an ``*.aliyuncs.com`` host. ``headers``: lower-case names."""
    authorization = headers.get("authorization", "")
    if authorization.startswith(("OSS ", "OSS4-HMAC-SHA256")):
        return True
    if any(name.startswith("x-oss-") for name in headers):
        return True
    if (urlsplit(f"//{host}").hostname or "").lower().endswith(".aliyuncs.com"):
        return True
    keys = {key for key, _ in parse_qsl(query, keep_blank_values=True)}
    return bool(keys & {"OSSAccessKeyId", "x-oss-credential", "x-oss-signature-version"})


def identity(headers: Mapping[str, str], host: str, query: str = "") -> tuple[str, str]:
    """(account, region) of an OSS request, or ``OssError`` (403 AccessDenied).

    The account is the AccessKeyId of ``Authorization: OSS <ak>:<sig>`` (V1) or
    ``OSS4-HMAC-SHA256 Credential=<ak>/<date>/<region>/oss/aliyun_v4_request,...``
    (V4), or of a presigned URL's query; the region comes from the Host
    (``oss-<region>[-internal].aliyuncs.com``), else the V4 scope, else cn-hangzhou.
    ``headers``: lower-case names.
    """
    authorization = headers.get("authorization", "").strip()
    account: str | None = None
    scope_region: str | None = None
    if authorization:
        v1 = _V1.match(authorization)
        credential = _V4_CREDENTIAL.search(authorization) if _V4.match(authorization) else None
        if v1 is not None:
            account = v1.group("ak")
        elif credential is not None:
            account, scope_region = credential.group("ak"), credential.group("region")
        else:
            raise OssError(
                "AccessDenied",
                403,
                "The Authorization header is neither OSS signature version 1 "
                "('OSS <AccessKeyId>:<Signature>') nor version 4 ('OSS4-HMAC-SHA256 "
                "Credential=<AccessKeyId>/<date>/<region>/oss/aliyun_v4_request, ...').",
                _EC_AUTH,
            )
    else:
        params = dict(parse_qsl(query, keep_blank_values=True))
        presigned = _QUERY_V4_CREDENTIAL.match(params.get("x-oss-credential", ""))
        if presigned is not None:
            account, scope_region = presigned.group("ak"), presigned.group("region")
        elif params.get("OSSAccessKeyId"):
            account = params["OSSAccessKeyId"]
    if not account:
        raise OssError(
            "AccessDenied",
            403,
            "AccessDenied: the request carries no Authorization header. Sign it with an "
            "AccessKey (any AccessKeyId works: it names the account).",
            _EC_AUTH,
        )
    return account, oss_host_region(host) or scope_region or DEFAULT_REGION


# ---------------------------------------------------------------------- requests


@dataclass(frozen=True)
class OssRequest:
    """A recognised OSS job call: operation, parameters, who sent it, where."""

    operation: str
    params: dict[str, Any]
    account: str
    region: str
    host: str
    request_id: str = field(default_factory=new_oss_request_id)


def is_job_call(path: str, query: str) -> bool:
    """Whether a request on ``path`` with raw ``query`` is an OSS job call: path ``/``
    (or empty) with one of the sub-resources ``batchJob``, ``batchJobStatus`` or
    ``batchJobPriority``."""
    if path not in ("", "/"):
        return False
    keys = {key for key, _ in parse_qsl(query, keep_blank_values=True)}
    return bool(keys & set(SUB_RESOURCES))


def _operation(method: str, query: Mapping[str, str]) -> str:
    given = [name for name in SUB_RESOURCES if name in query]
    if len(given) != 1:
        raise _invalid(f"A job call names one sub-resource, not {', '.join(given)}.")
    resource = given[0]
    if resource == "batchJob" and method == "POST":
        return "CreateJob"
    if resource == "batchJob" and method == "GET":
        return "DescribeJob" if "batchJobId" in query else "ListJobs"
    if resource == "batchJobStatus" and method == "POST":
        return "UpdateJobStatus"
    if resource == "batchJobPriority" and method == "POST":
        return "UpdateJobPriority"
    allowed = "GET and POST" if resource == "batchJob" else "POST"
    raise OssError(
        "MethodNotAllowed",
        405,
        f"The specified method is not allowed against this resource: {method} /?{resource} "
        f"(allowed: {allowed}).",
    )


def parse_request(request: HttpRequest) -> OssRequest:
    """The OSS job call ``request`` makes, checked; ``OssError`` if it is refused.

    Who sends it is checked first (AccessDenied), then the call's parameters; a
    refused request changes nothing.
    """
    parts = urlsplit(request.url)
    headers = {name.lower(): value for name, value in request.headers.items()}
    host = headers.get("host") or parts.netloc
    account, region = identity(headers, host, parts.query)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    operation = _operation(request.method, query)
    params = _PARSERS[operation](query, request.body)
    return OssRequest(operation, params, account, region, host)


def _job_id(query: Mapping[str, str]) -> str:
    job_id = query.get("batchJobId", "")
    if not job_id:
        raise _invalid("The parameter batchJobId is required and must not be empty.")
    return job_id


def _integer(text: str, name: str, low: int, high: int) -> int:
    try:
        value = int(text.strip(), 10)
    except ValueError:
        raise _invalid(f"{name} must be an integer from {low} to {high}, not {text!r}.") from None
    if not low <= value <= high:
        raise _invalid(f"{name} must be from {low} to {high}, not {value}.")
    return value


def _describe(query: Mapping[str, str], body: bytes) -> dict[str, Any]:
    return {"JobId": _job_id(query)}


def _list(query: Mapping[str, str], body: bytes) -> dict[str, Any]:
    statuses: list[str] = []
    for part in query.get("batchJobStatuses", "").split("|"):
        status = part.strip()
        if not status:
            continue
        if status not in STATUSES:
            raise _invalid(
                f"batchJobStatuses: {status!r} is not a job status (one of "
                f"{', '.join(sorted(STATUSES))}, several joined by '|')."
            )
        statuses.append(status)
    max_keys = _DEFAULT_MAX_KEYS
    if "max-keys" in query:
        max_keys = _integer(query["max-keys"], "max-keys", 1, _MAX_KEYS)
    token = query.get("continuation-token")
    if token is not None and not 1 <= len(token) <= _MAX_TOKEN:
        raise _invalid(f"continuation-token must be 1 to {_MAX_TOKEN} characters long.")
    return {"Statuses": statuses, "MaxKeys": max_keys, "ContinuationToken": token or None}


def _priority(query: Mapping[str, str], body: bytes) -> dict[str, Any]:
    job_id = _job_id(query)
    if "targetPriority" not in query:
        raise _invalid("The parameter targetPriority is required.")
    priority = _integer(query["targetPriority"], "targetPriority", 0, _MAX_PRIORITY)
    return {"JobId": job_id, "Priority": priority}


def _status(query: Mapping[str, str], body: bytes) -> dict[str, Any]:
    job_id = _job_id(query)
    requested = query.get("requestedJobStatus", "")
    if requested not in _REQUESTABLE:
        raise _invalid(
            f"requestedJobStatus must be Cancelled or Ready, not {requested!r}."
            if requested
            else "The parameter requestedJobStatus (Cancelled or Ready) is required."
        )
    reason = query.get("statusUpdateReason")
    if reason is not None and not 1 <= len(reason) <= _MAX_REASON:
        raise _invalid(f"statusUpdateReason must be 1 to {_MAX_REASON} characters long.")
    return {"JobId": job_id, "RequestedJobStatus": requested, "StatusUpdateReason": reason}


# ---------------------------------------------------------------------- CreateJob


def parse_xml(body: bytes) -> ET.Element:
    """An OSS request's XML body: at most ``MAX_BODY_BYTES``, UTF-8, no DTD; else
    ``OssError`` (EntityTooLarge or MalformedXML)."""
    try:
        return parse_untrusted(body, MAX_BODY_BYTES)
    except XMLRefused as exc:
        if exc.too_large:
            raise OssError("EntityTooLarge", 400, str(exc)) from None
        raise _malformed(str(exc)) from None


def _children(element: ET.Element) -> dict[str, ET.Element]:
    """The element's children by tag; a tag given twice is malformed."""
    found: dict[str, ET.Element] = {}
    for child in element:
        if child.tag in found:
            raise _malformed(f"{element.tag}: the element {child.tag} appears more than once.")
        found[child.tag] = child
    return found


def _text(element: ET.Element | None) -> str | None:
    return None if element is None else (element.text or "").strip()


def _boolean(element: ET.Element | None, name: str) -> bool | None:
    text = _text(element)
    if text is None:
        return None
    if text not in ("true", "false"):
        raise _invalid(f"{name} must be true or false, not {text!r}.")
    return text == "true"


def _bucket_name(text: str | None, name: str) -> str:
    if not text:
        raise _invalid(f"{name} is required.")
    if not _BUCKET.fullmatch(text):
        raise OssError(
            "InvalidBucketName",
            400,
            f"{name}: {text!r} is not a bucket name (3-63 characters of lower-case letters, "
            "digits and hyphens, beginning and ending with a letter or digit).",
        )
    return text


def _tag_set(element: ET.Element, name: str) -> list[dict[str, str]]:
    tag_set = element.find("TagSet")
    tags: list[dict[str, str]] = []
    for tag in [] if tag_set is None else tag_set.findall("Tag"):
        key, value = _text(tag.find("Key")), _text(tag.find("Value"))
        if not key or len(key) > 128:
            raise _invalid(f"Operation.{name}: a tag's Key must be 1 to 128 characters long.")
        if value is not None and len(value) > 256:
            raise _invalid(f"Operation.{name}: a tag's Value must be at most 256 characters.")
        if any(t["Key"] == key for t in tags):
            raise _invalid(f"Operation.{name}: the tag key {key!r} appears more than once.")
        tags.append({"Key": key, "Value": value or ""})
    if len(tags) > _MAX_TAGS:
        raise _invalid(f"Operation.{name}: an object has at most {_MAX_TAGS} tags.")
    if name == "AddObjectTagging" and not tags:
        raise _invalid("Operation.AddObjectTagging: TagSet needs at least one Tag.")
    return tags


def _operation_params(element: ET.Element | None) -> dict[str, Any]:
    if element is None:
        raise _invalid(
            "Operation is required: exactly one of " + ", ".join(OPERATION_NAMES.values())
        )
    given = list(element)
    known = set(OPERATION_NAMES.values())
    unknown = [child.tag for child in given if child.tag not in known]
    if unknown:
        raise _invalid(f"Operation: {', '.join(unknown)} is not an operation.")
    if len(given) != 1:
        names = ", ".join(child.tag for child in given) or "none"
        raise _invalid(f"Operation must name exactly one operation (got {len(given)}: {names}).")
    child = given[0]
    name = child.tag
    if name in ("PutObjectTagging", "AddObjectTagging"):
        return {name: {"TagSet": _tag_set(child, name)}}
    if name == "DeleteObjectTagging":
        return {name: {}}
    if name == "PutObjectAcl":
        acl = _text(child.find("ObjectAcl"))
        if acl not in _CANNED_ACLS:
            raise _invalid(
                f"Operation.PutObjectAcl.ObjectAcl must be one of {', '.join(_CANNED_ACLS)}, "
                f"not {acl!r}."
            )
        return {name: {"ObjectAcl": acl}}
    days_text = _text(child.find("Days"))
    if days_text is None:
        raise _invalid("Operation.RestoreObject.Days is required.")
    days = _integer(days_text, "Operation.RestoreObject.Days", 1, 365)
    tier = _text(child.find("Tier")) or "Standard"
    if tier not in _TIERS:
        raise _invalid(f"Operation.RestoreObject.Tier must be Standard or Bulk, not {tier!r}.")
    return {name: {"Days": days, "Tier": tier}}


def _report(element: ET.Element | None) -> dict[str, Any]:
    if element is None:
        raise _invalid("Report is required (Enabled false for no completion report).")
    children = _children(element)
    enabled = _boolean(children.get("Enabled"), "Report.Enabled")
    report: dict[str, Any] = {"Enabled": bool(enabled)}
    bucket = _text(children.get("Bucket"))
    if enabled or bucket:
        report["Bucket"] = _bucket_name(bucket, "Report.Bucket")
    prefix = _text(children.get("Prefix"))
    if prefix:
        report["Prefix"] = prefix
    scope = _text(children.get("ReportScope"))
    if scope is not None:
        if scope not in _REPORT_SCOPES:
            raise _invalid(
                f"Report.ReportScope must be AllTasks or FailedTasksOnly, not {scope!r}."
            )
        report["ReportScope"] = scope
    return report


def _manifest(element: ET.Element) -> dict[str, Any]:
    children = _children(element)
    location, spec = children.get("Location"), children.get("Spec")
    if location is None or spec is None:
        raise _invalid("Manifest needs a Location and a Spec.")
    where = _children(location)
    result: dict[str, Any] = {
        "Location": {
            "Bucket": _bucket_name(_text(where.get("Bucket")), "Manifest.Location.Bucket"),
            "Object": _text(where.get("Object")) or "",
            "ETag": _text(where.get("ETag")) or "",
        },
    }
    if not result["Location"]["Object"]:
        raise _invalid("Manifest.Location.Object is required.")
    if not result["Location"]["ETag"].strip('"'):
        raise _invalid("Manifest.Location.ETag is required (the manifest object's ETag).")
    version = _text(where.get("VersionId"))
    if version:
        result["Location"]["VersionId"] = version
    spec_children = _children(spec)
    form = _text(spec_children.get("Format"))
    if form not in _ENGINE_FORMATS:
        raise _invalid(
            f"Manifest.Spec.Format must be {_CSV_FORMAT} or {_INVENTORY_FORMAT}, not {form!r}."
        )
    result["Spec"] = {"Format": form}
    fields = _text(spec_children.get("Fields"))
    if fields:
        names = [name.strip() for name in fields.split(",")]
        bad = [name for name in names if name not in _FIELDS]
        if bad:
            raise _invalid(
                f"Manifest.Spec.Fields: {', '.join(bad)} is not a field (Bucket, Key, "
                "VersionId, Ignore)."
            )
        if not {"Bucket", "Key"} <= set(names):
            raise _invalid("Manifest.Spec.Fields must include Bucket and Key.")
        result["Spec"]["Fields"] = fields
    elif form == _CSV_FORMAT:
        raise _invalid("Manifest.Spec.Fields is required for a CSV manifest (e.g. Bucket,Key).")
    return result


def _generator(element: ET.Element) -> dict[str, Any]:
    children = _children(element)
    source = _bucket_name(
        _text(children.get("SourceBucket")), "KeyPrefixManifestGenerator.SourceBucket"
    )
    return {"SourceBucket": source, "Prefix": _text(children.get("Prefix")) or ""}


def _create(query: Mapping[str, str], body: bytes) -> dict[str, Any]:
    root = parse_xml(body)
    if root.tag != "CreateJobRequest":
        raise _malformed(f"The root element must be CreateJobRequest, not {root.tag}.")
    children = _children(root)
    params: dict[str, Any] = {"Operation": _operation_params(children.get("Operation"))}
    sources = [name for name in ("Manifest", "KeyPrefixManifestGenerator") if name in children]
    if len(sources) != 1:
        raise _invalid(
            "A job needs exactly one of Manifest and KeyPrefixManifestGenerator "
            f"(got {' and '.join(sources) or 'neither'})."
        )
    if sources[0] == "Manifest":
        params["Manifest"] = _manifest(children["Manifest"])
    else:
        params["KeyPrefixManifestGenerator"] = _generator(children["KeyPrefixManifestGenerator"])
    params["Report"] = _report(children.get("Report"))
    priority = _text(children.get("Priority"))
    if priority is None:
        raise _invalid("Priority is required (0 to 2147483647, larger runs first).")
    params["Priority"] = _integer(priority, "Priority", 0, _MAX_PRIORITY)
    role = _text(children.get("RoleArn"))
    if not role:
        raise _invalid("The RoleArn of the request is invalid: it is empty.", _EC_ROLE_ARN)
    params["RoleArn"] = role
    confirmation = _boolean(children.get("ConfirmationRequired"), "ConfirmationRequired")
    params["ConfirmationRequired"] = bool(confirmation)
    description = _text(children.get("Description"))
    if description:
        if len(description) > _MAX_DESCRIPTION:
            raise _invalid(f"Description must be at most {_MAX_DESCRIPTION} characters.")
        params["Description"] = description
    token = _text(children.get("ClientRequestToken"))
    if token:
        if len(token) > _MAX_CLIENT_TOKEN:
            raise _invalid(f"ClientRequestToken must be at most {_MAX_CLIENT_TOKEN} characters.")
        params["ClientRequestToken"] = token
    return params


_PARSERS: dict[str, Callable[[Mapping[str, str], bytes], dict[str, Any]]] = {
    "CreateJob": _create,
    "DescribeJob": _describe,
    "ListJobs": _list,
    "UpdateJobPriority": _priority,
    "UpdateJobStatus": _status,
}


def engine_request(params: Mapping[str, Any], token: str) -> dict[str, Any]:
    """CreateJob's OSS parameters as the engine's (s3control-shaped) request.

    ``token`` is the ClientRequestToken (a fresh one when the request has none). The
    OSS parameters ride along under ``"Oss"``, so DescribeJob echoes them as given.
    """
    name, given = next(iter(params["Operation"].items()))
    operation: dict[str, Any]
    if name == "PutObjectTagging":
        operation = {"S3PutObjectTagging": {"TagSet": given["TagSet"]}}
    elif name == "AddObjectTagging":
        operation = {"AddObjectTagging": {"TagSet": given["TagSet"]}}
    elif name == "DeleteObjectTagging":
        operation = {"S3DeleteObjectTagging": {}}
    elif name == "PutObjectAcl":
        policy = {"CannedAccessControlList": given["ObjectAcl"]}
        operation = {"S3PutObjectAcl": {"AccessControlPolicy": policy}}
    else:
        restore = {"ExpirationInDays": given["Days"], "GlacierJobTier": _TIERS[given["Tier"]]}
        operation = {"S3InitiateRestoreObject": restore}
    report = dict(params["Report"])
    report.setdefault("ReportScope", "AllTasks")
    report["Format"] = "Report_CSV_20180820"
    request: dict[str, Any] = {
        "ClientRequestToken": token,
        "ConfirmationRequired": params["ConfirmationRequired"],
        "Operation": operation,
        "Report": report,
        "Priority": params["Priority"],
        "RoleArn": params["RoleArn"],
        "Oss": dict(params),
    }
    if "Description" in params:
        request["Description"] = params["Description"]
    if "Manifest" in params:
        location, spec = params["Manifest"]["Location"], params["Manifest"]["Spec"]
        engine_location = {
            "ObjectArn": f"acs:oss:::{location['Bucket']}/{location['Object']}",
            # Compared without quotes and case-insensitively: OSS writes ETags in
            # upper case, the engine's stores in lower case.
            "ETag": location["ETag"].strip('"').lower(),
        }
        if "VersionId" in location:
            engine_location["ObjectVersionId"] = location["VersionId"]
        engine_spec: dict[str, Any] = {"Format": _ENGINE_FORMATS[spec["Format"]]}
        if "Fields" in spec:
            engine_spec["Fields"] = [name.strip() for name in spec["Fields"].split(",")]
        request["Manifest"] = {"Location": engine_location, "Spec": engine_spec}
    else:
        generator = params["KeyPrefixManifestGenerator"]
        request["ManifestGenerator"] = {
            "S3JobManifestGenerator": {
                "SourceBucket": generator["SourceBucket"],
                "EnableManifestOutput": False,
                "Filter": {"KeyNameConstraint": {"MatchAnyPrefix": [generator["Prefix"]]}},
                # Every object under the prefix; none is a job of no tasks (OSS's
                # ListJobs shows such a job Complete with 0 tasks), not a failure.
                "AllowNoKeys": True,
            }
        }
    return request


# ---------------------------------------------------------------------- rendering


def _escape(text: str) -> str:
    text = xml_text(text)
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


class _Xml:
    """A compact XML document written element by element."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def leaf(self, name: str, value: object) -> None:
        if value is None:
            return
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, datetime.datetime):
            text = str(int(value.timestamp()))
        else:
            text = _escape(str(value))
        self.parts.append(f"<{name}>{text}</{name}>")

    def open(self, name: str) -> None:
        self.parts.append(f"<{name}>")

    def close(self, name: str) -> None:
        self.parts.append(f"</{name}>")

    def body(self) -> bytes:
        return (_XML_DECLARATION + "".join(self.parts)).encode("utf-8")


def xml_document(build: Callable[[_Xml], None]) -> bytes:
    """An XML document (with its declaration) written by ``build``."""
    out = _Xml()
    build(out)
    return out.body()


def _headers(request_id: str) -> dict[str, str]:
    return {
        "x-oss-request-id": request_id,
        "Content-Type": "application/xml",
        "Server": "AliyunOSS",
    }


def _operation_xml(out: _Xml, operation: Mapping[str, Any]) -> None:
    out.open("Operation")
    for name, given in operation.items():
        out.open(name)
        if name in ("PutObjectTagging", "AddObjectTagging"):
            out.open("TagSet")
            for tag in given["TagSet"]:
                out.open("Tag")
                out.leaf("Key", tag["Key"])
                out.leaf("Value", tag["Value"])
                out.close("Tag")
            out.close("TagSet")
        elif name == "PutObjectAcl":
            out.leaf("ObjectAcl", given["ObjectAcl"])
        elif name == "RestoreObject":
            out.leaf("Days", given["Days"])
            out.leaf("Tier", given["Tier"])
        out.close(name)
    out.close("Operation")


def _progress_xml(out: _Xml, job: Mapping[str, Any], *, timers_last: bool) -> None:
    progress = job["ProgressSummary"]
    counted = job.get("TasksCounted", True)
    out.open("ProgressSummary")
    out.leaf("NumberOfTasksFailed", progress["NumberOfTasksFailed"] if counted else -1)
    out.leaf("NumberOfTasksSucceeded", progress["NumberOfTasksSucceeded"] if counted else -1)
    total = progress["TotalNumberOfTasks"] if counted else -1
    if not timers_last:
        out.open("Timers")
        out.leaf("ElapsedTimeInActiveSeconds", progress["Timers"]["ElapsedTimeInActiveSeconds"])
        out.close("Timers")
    out.leaf("TotalNumberOfTasks", total)
    if timers_last:
        out.open("Timers")
        out.leaf("ElapsedTimeInActiveSeconds", progress["Timers"]["ElapsedTimeInActiveSeconds"])
        out.close("Timers")
    out.close("ProgressSummary")


def _job_xml(out: _Xml, job: Mapping[str, Any]) -> None:
    """The ``<Job>`` of DescribeJob, from the backend's descriptor of an OSS job."""
    given = job["Request"]["Oss"]
    out.open("Job")
    out.leaf("ConfirmationRequired", job["ConfirmationRequired"])
    out.leaf("CreationTime", job["CreationTime"])
    out.open("FailureReasons")
    failures = job["FailureReasons"] or [{"FailureCode": "", "FailureReason": ""}]
    for failure in failures:
        out.open("JobFailure")
        out.leaf("FailureCode", failure["FailureCode"])
        out.leaf("FailureReason", failure["FailureReason"])
        out.close("JobFailure")
    out.close("FailureReasons")
    out.leaf("JobId", job["JobId"])
    _operation_xml(out, given["Operation"])
    report = given["Report"]
    out.open("Report")
    out.leaf("Bucket", report.get("Bucket"))
    out.leaf("Enabled", report["Enabled"])
    out.leaf("Prefix", report.get("Prefix"))
    out.leaf("ReportScope", report.get("ReportScope"))
    out.close("Report")
    if "Manifest" in given:
        location, spec = given["Manifest"]["Location"], given["Manifest"]["Spec"]
        out.open("Manifest")
        out.open("Location")
        out.leaf("ETag", location["ETag"])
        out.leaf("Bucket", location["Bucket"])
        out.leaf("Object", location["Object"])
        out.leaf("VersionId", location.get("VersionId"))
        out.close("Location")
        out.open("Spec")
        out.leaf("Fields", spec.get("Fields"))
        out.leaf("Format", spec["Format"])
        out.close("Spec")
        out.close("Manifest")
    out.leaf("Description", job.get("Description"))
    out.leaf("Priority", job["Priority"])
    out.leaf("RoleArn", job["RoleArn"])
    out.leaf("StatusUpdateReason", job.get("StatusUpdateReason"))
    if "KeyPrefixManifestGenerator" in given:
        generator = given["KeyPrefixManifestGenerator"]
        out.open("KeyPrefixManifestGenerator")
        out.leaf("SourceBucket", generator["SourceBucket"])
        out.leaf("Prefix", generator["Prefix"])
        out.close("KeyPrefixManifestGenerator")
    _progress_xml(out, job, timers_last=False)
    out.leaf("Status", job["Status"])
    out.leaf("TerminationDate", job.get("TerminationDate"))
    out.close("Job")


def _list_entry_xml(out: _Xml, entry: Mapping[str, Any]) -> None:
    out.open("JobListDescriptor")
    out.leaf("CreationTime", entry["CreationTime"])
    out.leaf("Description", entry.get("Description"))
    out.leaf("JobId", entry["JobId"])
    out.leaf("Operation", OPERATION_NAMES.get(entry["Operation"], entry["Operation"]))
    out.leaf("Priority", entry["Priority"])
    _progress_xml(out, entry, timers_last=True)
    out.leaf("TerminationDate", entry.get("TerminationDate"))
    out.leaf("Status", entry["Status"])
    out.close("JobListDescriptor")


def render_result(operation: str, result: Mapping[str, Any], request_id: str) -> HttpResponse:
    """The 200 answer of ``operation`` from the backend's ``result``."""
    out = _Xml()
    if operation == "CreateJob":
        out.open("CreateJobResult")
        out.leaf("JobId", result["JobId"])
        out.close("CreateJobResult")
    elif operation == "DescribeJob":
        out.open("DescribeJobResult")
        _job_xml(out, result["Job"])
        out.close("DescribeJobResult")
    elif operation == "ListJobs":
        out.open("ListJobsResult")
        out.leaf("NextToken", result.get("NextToken"))
        out.open("Jobs")
        for entry in result["Jobs"]:
            _list_entry_xml(out, entry)
        out.close("Jobs")
        out.close("ListJobsResult")
    elif operation == "UpdateJobPriority":
        out.open("UpdateJobPriorityResult")
        out.leaf("JobId", result["JobId"])
        out.leaf("Priority", result["Priority"])
        out.close("UpdateJobPriorityResult")
    else:
        out.open("UpdateJobStatusResult")
        out.leaf("JobId", result["JobId"])
        out.leaf("Status", result["Status"])
        out.leaf("StatusUpdateReason", result.get("StatusUpdateReason"))
        out.close("UpdateJobStatusResult")
    return HttpResponse(200, _headers(request_id), out.body())


def render_error(
    error: OssError, request_id: str, host_id: str, extra: Mapping[str, str] | None = None
) -> HttpResponse:
    """OSS's error answer: ``<Error>`` with Code, Message, RequestId, HostId (and any
    ``extra`` elements, such as BucketName or Key), EC and RecommendDoc; the headers
    ``x-oss-request-id`` (the body's RequestId) and ``x-oss-ec``."""
    lines = [
        ("Code", error.code),
        ("Message", error.message),
        ("RequestId", request_id),
        ("HostId", host_id),
        *(extra or {}).items(),
        ("EC", error.ec),
        ("RecommendDoc", f"https://api.aliyun.com/troubleshoot?q={error.ec}"),
    ]
    body = _XML_DECLARATION + "<Error>\n"
    body += "".join(f"  <{name}>{_escape(text)}</{name}>\n" for name, text in lines)
    body += "</Error>\n"
    headers = _headers(request_id)
    headers["x-oss-ec"] = error.ec
    return HttpResponse(error.status, headers, body.encode("utf-8"))
