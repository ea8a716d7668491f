"""Settings and injected faults fail where they are given, never on a later call.

A value that would overflow the clock arithmetic (``step_seconds=1e12``) or a sleep
(``inject_latency(op, inf)``) used to be accepted and then break every call. Each
entry form is checked: the decorator/context manager, the pytest marker, the server
and the CLI.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import botocore.config
import pytest
from botocore.exceptions import ClientError
from hypothesis import given
from hypothesis import strategies as st

from s3batch_mock import S3BatchServer, mock_s3batch
from s3batch_mock._settings import MAX_COUNT, MAX_LATENCY_SECONDS, MAX_STEP_SECONDS
from tests.conftest import ACCOUNT, s3control

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent
INF = math.inf
NAN = math.nan
_NO_RETRIES = botocore.config.Config(retries={"total_max_attempts": 1})

#: (keywords, exception, words the message must contain)
BAD_SETTINGS: list[tuple[dict[str, Any], type[Exception], str]] = [
    ({"step_seconds": INF}, ValueError, "step_seconds must be a finite number"),
    ({"step_seconds": -INF}, ValueError, "step_seconds must be greater than 0"),
    ({"step_seconds": NAN}, ValueError, "step_seconds must be a number of seconds, not nan"),
    ({"step_seconds": 1e12}, ValueError, "at most 3.1536e+07"),
    ({"step_seconds": MAX_STEP_SECONDS * 1.0001}, ValueError, "step_seconds"),
    ({"step_seconds": 0}, ValueError, "step_seconds must be greater than 0"),
    ({"step_seconds": 10**400}, ValueError, "step_seconds must be a finite number of at most"),
    ({"step_seconds": True}, TypeError, "step_seconds must be a number"),
    ({"step_seconds": "1"}, TypeError, "step_seconds must be a number"),
    ({"max_active_jobs": 0}, ValueError, "max_active_jobs must be at least 1"),
    ({"max_active_jobs": MAX_COUNT + 1}, ValueError, "max_active_jobs must be at most"),
    ({"max_active_jobs": True}, TypeError, "max_active_jobs must be an int or None"),
    ({"max_active_jobs": 2.0}, TypeError, "max_active_jobs must be an int or None"),
    ({"tasks_per_step": 0}, ValueError, "tasks_per_step must be at least 1"),
    ({"tasks_per_step": 10**12}, ValueError, "tasks_per_step must be at most"),
    ({"tasks_per_step": INF}, TypeError, "tasks_per_step must be an int"),
    ({"tasks_per_step": False}, TypeError, "tasks_per_step must be an int"),
    ({"progression": None}, ValueError, "progression must be one of"),
]


# --------------------------------------------------------------------------- decorator


@pytest.mark.parametrize(("kwargs", "error", "words"), BAD_SETTINGS)
def test_mock_s3batch_refuses_at_construction(
    kwargs: dict[str, Any], error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=words.replace("+", r"\+")):
        mock_s3batch(**kwargs)


def test_a_refused_setting_fails_the_decoration_not_the_call() -> None:
    with pytest.raises(ValueError, match="step_seconds"):

        @mock_s3batch(progression="clock", step_seconds=INF)
        def never_called() -> None:  # pragma: no cover - never decorated
            pass


@pytest.mark.parametrize("value", [MAX_STEP_SECONDS, 1e-9, 0.5, 1])
def test_the_extremes_of_the_range_work_on_every_call(value: float) -> None:
    with mock_s3batch(progression="clock", step_seconds=value) as batch:
        client = s3control()
        etag = batch.objects.put("manifests", "manifest.csv", "data,a.txt\n")
        job_id = client.create_job(
            AccountId=ACCOUNT,
            Operation={"S3PutObjectTagging": {"TagSet": []}},
            Report={"Enabled": False},
            Manifest={
                "Spec": {"Format": "S3BatchOperations_CSV_20180820", "Fields": ["Bucket", "Key"]},
                "Location": {"ObjectArn": "arn:aws:s3:::manifests/manifest.csv", "ETag": etag},
            },
            Priority=1,
            RoleArn=f"arn:aws:iam::{ACCOUNT}:role/batch",
        )["JobId"]
        assert client.describe_job(AccountId=ACCOUNT, JobId=job_id)["Job"]["JobId"] == job_id
        assert [j["JobId"] for j in client.list_jobs(AccountId=ACCOUNT)["Jobs"]] == [job_id]


@given(
    st.one_of(
        st.floats(allow_nan=True, allow_infinity=True),
        st.integers(-(10**15), 10**15),
    )
)
def test_any_accepted_step_seconds_is_in_the_documented_range(value: float) -> None:
    try:
        mock_s3batch(step_seconds=value)
    except ValueError:
        assert not (0 < value <= MAX_STEP_SECONDS)
    else:
        assert 0 < value <= MAX_STEP_SECONDS


# --------------------------------------------------------------------------- faults

BAD_LATENCY: list[tuple[Any, type[Exception]]] = [
    (INF, ValueError),
    (NAN, ValueError),
    (MAX_LATENCY_SECONDS + 1, ValueError),
    (-0.001, ValueError),
    (True, TypeError),
    ("1", TypeError),
]


@pytest.mark.parametrize(("seconds", "error"), BAD_LATENCY)
def test_inject_latency_refuses_what_no_sleep_can_take(
    seconds: Any, error: type[Exception]
) -> None:
    with mock_s3batch() as batch:
        with pytest.raises(error, match="seconds"):
            batch.inject_latency("ListJobs", seconds)
        assert s3control().list_jobs(AccountId=ACCOUNT)["Jobs"] == []  # nothing was planned


@pytest.mark.parametrize("count", [0, True, 1.5, MAX_COUNT + 1])
def test_inject_latency_count_is_checked(count: Any) -> None:
    with mock_s3batch() as batch, pytest.raises((TypeError, ValueError), match="count"):
        batch.inject_latency("ListJobs", 0, count=count)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"count": True}, "count"),
        ({"count": 2.0}, "count"),
        ({"count": MAX_COUNT + 1}, "count"),
        ({"rate": NAN}, "rate"),
        ({"rate": True}, "rate"),
        ({"rate": "0.5"}, "rate"),
        ({"rate": 0.5, "seed": "s"}, "seed"),
        ({"http_status": 400.0}, "http_status"),
        ({"http_status": True}, "http_status"),
        ({"message": "\ud800"}, "message must be text XML 1.0"),
        ({"message": "bell \x07"}, "'\\\\x07' at position 5"),
        ({"message": "x" * 1025}, "at most 1024 characters"),
        ({"message": b"bytes"}, "message must be a str"),
    ],
)
def test_inject_error_checks_every_argument(kwargs: dict[str, Any], words: str) -> None:
    with mock_s3batch() as batch:
        with pytest.raises((TypeError, ValueError), match=words):
            batch.inject_error("ListJobs", "TooManyRequestsException", **kwargs)
        assert s3control().list_jobs(AccountId=ACCOUNT)["Jobs"] == []  # nothing was planned


@pytest.mark.parametrize("code", ["Bad Code", "A" * 129, "Ünïcode", "1Leading"])
def test_inject_error_code_is_an_ascii_error_code(code: str) -> None:
    with mock_s3batch() as batch, pytest.raises(ValueError, match="code"):
        batch.inject_error("ListJobs", code)


@pytest.mark.slow
@given(
    st.text(
        st.characters(codec=None, categories=("L", "N", "P", "S", "Z", "Cc", "Cs")),
        max_size=1030,
    )
)
def test_an_accepted_message_comes_back_as_sent(message: str) -> None:
    """Whatever inject_error accepts, botocore parses; everything else is refused."""
    with mock_s3batch() as batch:
        try:
            batch.inject_error("ListJobs", "TooManyRequestsException", message=message)
        except ValueError:
            return
        with pytest.raises(ClientError) as raised:
            s3control(config=_NO_RETRIES).list_jobs(AccountId=ACCOUNT)
        error = raised.value.response["Error"]
        assert error["Code"] == "TooManyRequestsException"
        # Exactly as sent, CR included (the renderer writes it as &#13;, which XML keeps).
        assert error.get("Message", "") == (message or error.get("Message", ""))


# --------------------------------------------------------------------------- marker


def test_the_marker_refuses_settings_before_the_test_runs(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_user="""
import pytest

