"""The Alibaba Cloud OSS batch-job dialect on the server (issue 13, ``oss-batch.md``).

Raw HTTP (``http.client``) with OSS authorization of both signature versions for the
five calls and their errors; the founding document's UpdateJobStatus byte for byte;
jobs run to Complete on the one engine, their effects read back through the real
Python SDKs ``oss2`` and ``alibabacloud-oss-v2``; isolation between accounts, regions
and dialects; the 14-day confirmation expiry under time-machine and freezegun.
"""

from __future__ import annotations

import base64
import datetime
import gzip
import http.client
import json
import re
import socket
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import boto3
import pytest
import time_machine
from botocore.config import Config
from freezegun import freeze_time

import s3batch_mock._backend as backend_module
from s3batch_mock import S3BatchServer
from s3batch_mock.server._moto import moto_server_available
from s3batch_mock.wire._oss import OssError, identity, is_job_call

pytestmark = pytest.mark.slow

oss2 = pytest.importorskip("oss2")
oss_v2 = pytest.importorskip("alibabacloud_oss_v2")

ACCOUNT = "LTAI5tAccountOne"
OTHER_ACCOUNT = "LTAI5tAccountTwo"
HANGZHOU = "oss-cn-hangzhou.aliyuncs.com"
BEIJING = "oss-cn-beijing.aliyuncs.com"
ROLE = "acs:ram::1234567890:role/AliyunOSSBatchOperationsRole"
JOB_ID = re.compile(r"[A-Za-z0-9]{43}=")
#: The founding document (UpdateJobStatus's reference page).
FOUNDING_ID = "MzRjZGU2NGQ3YTY5NGRhMTkxZmZhYzY5OTM5YTcxYWU="
FOUNDING_AK = "LTAI4Fw2Nb3o4f5a3a1f****"
FOUNDING_REQUEST = (
    b"POST /?batchJobStatus&batchJobId=MzRjZGU2NGQ3YTY5NGRhMTkxZmZhYzY5OTM5YTcxYWU=&"
    b"requestedJobStatus=Cancelled&statusUpdateReason=User%20requested%20cancellation "
    b"HTTP/1.1\r\n"
    b"Host: oss-cn-hangzhou.aliyuncs.com\r\n"
    b"Authorization: OSS LTAI4Fw2Nb3o4f5a3a1f****:2s98lj9n796c9kdc6b5f4l5b****\r\n"
    b"\r\n"
)
FOUNDING_ANSWER = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b"<UpdateJobStatusResult><JobId>MzRjZGU2NGQ3YTY5NGRhMTkxZmZhYzY5OTM5YTcxYWU=</JobId>"
    b"<Status>Cancelling</Status><StatusUpdateReason>User requested cancellation"
    b"</StatusUpdateReason></UpdateJobStatusResult>"
)


# ---------------------------------------------------------------------- helpers


def authorization(version: str, account: str = ACCOUNT, region: str = "cn-hangzhou") -> str:
    if version == "v1":
        return f"OSS {account}:c2lnbmF0dXJlLW5vdC1jaGVja2Vk"
    return (
        f"OSS4-HMAC-SHA256 Credential={account}/20250611/{region}/oss/aliyun_v4_request,"
        "AdditionalHeaders=host,Signature=0123456789abcdef"
    )


class Answer:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def xml(self) -> ET.Element:
        return ET.fromstring(self.body)

    def text(self, path: str) -> str | None:
        return self.xml.findtext(path)


def call(
    server: S3BatchServer,
    method: str,
    target: str,
    body: bytes = b"",
    *,
    auth: str | None = "v1",
    account: str = ACCOUNT,
    host: str = HANGZHOU,
    scope_region: str = "cn-hangzhou",
) -> Answer:
    connection = http.client.HTTPConnection(server.host, server.port, timeout=30)
    try:
        connection.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        connection.putheader("Host", host)
        if auth is not None:
            connection.putheader("Authorization", authorization(auth, account, scope_region))
        if body or method == "POST":
            connection.putheader("Content-Type", "application/xml")
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        headers = {name.lower(): value for name, value in response.getheaders()}
        return Answer(response.status, headers, response.read())
    finally:
        connection.close()


def create_body(
    operation: str = "<PutObjectTagging><TagSet><Tag><Key>Environment</Key>"
    "<Value>Production</Value></Tag></TagSet></PutObjectTagging>",
    *,
    source: str | None = None,
    confirmation: str | None = "false",
    report: str = "<Report><Bucket>reports</Bucket><Enabled>true</Enabled>"
    "<Prefix>batch-reports</Prefix><ReportScope>AllTasks</ReportScope></Report>",
    priority: str = "<Priority>10</Priority>",
    extra: str = "",
) -> bytes:
    if source is None:
        source = (
            "<KeyPrefixManifestGenerator><SourceBucket>data</SourceBucket>"
            "<Prefix>photos/</Prefix></KeyPrefixManifestGenerator>"
        )
    confirm = (
        f"<ConfirmationRequired>{confirmation}</ConfirmationRequired>" if confirmation else ""
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<CreateJobRequest>'
        f"{confirm}<Operation>{operation}</Operation>{report}{source}"
        f"<Description>an OSS job</Description>{priority}<RoleArn>{ROLE}</RoleArn>{extra}"
        "</CreateJobRequest>"
    ).encode()


def csv_manifest(etag: str, bucket: str = "data", key: str = "manifest.csv") -> str:
    return (
        f"<Manifest><Location><ETag>{etag}</ETag><Bucket>{bucket}</Bucket>"
        f"<Object>{key}</Object></Location><Spec><Fields>Bucket,Key</Fields>"
        "<Format>OSS_BatchOperations_CSV_20250611</Format></Spec></Manifest>"
    )


def create(server: S3BatchServer, body: bytes | None = None, **kwargs: Any) -> str:
    answer = call(server, "POST", "/?batchJob", body or create_body(), **kwargs)
    assert answer.status == 200, answer.body
    job_id = answer.text("JobId")
    assert job_id is not None
    return job_id


