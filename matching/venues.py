"""In-person sessions meet at a venue. With venues in the problem, an in-person pair is feasible only where some
venue lies within the volunteer's `max_travel_km` and within the parent's own reach; the venue chosen is the one
whose farther distance of the two is least (ties: the lower id), and the nearer it is, the more points.

The candidate graph is built as before and then, for the referrals who take in person, their pairs are made
again here, rule by rule (constraints.py) with the venue in place of the pair's own distance for in person, and
scored as scoring.py does with the venue's reason in place of the distance reason. The solve is unchanged and
as exact as before; only those referrals' pairs take the slower, per-pair path."""

import math
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from matching import constraints, grid, scoring
from matching import explain as funnel
from matching.candidates import CandidateGraph
from matching.model import (
    FORMATS,
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
NO_VENUE_IN_REACH = "no_venue_in_reach"  # cause: venues, max_travel_km, and nearest_venue_km when any venue
FAR = np.iinfo(np.int64).max
IntArray = npt.NDArray[np.int64]


def applies(problem: MatchProblem) -> bool:
    """Whether the venue rule is on for this problem (the service always passes its venues, even none)."""
    return problem.venues is not None


def parent_reach_km(problem: MatchProblem, referral: ReferralProfile) -> float:
    """How far the parent travels to a venue: her own limit, else the programme's."""
    return referral.max_travel_km if referral.max_travel_km is not None else problem.in_person_max_travel_km


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
        self.venues = tuple(sorted(problem.venues or (), key=lambda v: v.id))
        self.lat = grid.radians([v.lat for v in self.venues])
        self.lon = grid.radians([v.lon for v in self.venues])

    def distances_h(self, lat: float | None, lon: float | None, reach_km: float | None) -> IntArray:
        """From one place (degrees) to each venue in hundredths of a km; FAR beyond the reach (None: no limit)
        or when the place is unknown."""
        if lat is None or lon is None or not self.venues:
            return np.full(len(self.venues), FAR, dtype=np.int64)
        out = grid.km_hundredths(math.radians(lat), math.radians(lon), self.lat, self.lon)
        if reach_km is not None:
            out[out > constraints.hundredths(reach_km)] = FAR
        return out

    def parent_h(self, referral: ReferralProfile) -> IntArray:
        """The parent's distances to the venues within her reach."""
        return self.distances_h(referral.lat, referral.lon, parent_reach_km(self.problem, referral))

    def volunteer_h(self, volunteer: VolunteerProfile) -> IntArray:
        """The volunteer's distances to the venues within her reach."""
        return self.distances_h(volunteer.lat, volunteer.lon, volunteer.max_travel_km)

    def choose(
        self,
        referral: ReferralProfile,
        volunteer: VolunteerProfile,
        parent_h: IntArray | None = None,
        volunteer_h: IntArray | None = None,
    ) -> VenueChoice | None:
        """The venue minimising the farther of the two distances (ties: lower id), or None when none is shared."""
        hers = self.parent_h(referral) if parent_h is None else parent_h
        theirs = self.volunteer_h(volunteer) if volunteer_h is None else volunteer_h
        far = np.maximum(hers, theirs)
        if far.size == 0 or far.min() == FAR:
            return None
        best = int(np.argmin(far))  # the first of equals: the lowest id
        limit = max(
            constraints.hundredths(parent_reach_km(self.problem, referral)),
            constraints.hundredths(volunteer.max_travel_km),
        )
        return VenueChoice(self.venues[best], int(hers[best]), int(theirs[best]), limit)


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
    """The graph with the pairs of every referral taking in person made again under the venue rule, where the
    rule can change them. Each referral's pairs stay one consecutive run; the seed lists are dropped (the sparse
    solve remakes them).

    For a referral who takes in person, a pair can change only if the graph chose in person for it (the venue
    may fail, or score otherwise), or if the volunteer offers in person and reaches a venue within the
    parent's reach (in person may now be feasible, or better placed in her order than the format chosen). Every
    other pair of hers keeps the format and score the graph gave it: its format is not in person, and in person
    is no more feasible than it was. Only the changeable pairs take the per-pair path."""
    again = [i for i, r in enumerate(problem.referrals) if IN_PERSON in r.formats]
    if not again or graph.table is None:
        return graph
    reach, w = Reach(problem), problem.weights
    rows = np.array([int(row) for row in graph.table.rows], dtype=np.int64)
    offers = np.array([IN_PERSON in problem.volunteers[row].formats for row in rows], dtype=bool)
    # Each volunteer's distances to the venues within her reach, once: rows x venues.
    distances = np.array([reach.volunteer_h(problem.volunteers[row]) for row in rows], dtype=np.int64).reshape(
        rows.size, len(reach.venues)
    )
    theirs_of = {int(row): distances[i] for i, row in enumerate(rows)}
    reaches = distances != FAR
    in_person = FORMATS.index(IN_PERSON)
    redo = np.zeros(graph.size, dtype=bool)
    made: list[tuple[int, int, int, int]] = []
    # Where each referral's run of pairs starts and ends in the graph.
    starts = np.flatnonzero(np.r_[True, graph.referral[1:] != graph.referral[:-1]]) if graph.size else np.zeros(0, int)
    ends = np.r_[starts[1:], graph.size] if starts.size else starts
    run_of = {int(graph.referral[s]): (int(s), int(e)) for s, e in zip(starts, ends, strict=True)}
    for index in again:
        referral = problem.referrals[index]
        hers = reach.parent_h(referral)
        first, last = run_of.get(index, (0, 0))
        chosen_in_person = graph.format[first:last] == in_person
        near = offers & reaches[:, hers != FAR].any(axis=1) if len(reach.venues) else np.zeros(rows.size, bool)
        changeable = set(rows[near].tolist()) | set(graph.volunteer[first:last][chosen_in_person].tolist())
        if not changeable:
            continue
        mine = graph.volunteer[first:last]
        redo[first:last] = np.isin(mine, np.array(sorted(changeable), dtype=mine.dtype))
        graph_pair = {
            int(v): (int(f), int(s))
            for v, f, s in zip(mine, graph.format[first:last], graph.score[first:last], strict=True)
        }
        for row in sorted(changeable):
            volunteer = problem.volunteers[row]
            if not _other_rules(referral, volunteer, problem, w.session_minutes):
                continue
            choice = None
            if IN_PERSON in volunteer.formats:
                choice = reach.choose(referral, volunteer, hers, theirs_of.get(row))
            formats = feasible_formats(referral, volunteer, choice)
            if not formats:
                continue
            chosen = FORMATS.index(formats[0])
            before = graph_pair.get(row)
            if before is not None and before[0] == chosen and chosen != in_person:
                score = before[1]  # the same format as the graph chose, which scored it without a venue
            else:
                score = sum(r.points for r in reasons(referral, volunteer, formats[0], w, choice))
            made.append((index, row, score, chosen))
    keep = ~redo
    extra = np.array(made, dtype=np.int64).reshape(-1, 4)
    merged = replace(
        graph,
        referral=np.concatenate([graph.referral[keep], extra[:, 0].astype(np.int32)]),
        volunteer=np.concatenate([graph.volunteer[keep], extra[:, 1].astype(np.int32)]),
        score=np.concatenate([graph.score[keep], extra[:, 2].astype(np.int32)]),
        format=np.concatenate([graph.format[keep], extra[:, 3].astype(np.int8)]),
        lists=None,
    )
    # Each referral's pairs in one run again, her volunteers in index order.
    order = np.lexsort((merged.volunteer, merged.referral))
    return replace(
        merged,
        referral=merged.referral[order],
        volunteer=merged.volunteer[order],
        score=merged.score[order],
        format=merged.format[order],
    )


# Causes a venue would not cure: nobody speaks her language, or nobody offers meetings in person.
_BEFORE_VENUES = frozenset(code for _, code in funnel.STAGES[:2])


def explain(problem: MatchProblem, unmatched: tuple[Unmatched, ...]) -> tuple[Unmatched, ...]:
    """An in-person-only parent, located, with no venue within her reach: that is the cause to act on, unless
    nobody speaks her language or offers meetings in person at all."""
    reach = Reach(problem)
    by_id = {r.id: r for r in problem.referrals}
    out = []
    for entry in unmatched:
        referral = by_id[entry.referral_id]
        located = referral.lat is not None and referral.lon is not None
        before = bool(entry.causes) and entry.causes[0].code in _BEFORE_VENUES
        unreached = located and int(reach.parent_h(referral).min(initial=FAR)) == FAR
        if referral.formats == (IN_PERSON,) and unreached and not before:
            entry = Unmatched(entry.referral_id, (no_venue_cause(problem, reach, referral),))
        out.append(entry)
    return tuple(out)


def no_venue_cause(problem: MatchProblem, reach: Reach, referral: ReferralProfile) -> Cause:
    """No venue within her reach: how far she travels, the nearest venue if any, and what would help."""
    limit = parent_reach_km(problem, referral)
    params: Params = (("venues", len(reach.venues)), ("max_travel_km", float(limit)))
    if not reach.venues:
        sentence = "no venue is open for in-person sessions: adding a venue near her would help"
        return Cause(NO_VENUE_IN_REACH, params, sentence)
    nearest = reach.distances_h(referral.lat, referral.lon, None).min() / 100
    params = (*params, ("nearest_venue_km", round(float(nearest), 1)))
    sentence = (
        f"no venue is within her reach ({limit:g} km; the nearest is {nearest:.1f} km away): "
        "adding a venue near her would help"
    )
    return Cause(NO_VENUE_IN_REACH, params, sentence)
