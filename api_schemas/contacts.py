"""Contact notes: the volunteer's note after a session, and the coordinators' other contacts with a parent (a
call while she waits, a check-in during leave). Read by the programme's coordinators and by the volunteer who
wrote the note, never by another volunteer; never copied into events, logs or feeds."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, Field, StringConstraints

from api_schemas.common import ApiModel, Format

ContactNote = Annotated[str, StringConstraints(min_length=1, max_length=2000)]
Minutes = Annotated[int, Field(ge=1, le=600)]


class ContactKind(StrEnum):
    session = "session"  # the note after a support session
    call = "call"
    message = "message"
    visit = "visit"
    other = "other"


class OtherContactKind(StrEnum):
    """What a coordinator records beside the sessions."""

    call = "call"
    message = "message"
    visit = "visit"
    other = "other"


class SessionContactIn(ApiModel):
    """The note after a session. Where the session's attendance is not yet recorded, `attended` records it (the
    first attended session starts the match). `concern: true` answers with where to raise the concern."""

    attended: bool
    format: Format = Field(description="How the session was held")
    minutes: Minutes = Field(description="How long it lasted (1 to 600 minutes)")
    note: ContactNote | None = Field(None, description="At most 2000 characters")
    concern: bool = Field(False, description="I have a concern: the answer links to the concern form")


class OtherContactIn(ApiModel):
    kind: OtherContactKind
    occurred_at: AwareDatetime
    minutes: Minutes | None = None
    note: ContactNote = Field(description="At most 2000 characters")


class ConcernForm(BaseModel):
    """Where to raise the concern the volunteer flagged; recording the note raised none by itself."""

    method: Literal["POST"] = "POST"
    href: str = Field(description="The concerns collection", examples=["/v1/concerns"])
    match_id: str = Field(description="Send it as `match_id` in the concern")


class ContactOut(BaseModel):
    id: str
    referral_id: str
    match_id: str | None
    session_id: str | None
    kind: ContactKind
    attended: bool | None
    format: Format | None
    minutes: int | None
    note: str | None = Field(description="Null once the parent's personal data is erased")
    concern: bool
    occurred_at: datetime
    recorded_by_role: str = Field(description="volunteer, coordinator or admin")
    recorded_at: datetime
    concern_form: ConcernForm | None = Field(
        None, description="Set on the answer to a session note with `concern: true`"
    )
