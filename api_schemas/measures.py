"""Outcome measures (EPDS) and risk reviews."""

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StrictInt

from api_schemas.common import ApiModel, Note

# Strict: a JSON integer only. `true`, "1" and 1.0 are refused (true in item 10 once escalated a referral).
EpdsAnswers = Annotated[list[Annotated[StrictInt, Field(ge=0, le=3)]], Field(min_length=10, max_length=10)]


class Timepoint(StrEnum):
    baseline = "baseline"
    end = "end"
    other = "other"


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
    instrument: str
    total: int
    timepoint: Timepoint
    completed_on: date
    self_harm_item_positive: bool = Field(description="EPDS item 10 above 0: sent to a clinician, not a volunteer")
    at_or_above_threshold: bool
    recorded_at: datetime


class RiskOutcome(StrEnum):
    cleared = "cleared"
    refer_clinical = "refer_clinical"


class RiskReviewIn(ApiModel):
    outcome: RiskOutcome
    note: Note


class RiskReviewOut(BaseModel):
    id: str
    referral_id: str
    outcome: RiskOutcome
    reviewed_at: datetime
    referral_status: str
