"""Session changes: attendance (which moves the match on), cancelling (replaced at the end by default) and
rescheduling to the next feasible slot."""

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from api_schemas.matching import MatchStatus
from api_schemas.referrals import ReferralStatus
from api_schemas.sessions import CancelIn, CancelledBy, SessionKind, SessionOut, SessionStatus
from scheduling import calendar as plan_calendar
from scheduling import changes as plan_changes
from service.core import audit, clock
from service.core.auth import Principal, Role
from service.core.errors import Conflict, InvalidInput, NotFound, TransitionNotAllowed
from service.core.lifecycle import emit, event
from service.matches import kinds, lifecycle, pauses, planning, reminders, repository
from service.matches import service as match_service
from service.matches.lifecycle import RUNNING
from service.models import Match, SupportSession
from service.profiles import planning as plan_inputs
from service.programme import service as programme_service
from service.referrals import lifecycle as referral_lifecycle


def visible(db: Session, *, caller: Principal, session_id: str) -> tuple[SupportSession, Match]:
    row = repository.get_session(db, session_id)
    if row is None or (caller.role is Role.volunteer and row.volunteer_id != caller.volunteer_id):
        raise NotFound("No session with this id.")
    match = repository.get(db, row.match_id)
    assert match is not None
    return row, match


def record_attendance(
    db: Session, *, actor: Principal, row: SupportSession, match: Match, attended: bool
) -> SupportSession:
    lifecycle.SESSION.check(row.status, SessionStatus.attended, action="marked")
    if row.starts_at > clock.now():
        raise Conflict("The session has not started yet.", extra={"state": row.status})
    lifecycle.ensure(match, RUNNING, action="given attendance")
    target = SessionStatus.attended if attended else SessionStatus.missed
    lifecycle.move_session(db, row, target, action="marked", actor=actor)
    live = repository.live_sessions(db, match.id)
    if attended:
        _move_on(db, actor=actor, row=row, match=match)
    elif _two_missed_in_a_row(live, row):
        emit(
            db,
            (
                event(
                    "match.attendance_alert",
                    record_type="match",
                    record_id=match.id,
                    reason="two_missed_in_a_row",
                    session_id=row.id,
                ),
            ),
        )
    _ending_soon(db, match, live, row)
    return row


def _move_on(db: Session, *, actor: Principal, row: SupportSession, match: Match) -> None:
    if match.status == MatchStatus.scheduled:
        lifecycle.move(db, match, MatchStatus.active, action="started", actor=actor)
        referral_lifecycle.move(
            db, repository.referral_of(db, match), ReferralStatus.active, action="started", actor=actor
        )
    if row.kind == SessionKind.ending_conversation and match.status == MatchStatus.active:
        lifecycle.move(db, match, MatchStatus.ending, action="moved to ending", actor=actor)
    if row.kind == SessionKind.closing:
        match_service.end(
            db, actor=actor, match=match, reason="completed", initiated_by="coordinator", rematch=False, completed=True
        )


def _two_missed_in_a_row(live: list[SupportSession], row: SupportSession) -> bool:
    earlier = [s for s in live if s.starts_at < row.starts_at and s.status != SessionStatus.planned]
    return bool(earlier) and earlier[-1].status == SessionStatus.missed


def _ending_soon(db: Session, match: Match, live: list[SupportSession], row: SupportSession) -> None:
    """Marking the session before the ending conversation announces the ending at once (the worker would
    otherwise do it when that session ends); either way it is raised once."""
    upcoming = [s for s in live if s.status == SessionStatus.planned and s.starts_at > row.starts_at]
    if upcoming and upcoming[0].kind == SessionKind.ending_conversation and match.status in RUNNING:
        reminders.announce_ending_soon(db, match_id=match.id, ending=upcoming[0], now=clock.now())


