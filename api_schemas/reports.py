"""Reports for coordinators: outcomes over a period and today's capacity, for the programme itself or for funders.

Audience. `internal` (the default, for the programme's coordinators) shows every count exactly. `external`
(for funders and anyone outside) applies small-number suppression:
- Primary: a count of 1 to 4 people is shown as the string "<5" (0 and 5 or more are shown as numbers), and a
  figure derived from such a count (a rate, median, percentile or mean) is null. In a cell with 1 to 4 people
  in it, every count is "<5" and every derived figure null.
- Secondary: where the cells of a breakdown add up to a shown total (every person sits in one cell), enough
  further cells are shown as "suppressed" that no "<5" can be worked out by subtracting the shown cells from the
  total; the smallest cells go first, and the total itself when the cells run out. A rate whose numerator or
  denominator is withheld is null."""

import re
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field

from api_schemas.common import ApiModel

SUPPRESSED = "<5"
WITHHELD = "suppressed"  # secondary suppression: any size, withheld so that a "<5" cannot be subtracted back
SMALLEST_SHOWN = 5
EARLIEST_DAY, LATEST_DAY = date(2000, 1, 1), date(2099, 12, 31)
MAX_GROUPS = 5000  # the UK has about 3,100 postcode districts; languages and formats are fewer

Count = Annotated[
    Annotated[int, Field(ge=0)] | Literal["<5", "suppressed"],
    Field(
        description='People (or matches). External reports only: "<5" when 1 to 4 are behind it, "suppressed" '
        'when withheld so that a "<5" cannot be worked out by subtraction'
    ),
]
Rate = Annotated[
    float | None,
    Field(ge=0, le=1, description="0 to 1, three decimals; null when suppressed or when nobody is in the denominator"),
]
Days = Annotated[
    int | None,
    Field(
        ge=0,
        le=40_000,
        description="Calendar days in the programme's time zone; null when suppressed or when there are none",
    ),
]
EpdsChange = Annotated[
    float | None, Field(ge=-30, le=30, description="Two decimals; null when suppressed or when there are no pairs")
]
PerMatch = Annotated[
    float | None, Field(ge=0, le=1000, description="Two decimals; null when suppressed or when there are no matches")
]


def counted(description: str) -> Any:
    """A count field's description, with the suppression rule spelt out in the OpenAPI document."""
    return Field(description=f'{description}. External reports: "<5" when 1 to 4 are behind it, or "suppressed"')


Group = Annotated[str, Field(min_length=1, max_length=64, description='The group; "unknown" when not recorded')]


def _iso_only(value: Any) -> Any:
    if isinstance(value, str) and not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise ValueError("must be a date as YYYY-MM-DD")
    return value


def _in_range(value: date) -> date:
    if not EARLIEST_DAY <= value <= LATEST_DAY:
        raise ValueError(f"must be between {EARLIEST_DAY} and {LATEST_DAY}")
    return value


ReportDay = Annotated[date, BeforeValidator(_iso_only), AfterValidator(_in_range)]


class Audience(StrEnum):
    internal = "internal"
    external = "external"


class ReportPeriod(ApiModel):
    """The local days whose referrals the report follows, both ends included; null is open-ended."""

    model_config = ConfigDict(validate_by_name=True, validate_by_alias=True, serialize_by_alias=True)

    from_day: date | None = Field(alias="from")
    to_day: date | None = Field(alias="to")
    time_zone: Annotated[str, Field(max_length=64)]


class OutcomeFigures(ApiModel):
    """What happened to the referrals received in the period. Every person sits in one cell of each breakdown:
    her first (preferred) format and language, her referrer's role, her area, her own role, her stage at
    referral; and in one cell for each of her background codes."""

    received: Count = counted("Referrals received in the period")
    matched: Count = counted("Of them, matched: a volunteer accepted a match for her")
    started: Count = counted("Of them, started: at least one session attended")
    take_up: Rate = Field(description="started ÷ received")
    ended_early: Count = counted("Started, and her latest started match ended early")
    drop_out: Rate = Field(description="ended_early ÷ started")
    days_to_match_median: Days = Field(description="Referral to the first match confirmed (nearest rank)")
    days_to_match_p90: Days = Field(description="90th percentile, nearest rank")
    days_to_first_session_median: Days = Field(description="Referral to the first attended session (nearest rank)")
    days_to_first_session_p90: Days = Field(description="90th percentile, nearest rank")
    matches: Count = counted("Matches confirmed for these referrals (a rematch is a second match)")
    sessions_per_match: PerMatch = Field(description="Attended sessions ÷ matches confirmed")
    epds_baselines: Count = counted("People with a baseline EPDS")
    epds_flagged: Count = counted("Baseline EPDS total at or above the programme's threshold (flagged, never blocked)")
    epds_pairs: Count = counted("People with a baseline and an end EPDS")
    epds_mean_change: EpdsChange = Field(
        description="Mean of end total - baseline total over the pairs; negative is fewer symptoms"
    )
    epds_improved: Count = counted("Pairs whose end total is lower than the baseline")
    epds_share_improved: Rate = Field(description="epds_improved ÷ epds_pairs")
    unmatched: Count = counted("Still unmatched today: waiting, proposed or escalated")


