"""In-person sessions meet at a venue. With venues in the problem, an in-person pair is feasible only where some
venue lies within the volunteer's `max_travel_km` and within the parent's own reach, on the same land as each of
them (no sea between, sea.py); the venue chosen is the one whose farther distance of the two is least (ties: the
lower id), and the nearer it is, the more points.

The candidate graph applies the rule in its vectorised block work (candidates.py, venue_table.py). Here are the
same rule pair by pair (`Reach`, `feasible_formats`, `reasons`), which proposals and tests read, and the cause
given to a parent no venue is within reach of."""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from matching import constraints, grid, scoring, sea, venue_table
from matching import explain as funnel
from matching.candidates import CandidateGraph
from matching.model import (
    Cause,
    MatchProblem,
    Params,
    Reason,
    ReferralProfile,
    Unmatched,
    VenueProfile,
    VolunteerProfile,
    Weights,
)

IN_PERSON = "in_person"
VENUE_IN_REACH = "venue_in_reach"  # reason: venue_id, venue, parent_km, volunteer_km
# cause: venues, max_travel_km, nearest_venue_km when any venue, across_sea (how many venues within her reach are
# on other land) when any
NO_VENUE_IN_REACH = "no_venue_in_reach"
# cause: volunteers (how many would meet her at a venue both reach), venue_names (those venues, none of which is
# open for a whole session when both are free)
NO_VENUE_OPEN = "no_venue_open_at_common_hour"
FAR = np.iinfo(np.int64).max
IntArray = npt.NDArray[np.int64]


def applies(problem: MatchProblem) -> bool:
    """Whether the venue rule is on for this problem (the service always passes its venues, even none)."""
    return problem.venues is not None


def parent_reach_km(problem: MatchProblem, referral: ReferralProfile) -> float:
    """How far the parent travels to a venue: her own limit, else the programme's."""
    return venue_table.parent_reach_km(problem, referral)


@dataclass(frozen=True, slots=True)
class VenueChoice:
    """The venue a pair meets at and its distances from each of them (hundredths of a km)."""

    venue: VenueProfile
    parent_h: int
    volunteer_h: int
    limit_h: int  # the larger of the two reaches: the farther distance scores nothing there

    def points(self, w: Weights) -> int:
        """The nearer the venue is to the farther of the two, the more points, up to the distance weight."""
        return scoring.distance_points(max(self.parent_h, self.volunteer_h), self.limit_h, w.distance)


