"""Venues as matches use them. A venue changed (its opening hours, its rooms, or it was deactivated): the
sessions planned there are checked again and re-planned as leave re-plans them. A session outside the new hours,
or one too many for its rooms, moves to the earliest free time from its own week; one that cannot move needs
cover, as on leave. And the venues as the engine reads them, with the weekly hours their rooms are full."""

from collections import Counter
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from matching import weekly
from matching.model import VenueProfile, WeeklyWindow
from service.matches import leave, repository
from service.profiles import matching as match_inputs


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


def engine_venues(db: Session, *, zone: ZoneInfo, now: datetime) -> tuple[VenueProfile, ...]:
    """The open venues as the engine reads them, each with the weekly hours when all its rooms are taken by
    other matches' upcoming sessions (`booked`), so that a run, a suggestion and a match made by hand never
    choose a room the planner would then find full."""
    use = repository.venue_weekly_use(db, zone=zone, now=now)
    venues = repository.open_venues(db)
    booked = {v.id: _booked(use.get(v.id, set()), v.rooms) for v in venues}
    return tuple(replace(p, booked=booked[p.id]) for p in match_inputs.venue_profiles(venues))


def _booked(use: set[tuple[str, tuple[int, int, int]]], rooms: int) -> tuple[WeeklyWindow, ...]:
    """The weekly quarter hours in which as many matches as the venue has rooms meet, as windows."""
    per_quarter: Counter[int] = Counter()
    for _match, quarter in {(m, q) for m, slot in use for q in _quarters(slot)}:
        per_quarter[quarter] += 1
    full = sorted(q for q, count in per_quarter.items() if count >= rooms)
    windows: list[WeeklyWindow] = []
    for quarter in full:
        day, start = divmod(quarter, weekly.QUARTERS_PER_DAY)
        last = windows[-1] if windows else None
        if last is not None and last.day == day and last.end_min == start * 15:
            windows[-1] = WeeklyWindow(day, last.start_min, (start + 1) * 15)
        else:
            windows.append(WeeklyWindow(day, start * 15, (start + 1) * 15))
    return tuple(windows)


def _quarters(slot: tuple[int, int, int]) -> range:
    day, start, end = slot
    base = day * weekly.QUARTERS_PER_DAY
    return range(base + start // 15, base + -(-end // 15))
