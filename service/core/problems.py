"""The edge: every error, domain or framework, as RFC 9457 problem details, from one set of handlers."""

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from service.core.auth import check_live
from service.core.deps import request_session
from service.core.errors import DomainError, Unauthorized

PROBLEM_JSON = "application/problem+json"
RETRY_AFTER_SECONDS = 5  # a database restart or failover is usually over by then
log = structlog.get_logger("peer_match.errors")


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    type_slug: str,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"https://peer-match.org/problems/{type_slug}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    body.update(extra or {})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def database_unavailable(exc: SQLAlchemyError) -> bool:
    """The database is down, restarting, out of connections or gave up on a lock: worth a retry, not a bug."""
    if isinstance(exc, OperationalError | PoolTimeout):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def unavailable(detail: str) -> JSONResponse:
    return problem(
        503, "Service unavailable", detail, type_slug="unavailable", headers={"Retry-After": str(RETRY_AFTER_SECONDS)}
    )


def _validation_items(exc: RequestValidationError) -> list[dict[str, Any]]:
    items = []
    for err in exc.errors():
        loc = [p for p in err.get("loc", ()) if isinstance(p, str | int)]
        msg = str(err.get("msg", "invalid"))
        if err.get("type") == "extra_forbidden":
            msg = "unknown field"
        items.append({"loc": loc, "msg": msg})
    return items


def _methods_served_at(request: Request) -> set[str]:
    """Every method some route serves at this path: Starlette's 405 names only the first route's, and FastAPI
    makes one route per method."""
    methods: set[str] = set()
    for context in iter_route_contexts(request.app.routes):
        if context.route.matches(request.scope)[0] is not Match.NONE:
            methods |= set(context.methods or ())
    return methods


# Rules a domain checks on a body the schema refused, so that one 422 names every error in every layer: keyed by
# (method, route path), each takes a database session and the raw body and returns (loc, msg) pairs. Domains
# register theirs when their endpoints are imported; core knows none of them.
BodyRules = Callable[[Session, Any], list[tuple[list[str | int], str]]]
RULES_ON_REFUSED_BODIES: dict[tuple[str, str], BodyRules] = {}


async def _rules_on(request: Request, body: Any) -> list[dict[str, Any]]:
    route = request.scope.get("route")
    check = RULES_ON_REFUSED_BODIES.get((request.method, getattr(route, "path", "")))
    if check is None or not isinstance(body, dict):
        return []
    async with request_session(request) as db:
        found = await run_in_threadpool(check, db, body)
    return [{"loc": loc, "msg": msg} for loc, msg in found]


async def _revoked_since_remembered(request: Request) -> JSONResponse | None:
    """A caller taken from memory (auth.RecentKeys) whose key has been revoked since is refused as revoked,
    whatever else was wrong with the request: the answer a lookup at its start would have given."""
    principal = getattr(request.state, "principal", None)
    if principal is None or not principal.unchecked:
        return None
    try:
        async with request_session(request) as db:
            await run_in_threadpool(check_live, db, principal)
    except Unauthorized as revoked:
        request.app.state.recent_keys.forget(principal.key_id)
        return _problem_of(revoked)
    return None


def _problem_of(exc: DomainError) -> JSONResponse:
    return problem(exc.status, exc.title, exc.detail, type_slug=exc.type_slug, extra=exc.extra, headers=exc.headers)


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        return await _revoked_since_remembered(request) or _problem_of(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        if revoked := await _revoked_since_remembered(request):
            return revoked
        items = _validation_items(exc)
        seen = {tuple(item["loc"]) for item in items}
        items += [item for item in await _rules_on(request, exc.body) if tuple(item["loc"]) not in seen]
        detail = "; ".join(f"{'.'.join(str(p) for p in i['loc'])}: {i['msg']}" for i in items)
        return problem(
            422, "Invalid input", detail or "The request is not valid.", type_slug="validation", extra={"errors": items}
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if revoked := await _revoked_since_remembered(request):
            return revoked
        title = HTTPStatus(exc.status_code).phrase
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(sorted(_methods_served_at(request)))
        return problem(
            exc.status_code, title, str(exc.detail), type_slug=title.lower().replace(" ", "-"), headers=headers or None
        )

    @app.exception_handler(SQLAlchemyError)
    async def _database(request: Request, exc: SQLAlchemyError) -> JSONResponse:
        if not database_unavailable(exc):
            return await _unexpected(request, exc)
        # The driver's message can quote the statement's parameters (personal data): log its type only.
        cause = getattr(exc, "orig", None) or exc
        log.warning("database_unavailable", error_type=type(cause).__name__, path=request.url.path)
        return unavailable("The database cannot be reached just now; retry after the Retry-After seconds.")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled_error", error_type=type(exc).__name__, path=request.url.path)
        return problem(
            500, "Internal server error", "Something went wrong on our side; it has been logged.", type_slug="internal"
        )
