"""The pytest plugin's "s3batch jobs" report section for failing tests.

Each test writes a user's test file with ``pytester`` and runs pytest on it; the plugin
is found through the installed ``pytest11`` entry point, as users get it. The user's
tests append the job ids they create to ``job_ids.txt`` so the section can be checked
against them.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from freezegun import freeze_time

from s3batch_mock import mock_s3batch
from tests.conftest import csv_manifest_job, s3control

pytest_plugins = ["pytester"]

HELPERS = '''
import boto3
import pytest
from s3batch_mock import current_batch, mock_s3batch

#: Slow: each test runs pytest itself (pytester).
pytestmark = pytest.mark.slow

ACCOUNT = "123456789012"


def client():
    return boto3.client("s3control", region_name="us-east-1")


def make_job(batch, *, etag=None, name="m.csv"):
    """A tagging job over one object; ``etag`` other than the manifest's makes it fail."""
    batch.objects.put("data", "a.txt", b"a")
    real = batch.objects.put("manifests", name, b"data,a.txt\\n")
    job_id = client().create_job(
        AccountId=ACCOUNT,
        ConfirmationRequired=False,
        Operation={"S3PutObjectTagging": {"TagSet": [{"Key": "k", "Value": "v"}]}},
        Report={"Enabled": False},
        Manifest={
            "Spec": {"Format": "S3BatchOperations_CSV_20180820", "Fields": ["Bucket", "Key"]},
            "Location": {"ObjectArn": f"arn:aws:s3:::manifests/{name}", "ETag": etag or real},
        },
        Priority=10,
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/batch",
    )["JobId"]
    with open("job_ids.txt", "a") as ids:
        ids.write(job_id + "\\n")
    return job_id


def poll(job_id):
    """Describe the job until it ends, as user code does (poll mode moves it)."""
    for _ in range(50):
        status = client().describe_job(AccountId=ACCOUNT, JobId=job_id)["Job"]["Status"]
        if status in ("Complete", "Failed", "Cancelled"):
            return status
    raise AssertionError(f"job {job_id} did not end: {status}")
