"""Server-side validation: what botocore lets through and AWS rejects.

botocore checks required members, types, minimum lengths and values, and unions on
the client; maxima, patterns, enums and cross-field rules reach the wire
(aws-semantics.md section 2.1). For each of those the mock must answer the modeled
error (BadRequestException, or InvalidRequestException for ListJobs) with HTTP 400, a
message naming the field and the rule, and change nothing. Where botocore itself
refuses the input, the test pins that instead, so a botocore change is noticed.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import EndpointResolutionError, ParamValidationError

from s3batch_mock import S3Batch
from tests.conftest import ACCOUNT, ROLE, csv_manifest_job, s3control

manual = pytest.mark.s3batch(progression="manual")


# --------------------------------------------------------------------------- helpers


def _etag(batch: S3Batch) -> str:
    return batch.objects.put("manifests", "manifest.csv", b"data,a.txt\n")


def _manifest(etag: str, **spec: Any) -> dict[str, Any]:
    return {
        "Spec": {
            "Format": "S3BatchOperations_CSV_20180820",
            "Fields": ["Bucket", "Key"],
            **spec,
        },
        "Location": {"ObjectArn": "arn:aws:s3:::manifests/manifest.csv", "ETag": etag},
    }


GENERATOR = {
    "S3JobManifestGenerator": {
        "SourceBucket": "arn:aws:s3:::source",
        "EnableManifestOutput": False,
    }
}

REPORT = {
    "Bucket": "arn:aws:s3:::reports",
    "Format": "Report_CSV_20180820",
    "Enabled": True,
    "ReportScope": "AllTasks",
}


def _rejected(
    excinfo: pytest.ExceptionInfo[Any], code: str, *fragments: str, status: int = 400
) -> str:
    """Assert the error's code, HTTP status and that its message holds every fragment."""
    response = excinfo.value.response
    message: str = response["Error"]["Message"]
    assert response["Error"]["Code"] == code
    assert response["ResponseMetadata"]["HTTPStatusCode"] == status
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    return message


def _create_rejected(
    batch: S3Batch, *fragments: str, account: str = ACCOUNT, **overrides: Any
) -> str:
    """CreateJob with ``overrides`` fails with BadRequestException and creates no job."""
    client = s3control()
    etag = _etag(batch)
    with pytest.raises(client.exceptions.BadRequestException) as excinfo:
        csv_manifest_job(client, etag, account=account, **overrides)
    message = _rejected(excinfo, "BadRequestException", *fragments)
    assert batch.jobs() == []
    assert batch.calls[-1].error_code == "BadRequestException"
    return message


def _suspended_job(batch: S3Batch, client: Any) -> str:
    job_id = csv_manifest_job(client, _etag(batch))
    while batch.job(job_id).status != "Suspended":
        batch.step(job_id)
    return job_id


# --------------------------------------------------------------------------- CreateJob: scalars


@pytest.mark.parametrize("account", ["abc", "12345678901", "1234567890123"])
def test_account_id_must_be_twelve_digits(s3batch: S3Batch, account: str) -> None:
    # botocore's endpoint rules only require [a-zA-Z0-9-] (it builds the host from it),
    # so these reach the mock.
    _create_rejected(s3batch, "AccountId", "pattern", account=account)


def test_account_id_with_other_characters_is_refused_by_botocore(s3batch: S3Batch) -> None:
    client = s3control()
    with pytest.raises(EndpointResolutionError):
        client.list_jobs(AccountId="12345678901_")
    assert s3batch.calls == []


def test_account_id_is_checked_on_every_operation(s3batch: S3Batch) -> None:
    client = s3control()
    with pytest.raises(client.exceptions.BadRequestException) as excinfo:
        client.describe_job(AccountId="abc", JobId="abcdef")
    _rejected(excinfo, "BadRequestException", "AccountId", "pattern")

    with pytest.raises(client.exceptions.InvalidRequestException) as excinfo:
        client.list_jobs(AccountId="abc")
    _rejected(excinfo, "InvalidRequestException", "AccountId", "pattern")


