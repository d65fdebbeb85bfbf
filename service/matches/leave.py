"""New leave re-plans the sessions it covers; the rest of her plan stays as it is. A session that cannot be
moved needs cover, and the coordinator chooses: wait for her return, or a new volunteer for the parent."""

from sqlmodel import Session

from scheduling import changes as plan_changes
from scheduling.model import PlannedSession
from service.core import audit, clock
from service.core.auth import Principal
from service.core.lifecycle import emit, event
from service.matches import cover, kinds, planning, repository
from service.models import Volunteer
from service.profiles import planning as plan_inputs
from service.programme import service as programme_service


def replan_for_leave(db: Session, *, actor: Principal | None, volunteer: Volunteer) -> list[str]:
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
        plans[match_id] = planning.to_plan(
            db, match, repository.referral_of(db, match), volunteer, programme, sessions=1, earliest=now
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
    by_key = {(row.match_id, row.number): row for row in rows}
    uncovered = [by_key[(u.match_id, u.number)] for u in missing if (u.match_id, u.number) in by_key]
    cover.mark_needing_cover(db, actor=actor, rows=uncovered, cause="leave")
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
