"""Each instrument's published scoring: totals, severity bands, cut-offs and the SWEMWBS metric conversion.

Sources: PHQ-9 bands 5/10/15/20 and cut-off 10 (Kroenke, Spitzer and Williams 2001, J Gen Intern Med 16:606);
GAD-7 bands 5/10/15 and cut-off 10 (Spitzer et al. 2006, Arch Intern Med 166:1092); SWEMWBS raw-to-metric
conversion from its Rasch analysis (Stewart-Brown et al. 2009, Health Qual Life Outcomes 7:15), as printed
in the Warwick Medical School SWEMWBS conversion table (checked row for row on 2026-12-07, see
tests/service/test_measures.py); EPDS is summed and compared with the programme's own threshold."""

from dataclasses import dataclass

from api_schemas.measures import SCALES, Band, Instrument

# Raw total (7-35) to metric score. The conversion is not linear: the Rasch model stretches both ends.
SWEMWBS_METRIC: dict[int, float] = {
    7: 7.00,
    8: 9.51,
    9: 11.25,
    10: 12.40,
    11: 13.33,
    12: 14.08,
    13: 14.75,
    14: 15.32,
    15: 15.84,
    16: 16.36,
    17: 16.88,
    18: 17.43,
    19: 17.98,
    20: 18.59,
    21: 19.25,
    22: 19.98,
    23: 20.73,
    24: 21.54,
    25: 22.35,
    26: 23.21,
    27: 24.11,
    28: 25.03,
    29: 26.02,
    30: 27.03,
    31: 28.13,
    32: 29.31,
    33: 30.70,
    34: 32.55,
    35: 35.00,
}
# The lowest total of each band, highest first.
BANDS: dict[Instrument, tuple[tuple[int, Band], ...]] = {
    Instrument.PHQ9: (
        (20, Band.severe),
        (15, Band.moderately_severe),
        (10, Band.moderate),
        (5, Band.mild),
        (0, Band.minimal),
    ),
    Instrument.GAD7: ((15, Band.severe), (10, Band.moderate), (5, Band.mild), (0, Band.minimal)),
}
PUBLISHED_CUT_OFF = {Instrument.PHQ9: 10, Instrument.GAD7: 10}


@dataclass(frozen=True)
class Score:
    total: int
    self_harm_item: int  # that item's score; 0 when the instrument has no such item
    metric_score: float | None
    band: Band | None


def score(instrument: Instrument, answers: list[int]) -> Score:
    """The answers have already been checked against the instrument's item count and range."""
    scale = SCALES[instrument]
    total = sum(answers)
    return Score(
        total=total,
        self_harm_item=0 if scale.self_harm_item is None else answers[scale.self_harm_item],
        metric_score=metric_score(instrument, total),
        band=band(instrument, total),
    )


def metric_score(instrument: Instrument, total: int) -> float | None:
    return SWEMWBS_METRIC[total] if instrument is Instrument.SWEMWBS else None


def band(instrument: Instrument, total: int) -> Band | None:
    return next((name for lowest, name in BANDS.get(instrument, ()) if total >= lowest), None)


def at_or_above_threshold(instrument: Instrument, total: int, *, epds_threshold: int) -> bool:
    """EPDS against the programme's threshold, PHQ-9 and GAD-7 against their published cut-off; a wellbeing
    score has no threshold of this kind (higher is better)."""
    if instrument is Instrument.EPDS:
        return total >= epds_threshold
    cut_off = PUBLISHED_CUT_OFF.get(instrument)
    return cut_off is not None and total >= cut_off
