"""Server mode in-process: ``S3BatchServer`` driven by real clients over real HTTP.

These tests run the embedded mode (``mode="embedded"``: the embedded S3 API);
``test_server_moto.py`` runs moto mode and ``test_server_http.py`` the HTTP framing.

boto3 reaches the server through the documented recipe (the server is both the endpoint
URL and the HTTP proxy, so ``123456789012.127.0.0.1:PORT`` never needs resolving);
http.client and urllib send what SDKs do not (absolute-form targets, ``Host`` headers,
chunked bodies, the ``/_s3batch/`` control endpoints). No mock is active in these
tests: every call crosses a socket, and ``server.batch`` shows what arrived.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import gc
import hashlib
import http.client
import io
import json
import random
import socket
import struct
import threading
import urllib.error
import urllib.request
import uuid
import warnings
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote

import boto3
import botocore.config
import pytest
import time_machine
from botocore.exceptions import ClientError

from s3batch_mock import S3BatchServer
from tests.conftest import ACCOUNT, JOB_OPERATIONS, ROLE, csv_manifest_job, describe, store_of

#: Every test here serves HTTP from a thread of its own.
pytestmark = pytest.mark.slow

TERMINAL = ("Complete", "Failed", "Cancelled")
# Settings that would send a client elsewhere than where a test points it.
_ROUTING_VARIABLES = (
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL_S3_CONTROL",
)


# --------------------------------------------------------------------------- helpers


@pytest.fixture(autouse=True)
def _no_routing_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _ROUTING_VARIABLES:
        monkeypatch.delenv(name, raising=False)


# One server per progression for the whole module, emptied around each test: stopping a
# server takes up to half a second (serve_forever's poll interval), so tests share them.
# The lifecycle tests start and stop their own.
@pytest.fixture(scope="module")
def poll_server() -> Iterator[S3BatchServer]:
    with S3BatchServer(mode="embedded") as running:
        yield running


@pytest.fixture(scope="module")
def manual_progression_server() -> Iterator[S3BatchServer]:
    with S3BatchServer(progression="manual", mode="embedded") as running:
        yield running


def _emptied(running: S3BatchServer) -> Iterator[S3BatchServer]:
    running.batch.reset()
    yield running
    running.batch.reset()  # also closes the temporary files of large objects


@pytest.fixture
def server(poll_server: S3BatchServer) -> Iterator[S3BatchServer]:
    yield from _emptied(poll_server)


@pytest.fixture
def manual_server(manual_progression_server: S3BatchServer) -> Iterator[S3BatchServer]:
    yield from _emptied(manual_progression_server)


def client_for(
    server: S3BatchServer, service: str, session: Any = None, region: str = "us-east-1"
) -> Any:
    """A boto3 client that reaches ``server`` as endpoint and as HTTP proxy."""
    return (session or boto3).client(
        service,
        endpoint_url=server.url,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=botocore.config.Config(proxies={"http": server.url}),
    )


@pytest.fixture
def control(server: S3BatchServer) -> Any:
    return client_for(server, "s3control")


@pytest.fixture
def s3(server: S3BatchServer) -> Any:
    return client_for(server, "s3")


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    """(code, HTTP status, message) of a ClientError."""
    response: Any = excinfo.value.response
    return (
        response["Error"]["Code"],
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"].get("Message", ""),
    )


def raw(
    server: S3BatchServer,
    method: str,
    target: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """One request over its own connection: (status, lower-cased headers, body)."""
    conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
    try:
        conn.request(method, target, body=body, headers=headers or {})
        response = conn.getresponse()
        answer = {name.lower(): value for name, value in response.getheaders()}
        return response.status, answer, response.read()
    finally:
        conn.close()


#: ``tasks_per_step`` of the servers whose port is checked after they stop: another
#: test's server (tests run in parallel) may take the freed port at once, and this
#: tells it apart.
GONE_MARKER = 4321


def assert_gone(server: S3BatchServer) -> None:
    """Nothing of ``server`` answers on its port any more."""
    try:
        status, _, body = raw(server, "GET", "/_s3batch/state")
    except ConnectionRefusedError:
        return
    # The port was free again, and a server of another test took it.
    assert status != 200 or json.loads(body)["settings"]["tasks_per_step"] != GONE_MARKER


def control_endpoint(server: S3BatchServer, method: str, name: str) -> tuple[int, str, Any]:
    """``/_s3batch/<name>`` through urllib, no proxy: (status, content type, JSON)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    data = b"" if method == "POST" else None
    request = urllib.request.Request(f"{server.url}/_s3batch/{name}", data=data, method=method)
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.headers["Content-Type"], json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers["Content-Type"], json.loads(error.read())


def put_inputs(s3: Any, keys: list[str], bucket: str = "photos") -> str:
    """Objects ``keys`` in ``bucket`` and a CSV manifest of them at s3://manifests/manifest.csv.

    Everything goes through the S3 API; returns the manifest's ETag as S3 gives it.
    """
    for name in (bucket, "manifests"):
        s3.create_bucket(Bucket=name)
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=f"body of {key}".encode())
    rows = "".join(f"{bucket},{quote(key)}\n" for key in keys)
    return str(s3.put_object(Bucket="manifests", Key="manifest.csv", Body=rows)["ETag"])


def poll(control: Any, job_id: str) -> list[str]:
    """DescribeJob until the job ends; the statuses seen (a safety cap, not a timing)."""
    seen: list[str] = []
    for _ in range(50):
        seen.append(describe(control, job_id)["Status"])
        if seen[-1] in TERMINAL:
            return seen
    raise AssertionError(f"job {job_id} never ended: {seen}")


