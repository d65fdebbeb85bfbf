"""The best k volunteers for one referral, for a coordinator matching by hand."""

from matching import candidates, scoring
from matching.model import FORMATS, MatchProblem, Proposal, ReferralProfile, VolunteerProfile, Weights


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