def test_description_of_257_characters_is_too_long(s3batch: S3Batch) -> None:
    _create_rejected(s3batch, "Description", "256", Description="d" * 257)


def test_description_of_256_characters_is_accepted(s3batch: S3Batch) -> None:
    client = s3control()
    job_id = csv_manifest_job(client, _etag(s3batch), Description="d" * 256)
    assert s3batch.job(job_id).description == "d" * 256


def test_empty_description_is_refused_by_botocore(s3batch: S3Batch) -> None:
    client = s3control()
    with pytest.raises(ParamValidationError, match="Description"):
        csv_manifest_job(client, _etag(s3batch), Description="")
    assert s3batch.calls == []


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1f", "\ufffe"])
def test_description_with_a_character_xml_cannot_carry_is_rejected(
    s3batch: S3Batch, char: str
) -> None:
    # botocore writes the character into the XML body as it is; the request must be
    # refused with a message that says which field held what.
    message = _create_rejected(s3batch, "Description", Description=f"bad{char}text")
    assert "character" in message.lower()


def test_description_with_markup_and_whitespace_round_trips(s3batch: S3Batch) -> None:
    client = s3control()
    text = "<&>\"' line one\nline two\tend  "
    job_id = csv_manifest_job(client, _etag(s3batch), Description=text)

    assert client.describe_job(AccountId=ACCOUNT, JobId=job_id)["Job"]["Description"] == text
    assert client.list_jobs(AccountId=ACCOUNT)["Jobs"][0]["Description"] == text
    assert s3batch.job(job_id).description == text


@pytest.mark.parametrize(
    "role",
    [
        "arn:aws:iam::123:role/x",
        f"arn:aws:iam::{ACCOUNT}:user/x",
        "not-an-arn",
    ],
)
def test_role_arn_must_match_the_pattern(s3batch: S3Batch, role: str) -> None:
    _create_rejected(s3batch, "RoleArn", "pattern", RoleArn=role)


def test_priority_above_the_maximum_is_rejected(s3batch: S3Batch) -> None:
    # botocore does not check the maximum, so 2**31 reaches the wire.
    _create_rejected(s3batch, "Priority", "2147483647", Priority=2**31)


def test_negative_priority_is_refused_by_botocore(s3batch: S3Batch) -> None:
    client = s3control()
    with pytest.raises(ParamValidationError, match="Priority"):
        csv_manifest_job(client, _etag(s3batch), Priority=-1)
    assert s3batch.calls == []


def test_client_request_token_of_65_characters_is_too_long(s3batch: S3Batch) -> None:
    _create_rejected(s3batch, "ClientRequestToken", "64", ClientRequestToken="t" * 65)


# --------------------------------------------------------------------------- CreateJob: structure


def test_operation_without_members_is_rejected(s3batch: S3Batch) -> None:
    _create_rejected(s3batch, "Operation", "exactly one", Operation={})


def test_operation_with_two_members_is_rejected(s3batch: S3Batch) -> None:
    message = _create_rejected(
        s3batch,
        "Operation",
        "exactly one",
        Operation={
            "S3PutObjectTagging": {"TagSet": [{"Key": "k", "Value": "v"}]},
            "S3DeleteObjectTagging": {},
        },
    )
    assert "S3PutObjectTagging" in message
    assert "S3DeleteObjectTagging" in message


def test_manifest_and_manifest_generator_together_are_rejected(s3batch: S3Batch) -> None:
    _create_rejected(
        s3batch, "Manifest", "ManifestGenerator", "exactly one", ManifestGenerator=GENERATOR
    )


def test_neither_manifest_nor_generator_is_rejected(s3batch: S3Batch) -> None:
    client = s3control()
    with pytest.raises(client.exceptions.BadRequestException) as excinfo:
        client.create_job(
            AccountId=ACCOUNT,
            Operation={"S3DeleteObjectTagging": {}},
            Report={"Enabled": False},
            Priority=1,
            RoleArn=ROLE,
        )
    _rejected(excinfo, "BadRequestException", "Manifest", "ManifestGenerator", "neither")
    assert s3batch.jobs() == []


