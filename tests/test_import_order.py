"""The hook wins over moto's whichever was imported or activated first.

Import order can only be tested in a fresh interpreter, so each case runs a small
script in a subprocess (no network: every call is answered in-process).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

SCRIPT = """
import os
for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
    os.environ.pop(name, None)
{imports}
import boto3
from moto import mock_aws
from s3batch_mock import mock_s3batch

def check():
    client = boto3.client("s3control", region_name="us-east-1")
    jobs = client.list_jobs(AccountId="123456789012")
    assert jobs["ResponseMetadata"]["HTTPHeaders"]["server"] == "AmazonS3", jobs
    try:
        client.get_public_access_block(AccountId="123456789012")
    except client.exceptions.NoSuchPublicAccessBlockConfiguration:
        pass  # moto answered the call s3batch_mock does not serve

{activation}
print("served")
"""

IMPORTS = {
    "moto first": "import moto.core.models\nimport s3batch_mock",
    "s3batch_mock first": "import s3batch_mock\nimport moto.core.models",
}
# Every activation order, one after another in the same interpreter.
ACTIVATIONS = """
with mock_aws():
    with mock_s3batch():
        check()
with mock_s3batch():
    with mock_aws():
        check()

@mock_aws
@mock_s3batch
def stacked():
    check()

@mock_s3batch
@mock_aws
def stacked_the_other_way():
    check()

stacked()
stacked_the_other_way()
"""


@pytest.mark.slow
@pytest.mark.parametrize("imports", IMPORTS.values(), ids=IMPORTS.keys())
def test_hook_serves_job_calls_and_moto_the_rest(imports: str) -> None:
    script = SCRIPT.format(imports=imports, activation=ACTIVATIONS)
    env = {**os.environ, "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "served"
