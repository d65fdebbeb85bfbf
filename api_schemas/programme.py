"""Programme settings: one organisation's service settings."""

import re
from enum import StrEnum
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, Field, StringConstraints, field_validator

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


# The personalisation fields an email text may name, as Notify's templates do: ((first_name)).
EMAIL_FIELDS = frozenset({"first_name", "other_first_name", "format", "date", "time", "place"})
_PLACEHOLDER = re.compile(r"\(\(([^()]*)\)\)")


def _known_fields(text: str) -> str:
    unknown = sorted(set(_PLACEHOLDER.findall(text)) - EMAIL_FIELDS)
    if unknown:
        raise ValueError(f"unknown fields {unknown}; known: {sorted(EMAIL_FIELDS)}")
    return text


class EmailText(ApiModel):
    """An email's subject and plain-text body for the smtp channel, with ((field)) placeholders as in Notify."""

    subject: Annotated[str, StringConstraints(min_length=1, max_length=150), AfterValidator(_known_fields)]
    body: Annotated[str, StringConstraints(min_length=1, max_length=2000), AfterValidator(_known_fields)]


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
    email_texts: Annotated[dict[MessageKind, dict[LanguageTag, EmailText]], Field(max_length=20)] = Field(
        {},
        description="For the smtp channel: subject and body per kind and language (a built-in neutral text where "
        "none is set; a referral with a sensitive code always gets the built-in one)",
    )


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
    in_person_max_travel_km: float = Field(
        10.0, ge=0, le=200, description="How far a parent travels to a venue, unless her referral says otherwise"
    )
    feed_shows_first_names: bool = Field(
        False,
        description="Calendar feed titles name the parent by first name; off, they say only the format "
        '("Peer support: home visit"), since a feed syncs to calendar services outside the programme',
    )
    check_out_grace_minutes: int = Field(
        30,
        ge=5,
        le=480,
        description="Lone working: minutes after a home visit's planned end without the volunteer's check-out "
        "before `volunteer.safety_check_missed` alerts the coordinators",
    )
    required_training_modules: Annotated[list[Code], Field(max_length=50)] = Field(
        [],
        description="Training modules a volunteer must hold, unexpired, to be offered a new match (module codes "
        "as recorded at `/v1/volunteers/{id}/training`)",
    )
    feedback_questionnaire: Annotated[list[FeedbackItem], Field(max_length=30)] = Field(
        default_factory=lambda: list(DEFAULT_QUESTIONNAIRE),
        description="The end-of-support questionnaire for parents and volunteers (POST /v1/matches/{id}/feedback)",
    )

    messages: MessageSettings = MessageSettings()
    retention_months_after_end: int | None = Field(
        24,
        ge=1,
        le=240,
        description="A referral whose match ended (or that was declined or withdrawn), and a volunteer who left, "
        "this many months ago are anonymised as erasure does, by a daily job; null keeps them",
    )

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
            raise ValueError("unknown IANA time zone") from exc
        return value