def cancel(
    db: Session, *, actor: Principal, row: SupportSession, match: Match, cancel_in: CancelIn
) -> list[SupportSession]:
    """Cancel without penalty; by default a replacement is added at the end so she loses no support."""
    by = _cancelled_by(actor, cancel_in)
    lifecycle.SESSION.check(row.status, SessionStatus.cancelled, action="cancelled")
    row.cancelled_by, row.cancel_reason = by.value, cancel_in.reason
    lifecycle.move_session(
        db,
        row,
        SessionStatus.cancelled,
        action="cancelled",
        actor=actor,
        reason=f"{by.value}:{cancel_in.reason}",
        events=(
            event(
                "session.cancelled", record_type="match", record_id=match.id, session_id=row.id, starts_at=row.starts_at
            ),
        ),
    )
    added = [row]
    if cancel_in.replace:
        replacement = match_service.extend_for_replacement(db, match=match)
        pauses.hold_sessions(db, actor=actor, match=match, rows=replacement)
        added += replacement
    else:
        kinds.remark(repository.live_sessions(db, match.id), programme_service.current(db).ending_conversation_offset)
    return added


def _cancelled_by(actor: Principal, cancel_in: CancelIn) -> CancelledBy:
    """Who cancelled, as far as the caller may say: a volunteer cannot record a coordinator's decision, nor
    take away the parent's replacement session."""
    if actor.role is not Role.volunteer:
        return cancel_in.by or CancelledBy.coordinator
    errors: list[tuple[list[str | int], str]] = []
    if cancel_in.by is CancelledBy.coordinator:
        errors.append((["body", "by"], "a volunteer records her own cancellation or the parent's"))
    if not cancel_in.replace:
        errors.append((["body", "replace"], "only a coordinator may cancel without a replacement session"))
    if errors:
        raise InvalidInput(errors)
    return cancel_in.by or CancelledBy.volunteer


def reschedule(
    db: Session,
    *,
    actor: Principal,
    row: SupportSession,
    match: Match,
    not_before: datetime | None,
    preferred_day: int | None,
) -> SupportSession:
    # Her row locked first, then this session re-read: concurrent moves of her sessions queue here, so each
    # finds a slot in the diary the one before it left, and never the same hour.
    volunteer = repository.lock_volunteer(db, row.volunteer_id)  # the covering volunteer's, for a cover
    db.refresh(row, with_for_update=True)
    if row.status != SessionStatus.planned:
        raise TransitionNotAllowed("session", row.status, "rescheduled")
    lifecycle.ensure_not_paused(match, action="rescheduled")
    referral = repository.referral_of(db, match)
    assert volunteer is not None
    programme = programme_service.current(db)
    settings = plan_inputs.settings_for(programme)
    now = clock.now()
    live = repository.live_sessions(db, match.id)
    diary = planning.diary(db, volunteer, except_session_ids=frozenset({row.id}))
    zone = ZoneInfo(settings.time_zone)
    taken = frozenset(plan_calendar.monday_of(s.starts_at.astimezone(zone).date()) for s in live if s.id != row.id)
    one = planning.to_plan(db, match, referral, volunteer, programme, sessions=1, earliest=now)
    found = plan_changes.next_slot(
        one,
        diary,
        settings,
        not_before=not_before or now,
        now=now,
        preferred_day=preferred_day,
        match_weeks_taken=taken,
        avoid=row.starts_at,
    )
    if isinstance(found, str):
        raise Conflict(f"No slot found: {found}.", extra={"state": row.status})
    row.starts_at, row.ends_at = found
    row.sequence, row.updated_at = row.sequence + 1, now
    db.add(row)
    kinds.remark(live, programme.ending_conversation_offset)
    audit.record(db, actor=actor, action="session.rescheduled", record_type="session", record_id=row.id)
    emit(
        db,
        (
            event(
                "session.changed", record_type="match", record_id=match.id, session_id=row.id, starts_at=row.starts_at
            ),
        ),
    )
    return row


def to_out(db: Session, row: SupportSession) -> SessionOut:
    return SessionOut(
        id=row.id,
        match_id=row.match_id,
        number=row.number,
        kind=row.kind,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        format=row.format,
        status=row.status,
        venue=match_service.venue_ref(db, row.venue_id),
        checked_in_at=row.checked_in_at,
        checked_out_at=row.checked_out_at,
    )