def aws_chunked(data: bytes, chunk: int) -> bytes:
    """``data`` in S3's aws-chunked encoding: signed chunks and a CRC32 trailer."""
    out = []
    for start in range(0, len(data), chunk):
        part = data[start : start + chunk]
        out.append(b"%x;chunk-signature=%s\r\n%s\r\n" % (len(part), b"a" * 64, part))
    crc = base64.b64encode(zlib.crc32(data).to_bytes(4, "big"))
    out.append(b"0;chunk-signature=%s\r\nx-amz-checksum-crc32:%s\r\n\r\n" % (b"b" * 64, crc))
    return b"".join(out)


def http_chunked(data: bytes, chunk: int) -> bytes:
    """``data`` as an HTTP/1.1 ``Transfer-Encoding: chunked`` body."""
    out = [
        b"%x\r\n%s\r\n" % (len(data[i : i + chunk]), data[i : i + chunk])
        for i in range(0, len(data), chunk)
    ]
    return b"".join([*out, b"0\r\n\r\n"])


# --------------------------------------------------------------------------- lifecycle


def test_port_zero_picks_a_free_port_and_stop_releases_it() -> None:
    server = S3BatchServer(port=0, mode="embedded", tasks_per_step=GONE_MARKER)
    assert server.port != 0
    assert server.url == f"http://127.0.0.1:{server.port}"
    assert server.url in repr(server)

    assert server.start() is server
    try:
        status, _, _ = raw(server, "GET", "/_s3batch/state")
        assert status == 200
    finally:
        server.stop()

    assert_gone(server)
    # The port is free again: a new server can take it.
    with S3BatchServer(port=server.port, mode="embedded") as again:
        assert raw(again, "GET", "/_s3batch/state")[0] == 200


def test_context_manager_serves_in_the_background_and_exposes_the_controller() -> None:
    with S3BatchServer(
        progression="manual", tasks_per_step=GONE_MARKER, mode="embedded"
    ) as server:
        server.batch.objects.put("manifests", "m.csv", "photos,a.jpg\n")
        s3 = client_for(server, "s3")
        body = s3.get_object(Bucket="manifests", Key="m.csv")["Body"].read()
        assert body == b"photos,a.jpg\n"
        settings = server.state()["settings"]
        assert (settings["progression"], settings["tasks_per_step"]) == ("manual", GONE_MARKER)
    assert_gone(server)


def test_stop_is_safe_before_start_and_twice() -> None:
    server = S3BatchServer(mode="embedded", tasks_per_step=GONE_MARKER)
    stopper = threading.Thread(target=server.stop, daemon=True)
    stopper.start()
    stopper.join(timeout=60)  # a safety net against a hang, not a timing
    assert not stopper.is_alive(), "stop() before start() never returned"

    assert_gone(server)
    server.stop()


def test_stop_closes_idle_keep_alive_connections() -> None:
    server = S3BatchServer(mode="embedded").start()
    conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
    try:
        conn.request("GET", "/_s3batch/state")
        conn.getresponse().read()

        server.stop()

        def ask_again() -> None:
            conn.request("GET", "/_s3batch/state")
            conn.getresponse().read()

        with pytest.raises(ConnectionError):  # RemoteDisconnected, reset or broken pipe
            ask_again()
    finally:
        conn.close()


