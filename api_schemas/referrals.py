"""Referrals: what referring systems and coordinators post, and what each role reads back."""

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints, field_validator, model_validator

from api_schemas.common import (
    ApiModel,
    Availability,
    AvailabilityWindow,
    Codes,
    Email,
    ExternalId,
    Formats,
    Languages,
    LanguageTag,
    Location,
    Name,
    Phone,
    Postcode,
    ShortText,
)
from api_schemas.measures import EpdsIn
from api_schemas.messages import ContactPreferences


class ReferrerRole(StrEnum):
    health_visitor = "health_visitor"
    midwife = "midwife"
    gp = "gp"
    perinatal_team = "perinatal_team"
    self = "self"
    other = "other"


class ParentRole(StrEnum):
    mother = "mother"
    father = "father"
    co_parent = "co_parent"


class ReferralStatus(StrEnum):
    waiting = "waiting"
    proposed = "proposed"
    matched = "matched"
    active = "active"
    ended = "ended"
    escalated = "escalated"
    withdrawn = "withdrawn"
    declined = "declined"


class VolunteerGender(StrEnum):
    any = "any"
    female = "female"
    male = "male"
    non_binary = "non_binary"


MustMatch = Annotated[
    str,
    StringConstraints(
        pattern=(
            r"^(language|volunteer_gender|background:[a-z][a-z0-9_]{0,63}|experience:[a-z][a-z0-9_]{0,63}"
            r"|specialism:[a-z][a-z0-9_]{0,63})$"
        )
    ),
]


AddressLine = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
AccessNotes = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=500),
    Field(description="How to reach her door: entry code, which bell, a dog, parking (shown to her volunteer)"),
]
TravelKm = Annotated[
    float, Field(gt=0, le=200, description="How far she can travel to a venue, in km (the programme's default if null)")
]


class HomeAddress(ApiModel):
    """Her home address, for home visits only: her volunteer reads it while their match is accepted."""

    lines: Annotated[list[AddressLine], Field(min_length=1, max_length=4)]
    postcode: Postcode | None = Field(
        None, description="Must be the parent's own postcode (the one matching measured distances from)"
    )


class InterpreterNeed(ApiModel):
    """An interpreter she needs: where one can be arranged, a volunteer sharing no language with her can still
    support her in that format (telephone and video on a three-way call; home visits and venues with an
    interpreter present)."""

    language: LanguageTag = Field(description="BCP 47 tag of the language to interpret, e.g. ti")
    three_way_calls: bool = Field(False, description="A three-way telephone or video call can be arranged")
    at_visits: bool = Field(False, description="An interpreter can come to home visits and venue meetings")


class Needs(ApiModel):
    """What would help her beyond language and background: volunteers' `specialisms` (codes of the specialisms
    vocabulary) earn points, and `specialism:<code>` in must_match makes one essential."""

    specialisms: Codes = []
    interpreter: InterpreterNeed | None = None


class Referrer(ApiModel):
    organisation: Name
    role: ReferrerRole


class Parent(ApiModel):
    name: Name
    role: ParentRole = ParentRole.mother
    phone: Phone | None = None
    email: Email | None = None
    postcode: Postcode | None = None
    location: Location | None = None
    due_date: date | None = None
    baby_birth_date: date | None = None
    address: HomeAddress | None = None
    access_notes: AccessNotes | None = None
    max_travel_km: TravelKm | None = None

    @model_validator(mode="after")
    def _place_and_window(self) -> "Parent":
        if (self.postcode is None) == (self.location is None):
            raise ValueError("give exactly one of postcode or location")
        if self.due_date is None and self.baby_birth_date is None:
            raise ValueError("give due_date (pregnant) or baby_birth_date")
        if self.phone is None and self.email is None:
            raise ValueError("give a phone number or an email address, so she can be contacted")
        return self


SimdQuintile = Annotated[
    int | None,
    Field(
        ge=1,
        le=5,
        description="Scottish Index of Multiple Deprivation quintile of her home's data zone, where the referrer "
        "knows it: 1 is the most deprived fifth, 5 the least. For reports only (docs/decisions/0020)",
    ),
]


class Consent(ApiModel):
    share_with_volunteer: bool
    contact: bool
    given_on: date

    @field_validator("share_with_volunteer", "contact")
    @classmethod
    def _must_be_true(cls, value: bool) -> bool:
        if not value:
            raise ValueError("must be true: peer support needs this consent")
        return value