@pytest.mark.s3batch(progression="clock", step_seconds=float("inf"))
def test_marked(s3batch):
    raise AssertionError("the test must not run")

@pytest.mark.s3batch(tasks_per_step=0)
def test_marker_alone():
    raise AssertionError("the test must not run")
"""
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:asyncio", "-p", "no:randomly")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["*step_seconds must be a finite number*"])
    result.stdout.fnmatch_lines(["*tasks_per_step must be at least 1, not 0*"])
    assert "must not run" not in result.stdout.str()


# --------------------------------------------------------------------------- server, CLI


@pytest.mark.parametrize(("kwargs", "error", "words"), BAD_SETTINGS)
def test_the_server_refuses_before_binding(
    kwargs: dict[str, Any], error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=words.replace("+", r"\+")):
        S3BatchServer(**kwargs)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("option", "words"),
    [
        (["--step-seconds", "inf"], "step_seconds must be a finite number"),
        (["--step-seconds", "nan"], "step_seconds must be a number of seconds, not nan"),
        (["--step-seconds", "1e12"], "step_seconds must be a finite number of at most"),
        (["--max-active-jobs", "2000000000"], "max_active_jobs must be at most"),
        (["--tasks-per-step", "0"], "tasks_per_step must be at least 1, not 0"),
    ],
)
def test_the_cli_refuses_with_a_one_line_error(
    tmp_path: Path, option: list[str], words: str
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "s3batch_mock", "serve", "--port", "0", *option],
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,  # a safety net: a refused server exits at once
        check=False,
    )
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith("s3batch_mock: ")
    assert words in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1
