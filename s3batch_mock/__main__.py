"""``python -m s3batch_mock`` (or ``s3batch-mock``): ``demo`` (a guided tour,
in-process) and ``serve`` (HTTP). Everything ``serve`` needs to be used is in its
``--help`` and its banner: a wheel ships no docs folder."""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import boto3

from . import __version__
from ._backend import PROGRESSIONS
from ._mock import mock_s3batch
from .server import MODES, S3BatchServer

ACCOUNT = "123456789012"
DEFAULT_PORT = 5050
_ROLE = f"arn:aws:iam::{ACCOUNT}:role/batch-operations"
_PHOTOS = [f"2024/{place}.jpg" for place in ("beach day", "city night", "snow", "forest")] + [
    f"2025/{place}.jpg" for place in ("desert", "harbour", "lake", "market")
]
_MISSING = "2025/deleted last week.jpg"  # listed in the manifest, absent from the bucket
_REST = ("Suspended", "Complete", "Failed", "Cancelled")


def demo() -> int:
    """A guided tour of one S3 Batch job's life, then a cancelled job and an error."""
    started = time.perf_counter()
    print("s3batch_mock demo: S3 Batch Operations through a real boto3 client, no AWS.\n")
    with mock_s3batch(tasks_per_step=3) as batch:
        client: Any = boto3.client("s3control", region_name="us-east-1")

        _title(1, "A real manifest")
        for key in _PHOTOS:
            batch.objects.put("demo-photos", key, b"\xff\xd8 not really a jpeg")
        batch.objects.create_bucket("demo-reports")
        rows = [f"demo-photos,{quote(key)}" for key in [*_PHOTOS, _MISSING]]
        etag = batch.objects.put("demo-manifests", "retag.csv", "\n".join(rows) + "\n")
        print(f"s3://demo-manifests/retag.csv, {len(rows)} rows (bucket,key; keys URL-encoded):")
        _lines([*rows[:2], "...", *rows[-1:]])
        print(f"The last object does not exist: its task will fail. ETag {etag}")

        _title(2, "CreateJob: tag every object; confirmation required; full report")
        job_id = _tagging_job(
            client,
            etag,
            {"reviewed": "yes"},
            ConfirmationRequired=True,
            Report={
                "Enabled": True,
                "Bucket": "arn:aws:s3:::demo-reports",
                "Prefix": "batch",
                "Format": "Report_CSV_20180820",
                "ReportScope": "AllTasks",
            },
            Priority=10,
            Description="Tag reviewed photos",
        )
        print(f"JobId {job_id}")

        _title(3, "Polling DescribeJob: the job reads its manifest, then waits")
        job = _poll(client, job_id)
        print(f"It rests in {job['Status']} ({job.get('SuspendedCause')}) until confirmed.")

        _title(4, "UpdateJobStatus Ready confirms it")
        answer = client.update_job_status(
            AccountId=ACCOUNT, JobId=job_id, RequestedJobStatus="Ready"
        )
        print(f'UpdateJobStatus -> "{answer["Status"]}"')

        _title(5, "Progress while it runs (3 tasks per DescribeJob here)")
        job = _poll(client, job_id)
        print(f"History: {' -> '.join(batch.job(job_id).status_history)}")
        tags = batch.objects.get_tags("demo-photos", _PHOTOS[0])
        print(f"s3://demo-photos/{_PHOTOS[0]} now has tags {tags}")

        _title(6, "The completion report")
        for key in batch.objects.keys("demo-reports", "batch/"):
            body = batch.objects.get("demo-reports", key).decode()
            print(f"s3://demo-reports/{key}")
            if key.endswith(".json"):
                files = json.loads(body)["Results"]
                print(f"  manifest.json lists {len(files)} result files:")
            else:
                lines = body.splitlines()
                _lines([*lines[:2], *(["..."] if len(lines) > 2 else [])])

        _title(7, "A job cancelled while it runs")
        second = _tagging_job(
            client,
            etag,
            {"archived": "no"},
            ConfirmationRequired=False,
            Report={"Enabled": False},
            Priority=20,
        )
        _poll(client, second, until=lambda job: job["ProgressSummary"]["NumberOfTasksSucceeded"])
        answer = client.update_job_status(
            AccountId=ACCOUNT,
            JobId=second,
            RequestedJobStatus="Cancelled",
            StatusUpdateReason="Wrong tag",
        )
        print(f'UpdateJobStatus Cancelled on a running job -> "{answer["Status"]}"')
        _poll(client, second)

        _title(8, "An error, as boto3 raises it")
        try:
            client.update_job_status(AccountId=ACCOUNT, JobId=job_id, RequestedJobStatus="Ready")
        except client.exceptions.JobStatusException as error:
            status = error.response["ResponseMetadata"]["HTTPStatusCode"]
            print(f"client.exceptions.JobStatusException (HTTP {status}):")
            print(f"  {error.response['Error']['Message']}")

        print(
            f"\nDone in {time.perf_counter() - started:.1f} s, all in this process on the "
            "embedded store. Next: `python -m s3batch_mock serve --help`."
        )
        return 0 if job["Status"] == "Complete" else 1


