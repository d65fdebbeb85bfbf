"""The best k volunteers for one referral, for a coordinator matching by hand."""

from matching import candidates, explain, scoring, unmatched
from matching.model import FORMATS, MatchProblem, Proposal, ReferralProfile, Unmatched, VolunteerProfile, Weights


def suggest(
    referral: ReferralProfile,
    volunteers: tuple[VolunteerProfile, ...],
    weights: Weights,
    excluded_pairs: frozenset[tuple[str, str]] = frozenset(),
    *,
    k: int = 5,
) -> tuple[Proposal, ...]:
    """Feasible volunteers ordered by score, then id, with the reasons for each."""
    problem = MatchProblem(referrals=(referral,), volunteers=volunteers, weights=weights, excluded_pairs=excluded_pairs)
    graph = candidates.build(problem)
    ranked = sorted(range(graph.size), key=lambda i: (-int(graph.score[i]), volunteers[int(graph.volunteer[i])].id))
    out = []
    for arc in ranked[:k]:
        volunteer = volunteers[int(graph.volunteer[arc])]
        fmt = FORMATS[int(graph.format[arc])]
        reasons = scoring.reasons(referral, volunteer, fmt, weights)
        score = sum(r.points for r in reasons)
        out.append(Proposal(referral.id, volunteer.id, score, scoring.fit(score, referral, weights), fmt, reasons))
    return tuple(out)


def why_none(
    referral: ReferralProfile,
    volunteers: tuple[VolunteerProfile, ...],
    weights: Weights,
    excluded_pairs: frozenset[tuple[str, str]] = frozenset(),
) -> unmatched.Explained:
    """Why no volunteer can be suggested for her: the funnel of hard rules, the volunteers who would fit but are
    not ready (every one: a coordinator asked about her alone), and the nearest changes that would match her."""
    problem = MatchProblem(referrals=(referral,), volunteers=volunteers, weights=weights, excluded_pairs=excluded_pairs)
    graph = candidates.build(problem)
    cause = explain.competition(graph.size) if graph.size else explain.funnel(problem, graph, referral)
    return unmatched.explain_unmatched(problem, (Unmatched(referral.id, (cause,)),), named=None)[0]
