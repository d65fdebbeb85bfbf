"""The life of a match after a coordinator makes it: the volunteer accepts (sessions are planned at once) or
declines, attendance moves it on, extensions need both people, an ending is easy and blameless."""

from datetime import timedelta

from sqlmodel import Session

from api_schemas.referrals import ReferralStatus
from scheduling import replan
from scheduling import solver as plan_solver
from service.core import audit, clock, outbox
from service.core.auth import Principal
from service.core.errors import Conflict, invalid
from service.core.ids import new_id
from service.matches import kinds, planning, repository
from service.matches.states import MatchStatus, move
from service.models import Match, Referral, SupportSession, Volunteer
from service.programme import service as programme_service
from service.referrals import states as referral_states


def _people(session: Session, match: Match, *, lock: bool = True) -> tuple[Referral, Volunteer]:
    referral = session.get(Referral, match.referral_id)
    volunteer = repository.lock_volunteer(session, match.volunteer_id) if lock else session.get(
        Volunteer, match.volunteer_id)
    assert referral is not None and volunteer is not None
    return referral, volunteer


def accept(*, session: Session, actor: Principal, match: Match) -> list[SupportSession]:
    """She says yes: the sessions are planned now, or the accept is refused with the planner's reason."""
    referral, volunteer = _people(session, match)
    # Re-read under a lock once her row is held: a second accept sent at the same time then sees the first.
    session.refresh(match, with_for_update=True)
    target = move(match.status, MatchStatus.scheduled, action="accepted")
    programme = programme_service.current(session)
    now = clock.now()
    result = plan_solver.plan([planning.to_plan(match, referral, volunteer, sessions=match.planned_sessions,
                                                earliest=now)],
                              {volunteer.id: planning.diary(session, volunteer)}, planning.settings_for(programme),
                              now=now)
    if result.unplanned:
        raise Conflict(f"No session plan is possible: {result.unplanned[0].reason}.",
                       extra={"state": match.status, "reason": result.unplanned[0].reason})
    rows = planning.store(session, match, result.sessions)
    match.status, match.confirmed_at, match.updated_at = target.value, now, now
    match.version += 1
    session.add(match)
    audit.record(session, actor=actor, action="match.confirmed", record_type="match", record_id=match.id)
    outbox.emit(session, "match.confirmed", record_type="match", record_id=match.id,
                first_session_at=rows[0].starts_at, last_session_at=rows[-1].starts_at)
    for row in rows:
        outbox.emit(session, "session.scheduled", record_type="match", record_id=match.id, session_id=row.id,
                    number=row.number, kind=row.kind, starts_at=row.starts_at)
    return rows


def decline(*, session: Session, actor: Principal, match: Match) -> Match:
    """She says no, without a reason owed: the parent waits again and the pair is never proposed again."""
    match.status = move(match.status, MatchStatus.declined, action="declined").value
    now = clock.now()
    match.updated_at = now
    match.version += 1
    session.add(match)
    referral = session.get(Referral, match.referral_id)
    assert referral is not None
    referral.status = referral_states.move(referral.status, ReferralStatus.waiting, action="returned").value
    referral.updated_at = now
    session.add(referral)
    repository.exclude_pair(session, referral_id=match.referral_id, volunteer_id=match.volunteer_id,
                            cause="declined", pair_id=new_id(), at=now)
    audit.record(session, actor=actor, action="match.declined", record_type="match", record_id=match.id)
    outbox.emit(session, "match.declined", record_type="match", record_id=match.id, referral_id=referral.id)
    return match


def cancel(*, session: Session, actor: Principal, match: Match) -> Match:
    """Call off a match the volunteer has not accepted yet (no sessions exist); her place is free at once.
    The referral's next status is the caller's to set."""
    match.status = move(match.status, MatchStatus.cancelled, action="cancelled").value
    match.updated_at = clock.now()
    match.version += 1
    session.add(match)
    audit.record(session, actor=actor, action="match.cancelled", record_type="match", record_id=match.id)
    return match


