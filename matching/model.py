"""Plain, frozen inputs and outputs of the matching engine."""

from dataclasses import dataclass, field
from datetime import date

TRAVEL_FORMATS = frozenset({"home_visit", "in_person"})
FORMATS = ("home_visit", "telephone", "in_person", "video")


@dataclass(frozen=True, slots=True)
class WeeklyWindow:
    """A weekly window in the programme's local time: day 0 = Monday, minutes from midnight."""

    day: int
    start_min: int
    end_min: int


@dataclass(frozen=True, slots=True)
class Interpreter:
    """An interpreter she needs, for `language` (a BCP 47 tag): on a three-way telephone or video call, and/or
    at home visits and venue meetings. Where one can be arranged, a volunteer sharing no language with her can
    still support her in that format."""

    language: str
    three_way_calls: bool = False
    at_visits: bool = False


@dataclass(frozen=True, slots=True)
class ReferralProfile:
    """A waiting parent as the engine sees her. `languages` and `formats` are in her order of preference
    (BCP 47 tags, normalised by the service); `lat`/`lon` in degrees (None: unknown, so no travel formats);
    `must_match` holds `language`, `volunteer_gender`, `background:<code>`, `experience:<code>`,
    `specialism:<code>`; `priority` marks a parent returning after an early ending. `role` (mother, father,
    co_parent) names her in reasons; `specialisms` and `interpreter` are her needs; `area` is her postcode
    district (for the sea between islands and the mainland, sea.py)."""

    id: str
    languages: tuple[str, ...]
    formats: tuple[str, ...]
    lat: float | None
    lon: float | None
    availability: tuple[WeeklyWindow, ...]
    background: frozenset[str] = frozenset()
    experiences: frozenset[str] = frozenset()
    interests: frozenset[str] = frozenset()
    volunteer_gender: str | None = None
    must_match: frozenset[str] = frozenset()
    waiting_days: int = 0
    priority: bool = False
    max_travel_km: float | None = None  # her own reach to a venue; the problem's default when None
    role: str = "mother"
    specialisms: frozenset[str] = frozenset()
    interpreter: Interpreter | None = None
    area: str | None = None


@dataclass(frozen=True, slots=True)
class VolunteerProfile:
    """A volunteer as the engine sees her. `max_travel_km` bounds home visits and venue meetings; `busy` is
    the weekly slots of her existing sessions (taken off `availability`); `ready` is decided by the service
    (trained, checked, supervised, active, not on leave or resting); `free_places` and
    `free_weekly_sessions` are what is left after her open matches. `first_name` names her in reasons;
    `not_ready` holds the codes of why she is not ready (the service's readiness codes) and `until` the day
    she is back when that is known (leave, rest); `area` is her postcode district."""

    id: str
    languages: tuple[str, ...]
    formats: tuple[str, ...]
    lat: float | None
    lon: float | None
    max_travel_km: float
    availability: tuple[WeeklyWindow, ...]
    busy: tuple[WeeklyWindow, ...] = ()
    gender: str | None = None
    background: frozenset[str] = frozenset()
    experiences: frozenset[str] = frozenset()
    interests: frozenset[str] = frozenset()
    specialisms: frozenset[str] = frozenset()
    ready: bool = True
    free_places: int = 1
    free_weekly_sessions: int = 1
    current_parents: int = 0
    max_parents: int = 1
    first_name: str | None = None  # named in reasons ("3.4 km from Morag")
    not_ready: tuple[str, ...] = ()
    until: date | None = None
    area: str | None = None

    @property
    def slots(self) -> int:
        """How many new parents she can take in this run."""
        return max(0, min(self.free_places, self.free_weekly_sessions)) if self.ready else 0


@dataclass(frozen=True, slots=True)
class Weights:
    """Points per criterion (the programme's matching weights)."""

    preferred_language: int = 30
    shared_language: int = 15
    experience: int = 10
    background: int = 8
    interests: int = 3
    format_rank: int = 10
    distance: int = 10
    availability: int = 5
    waiting: int = 2
    priority: int = 40
    load: int = 5
    specialism: int = 10
    interpreter: int = 10
    session_minutes: int = 60


@dataclass(frozen=True, slots=True)
class VenueProfile:
    """An active venue with opening hours and a known place, where in-person pairs may meet. `area` is its
    postcode district: a venue on an island group is within reach only of people on it (sea.py).
    `opening_hours`: a pair meets there only at a start time both are free and the venue is open for a whole
    session with a room free (not in `booked`); None (the engine's own tests and benches) is open at every
    hour."""

    id: str
    name: str
    lat: float
    lon: float
    area: str | None = None
    opening_hours: tuple[WeeklyWindow, ...] | None = None
    booked: tuple[WeeklyWindow, ...] = ()  # weekly hours when every room is taken by other matches' sessions


@dataclass(frozen=True, slots=True)
class MatchProblem:
    """One match run: who waits, who can help, the weights, and (referral id, volunteer id) pairs rejected
    or declined before, which are never proposed again. With `venues` given (even none), an in-person pair
    must share a venue within both reaches (venues.py), a parent's reach being her own `max_travel_km` or
    `in_person_max_travel_km`; without, in person is reached as a home visit is."""

    referrals: tuple[ReferralProfile, ...]
    volunteers: tuple[VolunteerProfile, ...]
    weights: Weights = field(default_factory=Weights)
    excluded_pairs: frozenset[tuple[str, str]] = frozenset()
    venues: tuple[VenueProfile, ...] | None = None
    in_person_max_travel_km: float = 10.0


# A code's parameters: (name, value) pairs in a fixed order, values plain enough for JSON.
Param = str | int | float | tuple[str, ...] | tuple[tuple[str, int], ...]
Params = tuple[tuple[str, Param], ...]


@dataclass(frozen=True, slots=True)
class Reason:
    """One criterion's points for a pair: `code` and `params` for a machine, `detail` the sentence a
    coordinator reads, made from the same values."""

    criterion: str
    points: int
    detail: str
    code: str
    params: Params = ()


@dataclass(frozen=True, slots=True)
class Proposal:
    """A proposed pair: `score` is the sum of the reasons' points, `fit` the score as 0-100 of the best any
    volunteer could score for her, `format` her most preferred format the pair can meet in."""

    referral_id: str
    volunteer_id: str
    score: int
    fit: int
    format: str
    reasons: tuple[Reason, ...]
    venue_id: str | None = None  # where an in-person pair meets, when the problem has venues


@dataclass(frozen=True, slots=True)
class Cause:
    """Why a referral was left out: `code` and `params` for a machine, `sentence` for a coordinator."""

    code: str
    params: Params
    sentence: str


@dataclass(frozen=True, slots=True)
class Unmatched:
    """A referral left without a volunteer, with why."""

    referral_id: str
    causes: tuple[Cause, ...]

    @property
    def reasons(self) -> tuple[str, ...]:
        """The causes' sentences."""
        return tuple(cause.sentence for cause in self.causes)


@dataclass(frozen=True, slots=True)
class MatchStats:
    """The size of the run and how long its two phases took (seconds)."""

    referrals: int
    volunteers: int
    candidate_pairs: int
    matched: int
    total_score: int
    optimal: bool
    candidate_seconds: float
    solve_seconds: float


@dataclass(frozen=True, slots=True)
class Assignment:
    """The outcome of a run: proposals in referral id order, the unmatched in referral id order."""

    proposals: tuple[Proposal, ...]
    unmatched: tuple[Unmatched, ...]
    stats: MatchStats
