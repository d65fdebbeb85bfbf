"""Synthetic Scotland-like referrals and volunteers for benchmarks and property tests (no real people)."""

import random

from matching.model import ReferralProfile, VolunteerProfile, WeeklyWindow

# (place, lat, lon, weight): cities weigh most, islands and the rural north are in on purpose.
PLACES = [
    ("Edinburgh", 55.953, -3.189, 22),
    ("Glasgow", 55.864, -4.252, 26),
    ("Aberdeen", 57.149, -2.094, 10),
    ("Dundee", 56.462, -2.971, 7),
    ("Inverness", 57.478, -4.224, 4),
    ("Perth", 56.396, -3.437, 3),
    ("Stirling", 56.117, -3.936, 3),
    ("Paisley", 55.846, -4.423, 4),
    ("Kilmarnock", 55.611, -4.495, 3),
    ("Kirkcaldy", 56.110, -3.167, 3),
    ("Dumfries", 55.070, -3.605, 2),
    ("Galashiels", 55.617, -2.806, 1),
    ("Oban", 56.415, -5.472, 1),
    ("Fort William", 56.819, -5.105, 1),
    ("Portree", 57.412, -6.196, 1),
    ("Stornoway", 58.209, -6.387, 1),
    ("Kirkwall", 58.981, -2.960, 1),
    ("Lerwick", 60.155, -1.145, 1),
    ("Wick", 58.439, -3.094, 1),
    ("Elgin", 57.649, -3.318, 1),
]
LANGUAGES = [
    ("en", 78),
    ("pl", 6),
    ("ur", 3),
    ("ar", 4),
    ("pa", 2),
    ("zh-Hant", 2),
    ("ro", 2),
    ("so", 1),
    ("gd", 1),
    ("fa", 1),
]
EXPERIENCES = [
    "postnatal_depression",
    "antenatal_anxiety",
    "postnatal_anxiety",
    "birth_trauma",
    "perinatal_ocd",
    "isolation",
    "bonding_difficulties",
]
BACKGROUND = [
    "single_parent",
    "first_time_parent",
    "low_income",
    "refugee_or_asylum",
    "neonatal_unit",
    "baby_loss",
    "young_parent",
    "rural",
]
INTERESTS = ["walking", "crafts", "cooking", "reading", "music", "outdoors", "faith", "gardening"]
SLOTS = [(570, 720), (600, 750), (780, 930), (810, 960), (1110, 1230)]


def _place(rng: random.Random) -> tuple[float, float]:
    _, lat, lon, _ = rng.choices(PLACES, weights=[p[3] for p in PLACES])[0]
    return lat + rng.gauss(0, 0.04), lon + rng.gauss(0, 0.07)


def _languages(rng: random.Random) -> tuple[str, ...]:
    first = rng.choices([tag for tag, _ in LANGUAGES], weights=[w for _, w in LANGUAGES])[0]
    return (first,) if first == "en" or rng.random() < 0.3 else (first, "en")


def _availability(rng: random.Random, days: tuple[int, int]) -> tuple[WeeklyWindow, ...]:
    chosen = sorted(rng.sample(range(6), k=rng.randint(*days)))
    return tuple(WeeklyWindow(day, *rng.choice(SLOTS)) for day in chosen)


def referral(rng: random.Random, index: int) -> ReferralProfile:
    """One synthetic referral from a Scotland-like mix of places, languages and formats."""
    lat, lon = _place(rng)
    # Home visits lead; telephone is a minority choice in the UK (low take-up, DOMAIN.md).
    formats = rng.choices(
        [
            ("home_visit",),
            ("home_visit", "telephone"),
            ("in_person", "home_visit"),
            ("telephone",),
            ("in_person",),
        ],
        weights=[40, 20, 15, 10, 15],
    )[0]
    return ReferralProfile(
        id=f"r{index:06d}",
        languages=_languages(rng),
        formats=formats,
        lat=lat,
        lon=lon,
        availability=_availability(rng, (1, 3)),
        background=frozenset(rng.sample(BACKGROUND, rng.randint(0, 2))),
        experiences=frozenset(rng.sample(EXPERIENCES, rng.randint(1, 2))),
        interests=frozenset(rng.sample(INTERESTS, rng.randint(0, 2))),
        volunteer_gender="female" if rng.random() < 0.05 else None,
        waiting_days=rng.randint(0, 90),
        priority=rng.random() < 0.02,
    )


def volunteer(rng: random.Random, index: int) -> VolunteerProfile:
    """One synthetic volunteer with 1-3 free places."""
    lat, lon = _place(rng)
    places = rng.randint(1, 3)
    return VolunteerProfile(
        id=f"v{index:06d}",
        languages=_languages(rng),
        formats=rng.choices(
            [("home_visit",), ("home_visit", "telephone"), ("in_person", "home_visit"), ("telephone",)],
            weights=[40, 25, 25, 10],
        )[0],
        lat=lat,
        lon=lon,
        max_travel_km=float(rng.choice([5, 8, 10, 15, 25])),
        availability=_availability(rng, (2, 4)),
        gender="female",
        background=frozenset(rng.sample(BACKGROUND, rng.randint(0, 3))),
        experiences=frozenset(rng.sample(EXPERIENCES, rng.randint(1, 3))),
        interests=frozenset(rng.sample(INTERESTS, rng.randint(1, 3))),
        free_places=places,
        free_weekly_sessions=places,
        current_parents=0,
        max_parents=places,
    )


def population(
    n_referrals: int, n_volunteers: int, seed: int = 1
) -> tuple[tuple[ReferralProfile, ...], tuple[VolunteerProfile, ...]]:
    """Referrals and volunteers from one seed (the same seed gives the same people)."""
    rng = random.Random(seed)
    return (
        tuple(referral(rng, i) for i in range(n_referrals)),
        tuple(volunteer(rng, i) for i in range(n_volunteers)),
    )