class OutcomeGroup(OutcomeFigures):
    group: Group


OutcomeGroups = Annotated[list[OutcomeGroup], Field(max_length=MAX_GROUPS)]


class OutcomeBreakdowns(ApiModel):
    format: OutcomeGroups = Field(description="By her first (preferred) format")
    language: OutcomeGroups = Field(description="By her first (preferred) language")
    referrer_role: OutcomeGroups
    area: OutcomeGroups = Field(description="By postcode district")
    parent_role: OutcomeGroups = Field(description="By the parent's own role: mother, father, co-parent, ...")
    stage_at_referral: OutcomeGroups = Field(
        description="antenatal (a due date, the baby not yet born on the day of the referral), postnatal, or unknown"
    )
    background: OutcomeGroups = Field(
        description="By each of her background codes (refugee or asylum, ethnic minority, rural, ...); a parent with "
        'several counts in each, so these cells add up to the total or more; "none_recorded" when she has none'
    )
    simd_quintile: OutcomeGroups = Field(
        description='By the SIMD quintile of her home (1 most deprived to 5), "unknown" when not given'
    )
    month: OutcomeGroups = Field(description="By the month (YYYY-MM, programme time zone) she was referred in")


class UnmatchedReason(StrEnum):
    """Why a referral received in the period is still unmatched. For a waiting referral: the last match run
    that considered her, when it left her out; `awaiting_a_match_run` when no run has, or the last one
    proposed her and that proposal came to nothing."""

    no_volunteer_speaks_her_language = "no_volunteer_speaks_her_language"
    no_volunteer_offers_her_formats = "no_volunteer_offers_her_formats"
    no_volunteer_can_reach_her = "no_volunteer_can_reach_her"
    no_volunteer_matches_her_essentials = "no_volunteer_matches_her_essentials"
    no_shared_free_hour = "no_shared_free_hour"
    every_candidate_rejected_or_declined = "every_candidate_rejected_or_declined"
    needed_for_someone_else = "needed_for_someone_else"
    other_run_reason = "other_run_reason"
    awaiting_a_match_run = "awaiting_a_match_run"
    proposal_awaiting_decision = "proposal_awaiting_decision"
    risk_review_pending = "risk_review_pending"


class UnmatchedCount(ApiModel):
    reason: UnmatchedReason
    referrals: Count


class EpdsChangeSpread(ApiModel):
    """How the EPDS change (end total - baseline total) is spread over all the pairs of the period. Quartiles
    and median are nearest rank; the standard deviation is the sample one (n - 1). All null when the pairs are
    withheld (external reports: 1 to 4 pairs, or withheld to protect another cell) or there are none."""

    pairs: Count = counted("People with a baseline and an end EPDS")
    mean: EpdsChange = None
    sd: Annotated[float | None, Field(ge=0, le=30, description="Sample standard deviation, two decimals")] = None
    p25: Annotated[int | None, Field(ge=-30, le=30, description="Lower quartile")] = None
    median: Annotated[int | None, Field(ge=-30, le=30)] = None
    p75: Annotated[int | None, Field(ge=-30, le=30, description="Upper quartile")] = None


class FeedbackFigures(ApiModel):
    """Answers to one item of the end-of-support questionnaire, from one kind of respondent, for the matches of
    the period's referrals. Short-text answers are never reported."""

    respondent: Literal["parent", "volunteer"]
    item: Annotated[str, Field(max_length=64, description="The item's code")]
    answer_type: Literal["scale_1_5", "yes_no"]
    answers: Count = counted("Respondents who answered it")
    mean: Annotated[float | None, Field(ge=1, le=5, description="scale_1_5: the mean answer, two decimals")] = None
    yes: Count | None = Field(None, description='yes_no: how many said yes; "suppressed" when the noes are 1 to 4')


class OutcomesReport(ApiModel):
    period: ReportPeriod
    audience: Audience
    generated_at: datetime
    epds_threshold: Annotated[int, Field(ge=0, le=30)]
    total: OutcomeFigures
    breakdowns: OutcomeBreakdowns
    epds_change: EpdsChangeSpread = Field(description="The spread of the EPDS change over the period's pairs")
    feedback: Annotated[list[FeedbackFigures], Field(max_length=120)] = Field(
        [], description="Per questionnaire item and respondent, in the questionnaire's order"
    )
    unmatched_by_reason: Annotated[list[UnmatchedCount], Field(max_length=len(UnmatchedReason))]