def test_empty_manifest_generator_is_refused_by_botocore(s3batch: S3Batch) -> None:
    client = s3control()
    with pytest.raises(ParamValidationError, match="ManifestGenerator"):
        client.create_job(
            AccountId=ACCOUNT,
            Operation={"S3DeleteObjectTagging": {}},
            Report={"Enabled": False},
            ManifestGenerator={},
            Priority=1,
            RoleArn=ROLE,
        )
    assert s3batch.calls == []


def test_missing_report_is_refused_by_botocore(s3batch: S3Batch) -> None:
    client = s3control()
    with pytest.raises(ParamValidationError, match="Report"):
        client.create_job(
            AccountId=ACCOUNT,
            Operation={"S3DeleteObjectTagging": {}},
            Manifest=_manifest(_etag(s3batch)),
            Priority=1,
            RoleArn=ROLE,
        )
    assert s3batch.calls == []


@pytest.mark.parametrize("missing", ["Bucket", "Format", "ReportScope"])
def test_enabled_report_needs_bucket_format_and_scope(s3batch: S3Batch, missing: str) -> None:
    report = {k: v for k, v in REPORT.items() if k != missing}
    _create_rejected(s3batch, f"Report.{missing}", "required", Report=report)


def test_enabled_report_with_nothing_else_names_a_missing_member(s3batch: S3Batch) -> None:
    _create_rejected(s3batch, "Report.Bucket", "required", Report={"Enabled": True})


def test_disabled_report_needs_nothing_else(s3batch: S3Batch) -> None:
    client = s3control()
    csv_manifest_job(client, _etag(s3batch), Report={"Enabled": False})
    assert len(s3batch.jobs()) == 1


@pytest.mark.parametrize(
    ("report", "field", "value"),
    [
        ({**REPORT, "Format": "nope"}, "Report.Format", "nope"),
        ({**REPORT, "ReportScope": "Some"}, "Report.ReportScope", "Some"),
    ],
)
def test_report_enums_are_checked(
    s3batch: S3Batch, report: dict[str, Any], field: str, value: str
) -> None:
    _create_rejected(s3batch, field, "must be one of", value, Report=report)


def test_report_bucket_must_be_an_s3_arn(s3batch: S3Batch) -> None:
    _create_rejected(s3batch, "Report.Bucket", "pattern", Report={**REPORT, "Bucket": "reports"})


@pytest.mark.parametrize(
    ("spec", "path", "phrase"),
    [
        ({"Fields": ["Bucket", "VersionId"]}, "Manifest.Spec.Fields", "Key"),  # no Key
        ({"Fields": ["Bucket", "Name"]}, "Manifest.Spec.Fields[1]", "must be one of"),
        ({"Format": "CSV"}, "Manifest.Spec.Format", "must be one of"),
    ],
    ids=["fields-without-key", "field-name-not-in-enum", "format-not-in-enum"],
)
def test_bad_manifest_spec_is_rejected(
    s3batch: S3Batch, spec: dict[str, Any], path: str, phrase: str
) -> None:
    etag = _etag(s3batch)
    _create_rejected(s3batch, path, phrase, Manifest=_manifest(etag, **spec))


@pytest.mark.parametrize("arn", ["s3://manifests/manifest.csv", "arn:aws:iam::b/m.csv"])
def test_manifest_object_arn_must_be_an_s3_arn(s3batch: S3Batch, arn: str) -> None:
    manifest = _manifest(_etag(s3batch))
    manifest["Location"]["ObjectArn"] = arn
    _create_rejected(s3batch, "Manifest.Location.ObjectArn", "pattern", Manifest=manifest)


def test_operation_tag_key_of_129_characters_is_too_long(s3batch: S3Batch) -> None:
    _create_rejected(
        s3batch,
        "Operation.S3PutObjectTagging.TagSet[0].Key",
        "128",
        Operation={"S3PutObjectTagging": {"TagSet": [{"Key": "k" * 129, "Value": "v"}]}},
    )


def test_copy_storage_class_is_an_enum(s3batch: S3Batch) -> None:
    _create_rejected(
        s3batch,
        "Operation.S3PutObjectCopy.StorageClass",
        "must be one of",
        Operation={
            "S3PutObjectCopy": {
                "TargetResource": "arn:aws:s3:::target",
                "StorageClass": "COLD",
            }
        },
    )


