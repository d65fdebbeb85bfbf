"""The referral post served ahead of FastAPI's routing and dependency solving (decision 0030).

Referral posts are nearly all that referring systems send, and FastAPI's route matching (every included router
walked, twice), its dependency solving and its body handling were about a third of a post's CPU. This route,
first in the app's routes, takes a post only when FastAPI would accept it as it is: a JSON body the schema takes
and an Idempotency-Key absent or of an allowed length. It then does what the FastAPI route does, with the same
dependencies (overrides included) and the route's own function. Any other post is routed again, to the FastAPI
route, with its body, and answered exactly as before: one 422 naming every wrong field, checks in the same order."""

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from pydantic import ValidationError
from starlette._utils import get_route_path
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.routing import BaseRoute, Match, NoMatchFound
from starlette.types import Message, Receive, Scope, Send

from api_schemas.referrals import ReferralIn
from service.core.deps import referral_poster, request_session
from service.referrals.endpoints import create_referral

PATH = "/v1/referrals"
_JSON = "application/json"
_DECLINED = "peer_match.direct_post_declined"


class DirectReferralPost(BaseRoute):
    """POST /v1/referrals, ahead of the FastAPI route of the same path and method."""

    path = PATH  # the route template that metrics and the access log record

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and _DECLINED not in scope
            and get_route_path(scope) == PATH
        ):
            return Match.FULL, {"route": self}
        return Match.NONE, {}

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        raise NoMatchFound(name, path_params)  # the FastAPI route answers for its name

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            body = await request.body()
        except ClientDisconnect as gone:
            # What FastAPI answers a body it could not read (no one is left to read the answer).
            raise HTTPException(400, "There was an error parsing the body") from gone
        accepted = _accepted(request, body)
        if accepted is None:
            await _route_again(scope, body, send)
            return
        referral_in, idempotency_key = accepted
        app: FastAPI = scope["app"]
        overrides: dict[Callable[..., Any], Callable[..., Any]] = app.dependency_overrides
        principal_of = overrides.get(referral_poster, referral_poster)
        async with request_session(request) as db:
            caller = await principal_of(request, db, None)
            response = await run_in_threadpool(create_referral, referral_in, db, caller, idempotency_key)
        await response(scope, receive, send)


def _accepted(request: Request, body: bytes) -> tuple[ReferralIn, str | None] | None:
    """The body and Idempotency-Key if FastAPI would take both as they are; None if it would refuse either or
    read the body another way (its Content-Type not plain JSON)."""
    if request.headers.get("content-type", "").partition(";")[0].strip().lower() != _JSON:
        return None
    idempotency_key = request.headers.get("idempotency-key")
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= 200:
        return None
    try:
        return ReferralIn.model_validate_json(body), idempotency_key
    except ValidationError:
        return None


async def _route_again(scope: Scope, body: bytes, send: Send) -> None:
    """Route the request again with this route out of the way, its body given back."""
    given = False

    async def receive() -> Message:
        nonlocal given
        if given:
            return {"type": "http.disconnect"}
        given = True
        return {"type": "http.request", "body": body, "more_body": False}

    scope[_DECLINED] = True
    await scope["app"].router(scope, receive, send)


def install(app: FastAPI) -> None:
    """Put the direct route before every other; the FastAPI route stays for the documentation and the rest."""
    app.router.routes.insert(0, DirectReferralPost())
    app.router._mark_routes_changed()  # FastAPI keeps the routes it matches against until told
