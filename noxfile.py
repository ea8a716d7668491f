"""Every check, one entry point: ``nox -s tests lint typecheck docs coverage``.

``tests`` also runs every example of README.md and docs/ (tests/test_docs_examples.py);
``nox -s tests -- -m "not slow"`` is the quick loop. .ci/run runs the same checks.
"""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "lint", "typecheck", "docs", "coverage"]
nox.options.reuse_existing_virtualenvs = True

PYTHONS = ["3.11", "3.12", "3.13"]
# The oldest botocore/boto3 we support (the floor in pyproject.toml) and the newest.
BOTOCORE = ["oldest", "latest"]
# awscli 1.45.0 is the release that pins botocore 1.43.0; aiobotocore 3.7.0 is the
# oldest release that allows botocore 1.43.0 (and so the oldest we support).
OLDEST = ["botocore==1.43.0", "boto3==1.43.0", "awscli==1.45.0", "aiobotocore==3.7.0"]


@nox.session(python=PYTHONS)
@nox.parametrize("botocore", BOTOCORE)
def tests(session: nox.Session, botocore: str) -> None:
    """The test suite, against the oldest and the newest supported botocore."""
    session.install("-e", ".[test]")
    if botocore == "oldest":
        session.install(*OLDEST)
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session
def coverage(session: nox.Session) -> None:
    """The suite, measured, against the floor in pyproject.toml ([tool.coverage.report])."""
    session.install("-e", ".[test]")
    session.run(
        "python",
        "-m",
        "pytest",
        "--cov",
        "--cov-report=term-missing:skip-covered",
        *session.posargs,
    )


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    session.install("-e", ".[test]", "mypy", "nox", "boto3-stubs[s3control,s3]")
    session.run("mypy")


@nox.session
def benchmarks(session: nox.Session) -> None:
    """Speed and memory, as ratios measured in one session (never asserted in tests).

    ``nox -s benchmarks -- --quick`` is a smoke run; docs/performance.md explains each.
    """
    session.install("-e", ".[server]")
    session.run("python", "benchmarks/run.py", *session.posargs)


@nox.session
def docs(session: nox.Session) -> None:
    session.install("-e", ".[docs]")
    session.run("mkdocs", "build", "--strict", "--site-dir", str(session.create_tmp() + "/site"))
