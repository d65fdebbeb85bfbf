"""The candidate graph: every pair that keeps every hard rule, with its score, built without enumerating all
pairs. Volunteers are blocked by language tag, travel-only referrals look only at nearby grid cells, and the
remaining rules and the score are computed with numpy over each referral's block at once."""

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from matching import constraints, languages, scoring, weekly
from matching.model import (
    FORMATS,
    TRAVEL_FORMATS,
    MatchProblem,
    Reason,
    ReferralProfile,
    VolunteerProfile,
    Weights,
)

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

    def bits(self, codes: frozenset[str]) -> int:
        """The mask of these codes, numbering any not seen before."""
        mask = 0
        for code in sorted(codes):
            mask |= 1 << self.index.setdefault(code, len(self.index))
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
        self.formats = np.array(
            [sum(1 << FORMATS.index(f) for f in set(v.formats) if f in FORMATS) for v in vols], dtype=np.int64
        )
        self.gender = np.array([v.gender or "" for v in vols], dtype=object)
        self.starts = _pack(
            [weekly.starts(v.availability, v.busy, weights.session_minutes) for v in vols], WORDS
        )
        self.starts_by_word = np.ascontiguousarray(
            self.starts.T
        )  # one row per word: fast gathers per referral
        self.offers = {fmt: (self.formats & (1 << i)) != 0 for i, fmt in enumerate(FORMATS)}
        for (
            referral
        ) in problem_referrals:  # register every referral's codes first, so widths cover both sides
            essential = {
                kind: frozenset(m.split(":", 1)[1] for m in referral.must_match if m.startswith(prefix))
                for kind, prefix in (("background", "background:"), ("experiences", "experience:"))
            }
            codes["background"].bits(referral.background | essential["background"])
            codes["experiences"].bits(referral.experiences | essential["experiences"])
            codes["interests"].bits(referral.interests)
        for v in vols:
            for kind in codes:
                codes[kind].bits(getattr(v, kind))
        self.width = {kind: max(1, -(-len(codes[kind].index) // 64)) for kind in codes}
        self.codes = {
            kind: _pack([codes[kind].bits(getattr(v, kind)) for v in vols], self.width[kind])
            for kind in codes
        }
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
                self.cells.setdefault(self._cell(v.lat, v.lon), []).append(position)
        self.cell_arrays = {cell: np.array(p, dtype=np.int64) for cell, p in self.cells.items()}

    def _cell(self, lat: float, lon: float) -> tuple[int, int]:
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

    def near(self, lat: float, lon: float) -> IntArray:
        """Positions of located volunteers in her cell and the eight around it."""
        ci, cj = self._cell(lat, lon)
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
    """Every pair that keeps every hard rule, scored."""
    w = problem.weights
    codes = {"background": CodeBits(), "experiences": CodeBits(), "interests": CodeBits()}
    table = VolunteerTable(problem.volunteers, w, codes, problem.referrals)
    position = {problem.volunteers[int(row)].id: p for p, row in enumerate(table.rows)}
    excluded: dict[str, list[int]] = {}
    for referral_id, volunteer_id in sorted(problem.excluded_pairs):
        if volunteer_id in position:
            excluded.setdefault(referral_id, []).append(position[volunteer_id])
    counts = np.zeros(len(problem.referrals), dtype=np.int64)
    volunteers: list[Int32Array] = []
    scores: list[Int32Array] = []
    formats: list[npt.NDArray[np.int8]] = []
    for r_index, referral in enumerate(problem.referrals):
        found = _for_referral(referral, table, codes, w, excluded.get(referral.id))
        if found is not None:
            positions, score, fmt = found
            counts[r_index] = positions.size
            volunteers.append(table.rows[positions].astype(np.int32))
            scores.append(score.astype(np.int32))
            formats.append(fmt.astype(np.int8))
    if not volunteers:
        empty = np.zeros(0, dtype=np.int32)
        return CandidateGraph(empty, empty, empty, np.zeros(0, dtype=np.int8), table, codes)
    referral_column = np.repeat(np.arange(len(problem.referrals), dtype=np.int32), counts)
    return CandidateGraph(
        referral_column,
        np.concatenate(volunteers),
        np.concatenate(scores),
        np.concatenate(formats),
        table,
        codes,
    )


def _for_referral(
    referral: ReferralProfile,
    table: VolunteerTable,
    codes: dict[str, "CodeBits"],
    w: Weights,
    excluded: list[int] | None,
) -> tuple[IntArray, IntArray, IntArray] | None:
    wanted = referral.languages[:1] if "language" in referral.must_match else referral.languages
    if not wanted:
        return None
    speak = table.speaker_mask(tuple(wanted))
    has_place = referral.lat is not None and referral.lon is not None
    # Block: remote formats need only the language and the format; formats with travel also nearby cells.
    reachable = np.zeros(speak.shape, dtype=bool)
    for fmt in referral.formats:
        if fmt not in TRAVEL_FORMATS:
            reachable |= table.offers[fmt]
    travel = [f for f in referral.formats if f in TRAVEL_FORMATS]
    if travel and has_place:
        near = np.zeros(speak.shape, dtype=bool)
        near[table.near(referral.lat, referral.lon)] = True  # type: ignore[arg-type]
        for fmt in travel:
            reachable |= near & table.offers[fmt]
    pool = np.flatnonzero(speak & reachable)
    if pool.size == 0:
        return None
    her_starts = week_words(weekly.starts(referral.availability, (), w.session_minutes))
    common = np.zeros(pool.shape, dtype=np.int64)
    for word in np.flatnonzero(her_starts):
        common += np.bitwise_count(table.starts_by_word[word, pool] & her_starts[word]).astype(np.int64)
    keep = common > 0
    if referral.volunteer_gender not in (None, "any"):
        keep &= table.gender[pool] == referral.volunteer_gender
    for kind, prefix in (("background", "background:"), ("experiences", "experience:")):
        needed = frozenset(m.split(":", 1)[1] for m in referral.must_match if m.startswith(prefix))
        if needed:
            mask = code_words(codes[kind].bits(needed), table.width[kind])
            keep &= np.all((table.codes[kind][pool] & mask) == mask, axis=1)
    if excluded:
        keep &= ~np.isin(pool, excluded)
    pool, common = pool[keep], common[keep]
    if pool.size == 0:
        return None
    km_h = np.full(pool.shape, np.iinfo(np.int64).max, dtype=np.int64)
    if has_place and travel:
        assert referral.lat is not None and referral.lon is not None
        her_lat, her_lon = math.radians(referral.lat), math.radians(referral.lon)
        km_h = km_hundredths(her_lat, her_lon, table.lat[pool], table.lon[pool])
    chosen = np.full(pool.shape, -1, dtype=np.int64)
    rank = np.zeros(pool.shape, dtype=np.int64)
    for position, fmt in enumerate(referral.formats):
        offered = table.offers[fmt][pool]
        if fmt in TRAVEL_FORMATS:
            offered &= km_h <= table.max_h[pool]
        fresh = offered & (chosen < 0)
        chosen[fresh] = FORMATS.index(fmt)
        rank[fresh] = position
    ok = chosen >= 0
    if not ok.any():
        return None
    pool, common, km_h, chosen, rank = pool[ok], common[ok], km_h[ok], chosen[ok], rank[ok]
    score = _score(referral, table, codes, w, pool, common, km_h, chosen, rank)
    return pool, score, chosen


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


def _score(
    referral: ReferralProfile,
    table: VolunteerTable,
    codes: dict[str, "CodeBits"],
    w: Weights,
    pool: IntArray,
    common: IntArray,
    km_h: IntArray,
    chosen: IntArray,
    rank: IntArray,
) -> IntArray:
    first = table.speaker_mask((referral.languages[0],))[pool]
    score = np.where(first, w.preferred_language, w.shared_language).astype(np.int64)
    for kind, weight in (
        ("experiences", w.experience),
        ("background", w.background),
        ("interests", w.interests),
    ):
        mine = code_words(codes[kind].bits(getattr(referral, kind)), table.width[kind])
        score += weight * np.minimum(popcount(table.codes[kind][pool] & mine), scoring.CAP_SHARED)
    n = len(referral.formats)
    score += w.format_rank * (n - rank) // n
    travel = (chosen == FORMATS.index("home_visit")) | (chosen == FORMATS.index("in_person"))
    max_h = table.max_h[pool]
    with np.errstate(divide="ignore", invalid="ignore"):
        dist = np.where(
            max_h > 0, w.distance * np.maximum(0, max_h - km_h) // np.maximum(max_h, 1), w.distance
        )
    score += np.where(travel, dist, 0)
    score += w.availability * np.minimum(common, scoring.CAP_STARTS) // scoring.CAP_STARTS
    score += w.waiting * min(referral.waiting_days // 7, scoring.CAP_WEEKS)
    score += w.priority if referral.priority else 0
    score += table.load_points[pool]
    return score
