"""Server mode beside moto: every request but the job calls is answered by moto's server
application, in the server's process, sharing moto's state with the jobs.

boto3 clients reach the server over real HTTP (endpoint and proxy, as documented); the
server's own jobs reach moto's S3 in-process through ``MotoStore``. Skipped where
moto's server parts (``s3batch_mock[server]``) are not installed.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.config
import pytest
from botocore.exceptions import ClientError

from s3batch_mock import S3BatchServer
from s3batch_mock.server._moto import MotoSide, moto_server_available
from tests.conftest import ACCOUNT, ROLE, csv_manifest_job, describe

#: boto3 without its type stubs' per-service overloads (clients are used as Any).
_boto3: Any = boto3

pytestmark = [
    pytest.mark.skipif(
        not moto_server_available(), reason="moto mode needs 's3batch_mock[server]'"
    ),
    pytest.mark.xdist_group("server-moto"),
    pytest.mark.slow,  # moto's whole server application, imported and served
]

WAIT = 30


@pytest.fixture(scope="module")
def running() -> Iterator[S3BatchServer]:
    with S3BatchServer(mode="moto") as server:
        yield server


@pytest.fixture
def server(running: S3BatchServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[S3BatchServer]:
    # conftest clears AWS credentials for every test; moto's mock_aws had set fake ones
    # for this process, which the jobs' in-process client (MotoStore) reads.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    control_call(running, "POST", "reset")
    yield running
    control_call(running, "POST", "reset")


def client(server: S3BatchServer, service: str) -> Any:
    return _boto3.client(
        service,
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=botocore.config.Config(proxies={"http": server.url}),
    )


def control_call(
    server: S3BatchServer, method: str, name: str, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=WAIT)
    try:
        body = b"" if method == "POST" else None
        conn.request(method, f"/{name}" if name.startswith("moto-api") else f"/_s3batch/{name}",
                     body=body, headers=headers or {})  # fmt: skip
        response = conn.getresponse()
        data = response.read()
        return response.status, json.loads(data) if data.startswith(b"{") else data
    finally:
        conn.close()


def test_the_mode_is_moto(server: S3BatchServer) -> None:
    assert server.mode == "moto"
    assert control_call(server, "GET", "state")[1]["mode"] == "moto"


def test_a_job_runs_on_objects_scripts_put_in_moto(server: S3BatchServer) -> None:
    s3, control = client(server, "s3"), client(server, "s3control")
    for bucket in ("photos", "manifests"):
        s3.create_bucket(Bucket=bucket)
    for key in ("a.jpg", "b.jpg"):
        s3.put_object(Bucket="photos", Key=key, Body=b"x")
    etag = s3.put_object(
        Bucket="manifests", Key="manifest.csv", Body=b"photos,a.jpg\nphotos,b.jpg\n"
    )["ETag"]

    job_id = csv_manifest_job(control, etag, ConfirmationRequired=False)
    for _ in range(10):  # a safety cap: poll progression steps once per call
        if describe(control, job_id)["Status"] == "Complete":
            break

    assert describe(control, job_id)["ProgressSummary"]["NumberOfTasksSucceeded"] == 2
    assert s3.get_object_tagging(Bucket="photos", Key="b.jpg")["TagSet"] == [
        {"Key": "k", "Value": "v"}
    ]
    # The controller sees moto's S3 too, and the state lists moto's buckets.
    assert server.batch.objects.get_tags("photos", "a.jpg") == {"k": "v"}
    assert control_call(server, "GET", "state")[1]["buckets"]["photos"] == ["a.jpg", "b.jpg"]


def test_s3_in_full_list_objects_v1_delete_objects_and_delete_bucket(
    server: S3BatchServer,
) -> None:
    s3 = client(server, "s3")
    s3.create_bucket(Bucket="scratch")
    s3.put_bucket_versioning(Bucket="scratch", VersioningConfiguration={"Status": "Suspended"})
    for key in ("a", "b/c"):
        s3.put_object(Bucket="scratch", Key=key, Body=b"x")

    listed = s3.list_objects(Bucket="scratch", Delimiter="/")
    assert [item["Key"] for item in listed["Contents"]] == ["a"]
    assert listed["CommonPrefixes"] == [{"Prefix": "b/"}]
    s3.delete_objects(Bucket="scratch", Delete={"Objects": [{"Key": "a"}, {"Key": "b/c"}]})
    s3.delete_bucket(Bucket="scratch")

    assert "scratch" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_iam_sts_and_lambda_are_moto_s(server: S3BatchServer) -> None:
    iam = client(server, "iam")
    iam.create_role(RoleName="batch", AssumeRolePolicyDocument=json.dumps({"Statement": []}))

    assert iam.get_role(RoleName="batch")["Role"]["Arn"] == ROLE
    assert client(server, "sts").get_caller_identity()["Account"] == ACCOUNT
    assert client(server, "lambda").list_functions()["Functions"] == []


def test_other_s3control_calls_are_moto_s_and_job_calls_ours(server: S3BatchServer) -> None:
    control = client(server, "s3control")
    block = {"BlockPublicAcls": True, "IgnorePublicAcls": True}
    block |= {"BlockPublicPolicy": True, "RestrictPublicBuckets": True}

    control.put_public_access_block(AccountId=ACCOUNT, PublicAccessBlockConfiguration=block)

    got = control.get_public_access_block(AccountId=ACCOUNT)
    assert got["PublicAccessBlockConfiguration"] == block
    assert control.list_jobs(AccountId=ACCOUNT)["Jobs"] == []
    assert [call.operation for call in server.batch.calls] == ["ListJobs"]


def test_reset_drops_moto_s_state_too(server: S3BatchServer) -> None:
    s3 = client(server, "s3")
    s3.create_bucket(Bucket="dropped")

    assert control_call(server, "POST", "reset") == (200, {"reset": True})

    assert s3.list_buckets()["Buckets"] == []


def test_moto_s_own_reset_is_guarded_like_ours(server: S3BatchServer) -> None:
    s3 = client(server, "s3")
    s3.create_bucket(Bucket="kept")

    status, _ = control_call(server, "POST", "moto-api/reset", {"Origin": "https://evil.example"})

    assert status == 403
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["kept"]


def test_non_ascii_metadata_moto_holds_is_served_rfc_2047_encoded(
    server: S3BatchServer,
) -> None:
    s3 = client(server, "s3")
    s3.create_bucket(Bucket="priced")
    # botocore refuses non-ASCII metadata; a raw client sends UTF-8 bytes, moto keeps them.
    conn = http.client.HTTPConnection(server.host, server.port, timeout=WAIT)
    conn.putrequest("PUT", "/priced/k", skip_accept_encoding=True)
    conn.putheader("x-amz-meta-price", "12 €".encode())
    conn.putheader("Content-Length", "1")
    conn.endheaders(b"x")
    assert conn.getresponse().status == 200
    conn.close()

    head = s3.head_object(Bucket="priced", Key="k")

    assert head["Metadata"] == {"price": "=?UTF-8?B?MTIg4oKs?="}


def test_moto_s_errors_reach_the_client(server: S3BatchServer) -> None:
    with pytest.raises(ClientError) as excinfo:
        client(server, "s3").get_object(Bucket="no-such-bucket", Key="k")

    assert excinfo.value.response["Error"]["Code"] == "NoSuchBucket"


def test_moto_s_buckets_are_never_asked_of_aws_while_mock_aws_is_off() -> None:
    side = MotoSide()  # not started: a boto3 client would reach the real endpoint

    with pytest.raises(RuntimeError, match="refusing to call AWS"):
        side.buckets()
