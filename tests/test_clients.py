"""Every botocore client is served while a mock is active, however old, in its own region,
and no request of any service reaches AWS under the mock.

Import-order and process-global cases run in subprocesses with an audit hook that
records every non-loopback DNS lookup or connect, with no AWS variables and an empty HOME.
"""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.exceptions
import botocore.session
import pytest
from botocore.config import Config
from botocore.stub import Stubber
from moto import mock_aws

from s3batch_mock import AWSCallRefused, UnsupportedOperationError, mock_s3batch
from tests.conftest import ACCOUNT, csv_manifest_job, describe

# ----------------------------------------------------------------- in a fresh process

#: Prepended to every script: record (and refuse) any lookup or connect off loopback.
AUDIT = textwrap.dedent(
    """
    import ipaddress, sys
    reached = []
    def _loopback(host):
        if host is None:
            return True
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name in ("localhost", ""):
            return True
        try:
            return ipaddress.ip_address(name.strip("[]")).is_loopback
        except ValueError:
            return False
    def _audit(event, args):
        if event == "socket.getaddrinfo" and not _loopback(args[0]):
            reached.append(("getaddrinfo", args[0]))
            raise OSError("audit: no DNS in this test")
        if event == "socket.connect":
            address = args[1]
            if isinstance(address, tuple) and not _loopback(address[0]):
                reached.append(("connect", address[0]))
                raise OSError("audit: no connect in this test")
    sys.addaudithook(_audit)
    """
)
FOOTER = "\nassert reached == [], reached\nprint('OK')\n"

JOB = textwrap.dedent(
    """
    def create(client, batch):
        etag = batch.objects.put("manifests", "m.csv", "photos,a.jpg\\n")
        batch.objects.put("photos", "a.jpg", b"x")
        return client.create_job(
            AccountId="123456789012",
            ConfirmationRequired=False,
            Operation={"S3PutObjectTagging": {"TagSet": [{"Key": "k", "Value": "v"}]}},
            Manifest={
                "Spec": {"Format": "S3BatchOperations_CSV_20180820", "Fields": ["Bucket", "Key"]},
                "Location": {"ObjectArn": "arn:aws:s3:::manifests/m.csv", "ETag": etag},
            },
            Report={"Enabled": False},
            Priority=10,
            RoleArn="arn:aws:iam::123456789012:role/batch",
        )["JobId"]
    """
)