def describe(server: S3BatchServer, job_id: str, **kwargs: Any) -> ET.Element:
    answer = call(server, "GET", f"/?batchJob&batchJobId={job_id}", **kwargs)
    assert answer.status == 200, answer.body
    job = answer.xml.find("Job")
    assert job is not None
    return job


def assert_oss_error(answer: Answer, status: int, code: str) -> ET.Element:
    assert answer.status == status, answer.body
    root = answer.xml
    assert root.tag == "Error"
    assert root.findtext("Code") == code
    assert root.findtext("Message")
    assert root.findtext("HostId")
    assert root.findtext("EC")
    assert root.findtext("RequestId") == answer.headers["x-oss-request-id"]
    assert answer.headers["x-oss-ec"] == root.findtext("EC")
    assert answer.headers["content-type"] == "application/xml"
    return root


def seed(server: S3BatchServer, keys: tuple[str, ...] = ("photos/a.jpg", "photos/b.jpg")) -> None:
    objects = server.batch.objects
    objects.create_bucket("reports")
    for key in keys:
        objects.put("data", key, f"body of {key}".encode(), tags={"Owner": "alice"})
    objects.put("data", "other/c.jpg", b"not under the prefix")


@pytest.fixture
def server() -> Iterator[S3BatchServer]:
    with S3BatchServer(progression="manual", mode="embedded") as running:
        seed(running)
        yield running


@pytest.fixture
def polled() -> Iterator[S3BatchServer]:
    with S3BatchServer(mode="embedded") as running:
        seed(running)
        yield running


def oss2_bucket(server: S3BatchServer, name: str, account: str = ACCOUNT) -> Any:
    return oss2.Bucket(oss2.Auth(account, "secret"), server.url, name)


def oss_v2_client(server: S3BatchServer, account: str = ACCOUNT) -> Any:
    config = oss_v2.config.load_default()
    config.credentials_provider = oss_v2.credentials.StaticCredentialsProvider(account, "sk")
    config.region = "cn-hangzhou"
    config.endpoint = server.url
    config.use_path_style = True
    return oss_v2.Client(config)


# ---------------------------------------------------------------------- the founding document


def test_the_founding_document_byte_for_byte(monkeypatch) -> None:
    """UpdateJobStatus's reference example, sent as written, answers exactly as written
    (the job is running, so it is Cancelling)."""
    # The example's job ID is base64 of this UUID's hex: the mock makes its IDs so.
    monkeypatch.setattr(backend_module, "_new_job_id", lambda dialect: FOUNDING_ID)
    assert base64.b64decode(FOUNDING_ID) == b"34cde64d7a694da191ffac69939a71ae"
    with S3BatchServer(progression="manual", tasks_per_step=1, mode="embedded") as server:
        seed(server)
        job_id = create(server, create_body(), auth="v1", account=FOUNDING_AK)
        assert job_id == FOUNDING_ID
        while server.batch.job(job_id).status != "Active":
            server.batch.step(job_id)
        server.batch.step(job_id)  # one of its two tasks has run: still Active
        assert server.batch.job(job_id).status == "Active"
        status_line, headers, body = send_raw(server, FOUNDING_REQUEST)
        assert status_line == b"HTTP/1.1 200 OK\r\n"
        assert body == FOUNDING_ANSWER
        assert headers["x-oss-request-id"]
        assert headers["content-type"] == "application/xml"
        assert server.batch.job(job_id).status == "Cancelling"
        server.batch.run(job_id)
        assert server.batch.job(job_id).status == "Cancelled"


