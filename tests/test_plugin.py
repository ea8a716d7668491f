"""The pytest plugin, as users get it: the ``pytest11`` entry point, no conftest.

Each test writes a test file into a fresh directory with ``pytester`` and runs pytest
on it, so the fixture and marker are found only through the installed entry point.
"""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

HELPERS = """
import boto3
import pytest
from s3batch_mock import current_batch, mock_s3batch

#: Slow: each test runs pytest itself (pytester).
pytestmark = pytest.mark.slow

ACCOUNT = "123456789012"


def create_job(client):
    return client.create_job(
        AccountId=ACCOUNT,
        Operation={"S3PutObjectTagging": {"TagSet": [{"Key": "k", "Value": "v"}]}},
        Report={"Enabled": False},
        Manifest={
            "Spec": {"Format": "S3BatchOperations_CSV_20180820", "Fields": ["Bucket", "Key"]},
            "Location": {"ObjectArn": "arn:aws:s3:::manifests/m.csv", "ETag": "etag"},
        },
        Priority=10,
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/batch",
    )["JobId"]


def status(client, job_id):
    return client.describe_job(AccountId=ACCOUNT, JobId=job_id)["Job"]["Status"]


def client():
    return boto3.client("s3control", region_name="us-east-1")
"""


def run(pytester: pytest.Pytester, body: str, *args: str) -> pytest.RunResult:
    pytester.makepyfile(test_user=HELPERS + body)
    return pytester.runpytest("-p", "no:cacheprovider", "-p", "no:asyncio", *args)


def test_fixture_is_available_without_conftest(pytester):
    result = run(
        pytester,
        """
from s3batch_mock import S3Batch

def test_it(s3batch):
    assert isinstance(s3batch, S3Batch)
    job_id = create_job(client())
    assert [job.job_id for job in s3batch.jobs()] == [job_id]
    assert status(client(), job_id)
""",
    )
    result.assert_outcomes(passed=1)


def test_fixture_scope_ends_with_the_test(pytester):
    result = run(
        pytester,
        """
def test_uses_fixture(s3batch):
    current_batch()

def test_after_it():
    with pytest.raises(RuntimeError):
        current_batch()
""",
    )
    result.assert_outcomes(passed=2)


def test_fixture_state_is_fresh_per_test(pytester):
    result = run(
        pytester,
        """
@pytest.mark.parametrize("n", range(3))
def test_each(s3batch, n):
    assert s3batch.jobs() == []
    assert s3batch.calls == []
    create_job(client())
    assert len(s3batch.jobs()) == 1
""",
    )
    result.assert_outcomes(passed=3)


def test_default_fixture_uses_poll_progression(pytester):
    result = run(
        pytester,
        """
def test_it(s3batch):
    c = client()
    job_id = create_job(c)
    assert [status(c, job_id), status(c, job_id)] != ["New", "New"]
""",
    )
    result.assert_outcomes(passed=1)


def test_marker_configures_the_fixture(pytester):
    result = run(
        pytester,
        """
@pytest.mark.s3batch(progression="manual")
def test_it(s3batch):
    c = client()
    job_id = create_job(c)
    assert status(c, job_id) == "New"
    assert status(c, job_id) == "New"
    new_status = s3batch.step(job_id)
    assert new_status != "New"
    assert status(c, job_id) == new_status
""",
    )
    result.assert_outcomes(passed=1)


def test_marker_on_class_configures_its_tests(pytester):
    result = run(
        pytester,
        """
@pytest.mark.s3batch(progression="manual")
class TestManual:
    def test_it(self, s3batch):
        c = client()
        job_id = create_job(c)
        assert status(c, job_id) == "New"
""",
    )
    result.assert_outcomes(passed=1)


def test_marker_is_registered_for_strict_markers(pytester):
    result = run(
        pytester,
        """
@pytest.mark.s3batch(progression="manual")
def test_it(s3batch):
    pass
""",
        "--strict-markers",
    )
    result.assert_outcomes(passed=1)


def test_marker_is_listed_by_pytest_markers(pytester):
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:asyncio", "--markers")
    result.stdout.fnmatch_lines(["*@pytest.mark.s3batch*"])