class Reach:
    """The venues in id order, and each person's distance to each one within her reach (else FAR)."""

    def __init__(self, problem: MatchProblem) -> None:
        """Venues are taken in id order, so ties go to the lower id whatever order they came in."""
        self.problem = problem
        self.venues = venue_table.by_id(problem)
        self.places = venue_table.places(self.venues)
        self.open = venue_table.open_starts(self.venues, problem.weights.session_minutes)

    def open_at(self, common: int) -> npt.NDArray[np.bool_]:
        """Per venue, whether it is open for a whole session at one of these start quarters."""
        return np.array([(mask & common) != 0 for mask in self.open], dtype=bool)

    def distances_h(
        self, lat: float | None, lon: float | None, reach_km: float | None, area: str | None = None
    ) -> IntArray:
        """From one place (degrees) in postcode district `area` to each venue in hundredths of a km; FAR beyond
        the reach (None: no limit), across the sea (a district known on both sides) or when the place is
        unknown."""
        return self._distances_h(lat, lon, reach_km, area, slice(None))

    def _distances_h(
        self, lat: float | None, lon: float | None, reach_km: float | None, area: str | None, at: slice
    ) -> IntArray:
        venues = self.places[at]
        if lat is None or lon is None or not venues.lat.size:
            return np.full(venues.lat.size, FAR, dtype=np.int64)
        reach_h = None if reach_km is None else np.array([constraints.hundredths(reach_km)], dtype=np.int64)
        here = venue_table.Places(grid.radians([lat]), grid.radians([lon]), np.array([sea.group_number(area)], np.int8))
        out: IntArray = venue_table.in_reach_h(here, reach_h, venues)[0]
        return out

    def many_h(self, people: Sequence[tuple[float | None, float | None, float, str | None]]) -> IntArray:
        """`distances_h` for many places at once: a row per (lat, lon, reach in km, district), a column per venue."""
        out = np.full((len(people), self.places.lat.size), FAR, dtype=np.int64)
        known = [i for i, (lat, lon, _r, _a) in enumerate(people) if lat is not None and lon is not None]
        if not known or not self.places.lat.size:
            return out
        here = venue_table.Places(
            grid.radians([people[i][0] for i in known]),
            grid.radians([people[i][1] for i in known]),
            np.array([sea.group_number(people[i][3]) for i in known], dtype=np.int8),
        )
        reach_h = np.array([constraints.hundredths(people[i][2]) for i in known], dtype=np.int64)
        out[known] = venue_table.in_reach_h(here, reach_h, self.places)
        return out

    def parents_h(self, referrals: Sequence[ReferralProfile]) -> IntArray:
        """`parent_h` of each referral, as rows."""
        return self.many_h([(r.lat, r.lon, parent_reach_km(self.problem, r), r.area) for r in referrals])

    def volunteers_h(self, volunteers: Sequence[VolunteerProfile]) -> IntArray:
        """`volunteer_h` of each volunteer, as rows."""
        return self.many_h([(v.lat, v.lon, v.max_travel_km, v.area) for v in volunteers])

    def parent_h(self, referral: ReferralProfile) -> IntArray:
        """The parent's distances to the venues within her reach."""
        return self.distances_h(referral.lat, referral.lon, parent_reach_km(self.problem, referral), referral.area)

    def volunteer_h(self, volunteer: VolunteerProfile) -> IntArray:
        """The volunteer's distances to the venues within her reach."""
        return self.distances_h(volunteer.lat, volunteer.lon, volunteer.max_travel_km, volunteer.area)

    def choose(
        self,
        referral: ReferralProfile,
        volunteer: VolunteerProfile,
        parent_h: IntArray | None = None,
        volunteer_h: IntArray | None = None,
    ) -> VenueChoice | None:
        """The venue minimising the farther of the two distances (ties: lower id) among those open for a whole
        session at a start time both are free, as the candidate graph chooses, or None when none is shared."""
        hers = self.parent_h(referral) if parent_h is None else parent_h
        theirs = self.volunteer_h(volunteer) if volunteer_h is None else volunteer_h
        far = np.maximum(hers, theirs)
        if far.size:
            common = constraints.common_starts(referral, volunteer, self.problem.weights.session_minutes)
            far[~self.open_at(common)] = FAR
        if far.size == 0 or far.min() == FAR:
            return None
        return self.at(referral, volunteer, int(np.argmin(far)), hers, theirs)  # the first of equals: lowest id

    def at(
        self,
        referral: ReferralProfile,
        volunteer: VolunteerProfile,
        index: int,
        parent_h: IntArray | None = None,
        volunteer_h: IntArray | None = None,
    ) -> VenueChoice:
        """The pair meeting at the venue of this index (in id order), as the candidate graph chose it."""
        at, reach = slice(index, index + 1), parent_reach_km(self.problem, referral)
        hers = (
            self._distances_h(referral.lat, referral.lon, reach, referral.area, at)
            if parent_h is None
            else parent_h[at]
        )
        theirs = (
            self._distances_h(volunteer.lat, volunteer.lon, volunteer.max_travel_km, volunteer.area, at)
            if volunteer_h is None
            else volunteer_h[at]
        )
        limit = max(constraints.hundredths(reach), constraints.hundredths(volunteer.max_travel_km))
        return VenueChoice(self.venues[index], int(hers[0]), int(theirs[0]), limit)


def chosen(graph: CandidateGraph, pair: int) -> VenueChoice | None:
    """Where the candidate graph has this pair (an index into it) meet, with the distances it scored, or None
    when they do not meet at a venue."""
    at = int(graph.venue[pair]) if graph.venue is not None else -1
    if at < 0 or graph.venues is None or graph.table is None:
        return None
    referral, row = int(graph.referral[pair]), int(graph.volunteer[pair])
    position = int(np.searchsorted(graph.table.rows, row))  # the table's rows ascend
    hers, theirs = graph.venues.distances_h(referral, position, at)
    limit = max(int(graph.venues.parent_reach_h[referral]), int(graph.table.max_h[position]))
    return VenueChoice(graph.venues.venues[at], hers, theirs, limit)


def venue_reason(choice: VenueChoice, volunteer: VolunteerProfile, w: Weights) -> Reason:
    """`at Leith Community Centre, 1.2 km from the parent, 3.4 km from Morag`."""
    parent_km, volunteer_km = round(choice.parent_h / 100, 1), round(choice.volunteer_h / 100, 1)
    who = volunteer.first_name or "the volunteer"
    text = f"at {choice.venue.name}, {parent_km:.1f} km from the parent, {volunteer_km:.1f} km from {who}"
    params: Params = (
        ("venue_id", choice.venue.id),
        ("venue", choice.venue.name),
        ("parent_km", parent_km),
        ("volunteer_km", volunteer_km),
    )
    return Reason("venue", choice.points(w), text, VENUE_IN_REACH, params)


