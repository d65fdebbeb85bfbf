"""Outcome measures (EPDS, PHQ-9, GAD-7, SWEMWBS) and risk reviews."""

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    Field,
    StrictInt,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from api_schemas.common import ApiModel, Note

# Strict: a JSON integer only. `true`, "1" and 1.0 are refused (true in item 10 once escalated a referral).
EpdsAnswers = Annotated[list[Annotated[StrictInt, Field(ge=0, le=3)]], Field(min_length=10, max_length=10)]


class Instrument(StrEnum):
    """The validated measures the service scores. Only the item scores are stored and sent: the service never
    holds the questions' text, which stays with the instruments' owners."""

    EPDS = "EPDS"
    PHQ9 = "PHQ-9"
    GAD7 = "GAD-7"
    SWEMWBS = "SWEMWBS"


@dataclass(frozen=True)
class Scale:
    """How many items an instrument has, each scored lowest..highest; self_harm_item is the 0-based item whose
    score above 0 sends the parent to a clinician, if the instrument has one."""

    items: int
    lowest: int
    highest: int
    self_harm_item: int | None = None


SCALES: dict[Instrument, Scale] = {
    Instrument.EPDS: Scale(items=10, lowest=0, highest=3, self_harm_item=9),  # "The thought of harming myself..."
    Instrument.PHQ9: Scale(items=9, lowest=0, highest=3, self_harm_item=8),  # thoughts of being better off dead
    Instrument.GAD7: Scale(items=7, lowest=0, highest=3),
    Instrument.SWEMWBS: Scale(items=7, lowest=1, highest=5),
}
MOST_ITEMS = max(scale.items for scale in SCALES.values())
_ANSWERS: dict[Instrument, TypeAdapter[list[int]]] = {
    instrument: TypeAdapter(
        Annotated[
            list[Annotated[StrictInt, Field(ge=scale.lowest, le=scale.highest)]],
            Field(min_length=scale.items, max_length=scale.items),
        ]
    )
    for instrument, scale in SCALES.items()
}


class Timepoint(StrEnum):
    baseline = "baseline"
    end = "end"
    other = "other"


class Band(StrEnum):
    """The published severity bands: PHQ-9 (Kroenke, Spitzer and Williams 2001) and GAD-7 (Spitzer et al.
    2006). EPDS has a programme threshold instead, and SWEMWBS a metric score."""

    minimal = "minimal"
    mild = "mild"
    moderate = "moderate"
    moderately_severe = "moderately_severe"
    severe = "severe"


class MeasureIn(ApiModel):
    """One completed measure as item scores, in the instrument's item order, each already scored as printed on
    the scale (EPDS items 3 and 5-10 are reverse-worded on the form: send the score, not the position of the
    tick). The service sums and scores them. EPDS: 10 items 0-3; PHQ-9: 9 items 0-3; GAD-7: 7 items 0-3;
    SWEMWBS: 7 items 1-5, only where the programme records that it holds the licence."""

    instrument: Instrument = Instrument.EPDS
    answers: Annotated[
        list[Annotated[StrictInt, Field(ge=0, le=5)]],
        Field(min_length=1, max_length=MOST_ITEMS, description="As many item scores as the instrument has items"),
    ]
    completed_on: date
    timepoint: Timepoint = Timepoint.baseline

    @field_validator("answers", mode="before")
    @classmethod
    def _fits_the_instrument(cls, value: Any, info: ValidationInfo) -> Any:
        instrument = info.data.get("instrument")
        if instrument is None:  # the instrument itself was refused; that error is enough
            return value
        # Raised as a ValidationError, so each wrong item keeps its own location (["body", "answers", i]).
        items = SCALES[instrument].items
        if isinstance(value, list) and len(value) != items:
            raise _count_error(instrument, items, value)
        return _ANSWERS[instrument].validate_python(value)


def _count_error(instrument: Instrument, items: int, answers: list[Any]) -> ValidationError:
    """Names the first item too many, or the first one missing."""
    index = min(len(answers), items)
    extra = "one item too many" if len(answers) > items else "this item is missing"
    error = PydanticCustomError(
        "answer_count",
        "{instrument} has {items} items: {extra}",
        {"instrument": instrument.value, "items": items, "extra": extra},
    )
    return ValidationError.from_exception_data(
        "answers", [InitErrorDetails(type=error, loc=(index,), input=answers[index] if index < len(answers) else None)]
    )


class EpdsIn(ApiModel):
    """The ten EPDS item scores, already scored 0-3 as printed on the scale (items 3 and 5-10 are
    reverse-worded on the form; send the score, not the position of the tick). The service sums them."""

    instrument: Literal["EPDS"] = "EPDS"
    answers: EpdsAnswers
    completed_on: date
    timepoint: Timepoint = Timepoint.baseline


class MeasureOut(BaseModel):
    id: str
    referral_id: str
    instrument: Instrument
    total: int = Field(description="The sum of the item scores (SWEMWBS: the raw score, 7-35)")
    metric_score: float | None = Field(
        None, description="SWEMWBS only: the raw total converted with the published raw-to-metric table"
    )
    band: Band | None = Field(None, description="PHQ-9 and GAD-7 only: the published severity band of the total")
    timepoint: Timepoint
    completed_on: date
    self_harm_item_positive: bool = Field(
        description="EPDS item 10 or PHQ-9 item 9 above 0: sent to a clinician, not a volunteer"
    )
    at_or_above_threshold: bool = Field(
        description="EPDS: at or above the programme's threshold; PHQ-9 and GAD-7: at or above 10, their "
        "published cut-off for a likely disorder; SWEMWBS: false (a wellbeing score, higher is better)"
    )
    recorded_at: datetime


class RiskOutcome(StrEnum):
    cleared = "cleared"
    # Referred on to clinical care, and peer support goes on beside it: matching, or the match continues.
    continue_alongside_clinical = "continue_alongside_clinical"
    # No matching and no sessions until `until` (or, without it, until a further review).
    pause = "pause"
    # Peer support ends: a waiting parent is declined, a match ends kindly with a no-blame reason.
    end_peer_support = "end_peer_support"
    # Deprecated: `end_peer_support` for a parent not yet matched; refused for a match under way.
    refer_clinical = "refer_clinical"


class RiskReviewIn(ApiModel):
    outcome: RiskOutcome
    note: Note
    until: date | None = Field(None, description="With `pause` only: the first day support may resume")

    @model_validator(mode="after")
    def _until_only_with_pause(self) -> "RiskReviewIn":
        if self.until is not None and self.outcome is not RiskOutcome.pause:
            raise ValueError("until is given only with the pause outcome")
        return self


class RiskReviewOut(BaseModel):
    id: str
    referral_id: str
    outcome: RiskOutcome
    reviewed_at: datetime
    referral_status: str
    until: date | None = Field(None, description="A pause's end; null for a pause until a further review")
    match_id: str | None = Field(None, description="The match under way the outcome applied to, if any")
    match_status: str | None = None
    match_paused: bool = Field(False, description="The match's sessions are on hold")
