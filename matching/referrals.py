"""The referrals as the candidate graph reads them: arrays over the problem's referrals, and the groups that
share one pool of volunteers (the volunteers' side is the volunteer table, table.py)."""

import numpy as np
import numpy.typing as npt

from matching import constraints, features, grid, scoring, sea, venue_table, weekly
from matching.bits import CodeBits
from matching.model import TRAVEL_FORMATS, MatchProblem, ReferralProfile
from matching.table import VolunteerTable

IntArray = npt.NDArray[np.int64]
# The kinds of code that can be marked essential: (the table's kind, the must_match prefix).
ESSENTIAL_KINDS = (("background", "background"), ("experiences", "experience"), ("specialisms", "specialism"))


class ReferralSide:
    """The referrals as arrays, and grouped so that each group shares one pool of volunteers: the same
    languages, formats, asked-for gender and (for formats with travel) grid cell."""

    def __init__(
        self, problem: MatchProblem, table: VolunteerTable, codes: dict[str, CodeBits], *, any_order: bool = False
    ) -> None:
        w = problem.weights
        refs = problem.referrals
        self.refs = refs
        self.groups = _groups(refs, table, any_order)
        lat = grid.radians([r.lat for r in refs])
        self.unit = grid.unit_vectors(lat, grid.radians([r.lon for r in refs]))
        self.fixed = np.array(
            [w.waiting * min(r.waiting_days // 7, scoring.CAP_WEEKS) + (w.priority if r.priority else 0) for r in refs],
            dtype=np.int64,
        )
        # Weekly start quarters of both sides as atoms, so common start times are one matrix product.
        # Venues' open starts join the atoms when some venue keeps hours, so that "open at a start both are
        # free" is a product too: `venue_hours` (venues in id order x atoms, 0/1), else None.
        her_starts = [weekly.starts(r.availability, (), w.session_minutes) for r in refs]
        opens = venue_table.open_starts(venue_table.by_id(problem), w.session_minutes)
        if all(mask == venue_table.ALWAYS for mask in opens):
            opens = []
        counted, present = features.atoms(her_starts + table.start_masks + opens, weekly.WEEK_BITS)
        ends = len(refs) + len(table.start_masks)
        self.hours, table.hours = counted[: len(refs)], present[len(refs) : ends]
        self.venue_hours = present[ends:] if opens else None
        # Shared codes: one product over all three kinds, weights on her side, while no kind passes the cap.
        weights = {
            "experiences": w.experience,
            "background": w.background,
            "interests": w.interests,
            "specialisms": w.specialism,
        }
        self.kinds: dict[str, tuple[features.Matrix, features.Matrix]] = {}
        for kind, numbering in codes.items():
            size = len(numbering.index)
            mine = features.bit_rows([numbering.bits(getattr(r, kind)) for r in refs], size).astype(np.float32)
            hers = features.bit_rows(table.code_masks[kind], size).astype(np.float32)
            self.kinds[kind] = (mine, hers)
        self.codes_weighted = np.hstack([self.kinds[k][0] * weights[k] for k in codes]) if refs else None
        table.codes_present = np.hstack([self.kinds[k][1] for k in codes])
        self.weights = weights
        self.over_cap = np.zeros(len(refs), dtype=bool)
        for mine, _ in self.kinds.values():
            self.over_cap |= mine.sum(axis=1) > scoring.CAP_SHARED
        self.essentials = _essentials(refs, codes)
        # The sea matters only where someone is on an island group (group numbers above 0, sea.GROUPS).
        self.island = np.array([sea.group_number(r.area) for r in refs], dtype=np.int8)
        self.sea_matters = bool((self.island > 0).any() or (table.island > 0).any())
        self.excluded = _excluded(problem, table)


def _groups(
    refs: tuple[ReferralProfile, ...], table: VolunteerTable, any_order: bool
) -> dict[tuple[object, ...], list[int]]:
    """The referrals' indices per group: her languages (and whether only the first counts), formats,
    asked-for gender, and the grid cell when she takes a format with travel and her place is known. With
    `any_order`, the formats as a set: which pairs there are does not depend on her order of them, only their
    scores and chosen formats do."""
    groups: dict[tuple[object, ...], list[int]] = {}
    for index, r in enumerate(refs):
        travel = any(f in TRAVEL_FORMATS for f in r.formats)
        located = r.lat is not None and r.lon is not None
        cell = table.grid.cell_of(r.lat, r.lon) if travel and located else None  # type: ignore[arg-type]
        gender = None if r.volunteer_gender in (None, "any") else r.volunteer_gender
        formats = tuple(sorted(r.formats)) if any_order else r.formats
        key = (r.languages, constraints.language_essential(r), formats, gender, cell, located, r.interpreter)
        groups.setdefault(key, []).append(index)
    return groups


def _essentials(
    refs: tuple[ReferralProfile, ...], codes: dict[str, CodeBits]
) -> dict[int, list[npt.NDArray[np.float32]]]:
    """Per referral with essential codes, one 0/1 vector per kind over all codes (the table's columns of
    `codes_present`): a volunteer has them all when her row's product with it is their count."""
    essentials: dict[int, list[npt.NDArray[np.float32]]] = {}
    for index, r in enumerate(refs):
        if not r.must_match:
            continue
        for kind, rule_kind in ESSENTIAL_KINDS:
            needed = constraints.essential_codes(r, rule_kind)
            if needed:
                vector = features.bit_rows([codes[kind].bits(needed)], len(codes[kind].index))[0]
                parts = [vector if k == kind else np.zeros(len(codes[k].index), dtype=np.uint8) for k in codes]
                essentials.setdefault(index, []).append(np.concatenate(parts).astype(np.float32))
    return essentials


def _excluded(problem: MatchProblem, table: VolunteerTable) -> IntArray:
    """Pairs rejected or declined before, as referral index * table size + volunteer position, sorted."""
    position = {problem.volunteers[int(row)].id: p for p, row in enumerate(table.rows)}
    index_of = {r.id: i for i, r in enumerate(problem.referrals)}
    return np.array(
        sorted(
            index_of[r] * len(table.rows) + position[v]
            for r, v in problem.excluded_pairs
            if r in index_of and v in position
        ),
        dtype=np.int64,
    )
