"""The hard rules, one named predicate each. A pair is a candidate only if every rule holds."""

import math

from matching import languages, sea, weekly
from matching.model import TRAVEL_FORMATS, ReferralProfile, VolunteerProfile

EARTH_KM = 6371.0088


def distance_km(a_lat: float, a_lon: float, b_lat: float, b_lon: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(a_lat), math.radians(b_lat)
    dp, dl = p2 - p1, math.radians(b_lon - a_lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_KM * math.asin(min(1.0, math.sqrt(h)))


def hundredths(km: float) -> int:
    """Distances are compared and scored in whole hundredths of a km, so both scoring paths agree."""
    return round(km * 100)


def pair_distance_km(referral: ReferralProfile, volunteer: VolunteerProfile) -> float | None:
    """Their distance, or None when either place is unknown."""
    if None in (referral.lat, referral.lon, volunteer.lat, volunteer.lon):
        return None
    return distance_km(referral.lat, referral.lon, volunteer.lat, volunteer.lon)  # type: ignore[arg-type]


def language_essential(referral: ReferralProfile) -> bool:
    """She marked language as essential: only her first language counts (`wanted_languages`)."""
    return "language" in referral.must_match


def wanted_languages(referral: ReferralProfile) -> tuple[str, ...]:
    """The languages a volunteer must share one of: her first alone when she marked language as essential."""
    return referral.languages[:1] if language_essential(referral) else referral.languages


def essential_codes(referral: ReferralProfile, kind: str) -> frozenset[str]:
    """The codes of one kind (`background`, `experience` or `specialism`) she marked essential."""
    prefix = kind + ":"
    return frozenset(item[len(prefix) :] for item in referral.must_match if item.startswith(prefix))


def shares_language(referral: ReferralProfile, volunteer: VolunteerProfile) -> bool:
    """A shared language; her first language itself when she marked language as essential."""
    return any(languages.compatible(a, b) for a in wanted_languages(referral) for b in volunteer.languages)


def interpreter_formats(referral: ReferralProfile) -> frozenset[str]:
    """The formats in which an interpreter can bridge a missing shared language: telephone and video on a
    three-way call, home visits and venues when an interpreter can come along. None when she marked language
    essential (then only her first language will do)."""
    need = referral.interpreter
    if need is None or language_essential(referral):
        return frozenset()
    calls = frozenset({"telephone", "video"}) if need.three_way_calls else frozenset()
    return calls | (TRAVEL_FORMATS if need.at_visits else frozenset())


def bridged_formats(referral: ReferralProfile, volunteer: VolunteerProfile) -> frozenset[str]:
    """Her formats the volunteer offers in which an interpreter can be arranged."""
    return interpreter_formats(referral) & frozenset(referral.formats) & frozenset(volunteer.formats)


def within_reach(referral: ReferralProfile, volunteer: VolunteerProfile, fmt: str) -> bool:
    """Telephone and video need no travel; home visits and venues need both places within her travel limit and
    on the same land (no sea between an island group and the mainland, sea.py)."""
    if fmt not in TRAVEL_FORMATS:
        return True
    km = pair_distance_km(referral, volunteer)
    return (
        km is not None
        and hundredths(km) <= hundredths(volunteer.max_travel_km)
        and sea.same_land(referral.area, volunteer.area)
    )


def reachable_formats(referral: ReferralProfile, volunteer: VolunteerProfile) -> tuple[str, ...]:
    """Her acceptable formats, in her order, that the volunteer offers and can reach, language aside."""
    offered = set(volunteer.formats)
    return tuple(f for f in referral.formats if f in offered and within_reach(referral, volunteer, f))


def feasible_formats(referral: ReferralProfile, volunteer: VolunteerProfile) -> tuple[str, ...]:
    """Her acceptable formats, in her order, that the volunteer offers and can reach, in which they can talk:
    a shared language, or an interpreter arranged for that format."""
    offered = set(volunteer.formats)
    talk = frozenset(referral.formats) if shares_language(referral, volunteer) else interpreter_formats(referral)
    return tuple(f for f in referral.formats if f in offered and f in talk and within_reach(referral, volunteer, f))


def has_common_hour(referral: ReferralProfile, volunteer: VolunteerProfile, session_minutes: int) -> bool:
    """A weekly session fits both availabilities and is still free in her week."""
    return common_starts(referral, volunteer, session_minutes) != 0


def common_starts(referral: ReferralProfile, volunteer: VolunteerProfile, session_minutes: int) -> int:
    """The weekly quarter hours at which a session could start for both of them."""
    return weekly.starts(referral.availability, (), session_minutes) & weekly.starts(
        volunteer.availability, volunteer.busy, session_minutes
    )


def volunteer_ready(volunteer: VolunteerProfile) -> bool:
    """Trained, checked, supervised, active, not on leave or resting (decided by the service)."""
    return volunteer.ready


def has_free_capacity(volunteer: VolunteerProfile) -> bool:
    """A free place and a free weekly session (both are needed for one more parent)."""
    return volunteer.free_places >= 1 and volunteer.free_weekly_sessions >= 1


def gender_as_asked(referral: ReferralProfile, volunteer: VolunteerProfile) -> bool:
    """The volunteer gender she asked for, when she asked for one."""
    return referral.volunteer_gender in (None, "any") or volunteer.gender == referral.volunteer_gender


def essentials_met(referral: ReferralProfile, volunteer: VolunteerProfile) -> bool:
    """Every attribute she marked essential (language and gender have their own rules)."""
    for item in referral.must_match:
        kind, _, code = item.partition(":")
        if kind == "background" and code not in volunteer.background:
            return False
        if kind == "experience" and code not in volunteer.experiences:
            return False
        if kind == "specialism" and code not in volunteer.specialisms:
            return False
    return True  # a gender she asked for is its own rule (gender_as_asked), essential or not


def not_excluded(
    referral: ReferralProfile, volunteer: VolunteerProfile, excluded_pairs: frozenset[tuple[str, str]]
) -> bool:
    """Pairs rejected by a coordinator or declined by the volunteer are never proposed again."""
    return (referral.id, volunteer.id) not in excluded_pairs


def is_candidate(
    referral: ReferralProfile,
    volunteer: VolunteerProfile,
    *,
    session_minutes: int,
    excluded_pairs: frozenset[tuple[str, str]] = frozenset(),
) -> bool:
    """Every hard rule at once."""
    return (
        volunteer_ready(volunteer)
        and has_free_capacity(volunteer)
        and (shares_language(referral, volunteer) or bool(bridged_formats(referral, volunteer)))
        and gender_as_asked(referral, volunteer)
        and essentials_met(referral, volunteer)
        and not_excluded(referral, volunteer, excluded_pairs)
        and bool(feasible_formats(referral, volunteer))
        and has_common_hour(referral, volunteer, session_minutes)
    )


# The hard rules' names in the order `broken` gives them.
RULES = (
    "volunteer_not_ready",
    "no_free_capacity",
    "no_shared_language",
    "no_reachable_shared_format",
    "volunteer_gender",
    "essential_attribute_missing",
    "no_common_free_hour",
    "rejected_or_declined_before",
)


def broken(
    referral: ReferralProfile,
    volunteer: VolunteerProfile,
    *,
    session_minutes: int,
    excluded_pairs: frozenset[tuple[str, str]] = frozenset(),
) -> list[str]:
    """The names of the hard rules this pair breaks, in a fixed order (empty for a candidate)."""
    checks = (
        volunteer_ready(volunteer),
        has_free_capacity(volunteer),
        shares_language(referral, volunteer) or bool(bridged_formats(referral, volunteer)),
        bool(reachable_formats(referral, volunteer)),
        gender_as_asked(referral, volunteer),
        essentials_met(referral, volunteer),
        has_common_hour(referral, volunteer, session_minutes),
        not_excluded(referral, volunteer, excluded_pairs),
    )
    return [name for name, ok in zip(RULES, checks, strict=True) if not ok]
