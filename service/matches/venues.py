"""A venue changed (its opening hours, its rooms, or it was deactivated): the sessions planned there are checked
again and re-planned as leave re-plans them. A session outside the new hours, or one too many for its rooms,
moves to the earliest free time from its own week; one that cannot move needs cover, as on leave."""

from datetime import datetime

from sqlmodel import Session

from service.matches import leave, repository


def replan_for_venue(db: Session, venue_id: str, now: datetime) -> int:
    """Re-plan the upcoming sessions at the venue; the number of sessions moved (those that could not be moved
    need cover and are not counted). Volunteers go one at a time, so each sees the rooms the ones before her
    left or took."""
    moved = 0
    # Her row is not locked here: an accept locks her, then the venue (planning.to_plan); this path holds the
    # venue first (the caller changed it), so locking her too could deadlock against an accept.
    for volunteer in repository.volunteers_at_venue(db, venue_id, now=now):
        before = {row.id: row.starts_at for row in repository.planned_from(db, volunteer.id, now=now)}
        leave.replan_for_leave(db, actor=None, volunteer=volunteer)
        db.flush()
        after = {row.id: row.starts_at for row in repository.planned_from(db, volunteer.id, now=now)}
        moved += sum(1 for sid, start in before.items() if sid in after and after[sid] != start)
    return moved
