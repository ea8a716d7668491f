"""Errors: the modeled AWS errors the mock answers with, and the library's own."""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "AWSCallRefused",
    "BadRequest",
    "IdempotencyError",
    "InvalidNextToken",
    "InvalidRequest",
    "JobStatusError",
    "MockEndedError",
    "NotFound",
    "S3BatchMockError",
    "S3ControlError",
    "TooManyTags",
    "UnsupportedOperationError",
    "ended_message",
    "invalid_input",
]


class S3BatchMockError(Exception):
    """Base class of every exception s3batch_mock raises in the caller's code."""


class UnsupportedOperationError(S3BatchMockError):
    """An s3control call the mock does not serve was made while the mock was active.

    Raised instead of letting the request reach the network.
    """


class AWSCallRefused(S3BatchMockError):
    """A botocore request for AWS's own endpoint was made while the mock was active.

    Raised before any DNS lookup or connection: nothing reaches AWS under the mock
    (unless ``mock_s3batch(allow_real_aws=True)``).
    """


class MockEndedError(S3BatchMockError, RuntimeError):
    """A controller, or its object store, used after its mock scope has ended."""


def ended_message(what: str) -> str:
    """What ``MockEndedError`` says: what happened, and what to do instead."""
    return (
        f"{what} belongs to a mock_s3batch scope that has ended (its `with` block, "
        "decorated test, fixture or last stop() is over), and its jobs, objects and "
        "calls were discarded. Use the controller of an active mock: the one `with "
        "mock_s3batch() as batch` gives inside the block, the s3batch fixture, start(), "
        "or current_batch()."
    )


# ---------------------------------------------------------------------- the face
# ``batch.objects`` is called with whatever a test passes: names and bodies are
# checked as S3 checks them, so a test cannot store what S3 would never hold.


class S3ControlError(Exception):
    """An error answered on the wire as AWS would: code, HTTP status and message.

    botocore turns it into ``client.exceptions.<code>`` for the caller.
    """

    default_code: ClassVar[str] = "InternalServiceException"
    default_status: ClassVar[int] = 500

    def __init__(
        self, message: str, *, code: str | None = None, http_status: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.http_status = http_status or self.default_status

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class BadRequest(S3ControlError):
    default_code = "BadRequestException"
    default_status = 400


class IdempotencyError(S3ControlError):
    default_code = "IdempotencyException"
    default_status = 400


class NotFound(S3ControlError):
    default_code = "NotFoundException"
    default_status = 400


class JobStatusError(S3ControlError):
    default_code = "JobStatusException"
    default_status = 400


class TooManyTags(S3ControlError):
    default_code = "TooManyTagsException"
    default_status = 400


class InvalidRequest(S3ControlError):
    default_code = "InvalidRequestException"
    default_status = 400


class InvalidNextToken(S3ControlError):
    default_code = "InvalidNextTokenException"
    default_status = 400


def invalid_input(operation: str, message: str) -> S3ControlError:
    """The error AWS answers an operation's malformed or out-of-range input with.

    ListJobs models ``InvalidRequestException``; every other job operation
    ``BadRequestException`` (design section 5).
    """
    if operation == "ListJobs":
        return InvalidRequest(message)
    return BadRequest(message)
