"""``python -m s3batch_mock serve`` as a separate process, driven by the AWS CLI.

Each ``aws`` command is its own process, configured only through the environment, as a
shell script would be: the server is the endpoint (``AWS_ENDPOINT_URL``) and the HTTP
proxy (``HTTP_PROXY``, with ``NO_PROXY`` empty so ``123456789012.127.0.0.1`` is not
bypassed). Every child gets an explicit environment and talks only to 127.0.0.1.
Timeouts here are safety nets against a hung process, never assertions about speed;
every server started is killed at teardown whatever happened.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

import pytest

import s3batch_mock
from s3batch_mock import S3BatchServer
from s3batch_mock.__main__ import _banner
from s3batch_mock.server._moto import moto_server_available
from tests.conftest import ACCOUNT, ROLE

pytestmark = [
    pytest.mark.skipif(sys.platform == "win32", reason="stops the server with POSIX signals"),
    pytest.mark.slow,  # every test here starts `serve` or the AWS CLI as processes
]

ROOT = Path(s3batch_mock.__file__).resolve().parent.parent
STARTUP_TIMEOUT = 60  # safety nets only: a healthy server starts in about a second
COMMAND_TIMEOUT = 120
BANNER = re.compile(r"s3batch_mock \S+ serving S3 Batch Operations on (http://127\.0\.0\.1:\d+)")
STOPPED = re.compile(r"s3batch_mock: stopped \((\d+) s3control calls served\)")
_ROUTING = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}
#: Both server modes; moto mode only where moto's server parts are installed.
MODES = [
    "embedded",
    pytest.param(
        "moto",
        marks=pytest.mark.skipif(
            not moto_server_available(), reason="moto mode needs 's3batch_mock[server]'"
        ),
    ),
]


# --------------------------------------------------------------------------- helpers


def child_env(tmp_path: Path) -> dict[str, str]:
    """This process's environment without AWS settings, proxies or proxy bypasses.

    The package is importable from the source tree whether or not it is installed.
    """
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("AWS_") and name.lower() not in _ROUTING
    }
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env["AWS_CONFIG_FILE"] = str(tmp_path / "aws-config")  # neither file exists
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(tmp_path / "aws-credentials")
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    return env


def aws_env(url: str, tmp_path: Path) -> dict[str, str]:
    """The documented recipe: the server as endpoint and as proxy, fake credentials."""
    return {
        **child_env(tmp_path),
        "AWS_ENDPOINT_URL": url,
        "HTTP_PROXY": url,
        "http_proxy": url,
        "NO_PROXY": "",
        "no_proxy": "",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_DEFAULT_OUTPUT": "json",
    }


class Served:
    """A running ``serve`` process: its URL, its stdout lines and its stderr log."""

    def __init__(self, process: subprocess.Popen[str], log_path: Path) -> None:
        assert process.stdout is not None
        self.process = process
        self.log_path = log_path
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._pump = threading.Thread(
            target=_pump, args=(process.stdout, self._lines), daemon=True
        )
        self._pump.start()
        first = self.next_line()
        found = BANNER.fullmatch(first or "")
        assert found, f"no banner: {first!r}; stderr: {self.log()}"
        self.url = found[1]
        self.cli: AwsCli | None = None  # started by the first ``aws`` call

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def next_line(self) -> str | None:
        """The next stdout line; None once stdout is closed."""
        return self._lines.get(timeout=STARTUP_TIMEOUT)

    def stop(self, signum: int) -> tuple[int, list[str]]:
        """Send ``signum``; the exit status and the stdout lines not read yet.

        The CLI process (a client that keeps its connections open) ends first, as a
        script's ``aws`` calls would have."""
        if self.cli is not None:
            self.cli.close()
            self.cli = None
        self.process.send_signal(signum)
        status = self.process.wait(timeout=COMMAND_TIMEOUT)
        rest = []
        while (line := self.next_line()) is not None:
            rest.append(line)
        return status, rest

    def log(self) -> str:
        return self.log_path.read_text()

    def kill(self) -> None:
        """End the process (and its CLI process) if it still runs, then release stdout."""
        if self.cli is not None:
            self.cli.close()
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=COMMAND_TIMEOUT)
        self._pump.join(timeout=COMMAND_TIMEOUT)  # stdout reaches EOF once the process ends
        assert self.process.stdout is not None
        self.process.stdout.close()