@pytest.mark.parametrize("line_break", ["\r\nSet-Cookie: x=1", "\n", "\r"])
@pytest.mark.parametrize(
    ("copy", "field"),
    [
        ({"RedirectLocation": "/a{}"}, "Operation.S3PutObjectCopy.RedirectLocation"),
        (
            {"NewObjectMetadata": {"ContentType": "text/plain{}"}},
            "Operation.S3PutObjectCopy.NewObjectMetadata.ContentType",
        ),
        (
            {"NewObjectMetadata": {"UserMetadata": {"note": "a{}"}}},
            "Operation.S3PutObjectCopy.NewObjectMetadata.UserMetadata.note",
        ),
        (
            {"NewObjectMetadata": {"UserMetadata": {"no{}te": "a"}}},
            "Operation.S3PutObjectCopy.NewObjectMetadata.UserMetadata:",
        ),
    ],
)
def test_copy_header_value_with_a_line_break_is_rejected(
    s3batch: S3Batch, copy: dict[str, Any], field: str, line_break: str
) -> None:
    """What a copy writes as an HTTP header of every object (its redirect, metadata and
    user metadata keys and values) may hold no CR or LF: CreateJob refuses it."""

    def fill(value: Any) -> Any:
        if isinstance(value, dict):
            return {fill(k): fill(v) for k, v in value.items()}
        return value.format(line_break)

    _create_rejected(
        s3batch,
        field,
        "line break",
        Operation={"S3PutObjectCopy": {"TargetResource": "arn:aws:s3:::target", **fill(copy)}},
    )


def test_lambda_user_arguments_need_schema_version_2(s3batch: S3Batch) -> None:
    _create_rejected(
        s3batch,
        "UserArguments",
        "2.0",
        Operation={
            "LambdaInvoke": {
                "FunctionArn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:f",
                "InvocationSchemaVersion": "1.0",
                "UserArguments": {"a": "b"},
            }
        },
    )


def test_generator_with_two_encryption_filters_is_rejected(s3batch: S3Batch) -> None:
    generator = {
        "S3JobManifestGenerator": {
            **GENERATOR["S3JobManifestGenerator"],
            "Filter": {"MatchAnyObjectEncryption": [{"SSES3": {}}, {"NOTSSE": {}}]},
        }
    }
    client = s3control()
    with pytest.raises(client.exceptions.BadRequestException) as excinfo:
        client.create_job(
            AccountId=ACCOUNT,
            Operation={"S3DeleteObjectTagging": {}},
            Report={"Enabled": False},
            ManifestGenerator=generator,
            Priority=1,
            RoleArn=ROLE,
        )
    _rejected(excinfo, "BadRequestException", "MatchAnyObjectEncryption", "at most 1")
    assert s3batch.jobs() == []


def test_generator_output_needs_a_location(s3batch: S3Batch) -> None:
    generator = {
        "S3JobManifestGenerator": {
            "SourceBucket": "arn:aws:s3:::source",
            "EnableManifestOutput": True,
        }
    }
    client = s3control()
    with pytest.raises(client.exceptions.BadRequestException) as excinfo:
        client.create_job(
            AccountId=ACCOUNT,
            Operation={"S3DeleteObjectTagging": {}},
            Report={"Enabled": False},
            ManifestGenerator=generator,
            Priority=1,
            RoleArn=ROLE,
        )
    _rejected(excinfo, "BadRequestException", "ManifestOutputLocation", "required")
    assert s3batch.jobs() == []


# --------------------------------------------------------------------------- CreateJob: tags


def test_create_job_with_51_tags_creates_no_job(s3batch: S3Batch) -> None:
    client = s3control()
    tags = [{"Key": f"k{i}", "Value": "v"} for i in range(51)]
    with pytest.raises(client.exceptions.TooManyTagsException) as excinfo:
        csv_manifest_job(client, _etag(s3batch), Tags=tags)
    _rejected(excinfo, "TooManyTagsException", "Tags", "50")
    assert s3batch.jobs() == []


