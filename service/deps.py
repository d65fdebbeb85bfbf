"""Annotated dependency aliases: the request's session, the caller, role guards."""

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from service.auth import Principal, Role, authenticate
from service.db import unit_of_work
from service.errors import Forbidden

bearer = HTTPBearer(auto_error=False, description="An API key created with `peer-match keys create`.")


def get_session(request: Request) -> Iterator[Session]:
    yield from unit_of_work(request.app.state.engine)


# scope="function": commit before the response is sent, so a failed commit is never reported as success.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def get_principal(request: Request, session: SessionDep,
                  _credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]) -> Principal:
    principal = authenticate(session, request.headers.get("authorization"))
    request.app.state.rate_limiter.hit(principal.key_id)
    request.state.principal = principal
    return principal


def require(*roles: Role) -> Callable[[Principal], Principal]:
    allowed = frozenset(roles)

    # async: a check without I/O need not take a trip through the thread pool.
    async def guard(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if principal.role not in allowed:
            raise Forbidden(f"The {principal.role.value} role may not use this route.")
        return principal

    return guard


Caller = Annotated[Principal, Depends(get_principal)]
Admin = Annotated[Principal, Depends(require(Role.admin))]
Coordinator = Annotated[Principal, Depends(require(Role.admin, Role.coordinator))]
ReferralWriter = Annotated[Principal, Depends(require(Role.admin, Role.coordinator, Role.integrator))]
VolunteerSelf = Annotated[Principal, Depends(require(Role.volunteer))]
MatchParty = Annotated[Principal, Depends(require(Role.admin, Role.coordinator, Role.volunteer))]