def send_raw(server: S3BatchServer, request: bytes) -> tuple[bytes, dict[str, str], bytes]:
    """The request's bytes as given; the answer's status line, headers and body."""
    with socket.create_connection((server.host, server.port), timeout=30) as raw:
        raw.sendall(request)
        reader = raw.makefile("rb")
        status_line = reader.readline()
        headers: dict[str, str] = {}
        while (line := reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            headers[name.strip().lower()] = value.strip()
        body = reader.read(int(headers["content-length"]))
    return status_line, headers, body


# ---------------------------------------------------------------------- the five calls


@pytest.mark.parametrize("auth", ["v1", "v4"])
def test_each_call_through_raw_http(server: S3BatchServer, auth: str) -> None:
    job_id = create(server, auth=auth)
    assert JOB_ID.fullmatch(job_id)
    assert base64.b64decode(job_id).decode().isalnum()

    job = describe(server, job_id, auth=auth)
    assert job.findtext("JobId") == job_id
    assert job.findtext("Status") == "New"
    assert job.findtext("ConfirmationRequired") == "false"
    assert int(job.findtext("CreationTime") or "0") > 1_700_000_000  # Unix seconds
    assert job.find("FailureReasons/JobFailure") is not None  # present even on success
    assert job.findtext("ProgressSummary/TotalNumberOfTasks") == "-1"  # not counted yet
    assert job.findtext("Operation/PutObjectTagging/TagSet/Tag/Key") == "Environment"
    assert job.findtext("KeyPrefixManifestGenerator/SourceBucket") == "data"
    assert job.findtext("KeyPrefixManifestGenerator/Prefix") == "photos/"
    assert job.findtext("Report/Bucket") == "reports"
    assert job.findtext("RoleArn") == ROLE
    assert job.findtext("Description") == "an OSS job"
    assert job.find("TerminationDate") is None

    listed = call(server, "GET", "/?batchJob", auth=auth)
    assert listed.status == 200
    (entry,) = listed.xml.findall("Jobs/JobListDescriptor")
    assert entry.findtext("JobId") == job_id
    assert entry.findtext("Operation") == "PutObjectTagging"
    assert entry.findtext("ProgressSummary/NumberOfTasksSucceeded") == "-1"
    assert listed.xml.find("NextToken") is None

    priority = call(
        server, "POST", f"/?batchJobPriority&batchJobId={job_id}&targetPriority=42", auth=auth
    )
    assert priority.status == 200
    assert priority.text("JobId") == job_id
    assert priority.text("Priority") == "42"
    assert priority.xml.tag == "UpdateJobPriorityResult"

    status = call(
        server,
        "POST",
        f"/?batchJobStatus&batchJobId={job_id}&requestedJobStatus=Cancelled",
        auth=auth,
    )
    assert status.status == 200
    assert status.xml.tag == "UpdateJobStatusResult"
    assert status.text("Status") == "Cancelled"  # not yet running: at once
    assert status.xml.find("StatusUpdateReason") is None
    for answer in (listed, priority, status):
        assert answer.headers["x-oss-request-id"]
        assert answer.headers["content-type"] == "application/xml"
        assert answer.body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<')
        assert b"xmlns" not in answer.body


def test_absolute_form_and_any_host(server: S3BatchServer) -> None:
    job_id = create(server)
    absolute = f"http://{HANGZHOU}/?batchJob&batchJobId={job_id}"
    answer = call(server, "GET", absolute, host=HANGZHOU)
    assert answer.status == 200
    # Any Host: the region then comes from the V4 scope, else cn-hangzhou.
    local = call(server, "GET", f"/?batchJob&batchJobId={job_id}", host="127.0.0.1")
    assert local.status == 200
    internal = call(
        server, "GET", "/?batchJob", host="oss-cn-hangzhou-internal.aliyuncs.com", auth="v1"
    )
    assert [e.findtext("JobId") for e in internal.xml.iter("JobListDescriptor")] == [job_id]


def test_a_job_runs_to_complete_and_its_effects_read_back(polled: S3BatchServer) -> None:
    job_id = create(polled)
    for _ in range(20):
        if describe(polled, job_id).findtext("Status") == "Complete":
            break
    job = describe(polled, job_id)
    assert job.findtext("Status") == "Complete"
    assert job.findtext("ProgressSummary/TotalNumberOfTasks") == "2"
    assert job.findtext("ProgressSummary/NumberOfTasksSucceeded") == "2"
    assert job.findtext("ProgressSummary/NumberOfTasksFailed") == "0"
    assert int(job.findtext("TerminationDate") or "0") >= int(job.findtext("CreationTime") or "")
    failure = job.find("FailureReasons/JobFailure")
    assert failure is not None
    assert not failure.findtext("FailureCode")
    assert not failure.findtext("FailureReason")

    bucket = oss2_bucket(polled, "data")
    assert bucket.get_object_tagging("photos/a.jpg").tag_set.tagging_rule == {
        "Environment": "Production"  # PutObjectTagging replaces
    }
    assert bucket.get_object_tagging("other/c.jpg").tag_set.tagging_rule == {}
    client = oss_v2_client(polled)
    tags = client.get_object_tagging(
        oss_v2.GetObjectTaggingRequest(bucket="data", key="photos/b.jpg")
    )
    assert [(t.key, t.value) for t in tags.tag_set.tags] == [("Environment", "Production")]

    # The completion report, read through both SDKs.
    reports = oss2_bucket(polled, "reports")
    keys = [o.key for o in oss2.ObjectIterator(reports, prefix="batch-reports/")]
    manifest_key = f"batch-reports/job-{job_id}/manifest.json"
    assert manifest_key in keys
    manifest = json.loads(reports.get_object(manifest_key).read())
    (result,) = manifest["Results"]
    assert result["TaskExecutionStatus"] == "succeeded"
    rows = (
        client.get_object(oss_v2.GetObjectRequest(bucket="reports", key=result["Key"]))
        .body.read()
        .decode()
    )
    assert sorted(line.split(",")[1] for line in rows.splitlines()) == [
        "photos/a.jpg",
        "photos/b.jpg",
    ]
    assert all(",succeeded,200," in line for line in rows.splitlines())


def test_add_object_tagging_merges(polled: S3BatchServer) -> None:
    body = create_body(
        "<AddObjectTagging><TagSet><Tag><Key>Stage</Key><Value>done</Value></Tag>"
        "</TagSet></AddObjectTagging>"
    )
    job_id = create(polled, body)
    polled.batch.run(job_id)
    assert polled.batch.job(job_id).status == "Complete"
    assert polled.batch.job(job_id).operation == "AddObjectTagging"
    bucket = oss2_bucket(polled, "data")
    assert bucket.get_object_tagging("photos/a.jpg").tag_set.tagging_rule == {
        "Owner": "alice",
        "Stage": "done",
    }
    entry = call(polled, "GET", "/?batchJob").xml.find("Jobs/JobListDescriptor")
    assert entry is not None
    assert entry.findtext("Operation") == "AddObjectTagging"


def test_delete_tagging_and_acl_over_a_csv_manifest(polled: S3BatchServer) -> None:
    client = oss_v2_client(polled)
    manifest = b"data,photos/a.jpg\ndata,photos%2Fb.jpg\n"
    put = client.put_object(
        oss_v2.PutObjectRequest(bucket="data", key="manifest.csv", body=manifest)
    )
    etag = put.etag.strip('"')
    assert etag == etag.upper()  # OSS writes ETags in upper case; compared case-insensitively
    deleting = create(
        polled,
        create_body("<DeleteObjectTagging></DeleteObjectTagging>", source=csv_manifest(etag)),
    )
    acl = create(
        polled,
        create_body(
            "<PutObjectAcl><ObjectAcl>public-read</ObjectAcl></PutObjectAcl>",
            source=csv_manifest(etag),
        ),
    )
    polled.batch.run()
    assert polled.batch.job(deleting).status == "Complete"
    assert polled.batch.job(acl).status == "Complete"
    bucket = oss2_bucket(polled, "data")
    assert bucket.get_object_tagging("photos/b.jpg").tag_set.tagging_rule == {}
    assert bucket.get_object_acl("photos/a.jpg").acl == "public-read"
    assert bucket.get_object_acl("other/c.jpg").acl == "default"
    job = describe(polled, acl)
    assert job.findtext("Manifest/Location/ETag") == etag
    assert job.findtext("Manifest/Spec/Fields") == "Bucket,Key"
    assert job.findtext("Manifest/Spec/Format") == "OSS_BatchOperations_CSV_20250611"


def test_restore_object_on_archive_objects(polled: S3BatchServer) -> None:
    bucket = oss2_bucket(polled, "cold")
    bucket.create_bucket()
    bucket.put_object("a.bin", b"archived", headers={"x-oss-storage-class": "Archive"})
    with pytest.raises(oss2.exceptions.ServerError) as refused:
        bucket.get_object("a.bin")
    assert refused.value.status == 403
    body = create_body(
        "<RestoreObject><Days>3</Days><Tier>Bulk</Tier></RestoreObject>",
        source="<KeyPrefixManifestGenerator><SourceBucket>cold</SourceBucket>"
        "</KeyPrefixManifestGenerator>",
    )
    job_id = create(polled, body)
    polled.batch.run(job_id)
    assert polled.batch.job(job_id).status == "Complete"
    head = bucket.head_object("a.bin")
    assert head.headers["x-oss-storage-class"] == "Archive"
    assert 'ongoing-request="false"' in head.headers["x-oss-restore"]
    assert bucket.get_object("a.bin").read() == b"archived"
    job = describe(polled, job_id)
    assert job.findtext("Operation/RestoreObject/Days") == "3"
    assert job.findtext("Operation/RestoreObject/Tier") == "Bulk"


def test_inventory_manifest(polled: S3BatchServer) -> None:
    data = gzip.compress(b'"data","photos/a.jpg"\n"data","photos/b.jpg"\n')
    objects = polled.batch.objects
    objects.put("inventory", "data/1.csv.gz", data)
    document = {
        "sourceBucket": "data",
        "destinationBucket": "inventory",
        "fileFormat": "CSV",
        "fileSchema": "Bucket, Key",
        "files": [{"key": "data/1.csv.gz", "size": len(data), "MD5checksum": "x"}],
    }
    etag = objects.put("inventory", "manifest.json", json.dumps(document))
    source = (
        f"<Manifest><Location><ETag>{etag.upper()}</ETag><Bucket>inventory</Bucket>"
        "<Object>manifest.json</Object></Location><Spec>"
        "<Format>OSS_InventoryReport_CSV_20250611</Format></Spec></Manifest>"
    )
    job_id = create(polled, create_body(source=source))
    polled.batch.run(job_id)
    assert polled.batch.job(job_id).succeeded_tasks == 2


def test_an_empty_prefix_is_a_job_of_no_tasks(polled: S3BatchServer) -> None:
    """As OSS's own ListJobs example shows: Complete, 0 of 0 tasks."""
    body = create_body(
        "<PutObjectAcl><ObjectAcl>private</ObjectAcl></PutObjectAcl>",
        source="<KeyPrefixManifestGenerator><SourceBucket>data</SourceBucket>"
        "<Prefix>batch-manifests/</Prefix></KeyPrefixManifestGenerator>",
    )
    job_id = create(polled, body)
    polled.batch.run(job_id)
    job = describe(polled, job_id)
    assert job.findtext("Status") == "Complete"
    assert job.findtext("ProgressSummary/TotalNumberOfTasks") == "0"


def test_a_manifest_failure_shows_its_reason_and_uncounted_tasks(polled: S3BatchServer) -> None:
    job_id = create(polled, create_body(source=csv_manifest("0" * 32, key="missing.csv")))
    polled.batch.run(job_id)
    job = describe(polled, job_id)
    assert job.findtext("Status") == "Failed"
    assert job.findtext("FailureReasons/JobFailure/FailureCode") == "NoSuchKey"
    assert job.findtext("ProgressSummary/TotalNumberOfTasks") == "-1"


# ---------------------------------------------------------------------- requested statuses


def test_ready_confirms_suspended_and_preparing_jobs(server: S3BatchServer) -> None:
    suspended = create(server, create_body(confirmation="true"))
    early = create(server, create_body(confirmation="true"))
    server.batch.step(suspended)
    server.batch.step(suspended)
    assert server.batch.job(suspended).status == "Suspended"
    server.batch.step(early)
    assert server.batch.job(early).status == "Preparing"
    for job_id, answered in ((suspended, "Ready"), (early, "Preparing")):
        answer = call(
            server,
            "POST",
            f"/?batchJobStatus&batchJobId={job_id}&requestedJobStatus=Ready&statusUpdateReason=go",
        )
        assert answer.status == 200, answer.body
        assert answer.text("Status") == answered
        assert answer.text("StatusUpdateReason") == "go"
    server.batch.step(early)
    assert server.batch.job(early).status == "Ready"  # no stop at Suspended
    server.batch.run()
    assert server.batch.job(suspended).status == "Complete"
    assert server.batch.job(early).status == "Complete"
    # Ready from anything else, Cancelled from an ended job: refused, nothing changes.
    for requested in ("Ready", "Cancelled"):
        answer = call(
            server,
            "POST",
            f"/?batchJobStatus&batchJobId={early}&requestedJobStatus={requested}",
        )
        assert_oss_error(answer, 400, "InvalidArgument")
    assert server.batch.job(early).status == "Complete"


def test_omitted_confirmation_runs_without_confirming(server: S3BatchServer) -> None:
    job_id = create(server, create_body(confirmation=None))
    server.batch.run(job_id)
    assert server.batch.job(job_id).status == "Complete"


# ---------------------------------------------------------------------- listing


def test_list_jobs_statuses_and_paging(server: S3BatchServer) -> None:
    ids = [create(server) for _ in range(3)]
    server.batch.run(ids[0])
    call(server, "POST", f"/?batchJobStatus&batchJobId={ids[1]}&requestedJobStatus=Cancelled")
    for statuses in ("Complete|Cancelled", "Complete%20|%20Cancelled", "Complete | Cancelled"):
        target = "/?batchJob&batchJobStatuses=" + statuses.replace(" ", "%20")
        listed = call(server, "GET", target)
        assert listed.status == 200, listed.body
        found = {
            e.findtext("JobId"): e.findtext("Status") for e in listed.xml.iter("JobListDescriptor")
        }
        assert found == {ids[0]: "Complete", ids[1]: "Cancelled"}
    complete = call(server, "GET", "/?batchJob&batchJobStatuses=Complete").xml
    (entry,) = complete.iter("JobListDescriptor")
    assert entry.findtext("TerminationDate")
    assert entry.findtext("ProgressSummary/TotalNumberOfTasks") == "2"

    seen: list[str] = []
    token: str | None = None
    while True:
        target = "/?batchJob&max-keys=1" + (f"&continuation-token={token}" if token else "")
        page = call(server, "GET", target)
        assert page.status == 200, page.body
        seen += [e.findtext("JobId") or "" for e in page.xml.iter("JobListDescriptor")]
        token = page.text("NextToken")
        if token is None:
            break
        token = quote(token, safe="")
    assert seen == list(reversed(ids))  # newest first
    default = call(server, "GET", "/?batchJob")
    assert len(list(default.xml.iter("JobListDescriptor"))) == 3


# ---------------------------------------------------------------------- errors


BAD_CREATES = {
    "malformed XML": (b"<CreateJobRequest><Operation>", 400, "MalformedXML"),
    "not CreateJobRequest": (b"<Job/>", 400, "MalformedXML"),
    "DTD": (b'<!DOCTYPE x [<!ENTITY e "x">]><CreateJobRequest/>', 400, "MalformedXML"),
    "DTD in UTF-16": (
        '<!DOCTYPE x [<!ENTITY e "x">]><CreateJobRequest/>'.encode("utf-16"),
        400,
        "MalformedXML",
    ),
    "no operation": (create_body(""), 400, "InvalidArgument"),
    "two operations": (
        create_body(
            "<DeleteObjectTagging/><PutObjectAcl><ObjectAcl>private</ObjectAcl></PutObjectAcl>"
        ),
        400,
        "InvalidArgument",
    ),
    "unknown operation": (create_body("<DeleteObject/>"), 400, "InvalidArgument"),
    "bad ACL": (
        create_body("<PutObjectAcl><ObjectAcl>everyone</ObjectAcl></PutObjectAcl>"),
        400,
        "InvalidArgument",
    ),
    "neither manifest source": (create_body(source=""), 400, "InvalidArgument"),
    "both manifest sources": (
        create_body(
            source=csv_manifest("abc")
            + "<KeyPrefixManifestGenerator><SourceBucket>data</SourceBucket>"
            "</KeyPrefixManifestGenerator>"
        ),
        400,
        "InvalidArgument",
    ),
    "priority too large": (
        create_body(priority="<Priority>2147483648</Priority>"),
        400,
        "InvalidArgument",
    ),
    "negative priority": (create_body(priority="<Priority>-1</Priority>"), 400, "InvalidArgument"),
    "no priority": (create_body(priority=""), 400, "InvalidArgument"),
    "bad format": (
        create_body(
            source=csv_manifest("abc").replace("OSS_BatchOperations", "S3BatchOperations")
        ),
        400,
        "InvalidArgument",
    ),
    "bad confirmation": (create_body(confirmation="yes"), 400, "InvalidArgument"),
    "no report": (create_body(report=""), 400, "InvalidArgument"),
    "report bucket ARN": (
        create_body(
            report="<Report><Bucket>acs:oss:::reports</Bucket><Enabled>true</Enabled></Report>"
        ),
        400,
        "InvalidBucketName",
    ),
}


@pytest.mark.parametrize("auth", ["v1", "v4"])
@pytest.mark.parametrize("case", sorted(BAD_CREATES))
def test_bad_create_job_requests(server: S3BatchServer, case: str, auth: str) -> None:
    body, status, code = BAD_CREATES[case]
    answer = call(server, "POST", "/?batchJob", body, auth=auth)
    assert_oss_error(answer, status, code)
    assert server.batch.jobs() == []


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"<Tagging><TagSet>", "MalformedXML"),
        (b'<!DOCTYPE t [<!ENTITY e "x">]><Tagging/>', "MalformedXML"),
        ('<!DOCTYPE t [<!ENTITY e "x">]><Tagging/>'.encode("utf-16"), "MalformedXML"),
        (b"<Tagging>" + b" " * (1024 * 1024) + b"</Tagging>", "EntityTooLarge"),
    ],
    ids=["malformed", "DTD", "DTD in UTF-16", "over 1 MiB"],
)
def test_a_bad_put_object_tagging_body_changes_nothing(
    server: S3BatchServer, body: bytes, code: str
) -> None:
    seed(server)

    answer = call(server, "PUT", "/data/photos/a.jpg?tagging", body)

    assert_oss_error(answer, 400, code)
    assert server.batch.objects.head("data", "photos/a.jpg").tags == {"Owner": "alice"}