def run_script(body: str, tmp_path: Path, **env: str) -> None:
    """Run ``body`` in a fresh interpreter: no AWS variables, empty HOME, the audit hook."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    clean.update(HOME=str(home), AWS_EC2_METADATA_DISABLED="false", **env)
    script = AUDIT + JOB + textwrap.dedent(body) + FOOTER
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=clean,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith("OK")


@pytest.mark.slow
def test_client_made_before_import_is_served(tmp_path: Path) -> None:
    run_script(
        """
        import boto3
        early = boto3.client("s3control", region_name="eu-west-1")  # before the import
        reached.clear()  # botocore's own credential lookup at creation, before any mock
        from s3batch_mock import mock_s3batch
        with mock_s3batch() as batch:
            job_id = create(early, batch)
            job = early.describe_job(AccountId="123456789012", JobId=job_id)["Job"]
            assert job["JobArn"].startswith("arn:aws:s3:eu-west-1:"), job["JobArn"]
            assert [c.operation for c in batch.calls] == ["CreateJob", "DescribeJob"]
        """,
        tmp_path,
    )


@pytest.mark.slow
def test_client_with_the_developers_key_made_before_import_is_served_unsigned(
    tmp_path: Path,
) -> None:
    run_script(
        """
        import boto3
        sent = []
        early = boto3.client("s3control", region_name="us-east-1")
        early.meta.events.register(
            "before-send", lambda request, **kw: sent.append(dict(request.headers))
        )
        from s3batch_mock import mock_s3batch
        with mock_s3batch() as batch:
            create(early, batch)
        assert len(sent) == 1 and "Authorization" not in sent[0], sent
        """,
        tmp_path,
        AWS_ACCESS_KEY_ID="AKIADEVELOPER",
        AWS_SECRET_ACCESS_KEY="developer-secret",
    )


@pytest.mark.slow
def test_botocore_get_session_client_made_before_import_is_served(tmp_path: Path) -> None:
    run_script(
        """
        import botocore.session
        early = botocore.session.get_session().create_client("s3control", region_name="us-west-2")
        reached.clear()  # botocore's own credential lookup at creation, before any mock
        from s3batch_mock import mock_s3batch
        with mock_s3batch() as batch:
            job_id = create(early, batch)
            assert batch.job(job_id).region == "us-west-2"
        """,
        tmp_path,
    )


@pytest.mark.slow
def test_other_services_are_refused_before_any_lookup(tmp_path: Path) -> None:
    run_script(
        """
        import boto3
        from s3batch_mock import AWSCallRefused, mock_s3batch
        early_s3 = boto3.client("s3", region_name="us-east-1")
        reached.clear()  # botocore's own credential lookup at creation, before any mock
        with mock_s3batch():
            for client, call in (
                (boto3.client("sts", region_name="us-east-1"), "get_caller_identity"),
                (early_s3, "list_buckets"),
                (boto3.client("s3", region_name="eu-west-1",
                              config=__import__("botocore.config").config.Config(
                                  use_fips_endpoint=True)), "list_buckets"),
                (boto3.client("sqs", region_name="cn-north-1"), "list_queues"),
            ):
                try:
                    getattr(client, call)()
                except AWSCallRefused as exc:
                    assert "mock_aws" in str(exc) and "endpoint_url" in str(exc), exc
                else:
                    raise AssertionError(f"{call} was not refused")
        """,
        tmp_path,
    )


@pytest.mark.slow
def test_nothing_reaches_aws_in_a_whole_session_of_an_unconfigured_machine(
    tmp_path: Path,
) -> None:
    """No credentials, no region file, metadata lookups allowed: still nothing leaves."""
    run_script(
        """
        import boto3
        from s3batch_mock import mock_s3batch
        with mock_s3batch() as batch:
            client = boto3.client("s3control", region_name="ap-south-1")
            job_id = create(client, batch)
            while client.describe_job(AccountId="123456789012", JobId=job_id)["Job"][
                "Status"
            ] not in ("Complete", "Failed"):
                pass
            assert batch.job(job_id).status == "Complete"
        """,
        tmp_path,
    )


# ------------------------------------------------------------------------ in-process


@pytest.fixture
def batch() -> Iterator[Any]:
    with mock_s3batch() as controller:
        yield controller


def _job(client: Any, batch: Any) -> str:
    etag = batch.objects.put("manifests", "manifest.csv", "photos,a.jpg\n")
    batch.objects.put("photos", "a.jpg", b"x")
    return csv_manifest_job(client, etag)


def test_client_made_before_start_is_served(tmp_path: Path) -> None:
    client = boto3.client("s3control", region_name="eu-central-1")
    with mock_s3batch() as batch:
        job_id = _job(client, batch)
        assert describe(client, job_id)["JobArn"].startswith("arn:aws:s3:eu-central-1:")


def test_client_from_a_fresh_botocore_session_is_served(batch: Any) -> None:
    client = botocore.session.Session().create_client("s3control", region_name="us-east-2")
    job_id = _job(client, batch)
    assert batch.job(job_id).region == "us-east-2"


@pytest.mark.parametrize(
    ("region", "partition", "config"),
    [
        ("eu-west-1", "aws", {}),
        ("cn-north-1", "aws-cn", {}),
        ("us-gov-west-1", "aws-us-gov", {}),
        ("us-iso-east-1", "aws-iso", {}),
        ("us-isob-east-1", "aws-iso-b", {}),
        ("eu-isoe-west-1", "aws-iso-e", {}),
        ("us-isof-south-1", "aws-iso-f", {}),
        ("eusc-de-east-1", "aws-eusc", {}),
        ("us-east-1", "aws", {"use_fips_endpoint": True}),
        ("us-west-2", "aws", {"use_dualstack_endpoint": True}),
    ],
)
def test_region_and_partition_are_the_clients_own(
    batch: Any, region: str, partition: str, config: dict[str, Any]
) -> None:
    client = boto3.client("s3control", region_name=region, config=Config(**config))
    job_id = _job(client, batch)
    assert (
        describe(client, job_id)["JobArn"] == f"arn:{partition}:s3:{region}:{ACCOUNT}:job/{job_id}"
    )
    assert batch.job(job_id).region == region


@pytest.mark.parametrize(
    "how", ["endpoint_url", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3_CONTROL"]
)
def test_custom_endpoints_keep_the_clients_region(
    batch: Any, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    def client(region: str) -> Any:
        if how == "endpoint_url":
            return boto3.client(
                "s3control", region_name=region, endpoint_url="http://localstack:4566"
            )
        monkeypatch.setenv(how, "http://127.0.0.1:4566")
        return boto3.client("s3control", region_name=region)

    ireland, mumbai = client("eu-west-1"), client("ap-south-1")
    job_id = _job(ireland, batch)
    assert batch.job(job_id).region == "eu-west-1"
    assert [j["JobId"] for j in ireland.list_jobs(AccountId=ACCOUNT)["Jobs"]] == [job_id]
    assert mumbai.list_jobs(AccountId=ACCOUNT)["Jobs"] == []
    with pytest.raises(mumbai.exceptions.NotFoundException):
        mumbai.describe_job(AccountId=ACCOUNT, JobId=job_id)


def test_other_services_are_refused_naming_service_and_operation(batch: Any) -> None:
    sts = boto3.client("sts", region_name="us-east-1")
    with pytest.raises(AWSCallRefused, match=r"sts GetCallerIdentity to sts\..*amazonaws\.com"):
        sts.get_caller_identity()
    assert batch.calls == []


@pytest.mark.parametrize(
    "config",
    [{}, {"use_fips_endpoint": True}, {"use_dualstack_endpoint": True}],
)
def test_s3_default_endpoints_are_refused(batch: Any, config: dict[str, Any]) -> None:
    s3 = boto3.client("s3", region_name="eu-west-1", config=Config(**config))
    with pytest.raises(AWSCallRefused, match="s3 ListBuckets"):
        s3.list_buckets()


class _Echo(http.server.BaseHTTPRequestHandler):
    """A stand-in for the user's own server (LocalStack, MinIO): answers any STS call."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = (
            b'<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
            b"<GetCallerIdentityResult><Arn>arn:aws:iam::000000000000:user/local</Arn>"
            b"<UserId>local</UserId><Account>000000000000</Account></GetCallerIdentityResult>"
            b"</GetCallerIdentityResponse>"
        )
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def own_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    # shutdown() waits for the loop's next poll: a short interval, not the default 0.5 s.
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_custom_endpoint_of_another_service_goes_through(batch: Any, own_server: str) -> None:
    sts = boto3.client("sts", region_name="us-east-1", endpoint_url=own_server)
    assert sts.get_caller_identity()["Account"] == "000000000000"


