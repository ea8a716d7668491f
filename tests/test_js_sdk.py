"""The AWS SDK for JavaScript v3 against ``S3BatchServer``, through all eight job calls.

A session fixture installs ``@aws-sdk/client-s3-control``, ``@aws-sdk/client-s3`` and
what the recipes need (tests/js/package.json) from npm into a temporary folder; Node
then runs tests/js/drive.mjs, which creates three jobs (one runs to Complete, one waits
for confirmation and is confirmed, one is cancelled), lists them, updates a priority,
gets, puts and deletes job tags, provokes NotFoundException, and prints what the SDK
returned as JSON. The test asserts on that JSON and on ``server.batch``.

Each recipe is one way for Node to reach ``123456789012.localhost:PORT`` (the host the
s3control endpoint rules build from ``http://localhost:PORT``; Node refuses
``123456789012.127.0.0.1`` as a URL). See docs/sdks.md.

Skipped, with the reason, when node or npm is missing or npm cannot reach its registry.
``S3BATCH_MOCK_JS_PREFIX=<folder>`` uses a folder where ``npm install`` already ran
(from tests/js/package.json) instead, so the test can run offline.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from s3batch_mock import S3BatchServer
from tests.conftest import ACCOUNT

JS_DIR = Path(__file__).resolve().parent / "js"
SCRIPT = "drive.mjs"
INSTALL_TIMEOUT = 300  # seconds; a cold npm cache downloads about 40 packages
RUN_TIMEOUT = 120
#: npm's words for "the registry cannot be reached".
_OFFLINE = re.compile(
    r"ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH"
    r"|network|proxy|getaddrinfo|socket hang up|self.signed|certificate",
    re.IGNORECASE,
)
#: Without network, npm's default retries take over 5 minutes to give up; these, seconds.
_FEW_RETRIES = (
    "--fetch-retries=1",
    "--fetch-retry-mintimeout=2000",
    "--fetch-retry-maxtimeout=10000",
    "--fetch-timeout=60000",
)
#: Variables that would send Node, or the SDK, elsewhere than the recipe says.
_ROUTING = re.compile(r"^(AWS_.*|HTTPS?_PROXY|ALL_PROXY|NO_PROXY|NODE_OPTIONS)$", re.IGNORECASE)

RECIPES = ("lookup", "endpoint", "http-proxy", "connect")

# One worker runs them all, so npm installs once per run.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("js_sdk")]


# --------------------------------------------------------------------------- fixtures


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


@pytest.fixture(scope="session")
def js_prefix(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding drive.mjs beside a node_modules with the SDK in it."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip(
            "the JavaScript SDK test needs node and npm on PATH: "
            + (
                "neither found"
                if node is None and npm is None
                else f"{'node' if node is None else 'npm'} not found"
            )
        )
    version = subprocess.run(
        [node, "--version"], capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False
    ).stdout.strip()
    major = re.match(r"v(\d+)", version)
    if major is None or int(major.group(1)) < 18:
        pytest.skip(f"the AWS SDK for JavaScript v3 needs Node 18 or later; found {version!r}")

    prepared = os.environ.get("S3BATCH_MOCK_JS_PREFIX")
    prefix = Path(prepared) if prepared else tmp_path_factory.mktemp("js-sdk")
    shutil.copy(JS_DIR / SCRIPT, prefix / SCRIPT)
    if prepared:
        if not (prefix / "node_modules" / "@aws-sdk" / "client-s3-control").is_dir():
            pytest.fail(f"S3BATCH_MOCK_JS_PREFIX={prepared}: no node_modules with the SDK there")
        return prefix
    shutil.copy(JS_DIR / "package.json", prefix / "package.json")
    command = [npm, "install", "--no-audit", "--no-fund", "--prefix", str(prefix), *_FEW_RETRIES]
    try:
        done = subprocess.run(
            command,
            cwd=prefix,
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.skip(
            f"npm install of the AWS SDK for JavaScript v3 took over {INSTALL_TIMEOUT} s "
            "(no network, or a very slow one)"
        )
    if done.returncode != 0:
        output = done.stderr + done.stdout
        if _OFFLINE.search(output):
            pytest.skip(
                "npm could not reach its registry to install the AWS SDK for JavaScript v3 "
                f"(set S3BATCH_MOCK_JS_PREFIX to an installed folder to run offline):\n"
                f"{_tail(output)}"
            )
        pytest.fail(f"npm install failed ({done.returncode}):\n{_tail(output, 40)}")
    return prefix


@pytest.fixture(params=["embedded", "moto"])
def server(request: pytest.FixtureRequest) -> Iterator[S3BatchServer]:
    """A server per test, in each mode: S3 from the embedded store, or moto's application.

    Started after conftest's autouse fixtures have emptied the AWS variables, as a
    user's own fixture would be (moto mode's in-process ``mock_aws`` sets its own).
    """
    try:
        started = S3BatchServer(host="127.0.0.1", port=0, mode=request.param)
    except ValueError as error:  # moto mode without moto's server parts installed
        pytest.skip(str(error))
    with started as running:
        assert running.mode == request.param
        yield running


def _node_env(tmp_path: Path) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not _ROUTING.match(name)}
    env["AWS_CONFIG_FILE"] = str(tmp_path / "aws-config")  # never the developer's
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(tmp_path / "aws-credentials")
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    return env


def drive(prefix: Path, recipe: str, server: S3BatchServer, tmp_path: Path) -> dict[str, Any]:
    """Run drive.mjs with one recipe against ``server``; the JSON it printed."""
    node = shutil.which("node")
    assert node is not None
    try:
        done = subprocess.run(
            [node, SCRIPT, recipe, server.url],
            cwd=prefix,
            env=_node_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as timeout:
        pytest.fail(f"node {SCRIPT} {recipe} took over {RUN_TIMEOUT} s: {timeout.stderr!r}")
    if done.returncode != 0:
        pytest.fail(
            f"node {SCRIPT} {recipe} failed ({done.returncode}):\n{_tail(done.stderr, 40)}"
        )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def connect_answer(server: S3BatchServer) -> bytes:
    """The status line the server sends for a ``CONNECT`` to itself."""
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        target = f"{ACCOUNT}.localhost:{server.port}"
        sock.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
        answer = b""
        while b"\r\n" not in answer:
            chunk = sock.recv(1024)
            if not chunk:
                break
            answer += chunk
    return answer.split(b"\r\n", 1)[0]


# --------------------------------------------------------------------------- the test


@pytest.mark.parametrize("recipe", RECIPES)
def test_eight_job_calls(
    js_prefix: Path, server: S3BatchServer, recipe: str, tmp_path: Path
) -> None:
    if recipe == "connect":  # https-proxy-agent opens a tunnel first: it must be granted
        status_line = connect_answer(server)
        assert status_line.split(b" ")[1:2] == [b"200"], status_line
    out = drive(js_prefix, recipe, server, tmp_path)
    run, confirm, cancel = out["run"], out["confirm"], out["cancel"]

    # CreateJob with a manifest put by client-s3, its ETag as S3 returned it.
    assert re.fullmatch(r'"[0-9a-f]{32}"', out["manifestETag"])
    # DescribeJob, polled: every status on the way, then the finished job's fields.
    assert run["statuses"] == ["Preparing", "Ready", "Active", "Completing", "Complete"]
    assert run["progress"]["TotalNumberOfTasks"] == 2
    assert run["progress"]["NumberOfTasksSucceeded"] == 2
    assert run["progress"]["NumberOfTasksFailed"] == 0
    assert run["jobArn"] == f"arn:aws:s3:us-east-1:{ACCOUNT}:job/{run['jobId']}"
    assert run["description"] == "runs to Complete"
    assert run["creationTimeIsDate"] is True  # the SDK parsed the timestamp
    # UpdateJobPriority and UpdateJobStatus on a job awaiting confirmation.
    assert confirm["suspendedStatuses"] == ["Preparing", "Suspended"]
    assert confirm["suspendedCause"] == "AwaitingConfirmation"
    assert confirm["updatePriority"] == {"JobId": confirm["jobId"], "Priority": 42}
    assert confirm["updateStatus"] == {"JobId": confirm["jobId"], "Status": "Ready"}
    assert (confirm["finalStatus"], confirm["finalPriority"]) == ("Complete", 42)
    assert cancel["updateStatus"] == {"JobId": cancel["jobId"], "Status": "Cancelled"}
    assert cancel["finalStatus"] == "Cancelled"
    assert cancel["statusUpdateReason"] == "not needed"
    # ListJobs, unfiltered and by status.
    listed = {job["JobId"]: (job["Status"], job["Priority"]) for job in out["list"]["all"]}
    assert listed == {
        run["jobId"]: ("Complete", 10),
        confirm["jobId"]: ("Complete", 42),
        cancel["jobId"]: ("Cancelled", 10),
    }
    assert sorted(out["list"]["complete"]) == sorted([run["jobId"], confirm["jobId"]])
    # GetJobTagging, PutJobTagging (replaces), DeleteJobTagging.
    assert out["tagging"] == {
        "atCreate": [{"Key": "team", "Value": "photos"}],
        "afterPut": [{"Key": "team", "Value": "archive"}, {"Key": "stage", "Value": "done"}],
        "afterDelete": [],
    }
    # A modeled error: the SDK's own class, by name.
    assert out["notFound"] is not None, "DescribeJob of an unknown job succeeded"
    assert out["notFound"]["name"] == "NotFoundException"
    assert out["notFound"]["isModeledClass"] is True
    assert out["notFound"]["fault"] == "client"
    assert out["notFound"]["httpStatusCode"] == 400  # as the mock answers it for every SDK
    # The jobs did their work, as client-s3 sees it ...
    assert out["objectTags"] == [{"Key": "reviewed", "Value": "yes"}]

    # ... and as the server's own controller sees it.
    jobs = {job.job_id: job for job in server.batch.jobs()}
    assert set(jobs) == {run["jobId"], confirm["jobId"], cancel["jobId"]}
    assert {job.account_id for job in jobs.values()} == {ACCOUNT}
    assert {job.region for job in jobs.values()} == {"us-east-1"}  # from the SigV4 scope
    assert jobs[run["jobId"]].status == "Complete"
    assert jobs[run["jobId"]].tags == {}
    assert jobs[confirm["jobId"]].status_history[-1] == "Complete"
    assert "Suspended" in jobs[confirm["jobId"]].status_history
    assert jobs[confirm["jobId"]].priority == 42
    assert jobs[confirm["jobId"]].tags == {"team": "photos"}
    assert jobs[cancel["jobId"]].status == "Cancelled"
    store = server.batch.objects
    assert store.get_tags("photos", "2024/a.jpg") == {"reviewed": "yes"}
    assert store.get_tags("photos", "2024/b.jpg") == {"reviewed": "yes"}
    assert store.get("manifests", "retag.csv") == b"photos,2024/a.jpg\nphotos,2024/b.jpg\n"
    reports = store.keys("manifests", "reports/")
    assert any(key.endswith("manifest.json") for key in reports), reports
