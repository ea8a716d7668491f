"""The wire layer: what arrives on the wire and what goes back, below botocore.

Most tests go through boto3; these check what boto3 never sends (broken XML, wrong
types, unknown paths) and the exact response envelope botocore parses.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import botocore.session
import pytest
from botocore.validate import ParamValidator

from s3batch_mock import mock_s3batch
from s3batch_mock._backend import Backend, Settings
from s3batch_mock._dispatch import Unserved, respond
from s3batch_mock.wire._s3control import HttpRequest, UnknownRoute, parse_request
from tests.conftest import ACCOUNT, ROLE, csv_manifest_job, s3control

HOST = f"https://{ACCOUNT}.s3-control.eu-west-1.amazonaws.com"
HEADERS = {"x-amz-account-id": ACCOUNT}
KMS_KEY = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/abc"


def send(method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None):
    backend = Backend(Settings())
    request = HttpRequest(method, HOST + path, HEADERS if headers is None else headers, body)
    return backend, respond(backend, request)


def error_of(response) -> tuple[str, str]:
    root = ET.fromstring(response.body)
    assert root.tag == "ErrorResponse"
    return root.findtext("Error/Code") or "", root.findtext("Error/Message") or ""


class TestParsing:
    def test_repeated_query_values_become_a_list(self):
        parsed = parse_request(
            HttpRequest(
                "GET",
                HOST + "/v20180820/jobs?jobStatuses=Active&jobStatuses=New&maxResults=5",
                HEADERS,
            )
        )
        assert parsed.operation == "ListJobs"
        assert parsed.params == {
            "AccountId": ACCOUNT,
            "JobStatuses": ["Active", "New"],
            "MaxResults": 5,
        }
        assert parsed.region == "eu-west-1"

    def test_most_literal_route_wins(self):
        parsed = parse_request(
            HttpRequest(
                "POST",
                HOST + "/v20180820/jobs/abcde-1/status?requestedJobStatus=Cancelled"
                "&statusUpdateReason=no%20thanks",
                HEADERS,
            )
        )
        assert parsed.operation == "UpdateJobStatus"
        assert parsed.params["JobId"] == "abcde-1"
        assert parsed.params["StatusUpdateReason"] == "no thanks"

    @pytest.mark.parametrize(
        ("host", "region"),
        [
            (f"{ACCOUNT}.s3-control-fips.us-gov-west-1.amazonaws.com", "us-gov-west-1"),
            (f"{ACCOUNT}.s3-control.dualstack.ap-south-1.amazonaws.com", "ap-south-1"),
            (f"{ACCOUNT}.s3-control.cn-north-1.amazonaws.com.cn", "cn-north-1"),
        ],
    )
    def test_region_comes_from_the_host(self, host, region):
        parsed = parse_request(HttpRequest("GET", f"https://{host}/v20180820/jobs", HEADERS))
        assert parsed.region == region

    def test_region_falls_back_to_the_signature_scope(self):
        headers = {
            **HEADERS,
            "Authorization": "AWS4-HMAC-SHA256 Credential=AKID/20261121/sa-east-1/s3/aws4_request",
        }
        parsed = parse_request(HttpRequest("GET", "http://127.0.0.1:5000/v20180820/jobs", headers))
        assert parsed.region == "sa-east-1"

    def test_every_job_operation_round_trips_through_the_model(self):
        """botocore serializes; the wire layer parses back exactly what was sent."""
        client = s3control("eu-west-1")
        captured = []

        def capture(request, **kwargs):
            headers = {
                k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()
            }
            captured.append(
                parse_request(HttpRequest(request.method, request.url, headers, request.body))
            )

        client.meta.events.register_first("before-send.s3-control", capture)
        create = {
            "AccountId": ACCOUNT,
            "ConfirmationRequired": False,
            "Operation": {
                "LambdaInvoke": {
                    "FunctionArn": "arn:aws:lambda:eu-west-1:123456789012:function:f",
                    "InvocationSchemaVersion": "2.0",
                    "UserArguments": {"a": "1", "b": "<&>"},
                }
            },
            "Report": {"Enabled": False},
            "ManifestGenerator": {
                "S3JobManifestGenerator": {
                    "SourceBucket": "arn:aws:s3:::src",
                    "EnableManifestOutput": False,
                    "Filter": {
                        "KeyNameConstraint": {"MatchAnyPrefix": ["a/"]},
                        "MatchAnyObjectEncryption": [
                            {"SSEKMS": {"KmsKeyArn": "arn:aws:kms:eu-west-1:123456789012:key/abc"}}
                        ],
                    },
                }
            },
            "Priority": 10,
            "RoleArn": ROLE,
            "ClientRequestToken": "token-1",
            "Tags": [{"Key": "team", "Value": "data"}],
        }
        with mock_s3batch():
            client.create_job(**create)
        assert captured[0].operation == "CreateJob"
        assert captured[0].params == create


class TestMalformedInput:
    def test_broken_xml_is_a_400_with_the_operations_error(self):
        backend, response = send("POST", "/v20180820/jobs", b"<CreateJobRequest><Priority>")
        assert response.status == 400
        code, message = error_of(response)
        assert code == "BadRequestException"
        assert "not well-formed" in message
        assert backend.calls[-1].error_code == "BadRequestException"

    def test_character_xml_cannot_carry_names_its_element_even_with_a_prefix(self):
        body = (
            b'<ns0:CreateJobRequest xmlns:ns0="urn:x"><ns0:Description>a\x01b'
            b"</ns0:Description></ns0:CreateJobRequest>"
        )
        _, response = send("POST", "/v20180820/jobs", body)
        code, message = error_of(response)
        assert code == "BadRequestException"
        assert message.startswith("Description: contains the character U+0001")

    def test_wrong_type_in_the_body_names_the_shape(self):
        body = b"<CreateJobRequest><Priority>high</Priority></CreateJobRequest>"
        _, response = send("POST", "/v20180820/jobs", body)
        assert response.status == 400
        assert "must be an integer" in error_of(response)[1]

    def test_wrong_type_in_the_query_of_list_jobs_is_invalid_request(self):
        _, response = send("GET", "/v20180820/jobs?maxResults=lots")
        assert error_of(response)[0] == "InvalidRequestException"

    def test_missing_required_members_are_named(self):
        _, response = send("POST", "/v20180820/jobs", b"<CreateJobRequest/>")
        code, message = error_of(response)
        assert code == "BadRequestException"
        assert "is required" in message

    def test_missing_account_header_is_rejected(self):
        _, response = send("GET", "/v20180820/jobs", headers={})
        code, message = error_of(response)
        assert code == "InvalidRequestException"
        assert message == "AccountId: is required"

    def test_unknown_path_is_not_an_operation(self):
        with pytest.raises(UnknownRoute):
            send("GET", "/no/such/path")

    def test_another_s3control_operation_is_unserved(self):
        with pytest.raises(Unserved) as caught:
            send("GET", "/v20180820/configuration/publicAccessBlock")
        assert caught.value.operation == "GetPublicAccessBlock"


class TestResponses:
    def test_error_envelope_and_headers_reach_botocore(self):
        client = s3control()
        with mock_s3batch(), pytest.raises(client.exceptions.NotFoundException) as caught:
            client.describe_job(AccountId=ACCOUNT, JobId="00000000-0000-0000-0000-000000000000")
        response = caught.value.response
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
        request_id = response["ResponseMetadata"]["RequestId"]
        assert len(request_id) == 16
        assert request_id.isalnum()
        assert request_id.isupper() or request_id.isdigit()
        assert response["ResponseMetadata"]["HTTPHeaders"]["x-amz-request-id"] == request_id
        assert response["ResponseMetadata"]["HTTPHeaders"]["x-amz-id-2"]

    def test_text_that_needs_escaping_round_trips(self):
        client = s3control()
        text = "a < b && c > d \"quoted\" 'single' \ttab\nline"
        with mock_s3batch() as batch:
            etag = batch.objects.put("manifests", "manifest.csv", "b,k\n")
            job_id = csv_manifest_job(client, etag, Description=text)
            job = client.describe_job(AccountId=ACCOUNT, JobId=job_id)["Job"]
        assert job["Description"] == text

    def test_describe_job_response_matches_the_output_shape(self):
        client = s3control()
        model = botocore.session.get_session().get_service_model("s3control")
        with mock_s3batch() as batch:
            etag = batch.objects.put("manifests", "manifest.csv", "b,k\n")
            job_id = csv_manifest_job(client, etag, Description="d")
            batch.run(job_id)
            response = client.describe_job(AccountId=ACCOUNT, JobId=job_id)
        response.pop("ResponseMetadata")
        shape = model.operation_model("DescribeJob").output_shape
        assert shape is not None
        report = ParamValidator().validate(response, shape)
        assert not report.has_errors(), report.generate_report()
