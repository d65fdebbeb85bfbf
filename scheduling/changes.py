"""Keeping a plan true when life happens: one session moved, sessions moved off new leave, an extension.
Everything not being changed stays fixed."""

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from scheduling import calendar as dates
from scheduling import options, solver
from scheduling.kinds import remark
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


def reschedule(
    session: PlannedSession,
    *,
    not_before: datetime | None,
    preferred_day: int | None,
    calendar: VolunteerCalendar,
    match: MatchToPlan,
    settings: Settings,
    fixed_other_sessions: Sequence[PlannedSession],
    now: datetime,
    search_weeks: int = SEARCH_WEEKS,
) -> PlannedSession | Unplanned:
    """The session moved to the next feasible time: not before `not_before` (or now) and the notice period, on
    `preferred_day` (0 = Monday) when that day has a slot in the search, away from its current time, in a week
    without another session of this match and with room under her weekly limit.

    `fixed_other_sessions` are the match's other sessions; `calendar.existing` her other matches' sessions
    (a session listed in both counts once). The session keeps its number and kind: re-mark the match with
    `kinds.remark` if it moved past another session."""
    start = max(not_before or now, now + timedelta(hours=settings.min_notice_hours))
    diary = with_fixed(calendar, match, fixed_other_sessions, settings, moving=(session,))
    tz = _zone(settings)
    taken = frozenset(_week(s.starts_at, tz) for s in fixed_other_sessions if s != session)
    found = next_option(
        match,
        diary,
        settings,
        not_before=start,
        weeks=search_weeks,
        taken_weeks=taken,
        avoid=session.starts_at,
        preferred_day=preferred_day,
    )
    if found is None:
        return Unplanned(
            match.match_id, f"no common free hour in the next {search_weeks} weeks", "no_time_to_move", session.number
        )
    return replace(session, starts_at=found.starts_at, ends_at=found.ends_at)


def replan_for_leave(
    sessions: Sequence[PlannedSession],
    *,
    matches: Mapping[str, MatchToPlan],
    calendar: VolunteerCalendar,
    settings: Settings,
    now: datetime,
    search_weeks: int = SEARCH_WEEKS,
) -> PlanResult:
    """Her upcoming sessions moved off her (new) leave in `calendar.leave`, off closed days (bank holidays and
    `settings.closed_days`, a holiday declared after the plan), out of their match's `pauses`, and back inside
    their match's venue (its opening hours, its rooms less `venue.booked`, which must not list her own
    sessions); every other session stays put.

    Each such session, in time order, moves to the earliest free time from the start of its own week: a
    day of that week off leave when there is one, otherwise the match's next week without a session, usually
    after its last (as a cancelled session is replaced at the end). `sessions` are her upcoming sessions of
    all matches; `calendar.existing` may list them too. Returns the sessions whose time or kind changed
    (numbers kept, kinds re-marked in time order over the sessions still planned); a session that cannot move
    is reported in `unplanned` (code "no_time_to_move", its `number`) and is no longer planned: never left
    silently inside the leave. Number the match afresh with `kinds.numbered` once the service has applied it."""
    tz = _zone(settings)
    current = {(s.match_id, s.number): s for s in sessions}
    base = replace(calendar, existing=_deduped(calendar.existing, sessions))
    unplanned: list[Unplanned] = []
    blocked = [
        s
        for s in sessions
        if options.blocked(dates.local_date(s.starts_at, tz), matches[s.match_id], calendar, settings)
        or options.misplaced(s.starts_at, s.ends_at, matches[s.match_id], settings)
    ]
    for session in sorted(blocked, key=lambda s: s.starts_at):
        match = matches[session.match_id]
        others = [s for key, s in current.items() if key != (session.match_id, session.number)]
        diary = replace(base, existing=base.existing + tuple(_busy(s, matches[s.match_id]) for s in others))
        taken = frozenset(_week(s.starts_at, tz) for s in others if s.match_id == session.match_id)
        start = max(_week_start(_week(session.starts_at, tz), tz), now + timedelta(hours=settings.min_notice_hours))
        found = next_option(
            match,
            diary,
            settings,
            not_before=start,
            weeks=search_weeks,
            taken_weeks=taken,
            avoid=None,
            preferred_day=None,
        )
        if found is None:
            unplanned.append(
                Unplanned(
                    session.match_id,
                    f"session {session.number} falls on her leave, a closed "
                    f"day or a pause and has no common free hour in the next {search_weeks} "
                    "weeks",
                    "no_time_to_move",
                    session.number,
                )
            )
            del current[(session.match_id, session.number)]
            continue
        current[(session.match_id, session.number)] = replace(session, starts_at=found.starts_at, ends_at=found.ends_at)
    changed: list[PlannedSession] = []
    for match_id in sorted({s.match_id for s in sessions}):
        own = [s for s in current.values() if s.match_id == match_id]
        changed += [
            s
            for s in remark(own, settings.ending_conversation_offset)
            if s != next(old for old in sessions if (old.match_id, old.number) == (s.match_id, s.number))
        ]
    return PlanResult(tuple(changed), tuple(unplanned))


