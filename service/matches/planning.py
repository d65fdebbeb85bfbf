"""Rows to the scheduling engine and back: her diary, the match to plan, and the sessions it returns."""

from datetime import date, datetime

from sqlmodel import Session, col, select

from api_schemas.common import minutes
from api_schemas.programme import ProgrammeSettings
from scheduling import model as plan_model
from service.core import clock
from service.core.ids import new_id
from service.match_runs.profiles import DAYS
from service.models import Match, Referral, SupportSession, Volunteer

SUBDIVISIONS = {"scotland": "SCT", "england": "ENG", "wales": "WLS", "northern_ireland": "NIR"}
LIVE = ("planned", "attended", "missed")


def settings_for(programme: ProgrammeSettings) -> plan_model.Settings:
    return plan_model.Settings(time_zone=programme.time_zone,
                               holiday_subdiv=SUBDIVISIONS[programme.bank_holiday_region.value],
                               session_minutes=programme.session_minutes,
                               ending_conversation_offset=programme.ending_conversation_offset,
                               time_limit_s=2.0)  # inside a request: a small model, the best plan found by then


def _windows(availability: list[dict[str, str]]) -> tuple[plan_model.WeeklyWindow, ...]:
    return tuple(plan_model.WeeklyWindow(DAYS.index(w["day"]), minutes(w["start"]), minutes(w["end"]))
                 for w in availability)


def to_plan(match: Match, referral: Referral, volunteer: Volunteer, *, sessions: int,
            earliest: datetime) -> plan_model.MatchToPlan:
    """A home visit happens at her home; a venue meeting is placed near her for travel purposes."""
    return plan_model.MatchToPlan(
        match_id=match.id, volunteer_id=volunteer.id, parent_availability=_windows(referral.availability),
        volunteer_availability=_windows(volunteer.availability), format=match.format, lat=referral.lat,
        lon=referral.lon, sessions=sessions, earliest_start=earliest)


def diary(session: Session, volunteer: Volunteer, *, except_session_ids: frozenset[str] = frozenset(),
          except_match_id: str | None = None) -> plan_model.VolunteerCalendar:
    """Her leave, weekly limit and every upcoming planned session (with where it happens)."""
    query = (select(SupportSession, Referral.lat, Referral.lon)
             .join(Match, col(Match.id) == SupportSession.match_id)
             .join(Referral, col(Referral.id) == Match.referral_id)
             .where(SupportSession.volunteer_id == volunteer.id, SupportSession.status == "planned",
                    col(SupportSession.starts_at) >= clock.now()))
    existing = tuple(
        plan_model.BusyInterval(s.starts_at, s.ends_at, s.format, lat, lon)
        for s, lat, lon in session.exec(query)
        if s.id not in except_session_ids and s.match_id != except_match_id)
    leave = tuple(plan_model.DateRange(date.fromisoformat(r["start"]), date.fromisoformat(r["end"]))
                  for r in volunteer.leave)
    return plan_model.VolunteerCalendar(volunteer.id, leave=leave, existing=existing,
                                        max_sessions_per_week=volunteer.max_sessions_per_week)


def store(session: Session, match: Match, planned: tuple[plan_model.PlannedSession, ...]) -> list[SupportSession]:
    now = clock.now()
    rows = [SupportSession(id=new_id(), match_id=match.id, volunteer_id=match.volunteer_id, number=p.number,
                           kind=p.kind, starts_at=p.starts_at, ends_at=p.ends_at, format=p.format, status="planned",
                           updated_at=now) for p in planned if p.match_id == match.id]
    for row in rows:
        session.add(row)
    return rows


def live_sessions(session: Session, match_id: str) -> list[SupportSession]:
    query = select(SupportSession).where(SupportSession.match_id == match_id,
                                         col(SupportSession.status).in_(LIVE))
    return sorted(session.exec(query), key=lambda s: s.starts_at)


def all_sessions(session: Session, match_id: str) -> list[SupportSession]:
    query = select(SupportSession).where(SupportSession.match_id == match_id)
    return sorted(session.exec(query), key=lambda s: (s.starts_at, s.number))
