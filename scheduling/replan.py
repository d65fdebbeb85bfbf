"""The earlier re-planning calls, kept so the service keeps working while it moves to `scheduling.changes`
(`reschedule`, `replan_for_leave`, `extend`); each is a thin adapter over those."""

from dataclasses import replace
from datetime import date, datetime, timedelta

from scheduling import changes
from scheduling.model import MatchToPlan, PlannedSession, PlanResult, Settings, Unplanned, VolunteerCalendar

SEARCH_WEEKS = changes.SEARCH_WEEKS


def next_slot(match: MatchToPlan, diary: VolunteerCalendar, settings: Settings, *, not_before: datetime,
              now: datetime, preferred_day: int | None = None, match_weeks_taken: frozenset[date] = frozenset(),
              avoid: datetime | None = None) -> tuple[datetime, datetime] | str:
    """The earliest feasible (start, end) not before `not_before`, on the preferred weekday when one exists, in
    a week not in `match_weeks_taken` with room under her weekly limit; or the reason there is none.
    `diary.existing` holds her other sessions, which stay fixed; `avoid` is the time being moved away from."""
    start = max(not_before, now + timedelta(hours=settings.min_notice_hours))
    found = changes.next_option(match, diary, settings, not_before=start, weeks=SEARCH_WEEKS,
                                taken_weeks=match_weeks_taken, avoid=avoid, preferred_day=preferred_day)
    if found is None:
        return f"no common free hour in the next {SEARCH_WEEKS} weeks"
    return found.starts_at, found.ends_at


def extend(match: MatchToPlan, diary: VolunteerCalendar, settings: Settings, *, after: datetime, already: int,
           extra: int, now: datetime) -> PlanResult:
    """`extra` new sessions after `after`, numbered from `already + 1`; only the new sessions are returned."""
    last = PlannedSession(match.match_id, already, "regular", after, after + timedelta(
        minutes=settings.session_minutes), match.format)
    result = changes.extend(match, [last], extra, calendar=diary, settings=settings, now=now)
    return replace(result, sessions=tuple(s for s in result.sessions if s.number > already))


def off_leave(sessions: list[PlannedSession], matches: dict[str, MatchToPlan], diary: VolunteerCalendar,
              settings: Settings, *, now: datetime) -> tuple[dict[tuple[str, int], tuple[datetime, datetime]],
                                                             list[Unplanned]]:
    """New (start, end) for each of her sessions that has to move because of her leave, by (match, number);
    the rest stay where they are."""
    result = changes.replan_for_leave(sessions, matches=matches, calendar=diary, settings=settings, now=now)
    before = {(s.match_id, s.number): s.starts_at for s in sessions}
    moved = {(s.match_id, s.number): (s.starts_at, s.ends_at) for s in result.sessions
             if s.starts_at != before[(s.match_id, s.number)]}
    return moved, list(result.unplanned)