def test_create_job_with_duplicate_tag_keys_creates_no_job(s3batch: S3Batch) -> None:
    _create_rejected(
        s3batch,
        "Tags",
        "'dup'",
        Tags=[{"Key": "dup", "Value": "1"}, {"Key": "dup", "Value": "2"}],
    )


def test_create_job_with_a_bad_tag_key_creates_no_job(s3batch: S3Batch) -> None:
    _create_rejected(s3batch, "Tags[0].Key", "pattern", Tags=[{"Key": "bad*key", "Value": "v"}])


def test_rejected_request_does_not_burn_its_token(s3batch: S3Batch) -> None:
    client = s3control()
    etag = _etag(s3batch)
    with pytest.raises(client.exceptions.BadRequestException):
        csv_manifest_job(client, etag, ClientRequestToken="tok", Description="d" * 257)

    job_id = csv_manifest_job(client, etag, ClientRequestToken="tok")

    assert [j.job_id for j in s3batch.jobs()] == [job_id]


# --------------------------------------------------------------------------- DescribeJob


@pytest.mark.parametrize(
    ("job_id", "rule"), [("a" * 37, "36"), ("abc!def", "pattern"), ("ab/cdef", "pattern")]
)
def test_malformed_job_id_is_a_bad_request(s3batch: S3Batch, job_id: str, rule: str) -> None:
    client = s3control()
    with pytest.raises(client.exceptions.BadRequestException) as excinfo:
        client.describe_job(AccountId=ACCOUNT, JobId=job_id)
    _rejected(excinfo, "BadRequestException", "JobId", rule)


def test_short_job_id_is_refused_by_botocore(s3batch: S3Batch) -> None:
    client = s3control()
    with pytest.raises(ParamValidationError, match="JobId"):
        client.describe_job(AccountId=ACCOUNT, JobId="abcd")
    assert s3batch.calls == []


# --------------------------------------------------------------------------- UpdateJobStatus


@manual
@pytest.mark.parametrize(
    ("reason", "fragments"),
    [("r" * 257, ("StatusUpdateReason", "256")), ("bad\x01reason", ("StatusUpdateReason",))],
)
def test_bad_status_update_reason_leaves_the_job_unchanged(
    s3batch: S3Batch, reason: str, fragments: tuple[str, ...]
) -> None:
    client = s3control()
    job_id = _suspended_job(s3batch, client)
    before = s3batch.job(job_id)

    with pytest.raises(client.exceptions.BadRequestException) as excinfo:
        client.update_job_status(
            AccountId=ACCOUNT,
            JobId=job_id,
            RequestedJobStatus="Cancelled",
            StatusUpdateReason=reason,
        )

    _rejected(excinfo, "BadRequestException", *fragments)
    assert s3batch.job(job_id) == before
    assert s3batch.job(job_id).status == "Suspended"


@manual
def test_requested_status_other_than_ready_or_cancelled_is_rejected(s3batch: S3Batch) -> None:
    client = s3control()
    job_id = _suspended_job(s3batch, client)
    before = s3batch.job(job_id)

    with pytest.raises(client.exceptions.BadRequestException) as excinfo:
        client.update_job_status(AccountId=ACCOUNT, JobId=job_id, RequestedJobStatus="Active")

    _rejected(excinfo, "BadRequestException", "RequestedJobStatus", "must be one of", "Active")
    assert s3batch.job(job_id) == before


def test_empty_status_update_reason_is_refused_by_botocore(s3batch: S3Batch) -> None:
    client = s3control()
    with pytest.raises(ParamValidationError, match="StatusUpdateReason"):
        client.update_job_status(
            AccountId=ACCOUNT, JobId="abcdef", RequestedJobStatus="Ready", StatusUpdateReason=""
        )
    assert s3batch.calls == []


# --------------------------------------------------------------------------- UpdateJobPriority