def test_an_empty_role_arn_has_its_documented_ec(server: S3BatchServer) -> None:
    body = create_body().replace(ROLE.encode(), b"")
    root = assert_oss_error(call(server, "POST", "/?batchJob", body), 400, "InvalidArgument")
    assert root.findtext("EC") == "0017-00001009"


@pytest.mark.parametrize("auth", ["v1", "v4"])
def test_bad_parameters_of_the_other_calls(server: S3BatchServer, auth: str) -> None:
    job_id = create(server, auth=auth)
    before = server.batch.job(job_id)
    cases = [
        ("POST", f"/?batchJobPriority&batchJobId={job_id}&targetPriority=2147483648"),
        ("POST", f"/?batchJobPriority&batchJobId={job_id}&targetPriority=-1"),
        ("POST", f"/?batchJobPriority&batchJobId={job_id}&targetPriority=high"),
        ("POST", f"/?batchJobPriority&batchJobId={job_id}"),
        ("POST", f"/?batchJobStatus&batchJobId={job_id}&requestedJobStatus=Active"),
        ("POST", f"/?batchJobStatus&batchJobId={job_id}"),
        (
            "POST",
            f"/?batchJobStatus&batchJobId={job_id}&requestedJobStatus=Cancelled"
            "&statusUpdateReason=" + "x" * 257,
        ),
        ("GET", "/?batchJob&max-keys=0"),
        ("GET", "/?batchJob&max-keys=1001"),
        ("GET", "/?batchJob&max-keys=ten"),
        ("GET", "/?batchJob&batchJobStatuses=Running"),
        ("GET", "/?batchJob&batchJobStatuses=Active|Done"),
        ("GET", "/?batchJob&continuation-token=not-a-token"),
        ("GET", "/?batchJob&batchJobId="),
    ]
    for method, target in cases:
        assert_oss_error(call(server, method, target, auth=auth), 400, "InvalidArgument")
    after = server.batch.job(job_id)
    assert (after.status, after.priority) == (before.status, before.priority)