def test_marker_with_positional_arguments_errors(pytester):
    result = run(
        pytester,
        """
@pytest.mark.s3batch("manual")
def test_it(s3batch):
    pass
""",
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*keyword*"])


def test_marker_with_bad_setting_errors(pytester):
    result = run(
        pytester,
        """
@pytest.mark.s3batch(progression="bogus")
def test_it(s3batch):
    pass
""",
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*ValueError*progression*"])


def test_fixture_and_decorator_share_state(pytester):
    result = run(
        pytester,
        """
@mock_s3batch
def test_it(s3batch):
    job_id = create_job(client())
    assert [job.job_id for job in current_batch().jobs()] == [job_id]
    assert [job.job_id for job in s3batch.jobs()] == [job_id]
""",
    )
    result.assert_outcomes(passed=1)


def test_decorated_pytest_class_runs_under_pytest(pytester):
    result = run(
        pytester,
        """
@mock_s3batch
class TestSuite:
    def setup_method(self, method):
        self.job_id = create_job(client())

    def teardown_method(self, method):
        assert status(client(), self.job_id)

    def test_one(self):
        assert [job.job_id for job in current_batch().jobs()] == [self.job_id]
        create_job(client())

    def test_two(self):
        assert [job.job_id for job in current_batch().jobs()] == [self.job_id]
        create_job(client())

def test_after_the_class():
    with pytest.raises(RuntimeError):
        current_batch()
""",
    )
    result.assert_outcomes(passed=3)


# ----------------------------------------------------------------------- the marker alone


def test_marker_alone_activates_the_mock(pytester):
    result = run(
        pytester,
        """
@pytest.mark.s3batch(progression="manual")
def test_marked_only():
    job_id = create_job(client())
    assert status(client(), job_id) == "New"  # manual: polling moves nothing
    assert [job.job_id for job in current_batch().jobs()] == [job_id]
""",
    )
    result.assert_outcomes(passed=1)


def test_marker_alone_each_test_starts_empty(pytester):
    result = run(
        pytester,
        """
@pytest.mark.s3batch
@pytest.mark.parametrize("n", range(3))
def test_each(n):
    assert current_batch().jobs() == []
    create_job(client())
    assert len(current_batch().jobs()) == 1
""",
    )
    result.assert_outcomes(passed=3)


def test_marker_alone_on_a_class(pytester):
    result = run(
        pytester,
        """
@pytest.mark.s3batch(progression="manual")
class TestMarked:
    def test_one(self):
        assert status(client(), create_job(client())) == "New"

    def test_two(self):
        assert current_batch().jobs() == []
""",
    )
    result.assert_outcomes(passed=2)


def test_marker_alone_ends_with_the_test(pytester):
    result = run(
        pytester,
        """
@pytest.mark.s3batch
def test_marked():
    current_batch()

def test_after_it():
    with pytest.raises(RuntimeError, match="No mock_s3batch is active"):
        current_batch()
""",
        "-p",
        "no:randomly",
    )
    result.assert_outcomes(passed=2)


def test_marker_alone_with_a_bad_setting_errors(pytester):
    result = run(
        pytester,
        """
@pytest.mark.s3batch(progression="sometimes")
def test_marked():
    pass
""",
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*progression must be one of*"])


def test_marker_alone_is_set_up_before_the_tests_other_fixtures(pytester):
    result = run(
        pytester,
        """
@pytest.fixture
def made_in_a_fixture():
    return create_job(client())

@pytest.mark.s3batch
def test_marked(made_in_a_fixture):
    assert [job.job_id for job in current_batch().jobs()] == [made_in_a_fixture]
""",
    )
    result.assert_outcomes(passed=1)


@pytest.mark.slow
def test_loading_the_plugin_imports_nothing_of_botocore(pytester):
    """A pytest run that never uses the mock pays nothing for it (the plugin is lazy)."""
    pytester.makepyfile(
        test_plain="""
import sys

def test_nothing_loaded():
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("boto3", "botocore"))
    assert loaded == [], loaded
    assert "s3batch_mock.plugin" in sys.modules
    assert "s3batch_mock._mock" not in sys.modules
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:asyncio")
    result.assert_outcomes(passed=1)