@manual
def test_priority_update_above_the_maximum_leaves_the_job_unchanged(s3batch: S3Batch) -> None:
    client = s3control()
    job_id = _suspended_job(s3batch, client)

    with pytest.raises(client.exceptions.BadRequestException) as excinfo:
        client.update_job_priority(AccountId=ACCOUNT, JobId=job_id, Priority=2**31)

    _rejected(excinfo, "BadRequestException", "Priority", "2147483647")
    assert s3batch.job(job_id).priority == 10


def test_negative_priority_update_is_refused_by_botocore(s3batch: S3Batch) -> None:
    # Priority's model minimum (0) is enforced client-side; the request is never sent.
    client = s3control()
    with pytest.raises(ParamValidationError, match="Priority"):
        client.update_job_priority(AccountId=ACCOUNT, JobId="abcdef", Priority=-1)
    assert s3batch.calls == []


# --------------------------------------------------------------------------- ListJobs


def test_list_jobs_max_results_above_1000_is_an_invalid_request(s3batch: S3Batch) -> None:
    client = s3control()
    with pytest.raises(client.exceptions.InvalidRequestException) as excinfo:
        client.list_jobs(AccountId=ACCOUNT, MaxResults=1001)
    _rejected(excinfo, "InvalidRequestException", "MaxResults", "1000")


def test_list_jobs_max_results_of_1000_is_accepted(s3batch: S3Batch) -> None:
    assert s3control().list_jobs(AccountId=ACCOUNT, MaxResults=1000)["Jobs"] == []


def test_list_jobs_negative_max_results_is_refused_by_botocore(s3batch: S3Batch) -> None:
    client = s3control()
    with pytest.raises(ParamValidationError, match="MaxResults"):
        client.list_jobs(AccountId=ACCOUNT, MaxResults=-1)
    assert s3batch.calls == []


@pytest.mark.parametrize("statuses", [["Bogus"], ["Active", "Bogus"], ["active"]])
def test_list_jobs_unknown_status_is_an_invalid_request(
    s3batch: S3Batch, statuses: list[str]
) -> None:
    # botocore does not check enums; the value reaches the mock.
    client = s3control()
    with pytest.raises(client.exceptions.InvalidRequestException) as excinfo:
        client.list_jobs(AccountId=ACCOUNT, JobStatuses=statuses)
    _rejected(excinfo, "InvalidRequestException", "JobStatuses", "must be one of", statuses[-1])


def test_list_jobs_empty_next_token_is_refused_by_botocore(s3batch: S3Batch) -> None:
    client = s3control()
    with pytest.raises(ParamValidationError, match="NextToken"):
        client.list_jobs(AccountId=ACCOUNT, NextToken="")
    assert s3batch.calls == []


# --------------------------------------------------------------------------- job tagging


def test_put_job_tagging_key_of_129_characters_changes_nothing(s3batch: S3Batch) -> None:
    client = s3control()
    old = [{"Key": "keep", "Value": "me"}]
    job_id = csv_manifest_job(client, _etag(s3batch), Tags=old)

    with pytest.raises(client.exceptions.BadRequestException) as excinfo:
        client.put_job_tagging(
            AccountId=ACCOUNT, JobId=job_id, Tags=[{"Key": "k" * 129, "Value": "v"}]
        )

    _rejected(excinfo, "BadRequestException", "Tags[0].Key", "128")
    assert s3batch.job(job_id).tags == {"keep": "me"}


def test_put_job_tagging_value_of_257_characters_changes_nothing(s3batch: S3Batch) -> None:
    client = s3control()
    job_id = csv_manifest_job(client, _etag(s3batch))

    with pytest.raises(client.exceptions.BadRequestException) as excinfo:
        client.put_job_tagging(
            AccountId=ACCOUNT, JobId=job_id, Tags=[{"Key": "k", "Value": "v" * 257}]
        )

    _rejected(excinfo, "BadRequestException", "Tags[0].Value", "256")
    assert s3batch.job(job_id).tags == {}


def test_empty_tag_key_is_refused_by_botocore(s3batch: S3Batch) -> None:
    client = s3control()
    with pytest.raises(ParamValidationError, match="Key"):
        client.put_job_tagging(AccountId=ACCOUNT, JobId="abcdef", Tags=[{"Key": "", "Value": "v"}])
    assert s3batch.calls == []
