"""Requests botocore sends with its own validation off get the modeled error, nothing else.

With ``Config(parameter_validation=False)`` botocore serializes whatever it is given:
empty JobIds (``/v20180820/jobs//tagging``), missing members, wrong types. Some of it
botocore cannot serialize and refuses itself, before any request exists; everything
that does become a request must be answered by the mock with success or an error the
operation's model lists (``BadRequestException``/``InvalidRequestException`` for bad
input, HTTP 400), never ``UnsupportedOperationError`` or a crash.
"""

from __future__ import annotations

import datetime
import functools
from typing import Any

import boto3
import botocore.config
import botocore.session
import pytest
from botocore.exceptions import ClientError
from botocore.model import Shape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from s3batch_mock import mock_s3batch
from tests.conftest import ACCOUNT, JOB_OPERATIONS, csv_manifest_job

_MISSING = object()
_MODEL = botocore.session.get_session().get_service_model("s3control")
#: The invalid-input error of each operation (design section 5).
_INVALID = dict.fromkeys(JOB_OPERATIONS, "BadRequestException") | {
    "ListJobs": "InvalidRequestException"
}


@functools.cache
def _client() -> Any:
    """One unvalidating client for every example (made inside the first mock)."""
    config = botocore.config.Config(parameter_validation=False, retries={"total_max_attempts": 1})
    return boto3.client("s3control", region_name="us-east-1", config=config)


def _method(operation: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")


def _allowed(operation: str) -> set[str]:
    shapes = _MODEL.operation_model(operation).error_shapes
    return {shape.name for shape in shapes} | {_INVALID[operation]}


# --------------------------------------------------------------------------- values

_TEXT = st.text(
    st.characters(codec="utf-8", categories=("L", "N", "P", "S", "Zs", "Cc")), max_size=12
)
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=True, allow_infinity=True)
    | _TEXT
    | st.binary(max_size=8)
    | st.datetimes(timezones=st.just(datetime.UTC))
)
#: Anything at all, of any type: what a caller with validation off may pass.
JUNK = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=6,
)


def _structure(shape: Shape, depth: int, job_id: str) -> st.SearchStrategy[dict[str, Any]]:
    """A dict of some of the structure's members, each of roughly its shape."""
    members = shape.members  # type: ignore[attr-defined]
    fields = {
        name: st.one_of(st.just(_MISSING), _shaped(member, depth + 1, job_id))
        for name, member in members.items()
    }
    return st.fixed_dictionaries(fields).map(
        lambda d: {k: v for k, v in d.items() if v is not _MISSING}
    )


def _shaped(shape: Shape, depth: int, job_id: str) -> st.SearchStrategy[Any]:
    """Values of roughly the right shape, with junk anywhere in them."""
    kind = shape.type_name
    if depth > 5:
        return JUNK
    shaped: st.SearchStrategy[Any]
    if kind == "structure":
        shaped = _structure(shape, depth, job_id)
    elif kind == "list":
        member = shape.member  # type: ignore[attr-defined]
        shaped = st.lists(_shaped(member, depth + 1, job_id), max_size=3)
    elif kind == "map":
        shaped = st.dictionaries(_TEXT, _TEXT, max_size=3)
    elif kind == "string":
        choices: list[str] = ["", job_id, "a" * 37]
        choices += list(shape.enum) if shape.enum else []  # type: ignore[attr-defined]
        shaped = st.sampled_from(choices) | _TEXT
    elif kind in ("integer", "long"):
        shaped = st.integers(-(2**33), 2**33)
    elif kind == "boolean":
        shaped = st.booleans()
    elif kind == "timestamp":
        shaped = st.datetimes(timezones=st.just(datetime.UTC))
    else:
        shaped = JUNK
    return st.one_of(shaped, shaped, shaped, JUNK)


@st.composite
def requests(draw: st.DrawFn, job_id: str) -> tuple[str, dict[str, Any]]:
    operation = draw(st.sampled_from(JOB_OPERATIONS))
    shape = _MODEL.operation_model(operation).input_shape
    assert shape is not None
    params = draw(_structure(shape, 0, job_id))
    if draw(st.integers(0, 4)):  # mostly a valid account: else botocore refuses it itself
        params["AccountId"] = ACCOUNT
    return operation, params


