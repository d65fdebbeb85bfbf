"""Rows to the scheduling engine's inputs: the programme's plan settings, a match to plan and her diary."""

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from api_schemas.programme import ProgrammeSettings
from scheduling import model as plan_model
from service.models import Match, Referral, SupportSession, Venue, Volunteer
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
    venue: Venue | None = None,
    booked: Sequence[tuple[datetime, datetime]] = (),
) -> plan_model.MatchToPlan:
    """A home visit happens at her home; a meeting at a venue happens there, inside its opening hours and rooms
    (`booked`: other volunteers' sessions there), and is placed there for travel (near her when the venue has
    no coordinates, or there is no venue). Sessions pause around an expected birth when the programme says so."""
    lat, lon = referral.lat, referral.lon
    if venue is not None and venue.lat is not None and venue.lon is not None:
        lat, lon = venue.lat, venue.lon
    return plan_model.MatchToPlan(
        match_id=match.id,
        volunteer_id=volunteer.id,
        parent_availability=weekly(referral.availability, plan_model.WeeklyWindow),
        volunteer_availability=weekly(volunteer.availability, plan_model.WeeklyWindow),
        format=match.format,
        lat=lat,
        lon=lon,
        sessions=sessions,
        earliest_start=earliest,
        pauses=birth_pause(referral, programme),
        venue=venue_hours(venue, booked) if venue is not None else None,
    )


def venue_hours(venue: Venue, booked: Sequence[tuple[datetime, datetime]]) -> plan_model.Venue:
    """A venue as the planner sees it: an inactive one has no opening hours, so nothing fits there any more."""
    hours = weekly(venue.opening_hours, plan_model.WeeklyWindow) if venue.active else ()
    return plan_model.Venue(venue.id, hours, rooms=max(0, venue.rooms), booked=tuple(booked))


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
