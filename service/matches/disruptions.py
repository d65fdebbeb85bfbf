"""A periodic look for planned sessions that can no longer go ahead where they are: one that now falls on a bank
holiday (the programme's region changed, or the calendar did) is moved as leave moves sessions, and needs cover
if it cannot be; one after the volunteer's background check lapsed needs cover (no other time helps). Nothing
stays planned that will not happen, and the parent is never reminded of one."""

from sqlmodel import Session

from scheduling import calendar as plan_calendar
from service.core import clock
from service.matches import cover, leave, repository
from service.profiles import planning as plan_inputs
from service.programme import service as programme_service


def cover_what_cannot_go_ahead(db: Session) -> int:
    """Move or mark the sessions that cannot go ahead; the number of sessions changed."""
    now = clock.now()
    upcoming = repository.planned_with_volunteer(db, now=now)
    if not upcoming:
        return 0
    settings = plan_inputs.settings_for(programme_service.current(db))
    zone = plan_calendar.zone(settings.time_zone)
    days = [plan_calendar.local_date(row.starts_at, zone) for row, _ in upcoming]
    holidays = plan_calendar.bank_holidays_between("GB", settings.holiday_subdiv, min(days), max(days))
    lapsed = [
        row
        for row, volunteer in upcoming
        if volunteer.check_expires_on is not None
        and plan_calendar.local_date(row.starts_at, zone) > volunteer.check_expires_on
    ]
    cover.mark_needing_cover(db, actor=None, rows=lapsed, cause="check_lapsed")
    lapsed_ids = {row.id for row in lapsed}
    on_holidays = {
        volunteer.id: volunteer
        for (row, volunteer), day in zip(upcoming, days, strict=True)
        if day in holidays and row.id not in lapsed_ids
    }
    changed = len(lapsed)
    for volunteer in on_holidays.values():
        before = {row.id: row.starts_at for row in repository.planned_from(db, volunteer.id, now=now)}
        leave.replan_for_leave(db, actor=None, volunteer=volunteer)
        after = {row.id: row.starts_at for row in repository.planned_from(db, volunteer.id, now=now)}
        changed += sum(1 for sid, start in before.items() if after.get(sid) != start)
    return changed