def extend(*, session: Session, actor: Principal, match: Match, sessions: int) -> list[SupportSession]:
    """Both people agreed (checked by the caller): more sessions follow on and the ending markers move."""
    programme = programme_service.current(session)
    if match.extension_sessions + sessions > programme.max_extension_sessions:
        raise Conflict(f"The programme allows at most {programme.max_extension_sessions} extension sessions; "
                       f"this match has {match.extension_sessions}.", extra={"state": match.status})
    if match.status not in (MatchStatus.scheduled, MatchStatus.active, MatchStatus.ending):
        move(match.status, MatchStatus.active, action="extended")
    rows = _append(session, match, sessions)
    match.extension_sessions += sessions
    match.ending_soon_at = None  # the ending moved: its new ending conversation is announced afresh
    if match.status == MatchStatus.ending:
        match.status = move(match.status, MatchStatus.active, action="extended").value
    match.version += 1
    session.add(match)
    audit.record(session, actor=actor, action="match.extended", record_type="match", record_id=match.id,
                 reason=str(sessions))
    return rows


def extend_for_replacement(*, session: Session, match: Match) -> list[SupportSession]:
    """A cancelled session's replacement at the end; it does not count against the extension cap."""
    return _append(session, match, 1)


def _append(session: Session, match: Match, count: int) -> list[SupportSession]:
    programme = programme_service.current(session)
    referral, volunteer = _people(session, match)
    live = planning.live_sessions(session, match.id)
    now = clock.now()
    base = planning.to_plan(match, referral, volunteer, sessions=count, earliest=now)
    last = max([s.starts_at for s in live] + [now])
    result = replan.extend(base, planning.diary(session, volunteer, except_match_id=match.id),
                           planning.settings_for(programme), after=last,
                           already=max([s.number for s in planning.all_sessions(session, match.id)] + [0]),
                           extra=count, now=now)
    if result.unplanned:
        raise Conflict(f"More sessions cannot be planned: {result.unplanned[0].reason}.",
                       extra={"state": match.status})
    rows = planning.store(session, match, result.sessions)
    session.flush()
    kinds.remark(live + rows, programme.ending_conversation_offset)
    match.updated_at = now
    session.add(match)
    for row in rows:
        outbox.emit(session, "session.scheduled", record_type="match", record_id=match.id, session_id=row.id,
                    number=row.number, kind=row.kind, starts_at=row.starts_at)
    return rows


def end(*, session: Session, actor: Principal, match: Match, reason: str, initiated_by: str, rematch: bool,
        completed: bool = False) -> Match:
    """End now: future sessions are cancelled, no blame is recorded, she rests before a new match, and with
    `rematch` the parent waits again ahead of newer referrals."""
    match.status = move(match.status, MatchStatus.ended, action="ended").value
    programme = programme_service.current(session)
    now = clock.now()
    today = clock.today(programme.time_zone)
    for row in planning.live_sessions(session, match.id):
        if row.status == "planned" and row.starts_at > now:
            row.status, row.cancelled_by = "cancelled", initiated_by
            row.sequence, row.updated_at = row.sequence + 1, now
            session.add(row)
            outbox.emit(session, "session.cancelled", record_type="match", record_id=match.id, session_id=row.id,
                        starts_at=row.starts_at)
    match.outcome = "completed" if completed else "ended_early"
    match.end_reason, match.ended_initiated_by = reason, initiated_by
    match.ended_at, match.ended_on, match.updated_at = now, today, now
    match.version += 1
    session.add(match)
    referral, volunteer = _people(session, match)
    rest_until = today + timedelta(days=programme.rest_days)
    volunteer.resting_until = max(volunteer.resting_until or rest_until, rest_until)
    session.add(volunteer)
    referral.status = referral_states.move(referral.status, ReferralStatus.ended, action="ended").value
    if rematch:
        referral.status = referral_states.move(referral.status, ReferralStatus.waiting, action="rematched").value
        referral.priority = True
    referral.updated_at = now
    session.add(referral)
    audit.record(session, actor=actor, action="match.ended", record_type="match", record_id=match.id,
                 reason=f"{match.outcome}:{reason}")
    outbox.emit(session, "match.ended", record_type="match", record_id=match.id, outcome=match.outcome,
                reason=reason, initiated_by=initiated_by, rematch=rematch)
    return match


def check_agreement(parent_agrees: bool, volunteer_agrees: bool) -> None:
    missing = [name for name, ok in (("parent_agrees", parent_agrees), ("volunteer_agrees", volunteer_agrees))
               if not ok]
    if missing:
        raise invalid(["body", missing[0]], "an extension needs both people's agreement")