def extend(
    match: MatchToPlan,
    existing_sessions: Sequence[PlannedSession],
    extra: int,
    *,
    calendar: VolunteerCalendar,
    settings: Settings,
    now: datetime,
) -> PlanResult:
    """`extra` more weekly sessions following on after the match's last one, numbered on from its highest
    number. Returns the whole match in time order with kinds re-marked (the ending conversation and closing
    markers move to the new end), or the reason in `unplanned` and no sessions."""
    tz = _zone(settings)
    last_number = max((s.number for s in existing_sessions), default=0)
    earliest = match.earliest_start
    if existing_sessions:
        last_week = _week(max(s.starts_at for s in existing_sessions), tz)
        earliest = max(earliest, _week_start(last_week + timedelta(weeks=1), tz))
    follow_on = replace(
        match, sessions=extra, first_number=last_number + 1, total_sessions=last_number + extra, earliest_start=earliest
    )
    diary = replace(calendar, existing=_deduped(calendar.existing, existing_sessions))
    result = solver.plan_for_volunteer([follow_on], diary, settings, now=now)
    if result.unplanned:
        return PlanResult((), result.unplanned, result.optimal)
    whole = remark(list(existing_sessions) + list(result.sessions), settings.ending_conversation_offset)
    return PlanResult(whole, (), result.optimal)


def next_option(
    match: MatchToPlan,
    diary: VolunteerCalendar,
    settings: Settings,
    *,
    not_before: datetime,
    weeks: int,
    taken_weeks: frozenset[date],
    avoid: datetime | None,
    preferred_day: int | None,
) -> options.Option | None:
    """The earliest time one session of the match can take (on the preferred weekday if any has one)."""
    tz = _zone(settings)
    per_week = Counter(_week(b.starts_at, tz) for b in diary.existing)
    found = [
        o
        for o in options.for_match(match, diary, settings, not_before=not_before, weeks=weeks)
        if o.monday not in taken_weeks and per_week[o.monday] < diary.max_sessions_per_week and o.starts_at != avoid
    ]
    preferred = [o for o in found if o.day == preferred_day]
    best = preferred or found
    return best[0] if best else None


def with_fixed(
    diary: VolunteerCalendar,
    match: MatchToPlan,
    fixed: Iterable[PlannedSession],
    settings: Settings,
    *,
    moving: Sequence[PlannedSession] = (),
) -> VolunteerCalendar:
    """Her diary with the match's fixed sessions added (at the match's place) and the moving ones left out."""
    fixed = [s for s in fixed if s not in moving]
    existing = _deduped(diary.existing, list(fixed) + list(moving))
    return replace(diary, existing=existing + tuple(_busy(s, match) for s in fixed))


def _zone(settings: Settings) -> ZoneInfo:
    return dates.zone(settings.time_zone)


def _week(instant: datetime, tz: ZoneInfo) -> date:
    """The Monday of the local calendar week holding an instant."""
    return dates.monday_of(dates.local_date(instant, tz))


def _week_start(monday: date, tz: ZoneInfo) -> datetime:
    return dates.local_datetime(monday, 0, tz)


def _busy(session: PlannedSession, match: MatchToPlan) -> BusyInterval:
    return BusyInterval(session.starts_at, session.ends_at, session.format, match.lat, match.lon)


def _deduped(existing: tuple[BusyInterval, ...], sessions: Iterable[PlannedSession]) -> tuple[BusyInterval, ...]:
    """Her diary without the given sessions: two of her sessions never share a start and end, so times
    identify them."""
    times = {(s.starts_at, s.ends_at) for s in sessions}
    return tuple(b for b in existing if (b.starts_at, b.ends_at) not in times)


# What the service calls: each composes the steps above for one change it makes.


def next_slot(
    match: MatchToPlan,
    diary: VolunteerCalendar,
    settings: Settings,
    *,
    not_before: datetime,
    now: datetime,
    preferred_day: int | None = None,
    match_weeks_taken: frozenset[date] = frozenset(),
    avoid: datetime | None = None,
) -> tuple[datetime, datetime] | str:
    """The earliest feasible (start, end) not before `not_before`, on the preferred weekday when one exists, in
    a week not in `match_weeks_taken` with room under her weekly limit; or the reason there is none.
    `diary.existing` holds her other sessions, which stay fixed; `avoid` is the time being moved away from."""
    start = max(not_before, now + timedelta(hours=settings.min_notice_hours))
    found = next_option(
        match,
        diary,
        settings,
        not_before=start,
        weeks=SEARCH_WEEKS,
        taken_weeks=match_weeks_taken,
        avoid=avoid,
        preferred_day=preferred_day,
    )
    if found is None:
        return f"no common free hour in the next {SEARCH_WEEKS} weeks"
    return found.starts_at, found.ends_at


def extend_after(
    match: MatchToPlan,
    diary: VolunteerCalendar,
    settings: Settings,
    *,
    after: datetime,
    already: int,
    extra: int,
    now: datetime,
) -> PlanResult:
    """`extra` new sessions after `after`, numbered from `already + 1`; only the new sessions are returned."""
    last = PlannedSession(
        match.match_id, already, "regular", after, after + timedelta(minutes=settings.session_minutes), match.format
    )
    result = extend(match, [last], extra, calendar=diary, settings=settings, now=now)
    return replace(result, sessions=tuple(s for s in result.sessions if s.number > already))


def moved_off_leave(
    sessions: list[PlannedSession],
    matches: dict[str, MatchToPlan],
    diary: VolunteerCalendar,
    settings: Settings,
    *,
    now: datetime,
) -> tuple[dict[tuple[str, int], tuple[datetime, datetime]], list[Unplanned]]:
    """New (start, end) for each of her sessions that has to move because of her leave, by (match, number);
    the rest stay where they are."""
    result = replan_for_leave(sessions, matches=matches, calendar=diary, settings=settings, now=now)
    before = {(s.match_id, s.number): s.starts_at for s in sessions}
    moved = {
        (s.match_id, s.number): (s.starts_at, s.ends_at)
        for s in result.sessions
        if s.starts_at != before[(s.match_id, s.number)]
    }
    return moved, list(result.unplanned)
