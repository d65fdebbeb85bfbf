"""Annotated dependency aliases: the request's session, the caller, role guards."""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Annotated, Any

import anyio.to_thread
from anyio import CancelScope, CapacityLimiter
from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from service.core.auth import Principal, RecentKeys, Role, authenticate, look_up, secret_hash
from service.core.db import commit_and_close, rollback_and_close
from service.core.errors import Forbidden, TooManyRequests

bearer = HTTPBearer(auto_error=False, description="An API key created with `peer-match keys create`.")


async def get_session(request: Request) -> AsyncIterator[Session]:
    # Opening a session does no I/O, so only its end takes a trip through the thread pool (a sync dependency
    # takes one to open and one to end). The end runs outside the pool's limit, as FastAPI runs a dependency's
    # exit: it gives back a connection that requests holding threads may be waiting for.
    db = Session(request.app.state.engine, expire_on_commit=False)
    try:
        yield db
    except BaseException:
        with CancelScope(shield=True):
            await anyio.to_thread.run_sync(rollback_and_close, db, limiter=CapacityLimiter(1))
        raise
    if not db.in_transaction():
        # The route committed from its own thread (db.commit_here) or wrote nothing: closing sends nothing.
        db.close()
        return
    with CancelScope(shield=True):
        await anyio.to_thread.run_sync(commit_and_close, db, limiter=CapacityLimiter(1))


# scope="function": commit before the response is sent, so a failed commit is never reported as success.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def request_session(request: Request) -> AbstractAsyncContextManager[Session]:
    """The request's kind of session outside FastAPI's dependency solving: the app's override of get_session
    when it has one (tests put theirs in place), else get_session, with its commit and rollback."""
    provider = request.app.dependency_overrides.get(get_session, get_session)
    return asynccontextmanager(provider)(request)


def get_principal(
    request: Request, db: SessionDep, _credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]
) -> Principal:
    return _counted(request, authenticate(db, request.headers.get("authorization")))


def _looked_up_and_counted(request: Request, db: Session, hashed: str) -> Principal:
    return _counted(request, look_up(db, hashed))


def _counted(request: Request, principal: Principal) -> Principal:
    quota = request.app.state.rate_limiter.hit(principal.key_id)
    # The answer carries RateLimit-* headers from this (service/core/middleware.py).
    request.state.rate_limit = quota
    if quota is not None and not quota.allowed:
        raise TooManyRequests(retry_after=max(1, quota.reset_seconds))
    request.state.principal = principal
    return principal


def require_checked_on_write(*roles: Role) -> Callable[..., Any]:
    """For a route that checks its caller's key in the statement writing its work (auth.KEY_IS_LIVE): a key this
    process authenticated lately for the route is taken from memory (auth.RecentKeys), with no round trip and no
    trip through the thread pool. The first request of a key, and every request when the rate limit lives in a
    shared store (counting it is I/O), look the key up as get_principal does."""
    allowed = frozenset(roles)

    async def principal_of(
        request: Request, db: SessionDep, _credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]
    ) -> Principal:
        hashed = secret_hash(request.headers.get("authorization"))
        recent: RecentKeys = request.app.state.recent_keys
        local_count = request.app.state.rate_limiter.local
        principal = recent.get(hashed) if local_count else None
        if principal is not None:
            request.state.principal = principal  # a refusal checks its key first (service/core/problems.py)
            return _counted(request, principal)
        principal = await anyio.to_thread.run_sync(_looked_up_and_counted, request, db, hashed)
        if principal.role not in allowed:
            raise Forbidden(f"The {principal.role.value} role may not use this route.")
        if local_count:
            recent.remember(hashed, principal)
        return principal

    return principal_of


def require(*roles: Role) -> Callable[[Principal], Principal]:
    allowed = frozenset(roles)

    # async: a check without I/O need not take a trip through the thread pool.
    async def guard(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if principal.role not in allowed:
            raise Forbidden(f"The {principal.role.value} role may not use this route.")
        return principal

    return guard


async def safeguarding_lead(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    """A coordinator key flagged as a safeguarding lead; every other key, admins' included, is 403: the account
    of a concern is for the people the programme designated to act on it."""
    if principal.role is not Role.coordinator or not principal.safeguarding_lead:
        raise Forbidden("Only a safeguarding lead may use this route.")
    return principal


Caller = Annotated[Principal, Depends(get_principal)]
Admin = Annotated[Principal, Depends(require(Role.admin))]
Coordinator = Annotated[Principal, Depends(require(Role.admin, Role.coordinator))]
ReferralWriter = Annotated[Principal, Depends(require(Role.admin, Role.coordinator, Role.integrator))]
# The referral post: its write checks the key (service.referrals.service.receive).
referral_poster = require_checked_on_write(Role.admin, Role.coordinator, Role.integrator)
ReferralPoster = Annotated[Principal, Depends(referral_poster)]
VolunteerSelf = Annotated[Principal, Depends(require(Role.volunteer))]
MatchParty = Annotated[Principal, Depends(require(Role.admin, Role.coordinator, Role.volunteer))]
SafeguardingLead = Annotated[Principal, Depends(safeguarding_lead)]
