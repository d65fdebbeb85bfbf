"""Safeguarding concerns: a volunteer (about the parent of her own match) or a coordinator raises one; the
programme's safeguarding leads are alerted at once, record what they did and close it with an outcome. A concern
of a category the programme marks as blocking pauses its match until it is closed.

What happened, what was done and the leads' notes stay in the concern's rows: the event carries ids and the
category code only, the audit rows action codes only, and nothing of it is logged."""

from datetime import timedelta

from sqlmodel import Session

from api_schemas.concerns import (
    ConcernActionIn,
    ConcernActionOut,
    ConcernCloseIn,
    ConcernIn,
    ConcernOut,
    ConcernStatus,
    MyConcernOut,
)
from service.concerns import lifecycle, repository
from service.core import audit, clock
from service.core.auth import Principal, Role, safeguarding_leads
from service.core.errors import Conflict, NotFound, invalid
from service.core.ids import new_id
from service.core.lifecycle import begin, event
from service.core.pagination import decode, next_cursor
from service.matches import pauses
from service.matches import repository as match_repository
from service.matches import service as match_service
from service.matches.lifecycle import HOLDS_CAPACITY
from service.models import Concern, ConcernActionRecord, Match, Referral
from service.programme import service as programme_service
from service.referrals import repository as referral_repository

# A little slack for clocks that differ: an account of something "just now" is not refused.
CLOCK_SKEW = timedelta(minutes=5)


def raise_concern(db: Session, *, actor: Principal, concern_in: ConcernIn) -> Concern:
    """Record the concern, alert the leads (`safety.concern`), and pause its match if its category blocks."""
    match, referral = _subject(db, actor=actor, concern_in=concern_in)
    if referral.erased_at is not None:
        raise Conflict("This referral's personal data was erased.", extra={"state": "erased"})
    now = clock.now()
    if concern_in.occurred_at > now + CLOCK_SKEW:
        raise invalid(["body", "occurred_at"], "is in the future")
    blocking = concern_in.category in programme_service.current(db).blocking_concern_categories
    concern = Concern(
        id=new_id(),
        referral_id=referral.id,
        match_id=match.id if match else None,
        volunteer_id=actor.volunteer_id if actor.role is Role.volunteer else None,
        raised_by_key_id=actor.key_id,
        raised_by_role=actor.role.value,
        category=concern_in.category.value,
        blocking=blocking,
        status=ConcernStatus.open.value,
        what_happened=concern_in.what_happened,
        occurred_at=concern_in.occurred_at,
        immediate_action=concern_in.immediate_action,
        raised_at=now,
        updated_at=now,
    )
    leads = safeguarding_leads(db)
    begin(
        db,
        lifecycle.CONCERN,
        concern,
        actor=actor,
        reason=concern.category,
        events=(
            event(
                "safety.concern",
                record_type="concern",
                record_id=concern.id,
                referral_id=concern.referral_id,
                match_id=concern.match_id,
                category=concern.category,
                lead_key_ids=leads,
            ),
        ),
    )
    for lead in leads:
        audit.record(
            db, actor=actor, action="concern.lead_alerted", record_type="concern", record_id=concern.id, reason=lead
        )
    if blocking and match is not None and match.status in HOLDS_CAPACITY:
        pauses.hold(db, actor=actor, match=match, reason=pauses.HoldReason.concern)
    return concern


def _subject(db: Session, *, actor: Principal, concern_in: ConcernIn) -> tuple[Match | None, Referral]:
    """The match and parent the concern is about, as the caller may see them (404 alike otherwise)."""
    if concern_in.match_id is not None:
        match = match_service.visible(db, caller=actor, match_id=concern_in.match_id)
        return match, match_repository.referral_of(db, match)
    if actor.role is Role.volunteer:
        raise invalid(["body", "match_id"], "a volunteer raises a concern about the parent of one of her matches")
    assert concern_in.referral_id is not None
    referral = referral_repository.get(db, concern_in.referral_id)
    if referral is None:
        raise NotFound("No referral with this id.")
    return match_repository.open_match_for(db, referral.id), referral


