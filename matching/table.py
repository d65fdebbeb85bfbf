"""The ready volunteers with a free place, as arrays over one table (a volunteer's position in it), so that
the candidate graph and the unmatched funnel check and score them a block at a time."""

import numpy as np
import numpy.typing as npt

from matching import bits, constraints, grid, languages, scoring, sea, weekly
from matching.bits import CodeBits
from matching.model import FORMATS, ReferralProfile, VolunteerProfile, Weights

Positions = npt.NDArray[np.int64]
# The kinds of code both sides carry, each numbered by its own CodeBits.
CODE_KINDS = ("background", "experiences", "interests", "specialisms")


def code_numbering() -> dict[str, CodeBits]:
    """An empty numbering per kind of code."""
    return {kind: CodeBits() for kind in CODE_KINDS}


class VolunteerTable:
    """The ready volunteers with a free place, as arrays; `rows` are their indices in the problem."""

    def __init__(
        self,
        volunteers: tuple[VolunteerProfile, ...],
        weights: Weights,
        codes: dict[str, CodeBits],
        referrals: tuple[ReferralProfile, ...],
    ) -> None:
        """`codes` is numbered here over both sides (the referrals' codes first), so widths cover both."""
        self.rows = np.array(
            [
                i
                for i, v in enumerate(volunteers)
                if constraints.volunteer_ready(v) and constraints.has_free_capacity(v)
            ],
            dtype=np.int64,
        )
        vols = [volunteers[i] for i in self.rows]
        self._places(vols, referrals)
        self.formats = np.array(
            [sum(1 << FORMATS.index(f) for f in set(v.formats) if f in FORMATS) for v in vols], dtype=np.int64
        )
        self.offers = {fmt: (self.formats & (1 << i)) != 0 for i, fmt in enumerate(FORMATS)}
        self.gender = np.array([v.gender or "" for v in vols], dtype=object)
        self.interprets = np.array([scoring.INTERPRETING in v.specialisms for v in vols], dtype=bool)
        self.start_masks = [weekly.starts(v.availability, v.busy, weights.session_minutes) for v in vols]
        self.starts = bits.pack(self.start_masks, bits.WEEK_WORDS)
        # Filled in by the referral side, which numbers the atoms and codes of both sides together.
        self.hours: npt.NDArray[np.float32] = np.zeros((len(vols), 0), dtype=np.float32)
        self.codes_present: npt.NDArray[np.float32] = np.zeros((len(vols), 0), dtype=np.float32)
        _number_codes(codes, referrals, vols)
        self.width = {kind: codes[kind].words for kind in codes}
        self.code_masks = {kind: [codes[kind].bits(getattr(v, kind)) for v in vols] for kind in codes}
        self.codes = {kind: bits.pack(self.code_masks[kind], self.width[kind]) for kind in codes}
        self.load_points = np.array([scoring.load_points(v, weights) for v in vols], dtype=np.int64)
        self.tag_arrays = _positions_by_tag(vols)
        self._speakers: dict[tuple[str, ...], Positions] = {}
        self._speaker_masks: dict[tuple[str, ...], npt.NDArray[np.bool_]] = {}

    def _places(self, vols: list[VolunteerProfile], referrals: tuple[ReferralProfile, ...]) -> None:
        self.lat = grid.radians([v.lat for v in vols])
        self.lon = grid.radians([v.lon for v in vols])
        self.max_h = np.array([constraints.hundredths(v.max_travel_km) for v in vols], dtype=np.int64)
        self.reach_h = grid.reach_h(self.max_h)
        self.unit = grid.unit_vectors(self.lat, self.lon)
        self.island = np.array([sea.group_number(v.area) for v in vols], dtype=np.int8)
        latitudes = [v.lat for v in vols if v.lat is not None] + [r.lat for r in referrals if r.lat is not None]
        self.grid = grid.Grid(
            max([float(v.max_travel_km) for v in vols] + [1.0]), [(v.lat, v.lon) for v in vols], latitudes
        )

    def speakers(self, wanted: tuple[str, ...]) -> Positions:
        """Positions of volunteers speaking a language compatible with any wanted tag."""
        if wanted not in self._speakers:
            parts = [arr for tag, arr in self.tag_arrays.items() if any(languages.compatible(tag, w) for w in wanted)]
            self._speakers[wanted] = np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)
        return self._speakers[wanted]

    def speaker_mask(self, wanted: tuple[str, ...]) -> npt.NDArray[np.bool_]:
        """The same as speakers(), as a boolean mask over the table (cached: read it, do not write it)."""
        if wanted not in self._speaker_masks:
            mask = np.zeros(self.rows.shape, dtype=bool)
            mask[self.speakers(wanted)] = True
            self._speaker_masks[wanted] = mask
        return self._speaker_masks[wanted]


def _number_codes(
    codes: dict[str, CodeBits], referrals: tuple[ReferralProfile, ...], vols: list[VolunteerProfile]
) -> None:
    """Every referral's codes (with those she marked essential) and then every volunteer's, numbered."""
    for referral in referrals:
        background, experiences, specialisms = referral.background, referral.experiences, referral.specialisms
        if referral.must_match:  # most have none: no new sets for them
            background |= constraints.essential_codes(referral, "background")
            experiences |= constraints.essential_codes(referral, "experience")
            specialisms |= constraints.essential_codes(referral, "specialism")
        codes["background"].bits(background)
        codes["experiences"].bits(experiences)
        codes["interests"].bits(referral.interests)
        codes["specialisms"].bits(specialisms)
    for v in vols:
        for kind in codes:
            codes[kind].bits(getattr(v, kind))


def _positions_by_tag(vols: list[VolunteerProfile]) -> dict[str, Positions]:
    """Per language tag, the positions of the volunteers who speak it."""
    tags: dict[str, list[int]] = {}
    for position, v in enumerate(vols):
        for tag in set(v.languages):
            tags.setdefault(tag, []).append(position)
    return {tag: np.array(sorted(set(p)), dtype=np.int64) for tag, p in tags.items()}