def _pump(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line.rstrip("\n"))
    lines.put(None)


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Served]]:
    """Start ``python -m s3batch_mock serve --port 0 <options>``; killed at teardown."""
    started: list[subprocess.Popen[str]] = []
    served: list[Served] = []

    def start(*options: str) -> Served:
        log_path = tmp_path / f"serve-{len(started)}.stderr"
        with log_path.open("w") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "s3batch_mock", "serve", "--port", "0", *options],
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                env=child_env(tmp_path),
                cwd=tmp_path,
            )
        started.append(process)
        served.append(Served(process, log_path))
        return served[-1]

    try:
        yield start
    finally:
        for server in served:
            server.kill()
        for process in started:  # one whose banner never came
            if process.poll() is None:
                process.kill()
                process.wait(timeout=COMMAND_TIMEOUT)


#: The AWS CLI as a process of its own that runs one command per line of its stdin (a
#: JSON list of arguments) and answers each with one JSON line: exit status, stdout,
#: stderr. Each command gets a fresh ``create_clidriver()``, as ``aws`` would; only the
#: interpreter start and the CLI's imports (most of an ``aws`` call's cost) happen once.
CLI_DRIVER = """
import contextlib, io, json, sys
from awscli.clidriver import create_clidriver
for line in sys.stdin:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = create_clidriver().main(json.loads(line))
        except SystemExit as exc:
            status = exc.code if isinstance(exc.code, int) else 1
    print(json.dumps([status, out.getvalue(), err.getvalue()]), file=sys.__stdout__, flush=True)
"""


class AwsCli:
    """``aws`` against one served process, as a separate process (see ``CLI_DRIVER``)."""

    def __init__(self, url: str, tmp_path: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", CLI_DRIVER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=aws_env(url, tmp_path),
            cwd=tmp_path,
        )
        self._answers: queue.Queue[str | None] = queue.Queue()
        assert self.process.stdout is not None
        threading.Thread(
            target=_pump, args=(self.process.stdout, self._answers), daemon=True
        ).start()

    def run(self, *args: str) -> tuple[int, str, str]:
        """One command: its exit status, stdout and stderr."""
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(list(args)) + "\n")
        self.process.stdin.flush()
        answer = self._answers.get(timeout=COMMAND_TIMEOUT)
        assert answer is not None, f"the CLI process ended: {self.close()}"
        status, out, err = json.loads(answer)
        return int(status), str(out), str(err)

    def close(self) -> str:
        """End the process; what it wrote to stderr."""
        if self.process.stdin is not None and not self.process.stdin.closed:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=COMMAND_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=COMMAND_TIMEOUT)
        assert self.process.stderr is not None
        err = self.process.stderr.read()
        self.process.stderr.close()
        assert self.process.stdout is not None
        self.process.stdout.close()
        return err


def aws_run(served: Served, tmp_path: Path, *args: str) -> tuple[int, str, str]:
    """``aws <args>`` through the served process's CLI process: status, stdout, stderr."""
    if served.cli is None:
        served.cli = AwsCli(served.url, tmp_path)
    return served.cli.run(*args)


def aws(served: Served, tmp_path: Path, *args: str) -> str:
    """``aws <args>`` as a separate process; its stdout (it must succeed)."""
    status, out, err = aws_run(served, tmp_path, *args)
    assert status == 0, f"aws {' '.join(args)} exited {status}\n{out}\n{err}"
    return out


def aws_json(served: Served, tmp_path: Path, *args: str) -> Any:
    return json.loads(aws(served, tmp_path, *args))


