"""Safeguarding concerns: raised by a volunteer after a contact or by a coordinator, handled by the programme's
safeguarding leads. The account of what happened and the leads' notes never leave these routes."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, Field, StringConstraints, model_validator

from api_schemas.common import ApiModel, Note

WhatHappened = Annotated[str, StringConstraints(min_length=1, max_length=4000)]


class ConcernCategory(StrEnum):
    child_protection = "child_protection"
    domestic_abuse = "domestic_abuse"
    self_harm_or_suicide = "self_harm_or_suicide"
    parent_wellbeing = "parent_wellbeing"
    volunteer_safety = "volunteer_safety"
    other = "other"


class ConcernStatus(StrEnum):
    open = "open"  # raised; no lead has acted yet
    acknowledged = "acknowledged"  # a lead recorded an action
    closed = "closed"  # a lead closed it with an outcome


class ConcernAction(StrEnum):
    discussed_with_volunteer = "discussed_with_volunteer"
    contacted_parent = "contacted_parent"
    contacted_referrer = "contacted_referrer"
    referred_to_social_work = "referred_to_social_work"
    referred_to_health = "referred_to_health"
    referred_to_police = "referred_to_police"
    safety_plan_agreed = "safety_plan_agreed"
    other = "other"


class ConcernOutcome(StrEnum):
    no_further_action = "no_further_action"
    support_continues_with_plan = "support_continues_with_plan"
    referred_to_social_work = "referred_to_social_work"
    referred_to_health = "referred_to_health"
    referred_to_police = "referred_to_police"
    peer_support_ended = "peer_support_ended"
    other = "other"


class ConcernIn(ApiModel):
    """About the parent of a match (`match_id`; a volunteer only for her own) or of a referral not yet matched
    (`referral_id`; coordinators). Exactly one of the two."""

    match_id: Annotated[str, StringConstraints(max_length=36)] | None = None
    referral_id: Annotated[str, StringConstraints(max_length=36)] | None = None
    category: ConcernCategory
    what_happened: WhatHappened = Field(description="What was seen or said (at most 4000 characters)")
    occurred_at: AwareDatetime
    immediate_action: Note | None = Field(None, description="What was done at once (at most 2000 characters)")

    @model_validator(mode="after")
    def _one_subject(self) -> "ConcernIn":
        if (self.match_id is None) == (self.referral_id is None):
            raise ValueError("give exactly one of match_id and referral_id")
        return self


class ConcernActionIn(ApiModel):
    action: ConcernAction
    note: Note | None = None


class ConcernCloseIn(ApiModel):
    outcome: ConcernOutcome
    note: Note | None = None


class ConcernActionOut(BaseModel):
    id: str
    action: ConcernAction
    note: str | None
    recorded_at: datetime


class ConcernOut(BaseModel):
    """A safeguarding lead's view: everything recorded about the concern."""

    id: str
    referral_id: str
    match_id: str | None
    category: ConcernCategory
    status: ConcernStatus
    blocking: bool = Field(description="Its category pauses the match's sessions until it is closed")
    what_happened: str | None = Field(description="Null once the parent's personal data was erased")
    occurred_at: datetime
    immediate_action: str | None
    raised_by_role: str
    raised_at: datetime
    actions: list[ConcernActionOut]
    outcome: ConcernOutcome | None
    outcome_note: str | None
    closed_at: datetime | None


class MyConcernOut(BaseModel):
    """What the volunteer who raised a concern sees of it: its status, never the leads' actions or notes."""

    id: str
    match_id: str | None
    category: ConcernCategory
    status: ConcernStatus
    occurred_at: datetime
    raised_at: datetime
    closed_at: datetime | None