def test_aws_endpoint_url_of_another_service_goes_through(
    batch: Any, own_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", own_server)
    assert boto3.client("sts", region_name="us-east-1").get_caller_identity()["UserId"] == "local"


def test_moto_serves_other_services_in_either_order() -> None:
    with mock_s3batch(), mock_aws():
        assert boto3.client("sts", region_name="us-east-1").get_caller_identity()["Account"]
    with mock_aws(), mock_s3batch():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="fine")


def test_a_call_moto_lets_through_is_refused_before_the_network() -> None:
    """moto's passthrough hands a request back to botocore: the last check, before any
    connection, still refuses it while the mock is active."""
    passthrough = {"core": {"passthrough": {"services": ["sts"]}}}
    with mock_aws(config=passthrough), mock_s3batch():  # type: ignore[call-overload]
        sts = boto3.client("sts", region_name="us-east-1")
        with pytest.raises(AWSCallRefused, match="moto's mock_aws is active but did not"):
            sts.get_caller_identity()


def test_allow_real_aws_lets_requests_through_to_the_network(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.conftest import NetworkRefused  # noqa: PLC0415

    sts = boto3.client(
        "sts",
        region_name="us-east-1",
        aws_access_key_id="user",
        aws_secret_access_key="secret",
        config=Config(retries={"total_max_attempts": 1}),
    )
    with mock_s3batch(allow_real_aws=True):
        # What stops it now is this suite's own network guard, not the mock.
        with pytest.raises(botocore.exceptions.HTTPClientError) as caught:
            sts.get_caller_identity()
        assert isinstance(caught.value.kwargs["error"], NetworkRefused)


def test_allow_real_aws_must_be_a_bool() -> None:
    with pytest.raises(TypeError, match="allow_real_aws"):
        mock_s3batch(allow_real_aws="yes")  # type: ignore[call-overload]


def test_unserved_s3control_call_advises_a_separate_stubbed_client(batch: Any) -> None:
    client = boto3.client("s3control", region_name="us-east-1")
    with pytest.raises(UnsupportedOperationError, match="separate client") as caught:
        client.get_public_access_block(AccountId=ACCOUNT)
    assert "GetPublicAccessBlock" in str(caught.value)


def test_following_the_advice_works(batch: Any) -> None:
    """A Stubber on a second client answers its call; the first client's jobs still work."""
    jobs = boto3.client("s3control", region_name="us-east-1")
    stubbed = boto3.client("s3control", region_name="us-east-1")
    with Stubber(stubbed) as stubber:
        stubber.add_response(
            "get_public_access_block",
            {"PublicAccessBlockConfiguration": {"BlockPublicAcls": True}},
            {"AccountId": ACCOUNT},
        )
        assert stubbed.get_public_access_block(AccountId=ACCOUNT)[
            "PublicAccessBlockConfiguration"
        ] == {"BlockPublicAcls": True}
    job_id = _job(jobs, batch)
    assert describe(jobs, job_id)["JobId"] == job_id


@pytest.mark.slow
def test_audit_script_records_what_it_should(tmp_path: Path) -> None:
    """The subprocess guard itself works: an unmocked STS call is seen and stopped."""
    script = AUDIT + textwrap.dedent(
        """
        import boto3, botocore.config
        sts = boto3.client("sts", region_name="us-east-1", aws_access_key_id="a",
                           aws_secret_access_key="b",
                           config=botocore.config.Config(retries={"total_max_attempts": 1}))
        try:
            sts.get_caller_identity()
        except Exception:
            pass
        print(json.dumps(reached))
        """
    ).replace("print(json.dumps", "import json; print(json.dumps")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=clean,
        timeout=120,
        check=False,
    )
    assert json.loads(result.stdout.strip().splitlines()[-1])[0][0] == "getaddrinfo"
