"""The pairs a few thousand new volunteers would make with the waiting parents, worked out directly and exactly
as `candidates.build` would, without its per-group blocks (a recruit is a new person: nobody has rejected or
declined her, so no pair is excluded).

A pair is made when some format of hers the volunteer offers lets them talk (a shared language, or an
interpreter arranged for that format) and, for a format with travel, reaches her (pair distance within the
volunteer's reach, in whole hundredths of a km, and no sea between them); she has the gender asked for, every
code marked essential, and a weekly start time in common. Everything but the place depends on a few values
each side has, so it is decided once per kind of volunteer (all but the place) against every parent, and the
distances once per place: fits are the non-zero entries of two small tables, spread over the volunteers of
each kind and place."""

from collections.abc import Callable, Hashable, Sequence
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from matching import constraints, features, grid, languages, sea, weekly
from matching.model import FORMATS, TRAVEL_FORMATS, ReferralProfile, VolunteerProfile
from matching.venue_table import ALWAYS
from matching.venues import FAR, IN_PERSON, Reach

Indices = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]
# The kinds of code a parent can mark essential: (the volunteer's attribute, the must_match prefix).
_ESSENTIAL = (("background", "background"), ("experiences", "experience"), ("specialisms", "specialism"))


def fits(
    referrals: Sequence[ReferralProfile],
    volunteers: Sequence[VolunteerProfile],
    *,
    session_minutes: int,
    excluded: frozenset[tuple[str, str]] = frozenset(),
    venues: Reach | None = None,
) -> tuple[Indices, Indices]:
    """Every (referral index, volunteer index) pair `candidates.build` would make over these people, less the
    `excluded` (referral id, volunteer id) pairs, in referral then volunteer order. With `venues` (the
    problem's, venues.Reach), in person is met at a venue within both reaches, as venues.rebuild decides."""
    if not referrals or not volunteers:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    kinds, kind_of = _numbered([_kind(v, session_minutes) for v in volunteers])
    places, place_of = _numbered([_place(v) for v in volunteers])
    # A start time in common, and one while each distinct opening hours of the venues is open: one product each.
    opening = sorted(set(venues.open) - {ALWAYS}) if venues is not None else []
    common, *while_open = _common_start(referrals, [k[-1] for k in kinds], session_minutes, opening)
    talk_here, talk_there = _talk(referrals, kinds, common)
    pairs = [_spread(talk_here, kind_of)]
    reached: Mask | None = None
    for fmt, talk in talk_there.items():
        if not talk.any():
            continue
        if fmt == IN_PERSON and venues is not None:
            # A venue open at a start time both are free: per distinct opening hours, the venues keeping them.
            for hours, at_venue in _at_a_venue(referrals, volunteers, place_of, len(places), venues):
                ref, vol = _spread(at_venue, place_of)
                keep = talk[ref, kind_of[vol]]
                if hours != ALWAYS:
                    keep &= while_open[opening.index(hours)][ref, kind_of[vol]]
                pairs.append((ref[keep], vol[keep]))
            continue
        reached = _reached(referrals, places) if reached is None else reached
        ref, vol = _spread(reached, place_of)
        keep = talk[ref, kind_of[vol]]
        pairs.append((ref[keep], vol[keep]))
    # A volunteer offering formats both with and without travel may fit both ways: one pair. A mask over the
    # dense block sorts and dedupes at once (np.unique hashes: ten times slower at 2,000 x 1,000).
    made = np.zeros(len(referrals) * len(volunteers), dtype=bool)
    for ref, vol in pairs:
        made[ref * len(volunteers) + vol] = True
    key = np.flatnonzero(made)
    if excluded:
        ref_of = {r.id: i for i, r in enumerate(referrals)}
        vol_of = {v.id: j for j, v in enumerate(volunteers)}
        gone = [ref_of[r] * len(volunteers) + vol_of[v] for r, v in excluded if r in ref_of and v in vol_of]
        key = key[~np.isin(key, np.asarray(gone, dtype=np.int64))]
    return key // len(volunteers), key % len(volunteers)


