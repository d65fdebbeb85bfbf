"""Rows to the scheduling engine's inputs: the programme's plan settings, a match to plan and her diary."""

from datetime import date, datetime, timedelta

from api_schemas.programme import ProgrammeSettings
from scheduling import model as plan_model
from service.models import Match, Referral, SupportSession, Volunteer
from service.profiles.windows import weekly

SUBDIVISIONS = {"scotland": "SCT", "england": "ENG", "wales": "WLS", "northern_ireland": "NIR"}


def settings_for(programme: ProgrammeSettings) -> plan_model.Settings:
    return plan_model.Settings(
        time_zone=programme.time_zone,
        holiday_subdiv=SUBDIVISIONS[programme.bank_holiday_region.value],
        session_minutes=programme.session_minutes,
        ending_conversation_offset=programme.ending_conversation_offset,
        time_limit_s=2.0,
    )  # inside a request: a small model, the best plan found by then


def to_plan(
    match: Match,
    referral: Referral,
    volunteer: Volunteer,
    programme: ProgrammeSettings,
    *,
    sessions: int,
    earliest: datetime,
) -> plan_model.MatchToPlan:
    """A home visit happens at her home; a venue meeting is placed near her for travel purposes. Sessions pause
    around an expected birth when the programme says so."""
    return plan_model.MatchToPlan(
        match_id=match.id,
        volunteer_id=volunteer.id,
        parent_availability=weekly(referral.availability, plan_model.WeeklyWindow),
        volunteer_availability=weekly(volunteer.availability, plan_model.WeeklyWindow),
        format=match.format,
        lat=referral.lat,
        lon=referral.lon,
        sessions=sessions,
        earliest_start=earliest,
        pauses=birth_pause(referral, programme),
    )


def birth_pause(referral: Referral, programme: ProgrammeSettings) -> tuple[plan_model.DateRange, ...]:
    """The weeks around her due date with no session, when the programme pauses for births and she is pregnant
    (a baby already born has no pause)."""
    before, after = programme.birth_pause_weeks_before, programme.birth_pause_weeks_after
    if referral.due_date is None or referral.baby_birth_date is not None or before + after == 0:
        return ()
    return (
        plan_model.DateRange(referral.due_date - timedelta(weeks=before), referral.due_date + timedelta(weeks=after)),
    )


def diary(
    volunteer: Volunteer, upcoming: list[tuple[SupportSession, float | None, float | None]]
) -> plan_model.VolunteerCalendar:
    """Her leave, weekly limit and the upcoming planned sessions given (each with where it happens)."""
    existing = tuple(plan_model.BusyInterval(s.starts_at, s.ends_at, s.format, lat, lon) for s, lat, lon in upcoming)
    leave = tuple(
        plan_model.DateRange(date.fromisoformat(r["start"]), date.fromisoformat(r["end"])) for r in volunteer.leave
    )
    return plan_model.VolunteerCalendar(
        volunteer.id, leave=leave, existing=existing, max_sessions_per_week=volunteer.max_sessions_per_week
    )
