"""Programme settings: one organisation's service settings."""

from enum import StrEnum
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, StringConstraints, field_validator

from api_schemas.common import ApiModel, Code, LanguageTag
from api_schemas.concerns import ConcernCategory
from api_schemas.feedback import DEFAULT_QUESTIONNAIRE, FeedbackItem
from api_schemas.messages import MessageKind, QuietHours


class BankHolidayRegion(StrEnum):
    scotland = "scotland"
    england = "england"
    wales = "wales"
    northern_ireland = "northern_ireland"


class MatchingWeights(ApiModel):
    """Points per criterion; a proposal's reasons sum to its score."""

    preferred_language: int = Field(30, ge=0, le=1000)
    shared_language: int = Field(15, ge=0, le=1000)
    experience: int = Field(10, ge=0, le=1000)
    background: int = Field(8, ge=0, le=1000)
    interests: int = Field(3, ge=0, le=1000)
    format_rank: int = Field(10, ge=0, le=1000)
    distance: int = Field(10, ge=0, le=1000)
    availability: int = Field(5, ge=0, le=1000)
    waiting: int = Field(2, ge=0, le=1000)
    priority: int = Field(40, ge=0, le=1000)
    load: int = Field(5, ge=0, le=1000)


TemplateId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]
Templates = Annotated[dict[MessageKind, dict[LanguageTag, TemplateId]], Field(max_length=20)]


class MessageSettings(ApiModel):
    """Messages through GOV.UK Notify: the Notify template id for each kind and language (English when her
    language has none), another set for sensitive circumstances, and the quiet hours."""

    templates: Templates = {}
    sensitive_templates: Templates = Field(
        {}, description="Used instead when a referral carries a sensitive code (no baby-themed wording)"
    )
    sensitive_codes: Annotated[list[Code], Field(max_length=50)] = Field(
        [], description="Background or experience codes (bereavement, say) that mark sensitive circumstances"
    )
    quiet_hours: QuietHours = QuietHours()


class ProgrammeSettings(ApiModel):
    time_zone: Annotated[str, StringConstraints(max_length=64, pattern=r"^[A-Za-z][A-Za-z0-9_+/-]*$")] = "Europe/London"
    bank_holiday_region: BankHolidayRegion = BankHolidayRegion.scotland
    planned_sessions: int = Field(8, ge=1, le=52)
    session_minutes: int = Field(60, ge=15, le=240, multiple_of=15)
    max_extension_sessions: int = Field(4, ge=0, le=26)
    ending_conversation_offset: int = Field(
        2, ge=1, le=10, description="The ending conversation is this many sessions before the last"
    )
    rest_days: int = Field(14, ge=0, le=365)
    supervision_interval_days: int = Field(56, ge=1, le=365)
    epds_threshold: int = Field(13, ge=0, le=30)
    matching_weights: MatchingWeights = MatchingWeights()
    volunteer_must_accept: bool = True
    reminder_lead_hours: int = Field(24, ge=1, le=168)
    birth_pause_weeks_before: int = Field(
        0,
        ge=0,
        le=8,
        description=(
            "Weeks before a pregnant parent's due date with no sessions (0 with weeks_after 0: no birth pause)"
        ),
    )
    birth_pause_weeks_after: int = Field(
        0,
        ge=0,
        le=16,
        description=("Weeks after the due date with no sessions; a telephone check-in is offered in the pause instead"),
    )
    blocking_concern_categories: Annotated[list[ConcernCategory], Field(max_length=6)] = Field(
        default_factory=lambda: [ConcernCategory.child_protection, ConcernCategory.self_harm_or_suicide],
        description="Safeguarding concerns of these categories pause the match's sessions until a lead closes them",
    )
    swemwbs_licensed: bool = Field(
        False,
        description="The programme holds a licence for the SWEMWBS (Warwick Medical School); without it the "
        "service refuses SWEMWBS measures",
    )
    feedback_questionnaire: Annotated[list[FeedbackItem], Field(max_length=30)] = Field(
        default_factory=lambda: list(DEFAULT_QUESTIONNAIRE),
        description="The end-of-support questionnaire for parents and volunteers (POST /v1/matches/{id}/feedback)",
    )

    messages: MessageSettings = MessageSettings()

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
            raise ValueError("unknown IANA time zone") from exc
        return value
