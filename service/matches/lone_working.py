"""Lone working on home visits: the volunteer checks in as she arrives and out as she leaves, and both record
her attendance as marking it by hand would. A home visit that was due and has no check-out the programme's
grace after its planned end raises `volunteer.safety_check_missed` once, to the coordinators on duty.

Only ids and times leave these rows: the parent's address is never in the event, the audit rows or a log."""

from datetime import datetime, timedelta

from sqlmodel import Session

from api_schemas.sessions import SessionStatus
from service.core import audit, clock
from service.core.auth import Principal, coordinators_on_duty
from service.core.errors import Conflict, TransitionNotAllowed
from service.core.lifecycle import emit, event
from service.matches import lifecycle, repository, sessions
from service.matches.lifecycle import RUNNING
from service.models import Match, SupportSession
from service.programme import service as programme_service

# She may check in a little early (she is at the door before the hour), never the day before by mistake.
EARLY_CHECK_IN = timedelta(hours=1)
# A worker stopped for longer than this does not alert about old visits when it starts again: by then a
# coordinator has long since heard from her, and a burst of stale alerts would bury a live one.
LOOK_BACK = timedelta(hours=24)
CHECKABLE = frozenset({SessionStatus.planned, SessionStatus.attended})


def _ensure_checkable(row: SupportSession, match: Match, *, action: str) -> None:
    if row.format != "home_visit":
        raise Conflict(
            f"Only home visits are checked in and out (lone working); this session's format is {row.format}.",
            extra={"state": row.format},
        )
    if SessionStatus(row.status) not in CHECKABLE:
        raise TransitionNotAllowed("session", row.status, action)
    lifecycle.ensure(match, RUNNING, action=action)


def check_in(db: Session, *, actor: Principal, row: SupportSession, match: Match) -> SupportSession:
    """She has arrived. From the start of the visit this also marks it attended."""
    _ensure_checkable(row, match, action="checked in")
    now = clock.now()
    if row.checked_in_at is not None:
        raise Conflict("She has already checked in to this visit.", extra={"state": "checked_in"})
    if row.checked_out_at is not None:
        raise Conflict("She has already checked out of this visit.", extra={"state": "checked_out"})
    if now < row.starts_at - EARLY_CHECK_IN:
        raise Conflict("This visit starts more than an hour from now.", extra={"state": row.status})
    row.checked_in_at = now
    db.add(row)
    audit.record(db, actor=actor, action="session.checked_in", record_type="match", record_id=match.id)
    _attended(db, actor=actor, row=row, match=match, now=now)
    return row


def check_out(db: Session, *, actor: Principal, row: SupportSession, match: Match) -> SupportSession:
    """She has left, safe. A check-out without a check-in (she forgot) still counts: it is the safety signal."""
    _ensure_checkable(row, match, action="checked out")
    now = clock.now()
    if row.checked_out_at is not None:
        raise Conflict("She has already checked out of this visit.", extra={"state": "checked_out"})
    if now < row.starts_at:
        raise Conflict("The visit has not started yet.", extra={"state": row.status})
    row.checked_out_at = now
    db.add(row)
    audit.record(db, actor=actor, action="session.checked_out", record_type="match", record_id=match.id)
    _attended(db, actor=actor, row=row, match=match, now=now)
    return row


def _attended(db: Session, *, actor: Principal, row: SupportSession, match: Match, now: datetime) -> None:
    """Through the attendance path itself, so the match moves on (started, ending, completed) exactly as when
    she marks it; once only, and not before the visit starts."""
    if row.status == SessionStatus.planned and now >= row.starts_at:
        sessions.record_attendance(db, actor=actor, row=row, match=match, attended=True)


def raise_missed_check_outs(db: Session) -> int:
    """`volunteer.safety_check_missed` for each home visit that was due, checked in or not, with no check-out the
    grace after its planned end; once per visit. The number raised."""
    now = clock.now()
    grace = timedelta(minutes=programme_service.current(db).check_out_grace_minutes)
    overdue = repository.check_outs_missing(db, ended_after=now - grace - LOOK_BACK, ended_by=now - grace)
    if not overdue:
        return 0
    alerted = coordinators_on_duty(db)
    raised = 0
    for row in overdue:
        if not repository.claim_safety_alert(db, row.id, now=now):
            continue
        emit(
            db,
            (
                event(
                    "volunteer.safety_check_missed",
                    record_type="volunteer",
                    record_id=row.volunteer_id,
                    session_id=row.id,
                    match_id=row.match_id,
                    planned_end_at=row.ends_at,
                    checked_in_at=row.checked_in_at,
                    coordinator_key_ids=alerted,
                ),
            ),
        )
        for key_id in alerted:
            audit.record(
                db,
                actor=None,
                action="session.safety_check_alerted",
                record_type="match",
                record_id=row.match_id,
                reason=key_id,
            )
        raised += 1
    return raised
