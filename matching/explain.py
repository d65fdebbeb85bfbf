"""Why a referral was left without a volunteer: the funnel of hard rules with counts, or competition.

Only the unmatched are explained, each against the volunteer table the candidate graph already built, so the
cost is one vectorised pass over her language block per unmatched referral."""

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from matching import languages, weekly
from matching.candidates import (
    CandidateGraph,
    VolunteerTable,
    code_words,
    km_hundredths,
    popcount,
    week_words,
)
from matching.model import FORMATS, TRAVEL_FORMATS, MatchProblem, ReferralProfile, Unmatched

Positions = npt.NDArray[np.int64]
Keep = npt.NDArray[np.bool_]
LABELS = {
    "home_visit": "home visits",
    "in_person": "meetings at a venue",
    "telephone": "telephone",
    "video": "video",
}


def unmatched(problem: MatchProblem, graph: CandidateGraph, matched_ids: set[str]) -> tuple[Unmatched, ...]:
    """One entry per referral left out, each with the sentence a coordinator acts on."""
    degree = np.bincount(graph.referral, minlength=len(problem.referrals))
    out = []
    for index, referral in enumerate(problem.referrals):
        if referral.id in matched_ids:
            continue
        if degree[index]:
            sentence = f"every suitable volunteer ({int(degree[index])}) was needed for someone else"
        else:
            sentence = funnel(problem, graph, referral)
        out.append(Unmatched(referral.id, (sentence,)))
    return tuple(out)


def _or(items: list[str]) -> str:
    return " or ".join(items)


def funnel(problem: MatchProblem, graph: CandidateGraph, referral: ReferralProfile) -> str:
    """`7 available volunteers speak Polish → 3 offer home visits → 0 can reach her for home visits (...)`:
    each hard rule in turn over the ready volunteers with a free place, stopping where none is left."""
    table = graph.table
    assert table is not None, "a graph built by candidates.build carries its volunteer table"
    wanted = referral.languages[:1] if "language" in referral.must_match else referral.languages
    pool: Positions = table.speakers(tuple(wanted)) if wanted else np.zeros(0, dtype=np.int64)
    names = _or([languages.name(tag) for tag in wanted]) or "her language"
    steps = [f"{pool.size} available volunteers speak {names}"]
    bits = sum(1 << FORMATS.index(f) for f in referral.formats if f in FORMATS)
    # Each stage: which of the pool it keeps, and its sentence given (kept, pool before the stage).
    stages: list[tuple[Callable[[Positions], Keep], Callable[[Positions, Positions], str]]] = [
        (
            lambda p: (table.formats[p] & bits) != 0,
            lambda kept, _: f"{kept.size} offer {_or([LABELS.get(f, f) for f in referral.formats])}",
        )
    ]
    if any(f in TRAVEL_FORMATS for f in referral.formats):
        stages.append(
            (
                lambda p: _reachable(referral, table, p),
                lambda kept, before: _reach_text(referral, table, kept, before),
            )
        )
    stages.append(
        (
            lambda p: _essentials(referral, graph, p),
            lambda kept, _: f"{kept.size} match what she marked essential",
        )
    )
    her_starts = week_words(weekly.starts(referral.availability, (), problem.weights.session_minutes))
    stages.append(
        (
            lambda p: popcount(table.starts[p] & her_starts) > 0,
            lambda kept, _: f"{kept.size} share a free weekly hour with her",
        )
    )
    for keep, text in stages:
        if pool.size == 0:
            break
        before, pool = pool, pool[keep(pool)]
        steps.append(text(pool, before))
    if pool.size:
        steps.append("0 not rejected or declined before")
    return " → ".join(steps)


def _distances(referral: ReferralProfile, table: VolunteerTable, pool: Positions) -> Positions:
    assert referral.lat is not None and referral.lon is not None
    return km_hundredths(
        math.radians(referral.lat), math.radians(referral.lon), table.lat[pool], table.lon[pool]
    )


def _reachable(referral: ReferralProfile, table: VolunteerTable, pool: Positions) -> Keep:
    """A format she accepts that the volunteer offers and, if it needs travel, can reach her for."""
    keep = np.zeros(pool.shape, dtype=bool)
    located = referral.lat is not None and referral.lon is not None
    near = _distances(referral, table, pool) <= table.max_h[pool] if located else keep
    for fmt in referral.formats:
        if fmt in FORMATS:
            offered = (table.formats[pool] & (1 << FORMATS.index(fmt))) != 0
            keep |= offered & (near if fmt in TRAVEL_FORMATS else True)
    return keep


def _reach_text(referral: ReferralProfile, table: VolunteerTable, kept: Positions, before: Positions) -> str:
    """The count that can reach her; when none can, why (no location, or the nearest one's distance)."""
    travel = _or([LABELS[f] for f in referral.formats if f in TRAVEL_FORMATS])
    if kept.size:
        return f"{kept.size} can reach her"
    if referral.lat is None or referral.lon is None:
        return f"0 can reach her: her location is unknown, so no {travel}"
    offering = before[
        (table.formats[before] & sum(1 << FORMATS.index(f) for f in TRAVEL_FORMATS if f in referral.formats))
        != 0
    ]
    distances = _distances(referral, table, offering)
    if offering.size == 0 or distances.min() == np.iinfo(np.int64).max:
        return f"0 can reach her for {travel}"
    nearest = int(np.argmin(distances))
    limit = table.max_h[offering[nearest]] / 100
    return (
        f"0 can reach her for {travel} (the nearest is {distances[nearest] / 100:.1f} km away "
        f"and travels up to {limit:g} km)"
    )


def _essentials(referral: ReferralProfile, graph: CandidateGraph, pool: Positions) -> Keep:
    table, codes = graph.table, graph.codes
    assert table is not None and codes is not None
    keep = np.ones(pool.shape, dtype=bool)
    if referral.volunteer_gender not in (None, "any"):
        keep &= table.gender[pool] == referral.volunteer_gender
    for kind, prefix in (("background", "background:"), ("experiences", "experience:")):
        needed = frozenset(m.split(":", 1)[1] for m in referral.must_match if m.startswith(prefix))
        if needed:
            mask = code_words(codes[kind].bits(needed), table.width[kind])
            keep &= np.all((table.codes[kind][pool] & mask) == mask, axis=1)
    return keep
