"""Rows to the matching engine's plain profiles: readiness, free capacity and her busy weekly hours. No
queries here: the callers' repositories read the rows, load and busy slots. A row is an ORM object or a plain
row of the columns named here: the profiles read nothing else of it."""

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from api_schemas.programme import ProgrammeSettings
from api_schemas.volunteers import NotReadyReason
from matching.model import (
    Interpreter,
    Reason,
    ReferralProfile,
    VenueProfile,
    VolunteerProfile,
    WeeklyWindow,
    Weights,
)
from service.models import Referral, Venue, Volunteer
from service.profiles import readiness
from service.profiles.windows import weekly

# What the profiles (and readiness) read of a referral and of a volunteer: a match run reads these columns alone,
# as plain rows, so that it reads no contact details and makes none of the ORM's objects for 30,000 people.
REFERRAL_COLUMNS: tuple[str, ...] = (
    *("id", "languages", "formats", "lat", "lon", "availability", "background", "experiences", "interests"),
    *("volunteer_gender", "must_match", "received_at", "priority", "max_travel_km", "parent_role", "needs", "area"),
)
VOLUNTEER_COLUMNS: tuple[str, ...] = (
    *("id", "name", "status", "gender", "languages", "formats", "lat", "lon", "area", "max_travel_km"),
    *("availability", "leave", "background", "experiences", "interests", "specialisms", "max_parents"),
    *("max_sessions_per_week", "training_completed_on", "check_scheme", "check_checked_on", "check_expires_on"),
    *("last_supervision_on", "resting_until", "training"),
)


def weights(settings: ProgrammeSettings) -> Weights:
    return Weights(**settings.matching_weights.model_dump(), session_minutes=settings.session_minutes)


def interpreter(needs: dict[str, Any] | None) -> Interpreter | None:
    """Her stored interpreter need as the engine's."""
    found = (needs or {}).get("interpreter")
    if not found:
        return None
    return Interpreter(found["language"], bool(found.get("three_way_calls")), bool(found.get("at_visits")))


def first_name(name: str | None) -> str | None:
    """The first word of a volunteer's name, for reasons; None once erased."""
    return name.split()[0] if name and name.split() else None


def referral_profile(referral: Referral | Any, *, today: date) -> ReferralProfile:
    """Her profile, from her ORM object or a row of REFERRAL_COLUMNS."""
    return ReferralProfile(
        id=referral.id,
        languages=tuple(referral.languages),
        formats=tuple(referral.formats),
        lat=referral.lat,
        lon=referral.lon,
        availability=weekly(referral.availability, WeeklyWindow),
        background=frozenset(referral.background),
        experiences=frozenset(referral.experiences),
        interests=frozenset(referral.interests),
        volunteer_gender=None if referral.volunteer_gender == "any" else referral.volunteer_gender,
        must_match=frozenset(referral.must_match),
        waiting_days=max(0, (today - referral.received_at.date()).days),
        priority=referral.priority,
        max_travel_km=referral.max_travel_km,
        role=referral.parent_role,
        specialisms=frozenset((referral.needs or {}).get("specialisms", ())),
        interpreter=interpreter(referral.needs),
        area=referral.area,
    )


def volunteer_profiles(
    volunteers: Sequence[Volunteer | Any],
    *,
    load: dict[str, int],
    busy: dict[str, tuple[tuple[int, int, int], ...]],
    settings: ProgrammeSettings,
    today: date,
) -> list[VolunteerProfile]:
    """Profiles (from ORM objects or rows of VOLUNTEER_COLUMNS) with readiness (apart from being full, which free
    capacity expresses) and what is left of her week: each open match uses one place and one weekly session, and
    its weekly slot (`busy`) is taken."""
    out = []
    for v in volunteers:
        reasons = readiness.not_ready_reasons(
            v,
            today=today,
            supervision_interval_days=settings.supervision_interval_days,
            current_parents=0,
            required_training=settings.required_training_modules,
            match_weeks=settings.planned_sessions,
        )
        current = load.get(v.id, 0)
        out.append(
            VolunteerProfile(
                id=v.id,
                languages=tuple(v.languages),
                formats=tuple(v.formats),
                lat=v.lat,
                lon=v.lon,
                max_travel_km=v.max_travel_km,
                availability=weekly(v.availability, WeeklyWindow),
                busy=tuple(WeeklyWindow(*slot) for slot in busy.get(v.id, ())),
                gender=None if v.gender == "not_said" else v.gender,
                background=frozenset(v.background),
                experiences=frozenset(v.experiences),
                interests=frozenset(v.interests),
                specialisms=frozenset(v.specialisms),
                ready=not reasons,
                free_places=v.max_parents - current,
                free_weekly_sessions=v.max_sessions_per_week - current,
                current_parents=current,
                max_parents=v.max_parents,
                first_name=first_name(v.name),
                not_ready=tuple(r.code for r in reasons),
                until=_back_on(reasons),
                area=v.area,
            )
        )
    return out


def _back_on(reasons: list[NotReadyReason]) -> date | None:
    """The day she is ready again, known only when every reason ends by itself: the day after her leave's last,
    the day her rest ends (she rests while today is before it)."""
    ends = [r.until + timedelta(days=1) if r.code == "on_leave" else r.until for r in reasons if r.until is not None]
    return max(ends) if reasons and len(ends) == len(reasons) else None


def reason_json(reason: Reason) -> dict[str, object]:
    """A reason as stored with a proposal or a match, and as the wire `Reason` reads it back."""
    return {
        "criterion": reason.criterion,
        "points": reason.points,
        "detail": reason.detail,
        "code": reason.code,
        "params": dict(reason.params),
    }


def venue_profiles(venues: list[Venue]) -> tuple[VenueProfile, ...]:
    """The venues a pair may meet at: located and open at some hour of the week; a pair meets only where one
    is open for a whole session at a time both are free."""
    return tuple(
        VenueProfile(
            id=v.id,
            name=v.name,
            lat=v.lat,
            lon=v.lon,
            area=v.area,
            opening_hours=weekly(v.opening_hours, WeeklyWindow),
        )
        for v in venues
        if v.opening_hours and v.lat is not None and v.lon is not None
    )
