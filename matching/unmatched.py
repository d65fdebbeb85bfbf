"""What a coordinator can fix for a referral left unmatched: the volunteers who would fit her but are not ready
(and why, and until when), and the nearest changes that would match her (a format she did not choose, a wider
travel distance, a volunteer back from leave or rest on a date).

Computed for the unmatched referrals only, each question as candidate graphs over all of them at once, read as
arrays (pair_counts.py), each distinct profile asked once; a run with few unmatched pays little. The wider
travel question has a module of its own (wider_travel.py)."""

from dataclasses import dataclass, replace
from datetime import date

import numpy as np
import numpy.typing as npt

from matching import explain, pair_counts, scoring, wider_travel
from matching.model import FORMATS, TRAVEL_FORMATS, Cause, MatchProblem, ReferralProfile, Unmatched, VolunteerProfile

FULL = "full"  # the reason code of a ready volunteer without a free place
WIDER_KM = wider_travel.WIDER_KM
LABELS = explain.LABELS
NAMED = 10  # the held-back volunteers named per referral: a coordinator needs a handful, the count says the rest
NEVER = np.iinfo(np.int64).max  # the day number of a volunteer with no known day back
IntArray = npt.NDArray[np.int64]


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
    """An unmatched referral with what could be done about it. `not_ready` names the first held-back
    volunteers in id order (up to the cap asked for), `not_ready_count` counts them all."""

    referral_id: str
    causes: tuple[Cause, ...]
    not_ready: tuple[NotReady, ...]
    nearest_changes: tuple[NearestChange, ...]
    not_ready_count: int = 0


@dataclass(frozen=True, slots=True)
class _HeldBack:
    """The volunteers held back who would fit one profile: the first named, how many, and the first day one is
    back with how many are back that day (the first of them by id named when alone)."""

    named: tuple[NotReady, ...]
    count: int
    back_on: date | None = None
    back: int = 0
    first_back: str | None = None


def explain_unmatched(
    problem: MatchProblem, unmatched: tuple[Unmatched, ...], *, named: int | None = NAMED
) -> tuple[Explained, ...]:
    """Every unmatched referral of the problem with the volunteers held back (the first `named` of them, None:
    all) and the nearest changes."""
    if not unmatched:
        return ()
    by_id = {r.id: r for r in problem.referrals}
    refs = tuple(by_id[u.referral_id] for u in unmatched)
    distinct, of = pair_counts.profiles(refs, problem.excluded_pairs)
    held = _held_back(problem, distinct, named)
    formats = _other_formats(problem, distinct)
    travel = wider_travel.wider_travel(problem, distinct)
    out = []
    for u, ref, k in zip(unmatched, refs, of, strict=True):
        found = held.get(k)
        changes = [*_format_changes(ref, formats.get(k, ())), *_travel_changes(ref, travel.get(k)), *_waits(ref, found)]
        changes.sort(key=lambda c: (-c.would_match, c.change, c.detail))
        not_ready = found.named if found else ()
        out.append(Explained(u.referral_id, u.causes, not_ready, tuple(changes), found.count if found else 0))
    return tuple(out)


def _held_back(problem: MatchProblem, refs: tuple[ReferralProfile, ...], named: int | None) -> dict[int, _HeldBack]:
    """Per profile (index into `refs`), the volunteers not ready or full who would otherwise fit her."""
    waiting = sorted((v for v in problem.volunteers if v.slots == 0), key=lambda v: v.id)  # index order: id order
    if not waiting:
        return {}
    as_ready = tuple(replace(v, ready=True, free_places=1, free_weekly_sessions=1) for v in waiting)
    referral, volunteer = pair_counts.pairs(replace(problem, referrals=refs, volunteers=as_ready))
    if referral.size == 0:
        return {}
    ordered = np.sort(referral * len(waiting) + volunteer)
    referral, volunteer = ordered // len(waiting), ordered % len(waiting)
    starts = np.searchsorted(referral, np.arange(len(refs) + 1))
    present = np.flatnonzero(np.diff(starts))
    begin, count = starts[present], np.diff(starts)[present]
    # The first day back among each one's volunteers, how many are back that day, and the first of them.
    back = np.array([NEVER if (day := _until(v)) is None else day.toordinal() for v in waiting], dtype=np.int64)
    days = back[volunteer]
    first = np.minimum.reduceat(days, begin)
    on_first = days == np.repeat(first, count)
    back_count = np.add.reduceat(on_first, begin)
    at_first = np.flatnonzero(on_first)
    first_back = volunteer[at_first[np.minimum(np.searchsorted(at_first, begin), at_first.size - 1)]]
    notes: dict[int, NotReady] = {}
    out = {}
    for row, k in enumerate(present.tolist()):
        shown = volunteer[begin[row] : begin[row] + (count[row] if named is None else min(named, count[row]))]
        listed = tuple(notes.setdefault(i, _not_ready(waiting[i])) for i in shown.tolist())
        if first[row] == NEVER:
            out[k] = _HeldBack(listed, int(count[row]))
            continue
        day = date.fromordinal(int(first[row]))
        out[k] = _HeldBack(listed, int(count[row]), day, int(back_count[row]), waiting[first_back[row]].first_name)
    return out


