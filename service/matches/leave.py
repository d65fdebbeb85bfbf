"""New leave re-plans the sessions it covers; the rest of her plan stays as it is. A session that cannot be
moved needs cover, and the coordinator chooses: wait for her return, or a new volunteer for the parent."""

from datetime import UTC, date, datetime, time, timedelta

from sqlmodel import Session

from api_schemas.matching import CoverChoice
from api_schemas.sessions import SessionStatus
from scheduling import changes as plan_changes
from scheduling.model import PlannedSession, Unplanned
from service.core import audit, clock
from service.core.auth import Principal
from service.core.errors import Conflict
from service.core.lifecycle import emit, event
from service.matches import kinds, lifecycle, planning, repository
from service.matches import service as match_service
from service.models import Match, SupportSession, Volunteer
from service.profiles import planning as plan_inputs
from service.programme import service as programme_service


def replan_for_leave(db: Session, *, actor: Principal, volunteer: Volunteer) -> list[str]:
    """Move her upcoming sessions off her leave; the reasons for any that could not be moved."""
    programme = programme_service.current(db)
    now = clock.now()
    rows = repository.planned_from(db, volunteer.id, now=now)
    if not rows:
        return []
    plans = {}
    for match_id in {r.match_id for r in rows}:
        match = repository.get(db, match_id)
        assert match is not None
        plans[match_id] = plan_inputs.to_plan(
            match, repository.referral_of(db, match), volunteer, programme, sessions=1, earliest=now
        )
    planned = [PlannedSession(r.match_id, r.number, r.kind, r.starts_at, r.ends_at, r.format) for r in rows]
    diary = planning.diary(db, volunteer)
    moved, missing = plan_changes.moved_off_leave(planned, plans, diary, plan_inputs.settings_for(programme), now=now)
    for row in rows:
        if (row.match_id, row.number) in moved:
            row.starts_at, row.ends_at = moved[(row.match_id, row.number)]
            row.sequence, row.updated_at = row.sequence + 1, now
            db.add(row)
            emit(
                db,
                (
                    event(
                        "session.changed",
                        record_type="match",
                        record_id=row.match_id,
                        session_id=row.id,
                        starts_at=row.starts_at,
                        cause="leave",
                    ),
                ),
            )
    uncovered = _mark_needs_cover(db, actor=actor, rows=rows, missing=missing)
    for match_id in {key[0] for key in moved} | {row.match_id for row in uncovered}:
        kinds.remark(repository.live_sessions(db, match_id), programme.ending_conversation_offset)
    if moved:
        audit.record(
            db,
            actor=actor,
            action="sessions.replanned_for_leave",
            record_type="volunteer",
            record_id=volunteer.id,
            reason=str(len(moved)),
        )
    return [u.reason for u in missing]


def _mark_needs_cover(
    db: Session, *, actor: Principal, rows: list[SupportSession], missing: list[Unplanned]
) -> list[SupportSession]:
    """Sessions that could not be moved off her leave never stay planned inside it: each needs cover, and the
    coordinator is told at once with the choices (`POST /v1/matches/{id}/cover`)."""
    by_key = {(row.match_id, row.number): row for row in rows}
    uncovered = [by_key[(u.match_id, u.number)] for u in missing if (u.match_id, u.number) in by_key]
    for row in uncovered:
        lifecycle.move_session(
            db,
            row,
            SessionStatus.needs_cover,
            action="marked as needing cover",
            actor=actor,
            reason="volunteer_leave",
            events=(
                event(
                    "session.needs_cover",
                    record_type="match",
                    record_id=row.match_id,
                    session_id=row.id,
                    starts_at=row.starts_at,
                    cause="leave",
                    choices=[c.value for c in CoverChoice],
                ),
            ),
        )
    return uncovered


def resolve_cover(db: Session, *, actor: Principal, match: Match, choice: CoverChoice) -> list[SupportSession]:
    """The coordinator's choice for a match whose sessions need cover: wait for the volunteer's return (the
    sessions follow on after her leave and her other sessions, the ending moves with them), or end the match
    kindly and let the parent wait again, ahead of newer referrals, for a new volunteer."""
    waiting = [s for s in repository.live_sessions(db, match.id) if s.status == SessionStatus.needs_cover]
    if not waiting:
        raise Conflict("No session of this match needs cover.", extra={"state": match.status})
    if choice is CoverChoice.rematch:
        match_service.end(
            db, actor=actor, match=match, reason="volunteer_unavailable", initiated_by="coordinator", rematch=True
        )
        return waiting
    lifecycle.ensure_not_paused(match, action="planned after her return")
    programme = programme_service.current(db)
    referral, volunteer = repository.referral_of(db, match), repository.lock_volunteer(db, match.volunteer_id)
    assert volunteer is not None
    now = clock.now()
    planned = [s for s in repository.live_sessions(db, match.id) if s.status == SessionStatus.planned]
    result = plan_changes.extend_after(
        plan_inputs.to_plan(match, referral, volunteer, programme, sessions=len(waiting), earliest=now),
        planning.diary(db, volunteer, except_match_id=match.id),
        plan_inputs.settings_for(programme),
        after=max([s.starts_at for s in planned] + [now, _end_of_leave_over(volunteer, waiting)]),
        already=max(s.number for s in repository.all_sessions(db, match.id)),
        extra=len(waiting),
        now=now,
    )
    if result.unplanned or len(result.sessions) < len(waiting):
        reason = result.unplanned[0].reason if result.unplanned else "not enough free weeks"
        raise Conflict(f"Her return cannot be planned yet: {reason}.", extra={"state": match.status})
    for row, new in zip(sorted(waiting, key=lambda s: s.starts_at), result.sessions, strict=False):
        row.starts_at, row.ends_at = new.starts_at, new.ends_at
        lifecycle.move_session(
            db,
            row,
            SessionStatus.planned,
            action="planned after her return",
            actor=actor,
            events=(
                event(
                    "session.changed",
                    record_type="match",
                    record_id=match.id,
                    session_id=row.id,
                    starts_at=row.starts_at,
                    cause="cover",
                ),
            ),
        )
    match.ending_soon_at = None  # the ending moved: announced afresh
    kinds.remark(repository.live_sessions(db, match.id), programme.ending_conversation_offset)
    return waiting


def _end_of_leave_over(volunteer: Volunteer, rows: list[SupportSession]) -> datetime:
    """The last moment of the leave that covers any of these sessions (UTC midnight after its last day): her
    return, after which their new times are searched."""
    ends = [
        date.fromisoformat(r["end"])
        for r in volunteer.leave
        if any(date.fromisoformat(r["start"]) <= s.starts_at.date() <= date.fromisoformat(r["end"]) for s in rows)
    ]
    last = max(ends, default=min(s.starts_at for s in rows).date())
    return datetime.combine(last + timedelta(days=1), time(0), tzinfo=UTC)
