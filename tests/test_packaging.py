"""The package as built and installed: one version, and the typing marker in the wheel."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import s3batch_mock

ROOT = Path(__file__).resolve().parent.parent


def test_the_version_has_one_source() -> None:
    """``__version__`` is the installed distribution's version (read from _version.py)."""
    assert s3batch_mock.__version__ == importlib.metadata.version("s3batch_mock")


@pytest.mark.slow
def test_the_wheel_carries_py_typed_and_the_version(tmp_path: Path) -> None:
    """Type checkers see the package's annotations only with ``py.typed`` in the wheel."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",  # hatchling comes with the test extra: no download
            "--quiet",
            "--wheel-dir",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("s3batch_mock-*.whl")
    assert wheel.name.startswith(f"s3batch_mock-{s3batch_mock.__version__}-")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = next(name for name in names if name.endswith(".dist-info/METADATA"))
        assert f"Version: {s3batch_mock.__version__}\n" in archive.read(metadata).decode()
    assert "s3batch_mock/py.typed" in names
    assert "s3batch_mock/_version.py" in names
