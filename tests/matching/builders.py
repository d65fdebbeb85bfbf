"""Small builders for engine tests: a valid referral and volunteer that match unless told otherwise."""

from dataclasses import replace
from typing import Any

from matching.model import ReferralProfile, VolunteerProfile, WeeklyWindow

TUESDAY_MORNING = (WeeklyWindow(1, 9 * 60, 12 * 60),)
LEITH = (55.9759, -3.1707)
PORTOBELLO = (55.9532, -3.1146)  # about 4.6 km from Leith
ABERDEEN = (57.149, -2.094)


def referral(**overrides: Any) -> ReferralProfile:
    base = ReferralProfile(
        id="r1",
        languages=("pl", "en"),
        formats=("home_visit",),
        lat=LEITH[0],
        lon=LEITH[1],
        availability=TUESDAY_MORNING,
        experiences=frozenset({"postnatal_depression"}),
    )
    return replace(base, **overrides)


def volunteer(**overrides: Any) -> VolunteerProfile:
    base = VolunteerProfile(
        id="v1",
        languages=("pl", "en"),
        formats=("home_visit", "telephone"),
        lat=PORTOBELLO[0],
        lon=PORTOBELLO[1],
        max_travel_km=10,
        availability=TUESDAY_MORNING,
        gender="female",
        experiences=frozenset({"postnatal_depression"}),
        free_places=1,
        free_weekly_sessions=1,
        max_parents=1,
    )
    return replace(base, **overrides)
