"""Rows to the matching engine's plain profiles: readiness, free capacity and her busy weekly hours."""

from collections import defaultdict
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from api_schemas.common import minutes
from api_schemas.programme import ProgrammeSettings
from matching.model import ReferralProfile, VolunteerProfile, WeeklyWindow, Weights
from service.core import clock
from service.matches.states import HOLDS_CAPACITY
from service.models import ExcludedPair, Match, Referral, SupportSession, Volunteer
from service.volunteers import readiness
from service.volunteers import repository as volunteer_repository

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def windows(availability: list[dict[str, str]]) -> tuple[WeeklyWindow, ...]:
    return tuple(WeeklyWindow(DAYS.index(w["day"]), minutes(w["start"]), minutes(w["end"])) for w in availability)


def weights(settings: ProgrammeSettings) -> Weights:
    return Weights(**settings.matching_weights.model_dump(), session_minutes=settings.session_minutes)


def referral_profile(referral: Referral, *, today: date) -> ReferralProfile:
    return ReferralProfile(
        id=referral.id, languages=tuple(referral.languages), formats=tuple(referral.formats), lat=referral.lat,
        lon=referral.lon, availability=windows(referral.availability), background=frozenset(referral.background),
        experiences=frozenset(referral.experiences), interests=frozenset(referral.interests),
        volunteer_gender=None if referral.volunteer_gender == "any" else referral.volunteer_gender,
        must_match=frozenset(referral.must_match), waiting_days=max(0, (today - referral.received_at.date()).days),
        priority=referral.priority,
    )


def volunteer_profiles(session: Session, volunteers: list[Volunteer], *, settings: ProgrammeSettings,
                       today: date) -> list[VolunteerProfile]:
    """Profiles with readiness (apart from being full, which free capacity expresses) and what is left of her
    week: each open match uses one place and one weekly session, and its weekly slot is busy."""
    ids = [v.id for v in volunteers]
    load = volunteer_repository.current_parents(session, ids)
    busy = _busy_windows(session, ids, settings)
    out = []
    for v in volunteers:
        reasons = readiness.not_ready_reasons(
            v, today=today, supervision_interval_days=settings.supervision_interval_days, current_parents=0)
        out.append(VolunteerProfile(
            id=v.id, languages=tuple(v.languages), formats=tuple(v.formats), lat=v.lat, lon=v.lon,
            max_travel_km=v.max_travel_km, availability=windows(v.availability), busy=busy.get(v.id, ()),
            gender=None if v.gender == "not_said" else v.gender, background=frozenset(v.background),
            experiences=frozenset(v.experiences), interests=frozenset(v.interests),
            specialisms=frozenset(v.specialisms), ready=not reasons, free_places=v.max_parents - load[v.id],
            free_weekly_sessions=v.max_sessions_per_week - load[v.id], current_parents=load[v.id],
            max_parents=v.max_parents,
        ))
    return out


def _busy_windows(session: Session, volunteer_ids: list[str],
                  settings: ProgrammeSettings) -> dict[str, tuple[WeeklyWindow, ...]]:
    """The local weekly slot of each of her upcoming sessions."""
    if not volunteer_ids:
        return {}
    zone = ZoneInfo(settings.time_zone)
    query = (select(SupportSession.volunteer_id, SupportSession.starts_at, SupportSession.ends_at)
             .join(Match, col(Match.id) == SupportSession.match_id)
             .where(col(SupportSession.volunteer_id).in_(volunteer_ids), SupportSession.status == "planned",
                    col(SupportSession.starts_at) >= clock.now(),
                    col(Match.status).in_([s.value for s in HOLDS_CAPACITY])))
    found: dict[str, set[WeeklyWindow]] = defaultdict(set)
    for volunteer_id, starts_at, ends_at in session.exec(query):
        found[volunteer_id].add(_weekly(starts_at, ends_at, zone))
    return {vid: tuple(sorted(ws, key=lambda w: (w.day, w.start_min))) for vid, ws in found.items()}


def _weekly(starts_at: datetime, ends_at: datetime, zone: ZoneInfo) -> WeeklyWindow:
    local_start, local_end = starts_at.astimezone(zone), ends_at.astimezone(zone)
    end = local_end.hour * 60 + local_end.minute if local_end.date() == local_start.date() else 24 * 60
    return WeeklyWindow(local_start.weekday(), local_start.hour * 60 + local_start.minute, end)


def excluded_pairs(session: Session, referral_ids: list[str]) -> frozenset[tuple[str, str]]:
    if not referral_ids:
        return frozenset()
    query = select(ExcludedPair.referral_id, ExcludedPair.volunteer_id).where(
        col(ExcludedPair.referral_id).in_(referral_ids))
    return frozenset((r, v) for r, v in session.exec(query))
