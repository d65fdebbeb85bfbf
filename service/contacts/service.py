"""The contact log: the volunteer's note after each session (which records attendance where it is not yet
recorded) and the coordinators' other contacts with a parent. The note stays in its row: the audit carries the
contact's kind only, no event is raised, and nothing of it is logged."""

from datetime import timedelta

from sqlmodel import Session

from api_schemas.contacts import ConcernForm, ContactKind, ContactOut, OtherContactIn, SessionContactIn
from api_schemas.sessions import SessionStatus
from service.contacts import repository
from service.core import audit, clock
from service.core.auth import Principal, Role
from service.core.errors import Conflict, NotFound, invalid
from service.core.ids import new_id
from service.core.pagination import decode, next_cursor
from service.matches import repository as match_repository
from service.matches import sessions
from service.models import Contact, Match, Referral, SupportSession

OUTCOMES = frozenset({SessionStatus.attended, SessionStatus.missed})
# A little slack for clocks that differ: a call "just now" is not refused.
CLOCK_SKEW = timedelta(minutes=5)


def session_for_note(db: Session, *, caller: Principal, session_id: str) -> tuple[SupportSession, Match]:
    """The session and its match; for a volunteer only a session of her own match (404 alike otherwise)."""
    row, match = sessions.visible(db, caller=caller, session_id=session_id)
    if caller.role is Role.volunteer and match.volunteer_id != caller.volunteer_id:
        raise NotFound("No session with this id.")
    return row, match


def record_session_contact(
    db: Session, *, actor: Principal, row: SupportSession, match: Match, contact_in: SessionContactIn
) -> Contact:
    """The note after a session. A session still planned is marked through the attendance path (which starts
    the match, or alerts after two missed); one already marked keeps its mark."""
    referral = match_repository.referral_of(db, match)
    _not_erased(referral)
    if row.status == SessionStatus.planned:
        sessions.record_attendance(db, actor=actor, row=row, match=match, attended=contact_in.attended)
    elif row.status not in OUTCOMES and contact_in.attended:
        raise Conflict("This session did not go ahead; it cannot have been attended.", extra={"state": row.status})
    contact = Contact(
        id=new_id(),
        referral_id=referral.id,
        match_id=match.id,
        session_id=row.id,
        volunteer_id=actor.volunteer_id if actor.role is Role.volunteer else None,
        kind=ContactKind.session.value,
        attended=contact_in.attended,
        format=contact_in.format.value,
        minutes=contact_in.minutes,
        note=contact_in.note,
        concern=contact_in.concern,
        occurred_at=row.starts_at,
        recorded_by_key_id=actor.key_id,
        recorded_by_role=actor.role.value,
        recorded_at=clock.now(),
    )
    _record(db, actor=actor, contact=contact)
    return contact


def record_other_contact(db: Session, *, actor: Principal, referral: Referral, contact_in: OtherContactIn) -> Contact:
    """A coordinator's call, message or visit: a call while she waits, a check-in during leave."""
    _not_erased(referral)
    now = clock.now()
    if contact_in.occurred_at > now + CLOCK_SKEW:
        raise invalid(["body", "occurred_at"], "is in the future")
    open_match = match_repository.open_match_for(db, referral.id)
    contact = Contact(
        id=new_id(),
        referral_id=referral.id,
        match_id=open_match.id if open_match else None,
        kind=contact_in.kind.value,
        minutes=contact_in.minutes,
        note=contact_in.note,
        occurred_at=contact_in.occurred_at,
        recorded_by_key_id=actor.key_id,
        recorded_by_role=actor.role.value,
        recorded_at=now,
    )
    _record(db, actor=actor, contact=contact)
    return contact


def _not_erased(referral: Referral) -> None:
    if referral.erased_at is not None:
        raise Conflict("This referral's personal data was erased.", extra={"state": "erased"})


def _record(db: Session, *, actor: Principal, contact: Contact) -> None:
    repository.add(db, contact)
    audit.record(
        db, actor=actor, action="contact.recorded", record_type="contact", record_id=contact.id, reason=contact.kind
    )


def page_for_match(
    db: Session, *, caller: Principal, match: Match, limit: int, cursor: str | None
) -> tuple[list[ContactOut], str | None]:
    """Coordinators read every contact of the match; its volunteer only the notes she wrote."""
    own = caller.volunteer_id if caller.role is Role.volunteer else None
    rows = repository.page(db, match_id=match.id, volunteer_id=own, after_id=decode(cursor), limit=limit)
    return [to_out(c) for c in rows[:limit]], next_cursor([c.id for c in rows], limit)


def page_for_referral(
    db: Session, *, referral: Referral, limit: int, cursor: str | None
) -> tuple[list[ContactOut], str | None]:
    rows = repository.page(db, referral_id=referral.id, after_id=decode(cursor), limit=limit)
    return [to_out(c) for c in rows[:limit]], next_cursor([c.id for c in rows], limit)


def to_out(contact: Contact, *, with_concern_form: bool = False) -> ContactOut:
    form = (
        ConcernForm(href="/v1/concerns", match_id=contact.match_id)
        if with_concern_form and contact.concern and contact.match_id is not None
        else None
    )
    return ContactOut(
        id=contact.id,
        referral_id=contact.referral_id,
        match_id=contact.match_id,
        session_id=contact.session_id,
        kind=contact.kind,
        attended=contact.attended,
        format=contact.format,
        minutes=contact.minutes,
        note=contact.note,
        concern=contact.concern,
        occurred_at=contact.occurred_at,
        recorded_by_role=contact.recorded_by_role,
        recorded_at=contact.recorded_at,
        concern_form=form,
    )