@pytest.mark.parametrize("auth", ["v1", "v4"])
def test_unknown_and_foreign_job_ids(server: S3BatchServer, auth: str) -> None:
    job_id = create(server, auth=auth)
    unknown = base64.b64encode(b"0" * 32).decode()
    cases: list[tuple[str, dict[str, Any]]] = [
        (unknown, {}),
        (job_id, {"account": OTHER_ACCOUNT}),
        (job_id, {"host": BEIJING, "scope_region": "cn-beijing"}),
    ]
    for target_id, kwargs in cases:
        for method, target in (
            ("GET", f"/?batchJob&batchJobId={target_id}"),
            ("POST", f"/?batchJobPriority&batchJobId={target_id}&targetPriority=1"),
            ("POST", f"/?batchJobStatus&batchJobId={target_id}&requestedJobStatus=Cancelled"),
        ):
            answer = call(server, method, target, auth=auth, **kwargs)
            assert_oss_error(answer, 404, "NoSuchJob")
    assert server.batch.job(job_id).status == "New"


def test_no_authorization_is_access_denied(server: S3BatchServer) -> None:
    for method, target in (
        ("POST", "/?batchJob"),
        ("GET", "/?batchJob"),
        ("GET", "/?batchJob&batchJobId=x"),
        ("POST", "/?batchJobPriority&batchJobId=x&targetPriority=1"),
        ("POST", "/?batchJobStatus&batchJobId=x&requestedJobStatus=Cancelled"),
    ):
        answer = call(
            server, method, target, create_body() if method == "POST" else b"", auth=None
        )
        assert_oss_error(answer, 403, "AccessDenied")
    assert server.batch.jobs() == []