def _title(number: int, text: str) -> None:
    print(f"\n{number}. {text}")


def _lines(lines: list[str]) -> None:
    for line in lines:
        print(f"     {line}")


def _tagging_job(client: Any, etag: str, tags: dict[str, str], **settings: Any) -> str:
    """CreateJob: tag every object the demo's manifest lists; returns the JobId."""
    job_id: str = client.create_job(
        AccountId=ACCOUNT,
        Operation={
            "S3PutObjectTagging": {"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]}
        },
        Manifest={
            "Spec": {"Format": "S3BatchOperations_CSV_20180820", "Fields": ["Bucket", "Key"]},
            "Location": {"ObjectArn": "arn:aws:s3:::demo-manifests/retag.csv", "ETag": etag},
        },
        RoleArn=_ROLE,
        **settings,
    )["JobId"]
    return job_id


def _poll(client: Any, job_id: str, until: Any = None) -> dict[str, Any]:
    """DescribeJob until the job rests (or ``until(job)`` holds); prints what each call sees."""
    while True:
        job: dict[str, Any] = client.describe_job(AccountId=ACCOUNT, JobId=job_id)["Job"]
        done = job["ProgressSummary"]
        print(
            f"  DescribeJob: {job['Status']:<10} {done['NumberOfTasksSucceeded']:>2} succeeded, "
            f"{done['NumberOfTasksFailed']} failed of {done['TotalNumberOfTasks']} tasks"
        )
        if job["Status"] in _REST or (until is not None and until(job)):
            return job


def run_server(args: argparse.Namespace) -> int:
    """Serve until SIGINT or SIGTERM, then stop cleanly (exit status 0)."""
    try:
        server = S3BatchServer(
            args.host,
            args.port,
            progression=args.progression,
            step_seconds=args.step_seconds,
            max_active_jobs=args.max_active_jobs,
            tasks_per_step=args.tasks_per_step,
            mode="embedded" if args.embedded else args.mode,
            idle_timeout=args.idle_timeout,
            log=None if args.quiet else sys.stderr,
        )
    except socket.gaierror as exc:
        print(f"s3batch_mock: cannot bind to host {args.host!r}: {exc.strerror}.", file=sys.stderr)
        return 2
    except (OSError, OverflowError) as exc:
        reason = (exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)).rstrip(
            "."
        )
        print(
            f"s3batch_mock: cannot serve on {args.host}:{args.port}: {reason}. "
            "Pick another --port (0-65535), or --port 0 for a free one.",
            file=sys.stderr,
        )
        return 2
    except (TypeError, ValueError) as exc:  # settings the mock refuses, e.g. --tasks-per-step 0
        print(f"s3batch_mock: {exc}", file=sys.stderr)
        return 2
    if server.mode == "moto":
        # The server's own clients (jobs reaching moto's S3) must reach moto in this
        # process, not the endpoint a shell exported for scripts (this very server).
        for name in [name for name in os.environ if name.startswith("AWS_ENDPOINT_URL")]:
            del os.environ[name]
    stopping = threading.Event()

    def _stop(signum: int, frame: object) -> None:
        stopping.set()

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.start()
        print(_banner(server), flush=True)
        while not stopping.wait(0.5):
            pass
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print(f"s3batch_mock: stopped ({len(server.batch.calls)} s3control calls served)", flush=True)
    return 0


def _banner(server: S3BatchServer) -> str:
    url = server.url
    warning = (
        ""
        if _is_loopback(server.host)
        else "\nWARNING: not bound to loopback; anyone who can reach this port can use it."
    )
    if server.mode == "moto":
        mode = "Mode: moto - every other AWS call (S3 in full, IAM, STS, Lambda, ...) is moto's."
    else:
        mode = (
            "Mode: embedded - S3 Batch jobs and the S3 object calls they need. For S3 in "
            "full, IAM, STS\nand the rest: pip install 's3batch_mock[server]' (moto mode)."
        )
    return f"""s3batch_mock {__version__} serving S3 Batch Operations on {url}{warning}
{mode}
No DNS or hosts-file change needed: use the server as endpoint and as HTTP proxy.
  export AWS_ENDPOINT_URL={url} HTTP_PROXY={url} NO_PROXY= no_proxy=
  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1
  aws s3 mb s3://manifests && aws s3control list-jobs --account-id 123456789012
State: curl {url}/_s3batch/state   Reset: curl -X POST {url}/_s3batch/reset
Stop with Ctrl-C (or SIGTERM)."""


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


