"""The candidate graph: every pair that keeps every hard rule, with its score, built without enumerating all
pairs. Referrals are grouped by what decides their pool of volunteers (languages, formats, asked-for gender,
and for formats with travel the grid cell), and each group's block of pairs is checked and scored at once:
common weekly hours and shared codes as matrix products (features.py), the rest with numpy. The volunteers'
side is the volunteer table (table.py). With venues in the problem, in person is met at a venue both reach
(venue_table.py, decision 0014), found in the same block work."""

import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import numpy.typing as npt
from threadpoolctl import ThreadpoolController

from matching import constraints, grid, scoring, seed
from matching.bits import CodeBits
from matching.model import FORMATS, TRAVEL_FORMATS, MatchProblem, ReferralProfile, Weights
from matching.pages import small_pages
from matching.referrals import ReferralSide
from matching.table import VolunteerTable, code_numbering
from matching.venue_table import VenueIndex, VenueTable

IntArray = npt.NDArray[np.int64]
Indices = npt.NDArray[np.intp]
Mask = npt.NDArray[np.bool_]
# The graph's columns are 32-bit (8-bit for the format): at 10 M pairs that halves the biggest allocation.
Int32Array = npt.NDArray[np.int32]
Item = TypeVar("Item")
Done = TypeVar("Done")
IN_PERSON = "in_person"


@dataclass(frozen=True)
class CandidateGraph:
    """Parallel arrays, one entry per candidate pair; indices point into the problem's tuples."""

    referral: Int32Array
    volunteer: Int32Array
    score: Int32Array
    format: npt.NDArray[np.int8]  # index into model.FORMATS
    table: VolunteerTable | None = None
    codes: dict[str, CodeBits] | None = None
    lists: seed.Lists | None = None  # the first part of the seeded solve, made only when it will run
    # With venues in the problem: where an in-person pair meets (index into `venues.venues`), else -1.
    venue: VenueIndex | None = None
    venues: VenueTable | None = None

    @property
    def size(self) -> int:
        """The number of candidate pairs."""
        return int(self.referral.shape[0])


def build(problem: MatchProblem, *, lists_above: int = seed.SEEDED_ABOVE, pairs_only: bool = False) -> CandidateGraph:
    """Every pair that keeps every hard rule, scored. Each referral's pairs are one consecutive run (runs in
    no particular order), her volunteers in index order. With more than `lists_above` pairs the graph also
    carries the seeded solve's lists (seed.py), made block by block. `pairs_only`: the pairs, for questions
    that only count them (unmatched.py): no scores (all 0) and `format` the first of her formats that works in
    some order of them, in fewer, larger blocks (referrals alike but for the order of their formats together)."""
    with small_pages():
        return _build(problem, lists_above, pairs_only)


def _build(problem: MatchProblem, lists_above: int, pairs_only: bool = False) -> CandidateGraph:
    w = problem.weights
    codes = code_numbering()
    table = VolunteerTable(problem.volunteers, w, codes, problem.referrals)
    side = ReferralSide(problem, table, codes, any_order=pairs_only)
    venues = VenueTable(problem, table) if problem.venues is not None else None
    # The blocks' matrix products are small: BLAS threads cost more than they save, and a match run inside
    # the service should leave the other core to requests.
    with _blas().limit(limits=1, user_api="blas"), ThreadPoolExecutor(2) as pool:
        items = list(side.groups.items())
        found = _on_two_threads(
            items,
            lambda item: _work(item[1], side, table),
            lambda item: _block(item[0], item[1], side, table, w, venues, pairs_only),
            pool,
        )
        if not found:
            empty = np.zeros(0, dtype=np.int32)
            none = np.zeros(0, dtype=np.int16) if venues is not None else None
            return CandidateGraph(empty, empty, empty, np.zeros(0, dtype=np.int8), table, codes, None, none, venues)
        # The seed lists are made per block, before the join, where each block's pairs are at hand.
        pairs = sum(block.size() for block in found)
        lists_of = _on_two_threads(found, _Block.size, _block_lists, pool) if pairs > lists_above else []
        # Each referral is in one block, her pairs consecutive there: the graph keeps them in runs, block by
        # block. The columns are joined side by side: most of the time goes to the kernel giving fresh pages.
        names = (*_COLUMNS, "venue") if venues is not None else _COLUMNS
        columns = [[getattr(block, name) for block in found] for name in names]
        columns += [[made[0] for made in lists_of], [made[1] for made in lists_of]] if lists_of else []
        joined = list(pool.map(np.concatenate, columns))
    referral, volunteer, score, fmt = joined[:4]
    venue = joined[4] if venues is not None else None
    lists = None
    if lists_of:
        top = scoring.most_points(w)
        made = joined[len(names) :]
        lists = seed.Lists(made[0], made[1], seed.histogram(volunteer, score, len(problem.volunteers), top))
    return CandidateGraph(referral, volunteer, score, fmt, table, codes, lists, venue, venues)