def reasons(
    referral: ReferralProfile, volunteer: VolunteerProfile, chosen: str, w: Weights, choice: VenueChoice | None
) -> tuple[Reason, ...]:
    """scoring.reasons, with the venue's reason in place of the pair's distance when they meet in person."""
    found = scoring.reasons(referral, volunteer, chosen, w)
    if chosen != IN_PERSON or choice is None:
        return found
    out = [r for r in found if r.criterion != "distance"]
    at = next((i + 1 for i, r in enumerate(out) if r.criterion == "format"), len(out))
    out.insert(at, venue_reason(choice, volunteer, w))
    return tuple(out)


def feasible_formats(
    referral: ReferralProfile, volunteer: VolunteerProfile, choice: VenueChoice | None
) -> tuple[str, ...]:
    """constraints.feasible_formats, with in person feasible only at a shared venue."""
    offered = set(volunteer.formats)
    shared = constraints.shares_language(referral, volunteer)
    talk = frozenset(referral.formats) if shared else constraints.interpreter_formats(referral)
    return tuple(
        f
        for f in referral.formats
        if f in offered
        and f in talk
        and (choice is not None if f == IN_PERSON else constraints.within_reach(referral, volunteer, f))
    )


@dataclass(frozen=True, slots=True)
class PairCheck:
    """One pair checked as a match is made: the hard rules it breaks (constraints.broken's names and order),
    the formats they can meet in, in her order, and the venue they would meet at in person, if any."""

    broken: list[str]
    formats: tuple[str, ...]
    venue: VenueChoice | None


def check_pair(problem: MatchProblem, *, venue_id: str | None = None) -> PairCheck:
    """constraints.broken for the problem's one pair under the venue rule, as the candidate graph applies it:
    in person needs a venue within both reaches, on the same land, open for a whole session at a time both
    are free: the venue named (`venue_id`), else the one the graph would choose. Without venues in the
    problem, in person is reached as a home visit is."""
    [referral], [volunteer] = problem.referrals, problem.volunteers
    minutes = problem.weights.session_minutes
    broken = constraints.broken(referral, volunteer, session_minutes=minutes, excluded_pairs=problem.excluded_pairs)
    if not applies(problem):
        return PairCheck(broken, constraints.feasible_formats(referral, volunteer), None)
    reach = Reach(problem)
    choice = reach.choose(referral, volunteer) if venue_id is None else _named(reach, referral, volunteer, venue_id)
    reachable = any(f != IN_PERSON for f in constraints.reachable_formats(referral, volunteer)) or (
        choice is not None and IN_PERSON in referral.formats and IN_PERSON in volunteer.formats
    )
    rule = "no_reachable_shared_format"
    kept = {name for name in broken if name != rule} | ({rule} if not reachable else set())
    broken = sorted(kept, key=constraints.RULES.index)
    return PairCheck(broken, feasible_formats(referral, volunteer, choice), choice)


def _named(reach: Reach, referral: ReferralProfile, volunteer: VolunteerProfile, venue_id: str) -> VenueChoice | None:
    """The named venue when it is within both reaches and open at a time both are free, else None."""
    index = next((k for k, v in enumerate(reach.venues) if v.id == venue_id), None)
    if index is None:
        return None
    choice = reach.at(referral, volunteer, index)
    common = constraints.common_starts(referral, volunteer, reach.problem.weights.session_minutes)
    shared = choice.parent_h != FAR and choice.volunteer_h != FAR and bool(reach.open_at(common)[index])
    return choice if shared else None


def _other_rules(
    referral: ReferralProfile, volunteer: VolunteerProfile, problem: MatchProblem, session_minutes: int
) -> bool:
    """Every hard rule but the formats and the language (a format decides whether an interpreter can bridge
    it); the table holds only the ready volunteers with a free place."""
    return (
        constraints.gender_as_asked(referral, volunteer)
        and constraints.essentials_met(referral, volunteer)
        and constraints.not_excluded(referral, volunteer, problem.excluded_pairs)
        and constraints.has_common_hour(referral, volunteer, session_minutes)
    )


def rebuild(problem: MatchProblem, graph: CandidateGraph) -> CandidateGraph:
    """The graph under the venue rule: `candidates.build` applies it itself now, so the graph as it is. Kept
    for callers of before."""
    return graph


# Causes a venue would not cure: nobody speaks her language, or nobody offers meetings in person.
_BEFORE_VENUES = frozenset(code for _, code in funnel.STAGES[:2])