def test_a_client_resetting_its_connection_is_no_server_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with S3BatchServer(mode="embedded") as server:
        client = socket.create_connection((server.host, server.port), timeout=30)
        client.sendall(b"GET /_s3batch/state HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert client.recv(12) == b"HTTP/1.1 200"
        # Close with a TCP reset: the server's next read of that connection fails.
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.close()

        # The server goes on answering others.
        assert raw(server, "GET", "/_s3batch/state")[0] == 200
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "Exception" not in err


# --------------------------------------------------------------------------- s3control


def test_all_eight_job_operations_answer_boto3_over_http(
    server: S3BatchServer, control: Any, s3: Any
) -> None:
    etag = put_inputs(s3, ["a.jpg", "b.jpg"])
    job_id = csv_manifest_job(
        control, etag, Description="over http", Tags=[{"Key": "team", "Value": "data"}]
    )
    assert server.batch.job(job_id).status == "New"

    # poll progression: each DescribeJob steps the job; it stops awaiting confirmation.
    described = [describe(control, job_id) for _ in range(3)]
    assert [job["Status"] for job in described] == ["Preparing", "Suspended", "Suspended"]
    assert (described[0]["JobId"], described[0]["RoleArn"]) == (job_id, ROLE)
    assert described[0]["Manifest"]["Location"]["ETag"] == etag
    listed = control.list_jobs(AccountId=ACCOUNT)["Jobs"]
    assert [(j["JobId"], j["Status"], j["Description"]) for j in listed] == [
        (job_id, "Suspended", "over http")
    ]

    answer = control.update_job_priority(AccountId=ACCOUNT, JobId=job_id, Priority=42)
    assert (answer["JobId"], answer["Priority"]) == (job_id, 42)
    assert server.batch.job(job_id).priority == 42

    assert control.get_job_tagging(AccountId=ACCOUNT, JobId=job_id)["Tags"] == [
        {"Key": "team", "Value": "data"}
    ]
    control.put_job_tagging(
        AccountId=ACCOUNT, JobId=job_id, Tags=[{"Key": "stage", "Value": "two"}]
    )
    assert server.batch.job(job_id).tags == {"stage": "two"}
    control.delete_job_tagging(AccountId=ACCOUNT, JobId=job_id)
    assert control.get_job_tagging(AccountId=ACCOUNT, JobId=job_id)["Tags"] == []
    assert server.batch.job(job_id).tags == {}

    answer = control.update_job_status(
        AccountId=ACCOUNT, JobId=job_id, RequestedJobStatus="Ready", StatusUpdateReason="go"
    )
    assert (answer["JobId"], answer["Status"]) == (job_id, "Ready")
    assert poll(control, job_id) == ["Active", "Completing", "Complete"]

    job = server.batch.job(job_id)
    assert job.status_history == [
        "New",
        "Preparing",
        "Suspended",
        "Ready",
        "Active",
        "Completing",
        "Complete",
    ]
    assert (job.succeeded_tasks, job.status_update_reason) == (2, "go")
    assert s3.get_object_tagging(Bucket="photos", Key="b.jpg")["TagSet"] == [
        {"Key": "k", "Value": "v"}
    ]
    served = {call.operation for call in server.batch.calls}
    assert served == set(JOB_OPERATIONS)
    assert all(call.http_status == 200 for call in server.batch.calls)


def test_unknown_job_is_not_found(server: S3BatchServer, control: Any) -> None:
    with pytest.raises(control.exceptions.NotFoundException) as excinfo:
        control.describe_job(AccountId=ACCOUNT, JobId=str(uuid.uuid4()))

    code, status, message = error_of(excinfo)
    assert (code, status) == ("NotFoundException", 400)
    assert "does not exist" in message
    assert server.batch.calls[-1].error_code == "NotFoundException"


def test_disallowed_status_change_is_a_job_status_exception(
    server: S3BatchServer, control: Any, s3: Any
) -> None:
    job_id = csv_manifest_job(control, put_inputs(s3, ["a.jpg"]), ConfirmationRequired=False)
    server.batch.run(job_id)

    with pytest.raises(control.exceptions.JobStatusException) as excinfo:
        control.update_job_status(AccountId=ACCOUNT, JobId=job_id, RequestedJobStatus="Ready")

    assert error_of(excinfo)[:2] == ("JobStatusException", 400)
    assert server.batch.job(job_id).status == "Complete"


def test_job_id_outside_its_pattern_is_a_bad_request(server: S3BatchServer, control: Any) -> None:
    # Long enough for botocore's own length check, so only the server sees the pattern.
    with pytest.raises(control.exceptions.BadRequestException) as excinfo:
        control.describe_job(AccountId=ACCOUNT, JobId="not a job!")

    code, status, message = error_of(excinfo)
    assert (code, status) == ("BadRequestException", 400)
    assert message.startswith("JobId")


def test_reused_token_with_other_parameters_is_an_idempotency_exception(
    server: S3BatchServer, control: Any, s3: Any
) -> None:
    etag = put_inputs(s3, ["a.jpg"])
    first = csv_manifest_job(control, etag, ClientRequestToken="token-0001")
    assert csv_manifest_job(control, etag, ClientRequestToken="token-0001") == first

    with pytest.raises(control.exceptions.IdempotencyException) as excinfo:
        csv_manifest_job(control, etag, ClientRequestToken="token-0001", Priority=99)

    assert error_of(excinfo)[:2] == ("IdempotencyException", 400)
    assert [job.job_id for job in server.batch.jobs()] == [first]


def test_unserved_s3control_operation_is_501_not_implemented(
    server: S3BatchServer, control: Any
) -> None:
    with pytest.raises(ClientError) as excinfo:
        control.get_public_access_block(AccountId=ACCOUNT)

    code, status, message = error_of(excinfo)
    assert (code, status) == ("NotImplemented", 501)
    assert "GetPublicAccessBlock" in message
    assert excinfo.value.response["ResponseMetadata"]["RetryAttempts"] == 0
    assert server.batch.calls == []  # only the eight job operations are recorded


def test_s3control_path_no_operation_has_is_501(server: S3BatchServer) -> None:
    status, headers, body = raw(
        server,
        "GET",
        "/v20180820/no-such-thing",
        headers={"Host": f"{ACCOUNT}.127.0.0.1:{server.port}", "x-amz-account-id": ACCOUNT},
    )

    assert status == 501
    assert headers["content-type"] == "application/xml"
    assert b"<Code>NotImplemented</Code>" in body
    assert b"GET /v20180820/no-such-thing" in body


def test_a_job_runs_on_objects_put_through_the_s3_api(
    server: S3BatchServer, control: Any, s3: Any
) -> None:
    keys = ["2024/beach.jpg", "2024/city night.jpg", "2025/snow+ice.jpg", "2025/ünïcode.jpg"]
    etag = put_inputs(s3, keys)
    job_id = csv_manifest_job(
        control,
        etag,
        ConfirmationRequired=False,
        Operation={"S3PutObjectTagging": {"TagSet": [{"Key": "reviewed", "Value": "yes"}]}},
        Report={
            "Enabled": True,
            "Bucket": "arn:aws:s3:::manifests",
            "Prefix": "reports",
            "Format": "Report_CSV_20180820",
            "ReportScope": "AllTasks",
        },
    )

    assert poll(control, job_id)[-1] == "Complete"
    job = describe(control, job_id)
    assert job["ProgressSummary"]["NumberOfTasksSucceeded"] == len(keys)
    for key in keys:
        tags = s3.get_object_tagging(Bucket="photos", Key=key)["TagSet"]
        assert tags == [{"Key": "reviewed", "Value": "yes"}], key

    listed = s3.list_objects_v2(Bucket="manifests", Prefix=f"reports/job-{job_id}/")
    names = sorted(item["Key"] for item in listed["Contents"])
    assert names[0] == f"reports/job-{job_id}/manifest.json"
    assert len(names) == 2  # manifest.json and one results file (every task succeeded)
    report = json.loads(s3.get_object(Bucket="manifests", Key=names[0])["Body"].read())
    [result] = report["Results"]
    assert (result["Key"], result["TaskExecutionStatus"]) == (names[1], "succeeded")
    results = s3.get_object(Bucket="manifests", Key=result["Key"])
    assert results["ETag"] == f'"{result["MD5Checksum"]}"'
    rows = list(csv.reader(io.StringIO(results["Body"].read().decode())))
    assert sorted((row[0], row[1], row[3], row[4]) for row in rows) == sorted(
        ("photos", quote(key), "succeeded", "200") for key in keys
    )


def test_the_region_of_a_job_comes_from_the_request_signature(
    server: S3BatchServer, s3: Any
) -> None:
    west_control = client_for(server, "s3control", region="us-west-2")
    east_control = client_for(server, "s3control")
    etag = put_inputs(s3, ["a.jpg"])

    job_id = csv_manifest_job(west_control, etag)

    assert describe(west_control, job_id)["JobArn"] == (
        f"arn:aws:s3:us-west-2:{ACCOUNT}:job/{job_id}"
    )
    assert server.batch.job(job_id).region == "us-west-2"
    assert east_control.list_jobs(AccountId=ACCOUNT)["Jobs"] == []
    with pytest.raises(east_control.exceptions.NotFoundException):
        east_control.describe_job(AccountId=ACCOUNT, JobId=job_id)


# --------------------------------------------------------------------------- S3 objects


def test_buckets_are_created_headed_and_listed(server: S3BatchServer, s3: Any) -> None:
    assert s3.list_buckets()["Buckets"] == []
    s3.create_bucket(Bucket="reports")
    s3.create_bucket(Bucket="manifests")

    assert s3.head_bucket(Bucket="reports")["ResponseMetadata"]["HTTPStatusCode"] == 200
    with pytest.raises(ClientError) as excinfo:
        s3.head_bucket(Bucket="missing")
    assert error_of(excinfo)[:2] == ("404", 404)  # HEAD errors have no body

    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["manifests", "reports"]
    assert server.batch.objects.keys("reports") == []


def test_put_and_get_object_with_metadata_type_tags_and_storage_class(
    server: S3BatchServer, s3: Any
) -> None:
    s3.create_bucket(Bucket="inputs")
    put = s3.put_object(
        Bucket="inputs",
        Key="docs/readme.txt",
        Body=b"hello",
        ContentType="text/plain",
        Metadata={"owner": "data-team"},
        Tagging="team=data&stage=raw%20input",
        StorageClass="STANDARD_IA",
    )

    assert put["ETag"] == f'"{hashlib.md5(b"hello").hexdigest()}"'
    got = s3.get_object(Bucket="inputs", Key="docs/readme.txt")
    assert got["Body"].read() == b"hello"
    assert (got["ETag"], got["VersionId"]) == (put["ETag"], put["VersionId"])
    assert (got["ContentType"], got["ContentLength"]) == ("text/plain", 5)
    assert got["Metadata"] == {"owner": "data-team"}
    assert (got["TagCount"], got["StorageClass"]) == (2, "STANDARD_IA")

    info = server.batch.objects.head("inputs", "docs/readme.txt")
    assert dict(info.tags) == {"team": "data", "stage": "raw input"}
    assert (info.storage_class, info.content_type) == ("STANDARD_IA", "text/plain")


def test_every_put_is_a_version_and_older_ones_stay_readable(s3: Any) -> None:
    s3.create_bucket(Bucket="inputs")
    first = s3.put_object(Bucket="inputs", Key="k", Body=b"one")["VersionId"]
    second = s3.put_object(Bucket="inputs", Key="k", Body=b"two")["VersionId"]
    assert first != second

    assert s3.get_object(Bucket="inputs", Key="k")["Body"].read() == b"two"
    older = s3.get_object(Bucket="inputs", Key="k", VersionId=first)
    assert (older["Body"].read(), older["VersionId"]) == (b"one", first)
    assert s3.head_object(Bucket="inputs", Key="k", VersionId=first)["ContentLength"] == 3


def test_head_and_delete_object(server: S3BatchServer, s3: Any) -> None:
    s3.create_bucket(Bucket="inputs")
    put = s3.put_object(Bucket="inputs", Key="k", Body=b"12345", Metadata={"a": "b"})

    head = s3.head_object(Bucket="inputs", Key="k")
    assert (head["ContentLength"], head["ETag"], head["VersionId"]) == (
        5,
        put["ETag"],
        put["VersionId"],
    )
    assert (head["Metadata"], head["AcceptRanges"]) == ({"a": "b"}, "bytes")

    deleted = s3.delete_object(Bucket="inputs", Key="k")
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert server.batch.objects.keys("inputs") == []
    with pytest.raises(ClientError) as excinfo:
        s3.head_object(Bucket="inputs", Key="k")
    assert error_of(excinfo)[:2] == ("404", 404)
    # Deleting a key that is not there is no error, as on S3.
    assert s3.delete_object(Bucket="inputs", Key="k")["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_object_tagging_round_trips(server: S3BatchServer, s3: Any) -> None:
    s3.create_bucket(Bucket="inputs")
    version = s3.put_object(Bucket="inputs", Key="k", Body=b"x", Tagging="a=1")["VersionId"]

    answer = s3.put_object_tagging(
        Bucket="inputs",
        Key="k",
        Tagging={"TagSet": [{"Key": "b", "Value": "2"}, {"Key": "c", "Value": "three 3"}]},
    )
    assert answer["VersionId"] == version
    tagging = s3.get_object_tagging(Bucket="inputs", Key="k")
    assert tagging["TagSet"] == [{"Key": "b", "Value": "2"}, {"Key": "c", "Value": "three 3"}]
    assert tagging["VersionId"] == version
    assert server.batch.objects.get_tags("inputs", "k") == {"b": "2", "c": "three 3"}


KEYS = ["a/1", "a/2", "b", "c/1", "c/2", "d", "e/x/1"]


@pytest.fixture
def listed_bucket(server: S3BatchServer, s3: Any) -> Any:
    s3.create_bucket(Bucket="listing")
    for key in reversed(KEYS):
        s3.put_object(Bucket="listing", Key=key, Body=key.encode())
    return s3


def test_list_objects_v2_with_prefix_and_delimiter(listed_bucket: Any) -> None:
    s3 = listed_bucket
    everything = s3.list_objects_v2(Bucket="listing")
    assert [item["Key"] for item in everything["Contents"]] == KEYS
    assert (everything["KeyCount"], everything["IsTruncated"]) == (len(KEYS), False)
    assert everything["Contents"][0]["Size"] == 3

    under_c = s3.list_objects_v2(Bucket="listing", Prefix="c/")
    assert [item["Key"] for item in under_c["Contents"]] == ["c/1", "c/2"]

    top = s3.list_objects_v2(Bucket="listing", Delimiter="/")
    assert [item["Key"] for item in top["Contents"]] == ["b", "d"]
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["a/", "c/", "e/"]
    assert top["KeyCount"] == 5

    nested = s3.list_objects_v2(Bucket="listing", Prefix="e/", Delimiter="/")
    assert "Contents" not in nested
    assert [p["Prefix"] for p in nested["CommonPrefixes"]] == ["e/x/"]


def test_list_objects_v2_pages_across_common_prefixes(listed_bucket: Any) -> None:
    s3 = listed_bucket
    pages = []
    params: dict[str, Any] = {"Bucket": "listing", "Delimiter": "/", "MaxKeys": 2}
    for _ in range(10):  # a safety cap
        page = s3.list_objects_v2(**params)
        pages.append(
            (
                [item["Key"] for item in page.get("Contents", [])],
                [p["Prefix"] for p in page.get("CommonPrefixes", [])],
                page["KeyCount"],
            )
        )
        if not page["IsTruncated"]:
            assert "NextContinuationToken" not in page
            break
        params["ContinuationToken"] = page["NextContinuationToken"]
    # Keys and prefixes interleave in key order; a prefix is never repeated on a later page.
    assert pages == [(["b"], ["a/"], 2), (["d"], ["c/"], 2), ([], ["e/"], 1)]

    paginator = s3.get_paginator("list_objects_v2")
    flat = [
        item["Key"]
        for page in paginator.paginate(Bucket="listing", PaginationConfig={"PageSize": 3})
        for item in page.get("Contents", [])
    ]
    assert flat == KEYS


def test_list_objects_v2_start_after(listed_bucket: Any) -> None:
    s3 = listed_bucket
    after_b = s3.list_objects_v2(Bucket="listing", StartAfter="b")
    assert [item["Key"] for item in after_b["Contents"]] == ["c/1", "c/2", "d", "e/x/1"]
    assert after_b["StartAfter"] == "b"

    page = s3.list_objects_v2(Bucket="listing", StartAfter="a/1", MaxKeys=2)
    assert [item["Key"] for item in page["Contents"]] == ["a/2", "b"]
    rest = s3.list_objects_v2(
        Bucket="listing", StartAfter="a/1", ContinuationToken=page["NextContinuationToken"]
    )
    assert [item["Key"] for item in rest["Contents"]] == ["c/1", "c/2", "d", "e/x/1"]


def test_keys_with_spaces_unicode_and_plus_round_trip_and_list_url_encoded(
    server: S3BatchServer, s3: Any
) -> None:
    keys = ["dir one/a+b.txt", "dir one/ünï cødé.txt", "plain.txt"]
    s3.create_bucket(Bucket="odd")
    for key in keys:
        s3.put_object(Bucket="odd", Key=key, Body=key.encode())

    assert server.batch.objects.keys("odd") == keys
    for key in keys:
        assert s3.get_object(Bucket="odd", Key=key)["Body"].read() == key.encode()

    # botocore asks for url encoding by itself and decodes what comes back...
    decoded = s3.list_objects_v2(Bucket="odd", Prefix="dir one/")
    assert [item["Key"] for item in decoded["Contents"]] == keys[:2]
    assert decoded["Prefix"] == "dir one/"
    # ...but leaves the encoding alone when the caller asks for it.
    encoded = s3.list_objects_v2(Bucket="odd", EncodingType="url", Delimiter=" ")
    assert encoded["EncodingType"] == "url"
    assert [item["Key"] for item in encoded["Contents"]] == ["plain.txt"]
    assert [p["Prefix"] for p in encoded["CommonPrefixes"]] == ["dir%20"]
    assert encoded["Delimiter"] == "%20"
    every = s3.list_objects_v2(Bucket="odd", EncodingType="url")
    assert [item["Key"] for item in every["Contents"]] == [
        "dir%20one/a%2Bb.txt",
        "dir%20one/%C3%BCn%C3%AF%20c%C3%B8d%C3%A9.txt",
        "plain.txt",
    ]


def test_object_errors_are_s3s(s3: Any) -> None:
    with pytest.raises(s3.exceptions.NoSuchBucket) as excinfo:
        s3.put_object(Bucket="missing", Key="k", Body=b"x")
    assert error_of(excinfo)[:2] == ("NoSuchBucket", 404)

    s3.create_bucket(Bucket="inputs")
    with pytest.raises(s3.exceptions.NoSuchKey) as excinfo:
        s3.get_object(Bucket="inputs", Key="absent")
    assert error_of(excinfo)[:2] == ("NoSuchKey", 404)

    s3.put_object(Bucket="inputs", Key="cold", Body=b"brr", StorageClass="GLACIER")
    assert s3.head_object(Bucket="inputs", Key="cold")["StorageClass"] == "GLACIER"
    with pytest.raises(s3.exceptions.InvalidObjectState) as excinfo:
        s3.get_object(Bucket="inputs", Key="cold")
    code, status, message = error_of(excinfo)
    assert (code, status) == ("InvalidObjectState", 403)
    assert "GLACIER" in message


def test_a_restore_job_makes_an_archived_object_readable(
    manual_server: S3BatchServer,
) -> None:
    control, s3 = client_for(manual_server, "s3control"), client_for(manual_server, "s3")
    s3.create_bucket(Bucket="archive")
    s3.put_object(
        Bucket="archive", Key="2019/ledger.csv", Body=b"old", StorageClass="DEEP_ARCHIVE"
    )
    etag = s3.put_object(Bucket="archive", Key="m.csv", Body=b"archive,2019/ledger.csv\n")["ETag"]
    with pytest.raises(s3.exceptions.InvalidObjectState):
        s3.get_object(Bucket="archive", Key="2019/ledger.csv")

    job_id = csv_manifest_job(
        control,
        etag,
        bucket="archive",
        key="m.csv",
        ConfirmationRequired=False,
        Operation={"S3InitiateRestoreObject": {"ExpirationInDays": 2}},
    )
    manual_server.batch.run(job_id)

    assert describe(control, job_id)["ProgressSummary"]["NumberOfTasksSucceeded"] == 1
    assert s3.get_object(Bucket="archive", Key="2019/ledger.csv")["Body"].read() == b"old"


def test_head_object_of_a_restored_object_says_so(manual_server: S3BatchServer) -> None:
    s3 = client_for(manual_server, "s3")
    objects = manual_server.batch.objects
    objects.put("archive", "a", b"old", storage_class="GLACIER")
    store_of(manual_server.batch).restore("archive", "a", None, 1)

    head = s3.head_object(Bucket="archive", Key="a")

    assert head.get("Restore", "").startswith('ongoing-request="false"')


def test_a_bucket_created_with_object_lock_takes_legal_holds(
    manual_server: S3BatchServer,
) -> None:
    control, s3 = client_for(manual_server, "s3control"), client_for(manual_server, "s3")
    s3.create_bucket(Bucket="locked", ObjectLockEnabledForBucket=True)
    s3.create_bucket(Bucket="plain")
    for bucket in ("locked", "plain"):
        s3.put_object(Bucket=bucket, Key="x", Body=b"1")
        etag = s3.put_object(Bucket=bucket, Key="m.csv", Body=f"{bucket},x\n")["ETag"]
        job_id = csv_manifest_job(
            control,
            etag,
            bucket=bucket,
            key="m.csv",
            ConfirmationRequired=False,
            Operation={"S3PutObjectLegalHold": {"LegalHold": {"Status": "ON"}}},
        )
        manual_server.batch.run(job_id)
        summary = describe(control, job_id)["ProgressSummary"]
        succeeded = (summary["NumberOfTasksSucceeded"], summary["NumberOfTasksFailed"])
        assert succeeded == ((1, 0) if bucket == "locked" else (0, 1)), bucket

    assert manual_server.batch.objects.head("locked", "x").legal_hold == "ON"


@pytest.mark.parametrize(
    ("operation", "params", "what"),
    [
        ("copy_object", {"Key": "copy", "CopySource": "inputs/k"}, "PUT /inputs/copy"),
        ("create_multipart_upload", {"Key": "big"}, "POST /inputs/big?uploads"),
        ("get_bucket_acl", {}, "GET /inputs?acl"),
        ("get_bucket_versioning", {}, "GET /inputs?versioning"),
    ],
)
def test_unsupported_s3_calls_are_501_not_implemented(
    server: S3BatchServer, s3: Any, operation: str, params: dict[str, Any], what: str
) -> None:
    s3.create_bucket(Bucket="inputs")
    s3.put_object(Bucket="inputs", Key="k", Body=b"x")

    with pytest.raises(ClientError) as excinfo:
        getattr(s3, operation)(Bucket="inputs", **params)

    code, status, message = error_of(excinfo)
    assert (code, status) == ("NotImplemented", 501)
    assert f"does not serve {what}" in message
    assert server.batch.objects.keys("inputs") == ["k"]


def test_a_large_object_round_trips_byte_identical(server: S3BatchServer, s3: Any) -> None:
    body = random.Random(5).randbytes(3 * 1024 * 1024 + 17)
    s3.create_bucket(Bucket="big")

    put = s3.put_object(Bucket="big", Key="blob.bin", Body=body)

    assert put["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    got = s3.get_object(Bucket="big", Key="blob.bin")
    assert got["ContentLength"] == len(body)
    assert got["Body"].read() == body
    assert server.batch.objects.head("big", "blob.bin").size == len(body)


def test_a_transfer_encoding_chunked_body_is_decoded(server: S3BatchServer) -> None:
    server.batch.objects.create_bucket("inputs")
    data = b"chunked body " * 5000

    status, headers, _ = raw(
        server,
        "PUT",
        "/inputs/chunked.txt",
        body=http_chunked(data, 4096),
        headers={"Transfer-Encoding": "chunked"},
    )

    assert status == 200
    assert headers["etag"] == f'"{hashlib.md5(data).hexdigest()}"'
    assert server.batch.objects.get("inputs", "chunked.txt") == data


@pytest.mark.parametrize("transfer", ["content-length", "chunked"])
def test_an_aws_chunked_body_with_signatures_and_trailer_is_decoded(
    server: S3BatchServer, transfer: str
) -> None:
    server.batch.objects.create_bucket("inputs")
    data = random.Random(9).randbytes(200_000)
    encoded = aws_chunked(data, 65536)
    headers = {
        "Content-Encoding": "aws-chunked",
        "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "x-amz-decoded-content-length": str(len(data)),
        "x-amz-trailer": "x-amz-checksum-crc32",
    }
    if transfer == "chunked":
        headers["Transfer-Encoding"] = "chunked"
        encoded = http_chunked(encoded, 10_000)

    status, answer, _ = raw(server, "PUT", "/inputs/signed.bin", body=encoded, headers=headers)

    assert status == 200
    assert answer["etag"] == f'"{hashlib.md5(data).hexdigest()}"'
    assert server.batch.objects.get("inputs", "signed.bin") == data


# --------------------------------------------------------------------------- control


def test_state_lists_settings_jobs_buckets_and_calls(
    server: S3BatchServer, control: Any, s3: Any
) -> None:
    job_id = csv_manifest_job(control, put_inputs(s3, ["a.jpg"]))

    status, content_type, state = control_endpoint(server, "GET", "state")

    assert (status, content_type) == (200, "application/json")
    assert state["settings"]["progression"] == "poll"
    [job] = state["jobs"]
    assert (job["job_id"], job["status"], job["status_history"]) == (job_id, "New", ["New"])
    assert job["creation_time"].endswith("Z")
    assert state["buckets"] == {"manifests": ["manifest.csv"], "photos": ["a.jpg"]}
    assert state["calls"] == [{"operation": "CreateJob", "http_status": 200, "error": None}]


def test_reset_empties_jobs_buckets_and_calls(
    server: S3BatchServer, control: Any, s3: Any
) -> None:
    csv_manifest_job(control, put_inputs(s3, ["a.jpg"]))

    assert control_endpoint(server, "POST", "reset")[:2] == (200, "application/json")

    state = control_endpoint(server, "GET", "state")[2]
    assert (state["jobs"], state["buckets"], state["calls"]) == ([], {}, [])
    assert server.batch.jobs() == []
    assert s3.list_buckets()["Buckets"] == []
    assert control.list_jobs(AccountId=ACCOUNT)["Jobs"] == []


def test_run_completes_one_job_or_all_in_manual_progression(manual_server: S3BatchServer) -> None:
    server = manual_server
    control, s3 = client_for(server, "s3control"), client_for(server, "s3")
    etag = put_inputs(s3, ["a.jpg", "b.jpg"])
    first, second = (csv_manifest_job(control, etag, ConfirmationRequired=False) for _ in range(2))
    assert describe(control, first)["Status"] == "New"  # manual: describing never steps

    status, _, state = control_endpoint(server, "POST", f"run?job_id={first}")

    assert status == 200
    assert {job["job_id"]: job["status"] for job in state["jobs"]} == {
        first: "Complete",
        second: "New",
    }
    assert describe(control, second)["Status"] == "New"

    status, _, state = control_endpoint(server, "POST", "run")

    assert status == 200
    assert [job["status"] for job in state["jobs"]] == ["Complete", "Complete"]
    assert describe(control, second)["ProgressSummary"]["NumberOfTasksSucceeded"] == 2
    assert s3.get_object_tagging(Bucket="photos", Key="b.jpg")["TagSet"] == [
        {"Key": "k", "Value": "v"}
    ]


def test_step_advances_a_job_one_status(manual_server: S3BatchServer) -> None:
    server = manual_server
    control = client_for(server, "s3control")
    etag = server.batch.objects.put("manifests", "manifest.csv", "photos,a.jpg\n")
    server.batch.objects.put("photos", "a.jpg", b"x")
    job_id = csv_manifest_job(control, etag)  # confirmation required

    steps = [control_endpoint(server, "POST", f"step?job_id={job_id}") for _ in range(3)]

    assert [(status, answer) for status, _, answer in steps] == [
        (200, {"job_id": job_id, "status": "Preparing"}),
        (200, {"job_id": job_id, "status": "Suspended"}),
        (200, {"job_id": job_id, "status": "Suspended"}),  # at rest: unchanged
    ]
    assert describe(control, job_id)["Status"] == "Suspended"


@pytest.mark.parametrize(
    ("method", "name", "allowed"),
    [
        ("GET", "run", "POST"),
        ("GET", "reset", "POST"),
        ("GET", "step", "POST"),
        ("POST", "state", "GET"),
    ],
)
def test_a_control_endpoint_answers_its_one_method(
    server: S3BatchServer, control: Any, s3: Any, method: str, name: str, allowed: str
) -> None:
    csv_manifest_job(control, put_inputs(s3, ["a.jpg"]))

    status, content_type, answer = control_endpoint(server, method, name)

    assert (status, content_type) == (405, "application/json")
    assert answer["error"] == f"/_s3batch/{name} answers {allowed} only, not {method}"
    assert len(server.batch.jobs()) == 1  # nothing was reset


@pytest.mark.parametrize(
    ("method", "name", "error"),
    [
        ("GET", "nothing-here", "unknown control endpoint GET /_s3batch/nothing-here"),
        ("POST", "step", "unknown control endpoint POST /_s3batch/step"),
        ("POST", "step?job_id=no-such-job", "no job with id 'no-such-job'"),
        ("POST", "run?job_id=no-such-job", "no job with id 'no-such-job'"),
    ],
)
def test_unknown_control_endpoint_or_job_is_404_json(
    server: S3BatchServer, method: str, name: str, error: str
) -> None:
    status, content_type, answer = control_endpoint(server, method, name)

    assert (status, content_type) == (404, "application/json")
    assert answer["error"] == error
    if error.startswith("unknown"):
        assert "POST /_s3batch/step?job_id=ID" in answer["endpoints"]


# --------------------------------------------------------------------------- addressing


def test_an_absolute_form_target_is_answered_as_a_proxy_request(
    server: S3BatchServer, control: Any, s3: Any
) -> None:
    job_id = csv_manifest_job(control, put_inputs(s3, ["a.jpg"]))
    target = f"http://{ACCOUNT}.127.0.0.1:{server.port}/v20180820/jobs/{job_id}"

    status, headers, body = raw(server, "GET", target, headers={"x-amz-account-id": ACCOUNT})

    assert status == 200
    assert headers["content-type"] == "application/xml"
    assert f"<JobId>{job_id}</JobId>".encode() in body
    assert server.batch.calls[-1].operation == "DescribeJob"


def test_an_origin_form_target_takes_the_host_from_the_host_header(
    server: S3BatchServer, control: Any, s3: Any
) -> None:
    job_id = csv_manifest_job(control, put_inputs(s3, ["a.jpg"]))

    status, _, body = raw(
        server,
        "GET",
        "/v20180820/jobs",
        headers={"Host": f"{ACCOUNT}.127.0.0.1:{server.port}", "x-amz-account-id": ACCOUNT},
    )

    assert status == 200
    assert f"<JobId>{job_id}</JobId>".encode() in body
    assert server.batch.calls[-1].operation == "ListJobs"


def test_s3_requests_work_in_absolute_form_and_path_style(server: S3BatchServer) -> None:
    server.batch.objects.put("inputs", "dir/a b.txt", b"path style")

    status, _, body = raw(server, "GET", f"{server.url}/inputs/dir/a%20b.txt")
    assert (status, body) == (200, b"path style")
    status, _, body = raw(server, "GET", "/inputs/dir/a%20b.txt")
    assert (status, body) == (200, b"path style")


def test_a_virtual_hosted_request_addresses_the_bucket_in_the_host(
    server: S3BatchServer,
) -> None:
    host = {"Host": f"mybucket.localhost:{server.port}"}

    assert raw(server, "PUT", "/", headers=host)[0] == 200
    assert raw(server, "PUT", "/notes/key.txt", body=b"virtual", headers=host)[0] == 200
    status, _, body = raw(server, "GET", "/notes/key.txt", headers=host)

    assert (status, body) == (200, b"virtual")
    assert server.batch.objects.keys("mybucket") == ["notes/key.txt"]
    absolute = f"http://mybucket.localhost:{server.port}/notes/key.txt"
    assert raw(server, "GET", absolute)[2] == b"virtual"
    assert raw(server, "GET", "/mybucket/notes/key.txt")[2] == b"virtual"  # path style too


def test_a_virtual_hosted_key_keeps_its_leading_slash(server: S3BatchServer) -> None:
    server.batch.objects.create_bucket("mybucket")
    host = {"Host": f"mybucket.localhost:{server.port}"}

    assert raw(server, "PUT", "//lead", body=b"x", headers=host)[0] == 200

    assert server.batch.objects.keys("mybucket") == ["/lead"]


def test_one_connection_carries_many_requests(server: S3BatchServer) -> None:
    server.batch.objects.put("inputs", "k", b"kept alive")
    conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
    try:
        conn.connect()
        sock = conn.sock
        for target in ["/inputs/k", "/_s3batch/state", "/inputs/missing", "/inputs/k"]:
            conn.request("GET", target)
            response = conn.getresponse()
            response.read()
            assert not response.will_close
            assert conn.sock is sock, f"reconnected before GET {target}"
        conn.request("HEAD", "/inputs/k")
        head = conn.getresponse()
        assert (head.read(), head.getheader("Content-Length")) == (b"", "10")
        conn.request("GET", "/inputs/k")
        assert conn.getresponse().read() == b"kept alive"
        assert conn.sock is sock
    finally:
        conn.close()


# --------------------------------------------------------------------------- threads


def test_eight_threads_with_their_own_clients_share_one_server(
    server: S3BatchServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    etag = server.batch.objects.put("manifests", "manifest.csv", "photos,a.jpg\n")
    server.batch.objects.put("photos", "a.jpg", b"x")
    connections: list[Any] = []
    lock = threading.Lock()
    connect = socket.socket.connect  # conftest's loopback guard

    def counting_connect(sock: socket.socket, address: Any) -> None:
        if isinstance(address, tuple) and address[1] == server.port:
            with lock:
                connections.append(address)
        connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", counting_connect)
    start = threading.Barrier(8)

    def worker(n: int) -> list[tuple[str, str]]:
        control = client_for(server, "s3control", boto3.session.Session())
        start.wait(timeout=60)  # a safety net: all eight go at once
        seen = []
        for _ in range(3):
            job_id = csv_manifest_job(
                control, etag, ConfirmationRequired=False, Description=f"thread {n}"
            )
            seen.append((job_id, describe(control, job_id)["Description"]))
        return seen

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(worker, range(8)))

    created = [job_id for seen in results for job_id, _ in seen]
    assert len(set(created)) == 24
    for n, seen in enumerate(results):
        assert {description for _, description in seen} == {f"thread {n}"}
    assert sorted(job.job_id for job in server.batch.jobs()) == sorted(created)
    calls = server.batch.calls
    assert len(calls) == 48
    assert all(call.http_status == 200 for call in calls)
    # Each client opened one connection and kept it alive for its six calls.
    assert len(connections) == 8


# --------------------------------------------------------------------------- known gaps


def test_list_buckets_gives_the_time_each_bucket_was_created(s3: Any) -> None:
    created = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)
    with time_machine.travel(created, tick=False) as traveller:
        s3.create_bucket(Bucket="inputs")
        traveller.shift(dt.timedelta(hours=1))

        [bucket] = s3.list_buckets()["Buckets"]

    assert bucket["CreationDate"] == created


def test_a_stopped_server_leaves_no_temporary_file_open() -> None:
    with S3BatchServer(mode="embedded") as server:
        server.batch.objects.put("big", "blob.bin", bytes(2 * 1024 * 1024))

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del server
        gc.collect()

    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"<Tagging><TagSet>", "MalformedXML"),
        (
            b'<?xml version="1.0"?><!DOCTYPE t [<!ENTITY a "aaaa">]>'
            b"<Tagging><TagSet><Tag><Key>k</Key><Value>&a;</Value></Tag></TagSet></Tagging>",
            "MalformedXML",
        ),
        (
            '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE t [<!ENTITY a "x">]>'
            "<Tagging><TagSet><Tag><Key>k</Key><Value>&a;</Value></Tag></TagSet></Tagging>".encode(
                "utf-16"
            ),
            "MalformedXML",
        ),
        (b"<Tagging>" + b" " * (3 << 20) + b"</Tagging>", "EntityTooLarge"),
    ],
    ids=["broken", "dtd", "dtd-in-utf16", "over-2-MiB"],
)
def test_a_hostile_tagging_body_changes_nothing(
    server: S3BatchServer, body: bytes, code: str
) -> None:
    server.batch.objects.put("hostile", "k", b"x", tags={"kept": "yes"})
    status, _, answer = raw(
        server, "PUT", "/hostile/k?tagging", body, {"Content-Type": "application/xml"}
    )
    assert (status, f"<Code>{code}</Code>" in answer.decode()) == (400, True)
    assert server.batch.objects.get_tags("hostile", "k") == {"kept": "yes"}