_COLUMNS = ("referral", "volunteer", "score", "format")


@functools.cache
def _blas() -> ThreadpoolController:
    """The BLAS numpy loaded, found once: finding it reads every library the process has loaded, about 7 ms,
    and a small match run builds seven graphs (its explanations included)."""
    return ThreadpoolController()


def _block_lists(block: "_Block") -> tuple[Mask, npt.NDArray[np.uint16]]:
    rows = np.repeat(np.arange(block.counts.size, dtype=np.intp), block.counts)
    return seed.for_block(rows, block.counts.size, block.referral, block.volunteer, block.score)


def _on_two_threads(
    items: list[Item], size: Callable[[Item], int], work: Callable[[Item], Done | None], pool: ThreadPoolExecutor
) -> list[Done]:
    """Every item's work that is not None, in the items' order, on two threads: one takes the largest items
    first, the calling thread the smallest. numpy lets go of the interpreter inside each operation, so large
    items overlap; small ones are mostly the interpreter's own work. Handed out in any order, both threads
    traded the interpreter at every numpy call (1.9 s of CPU for 1.1 s of work at 20k x 10k)."""
    order = sorted(range(len(items)), key=lambda i: -size(items[i]))
    done: list[Done | None] = [None] * len(items)
    ends = [0, len(order) - 1]  # the next largest and the next smallest not yet taken
    lock = threading.Lock()

    def take(largest: bool) -> None:
        while True:
            with lock:
                if ends[0] > ends[1]:
                    return
                at = order[ends[0] if largest else ends[1]]
                ends[0 if largest else 1] += 1 if largest else -1
            done[at] = work(items[at])

    large = pool.submit(take, True)
    take(False)
    large.result()
    return [item for item in done if item is not None]