def explain(problem: MatchProblem, unmatched: tuple[Unmatched, ...]) -> tuple[Unmatched, ...]:
    """An in-person-only parent, located, with no venue within her reach: that is the cause to act on, unless
    nobody speaks her language or offers meetings in person at all. One whose only volunteers share venues
    that are closed whenever both are free is told so (`NO_VENUE_OPEN`)."""
    reach = Reach(problem)
    by_id = {r.id: r for r in problem.referrals}
    hours = _Hours(problem, reach)
    out = []
    for entry in unmatched:
        referral = by_id[entry.referral_id]
        located = referral.lat is not None and referral.lon is not None
        before = bool(entry.causes) and entry.causes[0].code in _BEFORE_VENUES
        # Her distances to the venues only when they can matter: a national run leaves thousands unmatched.
        if referral.formats == (IN_PERSON,) and located and not before:
            if int(reach.parent_h(referral).min(initial=FAR)) == FAR:
                entry = Unmatched(entry.referral_id, (no_venue_cause(problem, reach, referral),))
            elif entry.causes and entry.causes[0].code != funnel.NEEDED_FOR_SOMEONE_ELSE:
                closed = hours.cause(referral)
                entry = Unmatched(entry.referral_id, (closed,)) if closed is not None else entry
        out.append(entry)
    return tuple(out)


class _Hours:
    """Who would meet a parent at a venue but for its opening hours, for the in-person parents left with
    nobody (few): the ready volunteers offering in person, and their distances to the venues, measured once."""

    def __init__(self, problem: MatchProblem, reach: Reach) -> None:
        self.problem, self.reach = problem, reach
        self.kept = any(mask != venue_table.ALWAYS for mask in reach.open)
        self._theirs: IntArray | None = None
        self._who: list[VolunteerProfile] = []

    def _volunteers(self) -> tuple[list[VolunteerProfile], IntArray]:
        if self._theirs is None:
            self._who = [
                v
                for v in self.problem.volunteers
                if IN_PERSON in v.formats and constraints.volunteer_ready(v) and constraints.has_free_capacity(v)
            ]
            self._theirs = self.reach.volunteers_h(self._who)
        return self._who, self._theirs

    def cause(self, referral: ReferralProfile) -> Cause | None:
        """NO_VENUE_OPEN when some volunteer keeps every other rule and shares a venue with her, but every venue
        they share is closed whenever both are free; None otherwise."""
        if not self.kept:
            return None
        who, theirs = self._volunteers()
        hers = self.reach.parent_h(referral)
        sharing = np.flatnonzero(((theirs != FAR) & (hers != FAR)[None, :]).any(axis=1))
        minutes = self.problem.weights.session_minutes
        closed: set[str] = set()
        count = 0
        for j in sharing.tolist():
            volunteer = who[j]
            talk = constraints.shares_language(referral, volunteer) or IN_PERSON in constraints.interpreter_formats(
                referral
            )
            if not talk or not _other_rules(referral, volunteer, self.problem, minutes):
                continue
            if self.reach.choose(referral, volunteer, hers, theirs[j]) is not None:
                return None  # someone could meet her: another rule or the competition left her out
            count += 1
            shared = np.flatnonzero((theirs[j] != FAR) & (hers != FAR))
            closed.update(self.reach.venues[int(k)].name for k in shared)
        if not count:
            return None
        names = sorted(closed)
        who_words, parent = scoring.plural(count, "volunteer"), scoring.parent(referral)
        closed_words = "it is" if len(names) == 1 else "each is"
        sentence = (
            f"{who_words} could meet {parent} at {funnel._or(names)}, but {closed_words} closed or fully booked "
            f"whenever both are free: longer opening hours, another room, or other times for {parent}, would help"
        )
        params: Params = (("volunteers", count), ("venue_names", tuple(names)))
        return Cause(NO_VENUE_OPEN, params, sentence)


def no_venue_cause(problem: MatchProblem, reach: Reach, referral: ReferralProfile) -> Cause:
    """No venue within her reach: how far she travels, the nearest venue if any, and what would help."""
    limit = parent_reach_km(problem, referral)
    params: Params = (("venues", len(reach.venues)), ("max_travel_km", float(limit)))
    if not reach.venues:
        sentence = f"no venue is open for in-person sessions: adding a venue near {scoring.parent(referral)} would help"
        return Cause(NO_VENUE_IN_REACH, params, sentence)
    nearest = reach.distances_h(referral.lat, referral.lon, None).min() / 100
    params = (*params, ("nearest_venue_km", round(float(nearest), 1)))
    # Venues near enough in a straight line but on other land (sea.py): say so, or the numbers contradict.
    beyond = reach.distances_h(referral.lat, referral.lon, limit) != FAR
    across_sea = int(beyond.sum()) - int((reach.parent_h(referral) != FAR).sum())
    if across_sea:
        params = (*params, ("across_sea", across_sea))
    where = f"the nearest is {nearest:.1f} km away" + (", across the sea" if across_sea else "")
    who = scoring.parent(referral)
    sentence = f"no venue is within {who}'s reach ({limit:g} km; {where}): adding a venue near {who} would help"
    return Cause(NO_VENUE_IN_REACH, params, sentence)