def control(served: Served, method: str, name: str) -> Any:
    """``/_s3batch/<name>`` through urllib, straight to the server (no proxy)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    data = b"" if method == "POST" else None
    request = urllib.request.Request(f"{served.url}/_s3batch/{name}", data=data, method=method)
    with opener.open(request, timeout=COMMAND_TIMEOUT) as response:
        return json.loads(response.read())


def write_inputs(root: Path, keys: list[str], manifest_key: str) -> bytes:
    """Files ``root/<key>`` and a CSV manifest of them at ``root/<manifest_key>``."""
    for key in keys:
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f"photo {key}".encode())
    manifest = "".join(f"batch,{quote(key)}\n" for key in keys).encode()
    (root / manifest_key).parent.mkdir(parents=True, exist_ok=True)
    (root / manifest_key).write_bytes(manifest)
    return manifest


def job_arguments(etag: str, manifest_key: str, **report: Any) -> list[str]:
    return [
        "--account-id",
        ACCOUNT,
        "--no-confirmation-required",
        "--operation",
        json.dumps({"S3PutObjectTagging": {"TagSet": [{"Key": "retagged", "Value": "yes"}]}}),
        "--manifest",
        json.dumps(
            {
                "Spec": {"Format": "S3BatchOperations_CSV_20180820", "Fields": ["Bucket", "Key"]},
                "Location": {"ObjectArn": f"arn:aws:s3:::batch/{manifest_key}", "ETag": etag},
            }
        ),
        "--report",
        json.dumps(report or {"Enabled": False}),
        "--priority",
        "10",
        "--role-arn",
        ROLE,
    ]


# --------------------------------------------------------------------------- serve


@pytest.mark.parametrize("mode", MODES)
def test_the_aws_cli_runs_a_job_against_serve_until_sigterm(
    serve: Callable[..., Served], tmp_path: Path, mode: str
) -> None:
    served = serve("--mode", mode)
    keys = ["photos/beach.jpg", "photos/city night.jpg", "photos/snow+ice.jpg"]
    write_inputs(tmp_path / "upload", keys, "../manifest.csv")

    assert aws(served, tmp_path, "s3", "mb", "s3://batch").strip() == "make_bucket: batch"
    aws(served, tmp_path, "s3", "cp", "--recursive", "upload", "s3://batch/")
    aws(served, tmp_path, "s3", "cp", "manifest.csv", "s3://batch/manifests/retag.csv")
    head = aws_json(
        served,
        tmp_path,
        "s3api",
        "head-object",
        "--bucket",
        "batch",
        "--key",
        "manifests/retag.csv",
    )
    manifest = (tmp_path / "manifest.csv").read_bytes()
    assert head["ETag"] == f'"{hashlib.md5(manifest).hexdigest()}"'
    assert head["ContentLength"] == len(manifest)

    report = {
        "Enabled": True,
        "Bucket": "arn:aws:s3:::batch",
        "Prefix": "reports",
        "Format": "Report_CSV_20180820",
        "ReportScope": "AllTasks",
    }
    arguments = job_arguments(head["ETag"], "manifests/retag.csv", **report)
    job_id = aws_json(served, tmp_path, "s3control", "create-job", *arguments)["JobId"]

    listed = aws_json(served, tmp_path, "s3control", "list-jobs", "--account-id", ACCOUNT)
    assert [job["JobId"] for job in listed["Jobs"]] == [job_id]
    # poll progression: ListJobs and each DescribeJob step the job once.
    statuses = [listed["Jobs"][0]["Status"]]
    for _ in range(10):  # a safety cap
        described = aws_json(
            served,
            tmp_path,
            "s3control",
            "describe-job",
            "--account-id",
            ACCOUNT,
            "--job-id",
            job_id,
        )["Job"]
        statuses.append(described["Status"])
        if described["Status"] == "Complete":
            break
    assert statuses == ["Preparing", "Ready", "Active", "Completing", "Complete"]
    assert described["ProgressSummary"]["NumberOfTasksSucceeded"] == len(keys)

    tagging = aws_json(
        served, tmp_path, "s3api", "get-object-tagging", "--bucket", "batch", "--key", keys[1]
    )
    assert tagging["TagSet"] == [{"Key": "retagged", "Value": "yes"}]

    listing = aws(served, tmp_path, "s3", "ls", "--recursive", "s3://batch/reports/")
    reported = [line.split(maxsplit=3)[3] for line in listing.splitlines()]
    assert reported[0] == f"reports/job-{job_id}/manifest.json"
    assert [re.sub(r"[0-9a-f]{40}", "<id>", key) for key in reported[1:]] == [
        f"reports/job-{job_id}/results/<id>.csv"
    ]

    state = control(served, "GET", "state")
    [job] = state["jobs"]
    assert job["job_id"] == job_id
    assert job["status_history"] == [
        "New",
        "Preparing",
        "Ready",
        "Active",
        "Completing",
        "Complete",
    ]
    assert state["buckets"]["batch"] == sorted(["manifests/retag.csv", *keys, *reported])
    operations = [call["operation"] for call in state["calls"]]
    assert operations == ["CreateJob", "ListJobs", *["DescribeJob"] * 4]

    status, rest = served.stop(signal.SIGTERM)

    assert status == 0
    assert rest[-1] == f"s3batch_mock: stopped ({len(operations)} s3control calls served)"
    log = served.log()  # one line per request; s3control arrived in proxy form
    assert f"GET http://{ACCOUNT}.127.0.0.1:{served.port}/v20180820/jobs -> 200" in log
    assert f"PUT {served.url}/batch/manifests/retag.csv -> 200" in log
    assert "Traceback" not in log


@pytest.mark.parametrize("mode", MODES)
def test_a_script_lists_v1_deletes_buckets_and_asks_iam_and_sts(
    serve: Callable[..., Served], tmp_path: Path, mode: str
) -> None:
    """What gen3's replicate.sh and robotocore's tests needed beside the job calls."""
    served = serve("--mode", mode, "--quiet")
    aws(served, tmp_path, "s3", "mb", "s3://scratch")
    (tmp_path / "a.txt").write_text("a")
    aws(served, tmp_path, "s3", "cp", "a.txt", "s3://scratch/dir/a.txt")

    listed = aws_json(served, tmp_path, "s3api", "list-objects", "--bucket", "scratch")
    assert [item["Key"] for item in listed["Contents"]] == ["dir/a.txt"]
    aws(served, tmp_path, "s3", "rm", "s3://scratch/dir/a.txt")
    aws(served, tmp_path, "s3api", "delete-bucket", "--bucket", "scratch")
    assert "scratch" not in control(served, "GET", "state")["buckets"]

    iam = ["iam", "get-role", "--role-name", "batch-operations"]
    if mode == "moto":
        policy = json.dumps({"Version": "2012-10-17", "Statement": []})
        aws(served, tmp_path, "iam", "create-role", "--role-name", "batch-operations",
            "--assume-role-policy-document", policy)  # fmt: skip
        assert aws_json(served, tmp_path, *iam)["Role"]["RoleName"] == "batch-operations"
        identity = aws_json(served, tmp_path, "sts", "get-caller-identity")
        assert identity["Account"] == ACCOUNT
    else:  # embedded: S3 Batch and the S3 calls jobs need, and a pointer to moto mode
        status, _, err = aws_run(served, tmp_path, *iam)
        assert status != 0
        assert "s3batch_mock[server]" in err


def test_sigint_stops_the_server_cleanly(serve: Callable[..., Served]) -> None:
    served = serve("--quiet")
    assert control(served, "GET", "state")["jobs"] == []

    status, rest = served.stop(signal.SIGINT)

    assert status == 0
    url = served.url
    assert f"  export AWS_ENDPOINT_URL={url} HTTP_PROXY={url} NO_PROXY= no_proxy=" in rest
    assert rest[-1] == "s3batch_mock: stopped (0 s3control calls served)"
    assert STOPPED.fullmatch(rest[-1])
    assert served.log() == ""  # --quiet: no request log, and no KeyboardInterrupt traceback


def test_manual_progression_waits_for_post_run(
    serve: Callable[..., Served], tmp_path: Path
) -> None:
    served = serve("--progression", "manual", "--quiet")
    keys = ["photos/a.jpg", "photos/b c.jpg"]
    manifest = write_inputs(tmp_path / "upload", keys, "manifests/m.csv")
    etag = hashlib.md5(manifest).hexdigest()
    aws(served, tmp_path, "s3", "mb", "s3://batch")
    aws(served, tmp_path, "s3", "cp", "--recursive", "upload", "s3://batch/")

    arguments = job_arguments(etag, "manifests/m.csv")
    job_id = aws_json(served, tmp_path, "s3control", "create-job", *arguments)["JobId"]
    describe = ["s3control", "describe-job", "--account-id", ACCOUNT, "--job-id", job_id]
    assert aws_json(served, tmp_path, *describe)["Job"]["Status"] == "New"

    state = control(served, "POST", "run")

    assert state["settings"]["progression"] == "manual"
    assert [job["status"] for job in state["jobs"]] == ["Complete"]
    job = aws_json(served, tmp_path, *describe)["Job"]
    assert (job["Status"], job["ProgressSummary"]["NumberOfTasksSucceeded"]) == ("Complete", 2)
    status, rest = served.stop(signal.SIGTERM)
    assert (status, rest[-1]) == (0, "s3batch_mock: stopped (3 s3control calls served)")


# --------------------------------------------------------------------------- command line


def test_serve_help_lists_the_options(tmp_path: Path) -> None:
    result = run_serve(tmp_path, "--help")

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: python -m s3batch_mock serve")
    for option in [
        "--host HOST",
        "--port PORT",
        "--progression {poll,manual,clock}",
        "--step-seconds STEP_SECONDS",
        "--max-active-jobs MAX_ACTIVE_JOBS",
        "--tasks-per-step TASKS_PER_STEP",
        "--quiet",
    ]:
        assert option in result.stdout, option
    assert "0 picks a free one" in result.stdout


def run_serve(tmp_path: Path, *options: str) -> subprocess.CompletedProcess[str]:
    """``serve <options>`` that is expected to exit at once (``--help``, a refusal; the
    timeout is a safety net: a server that started anyway would serve until it ends)."""
    return subprocess.run(
        [sys.executable, "-m", "s3batch_mock", "serve", *options],
        env=child_env(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )


def test_a_port_in_use_is_a_one_line_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        result = run_serve(tmp_path, "--port", str(port), "--quiet")

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"s3batch_mock: cannot serve on 127.0.0.1:{port}: Address already in use. "
        "Pick another --port (0-65535), or --port 0 for a free one.\n"
    )


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--tasks-per-step", "0"], "tasks_per_step must be at least 1, not 0"),
        (["--step-seconds", "-1"], "step_seconds must be greater than 0, not -1.0"),
    ],
)
def test_settings_the_mock_refuses_are_a_one_line_error(
    tmp_path: Path, option: list[str], message: str
) -> None:
    result = run_serve(tmp_path, "--port", "0", *option)

    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"s3batch_mock: {message}\n"


def test_a_port_out_of_range_is_a_one_line_error(tmp_path: Path) -> None:
    result = run_serve(tmp_path, "--port", "70000")

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "70000" in result.stderr


@pytest.mark.parametrize(
    ("host", "warned"), [("127.0.0.1", False), ("127.0.0.2", False), ("0.0.0.0", True)]
)
def test_the_banner_warns_only_off_loopback(host: str, warned: bool) -> None:
    server = S3BatchServer(host)  # bound, never started: only the banner is wanted
    try:
        banner = _banner(server)
    finally:
        server.stop()
    assert banner.splitlines()[0].endswith(f"on http://{host}:{server.port}")
    assert ("WARNING: not bound to loopback" in banner) is warned
