from typing import Annotated

from fastapi import APIRouter, Query, Response

from api_schemas.common import Page
from api_schemas.matching import MatchIn, MatchOut, MatchStatusWire
from service.deps import Coordinator, SessionDep
from service.matches import creation
from service.matches import service as match_service
from service.pagination import CursorParam, LimitParam

router = APIRouter(prefix="/v1/matches", tags=["matches"])


@router.post("", status_code=201, response_model=MatchOut)
def create_match(match_in: MatchIn, session: SessionDep, caller: Coordinator, response: Response) -> MatchOut:
    """A coordinator's own choice. A broken rule is 409 unless overridden with a reason (audited); readiness
    and capacity cannot be overridden."""
    match = creation.create_own(session=session, actor=caller, match_in=match_in)
    response.headers["Location"] = f"/v1/matches/{match.id}"
    return match_service.to_out(match)


@router.get("", response_model=Page[MatchOut])
def list_matches(session: SessionDep, _caller: Coordinator, status: MatchStatusWire | None = None,
                 volunteer_id: Annotated[str | None, Query(max_length=36)] = None,
                 referral_id: Annotated[str | None, Query(max_length=36)] = None, limit: LimitParam = 50,
                 cursor: CursorParam = None) -> Page[MatchOut]:
    rows, next_cursor = match_service.page(session=session, volunteer_id=volunteer_id, referral_id=referral_id,
                                           status=status.value if status else None, limit=limit, cursor=cursor)
    return Page[MatchOut](items=[match_service.to_out(m) for m in rows], next_cursor=next_cursor)


@router.get("/{match_id}", response_model=MatchOut)
def get_match(match_id: str, session: SessionDep, caller: Coordinator) -> MatchOut:
    return match_service.to_out(match_service.visible(session=session, caller=caller, match_id=match_id))