class ReferralIn(ApiModel):
    external_id: ExternalId | None = Field(None, description="Unique per source; required for integrators")
    referrer: Referrer
    parent: Parent
    languages: Languages = Field(description="BCP 47 tags; the first is preferred")
    formats: Formats = Field(description="Acceptable formats, in order of preference")
    availability: Availability = Field(min_length=1)
    background: Codes = []
    experiences: Codes = []
    interests: Codes = []
    volunteer_gender: VolunteerGender = VolunteerGender.any
    must_match: Annotated[list[MustMatch], Field(max_length=20)] = []
    simd_quintile: SimdQuintile = None
    needs: Needs = Field(Needs(), description="Specialisms that would help her, and an interpreter")
    consent: Consent
    epds: EpdsIn | None = Field(None, description="A baseline EPDS, if the referrer has one")
    contact_preferences: ContactPreferences = Field(
        ContactPreferences(), description="How she wants messages (none unless she chose a channel)"
    )


class ParentPatch(ApiModel):
    name: Name | None = None
    phone: Phone | None = None
    email: Email | None = None
    postcode: Postcode | None = None
    location: Location | None = None
    due_date: date | None = None
    baby_birth_date: date | None = None
    address: HomeAddress | None = Field(None, description="Replaces the whole address; null removes it")
    access_notes: AccessNotes | None = Field(None, description="Null removes them")
    max_travel_km: TravelKm | None = Field(None, description="Null returns her to the programme's default")


class ContactConsent(ApiModel):
    contact: bool


class ConsentOut(BaseModel):
    share_with_volunteer: bool
    contact: bool = Field(description="False once she withdrew consent to contact: no message is sent")
    given_on: date


class ReferralPatch(ApiModel):
    referrer: Referrer | None = None
    parent: ParentPatch | None = None
    languages: Languages | None = None
    formats: Formats | None = None
    availability: Availability | None = None
    background: Codes | None = None
    experiences: Codes | None = None
    interests: Codes | None = None
    volunteer_gender: VolunteerGender | None = None
    must_match: Annotated[list[MustMatch], Field(max_length=20)] | None = None
    simd_quintile: SimdQuintile = None
    needs: Needs | None = None
    contact_preferences: ContactPreferences | None = None
    consent: ContactConsent | None = Field(None, description="She may withdraw (or give again) consent to contact")


class WithdrawIn(ApiModel):
    reason: ShortText


class ParentOut(BaseModel):
    name: str | None
    role: ParentRole
    phone: str | None
    email: str | None
    postcode: str | None
    location: Location | None
    due_date: date | None
    baby_birth_date: date | None
    address: HomeAddress | None = None
    access_notes: str | None = None
    max_travel_km: float | None = None


class ReferralOut(BaseModel):
    """A coordinator's full view of a referral."""

    id: str
    source: str
    external_id: str | None
    status: ReferralStatus
    referrer: Referrer
    parent: ParentOut
    area: str | None = Field(description="Postcode district, for reports and capacity")
    languages: list[str]
    formats: list[str]
    availability: list[AvailabilityWindow]
    background: list[str]
    experiences: list[str]
    interests: list[str]
    volunteer_gender: VolunteerGender
    must_match: list[str]
    simd_quintile: SimdQuintile = None
    needs: Needs = Field(Needs(), description="Specialisms that would help her, and an interpreter")
    consent: ConsentOut
    contact_preferences: ContactPreferences
    priority: bool = Field(description="Goes ahead of newer referrals (a rematch after an early ending)")
    risk_review_pending: bool = Field(description="A safety alert awaits a coordinator's risk review")
    paused_until: date | None = Field(
        None, description="A risk review paused her before matching; she waits for a volunteer again on this day"
    )
    withdrawn_reason: str | None
    received_at: datetime
    updated_at: datetime
    erased_at: datetime | None = Field(
        None, description="Set when an admin erased her personal data; those fields are then null or empty"
    )


class ReferralStatusOut(BaseModel):
    """What an integrator reads back: status and dates, never volunteers' details."""

    id: str
    external_id: str | None
    status: ReferralStatus
    received_at: datetime
    updated_at: datetime
    erased_at: datetime | None = Field(None, description="Set when her personal data was erased")