def test_a_wrong_method_is_refused(server: S3BatchServer) -> None:
    answer = call(server, "DELETE", "/?batchJob")
    assert_oss_error(answer, 405, "MethodNotAllowed")


def test_injected_errors_answer_in_oss_form(server: S3BatchServer) -> None:
    server.batch.inject_error("ListJobs", "ServiceUnavailable", http_status=503, count=1)
    assert_oss_error(call(server, "GET", "/?batchJob"), 503, "ServiceUnavailable")
    assert call(server, "GET", "/?batchJob").status == 200


# ---------------------------------------------------------------------- isolation


def test_accounts_and_regions_are_apart(server: S3BatchServer) -> None:
    mine = create(server)
    theirs = create(server, account=OTHER_ACCOUNT)
    beijing = create(server, host=BEIJING)
    scoped = create(server, auth="v4", host="127.0.0.1", scope_region="cn-shanghai")
    listed = {
        key: [
            e.findtext("JobId")
            for e in call(server, "GET", "/?batchJob", **kw).xml.iter("JobListDescriptor")
        ]
        for key, kw in dict[str, dict[str, Any]](
            {
                "mine": {},
                "theirs": {"account": OTHER_ACCOUNT},
                "beijing": {"host": BEIJING},
                "shanghai": {"auth": "v4", "host": "127.0.0.1", "scope_region": "cn-shanghai"},
            }
        ).items()
    }
    assert listed == {
        "mine": [mine],
        "theirs": [theirs],
        "beijing": [beijing],
        "shanghai": [scoped],
    }
    regions = {job.job_id: (job.account_id, job.region) for job in server.batch.jobs()}
    assert regions[beijing] == (ACCOUNT, "cn-beijing")
    assert regions[scoped] == (ACCOUNT, "cn-shanghai")


def test_dialects_never_see_each_other(server: S3BatchServer) -> None:
    oss_job = create(server, account="123456789012", host="127.0.0.1")
    s3control = boto3.client(
        "s3control",
        region_name="cn-hangzhou",
        endpoint_url=server.url,
        aws_access_key_id="x",
        aws_secret_access_key="y",
        config=Config(proxies={"http": server.url}, retries={"max_attempts": 1}),
    )
    aws_job = s3control.create_job(
        AccountId="123456789012",
        Operation={"S3DeleteObjectTagging": {}},
        Report={"Enabled": False},
        ClientRequestToken="t",
        ManifestGenerator={
            "S3JobManifestGenerator": {
                "SourceBucket": "arn:aws:s3:::data",
                "EnableManifestOutput": False,
            }
        },
        Priority=1,
        RoleArn="arn:aws:iam::123456789012:role/batch",
    )["JobId"]
    aws_listed = s3control.list_jobs(AccountId="123456789012")["Jobs"]
    assert [j["JobId"] for j in aws_listed] == [aws_job]
    with pytest.raises(s3control.exceptions.ClientError):
        s3control.describe_job(AccountId="123456789012", JobId=oss_job)
    oss_listed = call(server, "GET", "/?batchJob", account="123456789012", host="127.0.0.1")
    assert [e.findtext("JobId") for e in oss_listed.xml.iter("JobListDescriptor")] == [oss_job]
    answer = call(
        server, "GET", f"/?batchJob&batchJobId={aws_job}", account="123456789012", host="127.0.0.1"
    )
    assert_oss_error(answer, 404, "NoSuchJob")
    dialects = {job.job_id: job.dialect for job in server.batch.jobs()}
    assert dialects == {oss_job: "oss", aws_job: "aws"}


def test_the_controller_and_state_see_oss_jobs(server: S3BatchServer) -> None:
    job_id = create(server)
    job = server.batch.job(job_id)
    assert job.dialect == "oss"
    assert job.account_id == ACCOUNT
    assert job.region == "cn-hangzhou"
    assert job.job_arn == f"acs:oss:cn-hangzhou:{ACCOUNT}:job/{job_id}"
    assert server.batch.step(job_id) == "Preparing"
    connection = http.client.HTTPConnection(server.host, server.port, timeout=30)
    connection.request("GET", "/_s3batch/state")
    state = json.loads(connection.getresponse().read())
    connection.close()
    (listed,) = state["jobs"]
    assert listed["job_id"] == job_id
    assert listed["dialect"] == "oss"
    assert any(c["operation"] == "oss:CreateJob" for c in state["calls"])