# What decides a pair except the place: ready with a place free, languages, formats offered, gender, codes and
# weekly start times.
_Kind = tuple[bool, tuple[str, ...], frozenset[str], str, frozenset[str], frozenset[str], frozenset[str], int]
_Place = tuple[float, float, int, str | None] | None
Item = TypeVar("Item", bound=Hashable)


def _kind(v: VolunteerProfile, session_minutes: int) -> _Kind:
    usable = constraints.volunteer_ready(v) and constraints.has_free_capacity(v)
    starts = weekly.starts(v.availability, v.busy, session_minutes)
    formats = frozenset(f for f in v.formats if f in FORMATS)
    return (usable, v.languages, formats, v.gender or "", v.background, v.experiences, v.specialisms, starts)


def _place(v: VolunteerProfile) -> _Place:
    if v.lat is None or v.lon is None:
        return None
    return (v.lat, v.lon, constraints.hundredths(v.max_travel_km), v.area)


def _numbered(items: list[Item]) -> tuple[list[Item], Indices]:
    """The distinct items in order of first appearance, and each item's number among them."""
    index: dict[Item, int] = {}
    numbers = np.asarray([index.setdefault(item, len(index)) for item in items], dtype=np.int64)
    return list(index), numbers


def _talk(referrals: Sequence[ReferralProfile], kinds: list[_Kind], common: Mask) -> tuple[Mask, dict[str, Mask]]:
    """Per referral and kind of volunteer, whether every rule but the place holds in a format without travel
    (the first table) and in each format with travel, the place aside (the second, by format)."""
    usable, spoken, offered, gender, background, experiences, specialisms, _starts = zip(*kinds, strict=True)
    both = np.asarray(usable, dtype=bool)[None, :] & _table(
        [r.volunteer_gender for r in referrals], gender, lambda asked, hers: asked in (None, "any") or asked == hers
    )
    both &= common
    if any(r.must_match for r in referrals):
        essential = [tuple(constraints.essential_codes(r, prefix) for _, prefix in _ESSENTIAL) for r in referrals]
        codes = list(zip(background, experiences, specialisms, strict=True))
        both &= _table(essential, codes, lambda needed, has: all(n <= h for n, h in zip(needed, has, strict=True)))
    shared = _table(
        [constraints.wanted_languages(r) for r in referrals],
        spoken,
        lambda wanted, theirs: any(languages.compatible(a, b) for a in wanted for b in theirs),
    )
    here = np.zeros_like(both)
    there = {fmt: np.zeros_like(both) for fmt in sorted(TRAVEL_FORMATS)}
    for fmt in FORMATS:
        offers = np.asarray([fmt in o for o in offered], dtype=bool)
        if not offers.any():
            continue
        hers = np.asarray([fmt in r.formats for r in referrals], dtype=bool)
        bridged = np.asarray([fmt in constraints.interpreter_formats(r) for r in referrals], dtype=bool)
        met = (shared | bridged[:, None]) & (hers[:, None] & offers[None, :])
        out = there[fmt] if fmt in TRAVEL_FORMATS else here
        out |= met
    return here & both, {fmt: table & both for fmt, table in there.items()}


Mine = TypeVar("Mine", bound=Hashable)
Theirs = TypeVar("Theirs", bound=Hashable)


def _table(mine: Sequence[Mine], theirs: Sequence[Theirs], rule: Callable[[Mine, Theirs], bool]) -> Mask:
    """rule(m, t) for every item of `mine` (rows) and of `theirs` (columns), asked once per distinct pair: the
    parents and the recruits share a handful of values each."""
    rows, row_of = _numbered(list(mine))
    columns, column_of = _numbered(list(theirs))
    table = np.array([[rule(m, t) for t in columns] for m in rows], dtype=bool).reshape(len(rows), len(columns))
    picked: Mask = table[row_of][:, column_of]
    return picked


