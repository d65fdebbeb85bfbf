"""The best k volunteers for one referral, for a coordinator matching by hand."""

from matching import candidates, explain, scoring, unmatched, venues
from matching.model import (
    FORMATS,
    MatchProblem,
    Proposal,
    ReferralProfile,
    Unmatched,
    VenueProfile,
    VolunteerProfile,
    Weights,
)


def _problem(
    referral: ReferralProfile,
    volunteers: tuple[VolunteerProfile, ...],
    weights: Weights,
    excluded_pairs: frozenset[tuple[str, str]],
    at: tuple[VenueProfile, ...] | None,
    in_person_max_travel_km: float,
) -> MatchProblem:
    return MatchProblem(
        referrals=(referral,),
        volunteers=volunteers,
        weights=weights,
        excluded_pairs=excluded_pairs,
        venues=at,
        in_person_max_travel_km=in_person_max_travel_km,
    )


def suggest(
    referral: ReferralProfile,
    volunteers: tuple[VolunteerProfile, ...],
    weights: Weights,
    excluded_pairs: frozenset[tuple[str, str]] = frozenset(),
    *,
    k: int = 5,
    at: tuple[VenueProfile, ...] | None = None,
    in_person_max_travel_km: float = 10.0,
) -> tuple[Proposal, ...]:
    """Feasible volunteers ordered by score, then id, with the reasons for each. With venues (`at`, as a run
    has them), in person is met at a venue as a run would choose it."""
    problem = _problem(referral, volunteers, weights, excluded_pairs, at, in_person_max_travel_km)
    graph = candidates.build(problem)
    ranked = sorted(range(graph.size), key=lambda i: (-int(graph.score[i]), volunteers[int(graph.volunteer[i])].id))
    out = []
    for arc in ranked[:k]:
        volunteer = volunteers[int(graph.volunteer[arc])]
        fmt = FORMATS[int(graph.format[arc])]
        choice = venues.chosen(graph, arc)
        reasons = venues.reasons(referral, volunteer, fmt, weights, choice)
        score = sum(r.points for r in reasons)
        out.append(
            Proposal(
                referral.id,
                volunteer.id,
                score,
                scoring.fit(score, referral, weights),
                fmt,
                reasons,
                venue_id=choice.venue.id if choice is not None else None,
            )
        )
    return tuple(out)


def why_none(
    referral: ReferralProfile,
    volunteers: tuple[VolunteerProfile, ...],
    weights: Weights,
    excluded_pairs: frozenset[tuple[str, str]] = frozenset(),
    *,
    at: tuple[VenueProfile, ...] | None = None,
    in_person_max_travel_km: float = 10.0,
) -> unmatched.Explained:
    """Why no volunteer can be suggested for her: the funnel of hard rules (or the venues), the volunteers who
    would fit but are not ready (every one: a coordinator asked about her alone), and the nearest changes that
    would match her."""
    problem = _problem(referral, volunteers, weights, excluded_pairs, at, in_person_max_travel_km)
    graph = candidates.build(problem)
    cause = explain.competition(graph.size) if graph.size else explain.funnel(problem, graph, referral, 0)
    entries: tuple[Unmatched, ...] = (Unmatched(referral.id, (cause,)),)
    if venues.applies(problem):
        entries = venues.explain(problem, entries)
    return unmatched.explain_unmatched(problem, entries, named=None)[0]
