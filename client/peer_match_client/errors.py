"""Problem details (RFC 9457) raised as exceptions, one class per status a caller may want to catch."""

import contextlib
from http import HTTPStatus
from typing import Any, ClassVar

import httpx
from pydantic import ValidationError

from api_schemas.common import Problem
from peer_match_client.retries import retry_after_seconds

Loc = tuple[str | int, ...]


class ProblemError(Exception):
    """The service answered with an error status; its problem details are on the exception.

    `errors` lists (loc, msg) pairs for invalid input, `loc` naming the field as a path such as
    `("body", "parent", "postcode")`. `extensions` holds any other member of the problem body (for example
    `state` on a 409)."""

    status_code: ClassVar[int | None] = None

    def __init__(
        self,
        *,
        status: int,
        type: str,
        title: str,
        detail: str,
        errors: list[tuple[Loc, str]],
        extensions: dict[str, Any],
        response: httpx.Response | None = None,
    ) -> None:
        super().__init__(f"{status} {title}: {detail}")
        self.status = status
        self.type = type
        self.title = title
        self.detail = detail
        self.errors = errors
        self.extensions = extensions
        self.response = response

    def fields(self) -> list[str]:
        """The dotted paths of the fields named in `errors`, without the leading `body`/`query` part."""
        return [".".join(str(part) for part in loc[1:]) for loc, _msg in self.errors]


class UnauthorizedError(ProblemError):
    status_code = 401


class ForbiddenError(ProblemError):
    status_code = 403


class NotFoundError(ProblemError):
    """404: no such record, or one that is not the caller's (the service never says which)."""

    status_code = 404


class ConflictError(ProblemError):
    """409: the record's state forbids the action (the state is in `extensions["state"]` where given)."""

    status_code = 409


class PreconditionFailedError(ProblemError):
    """412: the `If-Match` sent is not the record's current ETag; read it again."""

    status_code = 412


class InvalidInputError(ProblemError):
    """422: every failing field is in `errors`."""

    status_code = 422


class RateLimitedError(ProblemError):
    """429 after the client's retries ran out (or Retry-After asked for longer than it will wait)."""

    status_code = 429

    @property
    def retry_after(self) -> float | None:
        return None if self.response is None else retry_after_seconds(self.response.headers.get("Retry-After"))


class ServiceUnavailableError(ProblemError):
    status_code = 503


_BY_STATUS: dict[int, type[ProblemError]] = {
    cls.status_code: cls
    for cls in (
        UnauthorizedError,
        ForbiddenError,
        NotFoundError,
        ConflictError,
        PreconditionFailedError,
        InvalidInputError,
        RateLimitedError,
        ServiceUnavailableError,
    )
    if cls.status_code is not None
}


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem_from_response(response: httpx.Response) -> ProblemError:
    """The exception for an error response, read from its problem body; a body that is not one (a proxy's
    HTML page) still gives the status and the HTTP reason phrase."""
    body: Any = None
    with contextlib.suppress(ValueError):
        body = response.json()
    try:
        problem = Problem.model_validate(body)
    except ValidationError:
        phrase = _phrase(response.status_code)
        problem = Problem(
            type="about:blank", title=phrase, status=response.status_code, detail=response.text[:500] or phrase
        )
    known = set(Problem.model_fields)
    extensions = {k: v for k, v in body.items() if k not in known} if isinstance(body, dict) else {}
    errors = [(tuple(item.loc), item.msg) for item in problem.errors or []]
    cls = _BY_STATUS.get(response.status_code, ProblemError)
    return cls(
        status=response.status_code,
        type=problem.type,
        title=problem.title,
        detail=problem.detail,
        errors=errors,
        extensions=extensions,
        response=response,
    )
