"""The fewest km more of reach that would match an unmatched referral taking a format with travel, and how many
volunteers that would bring (unmatched.py): among the volunteers who would fit her with WIDER_KM more reach,
those out of reach today, the smallest shortfall rounded up to a whole km (at least 1), and how many fall short
by no more.

A graph with every reach WIDER_KM longer has cells wide enough to hold most of the country: the plain answer
built one for millions of pairs. Most answers are a few km, so the reach is widened by a little first (STAGES)
and only those not answered there go on. That is exact: a pair falling short by no more than W - 1 km is
within a reach W km longer, and a pair beyond it falls short by more than W - 1 km; at a venue (in person, with
venues in the problem) the same holds with the reach widened by her own reach more, as she and the volunteer
meet at a venue she reaches (triangle inequality)."""

import math
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from matching import constraints, pair_counts, venue_table
from matching.model import TRAVEL_FORMATS, MatchProblem, ReferralProfile, VolunteerProfile

WIDER_KM = 50.0  # how much further than her reach a volunteer is asked about
STAGES = (3.0,)  # the smaller widenings tried first, each at least 2 km (3 then 50 was the quickest)
SLACK = 1e-6  # km: numpy's haversine against math's differs by far less
IN_PERSON = "in_person"
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Shortfall:
    """`extra` whole km more of reach would match her with `count` volunteers."""

    extra: int
    count: int


def wider_travel(problem: MatchProblem, refs: tuple[ReferralProfile, ...]) -> dict[int, Shortfall]:
    """Per referral (index into `refs`) taking a format with travel from a known place, her shortfall, when some
    volunteer would fit her with WIDER_KM more reach (never across the sea: a longer reach does not cross it)."""
    asked = [k for k, r in enumerate(refs) if r.lat is not None and any(f in TRAVEL_FORMATS for f in r.formats)]
    # Only a ready volunteer with a free place can be in a pair: the others are left out of every graph here.
    wider = np.array(
        [
            i
            for i, v in enumerate(problem.volunteers)
            if v.lat is not None and any(f in TRAVEL_FORMATS for f in v.formats) and v.slots > 0
        ],
        dtype=np.int64,
    )
    if not asked or wider.size == 0:
        return {}
    them = _Wider(problem, wider)
    out: dict[int, Shortfall] = {}
    waiting = asked
    for widening in (*STAGES, WIDER_KM):
        last = widening == WIDER_KM
        found = _pairs_at(problem, refs, waiting, them, widening)
        left = []
        for k, mine in zip(waiting, found, strict=True):
            shortfall = them.shortfall(refs[k], mine)
            if shortfall is not None and (last or shortfall.extra <= widening - 1):
                out[k] = shortfall
            elif not last:
                left.append(k)
        if not left:
            break
        waiting = left
    return out


def _pairs_at(
    problem: MatchProblem, refs: tuple[ReferralProfile, ...], asked: list[int], them: "_Wider", widening: float
) -> list[IntArray]:
    """Per referral asked, the volunteers (indices into the asked volunteers) who fit her with the reach
    `widening` km longer, among them all who fall short of her today by no more than `widening` - 1 km. At a
    venue, a volunteer falling short of her by x km is within x + her reach of the venue she reaches: there the
    reach is widened by that much more (WIDER_KM at most; a longer reach only adds pairs)."""
    at_venues = problem.venues is not None
    formats = {k: _direct(refs[k], at_venues) for k in asked}
    direct = [k for k in asked if formats[k]]
    found = dict(
        zip(
            direct,
            them.pairs(problem, tuple(replace(refs[k], formats=formats[k]) for k in direct), widening),
            strict=True,
        )
    )
    meeting = [k for k in asked if at_venues and IN_PERSON in refs[k].formats]
    if meeting:
        reach = max(venue_table.parent_reach_km(problem, refs[k]) for k in meeting)
        far = min(WIDER_KM, widening + reach + 1)
        met = them.pairs(problem, tuple(replace(refs[k], formats=(IN_PERSON,)) for k in meeting), far)
        for k, mine in zip(meeting, met, strict=True):
            found[k] = np.union1d(found[k], mine) if k in found else mine
    empty = np.zeros(0, dtype=np.int64)
    return [found.get(k, empty) for k in asked]