'''

ISO = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z"
SECTION_HEADER = re.compile(r"^-{3,} s3batch jobs -{3,}$")
TEST_HEADER = re.compile(r"^_{3,} (\S+) _{3,}$")


def run(pytester: pytest.Pytester, body: str, *args: str) -> pytest.RunResult:
    pytester.makepyfile(test_user=HELPERS + body)
    return pytester.runpytest("-p", "no:cacheprovider", "-p", "no:asyncio", *args)


def job_ids(pytester: pytest.Pytester) -> list[str]:
    path = pytester.path / "job_ids.txt"
    return path.read_text().split() if path.exists() else []


def failure_blocks(result: pytest.RunResult) -> dict[str, list[str]]:
    """The lines of each test's entry under FAILURES, by test name."""
    blocks: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in result.outlines:
        header = TEST_HEADER.match(line)
        if header:
            current = blocks.setdefault(header.group(1), [])
        elif line.startswith("====="):
            current = None
        elif current is not None:
            current.append(line)
    return blocks


def section(lines: list[str]) -> list[str] | None:
    """The lines of the "s3batch jobs" section within ``lines``, or None if it has none."""
    for index, line in enumerate(lines):
        if SECTION_HEADER.match(line):
            rest = lines[index + 1 :]
            end = next(
                (n for n, text in enumerate(rest) if re.match(r"^[-=_]{3,} ", text)), len(rest)
            )
            return rest[:end]
    return None


def statuses(lines: list[str]) -> list[str]:
    """The statuses of the timeline lines (``<ISO time>  <Status> [reason]``), in order."""
    return [m.group(1) for line in lines if (m := re.match(rf"^\s+{ISO}\s+(\w+)", line))]


def assert_no_section(result: pytest.RunResult) -> None:
    assert "s3batch jobs" not in result.stdout.str()
    assert "s3batch jobs" not in result.stderr.str()


# --------------------------------------------------------------------------- failing


def test_failing_fixture_test_shows_each_jobs_timeline(pytester):
    result = run(
        pytester,
        """
def test_it(s3batch):
    failed = make_job(s3batch, etag="not-the-etag", name="bad.csv")
    assert poll(failed) == "Failed"
    complete = make_job(s3batch)
    assert poll(complete) == "Complete"
    assert False, "the user's assertion"
""",
    )
    result.assert_outcomes(failed=1)
    failed, complete = job_ids(pytester)
    lines = section(failure_blocks(result)["test_it"])
    assert lines is not None, result.stdout.str()

    starts = [n for n, line in enumerate(lines) if line.startswith("job ")]
    assert len(starts) == 2
    failed_lines, complete_lines = lines[starts[0] : starts[1]], lines[starts[1] :]

    # The failed job: id, operation, every status with its time, and the failure reason.
    assert failed_lines[0].startswith(f"job {failed} S3PutObjectTagging")
    assert "Failed" in failed_lines[0]
    assert statuses(failed_lines) == ["New", "Preparing", "Failing", "Failed"]
    failure = [line for line in failed_lines if line.strip().startswith("failure ")]
    assert len(failure) == 1
    assert re.match(r"^\s+failure \w+: .*ETag.*not-the-etag", failure[0]), failure
    # The reason also shows on the transition into Failing.
    failing = next(line for line in failed_lines if re.match(rf"^\s+{ISO}\s+Failing", line))
    assert "not-the-etag" in failing

    # The completed job, with its task counts.
    assert complete_lines[0].startswith(f"job {complete} S3PutObjectTagging")
    assert "1 succeeded" in complete_lines[0]
    assert statuses(complete_lines) == [
        "New",
        "Preparing",
        "Ready",
        "Active",
        "Completing",
        "Complete",
    ]
    assert not any(line.strip().startswith("failure ") for line in complete_lines)


def test_status_lines_carry_iso_timestamps(pytester):
    result = run(
        pytester,
        """
def test_it(s3batch):
    poll(make_job(s3batch, etag="wrong"))
    assert False
""",
    )
    result.assert_outcomes(failed=1)
    lines = section(failure_blocks(result)["test_it"])
    assert lines is not None
    timeline = [line for line in lines if line.startswith("  ") and "failure" not in line]
    assert len(timeline) == 4
    for line in timeline:
        assert re.match(rf"^\s+{ISO}\s+\w+", line), line


def test_decorated_failing_test_shows_the_section(pytester):
    result = run(
        pytester,
        """
@mock_s3batch
def test_it():
    job_id = make_job(current_batch(), etag="wrong-etag")
    assert poll(job_id) == "Failed"
    assert False
""",
    )
    result.assert_outcomes(failed=1)
    (job_id,) = job_ids(pytester)
    lines = section(failure_blocks(result)["test_it"])
    assert lines is not None, result.stdout.str()
    assert lines[0].startswith(f"job {job_id} S3PutObjectTagging")
    assert statuses(lines) == ["New", "Preparing", "Failing", "Failed"]
    assert any(re.match(r"^\s+failure \w+: .*wrong-etag", line) for line in lines)


def test_test_failing_with_an_error_from_the_mock_shows_the_section(pytester):
    result = run(
        pytester,
        """
def test_it(s3batch):
    job_id = make_job(s3batch)
    client().update_job_status(AccountId=ACCOUNT, JobId=job_id, RequestedJobStatus="Ready")
""",
    )
    result.assert_outcomes(failed=1)
    (job_id,) = job_ids(pytester)
    block = failure_blocks(result)["test_it"]
    assert any("JobStatusException" in line for line in block)
    lines = section(block)
    assert lines is not None
    assert lines[0].startswith(f"job {job_id} ")


def test_failure_in_a_fixture_setup_shows_the_section(pytester):
    result = run(
        pytester,
        """
@pytest.fixture
def broken_setup(s3batch):
    make_job(s3batch)
    raise RuntimeError("setup broke")

def test_it(broken_setup):
    pass
""",
    )
    result.assert_outcomes(errors=1)
    (job_id,) = job_ids(pytester)
    assert "setup broke" in result.stdout.str()
    text = result.stdout.str()
    assert "s3batch jobs" in text
    assert f"job {job_id} " in text


# --------------------------------------------------------------------------- no section


def test_passing_test_gets_no_section(pytester):
    result = run(
        pytester,
        """
def test_fixture(s3batch):
    assert poll(make_job(s3batch, etag="wrong")) == "Failed"

@mock_s3batch
def test_decorated():
    assert poll(make_job(current_batch())) == "Complete"
""",
        "-rA",
    )
    result.assert_outcomes(passed=2)
    assert len(job_ids(pytester)) == 2
    assert_no_section(result)


def test_failing_test_without_the_mock_gets_no_section(pytester):
    result = run(
        pytester,
        """
def test_plain():
    assert 1 == 2
""",
    )
    result.assert_outcomes(failed=1)
    assert "test_plain" in failure_blocks(result)
    assert_no_section(result)


def test_failing_test_without_the_mock_after_one_with_it_gets_no_section(pytester):
    result = run(
        pytester,
        """
def test_with_mock(s3batch):
    poll(make_job(s3batch))

def test_plain():
    assert 1 == 2
""",
    )
    result.assert_outcomes(passed=1, failed=1)
    assert_no_section(result)


def test_failing_test_with_an_idle_mock_gets_no_section(pytester):
    result = run(
        pytester,
        """
def test_idle(s3batch):
    assert s3batch.jobs() == ["something"]
""",
    )
    result.assert_outcomes(failed=1)
    assert_no_section(result)


# --------------------------------------------------------------------------- isolation


def test_jobs_of_a_previous_failing_test_do_not_leak(pytester):
    result = run(
        pytester,
        """
def test_first(s3batch):
    poll(make_job(s3batch, etag="first-etag"))
    assert False

@mock_s3batch
def test_second():
    poll(make_job(current_batch(), etag="second-etag"))
    assert False
""",
    )
    result.assert_outcomes(failed=2)
    first, second = job_ids(pytester)
    blocks = failure_blocks(result)
    first_section = "\n".join(section(blocks["test_first"]) or [])
    second_section = "\n".join(section(blocks["test_second"]) or [])
    assert first in first_section
    assert "first-etag" in first_section
    assert second not in first_section
    assert second in second_section
    assert "second-etag" in second_section
    assert first not in second_section
    assert "first-etag" not in second_section


def test_jobs_of_a_previous_passing_test_do_not_leak(pytester):
    result = run(
        pytester,
        """
@mock_s3batch
def test_first():
    poll(make_job(current_batch()))

def test_second(s3batch):
    poll(make_job(s3batch))
    assert False
""",
    )
    result.assert_outcomes(passed=1, failed=1)
    first, second = job_ids(pytester)
    lines = section(failure_blocks(result)["test_second"])
    assert lines is not None
    text = "\n".join(lines)
    assert second in text
    assert first not in text
    assert [line for line in lines if line.startswith("job ")] == [
        line for line in lines if line.startswith(f"job {second} ")
    ]


def test_reset_jobs_are_not_shown(pytester):
    result = run(
        pytester,
        """
def test_it(s3batch):
    make_job(s3batch)
    s3batch.reset()
    make_job(s3batch, name="second.csv")
    assert False
""",
    )
    result.assert_outcomes(failed=1)
    dropped, kept = job_ids(pytester)
    lines = section(failure_blocks(result)["test_it"])
    assert lines is not None
    text = "\n".join(lines)
    assert kept in text
    assert dropped not in text


@pytest.mark.slow
def test_outside_pytest_no_scope_is_kept_after_it_ends() -> None:
    """Only the pytest plugin collects backends for its report; a script keeps none."""
    script = (
        "import gc, weakref\n"
        "from s3batch_mock import mock_s3batch\n"
        "stores = []\n"
        "for _ in range(3):\n"
        "    with mock_s3batch() as batch:\n"
        "        stores.append(weakref.ref(batch.objects._store))  # the store behind the face\n"
        "    del batch\n"
        "gc.collect()\n"
        "assert [ref() for ref in stores] == [None, None, None]\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_repr_of_the_controller_moves_no_job() -> None:
    with freeze_time("2026-01-01") as frozen, mock_s3batch(progression="clock") as batch:
        etag = batch.objects.put("manifests", "manifest.csv", "src,a\n")
        job_id = csv_manifest_job(s3control(), etag)
        frozen.tick(60)
        assert "jobs=1" in repr(batch)
        # Back to the moment of creation: a job the repr had moved would stay moved.
        frozen.move_to("2026-01-01")
        assert batch.job(job_id).status_history == ["New"]
        frozen.tick(60)
        assert batch.job(job_id).status_history != ["New"]  # the clock does move it
