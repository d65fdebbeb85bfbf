"""What a coordinator can fix for a referral left unmatched: the volunteers who would fit her but are not ready
(and why, and until when), and the nearest changes that would match her (a format she did not choose, a wider
travel distance, a volunteer back from leave or rest on a date).

Computed for the unmatched referrals only, each question as one candidate graph over all of them at once
(candidates.build, vectorised), so a run with few unmatched pays little."""

import math
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date

import numpy as np

from matching import candidates, constraints, explain, scoring
from matching.model import FORMATS, TRAVEL_FORMATS, Cause, MatchProblem, ReferralProfile, Unmatched, VolunteerProfile

FULL = "full"  # the reason code of a ready volunteer without a free place
WIDER_KM = 50.0  # how much further than her reach a volunteer is asked about
LABELS = explain.LABELS
NO_LISTS = 2**62  # these graphs are never solved: no seed lists


@dataclass(frozen=True, slots=True)
class NotReady:
    """A volunteer who would fit her but is not ready: the first of her readiness codes, and when she is back
    if that is known."""

    volunteer_id: str
    first_name: str | None
    reason_code: str
    until: date | None = None


@dataclass(frozen=True, slots=True)
class NearestChange:
    """A change that would match her: `change` is format, travel or wait; `would_match` how many volunteers
    would then fit her."""

    change: str
    detail: str
    would_match: int


@dataclass(frozen=True, slots=True)
class Explained:
    """An unmatched referral with what could be done about it."""

    referral_id: str
    causes: tuple[Cause, ...]
    not_ready: tuple[NotReady, ...]
    nearest_changes: tuple[NearestChange, ...]


def explain_unmatched(problem: MatchProblem, unmatched: tuple[Unmatched, ...]) -> tuple[Explained, ...]:
    """Every unmatched referral of the problem with the volunteers held back and the nearest changes."""
    if not unmatched:
        return ()
    by_id = {r.id: r for r in problem.referrals}
    refs = tuple(by_id[u.referral_id] for u in unmatched)
    held = _held_back(problem, refs)
    formats = _other_formats(problem, refs)
    travel = _wider_travel(problem, refs)
    out = []
    for u, ref in zip(unmatched, refs, strict=True):
        not_ready = held.get(ref.id, ())
        changes = [*formats.get(ref.id, ()), *travel.get(ref.id, ()), *_waits(ref, not_ready)]
        changes.sort(key=lambda c: (-c.would_match, c.change, c.detail))
        out.append(Explained(u.referral_id, u.causes, not_ready, tuple(changes)))
    return tuple(out)


def _pairs(problem: MatchProblem) -> dict[str, list[tuple[int, str]]]:
    """Per referral id, its candidate pairs as (volunteer index, format)."""
    graph = candidates.build(problem, lists_above=NO_LISTS)
    found: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for r, v, f in zip(graph.referral.tolist(), graph.volunteer.tolist(), graph.format.tolist(), strict=True):
        found[problem.referrals[r].id].append((v, FORMATS[f]))
    return found


def _held_back(problem: MatchProblem, refs: tuple[ReferralProfile, ...]) -> dict[str, tuple[NotReady, ...]]:
    """The volunteers not ready or full who would otherwise fit each referral, by id."""
    waiting = [v for v in problem.volunteers if v.slots == 0]
    if not waiting:
        return {}
    as_ready = tuple(replace(v, ready=True, free_places=1, free_weekly_sessions=1) for v in waiting)
    found = _pairs(replace(problem, referrals=refs, volunteers=as_ready))
    out = {}
    for rid, pairs in found.items():
        vols = sorted({waiting[v].id: waiting[v] for v, _ in pairs}.values(), key=lambda v: v.id)
        out[rid] = tuple(
            NotReady(v.id, v.first_name, v.not_ready[0] if v.not_ready and not v.ready else FULL, _until(v))
            for v in vols
        )
    return out


def _until(volunteer: VolunteerProfile) -> date | None:
    return volunteer.until if not volunteer.ready else None


def _other_formats(problem: MatchProblem, refs: tuple[ReferralProfile, ...]) -> dict[str, list[NearestChange]]:
    """Per referral, each format she did not choose that would match her today, with how many volunteers."""
    variants: list[ReferralProfile] = []
    of: list[tuple[ReferralProfile, str]] = []
    for ref in refs:
        for fmt in FORMATS:
            if fmt in ref.formats or (fmt in TRAVEL_FORMATS and ref.lat is None):
                continue
            variants.append(replace(ref, id=f"{len(variants)}", formats=(fmt,)))
            of.append((ref, fmt))
    if not variants:
        return {}
    found = _pairs(replace(problem, referrals=tuple(variants)))
    out: dict[str, list[NearestChange]] = defaultdict(list)
    for variant, (ref, fmt) in zip(variants, of, strict=True):
        count = len({v for v, _ in found.get(variant.id, ())})
        if count:
            who = scoring.parent(ref)
            detail = f"{LABELS[fmt]} would match {scoring.plural(count, 'volunteer')} now ({who} did not choose it)"
            out[ref.id].append(NearestChange("format", detail, count))
    return out


def _wider_travel(problem: MatchProblem, refs: tuple[ReferralProfile, ...]) -> dict[str, list[NearestChange]]:
    """Per referral taking a format with travel, the fewest km more reach that would match her, and how many
    volunteers that reach would bring (never across the sea: a longer reach does not cross it)."""
    travelling = tuple(
        replace(r, formats=tuple(f for f in r.formats if f in TRAVEL_FORMATS))
        for r in refs
        if r.lat is not None and any(f in TRAVEL_FORMATS for f in r.formats)
    )
    if not travelling:
        return {}
    wider = tuple(
        replace(v, max_travel_km=v.max_travel_km + WIDER_KM)
        for v in problem.volunteers
        if any(f in TRAVEL_FORMATS for f in v.formats) and v.lat is not None
    )
    if not wider:
        return {}
    found = _pairs(replace(problem, referrals=travelling, volunteers=wider))
    out: dict[str, list[NearestChange]] = {}
    for ref in travelling:
        short = []
        for v, _ in found.get(ref.id, ()):
            km = constraints.pair_distance_km(ref, wider[v])
            assert km is not None
            beyond = km - (wider[v].max_travel_km - WIDER_KM)
            if beyond > 0:  # only those out of reach today: a wider reach changes nothing for the others
                short.append(beyond)
        if not short:
            continue
        extra = max(1, math.ceil(min(short)))
        count = int((np.array(short) <= extra).sum())
        detail = (
            f"a travel distance {extra} km wider would match {scoring.plural(count, 'volunteer')} "
            f"for {explain._or([LABELS[f] for f in ref.formats])}"
        )
        out[ref.id] = [NearestChange("travel", detail, count)]
    return out


def _waits(ref: ReferralProfile, not_ready: tuple[NotReady, ...]) -> list[NearestChange]:
    """The first day a volunteer who would fit her is back from leave or rest, and how many are back by then."""
    dates = sorted(n.until for n in not_ready if n.until is not None)
    if not dates:
        return []
    first = dates[0]
    back = [n for n in not_ready if n.until is not None and n.until <= first]
    count = len(back)
    who = (back[0].first_name or "a volunteer") if count == 1 else scoring.plural(count, "volunteer")
    detail = f"{who} who would fit {scoring.parent(ref)} {'is' if count == 1 else 'are'} back on {first.isoformat()}"
    return [NearestChange("wait", detail, count)]
