"""Why a referral was left without a volunteer: the funnel of hard rules with counts, or competition."""

import math
from collections.abc import Callable, Mapping

import numpy as np

from matching import languages, weekly
from matching.candidates import CandidateGraph, VolunteerTable, _CodeBits, _km_hundredths, _popcount, _words, _words_for
from matching.model import FORMATS, TRAVEL_FORMATS, MatchProblem, ReferralProfile, Unmatched


def unmatched(problem: MatchProblem, graph: CandidateGraph, matched_ids: set[str]) -> tuple[Unmatched, ...]:
    """One entry per referral left out, each with the sentence a coordinator acts on."""
    with_candidates = set(int(r) for r in np.unique(graph.referral))
    out = []
    for index, referral in enumerate(problem.referrals):
        if referral.id in matched_ids:
            continue
        if index in with_candidates:
            count = int(np.count_nonzero(graph.referral == index))
            out.append(Unmatched(referral.id, (f"every suitable volunteer ({count}) was needed for someone else",)))
        else:
            out.append(Unmatched(referral.id, (funnel(problem, graph, referral),)))
    return tuple(out)


def _label(fmt: str) -> str:
    return {"home_visit": "home visits", "in_person": "meetings at a venue"}.get(fmt, fmt)


def funnel(problem: MatchProblem, graph: CandidateGraph, referral: ReferralProfile) -> str:
    """`7 volunteers speak Polish → 3 offer home visits → 0 within 15 km`: each rule in turn, stopping at 0."""
    table, codes = graph.table, graph.codes
    assert table is not None and codes is not None
    wanted = referral.languages[:1] if "language" in referral.must_match else referral.languages
    names = " or ".join(languages.name(tag) for tag in wanted)
    pool = table.speakers(tuple(wanted))
    steps = [f"{pool.size} available volunteers speak {names}"]
    bits = sum(1 << FORMATS.index(f) for f in referral.formats)
    stages: list[tuple[Callable[[np.ndarray], np.ndarray], str]] = [(lambda p: (table.formats[p] & bits) != 0,
               f"offer {' or '.join(_label(f) for f in referral.formats)}")]
    if all(f in TRAVEL_FORMATS for f in referral.formats):
        stages.append((lambda p: _reachable(referral, table, p), "have her within their travel distance"))
    stages.append((lambda p: _essentials(referral, table, codes, p), "match what she marked essential"))
    her_starts = _words(weekly.starts(referral.availability, (), problem.weights.session_minutes))
    stages.append((lambda p: _popcount(table.starts[p] & her_starts) > 0, "share a free weekly hour with her"))
    for keep, text in stages:
        if pool.size == 0:
            break
        pool = pool[keep(pool)]
        steps.append(f"{pool.size} {text}")
    if pool.size:
        steps.append("0 not rejected or declined before")
    return " → ".join(steps)


def _reachable(referral: ReferralProfile, table: VolunteerTable, pool: np.ndarray) -> np.ndarray:
    if referral.lat is None or referral.lon is None:
        return np.zeros(pool.shape, dtype=bool)
    km_h = _km_hundredths(math.radians(referral.lat), math.radians(referral.lon),
                          table.lat[pool], table.lon[pool])
    reachable: np.ndarray = km_h <= table.max_h[pool]
    return reachable


def _essentials(referral: ReferralProfile, table: VolunteerTable, codes: Mapping[str, _CodeBits],
                pool: np.ndarray) -> np.ndarray:
    keep = np.ones(pool.shape, dtype=bool)
    if referral.volunteer_gender not in (None, "any"):
        keep &= table.gender[pool] == referral.volunteer_gender
    for kind, prefix in (("background", "background:"), ("experiences", "experience:")):
        needed = frozenset(m.split(":", 1)[1] for m in referral.must_match if m.startswith(prefix))
        if needed:
            mask = _words_for(codes[kind].bits(needed), table.width[kind])
            keep &= np.all((table.codes[kind][pool] & mask) == mask, axis=1)
    return keep