def test_client_request_token_is_idempotent(server: S3BatchServer) -> None:
    body = create_body(extra="<ClientRequestToken>token-1</ClientRequestToken>")
    first = create(server, body)
    assert create(server, body) == first
    assert create(server, body, account=OTHER_ACCOUNT) != first
    changed = body.replace(b"<Priority>10</Priority>", b"<Priority>11</Priority>")
    assert_oss_error(call(server, "POST", "/?batchJob", changed), 400, "InvalidArgument")


# ---------------------------------------------------------------------- time


START = datetime.datetime(2025, 6, 11, 9, 0, tzinfo=datetime.UTC)


@pytest.mark.parametrize("clock", ["time-machine", "freezegun"])
def test_fourteen_day_confirmation_expiry(clock: str) -> None:
    frozen: Any = (
        freeze_time(START) if clock == "freezegun" else time_machine.travel(START, tick=False)
    )
    with frozen as traveller, S3BatchServer(progression="manual", mode="embedded") as server:
        seed(server)
        oss_job = create(server, create_body(confirmation="true"))
        aws_job = create_aws_job(server)
        for job_id in (oss_job, aws_job):
            server.batch.step(job_id)
            server.batch.step(job_id)
            assert server.batch.job(job_id).status == "Suspended"

        def move(days: float) -> None:
            target = START + datetime.timedelta(days=days)
            if clock == "freezegun":
                traveller.move_to(target)
            else:
                traveller.move_to(target, tick=False)

        move(14 - 1 / 86400)
        assert describe(server, oss_job).findtext("Status") == "Suspended"
        move(14)
        job = describe(server, oss_job)
        assert job.findtext("Status") == "Failed"
        assert job.findtext("FailureReasons/JobFailure/FailureCode") == "ConfirmationTimeout"
        assert "14 days" in (job.findtext("FailureReasons/JobFailure/FailureReason") or "")
        assert server.batch.job(aws_job).status == "Suspended"  # AWS jobs keep 30 days
        move(30 - 1 / 86400)
        assert server.batch.job(aws_job).status == "Suspended"
        move(30)
        assert server.batch.job(aws_job).status == "Failed"


def create_aws_job(server: S3BatchServer) -> str:
    s3control = boto3.client(
        "s3control",
        region_name="us-east-1",
        endpoint_url=server.url,
        aws_access_key_id="x",
        aws_secret_access_key="y",
        config=Config(proxies={"http": server.url}, retries={"max_attempts": 1}),
    )
    return str(
        s3control.create_job(
            AccountId="123456789012",
            Operation={"S3DeleteObjectTagging": {}},
            Report={"Enabled": False},
            ClientRequestToken="aws",
            ConfirmationRequired=True,
            ManifestGenerator={
                "S3JobManifestGenerator": {
                    "SourceBucket": "arn:aws:s3:::data",
                    "EnableManifestOutput": False,
                }
            },
            Priority=1,
            RoleArn="arn:aws:iam::123456789012:role/batch",
        )["JobId"]
    )


# ---------------------------------------------------------------------- the object API


def test_the_object_api_through_oss2_path_and_virtual_hosted(server: S3BatchServer) -> None:
    auth = oss2.Auth(ACCOUNT, "secret")
    path_style = oss2.Bucket(auth, server.url, "fresh")
    path_style.create_bucket()
    put = path_style.put_object(
        "dir/a.txt", b"hello", headers={"x-oss-meta-owner": "bob", "x-oss-tagging": "k=v"}
    )
    assert put.etag == put.etag.upper()
    virtual = oss2.Bucket(auth, f"http://{HANGZHOU}", "fresh", proxies={"http": server.url})
    got = virtual.get_object("dir/a.txt")
    assert got.read() == b"hello"
    assert got.headers["x-oss-meta-owner"] == "bob"
    assert got.server_crc == got.client_crc  # the CRC-64 OSS sends checks out
    assert virtual.head_object("dir/a.txt").content_length == 5
    assert virtual.get_object_tagging("dir/a.txt").tag_set.tagging_rule == {"k": "v"}
    tagging = oss2.models.Tagging(oss2.models.TaggingRule())
    tagging.tag_set.add("x", "y")
    virtual.put_object_tagging("dir/a.txt", tagging)
    assert server.batch.objects.get_tags("fresh", "dir/a.txt") == {"x": "y"}
    virtual.put_object_acl("dir/a.txt", oss2.OBJECT_ACL_PRIVATE)
    assert virtual.get_object_acl("dir/a.txt").acl == "private"
    path_style.put_object("dir/b.txt", b"b")
    path_style.put_object("top.txt", b"t")
    listed = path_style.list_objects(prefix="dir/", max_keys=1)
    assert [o.key for o in listed.object_list] == ["dir/a.txt"]
    assert listed.is_truncated
    assert [o.key for o in oss2.ObjectIterator(path_style)] == [
        "dir/a.txt",
        "dir/b.txt",
        "top.txt",
    ]
    assert [o.key for o in oss2.ObjectIteratorV2(path_style, delimiter="/")] == ["dir/", "top.txt"]
    path_style.delete_object("dir/b.txt")
    with pytest.raises(oss2.exceptions.NoSuchKey) as missing:
        path_style.get_object("dir/b.txt")
    assert missing.value.details["EC"]
    with pytest.raises(oss2.exceptions.NoSuchBucket):
        oss2.Bucket(auth, server.url, "nope").put_object("k", b"v")