_SERVE_EPILOG = f"""\
modes:
  moto       every request but the S3 Batch job calls is answered by moto's server
             application in this process, sharing state with the jobs: S3 in full, IAM,
             STS, Lambda, CloudFormation and the rest. Needs: pip install 's3batch_mock[server]'
  embedded   S3 Batch job calls and the S3 object calls jobs need, from the embedded store:
             ListBuckets, CreateBucket, HeadBucket, DeleteBucket, ListObjects(V2),
             PutObject, GetObject, HeadObject, DeleteObject(s), Get/PutObjectTagging
  auto       moto when moto's server parts are installed, else embedded (the default)

the recipe (no DNS or hosts-file change):
  S3 Control sends every call to <account-id>.<endpoint host>, a name that does not
  resolve, so give clients the server's URL as endpoint AND as HTTP proxy; a proxied
  request names its host without any lookup. Use http://, never https://. Clear both
  NO_PROXY and no_proxy: a bypass for 127.0.0.1 or localhost also matches
  123456789012.127.0.0.1 and sends the request around the proxy.

  URL=http://127.0.0.1:{DEFAULT_PORT}
  export AWS_ENDPOINT_URL=$URL HTTP_PROXY=$URL NO_PROXY= no_proxy=
  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1
  aws s3 mb s3://manifests && aws s3control list-jobs --account-id 123456789012

  boto3:  boto3.client("s3control", endpoint_url=URL,
              config=botocore.config.Config(proxies={{"http": URL}}))
  Node:   an agent that tunnels (CONNECT) or proxies to URL; the server answers CONNECT.

control endpoints (POST only where they change state; refused to web pages):
  GET  /_s3batch/state               settings, jobs, buckets and calls, as JSON
  POST /_s3batch/reset               drop jobs, objects (moto's state too), calls, faults
  POST /_s3batch/run[?job_id=ID]     run one job, or all, until they rest
  POST /_s3batch/step?job_id=ID      one automatic transition

SIGINT (Ctrl-C) and SIGTERM stop the server cleanly (exit status 0).
"""


def _prog() -> str:
    """How the user called us: ``s3batch-mock`` (the console script) or ``-m``."""
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    return "python -m s3batch_mock" if name in ("", "__main__.py", "-c") else name


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=_prog(),
        description="Amazon S3 Batch Operations, offline: the s3control job API mocked "
        "in-process for boto3, or served over HTTP for the AWS CLI, scripts and other SDKs.",
    )
    parser.add_argument("--version", action="version", version=f"s3batch_mock {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="run a whole S3 Batch job lifecycle in-process")
    server = commands.add_parser(
        "serve",
        help="serve the mock over HTTP for the AWS CLI, scripts and other SDKs",
        description="Serve S3 Batch Operations (s3control job calls) over HTTP, beside "
        "moto's whole AWS surface (moto mode) or the embedded object store.",
        epilog=_SERVE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    server.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    server.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port ({DEFAULT_PORT}; 0 picks a free one)"
    )
    server.add_argument(
        "--mode", choices=MODES, default="auto", help="what answers other AWS calls (auto)"
    )
    server.add_argument(
        "--embedded", action="store_true", help="same as --mode embedded, even with moto installed"
    )
    server.add_argument("--progression", choices=PROGRESSIONS, default="poll")
    server.add_argument(
        "--step-seconds",
        type=float,
        default=1.0,
        help="clock mode step (1.0; over 0, at most a year)",
    )
    server.add_argument(
        "--max-active-jobs", type=int, default=None, help="per account and region (1 to 10**9)"
    )
    server.add_argument(
        "--tasks-per-step", type=int, default=1000, help="tasks per step (1000; 1 to 10**9)"
    )
    server.add_argument(
        "--idle-timeout",
        type=float,
        default=60.0,
        help="seconds before an idle connection is closed (60)",
    )
    server.add_argument("--quiet", action="store_true", help="do not log each request")
    args = parser.parse_args(argv)
    if args.command == "serve":
        return run_server(args)
    return demo()


if __name__ == "__main__":
    sys.exit(main())
