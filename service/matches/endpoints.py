"""Matches and their sessions: made by hand, accepted or declined by the volunteer, extended, ended; sessions
marked, cancelled and moved."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from api_schemas.common import Page
from api_schemas.feedback import FeedbackIn, FeedbackOut
from api_schemas.matching import CoverIn, EndIn, ExtensionIn, MatchIn, MatchOut, MatchStatus, SuggestionOut
from api_schemas.sessions import Attendance, AttendanceIn, CancelIn, MyMatchOut, RescheduleIn, SessionOut
from api_schemas.vocabulary import VocabularyKind
from service.core.deps import Coordinator, MatchParty, SessionDep, VolunteerSelf
from service.core.pagination import CursorParam, LimitParam
from service.matches import cover, creation, feedback, lone_working, repository, sessions
from service.matches import service as match_service
from service.models import Match, SupportSession
from service.profiles.windows import day_index
from service.vocabulary import service as vocabulary_service

router = APIRouter(prefix="/v1/matches", tags=["matches"])
sessions_router = APIRouter(prefix="/v1/sessions", tags=["sessions"])
visits_router = APIRouter(prefix="/v1/me/sessions", tags=["me"])


def load_match(match_id: str, db: SessionDep, caller: MatchParty) -> Match:
    """The match if the caller may see it (coordinators all, a volunteer her own); 404 alike otherwise. Routes
    list their role guard first, so a role that may not use the route is 403 before any lookup."""
    return match_service.visible(db, caller=caller, match_id=match_id)


def load_session(session_id: str, db: SessionDep, caller: MatchParty) -> tuple[SupportSession, Match]:
    """The session and its match if the caller may see them; 404 alike otherwise."""
    return sessions.visible(db, caller=caller, session_id=session_id)


def load_own_session(session_id: str, db: SessionDep, me: VolunteerSelf) -> tuple[SupportSession, Match]:
    """One of the calling volunteer's own sessions; anyone else's is 404, the same as none."""
    return sessions.visible(db, caller=me, session_id=session_id)


VisibleMatch = Annotated[Match, Depends(load_match)]
VisibleSession = Annotated[tuple[SupportSession, Match], Depends(load_session)]
OwnSession = Annotated[tuple[SupportSession, Match], Depends(load_own_session)]


@router.post("", status_code=201, response_model=MatchOut)
def create_match(match_in: MatchIn, db: SessionDep, caller: Coordinator, response: Response) -> MatchOut:
    """A coordinator's own choice. A broken rule is 409 unless overridden with a reason (audited); readiness
    and capacity cannot be overridden."""
    match = creation.create_own(db, actor=caller, match_in=match_in)
    response.headers["Location"] = f"/v1/matches/{match.id}"
    return match_service.to_out(db, match)


@router.get("", response_model=Page[MatchOut])
def list_matches(
    db: SessionDep,
    _caller: Coordinator,
    status: MatchStatus | None = None,
    volunteer_id: Annotated[str | None, Query(max_length=36)] = None,
    referral_id: Annotated[str | None, Query(max_length=36)] = None,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> Page[MatchOut]:
    rows, next_cursor = match_service.page(
        db,
        volunteer_id=volunteer_id,
        referral_id=referral_id,
        status=status.value if status else None,
        limit=limit,
        cursor=cursor,
    )
    return Page[MatchOut](items=[match_service.to_out(db, m) for m in rows], next_cursor=next_cursor)


@router.get("/{match_id}", response_model=MatchOut)
def get_match(_caller: Coordinator, match: VisibleMatch, db: SessionDep) -> MatchOut:
    return match_service.to_out(db, match)


@router.post("/{match_id}/accept", response_model=MatchOut | MyMatchOut)
def accept_match(caller: MatchParty, match: VisibleMatch, db: SessionDep) -> MatchOut | MyMatchOut:
    """The volunteer (or a coordinator on her behalf) accepts: the weekly sessions are planned at once. A
    volunteer gets her own view of the match (as in `GET /v1/me/matches`), a coordinator the full record."""
    match_service.accept(db, actor=caller, match=match)
    return match_service.view_for(db, caller, match)


@router.post("/{match_id}/decline", response_model=MatchOut | MyMatchOut)
def decline_match(caller: MatchParty, match: VisibleMatch, db: SessionDep) -> MatchOut | MyMatchOut:
    """The volunteer declines, no reason owed: the parent waits again and the pair is not proposed again. A
    volunteer gets her own view of the match, a coordinator the full record."""
    return match_service.view_for(db, caller, match_service.decline(db, actor=caller, match=match))


@router.get("/{match_id}/sessions", response_model=Page[SessionOut])
def list_sessions(_caller: MatchParty, match: VisibleMatch, db: SessionDep) -> Page[SessionOut]:
    return Page[SessionOut](items=[sessions.to_out(db, s) for s in repository.all_sessions(db, match.id)])


@router.post("/{match_id}/extensions", status_code=201, response_model=Page[SessionOut])
def extend_match(caller: Coordinator, match: VisibleMatch, body: ExtensionIn, db: SessionDep) -> Page[SessionOut]:
    """More sessions, when both people want them, up to the programme's cap; the ending markers move."""
    match_service.check_agreement(body.parent_agrees, body.volunteer_agrees)
    rows = match_service.extend(db, actor=caller, match=match, sessions=body.sessions)
    return Page[SessionOut](items=[sessions.to_out(db, s) for s in rows])