def _work(members: list[int], side: ReferralSide, table: VolunteerTable) -> int:
    """Roughly how many pairs a group's block holds: her language's speakers, all of them if she takes a
    format without travel, a few cells' worth if not."""
    ref = side.refs[members[0]]
    speakers = table.speakers(constraints.wanted_languages(ref)).size
    remote = any(f not in TRAVEL_FORMATS for f in ref.formats)
    return len(members) * (speakers if remote else speakers // 16 + 1)


@dataclass(frozen=True)
class _Block:
    referral: Int32Array
    volunteer: Int32Array
    score: Int32Array
    format: npt.NDArray[np.int8]
    counts: IntArray  # pairs per member of the group, whose pairs come in the members' order
    venue: VenueIndex | None  # with venues in the problem only

    def size(self) -> int:
        """The block's number of pairs."""
        return int(self.referral.size)


@dataclass(frozen=True)
class _Pairs:
    """A block's pairs that keep the rules checked so far, in row-major order of the dense block."""

    flat: Indices  # index into the dense block (group x pool)
    rows: Indices  # the referral's row in the group
    cols: Indices  # the volunteer's column in the pool
    positions: IntArray  # the volunteer's position in the table


@dataclass(frozen=True)
class _Trip:
    """The block's pairs that can meet in one format with travel (indices into its pairs), the distance that
    scores and the reach it is scored against (hundredths of a km), and at a venue, which one."""

    pairs: Indices
    km_h: IntArray
    reach_h: IntArray
    venue: VenueIndex | None = None


# Where the volunteers near enough for each format with travel are (a mask over the table), None: nobody is.
Near = dict[str, Mask | None]


def _block(
    key: tuple[object, ...],
    members: list[int],
    side: ReferralSide,
    table: VolunteerTable,
    w: Weights,
    venues: VenueTable | None,
    pairs_only: bool = False,
) -> _Block | None:
    """The pairs of one group of referrals: pool by language, format, gender and cell (or shared venues), then
    every other rule and the score over the group's block at once. What depends on the referral alone or the
    volunteer alone (and the products of both) is worked out over the dense block, then read off once per pair."""
    ref = side.refs[members[0]]
    cell = key[4]
    group = np.array(members, dtype=np.int64)
    near_cell = _near(cell, table) if cell is not None else None  # type: ignore[arg-type]
    near: Near = {fmt: near_cell for fmt in TRAVEL_FORMATS}
    at: npt.NDArray[np.intp] | None = None
    if venues is not None and IN_PERSON in ref.formats:
        # A pair sharing a venue can be both reaches apart, past the cells around hers: her venues decide.
        at, near[IN_PERSON] = venues.near(group)
    pool = _pool(ref, key[3], near, table)
    if pool.size == 0:
        return None
    common = side.hours[group] @ table.hours[pool].T
    pairs = _pairs(_common_hour_and_essentials(common, members, pool, side, table), group, pool, side, table)
    if pairs is None:
        return None
    by_pair = [f for f in ref.formats if f in TRAVEL_FORMATS and (f != IN_PERSON or at is None)]
    trips = _travel(by_pair, near_cell, group, pool, pairs, side, table)
    if at is not None and venues is not None:
        trips[IN_PERSON] = _at_venues(near[IN_PERSON], at, group, pool, pairs, side, table, venues)
    rank = _format_rank(ref, pool, pairs, trips, table)
    ok = np.flatnonzero(rank < len(ref.formats))
    if ok.size == 0:
        return None
    if pairs_only:
        score = np.zeros(rank.shape, dtype=np.int32)
    else:
        score = _pair_scores(ref, _block_points(ref, group, pool, common, side, table, w), pairs, rank, trips, w)
    chosen = np.array([FORMATS.index(f) for f in ref.formats] + [-1], dtype=np.int8)[rank]
    venue = _venues_chosen(ref, rank, trips) if venues is not None else None
    rows, positions = pairs.rows, pairs.positions
    if ok.size < rows.size:
        rows, positions, score, chosen = rows[ok], positions[ok], score[ok], chosen[ok]
        venue = venue[ok] if venue is not None else None
    referral = group[rows].astype(np.int32)
    volunteer = table.rows[positions].astype(np.int32)
    return _Block(referral, volunteer, score, chosen, np.bincount(rows, minlength=len(members)), venue)


def _near(cell: tuple[int, int], table: VolunteerTable) -> Mask:
    """The volunteers in her cell or the eight around it: only they can be within reach (cells are wider
    than any reach)."""
    near = np.zeros(table.rows.shape, dtype=bool)
    near[table.grid.near(cell)] = True
    return near


def _pool(ref: ReferralProfile, gender: object, near: Near, table: VolunteerTable) -> IntArray:
    """Positions of the volunteers speaking a language she wants, of the gender she asked for, offering a
    format of hers without travel or, when near enough for it, one with travel; with an interpreter, also those
    sharing no language who offer a format where one can be arranged."""
    wanted = constraints.wanted_languages(ref)
    bridged = constraints.interpreter_formats(ref)
    if not wanted and not bridged:
        return np.zeros(0, dtype=np.int64)
    reach = _offering(ref.formats, near, table)
    reach &= table.speaker_mask(wanted)
    if bridged:
        reach |= _offering(tuple(f for f in ref.formats if f in bridged), near, table)
    if gender is not None:
        reach &= table.gender == gender
    return np.flatnonzero(reach)


def _offering(formats: tuple[str, ...], near: Near, table: VolunteerTable) -> Mask:
    """The volunteers offering one of these formats without travel or, when near enough for it, one with
    travel."""
    reach = np.zeros(table.rows.shape, dtype=bool)
    for fmt in formats:
        if fmt not in TRAVEL_FORMATS:
            reach |= table.offers[fmt]
        elif (close := near[fmt]) is not None:
            reach |= close & table.offers[fmt]
    return reach


def _common_hour_and_essentials(
    common: npt.NDArray[np.float32], members: list[int], pool: IntArray, side: ReferralSide, table: VolunteerTable
) -> Mask:
    """Over the dense block: a start time in common and every code she marked essential."""
    keep = common > 0
    for row, index in enumerate(members):
        for needed in side.essentials.get(index, ()):
            keep[row] &= table.codes_present[pool] @ needed >= needed.sum()
    return keep


def _pairs(keep: Mask, group: IntArray, pool: IntArray, side: ReferralSide, table: VolunteerTable) -> _Pairs | None:
    """The kept entries of the dense block as pairs, less those rejected or declined before."""
    flat = np.flatnonzero(keep)  # far quicker than a 2-D nonzero; row-major order all the same
    if flat.size == 0:
        return None
    counts = keep.sum(axis=1)
    rows = np.repeat(np.arange(group.size, dtype=np.intp), counts)  # quicker than dividing `flat`
    cols = flat - np.repeat(np.arange(group.size, dtype=np.intp) * pool.size, counts)
    positions = pool[cols]
    if side.excluded.size:
        allowed = np.flatnonzero(~np.isin(group[rows] * table.rows.size + positions, side.excluded))
        flat, rows, cols, positions = flat[allowed], rows[allowed], cols[allowed], positions[allowed]
    return _Pairs(flat, rows, cols, positions)


def _travel(
    travel: list[str],
    near: Mask | None,
    group: IntArray,
    pool: IntArray,
    pairs: _Pairs,
    side: ReferralSide,
    table: VolunteerTable,
) -> dict[str, _Trip]:
    """Per format of hers met where one of them lives, the pairs within the volunteer's reach: distances of the
    pairs where the volunteer offers one of those formats and is near her (in her cell or the eight around)."""
    if not travel or near is None:
        return {}
    goes = np.zeros(pool.size, dtype=bool)
    for fmt in travel:
        goes |= table.offers[fmt][pool]
    goes &= near[pool]
    some = np.flatnonzero(goes[pairs.cols])
    at = pairs.positions[some]
    km_h = grid.pair_km_hundredths(side.unit, table.unit, group[pairs.rows[some]], at, table.reach_h)
    reach_h = table.max_h[at]
    within = km_h <= reach_h
    if side.sea_matters:  # no ferry crossing: both on one island group, or both on the mainland
        hers, theirs = side.island[group[pairs.rows[some]]], table.island[at]
        within &= (hers == theirs) | (hers < 0) | (theirs < 0)
    trips = {}
    for fmt in travel:
        goes_there = table.offers[fmt][at] & within
        trips[fmt] = _Trip(some[goes_there], km_h[goes_there], reach_h[goes_there])
    return trips


def _at_venues(
    near: Mask | None,
    at: npt.NDArray[np.intp],
    group: IntArray,
    pool: IntArray,
    pairs: _Pairs,
    side: ReferralSide,
    table: VolunteerTable,
    venues: VenueTable,
) -> _Trip:
    """The pairs who share a venue (among `at`, the venues some of the group reach) open at a start time both
    are free: the venue minimising the farther of their two distances, scored as a visit of that length within
    the larger reach."""
    if near is None:
        none = np.zeros(0, dtype=np.int64)
        return _Trip(np.zeros(0, dtype=np.intp), none, none, np.zeros(0, dtype=np.int16))
    some = np.flatnonzero((table.offers[IN_PERSON][pool] & near[pool])[pairs.cols])
    open_there = _open_there(at, group, pool, pairs.flat[some], side, table)
    found = venues.meetings(group[pairs.rows[some]], pairs.positions[some], at, open_there)
    shared = found.shared
    return _Trip(some[shared], found.far_h[shared], found.limit_h[shared], found.venue[shared])


def _open_there(
    at: npt.NDArray[np.intp], group: IntArray, pool: IntArray, flat: Indices, side: ReferralSide, table: VolunteerTable
) -> Mask | None:
    """Per pair (`flat`, into the dense block) and venue of `at`, whether the venue is open for a whole session
    at a start time both are free; None when every venue is open at every hour. One product over the block per
    distinct opening hours among the venues (venues mostly keep the same few)."""
    if side.venue_hours is None or at.size == 0:
        return None
    hours, which = np.unique(side.venue_hours[at], axis=0, return_inverse=True)
    which = which.reshape(-1)
    open_there = np.empty((flat.size, at.size), dtype=bool)
    for k, pattern in enumerate(hours):
        common = (side.hours[group] * pattern) @ table.hours[pool].T
        open_there[:, which == k] = (common.ravel()[flat] > 0)[:, None]
    return open_there


def _venues_chosen(ref: ReferralProfile, rank: npt.NDArray[np.int8], trips: dict[str, _Trip]) -> VenueIndex:
    """Per pair, the venue where they meet when in person is the format chosen, else -1."""
    venue = np.full(rank.shape, -1, dtype=np.int16)
    trip = trips.get(IN_PERSON)
    if trip is not None and trip.venue is not None:
        there = rank[trip.pairs] == ref.formats.index(IN_PERSON)
        venue[trip.pairs[there]] = trip.venue[there]
    return venue


def _format_rank(
    ref: ReferralProfile, pool: IntArray, pairs: _Pairs, trips: dict[str, _Trip], table: VolunteerTable
) -> npt.NDArray[np.int8]:
    """Per pair, the place in her order of the first format they can meet in (her number of formats: none)."""
    n = len(ref.formats)
    rank = np.full(pairs.rows.shape, n, dtype=np.int8)
    bridged = constraints.interpreter_formats(ref)
    # With an interpreter the pool holds volunteers sharing no language: only a bridged format is theirs.
    speaks = table.speaker_mask(constraints.wanted_languages(ref))[pool][pairs.cols] if bridged else None
    for place, fmt in enumerate(ref.formats):
        if fmt in TRAVEL_FORMATS:
            offered = np.zeros(pairs.rows.shape, dtype=bool)
            if fmt in trips:
                offered[trips[fmt].pairs] = True
        else:
            offered = table.offers[fmt][pool][pairs.cols]
        if speaks is not None and fmt not in bridged:
            offered &= speaks
        if place:
            offered &= rank == n
        np.copyto(rank, np.int8(place), where=offered)
    return rank


def _block_points(
    ref: ReferralProfile,
    group: IntArray,
    pool: IntArray,
    common: npt.NDArray[np.float32],
    side: ReferralSide,
    table: VolunteerTable,
    w: Weights,
) -> npt.NDArray[np.float32]:
    """Points of the dense block, in float32 (exact for these small integers): her own (waiting, priority),
    the volunteer's (load, language), and both (shared codes, common start times). Uses up `common`."""
    points: npt.NDArray[np.float32] = side.codes_weighted[group] @ table.codes_present[pool].T  # type: ignore[index]
    for over in np.flatnonzero(side.over_cap[group]):  # beyond the cap the product overcounts: per kind
        exact = np.zeros(pool.size, dtype=np.float32)
        for kind, weight in side.weights.items():
            mine, hers = side.kinds[kind]
            exact += weight * np.minimum(mine[group[over]] @ hers[pool].T, scoring.CAP_SHARED)
        points[over] = exact
    # availability * min(common, cap) // cap, in place: the quotient of two small integers rounds to the
    # nearest float, which is never past the next integer, so the floor is exact.
    np.minimum(common, scoring.CAP_STARTS, out=common)
    common *= w.availability
    common /= scoring.CAP_STARTS
    points += np.floor(common, out=common)
    first = table.speaker_mask((ref.languages[0],))[pool]
    other: int | IntArray = w.shared_language
    if constraints.interpreter_formats(ref):  # the pool may hold volunteers sharing none of her languages
        other = np.where(table.speaker_mask(ref.languages)[pool], w.shared_language, 0)
    her_points = table.load_points[pool] + np.where(first, w.preferred_language, other)
    if ref.interpreter is not None and w.interpreter:
        helps = table.speaker_mask((ref.interpreter.language,))[pool] | table.interprets[pool]
        her_points += np.where(helps, w.interpreter, 0)
    points += her_points.astype(np.float32)[None, :]
    points += side.fixed[group].astype(np.float32)[:, None]
    return points


def _pair_scores(
    ref: ReferralProfile,
    points: npt.NDArray[np.float32],
    pairs: _Pairs,
    rank: npt.NDArray[np.int8],
    trips: dict[str, _Trip],
    w: Weights,
) -> Int32Array:
    """Each pair's score: the block's points read off, her format's rank, and distance points where she is
    met in a format with travel (scoring.distance_points)."""
    n = len(ref.formats)
    rank_points = np.array([w.format_rank * (n - place) // n for place in range(n)] + [0], dtype=np.int32)
    score = points.ravel()[pairs.flat].astype(np.int32)
    score += rank_points[rank]
    for place, fmt in enumerate(ref.formats):
        if fmt not in trips:
            continue
        trip = trips[fmt]
        travelled = rank[trip.pairs] == place
        max_h, near_h = trip.reach_h[travelled], trip.km_h[travelled]
        score[trip.pairs[travelled]] += np.where(
            max_h > 0, w.distance * np.maximum(0, max_h - near_h) // np.maximum(max_h, 1), w.distance
        ).astype(np.int32)
    return score
