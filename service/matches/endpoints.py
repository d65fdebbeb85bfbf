from typing import Annotated

from fastapi import APIRouter, Query, Response

from api_schemas.common import Page
from api_schemas.matching import EndIn, ExtensionIn, MatchIn, MatchOut, MatchStatusWire
from api_schemas.sessions import SessionOut
from api_schemas.vocabulary import VocabularyKind
from service.core.deps import Coordinator, MatchParty, SessionDep
from service.core.pagination import CursorParam, LimitParam
from service.matches import creation, lifecycle, planning
from service.matches import service as match_service
from service.matches import sessions as session_service
from service.vocabulary import service as vocabulary_service

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


@router.post("/{match_id}/accept", response_model=MatchOut)
def accept_match(match_id: str, session: SessionDep, caller: MatchParty) -> MatchOut:
    """The volunteer (or a coordinator on her behalf) accepts: the weekly sessions are planned at once."""
    match = match_service.visible(session=session, caller=caller, match_id=match_id)
    lifecycle.accept(session=session, actor=caller, match=match)
    return match_service.to_out(match)


@router.post("/{match_id}/decline", response_model=MatchOut)
def decline_match(match_id: str, session: SessionDep, caller: MatchParty) -> MatchOut:
    """The volunteer declines, no reason owed: the parent waits again and the pair is not proposed again."""
    match = match_service.visible(session=session, caller=caller, match_id=match_id)
    return match_service.to_out(lifecycle.decline(session=session, actor=caller, match=match))


@router.get("/{match_id}/sessions", response_model=Page[SessionOut])
def list_sessions(match_id: str, session: SessionDep, caller: MatchParty) -> Page[SessionOut]:
    match = match_service.visible(session=session, caller=caller, match_id=match_id)
    return Page[SessionOut](items=[session_service.to_out(s) for s in planning.all_sessions(session, match.id)])


@router.post("/{match_id}/extensions", status_code=201, response_model=Page[SessionOut])
def extend_match(match_id: str, body: ExtensionIn, session: SessionDep, caller: Coordinator) -> Page[SessionOut]:
    """More sessions, when both people want them, up to the programme's cap; the ending markers move."""
    lifecycle.check_agreement(body.parent_agrees, body.volunteer_agrees)
    match = match_service.visible(session=session, caller=caller, match_id=match_id)
    rows = lifecycle.extend(session=session, actor=caller, match=match, sessions=body.sessions)
    return Page[SessionOut](items=[session_service.to_out(s) for s in rows])


@router.post("/{match_id}/end", response_model=MatchOut)
def end_match(match_id: str, body: EndIn, session: SessionDep, caller: Coordinator) -> MatchOut:
    """End early, easily and without blame: future sessions are cancelled and she rests before a new match."""
    vocabulary_service.check_codes(session, [(["body", "reason"], VocabularyKind.end_reasons, body.reason)])
    match = match_service.visible(session=session, caller=caller, match_id=match_id)
    ended = lifecycle.end(session=session, actor=caller, match=match, reason=body.reason,
                          initiated_by=body.initiated_by.value, rematch=body.rematch)
    return match_service.to_out(ended)