def test_the_object_api_through_alibabacloud_oss_v2(server: S3BatchServer) -> None:
    client = oss_v2_client(server)
    client.put_bucket(oss_v2.PutBucketRequest(bucket="fresh"))
    client.put_object(
        oss_v2.PutObjectRequest(bucket="fresh", key="a.txt", body=b"v2", tagging="a=1")
    )
    assert (
        client.get_object(oss_v2.GetObjectRequest(bucket="fresh", key="a.txt")).body.read()
        == b"v2"
    )
    head = client.head_object(oss_v2.HeadObjectRequest(bucket="fresh", key="a.txt"))
    assert head.content_length == 2
    listed = client.list_objects_v2(oss_v2.ListObjectsV2Request(bucket="fresh"))
    assert [o.key for o in listed.contents] == ["a.txt"]
    listed_v1 = client.list_objects(oss_v2.ListObjectsRequest(bucket="fresh"))
    assert [o.key for o in listed_v1.contents] == ["a.txt"]
    tags = client.get_object_tagging(oss_v2.GetObjectTaggingRequest(bucket="fresh", key="a.txt"))
    assert [(t.key, t.value) for t in tags.tag_set.tags] == [("a", "1")]
    acl = client.get_object_acl(oss_v2.GetObjectAclRequest(bucket="fresh", key="a.txt"))
    assert acl.acl == "default"
    client.delete_object(oss_v2.DeleteObjectRequest(bucket="fresh", key="a.txt"))
    assert server.batch.objects.keys("fresh") == []


# ---------------------------------------------------------------------- the wire, in-process


@pytest.mark.parametrize(
    ("headers", "host", "query", "expected"),
    [
        ({"authorization": "OSS LTAIa:sig"}, HANGZHOU, "", ("LTAIa", "cn-hangzhou")),
        ({"authorization": "OSS LTAIa:sig"}, BEIJING, "", ("LTAIa", "cn-beijing")),
        (
            {"authorization": "OSS LTAIa:sig"},
            "bucket.oss-ap-southeast-1-internal.aliyuncs.com:80",
            "",
            ("LTAIa", "ap-southeast-1"),
        ),
        (
            {"authorization": authorization("v4", "LTAIb", "eu-central-1")},
            "127.0.0.1:5050",
            "",
            ("LTAIb", "eu-central-1"),
        ),
        (  # the Host wins over the scope
            {"authorization": authorization("v4", "LTAIb", "eu-central-1")},
            BEIJING,
            "",
            ("LTAIb", "cn-beijing"),
        ),
        ({"authorization": "OSS LTAIa:sig"}, "localhost", "", ("LTAIa", "cn-hangzhou")),
        ({}, HANGZHOU, "OSSAccessKeyId=LTAIq&Signature=s&Expires=1", ("LTAIq", "cn-hangzhou")),
        (
            {},
            "127.0.0.1",
            "x-oss-credential=LTAIr%2F20250611%2Fcn-qingdao%2Foss%2Faliyun_v4_request",
            ("LTAIr", "cn-qingdao"),
        ),
    ],
)
def test_identity(headers: dict[str, str], host: str, query: str, expected: tuple[str, str]):
    assert identity(headers, host, query) == expected


@pytest.mark.parametrize(
    "header", [None, "", "AWS4-HMAC-SHA256 Credential=AKIA/20250611/us-east-1/s3/aws4_request"]
)
def test_identity_refused(header: str | None) -> None:
    headers = {} if header is None else {"authorization": header}
    with pytest.raises(OssError) as refused:
        identity(headers, HANGZHOU)
    assert (refused.value.status, refused.value.code) == (403, "AccessDenied")


def test_which_requests_are_oss_job_calls() -> None:
    assert is_job_call("/", "batchJob")
    assert is_job_call("/", "batchJobStatus&batchJobId=x")
    assert is_job_call("", "batchJobPriority=")
    assert not is_job_call("/bucket", "batchJob")
    assert not is_job_call("/", "batchJobs")
    assert not is_job_call("/v20180820/jobs", "")


def test_ranged_reads(server: S3BatchServer) -> None:
    server.batch.objects.put("fresh", "r.bin", b"0123456789")
    bucket = oss2_bucket(server, "fresh")
    assert bucket.get_object("r.bin", byte_range=(2, 4)).read() == b"234"
    assert bucket.get_object("r.bin", byte_range=(None, 3)).read() == b"789"
    assert bucket.get_object("r.bin", byte_range=(8, None)).read() == b"89"
    client = oss_v2_client(server)
    part = client.get_object(
        oss_v2.GetObjectRequest(bucket="fresh", key="r.bin", range_header="bytes=0-1")
    )
    assert part.body.read() == b"01"
    assert part.status_code == 206


def test_a_create_job_body_over_one_mib_is_refused_before_it_is_read(
    server: S3BatchServer,
) -> None:
    request = (
        b"POST /?batchJob HTTP/1.1\r\nHost: oss-cn-hangzhou.aliyuncs.com\r\n"
        b"Authorization: OSS LTAIa:sig\r\nContent-Length: 2097152\r\n\r\n"
    )
    status_line, _, _ = send_raw(server, request)
    assert status_line.startswith(b"HTTP/1.1 413")
    assert server.batch.jobs() == []


def test_moto_mode_serves_the_dialect_too() -> None:
    if not moto_server_available():
        pytest.skip("moto's server parts are not installed")
    with S3BatchServer(mode="moto") as server:
        bucket = oss2_bucket(server, "data")
        bucket.create_bucket()
        bucket.put_object("photos/a.jpg", b"a")
        bucket.put_object("photos/b.jpg", b"b")
        oss2_bucket(server, "reports").create_bucket()
        job_id = create(server)
        server.batch.run(job_id)
        assert describe(server, job_id).findtext("Status") == "Complete"
        assert bucket.get_object_tagging("photos/a.jpg").tag_set.tagging_rule == {
            "Environment": "Production"
        }
        reports = [o.key for o in oss2.ObjectIterator(oss2_bucket(server, "reports"))]
        assert f"batch-reports/job-{job_id}/manifest.json" in reports


def test_the_control_endpoints_take_oss_job_ids(server: S3BatchServer) -> None:
    job_id = create(server)
    connection = http.client.HTTPConnection(server.host, server.port, timeout=30)
    connection.request("POST", f"/_s3batch/step?job_id={quote(job_id, safe='')}")
    answer = json.loads(connection.getresponse().read())
    connection.request("POST", f"/_s3batch/run?job_id={quote(job_id, safe='')}")
    connection.getresponse().read()
    connection.close()
    assert answer == {"job_id": job_id, "status": "Preparing"}
    assert describe(server, job_id).findtext("Status") == "Complete"
