"""Match runs, proposals, suggestions and matches on the wire."""

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from api_schemas.common import ApiModel, Code, ShortText
from api_schemas.venues import VenueRef


class Reason(BaseModel):
    """One criterion's points for a pair: `code` and `params` for software (count and compare them), `detail`
    the same in a sentence for a coordinator. Reasons stored before codes existed have code null."""

    criterion: str
    points: int
    detail: str
    code: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)


class Cause(BaseModel):
    """Why a referral was left unmatched: a code (the `UnmatchedReason` values of reports) with its numbers
    (`stages`: how many volunteers were left after each hard rule) and the sentence."""

    code: str
    params: dict[str, Any] = Field(default_factory=dict)
    sentence: str


class ProposalStatus(StrEnum):
    open = "open"
    accepted = "accepted"
    rejected = "rejected"
    expired = "expired"


class ProposalOut(BaseModel):
    id: str
    run_id: str
    referral_id: str
    volunteer_id: str
    score: int
    fit: int = Field(description="Score over the best possible for her, 0-100")
    format: str
    reasons: list[Reason]
    status: ProposalStatus
    venue: VenueRef | None = Field(None, description="The venue chosen for an in-person proposal")


class UnmatchedExplanation(BaseModel):
    """Why she was left unmatched: `code` and `params` as in `Cause` (null code: kept from before codes), `detail`
    the sentence, naming the parent by role, with grammatical counts."""

    code: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    detail: str


class NotReadyOut(BaseModel):
    """A volunteer who would fit her but is not ready now."""

    volunteer_id: str
    first_name: str | None
    reason_code: str = Field(
        description="A readiness code (supervision_overdue, check_expired, on_leave, resting, untrained, ...) or full"
    )
    until: date | None = Field(None, description="The day she is ready again, when every reason ends by itself")


class NearestChange(BaseModel):
    """A change that would match her: a format she did not choose, a wider travel distance, or a volunteer's
    return on a date; `would_match` is how many volunteers would then fit her."""

    change: Literal["format", "travel", "wait"]
    detail: str
    would_match: int


class UnmatchedOut(BaseModel):
    referral_id: str
    reasons: list[UnmatchedExplanation] = Field(description="Why, each as a code with its numbers and a sentence")
    not_ready: list[NotReadyOut] = Field(
        default_factory=list,
        description="Volunteers who would fit her but are not ready (or full): in a match run's answer the first 10 "
        "by id, every one in suggestions",
    )
    not_ready_count: int = Field(0, description="How many volunteers would fit her but are not ready (or full)")
    nearest_changes: list[NearestChange] = Field(
        default_factory=list, description="The changes that would match her, the most volunteers first"
    )
    causes: list[Cause] = Field(default_factory=list, description="The reasons as before (code, params, sentence)")


class MatchRunStats(BaseModel):
    referrals: int
    volunteers: int
    candidate_pairs: int
    matched: int
    total_score: int
    optimal: bool
    candidate_seconds: float
    solve_seconds: float


class MatchRunIn(ApiModel):
    referral_ids: (
        Annotated[
            list[Annotated[str, Field(max_length=36)]],
            Field(min_length=1, max_length=10_000, description="The referrals to solve; absent: every waiting one"),
        ]
        | None
    ) = None


class MatchRunStatus(StrEnum):
    """A run is a job: `queued` until a worker takes it, then its stages, then `done` (with its result) or
    `failed` (with an `error`, and nothing written)."""

    queued = "queued"
    building = "building"
    solving = "solving"
    saving = "saving"
    done = "done"
    failed = "failed"


Stage = Literal["loading", "building", "solving", "saving"]


class MatchRunProgress(BaseModel):
    """How far a run has got: candidate pairs once built, the round of the seeded solve (large runs solve in
    rounds; a small one has round 1 only), and each stage's seconds once that stage has ended."""

    pairs_built: int | None = None
    solve_round: int | None = None
    stage_seconds: dict[Stage, float] = Field(default_factory=dict)


class MatchRunOut(BaseModel):
    """A run as it stands; `proposals`, `unmatched` and `stats` once it is `done`, `error` if it `failed`."""

    id: str
    created_at: datetime
    status: MatchRunStatus = MatchRunStatus.done
    progress: MatchRunProgress = Field(default_factory=MatchRunProgress)
    error: str | None = None
    proposals: list[ProposalOut] | None = None
    unmatched: list[UnmatchedOut] | None = None
    stats: MatchRunStats | None = None


class RejectIn(ApiModel):
    reason: Code = Field(description="A reject_reasons code")


class SuggestionOut(BaseModel):
    volunteer_id: str
    score: int
    fit: int
    format: str
    reasons: list[Reason]
    venue: VenueRef | None = Field(
        None, description="Where they would meet in person: the venue a match made without naming one takes"
    )


class SuggestionPage(BaseModel):
    """The best volunteers for her; when there are none, `unmatched` says why and what would change it."""

    items: list[SuggestionOut]
    next_cursor: str | None = None
    unmatched: UnmatchedOut | None = Field(None, description="Why no volunteer can be suggested (items empty)")


class MatchIn(ApiModel):
    referral_id: Annotated[str, Field(max_length=36)]
    volunteer_id: Annotated[str, Field(max_length=36)]
    override_reason: ShortText | None = Field(None, description="Needed when a hard constraint is broken; audited")
    venue_id: Annotated[str, Field(max_length=36)] | None = Field(
        None, description="An active venue, for a match meeting in person"
    )


class MatchStatus(StrEnum):
    pending = "pending"
    scheduled = "scheduled"
    active = "active"
    ending = "ending"
    ended = "ended"
    declined = "declined"
    cancelled = "cancelled"


MatchStatusWire = MatchStatus  # the earlier name, kept for importers of api_schemas


class MatchOut(BaseModel):
    id: str
    referral_id: str
    volunteer_id: str
    proposal_id: str | None
    status: MatchStatus
    format: str
    score: int | None
    reasons: list[Reason]
    override_reason: str | None
    planned_sessions: int
    extension_sessions: int
    outcome: str | None
    end_reason: str | None
    ended_initiated_by: str | None
    unplanned_reason: str | None = Field(description="Why no session plan could be made, if none was")
    created_at: datetime
    confirmed_at: datetime | None
    ended_on: date | None
    venue: VenueRef | None = Field(None, description="Where an in-person match meets")


class ExtensionIn(ApiModel):
    sessions: Annotated[int, Field(ge=1, le=26)]
    parent_agrees: bool
    volunteer_agrees: bool


class CoverChoice(StrEnum):
    wait_for_return = "wait_for_return"
    cover = "cover"
    rematch = "rematch"


class CoverIn(ApiModel):
    """What to do about the sessions that need cover: wait for the volunteer's return (they are planned after
    her leave, the ending moves with them), a short cover by another volunteer (`volunteer_id`, one of
    `GET /v1/matches/{id}/cover-suggestions`; the match stays the first volunteer's), or end the match kindly and
    find the parent a new volunteer."""

    choice: CoverChoice
    volunteer_id: Annotated[str | None, Field(max_length=36)] = None


class InitiatedBy(StrEnum):
    parent = "parent"
    volunteer = "volunteer"
    coordinator = "coordinator"


class EndIn(ApiModel):
    """An early ending: a reason code, who asked, never who is to blame."""

    reason: Code = Field(description="An end_reasons code")
    initiated_by: InitiatedBy
    rematch: bool = False
