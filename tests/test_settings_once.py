"""The settings are defined once: every way in takes exactly the keywords of ``Settings``.

``mock_s3batch``, ``S3BatchMock``, ``S3BatchServer``, the pytest marker (which passes
its keywords to ``mock_s3batch``) and ``python -m s3batch_mock serve`` must offer the
same settings with the same defaults, so a new setting cannot be half-added.
"""

from __future__ import annotations

import dataclasses
import inspect
import subprocess
import sys
from typing import Any, get_args

import pytest

from s3batch_mock import S3BatchMock, S3BatchServer, mock_s3batch
from s3batch_mock._settings import PROGRESSIONS, Progression, Settings

#: Settings that mean something only in-process (the server's process makes no
#: botocore calls of its own for them to govern).
IN_PROCESS_ONLY = {"allow_real_aws"}
SETTINGS = {field.name: field.default for field in dataclasses.fields(Settings)}


def keywords(func: Any, *, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        name: parameter.default
        for name, parameter in inspect.signature(func).parameters.items()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY and name not in skip
    }


def test_mock_s3batch_takes_every_setting_with_its_default() -> None:
    assert keywords(mock_s3batch) == SETTINGS


def test_s3batchmock_takes_every_setting_with_its_default() -> None:
    assert keywords(S3BatchMock) == SETTINGS


def test_the_server_takes_every_setting_but_the_in_process_ones() -> None:
    expected = {k: v for k, v in SETTINGS.items() if k not in IN_PROCESS_ONLY}
    offered = keywords(S3BatchServer)
    assert {k: offered[k] for k in expected if k in offered} == expected
    assert set(expected) <= set(offered)


def test_the_cli_offers_every_setting_but_the_in_process_ones() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "s3batch_mock", "serve", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    for name in SETTINGS.keys() - IN_PROCESS_ONLY:
        assert f"--{name.replace('_', '-')}" in result.stdout, name


def test_progressions_are_the_literal_type() -> None:
    assert PROGRESSIONS == get_args(Progression) == ("poll", "manual", "clock")


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_the_marker_takes_each_setting(pytester: pytest.Pytester, name: str) -> None:
    value = repr(SETTINGS[name])
    pytester.makepyfile(
        f"""
import pytest
from s3batch_mock import current_batch

@pytest.mark.s3batch({name}={value})
def test_it():
    assert current_batch().jobs() == []
"""
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:asyncio")
    result.assert_outcomes(passed=1)
