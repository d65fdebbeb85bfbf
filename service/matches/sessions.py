"""Session changes: attendance (which moves the match on), cancelling (replaced at the end by default) and
rescheduling to the next feasible slot."""

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from api_schemas.referrals import ReferralStatus
from api_schemas.sessions import CancelIn, SessionOut
from scheduling import calendar as plan_calendar
from scheduling import replan
from service.core import audit, clock, outbox
from service.core.auth import Principal, Role
from service.core.errors import Conflict, NotFound, TransitionNotAllowed
from service.matches import kinds, lifecycle, planning, reminders
from service.matches import repository as match_repository
from service.matches.states import MatchStatus, move
from service.models import Match, Referral, SupportSession
from service.programme import service as programme_service
from service.referrals import states as referral_states


def visible(*, session: Session, caller: Principal, session_id: str) -> tuple[SupportSession, Match]:
    row = session.get(SupportSession, session_id)
    if row is None or (caller.role is Role.volunteer and row.volunteer_id != caller.volunteer_id):
        raise NotFound("No session with this id.")
    match = session.get(Match, row.match_id)
    assert match is not None
    return row, match


def record_attendance(*, session: Session, actor: Principal, row: SupportSession, match: Match,
                      attended: bool) -> SupportSession:
    if row.status != "planned":
        raise TransitionNotAllowed("session", row.status, "marked")
    now = clock.now()
    if row.starts_at > now:
        raise Conflict("The session has not started yet.", extra={"state": row.status})
    if match.status not in (MatchStatus.scheduled, MatchStatus.active, MatchStatus.ending):
        raise TransitionNotAllowed("match", match.status, "given attendance")
    row.status, row.updated_at = ("attended" if attended else "missed"), now
    session.add(row)
    audit.record(session, actor=actor, action=f"session.{row.status}", record_type="session", record_id=row.id)
    live = planning.live_sessions(session, match.id)
    if attended:
        _move_on(session, actor=actor, row=row, match=match)
    elif _two_missed_in_a_row(live, row):
        outbox.emit(session, "match.attendance_alert", record_type="match", record_id=match.id,
                    reason="two_missed_in_a_row", session_id=row.id)
    _ending_soon(session, match, live, row)
    return row


def _move_on(session: Session, *, actor: Principal, row: SupportSession, match: Match) -> None:
    if match.status == MatchStatus.scheduled:
        match.status = move(match.status, MatchStatus.active, action="started").value
        referral = session.get(Referral, match.referral_id)
        assert referral is not None
        referral.status = referral_states.move(referral.status, ReferralStatus.active, action="started").value
        session.add(referral)
    if row.kind == "ending_conversation" and match.status == MatchStatus.active:
        match.status = move(match.status, MatchStatus.ending, action="moved to ending").value
    match.updated_at = clock.now()
    session.add(match)
    if row.kind == "closing":
        lifecycle.end(session=session, actor=actor, match=match, reason="completed", initiated_by="coordinator",
                      rematch=False, completed=True)


def _two_missed_in_a_row(live: list[SupportSession], row: SupportSession) -> bool:
    earlier = [s for s in live if s.starts_at < row.starts_at and s.status in ("attended", "missed")]
    return bool(earlier) and earlier[-1].status == "missed"


def _ending_soon(session: Session, match: Match, live: list[SupportSession], row: SupportSession) -> None:
    """Marking the session before the ending conversation announces the ending at once (the worker would
    otherwise do it when that session ends); either way it is raised once."""
    upcoming = [s for s in live if s.status == "planned" and s.starts_at > row.starts_at]
    if upcoming and upcoming[0].kind == "ending_conversation" and match.status in reminders.RUNNING:
        reminders.announce_ending_soon(session, match_id=match.id, ending=upcoming[0], now=clock.now())


def cancel(*, session: Session, actor: Principal, row: SupportSession, match: Match,
           cancel_in: CancelIn) -> list[SupportSession]:
    """Cancel without penalty; by default a replacement is added at the end so she loses no support."""
    if row.status != "planned":
        raise TransitionNotAllowed("session", row.status, "cancelled")
    now = clock.now()
    row.status, row.cancelled_by, row.cancel_reason = "cancelled", cancel_in.by.value, cancel_in.reason
    row.sequence, row.updated_at = row.sequence + 1, now
    session.add(row)
    audit.record(session, actor=actor, action="session.cancelled", record_type="session", record_id=row.id,
                 reason=f"{cancel_in.by.value}:{cancel_in.reason}")
    outbox.emit(session, "session.cancelled", record_type="match", record_id=match.id, session_id=row.id,
                starts_at=row.starts_at)
    added = [row]
    if cancel_in.replace:
        added += lifecycle.extend_for_replacement(session=session, match=match)
    else:
        kinds.remark(planning.live_sessions(session, match.id),
                     programme_service.current(session).ending_conversation_offset)
    return added


def reschedule(*, session: Session, actor: Principal, row: SupportSession, match: Match,
               not_before: datetime | None, preferred_day: int | None) -> SupportSession:
    # Her row locked first, then this session re-read: concurrent moves of her sessions queue here, so each
    # finds a slot in the diary the one before it left, and never the same hour.
    volunteer = match_repository.lock_volunteer(session, match.volunteer_id)
    session.refresh(row, with_for_update=True)
    if row.status != "planned":
        raise TransitionNotAllowed("session", row.status, "rescheduled")
    referral = session.get(Referral, match.referral_id)
    assert referral is not None and volunteer is not None
    programme = programme_service.current(session)
    settings = planning.settings_for(programme)
    now = clock.now()
    live = planning.live_sessions(session, match.id)
    diary = planning.diary(session, volunteer, except_session_ids=frozenset({row.id}))
    zone = ZoneInfo(settings.time_zone)
    taken = frozenset(plan_calendar.monday_of(s.starts_at.astimezone(zone).date()) for s in live if s.id != row.id)
    found = replan.next_slot(planning.to_plan(match, referral, volunteer, sessions=1, earliest=now), diary, settings,
                             not_before=not_before or now, now=now, preferred_day=preferred_day,
                             match_weeks_taken=taken, avoid=row.starts_at)
    if isinstance(found, str):
        raise Conflict(f"No slot found: {found}.", extra={"state": row.status})
    row.starts_at, row.ends_at = found
    row.sequence, row.updated_at = row.sequence + 1, now
    session.add(row)
    kinds.remark(live, programme.ending_conversation_offset)
    audit.record(session, actor=actor, action="session.rescheduled", record_type="session", record_id=row.id)
    outbox.emit(session, "session.changed", record_type="match", record_id=match.id, session_id=row.id,
                starts_at=row.starts_at)
    return row


def to_out(row: SupportSession) -> SessionOut:
    return SessionOut(id=row.id, match_id=row.match_id, number=row.number, kind=row.kind, starts_at=row.starts_at,
                      ends_at=row.ends_at, format=row.format, status=row.status)