def _not_ready(volunteer: VolunteerProfile) -> NotReady:
    code = volunteer.not_ready[0] if volunteer.not_ready and not volunteer.ready else FULL
    return NotReady(volunteer.id, volunteer.first_name, code, _until(volunteer))


def _until(volunteer: VolunteerProfile) -> date | None:
    return volunteer.until if not volunteer.ready else None


def _other_formats(problem: MatchProblem, refs: tuple[ReferralProfile, ...]) -> dict[int, list[tuple[str, int]]]:
    """Per profile, each format she did not choose that would match her today, with how many volunteers. A
    format without travel is asked once for every profile alike but for her place. Pairs rejected or declined
    before count here, as they did in the plain answer (its variants had ids of their own)."""
    variants: dict[tuple[str, object], int] = {}
    asked: list[ReferralProfile] = []
    of: list[tuple[int, str, int]] = []
    for k, ref in enumerate(refs):
        placeless = None
        for fmt in FORMATS:
            if fmt in ref.formats or (fmt in TRAVEL_FORMATS and ref.lat is None):
                continue
            if fmt in TRAVEL_FORMATS:
                key: tuple[str, object] = (fmt, k)  # the profiles are distinct already
            else:
                placeless = placeless or replace(
                    ref,
                    id="",
                    waiting_days=0,
                    priority=False,
                    role="",
                    lat=None,
                    lon=None,
                    area=None,
                    max_travel_km=None,
                )
                key = (fmt, placeless)
            if key not in variants:
                variants[key] = len(asked)
                asked.append(replace(ref, formats=(fmt,)))
            of.append((k, fmt, variants[key]))
    if not asked:
        return {}
    referral, _ = pair_counts.pairs(replace(problem, referrals=tuple(asked), excluded_pairs=frozenset()))
    counts = pair_counts.per_referral(referral, len(asked))
    out: dict[int, list[tuple[str, int]]] = {}
    for k, fmt, at in of:
        if counts[at]:
            out.setdefault(k, []).append((fmt, int(counts[at])))
    return out


def _format_changes(ref: ReferralProfile, found: "list[tuple[str, int]] | tuple[()]") -> list[NearestChange]:
    who = scoring.parent(ref)
    return [
        NearestChange(
            "format",
            f"{LABELS[fmt]} would match {scoring.plural(count, 'volunteer')} now ({who} did not choose it)",
            count,
        )
        for fmt, count in found
    ]


def travel_detail(count: int, extra: int, parent: str, formats: str) -> str:
    """Whose travel would change: the volunteers' (widening the parent's own reach changes nothing here)."""
    if count == 1:
        return f"1 volunteer travelling {extra} km further would match {parent} for {formats}"
    return f"{count} volunteers travelling up to {extra} km further would match {parent} for {formats}"


def _travel_changes(ref: ReferralProfile, found: wider_travel.Shortfall | None) -> list[NearestChange]:
    if found is None:
        return []
    formats = [LABELS[f] for f in ref.formats if f in TRAVEL_FORMATS]
    detail = travel_detail(found.count, found.extra, scoring.parent(ref), explain._or(formats))
    return [NearestChange("travel", detail, found.count)]


def _waits(ref: ReferralProfile, held: _HeldBack | None) -> list[NearestChange]:
    """The first day a volunteer who would fit her is back from leave or rest, and how many are back by then."""
    if held is None or held.back_on is None:
        return []
    count, parent, day = held.back, scoring.parent(ref), held.back_on.isoformat()
    if count == 1:  # one named volunteer: the clause is an aside
        detail = f"{held.first_back or 'a volunteer'}, who would fit {parent}, is back on {day}"
    else:
        detail = f"{scoring.plural(count, 'volunteer')} who would fit {parent} are back on {day}"
    return [NearestChange("wait", detail, count)]
