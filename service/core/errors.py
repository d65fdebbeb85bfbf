"""Domain errors: what went wrong in words and a status, free of the web framework and the database, so a
state machine or a rule can raise one anywhere. `service.core.problems` maps them to problem details."""

from collections.abc import Sequence
from typing import Any


class DomainError(Exception):
    status = 400
    title = "Bad request"
    type_slug = "bad-request"

    def __init__(
        self, detail: str, *, extra: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra or {}
        self.headers = headers or {}


class Unauthorized(DomainError):
    status, title, type_slug = 401, "Unauthorized", "unauthorized"

    def __init__(self, detail: str = "A valid API key is required.") -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(DomainError):
    status, title, type_slug = 403, "Forbidden", "forbidden"


class NotFound(DomainError):
    status, title, type_slug = 404, "Not found", "not-found"


class Conflict(DomainError):
    status, title, type_slug = 409, "Conflict", "conflict"


class TransitionNotAllowed(Conflict):
    type_slug = "transition-not-allowed"

    def __init__(self, record: str, state: str, action: str) -> None:
        super().__init__(f"A {record} in state '{state}' cannot be {action}.", extra={"state": state})


class PreconditionFailed(DomainError):
    status, title, type_slug = 412, "Precondition failed", "precondition-failed"


class PreconditionRequired(DomainError):
    status, title, type_slug = 428, "Precondition required", "precondition-required"


class PayloadTooLarge(DomainError):
    status, title, type_slug = 413, "Payload too large", "payload-too-large"


class TooManyRequests(DomainError):
    status, title, type_slug = 429, "Too many requests", "rate-limited"

    def __init__(self, *, retry_after: int) -> None:
        super().__init__(
            f"This API key has made too many requests; retry after {retry_after} s.",
            extra={"retry_after": retry_after},
            headers={"Retry-After": str(retry_after)},
        )


class InvalidInput(DomainError):
    """A field that parsed but breaks a rule the schema cannot know (vocabulary, postcode, dates)."""

    status, title, type_slug = 422, "Invalid input", "validation"

    def __init__(self, errors: Sequence[tuple[Sequence[str | int], str]]) -> None:
        items = [{"loc": list(loc), "msg": msg} for loc, msg in errors]
        detail = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in items)
        super().__init__(detail, extra={"errors": items})


def invalid(loc: Sequence[str | int], msg: str) -> InvalidInput:
    return InvalidInput([(loc, msg)])
