"""The plain path of matching.unmatched, kept as the reference its fast path must agree with exactly: each
question a whole candidate graph (candidates.build, scores and all) over every unmatched referral, read pair by
pair in Python."""

import math
from collections import defaultdict
from dataclasses import replace
from datetime import date

import numpy as np

from matching import candidates, constraints, scoring, unmatched
from matching.explain import LABELS, _or
from matching.model import FORMATS, TRAVEL_FORMATS, MatchProblem, ReferralProfile, Unmatched, VolunteerProfile
from matching.unmatched import FULL, WIDER_KM, Explained, NearestChange, NotReady

NO_LISTS = 2**62


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
        out.append(Explained(u.referral_id, u.causes, not_ready, tuple(changes), len(not_ready)))
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
        detail = unmatched.travel_detail(count, extra, scoring.parent(ref), _or([LABELS[f] for f in ref.formats]))
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
    detail = (
        f"{who}, who would fit {scoring.parent(ref)}, is back on {first.isoformat()}"
        if count == 1
        else f"{who} who would fit {scoring.parent(ref)} are back on {first.isoformat()}"
    )
    return [NearestChange("wait", detail, count)]
