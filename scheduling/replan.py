"""Keeping a plan true when life happens: one session moved, sessions moved off new leave, an extension."""

from collections import Counter
from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from scheduling import calendar, options, solver
from scheduling.model import (
    BusyInterval,
    MatchToPlan,
    PlannedSession,
    PlanResult,
    Settings,
    Unplanned,
    VolunteerCalendar,
)

SEARCH_WEEKS = 12


def next_slot(match: MatchToPlan, diary: VolunteerCalendar, settings: Settings, *, not_before: datetime,
              now: datetime, preferred_day: int | None = None,
              match_weeks_taken: frozenset[date] = frozenset(),
              avoid: datetime | None = None) -> tuple[datetime, datetime] | str:
    """The earliest feasible time not before `not_before` (on the preferred weekday when one exists), in a week
    where this match has no other session and her weekly limit has room; or the reason there is none.
    `diary.existing` holds her other sessions, which stay fixed; `avoid` is the time being moved away from."""
    start = max(not_before, now + timedelta(hours=settings.min_notice_hours))
    probe = replace(match, earliest_start=start)
    found = options.for_match(probe, diary, settings, week0=start, weeks=SEARCH_WEEKS)
    zone = ZoneInfo(settings.time_zone)
    per_week = Counter(calendar.monday_of(b.starts_at.astimezone(zone).date()) for b in diary.existing)

    def allowed(o: options.Option) -> bool:
        week = calendar.monday_of(o.starts_at.astimezone(zone).date())
        return (week not in match_weeks_taken and per_week[week] < diary.max_sessions_per_week
                and o.starts_at != avoid)

    usable = sorted((o for o in found if allowed(o)), key=lambda o: o.starts_at)
    preferred = [o for o in usable if o.day == preferred_day] if preferred_day is not None else []
    best = (preferred or usable)[:1]
    if not best:
        return f"no common free hour in the next {SEARCH_WEEKS} weeks"
    return best[0].starts_at, best[0].ends_at


def extend(match: MatchToPlan, diary: VolunteerCalendar, settings: Settings, *, after: datetime, already: int,
           extra: int, now: datetime) -> PlanResult:
    """Plan `extra` sessions following on after the last one; numbers and kinds continue from `already`."""
    follow_on = replace(match, sessions=extra, first_number=already + 1, total_sessions=already + extra,
                        earliest_start=max(after + timedelta(days=1), match.earliest_start))
    return solver.plan([follow_on], {match.volunteer_id: diary}, settings, now=now)


def off_leave(sessions: list[PlannedSession], matches: dict[str, MatchToPlan], diary: VolunteerCalendar,
              settings: Settings, *, now: datetime) -> tuple[dict[tuple[str, int], tuple[datetime, datetime]],
                                                             list[Unplanned]]:
    """New times for each of her sessions that falls on leave, each moved to the next feasible time after it;
    the rest stay where they are."""
    zone = ZoneInfo(settings.time_zone)
    on_leave = [s for s in sessions if calendar.on_leave(s.starts_at.astimezone(zone).date(), diary.leave)]
    keep = [s for s in sessions if s not in on_leave]
    moved: dict[tuple[str, int], tuple[datetime, datetime]] = {}
    missing: list[Unplanned] = []
    for session in sorted(on_leave, key=lambda s: s.starts_at):
        match = matches[session.match_id]
        fixed = tuple(BusyInterval(s.starts_at, s.ends_at, s.format, matches[s.match_id].lat,
                                   matches[s.match_id].lon) for s in keep)
        taken = frozenset(calendar.monday_of(s.starts_at.astimezone(zone).date()) for s in keep
                          if s.match_id == session.match_id)
        found = next_slot(match, replace(diary, existing=fixed), settings, not_before=session.starts_at, now=now,
                          match_weeks_taken=taken)
        if isinstance(found, str):
            missing.append(Unplanned(session.match_id, f"session {session.number}: {found}"))
            continue
        moved[(session.match_id, session.number)] = found
        keep.append(replace(session, starts_at=found[0], ends_at=found[1]))
    return moved, missing
