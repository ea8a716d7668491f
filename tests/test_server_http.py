"""The server's HTTP layer from raw sockets: framing, limits, timeouts, CONNECT, and who
may use the control endpoints.

Each framing case sends bytes no SDK would and checks two things: the answer (400, 413
or 431, then the connection closes) and that nothing changed (no object stored, no
reset run). Reads wait at most ``WAIT`` seconds: a safety net against a hang, never a
timing assertion.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import time
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.config
import pytest
from botocore.exceptions import ClientError

from s3batch_mock import S3BatchServer
from s3batch_mock.server._headers import metadata_value, safe_headers
from tests.conftest import ACCOUNT, ROLE

#: boto3 without its type stubs' per-service overloads (clients are used as Any).
_boto3: Any = boto3

pytestmark = [
    pytest.mark.xdist_group("server-http"),
    pytest.mark.slow,  # real sockets, timeouts and many connections
]

WAIT = 30.0


@pytest.fixture(scope="module")
def running() -> Iterator[S3BatchServer]:
    with S3BatchServer(mode="embedded", progression="manual") as server:
        yield server


@pytest.fixture
def server(running: S3BatchServer) -> Iterator[S3BatchServer]:
    running.batch.reset()
    running.batch.objects.create_bucket("inputs")
    yield running
    running.batch.reset()


def exchange(server: S3BatchServer, data: bytes, *, half_close: bool = True) -> bytes:
    """Send ``data`` on a new connection (then end our side), read until the server
    closes the connection; everything it answered."""
    with socket.create_connection((server.host, server.port), timeout=WAIT) as sock:
        sock.sendall(data)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        return read_to_close(sock)


def read_to_close(sock: socket.socket) -> bytes:
    received = b""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        chunk = sock.recv(65536)
        if not chunk:
            return received
        received += chunk
    raise AssertionError(f"the server kept the connection open: {received[:200]!r}")


def statuses(answer: bytes) -> list[int]:
    """The status codes of every response in ``answer`` (bodies here never hold one)."""
    return [int(code) for code in re.findall(rb"HTTP/1\.[01] ([0-9]{3}) ", answer)]


def request(method: str, target: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [f"{method} {target} HTTP/1.1", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def host(server: S3BatchServer) -> dict[str, str]:
    return {"Host": f"127.0.0.1:{server.port}"}


def job(server: S3BatchServer) -> str:
    """A job (manual progression: it stays New), to see that a reset did not happen."""
    etag = server.batch.objects.put("manifests", "m.csv", "inputs,a\n")
    client: Any = _boto3.client(
        "s3control",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=botocore.config.Config(proxies={"http": server.url}),
    )
    job_id: str = client.create_job(
        AccountId=ACCOUNT,
        Operation={"S3PutObjectTagging": {"TagSet": []}},
        Manifest={
            "Spec": {"Format": "S3BatchOperations_CSV_20180820", "Fields": ["Bucket", "Key"]},
            "Location": {"ObjectArn": "arn:aws:s3:::manifests/m.csv", "ETag": etag},
        },
        Report={"Enabled": False},
        Priority=1,
        RoleArn=ROLE,
    )["JobId"]
    return job_id


# --------------------------------------------------------------------------- framing


def test_a_body_shorter_than_its_content_length_is_400_and_not_stored(
    server: S3BatchServer,
) -> None:
    answer = exchange(
        server,
        request("PUT", "/inputs/cut", {**host(server), "Content-Length": "1000"}, b"abc"),
    )

    assert statuses(answer) == [400]
    assert server.batch.objects.keys("inputs") == []


def test_a_chunked_body_cut_short_is_400_and_not_stored(server: S3BatchServer) -> None:
    headers = {**host(server), "Transfer-Encoding": "chunked"}

    answer = exchange(server, request("PUT", "/inputs/cut", headers, b"a\r\n0123"))

    assert statuses(answer) == [400]
    assert server.batch.objects.keys("inputs") == []


def test_a_negative_content_length_cannot_smuggle_a_reset(server: S3BatchServer) -> None:
    job_id = job(server)
    smuggled = request("POST", "/_s3batch/reset", host(server))

    answer = exchange(
        server,
        request("PUT", "/inputs/x", {**host(server), "Content-Length": "-1"}, smuggled),
        half_close=False,
    )

    assert statuses(answer) == [400]
    assert [j.job_id for j in server.batch.jobs()] == [job_id]


@pytest.mark.parametrize("length", ["abc", "1e3", "0x10", "+5", "5, 5", ""])
def test_a_content_length_that_is_not_a_number_is_400(server: S3BatchServer, length: str) -> None:
    headers = {**host(server), "Content-Length": length}

    answer = exchange(server, request("PUT", "/inputs/x", headers, b"hello"))

    assert statuses(answer) == [400]
    assert server.batch.objects.keys("inputs") == []


@pytest.mark.parametrize(
    "body",
    [b"zz\r\nabc\r\n0\r\n\r\n", b"-3\r\nabc\r\n0\r\n\r\n", b"3\r\nabcdef\r\n0\r\n\r\n"],
    ids=["not-hex", "negative", "longer-than-said"],
)
def test_a_bad_chunk_is_400_and_not_stored(server: S3BatchServer, body: bytes) -> None:
    headers = {**host(server), "Transfer-Encoding": "chunked"}

    answer = exchange(server, request("PUT", "/inputs/x", headers, body), half_close=False)

    assert statuses(answer) == [400]
    assert server.batch.objects.keys("inputs") == []


def test_an_endless_chunk_size_line_is_400(server: S3BatchServer) -> None:
    headers = {**host(server), "Transfer-Encoding": "chunked"}
    endless = b"1" * 10 + b";" + b"x" * 8000  # no CRLF: the line never ends

    answer = exchange(server, request("PUT", "/inputs/x", headers, endless), half_close=False)

    assert statuses(answer) == [400]


def test_transfer_encoding_with_content_length_is_400(server: S3BatchServer) -> None:
    job_id = job(server)
    smuggled = request("POST", "/_s3batch/reset", host(server))
    headers = {**host(server), "Transfer-Encoding": "chunked", "Content-Length": "5"}

    answer = exchange(
        server, request("PUT", "/inputs/x", headers, b"0\r\n\r\n" + smuggled), half_close=False
    )

    assert statuses(answer) == [400]
    assert [j.job_id for j in server.batch.jobs()] == [job_id]
    assert server.batch.objects.keys("inputs") == []


@pytest.mark.parametrize("value", ["[::1", "[::1]:99999", "a/b", "host:port", "[zz::1]"])
def test_a_malformed_host_is_400_not_500(server: S3BatchServer, value: str) -> None:
    answer = exchange(server, request("GET", "/inputs/x", {"Host": value}))

    assert statuses(answer) == [400]
    assert b"Traceback" not in answer


def test_pipelined_requests_are_answered_in_order(server: S3BatchServer) -> None:
    server.batch.objects.put("inputs", "k", b"kept")
    one = request("GET", "/inputs/k", host(server))

    answer = exchange(server, one + request("GET", "/inputs/missing", host(server)) + one)

    assert statuses(answer) == [200, 404, 200]
    assert answer.count(b"kept") == 2


# --------------------------------------------------------------------------- limits


def test_an_s3control_body_over_1_mib_is_refused_before_it_is_sent(
    server: S3BatchServer,
) -> None:
    headers = {**host(server), "Content-Length": str(2 * 1024 * 1024)}

    # Only the headers go out: the answer comes without a byte of the body.
    answer = exchange(
        server, request("POST", f"/v20180820/jobs?x-id=CreateJob&a={ACCOUNT}", headers)
    )

    assert statuses(answer) == [413]
    assert server.batch.calls == []


def test_an_object_over_5_gib_is_refused_before_it_is_sent(server: S3BatchServer) -> None:
    headers = {**host(server), "Content-Length": str(6 * 1024**3)}

    answer = exchange(server, request("PUT", "/inputs/huge", headers))

    assert statuses(answer) == [413]


def test_headers_over_64_kib_are_431(server: S3BatchServer) -> None:
    headers = {**host(server), "x-amz-meta-big": "x" * (70 * 1024)}

    try:
        answer = exchange(server, request("PUT", "/inputs/x", headers, b""))
    except ConnectionResetError:
        # The server answered and closed without reading the rest of the headers; the
        # kernel may then reset the connection before the answer is read.
        answer = b"HTTP/1.1 431 "
    assert statuses(answer) == [431]
    assert server.batch.objects.keys("inputs") == []
    assert exchange(server, request("GET", "/_s3batch/state", host(server))).startswith(
        b"HTTP/1.1 200"
    )


def test_expect_100_continue_is_answered_before_the_body() -> None:
    with S3BatchServer(mode="embedded") as server:
        server.batch.objects.create_bucket("inputs")
        headers = {**host(server), "Content-Length": "5", "Expect": "100-continue"}
        with socket.create_connection((server.host, server.port), timeout=WAIT) as sock:
            sock.sendall(request("PUT", "/inputs/x", headers))
            assert sock.recv(25) == b"HTTP/1.1 100 Continue\r\n\r\n"
            sock.sendall(b"hello")
            sock.shutdown(socket.SHUT_WR)
            assert statuses(read_to_close(sock)) == [200]
        assert server.batch.objects.get("inputs", "x") == b"hello"


def test_idle_connections_are_closed_and_do_not_hold_the_server() -> None:
    with S3BatchServer(mode="embedded", idle_timeout=1) as server:
        idle = [
            socket.create_connection((server.host, server.port), timeout=WAIT) for _ in range(50)
        ]
        try:
            # Others are served while 50 connections sit idle.
            conn = http.client.HTTPConnection(server.host, server.port, timeout=WAIT)
            conn.request("GET", "/_s3batch/state")
            assert conn.getresponse().status == 200
            conn.close()
            # Each idle one is closed by the server: recv sees the end, not a timeout.
            for sock in idle:
                assert read_to_close(sock) == b""
        finally:
            for sock in idle:
                sock.close()


# --------------------------------------------------------------------------- CONNECT


def test_connect_to_the_server_tunnels_plain_http_to_it(server: S3BatchServer) -> None:
    server.batch.objects.put("inputs", "k", b"through the tunnel")
    target = f"{ACCOUNT}.localhost:{server.port}"
    tunneled = request("GET", "/inputs/k", {"Host": f"localhost:{server.port}"})

    with socket.create_connection((server.host, server.port), timeout=WAIT) as sock:
        sock.sendall(request("CONNECT", target, {"Host": target}))
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(1)
        assert statuses(head) == [200]
        assert b"chunked" not in head.lower()
        sock.sendall(tunneled + tunneled)  # the same connection, now a tunnel
        sock.shutdown(socket.SHUT_WR)
        answer = read_to_close(sock)

    assert statuses(answer) == [200, 200]
    assert answer.count(b"through the tunnel") == 2


def test_connect_to_a_foreign_host_never_leaves_the_machine(server: S3BatchServer) -> None:
    # The server runs in this process, under conftest's guard: a connection or lookup
    # it made towards the named host would fail the request, not reach AWS.
    server.batch.objects.put("inputs", "k", b"answered here")
    target = "s3.us-east-1.amazonaws.com:80"
    tunneled = request("GET", "/inputs/k", {"Host": target})

    with socket.create_connection((server.host, server.port), timeout=WAIT) as sock:
        sock.sendall(request("CONNECT", target, {"Host": target}))
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(1)
        assert statuses(head) == [200]
        sock.sendall(tunneled)
        sock.shutdown(socket.SHUT_WR)
        answer = read_to_close(sock)

    assert statuses(answer) == [200]
    assert answer.endswith(b"answered here")


@pytest.mark.parametrize(
    "target", ["s3.amazonaws.com", "s3.amazonaws.com:", "host:99999", "[::1:80", "a b:80", ""]
)
def test_connect_without_a_valid_host_and_port_is_refused(
    server: S3BatchServer, target: str
) -> None:
    answer = exchange(server, request("CONNECT", target or "/", {"Host": "localhost"}))

    assert statuses(answer)[:1] == [400]


def test_connect_to_port_443_is_refused(server: S3BatchServer) -> None:
    target = "s3.amazonaws.com:443"

    answer = exchange(server, request("CONNECT", target, {"Host": target}))

    assert statuses(answer) == [403]
    assert b"plain HTTP only" in answer


# --------------------------------------------------------------------------- control


def control_call(
    server: S3BatchServer, method: str, name: str, headers: dict[str, str]
) -> tuple[int, Any]:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=WAIT)
    try:
        conn.request(method, f"/_s3batch/{name}", body=b"" if method == "POST" else None,
                     headers=headers)  # fmt: skip
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://127.0.0.1.evil.example:8000"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Host": "rebound.example:5050"},
    ],
    ids=["web-origin", "null-origin", "lookalike-origin", "fetch-metadata", "rebinding"],
)
def test_a_web_page_cannot_reset_or_read_the_server(
    server: S3BatchServer, headers: dict[str, str]
) -> None:
    job_id = job(server)

    for method, name in (("POST", "reset"), ("POST", "run"), ("GET", "state")):
        status, answer = control_call(server, method, name, headers)
        assert status == 403, (method, name)
        assert "error" in answer
        assert "jobs" not in answer

    assert [j.job_id for j in server.batch.jobs()] == [job_id]
    assert server.batch.job(job_id).status == "New"  # run did not run it


@pytest.mark.parametrize("origin", ["http://localhost:3000", "http://127.0.0.1:5050", None])
def test_loopback_origins_and_plain_clients_may_reset(
    server: S3BatchServer, origin: str | None
) -> None:
    job(server)
    headers = {} if origin is None else {"Origin": origin}

    assert control_call(server, "POST", "reset", headers) == (200, {"reset": True})
    assert server.batch.jobs() == []


def test_state_changing_endpoints_refuse_get(server: S3BatchServer) -> None:
    job_id = job(server)

    status, answer = control_call(server, "GET", "reset", {})

    assert status == 405
    assert [j.job_id for j in server.batch.jobs()] == [job_id]
    assert "POST only" in answer["error"]


# --------------------------------------------------------------------------- headers


def s3_client(server: S3BatchServer) -> Any:
    return _boto3.client(
        "s3",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def test_non_ascii_metadata_is_served_rfc_2047_encoded(server: S3BatchServer) -> None:
    server.batch.objects.put("inputs", "priced", b"x", metadata={"price": "12 €", "plain": "ok"})

    for method in ("GET", "HEAD"):
        conn = http.client.HTTPConnection(server.host, server.port, timeout=WAIT)
        conn.request(method, "/inputs/priced")
        response = conn.getresponse()
        response.read()
        conn.close()
        assert response.status == 200
        assert response.getheader("x-amz-meta-price") == "=?UTF-8?B?MTIg4oKs?="
        assert response.getheader("x-amz-meta-plain") == "ok"
    head = s3_client(server).head_object(Bucket="inputs", Key="priced")
    assert head["Metadata"] == {"price": "=?UTF-8?B?MTIg4oKs?=", "plain": "ok"}


def test_rfc_2047_metadata_is_stored_decoded_and_round_trips(server: S3BatchServer) -> None:
    s3 = s3_client(server)

    s3.put_object(Bucket="inputs", Key="k", Body=b"x", Metadata={"city": "=?UTF-8?B?S8O2bG4=?="})

    assert server.batch.objects.head("inputs", "k").metadata == {"city": "Köln"}
    assert s3.head_object(Bucket="inputs", Key="k")["Metadata"] == {"city": "=?UTF-8?B?S8O2bG4=?="}


def test_hostile_header_values_leave_as_one_printable_line() -> None:
    given = [
        ("x-amz-meta-lone", "\ud800"),  # a lone surrogate
        ("x-amz-meta-crlf", "a\r\nSet-Cookie: x=1"),
        ("x-amz-meta-nul", "\x00\x7f"),
        ("x-amz-meta-moto", "caf\xc3\xa9"),  # moto's latin-1 reading of UTF-8
        ("bad name", "v"),
        ("x-split\r\nInjected", "v"),
    ]

    assert safe_headers(given) == [
        ("x-amz-meta-lone", "=?UTF-8?B?7aCA?="),
        ("x-amz-meta-crlf", "=?UTF-8?B?YQ0KU2V0LUNvb2tpZTogeD0x?="),
        ("x-amz-meta-nul", "=?UTF-8?B?AH8=?="),
        ("x-amz-meta-moto", "=?UTF-8?B?Y2Fmw6k=?="),
    ]


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("caf\xc3\xa9", "café"),  # UTF-8 bytes, read as latin-1 by the WSGI server
        ("caf\xe9", "caf\xe9"),  # not UTF-8: kept as sent
        ("=?UTF-8?B?7aCA?=", "=?UTF-8?B?7aCA?="),  # decodes to a lone surrogate: kept
        ("=?x-unknown?B?QQ==?=", "=?x-unknown?B?QQ==?="),  # unknown charset: kept
        ("=?UTF-8?B?QQ?=", "A"),
    ],
)
def test_received_metadata_values_decode_or_stay_as_sent(raw: str, stored: str) -> None:
    assert metadata_value(raw) == stored


@pytest.mark.parametrize("value", ["a\r\nSet-Cookie: x=1", "a\nb", "a\rb"])
def test_metadata_with_a_line_break_is_refused_where_it_enters(
    server: S3BatchServer, value: str
) -> None:
    with pytest.raises(ValueError, match="line break"):
        server.batch.objects.put("inputs", "k", b"x", metadata={"note": value})
    with pytest.raises(ValueError, match="line break"):
        server.batch.objects.put("inputs", "k", b"x", content_type=f"text/plain{value}")
    # Over HTTP a header cannot hold one, but an RFC 2047 word can: refused as S3 would.
    encoded = "=?UTF-8?Q?" + value.replace("\r", "=0D").replace("\n", "=0A").replace(" ", "_")
    with pytest.raises(ClientError) as excinfo:
        s3_client(server).put_object(
            Bucket="inputs", Key="k", Body=b"x", Metadata={"note": encoded + "?="}
        )
    assert excinfo.value.response["Error"]["Code"] == "InvalidArgument"
    assert server.batch.objects.keys("inputs") == []


def test_a_copy_job_with_a_line_break_in_new_metadata_is_a_bad_request(
    server: S3BatchServer,
) -> None:
    etag = server.batch.objects.put("manifests", "m.csv", "inputs,a\n")
    control: Any = _boto3.client(
        "s3control",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=botocore.config.Config(proxies={"http": server.url}),
    )

    with pytest.raises(ClientError) as excinfo:
        control.create_job(
            AccountId=ACCOUNT,
            Operation={
                "S3PutObjectCopy": {
                    "TargetResource": "arn:aws:s3:::inputs",
                    "NewObjectMetadata": {"UserMetadata": {"note": "a\r\nSet-Cookie: x=1"}},
                }
            },
            Manifest={
                "Spec": {"Format": "S3BatchOperations_CSV_20180820", "Fields": ["Bucket", "Key"]},
                "Location": {"ObjectArn": "arn:aws:s3:::manifests/m.csv", "ETag": etag},
            },
            Report={"Enabled": False},
            Priority=1,
            RoleArn=ROLE,
        )

    assert excinfo.value.response["Error"]["Code"] == "BadRequestException"
    assert "line break" in excinfo.value.response["Error"]["Message"]
    assert server.batch.jobs() == []