def record_action(db: Session, *, lead: Principal, concern: Concern, action_in: ConcernActionIn) -> Concern:
    """A lead's action; the first acknowledges the concern."""
    if concern.status == ConcernStatus.closed:
        raise Conflict("This concern is closed.", extra={"state": concern.status})
    repository.add(
        db,
        ConcernActionRecord(
            id=new_id(),
            concern_id=concern.id,
            action=action_in.action.value,
            note=action_in.note,
            recorded_at=clock.now(),
            recorded_by_key_id=lead.key_id,
        ),
    )
    if concern.status == ConcernStatus.open:
        lifecycle.move(
            db, concern, ConcernStatus.acknowledged, action="acknowledged", actor=lead, reason=action_in.action
        )
        return concern
    concern.version += 1
    concern.updated_at = clock.now()
    db.add(concern)
    audit.record(
        db, actor=lead, action="concern.action", record_type="concern", record_id=concern.id, reason=action_in.action
    )
    return concern


def close(db: Session, *, lead: Principal, concern: Concern, close_in: ConcernCloseIn) -> Concern:
    """Closed with an outcome; its match resumes when no other blocking concern (or pause) holds it."""
    concern.outcome, concern.outcome_note = close_in.outcome.value, close_in.note
    concern.closed_at, concern.closed_by_key_id = clock.now(), lead.key_id
    lifecycle.move(db, concern, ConcernStatus.closed, action="closed", actor=lead, reason=close_in.outcome)
    if concern.blocking and concern.match_id is not None:
        db.flush()
        if repository.open_blocking_for_match(db, concern.match_id) == 0:
            match = match_repository.get(db, concern.match_id)
            assert match is not None
            pauses.release(db, actor=lead, match=match, reason=pauses.HoldReason.concern)
    return concern


def for_lead(db: Session, *, concern_id: str) -> Concern:
    concern = repository.get(db, concern_id)
    if concern is None:
        raise NotFound("No concern with this id.")
    return concern


def for_volunteer(db: Session, *, caller: Principal, concern_id: str) -> Concern:
    """Her own concern; 404 alike for another volunteer's and for none."""
    concern = repository.get(db, concern_id)
    if concern is None or concern.volunteer_id is None or concern.volunteer_id != caller.volunteer_id:
        raise NotFound("No concern with this id.")
    return concern


def page(
    db: Session, *, status: ConcernStatus | None, volunteer_id: str | None, limit: int, cursor: str | None
) -> tuple[list[Concern], str | None]:
    rows = repository.page(
        db,
        status=status.value if status else None,
        volunteer_id=volunteer_id,
        after_id=decode(cursor),
        limit=limit,
    )
    return rows[:limit], next_cursor([c.id for c in rows], limit)


def record_reads(db: Session, *, reader: Principal, concerns: list[Concern], listed: bool) -> None:
    """Special-category data: who read which concern, and when, is kept (one audit row per concern shown)."""
    for concern in concerns:
        audit.record(
            db,
            actor=reader,
            action="concern.read",
            record_type="concern",
            record_id=concern.id,
            reason="listed" if listed else None,
        )


def lead_views(db: Session, concerns: list[Concern]) -> list[ConcernOut]:
    actions = repository.actions_of(db, [c.id for c in concerns])
    return [_lead_view(c, actions[c.id]) for c in concerns]


def lead_view(db: Session, concern: Concern) -> ConcernOut:
    return lead_views(db, [concern])[0]


def _lead_view(concern: Concern, actions: list[ConcernActionRecord]) -> ConcernOut:
    return ConcernOut(
        id=concern.id,
        referral_id=concern.referral_id,
        match_id=concern.match_id,
        category=concern.category,
        status=concern.status,
        blocking=concern.blocking,
        what_happened=concern.what_happened,
        occurred_at=concern.occurred_at,
        immediate_action=concern.immediate_action,
        raised_by_role=concern.raised_by_role,
        raised_at=concern.raised_at,
        actions=[ConcernActionOut(id=a.id, action=a.action, note=a.note, recorded_at=a.recorded_at) for a in actions],
        outcome=concern.outcome,
        outcome_note=concern.outcome_note,
        closed_at=concern.closed_at,
    )


def volunteer_view(concern: Concern) -> MyConcernOut:
    """Its status and dates: never the leads' actions, notes or outcome."""
    return MyConcernOut(
        id=concern.id,
        match_id=concern.match_id,
        category=concern.category,
        status=concern.status,
        occurred_at=concern.occurred_at,
        raised_at=concern.raised_at,
        closed_at=concern.closed_at,
    )


def view_for(db: Session, caller: Principal, concern: Concern) -> ConcernOut | MyConcernOut:
    """What the one who raised it reads back: a volunteer her own view, staff the full record."""
    if caller.role is Role.volunteer:
        return volunteer_view(concern)
    return lead_view(db, concern)
