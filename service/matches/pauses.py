"""A paused match: while any reason to pause it remains (a risk review's `pause`, an open concern of a blocking
category) its upcoming sessions wait `on_hold`, so nothing is reminded, planned or added for it. When the last
reason lifts, the held sessions are planned afresh from then on, after those still planned; a session for which
no time is found needs cover, and the coordinator chooses as after leave.

A dated pause holds only the sessions before its date; the worker lifts it on that day (`lift_due_pauses`)."""

from datetime import date, datetime, time
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlmodel import Session

from api_schemas.matching import CoverChoice
from api_schemas.sessions import SessionStatus
from scheduling import changes as plan_changes
from service.core import audit, clock
from service.core.auth import Principal
from service.core.lifecycle import emit, event
from service.matches import kinds, lifecycle, planning, repository
from service.models import Match, SupportSession
from service.profiles import planning as plan_inputs
from service.programme import service as programme_service


class HoldReason(StrEnum):
    risk_review = "risk_review"
    concern = "concern"


def is_paused(match: Match) -> bool:
    return bool(match.hold_reasons)


def hold(
    db: Session, *, actor: Principal | None, match: Match, reason: HoldReason, until: date | None = None
) -> list[SupportSession]:
    """Pause the match for `reason` (a risk review's pause may end on `until`); the sessions put on hold."""
    lifecycle.ensure(match, lifecycle.HOLDS_CAPACITY, action="paused")
    was_paused = is_paused(match)
    match.hold_reasons = sorted({*match.hold_reasons, reason.value})
    if reason is HoldReason.risk_review:
        match.hold_until = until
    match.version += 1
    match.updated_at = clock.now()
    db.add(match)
    audit.record(db, actor=actor, action="match.paused", record_type="match", record_id=match.id, reason=reason.value)
    if not was_paused:
        emit(db, (event("match.paused", record_type="match", record_id=match.id, until=match.hold_until),))
    return hold_sessions(db, actor=actor, match=match, rows=repository.sessions_in(db, match.id, SessionStatus.planned))


def hold_sessions(
    db: Session, *, actor: Principal | None, match: Match, rows: list[SupportSession]
) -> list[SupportSession]:
    """Put on hold those of these planned sessions that fall in the match's pause (a replacement for a session
    cancelled while paused among them); the sessions held. None while the match is not paused."""
    if not is_paused(match):
        return []
    cutoff = _held_before(db, match)
    now = clock.now()
    held = [
        row
        for row in rows
        if row.status == SessionStatus.planned and row.starts_at > now and (cutoff is None or row.starts_at < cutoff)
    ]
    for row in held:
        lifecycle.move_session(
            db,
            row,
            SessionStatus.on_hold,
            action="put on hold",
            actor=actor,
            reason="match_paused",
            events=(
                event(
                    "session.on_hold",
                    record_type="match",
                    record_id=match.id,
                    session_id=row.id,
                    starts_at=row.starts_at,
                ),
            ),
        )
    return held


def _held_before(db: Session, match: Match) -> datetime | None:
    """Sessions starting before this moment are held; None: all of them (a pause without an end)."""
    if set(match.hold_reasons) != {HoldReason.risk_review.value} or match.hold_until is None:
        return None
    zone = ZoneInfo(programme_service.current(db).time_zone)
    return datetime.combine(match.hold_until, time(0), tzinfo=zone)


def release(db: Session, *, actor: Principal | None, match: Match, reason: HoldReason) -> list[SupportSession]:
    """Lift one reason to pause; when none is left, the held sessions are planned again. Those planned."""
    if reason.value not in match.hold_reasons:
        return []
    match.hold_reasons = [r for r in match.hold_reasons if r != reason.value]
    if reason is HoldReason.risk_review:
        match.hold_until = None
    match.version += 1
    match.updated_at = clock.now()
    db.add(match)
    audit.record(db, actor=actor, action="match.resumed", record_type="match", record_id=match.id, reason=reason.value)
    if is_paused(match):
        return []
    emit(db, (event("match.resumed", record_type="match", record_id=match.id),))
    return _plan_held(db, actor=actor, match=match)


def _plan_held(db: Session, *, actor: Principal | None, match: Match) -> list[SupportSession]:
    held = repository.sessions_in(db, match.id, SessionStatus.on_hold)
    if not held:
        return []
    programme = programme_service.current(db)
    referral, volunteer = repository.referral_of(db, match), repository.lock_volunteer(db, match.volunteer_id)
    assert volunteer is not None
    now = clock.now()
    planned = repository.sessions_in(db, match.id, SessionStatus.planned)
    result = plan_changes.extend_after(
        planning.to_plan(db, match, referral, volunteer, programme, sessions=len(held), earliest=now),
        planning.diary(db, volunteer, except_match_id=match.id),
        plan_inputs.settings_for(programme),
        after=max([s.starts_at for s in planned] + [now]),
        already=max(s.number for s in repository.all_sessions(db, match.id)),
        extra=len(held),
        now=now,
    )
    found = list(result.sessions)
    for row in held:
        if found:
            new = found.pop(0)
            row.starts_at, row.ends_at = new.starts_at, new.ends_at
            _move_held(db, actor, match, row, SessionStatus.planned, "session.changed")
        else:
            _move_held(db, actor, match, row, SessionStatus.needs_cover, "session.needs_cover")
    match.ending_soon_at = None  # the ending moved: announced afresh
    kinds.remark(repository.live_sessions(db, match.id), programme.ending_conversation_offset)
    return held


def _move_held(
    db: Session, actor: Principal | None, match: Match, row: SupportSession, target: SessionStatus, event_type: str
) -> None:
    extra = {"choices": [c.value for c in CoverChoice]} if target is SessionStatus.needs_cover else {}
    lifecycle.move_session(
        db,
        row,
        target,
        action="planned after a pause" if target is SessionStatus.planned else "marked as needing cover",
        actor=actor,
        reason="match_resumed",
        events=(
            event(
                event_type,
                record_type="match",
                record_id=match.id,
                session_id=row.id,
                starts_at=row.starts_at,
                cause="resumed",
                **extra,
            ),
        ),
    )


def lift_due_pauses(db: Session) -> int:
    """The worker's job: lift each risk review's pause whose date has come; the number lifted."""
    today = clock.today(programme_service.current(db).time_zone)
    lifted = 0
    for match in repository.pauses_due(db, today=today):
        release(db, actor=None, match=match, reason=HoldReason.risk_review)
        lifted += 1
    return lifted