def _direct(ref: ReferralProfile, at_venues: bool) -> tuple[str, ...]:
    """Her formats with travel met where one of them lives: home visits, and in person without venues."""
    return tuple(f for f in ref.formats if f in TRAVEL_FORMATS and not (at_venues and f == IN_PERSON))


def _by_row(referral: IntArray, volunteer: IntArray, rows: int) -> list[IntArray]:
    """Each referral's volunteers, from the pairs' two columns."""
    order = np.argsort(referral, kind="stable")
    starts = np.searchsorted(referral[order], np.arange(rows + 1))
    ordered = volunteer[order]
    return [ordered[starts[row] : starts[row + 1]] for row in range(rows)]


class _Wider:
    """The volunteers asked about (offering a format with travel, from a known place): their places as arrays,
    and the reach today as the plain answer works it out."""

    def __init__(self, problem: MatchProblem, wider: IntArray) -> None:
        self.volunteers = [problem.volunteers[int(i)] for i in wider]
        self.lat = np.radians(np.array([v.lat for v in self.volunteers], dtype=float))
        self.lon = np.radians(np.array([v.lon for v in self.volunteers], dtype=float))
        self.base = np.array([(v.max_travel_km + WIDER_KM) - WIDER_KM for v in self.volunteers])
        self.widened: dict[float, tuple[VolunteerProfile, ...]] = {}

    def pairs(self, problem: MatchProblem, variants: tuple[ReferralProfile, ...], widening: float) -> list[IntArray]:
        """Per variant, the volunteers (indices into the asked) who fit her with the reach `widening` km longer."""
        if not variants:
            return []
        if widening not in self.widened:
            self.widened[widening] = tuple(
                replace(v, max_travel_km=v.max_travel_km + widening) for v in self.volunteers
            )
        volunteers = self.widened[widening]
        found = pair_counts.pairs(replace(problem, referrals=variants, volunteers=volunteers))
        return _by_row(*found, len(variants))

    def shortfall(self, ref: ReferralProfile, mine: IntArray | None) -> Shortfall | None:
        """Her shortfall among these volunteers (indices into the asked): distances estimated at once with
        numpy, then those that can decide the answer worked out exactly as constraints.pair_distance_km does."""
        if mine is None or mine.size == 0:
            return None
        estimate = self._km(ref, mine) - self.base[mine]
        near = estimate > -SLACK
        if not near.any():
            return None
        # Enough to settle the answer unless the nearest falls short by a whole km within SLACK (then: all).
        bound = max(1, math.ceil(float(estimate[near].min()))) + 2 * SLACK
        while True:
            chosen = mine[near & (estimate <= bound)]
            short = [b for b in (self._beyond(ref, int(c)) for c in chosen) if b > 0]
            if short:
                extra = max(1, math.ceil(min(short)))
                if extra + SLACK < bound:  # those left out fall short by more than `bound` - SLACK
                    return Shortfall(extra, sum(1 for b in short if b <= extra))
            elif chosen.size == int(near.sum()):
                return None
            bound = math.inf

    def _beyond(self, ref: ReferralProfile, at: int) -> float:
        """How far beyond the volunteer's reach she is, km, worked out as the plain answer did."""
        them = self.volunteers[at]
        km = constraints.distance_km(ref.lat, ref.lon, them.lat, them.lon)  # type: ignore[arg-type]
        return km - float(self.base[at])

    def _km(self, ref: ReferralProfile, mine: IntArray) -> FloatArray:
        """Haversine distances from her to these volunteers, km."""
        lat, lon = self.lat[mine], self.lon[mine]
        p1, l1 = math.radians(ref.lat), math.radians(ref.lon)  # type: ignore[arg-type]
        h = np.sin((lat - p1) / 2) ** 2 + math.cos(p1) * np.cos(lat) * np.sin((lon - l1) / 2) ** 2
        return np.asarray(2 * constraints.EARTH_KM * np.arcsin(np.minimum(1.0, np.sqrt(h))), dtype=float)