# --------------------------------------------------------------------------- property

_FIGURES = {"tried": 0, "botocore_refused": 0, "served": 0, "modeled_errors": 0}


def _send(operation: str, params: dict[str, Any]) -> tuple[bool, BaseException | None]:
    """Call ``operation``; returns (whether a request was created, the exception)."""
    client = _client()
    created: list[str] = []

    def seen(**kwargs: Any) -> None:
        created.append(kwargs.get("operation_name", ""))

    client.meta.events.register("request-created.s3-control", seen)
    try:
        getattr(client, _method(operation))(**params)
    except Exception as exc:
        return bool(created), exc
    finally:
        client.meta.events.unregister("request-created.s3-control", seen)
    return bool(created), None


@pytest.mark.slow
@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_every_request_botocore_sends_unvalidated_gets_a_modeled_answer(data: Any) -> None:
    with mock_s3batch(progression="manual") as batch:
        etag = batch.objects.put("manifests", "manifest.csv", "data,a.txt\n")
        job_id = csv_manifest_job(_client(), etag)
        operation, params = data.draw(requests(job_id), label="request")
        sent, error = _send(operation, params)
        _FIGURES["tried"] += 1
        if not sent:
            _FIGURES["botocore_refused"] += 1  # botocore's own doing: nothing reached us
            return
        _FIGURES["served"] += 1
        if error is None:
            return
        assert isinstance(error, ClientError), f"{operation} {params!r}: {error!r}"
        code = error.response["Error"]["Code"]
        status = error.response["ResponseMetadata"]["HTTPStatusCode"]
        assert code in _allowed(operation), f"{operation} {params!r}: {code}"
        assert 400 <= status < 500, f"{operation} {params!r}: {status}"
        _FIGURES["modeled_errors"] += 1


def test_figures_of_the_property_run() -> None:
    """Printed with ``-s``: how many inputs were tried and where each ended."""
    print(f"unvalidated requests: {_FIGURES}")


# --------------------------------------------------------------------------- examples

_EMPTY_ID_CALLS = [
    ("DescribeJob", {}),
    ("GetJobTagging", {}),
    ("PutJobTagging", {"Tags": []}),
    ("DeleteJobTagging", {}),
    ("UpdateJobPriority", {"Priority": 1}),
    ("UpdateJobStatus", {"RequestedJobStatus": "Ready"}),
]


@pytest.mark.parametrize(("operation", "extra"), _EMPTY_ID_CALLS)
def test_an_empty_job_id_is_a_bad_request_not_an_unserved_call(
    operation: str, extra: dict[str, Any]
) -> None:
    with mock_s3batch() as batch:
        call = getattr(_client(), _method(operation))
        with pytest.raises(ClientError) as raised:
            call(AccountId=ACCOUNT, JobId="", **extra)
        assert raised.value.response["Error"]["Code"] == "BadRequestException"
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert "JobId" in raised.value.response["Error"]["Message"]
        assert [(c.operation, c.error_code) for c in batch.calls] == [
            (operation, "BadRequestException")
        ]


@pytest.mark.parametrize(
    ("operation", "params", "code"),
    [
        ("UpdateJobPriority", {"JobId": "abcdef", "Priority": "x"}, "BadRequestException"),
        ("UpdateJobStatus", {"JobId": "abcdef"}, "BadRequestException"),
        ("PutJobTagging", {"JobId": "abcdef"}, "BadRequestException"),
        ("ListJobs", {"MaxResults": "x"}, "InvalidRequestException"),
        ("ListJobs", {"JobStatuses": [1]}, "InvalidRequestException"),
        ("CreateJob", {"Priority": "x"}, "BadRequestException"),
    ],
)
def test_wrong_types_and_missing_members_get_the_modeled_error(
    operation: str, params: dict[str, Any], code: str
) -> None:
    with mock_s3batch():
        with pytest.raises(ClientError) as raised:
            getattr(_client(), _method(operation))(AccountId=ACCOUNT, **params)
        assert raised.value.response["Error"]["Code"] == code
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
