"""Server throughput: DescribeJob through ``S3BatchServer`` with 1, 4 and 16 concurrent
clients, against moto's own server answering a comparable s3control call.

Run with ``nox -s benchmarks`` (every benchmark) or ``python benchmarks/bench_server.py``
(``--quick`` for a smoke run). Both servers run in this process, each on its own
loopback port, and are measured in alternating batches; see ``_harness.py``.

Goal (issue 12, item 8): at each level of concurrency, a DescribeJob through our server
takes at most as long as moto's server takes to answer GetPublicAccessBlock (after
PutPublicAccessBlock), i.e. a time ratio <= 1.0, so ours serves at least as many
requests per second.

How each side is driven, identically:

- N threads, each with its own boto3 s3control client pointed at the server the
  documented way (docs/server.md: the server's URL as endpoint URL *and* HTTP proxy, so
  ``123456789012.127.0.0.1`` is never resolved); each client is warmed by one call;
- a batch: every thread, released together by a barrier, makes its share of the
  batch's calls; the batch's wall time divided by its calls is the seconds per request
  (its inverse, requests per second, is in the notes);
- retries off (``total_max_attempts=1``), so an error fails the benchmark instead of
  hiding in a retry.

moto has no S3 Batch job calls; GetPublicAccessBlock is its s3control call closest to
DescribeJob: a GET of one account-level resource, answered with an XML structure.
Clients, servers and the GIL share this process and its cores alike on both sides.
"""

from __future__ import annotations

import gc
import importlib
import logging
import math
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import _harness
import boto3
from botocore.config import Config

from s3batch_mock import S3BatchServer

ACCOUNT = _harness.ACCOUNT
REGION = "us-east-1"
LEVELS = (1, 4, 16)
GOAL = 1.0
_PUBLIC_ACCESS_BLOCK = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


def client_for(url: str) -> Any:
    """An s3control client that reaches ``url`` as docs/server.md says (endpoint + proxy)."""
    return boto3.client(
        "s3control",
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(proxies={"http": url}, retries={"total_max_attempts": 1}),
    )


# --------------------------------------------------------------------------- the servers


@contextmanager
def our_server() -> Iterator[tuple[str, str]]:
    """Our server with one completed job in it: (URL, job ID)."""
    try:
        # The embedded store: the job calls are served by our own code in either mode,
        # and moto mode would start moto's mock_aws in this process beside moto's server.
        server = S3BatchServer(host="127.0.0.1", port=0, mode="embedded")
    except TypeError:  # a server without modes
        server = S3BatchServer(host="127.0.0.1", port=0)
    with server:
        batch = server.batch
        job_id = _harness.tagging_job(batch, client_for(server.url))
        batch.run(job_id)  # Complete: DescribeJob then shows everything and moves nothing
        yield server.url, job_id


@contextmanager
def moto_server(threaded_moto_server: Any) -> Iterator[str]:
    """moto's ThreadedMotoServer with a public access block set: its URL."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    server = threaded_moto_server(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        url = f"http://{host}:{port}"
        client_for(url).put_public_access_block(
            AccountId=ACCOUNT, PublicAccessBlockConfiguration=_PUBLIC_ACCESS_BLOCK
        )
        yield url
    finally:
        server.stop()


def moto_server_class() -> tuple[Any, str | None]:
    """moto's ``ThreadedMotoServer``, or None and why it cannot run here."""
    try:
        for dependency in ("flask", "werkzeug"):
            importlib.import_module(dependency)
        module = importlib.import_module("moto.server")
    except ImportError as error:
        return None, f"{error}; moto's server needs its extra: pip install 'moto[server]'"
    return module.ThreadedMotoServer, None


# --------------------------------------------------------------------------- timing


def burst(calls: list[Callable[[], object]], per_client: int) -> float:
    """Every call (one per client) made ``per_client`` times, each in its own thread, all
    released together: seconds of wall time per request."""
    failures: list[BaseException] = []
    gate = threading.Barrier(len(calls) + 1)

    def work(call: Callable[[], object]) -> None:
        gate.wait()
        try:
            for _ in range(per_client):
                call()
        except BaseException as error:  # reported in the main thread
            failures.append(error)

    threads = [threading.Thread(target=work, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    gc.collect()
    gc.disable()
    try:
        gate.wait()
        started = time.perf_counter()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
    finally:
        gc.enable()
    if failures:
        raise RuntimeError(f"{len(failures)} client(s) failed") from failures[0]
    return elapsed / (len(calls) * per_client)


def level_row(
    ours: tuple[str, str], moto_url: str, clients: int, *, requests: int, repeats: int
) -> _harness.Row:
    url, job_id = ours
    per_client = max(1, requests // clients)
    mine = [client_for(url) for _ in range(clients)]
    theirs = [client_for(moto_url) for _ in range(clients)]
    our_calls: list[Callable[[], object]] = [
        partial(client.describe_job, AccountId=ACCOUNT, JobId=job_id) for client in mine
    ]
    moto_calls: list[Callable[[], object]] = [
        partial(client.get_public_access_block, AccountId=ACCOUNT) for client in theirs
    ]
    for call in [*our_calls, *moto_calls]:  # warm: connections, endpoint rules, parsers
        call()
    answer: Any = mine[0].describe_job(AccountId=ACCOUNT, JobId=job_id)
    if answer["Job"]["Status"] != "Complete":
        raise RuntimeError(f"the benchmark job is {answer['Job']['Status']}, not Complete")
    pair = _harness.paired(
        lambda: burst(our_calls, per_client),
        lambda: burst(moto_calls, per_client),
        repeats=repeats,
    )
    for client in [*mine, *theirs]:
        client.close()
    plural = "client" if clients == 1 else "clients"
    return _harness.Row(
        f"server DescribeJob, {clients} {plural}",
        "S3BatchServer DescribeJob",
        pair.subject,
        "moto server GetPublicAccessBlock",
        pair.baseline,
        pair.ratio,
        GOAL,
        f"{1 / pair.subject:,.0f} vs {1 / pair.baseline:,.0f} requests/s "
        f"({clients} concurrent {plural}, {per_client * clients} requests a batch); "
        "seconds are wall time per request",
    )


def skipped_row(reason: str) -> _harness.Row:
    return _harness.Row(
        "server DescribeJob, 1/4/16 clients",
        "SKIPPED",
        math.nan,
        "moto server not installed",
        math.nan,
        math.nan,
        None,
        reason,
    )


def main() -> int:
    args = _harness.options(__doc__.splitlines()[0] if __doc__ else None)
    # docs/server.md: a NO_PROXY listing 127.0.0.1 would make the prefixed host skip
    # the proxy. HTTP_PROXY is ignored: each client is given its proxy explicitly.
    for name in ("NO_PROXY", "no_proxy"):
        os.environ.pop(name, None)
    threaded_moto_server, missing = moto_server_class()
    if missing is not None:
        print(f"bench_server: skipped, {missing}", file=sys.stderr)
        _harness.report([skipped_row(missing)], args)
        return 0
    requests, repeats = (48, 3) if args.quick else (320, 7)
    with our_server() as ours, moto_server(threaded_moto_server) as moto_url:
        rows = [
            level_row(ours, moto_url, clients, requests=requests, repeats=repeats)
            for clients in LEVELS
        ]
    _harness.report(rows, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
