"""The candidate graph: every pair that keeps every hard rule, with its score, built without enumerating all
pairs. Referrals are grouped by what decides their pool of volunteers (languages, formats, asked-for gender,
and for formats with travel the grid cell), and each group's block of pairs is checked and scored at once:
common weekly hours and shared codes as matrix products (features.py), the rest with numpy."""

import math
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from threadpoolctl import threadpool_limits

from matching import constraints, features, languages, scoring, seed, weekly
from matching.model import (
    FORMATS,
    TRAVEL_FORMATS,
    MatchProblem,
    Reason,
    ReferralProfile,
    VolunteerProfile,
    Weights,
)
from matching.pages import small_pages

WORDS = -(-weekly.WEEK_BITS // 64)
KM_PER_DEGREE = math.pi * constraints.EARTH_KM / 180
U64 = np.uint64
IntArray = npt.NDArray[np.int64]
# The graph's columns are 32-bit (8-bit for the format): at 10 M pairs that halves the biggest allocation.
Int32Array = npt.NDArray[np.int32]


@dataclass(frozen=True)
class CandidateGraph:
    """Parallel arrays, one entry per candidate pair; indices point into the problem's tuples."""

    referral: Int32Array
    volunteer: Int32Array
    score: Int32Array
    format: npt.NDArray[np.int8]  # index into model.FORMATS
    table: "VolunteerTable | None" = None
    codes: "dict[str, CodeBits] | None" = None
    lists: seed.Lists | None = None  # the first part of the seeded solve, worked out block by block

    @property
    def size(self) -> int:
        """The number of candidate pairs."""
        return int(self.referral.shape[0])


def week_words(mask: int) -> npt.NDArray[np.uint64]:
    """A week's start-quarter mask as the uint64 words the volunteer table stores."""
    return np.array([(mask >> (64 * i)) & 0xFFFFFFFFFFFFFFFF for i in range(WORDS)], dtype=U64)


class CodeBits:
    """Numbers the codes of one kind (background, experiences, interests) so a set of them is a bit mask."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self._masks: dict[frozenset[str], int] = {}

    def bits(self, codes: frozenset[str]) -> int:
        """The mask of these codes, numbering any not seen before."""
        if codes in self._masks:
            return self._masks[codes]
        mask = 0
        for code in sorted(codes):
            mask |= 1 << self.index.setdefault(code, len(self.index))
        self._masks[codes] = mask
        return mask


def _pack(masks: list[int], width: int) -> npt.NDArray[np.uint64]:
    out = np.zeros((len(masks), width), dtype=U64)
    for row, mask in enumerate(masks):
        for word in range(width):
            out[row, word] = (mask >> (64 * word)) & 0xFFFFFFFFFFFFFFFF
    return out


class VolunteerTable:
    """The ready volunteers with a free place, as arrays."""

    def __init__(
        self,
        volunteers: tuple[VolunteerProfile, ...],
        weights: Weights,
        codes: dict[str, CodeBits],
        problem_referrals: tuple[ReferralProfile, ...],
    ) -> None:
        self.rows = np.array(
            [
                i
                for i, v in enumerate(volunteers)
                if constraints.volunteer_ready(v) and constraints.has_free_capacity(v)
            ],
            dtype=np.int64,
        )
        vols = [volunteers[i] for i in self.rows]
        self.lat = np.array([math.radians(v.lat) if v.lat is not None else np.nan for v in vols], dtype=float)
        self.lon = np.array([math.radians(v.lon) if v.lon is not None else np.nan for v in vols], dtype=float)
        self.max_h = np.array([constraints.hundredths(v.max_travel_km) for v in vols], dtype=np.int64)
        self.cos_lat = np.cos(self.lat)
        # The haversine term h of a place one hundredth of a km beyond her reach: above it, out of reach.
        self.reach_h = np.sin((self.max_h + 1) / 100 / (2 * constraints.EARTH_KM)) ** 2
        self.unit = unit_vectors(self.lat, self.lon)
        self.formats = np.array(
            [sum(1 << FORMATS.index(f) for f in set(v.formats) if f in FORMATS) for v in vols], dtype=np.int64
        )
        self.gender = np.array([v.gender or "" for v in vols], dtype=object)
        self.start_masks = [weekly.starts(v.availability, v.busy, weights.session_minutes) for v in vols]
        self.starts = _pack(self.start_masks, WORDS)
        # Filled in by the referral side, which numbers the atoms and codes of both sides together.
        self.hours: npt.NDArray[np.float32] = np.zeros((len(vols), 0), dtype=np.float32)
        self.codes_present: npt.NDArray[np.float32] = np.zeros((len(vols), 0), dtype=np.float32)
        self.offers = {fmt: (self.formats & (1 << i)) != 0 for i, fmt in enumerate(FORMATS)}
        for referral in problem_referrals:  # register every referral's codes first, so widths cover both sides
            background, experiences = referral.background, referral.experiences
            if referral.must_match:
                background |= {m.split(":", 1)[1] for m in referral.must_match if m.startswith("background:")}
                experiences |= {m.split(":", 1)[1] for m in referral.must_match if m.startswith("experience:")}
            codes["background"].bits(background)
            codes["experiences"].bits(experiences)
            codes["interests"].bits(referral.interests)
        for v in vols:
            for kind in codes:
                codes[kind].bits(getattr(v, kind))
        self.width = {kind: max(1, -(-len(codes[kind].index) // 64)) for kind in codes}
        self.code_masks = {kind: [codes[kind].bits(getattr(v, kind)) for v in vols] for kind in codes}
        self.codes = {kind: _pack(self.code_masks[kind], self.width[kind]) for kind in codes}
        self.load_points = np.array(
            [(scoring.load(v, weights) or _ZERO).points for v in vols], dtype=np.int64
        )
        self.tags: dict[str, list[int]] = {}
        for position, v in enumerate(vols):
            for tag in set(v.languages):
                self.tags.setdefault(tag, []).append(position)
        self.tag_arrays = {tag: np.array(sorted(set(p)), dtype=np.int64) for tag, p in self.tags.items()}
        self._speakers: dict[tuple[str, ...], IntArray] = {}
        self._speaker_masks: dict[tuple[str, ...], npt.NDArray[np.bool_]] = {}
        # 1% wider than the longest reach: rounding to hundredths of a km never puts a pair two cells apart.
        self.grid_km = 1.01 * max([float(v.max_travel_km) for v in vols] + [1.0])
        located = [
            abs(lat)
            for lat in (
                [v.lat for v in vols if v.lat is not None]
                + [r.lat for r in problem_referrals if r.lat is not None]
            )
        ]
        # Longitude cells are sized at the most poleward place, where a degree is shortest.
        self.lon_km = KM_PER_DEGREE * math.cos(math.radians(min(89.0, max([*located, 0.0]))))
        self.cells: dict[tuple[int, int], list[int]] = {}
        for position, v in enumerate(vols):
            if v.lat is not None and v.lon is not None:
                self.cells.setdefault(self.cell_of(v.lat, v.lon), []).append(position)
        self.cell_arrays = {cell: np.array(p, dtype=np.int64) for cell, p in self.cells.items()}

    def cell_of(self, lat: float, lon: float) -> tuple[int, int]:
        """The grid cell of a place (degrees)."""
        # Cells at least grid_km wide everywhere in the data: a reachable volunteer is in a neighbouring cell.
        return (math.floor(lat * KM_PER_DEGREE / self.grid_km), math.floor(lon * self.lon_km / self.grid_km))

    def speakers(self, wanted: tuple[str, ...]) -> IntArray:
        """Positions of volunteers speaking a language compatible with any wanted tag."""
        if wanted not in self._speakers:
            parts = [
                arr
                for tag, arr in self.tag_arrays.items()
                if any(languages.compatible(tag, w) for w in wanted)
            ]
            self._speakers[wanted] = (
                np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)
            )
        return self._speakers[wanted]

    def speaker_mask(self, wanted: tuple[str, ...]) -> npt.NDArray[np.bool_]:
        """The same as speakers(), as a boolean mask over the table (cached: read it, do not write it)."""
        if wanted not in self._speaker_masks:
            mask = np.zeros(self.rows.shape, dtype=bool)
            mask[self.speakers(wanted)] = True
            self._speaker_masks[wanted] = mask
        return self._speaker_masks[wanted]

    def near_cell(self, cell: tuple[int, int]) -> IntArray:
        """Positions of located volunteers in this cell and the eight around it."""
        ci, cj = cell
        parts = [
            self.cell_arrays[c]
            for c in ((ci + di, cj + dj) for di in (-1, 0, 1) for dj in (-1, 0, 1))
            if c in self.cell_arrays
        ]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


_ZERO = Reason("none", 0, "")


def popcount(words: npt.NDArray[np.uint64]) -> IntArray:
    """Set bits per row of a 2-D array of words."""
    counts: IntArray = np.bitwise_count(words).sum(axis=1).astype(np.int64)
    return counts


def build(problem: MatchProblem) -> CandidateGraph:
    """Every pair that keeps every hard rule, scored. Each referral's pairs are one consecutive run (runs in
    no particular order), her volunteers in index order."""
    with small_pages():
        return _build(problem)


def _build(problem: MatchProblem) -> CandidateGraph:
    w = problem.weights
    codes = {"background": CodeBits(), "experiences": CodeBits(), "interests": CodeBits()}
    table = VolunteerTable(problem.volunteers, w, codes, problem.referrals)
    side = _Referrals(problem, table, codes)
    # The blocks' matrix products are small: BLAS threads cost more than they save, and a match run inside
    # the service should leave the other core to requests.
    with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(2) as pool:
        found = _blocks(side, table, w, pool)
        if not found:
            empty = np.zeros(0, dtype=np.int32)
            return CandidateGraph(empty, empty, empty, np.zeros(0, dtype=np.int8), table, codes)
        # Each referral is in one block, her pairs consecutive there: the graph keeps them in runs, block by
        # block. The columns are joined side by side: most of the time goes to the kernel giving fresh pages.
        columns = list(
            pool.map(
                lambda name: np.concatenate([getattr(b, name) for b in found]),
                ("referral", "volunteer", "score", "format", "listed", "draw"),
            )
        )
    referral, volunteer, score, fmt, listed, draw = columns
    top = scoring.most_points(w)
    return CandidateGraph(
        referral,
        volunteer,
        score,
        fmt,
        table,
        codes,
        seed.Lists(listed, draw, seed.histogram(volunteer, score, len(problem.volunteers), top)),
    )


def _blocks(side: "_Referrals", table: VolunteerTable, w: Weights, pool: ThreadPoolExecutor) -> list["_Block"]:
    """Every group's block, in the groups' order, on two threads: one takes the largest blocks first, the
    calling thread the smallest. numpy lets go of the interpreter inside each operation, so large blocks
    overlap; small ones are mostly the interpreter's own work. Handed out in any order, both threads traded
    the interpreter at every numpy call (1.9 s of CPU for 1.1 s of work at 20k x 10k)."""
    items = list(side.groups.items())
    order = sorted(range(len(items)), key=lambda i: -_work(items[i][1], side, table))
    done: list[_Block | None] = [None] * len(items)
    ends = [0, len(order) - 1]  # the next largest and the next smallest not yet taken
    lock = threading.Lock()

    def take(largest: bool) -> None:
        while True:
            with lock:
                if ends[0] > ends[1]:
                    return
                at = order[ends[0] if largest else ends[1]]
                ends[0 if largest else 1] += 1 if largest else -1
            key, members = items[at]
            done[at] = _block(key, members, side, table, w)

    large = pool.submit(take, True)
    take(False)
    large.result()
    return [block for block in done if block is not None]


def _work(members: list[int], side: "_Referrals", table: VolunteerTable) -> int:
    """Roughly how many pairs a group's block holds: her language's speakers, all of them if she takes a
    format without travel, a few cells' worth if not."""
    ref = side.refs[members[0]]
    wanted = _wanted(ref)
    speakers = table.speakers(wanted).size
    remote = any(f not in TRAVEL_FORMATS for f in ref.formats)
    return len(members) * (speakers if remote else speakers // 16 + 1)


def _wanted(ref: ReferralProfile) -> tuple[str, ...]:
    """The languages a volunteer must share one of: her first alone if she marked language essential."""
    return ref.languages[:1] if "language" in ref.must_match else ref.languages


class _Referrals:
    """The referrals as arrays, and grouped so that each group shares one pool of volunteers: the same
    languages, formats, asked-for gender and (for formats with travel) grid cell."""

    def __init__(self, problem: MatchProblem, table: VolunteerTable, codes: dict[str, CodeBits]) -> None:
        w = problem.weights
        refs = problem.referrals
        self.refs = refs
        self.groups: dict[tuple[object, ...], list[int]] = {}
        for index, r in enumerate(refs):
            travel = any(f in TRAVEL_FORMATS for f in r.formats)
            located = r.lat is not None and r.lon is not None
            cell = table.cell_of(r.lat, r.lon) if travel and located else None  # type: ignore[arg-type]
            gender = None if r.volunteer_gender in (None, "any") else r.volunteer_gender
            key = (r.languages, "language" in r.must_match, r.formats, gender, cell, located)
            self.groups.setdefault(key, []).append(index)
        self.lat = np.array([math.radians(r.lat) if r.lat is not None else np.nan for r in refs], dtype=float)
        self.lon = np.array([math.radians(r.lon) if r.lon is not None else np.nan for r in refs], dtype=float)
        self.cos_lat = np.array([math.cos(x) for x in self.lat], dtype=float)
        self.unit = unit_vectors(self.lat, self.lon)
        self.fixed = np.array(
            [
                w.waiting * min(r.waiting_days // 7, scoring.CAP_WEEKS) + (w.priority if r.priority else 0)
                for r in refs
            ],
            dtype=np.int64,
        )
        # Weekly start quarters of both sides as atoms, so common start times are one matrix product.
        her_starts = [weekly.starts(r.availability, (), w.session_minutes) for r in refs]
        counted, present = features.atoms(her_starts + table.start_masks, weekly.WEEK_BITS)
        self.hours, table.hours = counted[: len(refs)], present[len(refs) :]
        # Shared codes: one product over all three kinds, weights on her side, while no kind passes the cap.
        weights = {"experiences": w.experience, "background": w.background, "interests": w.interests}
        self.kinds: dict[str, tuple[features.Matrix, features.Matrix]] = {}
        for kind, bits in codes.items():
            size = len(bits.index)
            mine = features.bit_rows([bits.bits(getattr(r, kind)) for r in refs], size).astype(np.float32)
            hers = features.bit_rows(table.code_masks[kind], size).astype(np.float32)
            self.kinds[kind] = (mine, hers)
        self.codes_weighted = np.hstack([self.kinds[k][0] * weights[k] for k in codes]) if refs else None
        table.codes_present = np.hstack([self.kinds[k][1] for k in codes])
        self.weights = weights
        self.over_cap = np.zeros(len(refs), dtype=bool)
        for mine, _ in self.kinds.values():
            self.over_cap |= mine.sum(axis=1) > scoring.CAP_SHARED
        self.essentials: dict[int, list[npt.NDArray[np.float32]]] = {}
        for index, r in enumerate(refs):
            if not r.must_match:
                continue
            for kind, prefix in (("background", "background:"), ("experiences", "experience:")):
                needed = frozenset(m.split(":", 1)[1] for m in r.must_match if m.startswith(prefix))
                if needed:
                    vector = features.bit_rows([codes[kind].bits(needed)], len(codes[kind].index))[0]
                    self.essentials.setdefault(index, []).append(
                        np.concatenate(
                            [
                                vector if k == kind else np.zeros(len(codes[k].index), dtype=np.uint8)
                                for k in codes
                            ]
                        ).astype(np.float32)
                    )
        position = {problem.volunteers[int(row)].id: p for p, row in enumerate(table.rows)}
        index_of = {r.id: i for i, r in enumerate(refs)}
        self.excluded = np.array(
            sorted(
                index_of[r] * len(table.rows) + position[v]
                for r, v in problem.excluded_pairs
                if r in index_of and v in position
            ),
            dtype=np.int64,
        )


@dataclass(frozen=True)
class _Block:
    referral: Int32Array
    volunteer: Int32Array
    score: Int32Array
    format: npt.NDArray[np.int8]
    listed: npt.NDArray[np.bool_]
    draw: npt.NDArray[np.uint16]


def _block(
    key: tuple[object, ...], members: list[int], side: _Referrals, table: VolunteerTable, w: Weights
) -> _Block | None:
    """The pairs of one group of referrals: pool by language, format, gender and cell, then every other rule
    and the score over the group's block at once. What depends on the referral alone or the volunteer alone
    (and the products of both) is worked out over the dense block, then read off once per pair."""
    ref = side.refs[members[0]]
    wanted = _wanted(ref)
    if not wanted:
        return None
    travel = [f for f in ref.formats if f in TRAVEL_FORMATS]
    cell = key[4]
    reach = np.zeros(table.rows.shape, dtype=bool)
    for fmt in ref.formats:
        if fmt not in TRAVEL_FORMATS:
            reach |= table.offers[fmt]
    # Only a volunteer in her cell or the eight around it can be within reach (cells are wider than any reach).
    near = np.zeros(table.rows.shape, dtype=bool)
    if travel and cell is not None:
        near[table.near_cell(cell)] = True  # type: ignore[arg-type]
        for fmt in travel:
            reach |= near & table.offers[fmt]
    reach &= table.speaker_mask(wanted)
    if key[3] is not None:
        reach &= table.gender == key[3]
    pool = np.flatnonzero(reach)
    if pool.size == 0:
        return None
    group = np.array(members, dtype=np.int64)
    common = side.hours[group] @ table.hours[pool].T
    keep = common > 0
    for row, index in enumerate(members):
        for needed in side.essentials.get(index, ()):
            keep[row] &= table.codes_present[pool] @ needed >= needed.sum()
    flat = np.flatnonzero(keep)  # far quicker than a 2-D nonzero; row-major order all the same
    if flat.size == 0:
        return None
    counts = keep.sum(axis=1)
    rows = np.repeat(np.arange(len(members), dtype=np.intp), counts)  # quicker than dividing `flat`
    cols = flat - np.repeat(np.arange(len(members), dtype=np.intp) * pool.size, counts)
    positions = pool[cols]
    if side.excluded.size:
        allowed = np.flatnonzero(~np.isin(group[rows] * table.rows.size + positions, side.excluded))
        flat, rows, cols, positions = flat[allowed], rows[allowed], cols[allowed], positions[allowed]
    n = len(ref.formats)
    rank = np.full(rows.shape, n, dtype=np.int8)  # n: no format of hers yet
    some = np.zeros(0, dtype=np.intp)  # the pairs whose distance is measured, and what it says of them
    km_h, reach_h = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    goes_there: dict[str, npt.NDArray[np.bool_]] = {}
    if travel and cell is not None:
        goes = np.zeros(pool.size, dtype=bool)
        for fmt in travel:
            goes |= table.offers[fmt][pool]
        goes &= near[pool]
        some = np.flatnonzero(goes[cols])
        at = positions[some]
        km_h = reach_km_hundredths(side, table, group[rows[some]], at)
        reach_h = table.max_h[at]
        within = km_h <= reach_h
        goes_there = {fmt: table.offers[fmt][at] & within for fmt in travel}
    for place, fmt in enumerate(ref.formats):
        if fmt in TRAVEL_FORMATS:
            offered = np.zeros(rows.shape, dtype=bool)
            offered[some[goes_there[fmt]]] = True
        else:
            offered = table.offers[fmt][pool][cols]
        if place:
            offered &= rank == n
        np.copyto(rank, np.int8(place), where=offered)
    ok = np.flatnonzero(rank < n)
    if ok.size == 0:
        return None
    # Points of the block, in float32 (exact for these small integers): her own (waiting, priority), the
    # volunteer's (load, language), and both (shared codes, common start times); then read once per pair.
    points = side.codes_weighted[group] @ table.codes_present[pool].T  # type: ignore[index]
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
    her_points = table.load_points[pool] + np.where(first, w.preferred_language, w.shared_language)
    points += her_points.astype(np.float32)[None, :]
    points += side.fixed[group].astype(np.float32)[:, None]
    rank_points = np.array([w.format_rank * (n - place) // n for place in range(n)] + [0], dtype=np.int32)
    score = points.ravel()[flat].astype(np.int32)
    score += rank_points[rank]
    # Distance points where she is met in a format with travel.
    travelled = np.zeros(some.shape, dtype=bool)
    ranked = rank[some]
    for place, fmt in enumerate(ref.formats):
        if fmt in TRAVEL_FORMATS:
            travelled |= ranked == place
    max_h, near_h = reach_h[travelled], km_h[travelled]
    score[some[travelled]] += np.where(
        max_h > 0, w.distance * np.maximum(0, max_h - near_h) // np.maximum(max_h, 1), w.distance
    ).astype(np.int32)
    chosen = np.array([FORMATS.index(f) for f in ref.formats] + [-1], dtype=np.int8)[rank]
    if ok.size < rows.size:
        rows, positions, score, chosen = rows[ok], positions[ok], score[ok], chosen[ok]
    referral = group[rows]
    volunteer = table.rows[positions].astype(np.int32)
    listed, draw = seed.for_block(rows, len(members), referral, volunteer, score)
    return _Block(referral.astype(np.int32), volunteer, score, chosen, listed, draw)


def code_words(mask: int, width: int) -> npt.NDArray[np.uint64]:
    """A code mask as `width` uint64 words."""
    return np.array([(mask >> (64 * i)) & 0xFFFFFFFFFFFFFFFF for i in range(width)], dtype=U64)


def km_hundredths(
    lat: float, lon: float, lats: npt.NDArray[np.float64], lons: npt.NDArray[np.float64]
) -> IntArray:
    """Haversine distances from one place (radians) in whole hundredths of a km; unknown places are huge."""
    h = np.sin((lats - lat) / 2) ** 2 + math.cos(lat) * np.cos(lats) * np.sin((lons - lon) / 2) ** 2
    km = 2 * constraints.EARTH_KM * np.arcsin(np.minimum(1.0, np.sqrt(h)))
    out = np.full(lats.shape, np.iinfo(np.int64).max, dtype=np.int64)
    known = ~np.isnan(km)
    out[known] = np.round(km[known] * 100).astype(np.int64)
    return out


def unit_vectors(lat: npt.NDArray[np.float64], lon: npt.NDArray[np.float64]) -> list[npt.NDArray[np.float64]]:
    """Places (radians) as points on the unit sphere, one array per coordinate."""
    return [np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)]


def reach_km_hundredths(side: "_Referrals", table: VolunteerTable, referral: IntArray, positions: IntArray) -> IntArray:
    """Great-circle distances pair by pair in whole hundredths of a km; pairs beyond the volunteer's reach (or
    with an unknown place) are huge. The haversine term sin²(angle/2) is a quarter of the squared chord
    between the two points on the unit sphere: no trigonometry per pair, and no loss of precision for near
    places (unlike 1 - cos); only pairs within reach take the square root and arcsine."""
    h = np.zeros(referral.shape, dtype=np.float64)
    for mine, hers in zip(side.unit, table.unit, strict=True):
        across = mine[referral] - hers[positions]
        h += across * across
    h /= 4
    out = np.full(h.shape, np.iinfo(np.int64).max, dtype=np.int64)
    close = np.flatnonzero(h <= table.reach_h[positions])  # NaN compares False: unknown places stay huge
    km = 2 * constraints.EARTH_KM * np.arcsin(np.minimum(1.0, np.sqrt(h[close])))
    out[close] = np.round(km * 100).astype(np.int64)
    return out
