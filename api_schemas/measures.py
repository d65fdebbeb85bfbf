"""Outcome measures (EPDS) and risk reviews."""

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StrictInt, model_validator

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
