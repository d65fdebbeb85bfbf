"""The contact log: the volunteer's note after a session and the coordinators' other contacts with a parent."""

from typing import Annotated

from fastapi import APIRouter, Depends

from api_schemas.common import Page
from api_schemas.contacts import ContactOut, OtherContactIn, SessionContactIn
from service.contacts import service as contact_service
from service.core.deps import Coordinator, MatchParty, SessionDep
from service.core.pagination import CursorParam, LimitParam
from service.matches.endpoints import VisibleMatch
from service.models import Match, SupportSession
from service.referrals.endpoints import VisibleReferral

router = APIRouter(prefix="/v1", tags=["contacts"])


def load_session_for_note(session_id: str, db: SessionDep, caller: MatchParty) -> tuple[SupportSession, Match]:
    """The session if the caller may write its note: coordinators any, a volunteer only her own match's."""
    return contact_service.session_for_note(db, caller=caller, session_id=session_id)


NotedSession = Annotated[tuple[SupportSession, Match], Depends(load_session_for_note)]


@router.post(
    "/sessions/{session_id}/contact",
    status_code=201,
    response_model=ContactOut,
    responses={404: {"description": "No session with this id of a match the caller supports or coordinates"}},
)
def record_session_contact(
    caller: MatchParty, noted: NotedSession, contact_in: SessionContactIn, db: SessionDep
) -> ContactOut:
    """The note after a session: attended or not, format, length, a short note. Attendance not yet recorded is
    recorded from it (the first attended session starts the match). With `concern: true` the answer links to the
    concern form; the note itself raises no concern."""
    row, match = noted
    contact = contact_service.record_session_contact(db, actor=caller, row=row, match=match, contact_in=contact_in)
    return contact_service.to_out(contact, with_concern_form=True)


@router.post("/referrals/{referral_id}/contacts", status_code=201, response_model=ContactOut)
def record_referral_contact(
    caller: Coordinator, referral: VisibleReferral, contact_in: OtherContactIn, db: SessionDep
) -> ContactOut:
    """A coordinator's contact with the parent: a call while she waits, a check-in during leave."""
    return contact_service.to_out(
        contact_service.record_other_contact(db, actor=caller, referral=referral, contact_in=contact_in)
    )


@router.get("/matches/{match_id}/contacts", response_model=Page[ContactOut])
def list_match_contacts(
    caller: MatchParty, match: VisibleMatch, db: SessionDep, limit: LimitParam = 50, cursor: CursorParam = None
) -> Page[ContactOut]:
    """The match's contacts in the order recorded; its volunteer reads only the notes she wrote."""
    items, next_cursor = contact_service.page_for_match(db, caller=caller, match=match, limit=limit, cursor=cursor)
    return Page[ContactOut](items=items, next_cursor=next_cursor)


@router.get("/referrals/{referral_id}/contacts", response_model=Page[ContactOut])
def list_referral_contacts(
    _caller: Coordinator, referral: VisibleReferral, db: SessionDep, limit: LimitParam = 50, cursor: CursorParam = None
) -> Page[ContactOut]:
    """Every contact with the parent, session notes and others, in the order recorded."""
    items, next_cursor = contact_service.page_for_referral(db, referral=referral, limit=limit, cursor=cursor)
    return Page[ContactOut](items=items, next_cursor=next_cursor)