def _common_start(
    referrals: Sequence[ReferralProfile], starts: Sequence[int], session_minutes: int, opening: Sequence[int] = ()
) -> list[Mask]:
    """Per referral and kind, a weekly start time in common, then one such table per opening hours (a start mask)
    for a start within them: over the distinct start masks of both sides and the opening hours as atoms
    (features.py), one product each, as candidates.build does."""
    mine, row_of = _numbered([weekly.starts(r.availability, (), session_minutes) for r in referrals])
    theirs, column_of = _numbered(list(starts))
    counted, present = features.atoms(mine + theirs + list(opening), weekly.WEEK_BITS)
    rows, columns = counted[: len(mine)], present[len(mine) : len(mine) + len(theirs)].T
    out = []
    for within in [None, *present[len(mine) + len(theirs) :]]:
        table = ((rows if within is None else rows * within) @ columns) > 0
        picked: Mask = table[row_of][:, column_of]
        out.append(picked)
    return out


def _spread(table: Mask, group_of: Indices) -> tuple[Indices, Indices]:
    """The true entries of a referral x group table as (referral, volunteer) pairs, one per volunteer of the
    group."""
    ref, group = np.nonzero(table)
    order = np.argsort(group_of, kind="stable")
    counts = np.bincount(group_of, minlength=int(group_of.max()) + 1)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    per_pair = counts[group]
    total = int(per_pair.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    # The k-th volunteer of a pair's group sits at first[group] + k in `order`.
    starts = np.repeat(first[group] - np.concatenate([[0], np.cumsum(per_pair)[:-1]]), per_pair)
    at = starts + np.arange(total)
    return np.repeat(ref, per_pair).astype(np.int64), order[at].astype(np.int64)


def _reached(referrals: Sequence[ReferralProfile], places: list[_Place]) -> Mask:
    """Per referral and place, whether a volunteer there reaches her: the distance as candidates.build measures
    it (grid.pair_km_hundredths) within the reach, and both on the same land (sea.py)."""
    unit = grid.unit_vectors(grid.radians([r.lat for r in referrals]), grid.radians([r.lon for r in referrals]))
    lat = grid.radians([p[0] if p is not None else None for p in places])
    lon = grid.radians([p[1] if p is not None else None for p in places])
    theirs = grid.unit_vectors(lat, lon)
    max_h = np.asarray([p[2] if p is not None else -1 for p in places], dtype=np.int64)  # -1: nowhere
    within_h = grid.reach_h(np.maximum(max_h, 0))
    # A product of the unit vectors finds the pairs that may be near (sin² of half the angle is (1 - cos) / 2,
    # off by far less than the margin); only they are measured exactly, as candidates.build measures them.
    cos = np.nan_to_num(np.column_stack(unit), nan=0.0) @ np.nan_to_num(np.column_stack(theirs), nan=0.0).T
    first, second = np.nonzero((1 - cos) / 2 <= within_h[None, :] * 1.01 + 1e-12)
    km_h = grid.pair_km_hundredths(unit, theirs, first, second, within_h)
    within = np.zeros((len(referrals), len(places)), dtype=bool)
    within[first, second] = km_h <= max_h[second]
    hers = np.asarray([sea.group_number(r.area) for r in referrals], dtype=np.int8)[:, None]
    island = np.asarray([sea.group_number(p[3]) if p is not None else -1 for p in places], dtype=np.int8)[None, :]
    reached: Mask = within & ((hers == island) | (hers < 0) | (island < 0))
    return reached


def _at_a_venue(
    referrals: Sequence[ReferralProfile],
    volunteers: Sequence[VolunteerProfile],
    place_of: Indices,
    n_places: int,
    venues: Reach,
) -> list[tuple[int, Mask]]:
    """Per distinct opening hours of the venues (their start mask), per referral and place, whether some venue
    keeping those hours lies within her reach and the volunteer's (venues.Reach's own distances, so the rule is
    the one venues.py applies)."""
    if not venues.venues:
        return []
    hers = venues.parents_h(referrals) != FAR
    first = np.zeros(n_places, dtype=np.int64)
    first[place_of[::-1]] = np.arange(len(volunteers) - 1, -1, -1)  # the first volunteer at each place
    theirs = venues.volunteers_h([volunteers[int(j)] for j in first]) != FAR
    out = []
    for hours in sorted(set(venues.open)):
        keeping = np.asarray([mask == hours for mask in venues.open], dtype=bool)
        shared: Mask = (hers[:, keeping].astype(np.float32) @ theirs[:, keeping].astype(np.float32).T) > 0
        out.append((hours, shared))
    return out