class CapacityFigures(ApiModel):
    ready_volunteers: Count = counted("Volunteers who may be offered a new match today")
    free_places: Annotated[
        int | None,
        Field(
            ge=0,
            description="New parents the ready volunteers can take: "
            "per volunteer the lesser of max_parents and "
            "max_sessions_per_week, less her current parents; "
            "null when ready_volunteers is withheld",
        ),
    ]
    waiting_referrals: Count = counted("Referrals in status waiting")


class CapacityGroup(CapacityFigures):
    group: Group


CapacityGroups = Annotated[list[CapacityGroup], Field(max_length=MAX_GROUPS)]


class CapacityBreakdowns(ApiModel):
    """A volunteer counts under every language she speaks and every format she offers; a referral under her
    first (preferred) language and format. Areas are postcode districts."""

    language: CapacityGroups
    format: CapacityGroups
    area: CapacityGroups


class CapacityReport(ApiModel):
    audience: Audience
    as_of: date = Field(description="Today in the programme's time zone; readiness is judged on this day")
    total: CapacityFigures
    breakdowns: CapacityBreakdowns


class RecruitmentOpening(ApiModel):
    """One volunteer profile to recruit, and what one such volunteer would do now."""

    language: Annotated[str, Field(max_length=35, description="BCP 47 tag the volunteer would speak")]
    format: Annotated[str, Field(max_length=20, description="The format she would offer")]
    area: Annotated[
        str | None,
        Field(max_length=10, description="Postcode district she would live around; null for telephone and video"),
    ]
    gender: Annotated[str | None, Field(max_length=20, description="Set where the parents asked for a gender")]
    specialism: Annotated[str | None, Field(max_length=64, description="Set where the parents need a specialism")]
    would_match: Annotated[
        int, Field(ge=1, description="More parents matched now, in all, with one such volunteer (an exact what-if)")
    ]
    fit_directly: Annotated[
        int,
        Field(
            ge=0,
            description=(
                "Parents a largest assignment of today leaves waiting whom such a volunteer could see herself "
                "(equal assignments may leave others waiting; would_match does not move)"
            ),
        ),
    ]
    detail: Annotated[str, Field(max_length=400, description="The opening in a sentence")]


class RecruitmentReport(ApiModel):
    """Where to recruit: the volunteer profiles whose one new volunteer would match the most waiting parents now,
    best first. Each count is a what-if solve of today's match run with that volunteer added (swaps included:
    a new volunteer may free an existing one for a parent she could not see herself)."""

    as_of: date = Field(description="Today in the programme's time zone")
    waiting: int = Field(ge=0, description="Referrals waiting (open proposals hold their volunteers' places)")
    matchable_now: int = Field(ge=0, description="Of them, how many a match run now could match")
    places_assumed: int = Field(ge=1, description="Parents a new volunteer takes: the volunteers' median max_parents")
    reach_km_assumed: float = Field(ge=0, description="How far she travels: the volunteers' median max_travel_km")
    openings: list[RecruitmentOpening] = Field(max_length=100)
    profiles_considered: int = Field(ge=0)
    what_if_solves: int = Field(ge=0, description="Profiles whose count needed a solve (the rest were bounded)")


class ReportLink(ApiModel):
    """A short-lived link to the report page (`GET /reports`), for a browser: it stands in for the API key there
    and nowhere else, until `expires_at` or until the key is revoked."""

    url: Annotated[str, Field(max_length=300, description="The page's path with the link; add from, to, audience")]
    link: Annotated[str, Field(max_length=200, description="The `link` query parameter alone")]
    expires_at: datetime


class LeftCount(ApiModel):
    reason: Annotated[str, Field(max_length=64, description='A leave_reasons code; "not_recorded" when none')]
    volunteers: Count


class VolunteersReport(ApiModel):
    """The volunteers' side. Sessions and matches are those of the period (a session by its start, a match by
    when the volunteer accepted it); standing, supervision and reasons for leaving are as of today."""

    period: ReportPeriod
    audience: Audience
    generated_at: datetime
    active: Count = counted("Volunteers active today")
    paused: Count = counted("Volunteers paused today")
    left: Count = counted("Volunteers who have left")
    sessions_held: Count = counted("Sessions attended in the period")
    hours_given: Annotated[
        float | None,
        Field(ge=0, description="Hours of those sessions, one decimal; null when fewer than 5 volunteers gave them"),
    ]
    volunteers_giving: Count = counted("Volunteers who held at least one of those sessions")
    matches_supported: Count = counted("Matches volunteers accepted in the period")
    supervision_kept_up: Count = counted(
        "Active volunteers whose last supervision is within the programme's supervision interval today"
    )
    supervision_share: Rate = Field(description="supervision_kept_up ÷ active")
    left_by_reason: Annotated[list[LeftCount], Field(max_length=200)] = Field(
        description="Volunteers who have left, by the reason recorded when they left; adds up to `left`"
    )
