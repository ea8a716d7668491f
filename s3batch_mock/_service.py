"""The service layer: the checks AWS makes and botocore doesn't, then the backend call.

Each served operation validates its input against the model (``_validation``), applies
the cross-field rules AWS documents or implies, and only then touches the backend, so
a rejected call never changes anything.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from botocore.model import Shape

from ._backend import Backend
from ._errors import InvalidNextToken, TooManyTags, invalid_input
from .wire import ParsedRequest, Violation, check, service_model

__all__ = ["SERVED_OPERATIONS", "handle"]

MAX_TAGS = 50


def handle(backend: Backend, request: ParsedRequest) -> dict[str, Any]:
    """Validate ``request`` and carry it out; raises ``S3ControlError`` for AWS errors."""
    operation = request.operation
    params = request.params
    shape = _input_shape(operation)
    try:
        if shape is not None:
            check(shape, params)
        _CROSS_FIELD_RULES.get(operation, _no_rules)(params)
    except Violation as violation:
        if violation.path.startswith("NextToken"):
            raise InvalidNextToken(str(violation)) from None
        raise invalid_input(operation, str(violation)) from None
    return _OPERATIONS[operation](backend, request.account_id, request.region, params)


@functools.cache
def _input_shape(operation: str) -> Shape | None:
    return service_model().operation_model(operation).input_shape


# --------------------------------------------------------------------------- rules


def _no_rules(params: dict[str, Any]) -> None:
    pass


def _check_tags(tags: list[dict[str, str]], path: str) -> None:
    if len(tags) > MAX_TAGS:
        raise TooManyTags(
            f"{path}: a job can have at most {MAX_TAGS} tags (got {len(tags)}). "
            "Remove some tags, or combine them."
        )
    seen: set[str] = set()
    for tag in tags:
        if tag["Key"] in seen:
            raise Violation(path, f"the tag key {tag['Key']!r} appears more than once")
        seen.add(tag["Key"])


def _create_job_rules(params: dict[str, Any]) -> None:
    operations = [name for name, value in params["Operation"].items() if value is not None]
    if len(operations) != 1:
        raise Violation(
            "Operation",
            f"must name exactly one operation (got {len(operations)}: "
            f"{', '.join(operations) or 'none'})",
        )
    sources = [name for name in ("Manifest", "ManifestGenerator") if name in params]
    if len(sources) != 1:
        raise Violation(
            "Manifest",
            "a job needs exactly one of Manifest and ManifestGenerator "
            f"(got {' and '.join(sources) or 'neither'})",
        )
    report = params["Report"]
    if report["Enabled"]:
        for name in ("Bucket", "Format", "ReportScope"):
            if name not in report:
                raise Violation(f"Report.{name}", "is required when Report.Enabled is true")
    spec = params.get("Manifest", {}).get("Spec", {})
    if spec.get("Format") == "S3BatchOperations_CSV_20180820" and "Fields" in spec:
        missing = {"Bucket", "Key"} - set(spec["Fields"])
        if missing:
            raise Violation(
                "Manifest.Spec.Fields",
                f"a CSV manifest's Fields must include Bucket and Key (missing "
                f"{', '.join(sorted(missing))})",
            )
    generator = params.get("ManifestGenerator", {}).get("S3JobManifestGenerator")
    if (
        generator
        and generator["EnableManifestOutput"]
        and not generator.get("ManifestOutputLocation")
    ):
        raise Violation(
            "ManifestGenerator.S3JobManifestGenerator.ManifestOutputLocation",
            "is required when EnableManifestOutput is true",
        )
    lambda_invoke = params["Operation"].get("LambdaInvoke") or {}
    schema = lambda_invoke.get("InvocationSchemaVersion")
    if lambda_invoke.get("UserArguments") and schema != "2.0":
        raise Violation(
            "Operation.LambdaInvoke.UserArguments",
            "requires InvocationSchemaVersion 2.0",
        )
    _check_tags(params.get("Tags", []), "Tags")
    _check_header_values(params["Operation"].get("S3PutObjectCopy") or {})
    for name, value in params["Operation"].items():
        for path in _OPERATION_NEEDS.get(name, ()):
            found: Any = value
            for part in path.split("."):
                found = found.get(part) if isinstance(found, dict) else None
            if found is None:
                raise Violation(f"Operation.{name}.{path}", f"is required for {name}")


def _check_header_values(copy: dict[str, Any]) -> None:
    """A copy's new metadata and redirect become HTTP header values of every object it
    writes: a CR or LF would end a header line and start another, so it is refused."""
    path = "Operation.S3PutObjectCopy"
    found: list[tuple[str, Any]] = [(f"{path}.RedirectLocation", copy.get("RedirectLocation"))]
    metadata = dict(copy.get("NewObjectMetadata") or {})
    user = metadata.pop("UserMetadata", None) or {}
    found += [(f"{path}.NewObjectMetadata.{name}", value) for name, value in metadata.items()]
    for key, text in user.items():
        found.append((f"{path}.NewObjectMetadata.UserMetadata", key))
        found.append((f"{path}.NewObjectMetadata.UserMetadata.{key}", text))
    for where, value in found:
        if isinstance(value, str) and ("\r" in value or "\n" in value):
            raise Violation(
                where,
                f"contains a line break (CR or LF), which no HTTP header may hold: {value!r}",
            )


# Members the model leaves optional but without which an operation cannot run.
_OPERATION_NEEDS: dict[str, tuple[str, ...]] = {
    "LambdaInvoke": ("FunctionArn",),
    "S3PutObjectCopy": ("TargetResource",),
    "S3UpdateObjectEncryption": ("ObjectEncryption.SSEKMS",),
    "S3PutObjectRetention": ("Retention.Mode", "Retention.RetainUntilDate"),
    "S3PutObjectAcl": ("AccessControlPolicy",),
}


_CROSS_FIELD_RULES: dict[str, Callable[[dict[str, Any]], None]] = {
    "CreateJob": _create_job_rules,
    "PutJobTagging": lambda params: _check_tags(params["Tags"], "Tags"),
}

# --------------------------------------------------------------------------- dispatch

_Operation = Callable[[Backend, str, str, dict[str, Any]], dict[str, Any]]

_OPERATIONS: dict[str, _Operation] = {
    "CreateJob": lambda b, a, r, p: b.create_job(a, r, p),
    "DescribeJob": lambda b, a, r, p: b.describe_job(a, r, p["JobId"]),
    "ListJobs": lambda b, a, r, p: b.list_jobs(
        a, r, p.get("JobStatuses", ()), p.get("MaxResults"), p.get("NextToken")
    ),
    "UpdateJobStatus": lambda b, a, r, p: b.update_status(
        a, r, p["JobId"], p["RequestedJobStatus"], p.get("StatusUpdateReason")
    ),
    "UpdateJobPriority": lambda b, a, r, p: b.update_priority(a, r, p["JobId"], p["Priority"]),
    "GetJobTagging": lambda b, a, r, p: b.get_tags(a, r, p["JobId"]),
    "PutJobTagging": lambda b, a, r, p: b.put_tags(a, r, p["JobId"], p["Tags"]),
    "DeleteJobTagging": lambda b, a, r, p: b.delete_tags(a, r, p["JobId"]),
}

#: The s3control operations the mock serves.
SERVED_OPERATIONS = frozenset(_OPERATIONS)