@router.post("/{match_id}/end", response_model=MatchOut)
def end_match(caller: Coordinator, match: VisibleMatch, body: EndIn, db: SessionDep) -> MatchOut:
    """End early, easily and without blame: future sessions are cancelled and she rests before a new match."""
    vocabulary_service.check_codes(db, [(["body", "reason"], VocabularyKind.end_reasons, body.reason)])
    ended = match_service.end(
        db, actor=caller, match=match, reason=body.reason, initiated_by=body.initiated_by.value, rematch=body.rematch
    )
    return match_service.to_out(db, ended)


@router.post(
    "/{match_id}/cover",
    response_model=Page[SessionOut],
    responses={409: {"description": "No session of this match needs cover, or her return cannot be planned"}},
)
def resolve_cover(caller: Coordinator, match: VisibleMatch, body: CoverIn, db: SessionDep) -> Page[SessionOut]:
    """Sessions her leave left without a time (`needs_cover`): `wait_for_return` plans them after her leave and
    moves the ending; `rematch` ends the match kindly and the parent waits again ahead of newer referrals."""
    rows = cover.resolve(db, actor=caller, match=match, cover_in=body)
    return Page[SessionOut](items=[sessions.to_out(db, s) for s in rows])


@router.get("/{match_id}/cover-suggestions", response_model=Page[SuggestionOut])
def cover_suggestions(
    _caller: Coordinator, match: VisibleMatch, db: SessionDep, k: Annotated[int, Query(ge=1, le=50)] = 5
) -> Page[SuggestionOut]:
    """Who could cover the sessions that need it, best first, by the matcher's rules and scores."""
    return Page[SuggestionOut](items=cover.suggestions(db, match=match, k=k))


@sessions_router.post("/{session_id}/attendance", response_model=SessionOut)
def record_attendance(caller: MatchParty, visible: VisibleSession, body: AttendanceIn, db: SessionDep) -> SessionOut:
    """Attended or missed. The first attended session starts the match; the closing session completes it."""
    row, match = visible
    return sessions.to_out(
        db,
        sessions.record_attendance(db, actor=caller, row=row, match=match, attended=body.status == Attendance.attended),
    )


@sessions_router.post("/{session_id}/cancel", response_model=Page[SessionOut])
def cancel_session(caller: MatchParty, visible: VisibleSession, body: CancelIn, db: SessionDep) -> Page[SessionOut]:
    """Cancel without penalty; a replacement is added at the end unless `replace` is false."""
    vocabulary_service.check_codes(db, [(["body", "reason"], VocabularyKind.cancel_reasons, body.reason)])
    row, match = visible
    rows = sessions.cancel(db, actor=caller, row=row, match=match, cancel_in=body)
    return Page[SessionOut](items=[sessions.to_out(db, r) for r in rows])


@sessions_router.post("/{session_id}/reschedule", response_model=SessionOut)
def reschedule_session(caller: MatchParty, visible: VisibleSession, body: RescheduleIn, db: SessionDep) -> SessionOut:
    """Move to the next feasible slot (not before `not_before`, on `preferred_day` where possible)."""
    row, match = visible
    day = day_index(body.preferred_day.value) if body.preferred_day else None
    return sessions.to_out(
        db, sessions.reschedule(db, actor=caller, row=row, match=match, not_before=body.not_before, preferred_day=day)
    )


@visits_router.post("/{session_id}/check-in", response_model=SessionOut)
def check_in_to_visit(me: VolunteerSelf, own: OwnSession, db: SessionDep) -> SessionOut:
    """Lone working: she has arrived at a home visit (from an hour before it). From its start this also marks
    the visit attended. 409 for a session that is not a home visit, or one cancelled, missed or checked in."""
    row, match = own
    return sessions.to_out(db, lone_working.check_in(db, actor=me, row=row, match=match))


@visits_router.post("/{session_id}/check-out", response_model=SessionOut)
def check_out_of_visit(me: VolunteerSelf, own: OwnSession, db: SessionDep) -> SessionOut:
    """Lone working: she has left the home visit safely; marks it attended if it was not. Without a check-out
    the programme's grace after the planned end, the coordinators on duty are alerted."""
    row, match = own
    return sessions.to_out(db, lone_working.check_out(db, actor=me, row=row, match=match))


@router.post("/{match_id}/feedback", status_code=201, response_model=FeedbackOut)
def record_feedback(caller: MatchParty, match: VisibleMatch, body: FeedbackIn, db: SessionDep) -> FeedbackOut:
    """The end-of-support questionnaire (programme settings `feedback_questionnaire`), once per respondent:
    coordinators enter the parent's or the volunteer's answers, a volunteer her own. An unknown item or a wrong
    value is 422 naming it; a second set for the same respondent is 409."""
    return feedback.to_out(feedback.record(db, caller=caller, match=match, feedback_in=body))
