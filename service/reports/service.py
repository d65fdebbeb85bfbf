"""Outcome and capacity reports: facts per person first, then counts per cell with small numbers suppressed.

What the figures mean (docs/contract.md says the same to API users):
- The period is the local days `from`..`to` (programme time zone, both included) on which referrals were received.
- Matched: a match for her was confirmed, that is the volunteer accepted it (`confirmed_at`), whatever came
  after. Days to match run from `received_at` to her first confirmation, not to the match's creation: a match
  a coordinator made that the volunteer declined never gave the parent a supporter.
- Started: at least one session attended, in any of her matches; days to the first session run to its start.
- Ended early: started, and her latest started match ended `ended_early` (a rematch that starts again and
  completes is not a drop-out).
- Days are calendar days in the programme's time zone. Medians and 90th percentiles are nearest rank
  (figures.nearest_rank): the ceil(p * n / 100)-th smallest value.
- EPDS: her earliest baseline and latest end measure; change is end - baseline; improved is a lower end total;
  flagged is a baseline total at or above the programme's threshold.
- Breakdowns: her first format and language, her referrer's role, her area, her own role (mother, father,
  co-parent, ...), antenatal or postnatal on the day of the referral, each of her background codes (a parent
  with several sits in several cells; `none_recorded` when she has none), her SIMD quintile where given, and the
  local month she was referred in.
- EPDS change spread (`epds_change`): mean, sample SD and nearest-rank quartiles over all the period's pairs,
  withheld whenever the count of pairs is.
- Audience: internal reports show exact counts; external ones suppress small numbers (figures.Cell), then
  withhold the further cells a "<5" could be subtracted back from (figures.secondary_suppression). The cells of
  each outcome breakdown (but background) and the unmatched reasons add up to the total, as do waiting referrals
  in every capacity breakdown and ready volunteers by area; background cells and ready volunteers by language
  or format add up to the total or more (someone in several cells), which still bounds a "<5" from below.
"""

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from api_schemas.feedback import AnswerType, FeedbackItem
from api_schemas.referrals import ReferralStatus
from api_schemas.reports import (
    WITHHELD,
    Audience,
    CapacityBreakdowns,
    CapacityFigures,
    CapacityGroup,
    CapacityReport,
    EpdsChangeSpread,
    FeedbackFigures,
    OutcomeBreakdowns,
    OutcomeFigures,
    OutcomeGroup,
    OutcomesReport,
    ReportPeriod,
    UnmatchedCount,
    UnmatchedReason,
)
from service.core import clock
from service.core.errors import invalid
from service.matches import repository as match_repository
from service.profiles import readiness
from service.programme import service as programme_service
from service.reports import repository
from service.reports.figures import Cell, is_small, nearest_rank, secondary_suppression

UNKNOWN = "unknown"
OUTCOME_BREAKDOWNS = (
    "format",
    "language",
    "referrer_role",
    "area",
    "parent_role",
    "stage_at_referral",
    "background",
    "simd_quintile",
    "month",
)
# Breakdowns where a person may sit in several cells (each of her background codes): theirs add up to more.
OVERLAPPING = frozenset({"background"})
NO_BACKGROUND = "none_recorded"
# The counts of an outcome cell, each adding up over a breakdown's cells to the total's.
OUTCOME_COUNTS = (
    "received",
    "matched",
    "started",
    "ended_early",
    "matches",
    "epds_baselines",
    "epds_flagged",
    "epds_pairs",
    "epds_improved",
    "unmatched",
)
# A rate and its numerator and denominator: shown together with both, so neither can be worked back from it.
OUTCOME_RATES = {
    "take_up": ("started", "received"),
    "drop_out": ("ended_early", "started"),
    "epds_share_improved": ("epds_improved", "epds_pairs"),
}
Figures = dict[str, Any]


@dataclass(frozen=True)
class Person:
    """One referral received in the period, reduced to what the report counts; nothing that names her."""

    groups: dict[str, tuple[str, ...]]
    days_to_match: int | None
    days_to_first_session: int | None
    ended_early: bool
    matches: int
    sessions_held: int
    epds_baseline: int | None
    epds_end: int | None
    unmatched_reason: UnmatchedReason | None


def outcomes(
    *, db: Session, first_day: date | None, last_day: date | None, audience: Audience = Audience.internal
) -> OutcomesReport:
    if first_day is not None and last_day is not None and last_day < first_day:
        raise invalid(["query", "to"], "must not be before from")
    settings = programme_service.current(db)
    zone = ZoneInfo(settings.time_zone)
    start = None if first_day is None else _local_midnight(first_day, zone)
    end = None if last_day is None else _local_midnight(last_day + timedelta(days=1), zone)
    people = _people(db, start, end, zone)
    threshold = settings.epds_threshold
    grouped = {name: _grouped(people, lambda p, n=name: p.groups[n]) for name in OUTCOME_BREAKDOWNS}
    exact_total = _outcome_figures(people, threshold, suppress=False)
    exact_groups = {
        name: [_outcome_figures(members, threshold, suppress=False) for _, members in groups]
        for name, groups in grouped.items()
    }
    exact_reasons = Counter(p.unmatched_reason for p in people if p.unmatched_reason is not None)
    if audience is Audience.internal:
        total, cells, reasons = exact_total, exact_groups, dict(exact_reasons)
    else:
        total = _outcome_figures(people, threshold, suppress=True)
        cells = {
            name: [_outcome_figures(members, threshold, suppress=True) for _, members in groups]
            for name, groups in grouped.items()
        }
        reasons = {reason: Cell(count).count(count) for reason, count in exact_reasons.items()}
        _withhold_outcomes(total, cells, reasons, exact_groups, exact_reasons)
    return OutcomesReport(
        period=ReportPeriod(from_day=first_day, to_day=last_day, time_zone=settings.time_zone),
        audience=audience,
        generated_at=clock.now(),
        epds_threshold=threshold,
        total=OutcomeFigures(**total),
        breakdowns=OutcomeBreakdowns(
            **{
                name: [
                    OutcomeGroup(group=group, **figures)
                    for (group, _), figures in zip(grouped[name], cells[name], strict=True)
                ]
                for name in OUTCOME_BREAKDOWNS
            }
        ),
        epds_change=_epds_spread(people, total["epds_pairs"], suppress=audience is Audience.external),
        feedback=_feedback(db, settings.feedback_questionnaire, start, end, suppress=audience is Audience.external),
        # In the order the reasons are declared, so the order says nothing about suppressed sizes.
        unmatched_by_reason=[
            UnmatchedCount(reason=reason, referrals=reasons[reason]) for reason in UnmatchedReason if reason in reasons
        ],
    )


def _feedback(
    db: Session, questionnaire: list[FeedbackItem], start: datetime | None, end: datetime | None, *, suppress: bool
) -> list[FeedbackFigures]:
    """Counts and means per item and respondent; externally a count of 1 to 4 is "<5", the mean of fewer than
    5 answers null, and a yes count withheld when the noes (answers - yes) would be 1 to 4."""
    rows = repository.feedback_answers(db, start, end)
    out = []
    for item in questionnaire:
        if item.answer_type is AnswerType.short_text:
            continue
        for respondent in item.respondents:
            values = [r.answers[item.code] for r in rows if r.respondent == respondent and item.code in r.answers]
            cell = Cell(len(values), suppress=suppress)
            figures = FeedbackFigures(
                respondent=respondent.value,
                item=item.code,
                answer_type=item.answer_type.value,
                answers=cell.count(len(values)),
            )
            if item.answer_type is AnswerType.scale_1_5:
                figures.mean = cell.mean(sum(values), len(values), people=len(values))
            else:
                yes = sum(value is True for value in values)
                figures.yes = cell.count(yes)
                if suppress and isinstance(figures.yes, int) and is_small(len(values) - yes):
                    figures.yes = WITHHELD
            out.append(figures)
    return out


def _epds_spread(people: list[Person], shown_pairs: Any, *, suppress: bool) -> EpdsChangeSpread:
    """Over all the period's pairs; withheld whenever their count is (so never for fewer than 5 externally)."""
    changes = [p.epds_end - p.epds_baseline for p in people if p.epds_baseline is not None and p.epds_end is not None]
    if not changes or (suppress and not isinstance(shown_pairs, int)):
        return EpdsChangeSpread(pairs=shown_pairs)
    mean = sum(changes) / len(changes)
    sd = (sum((c - mean) ** 2 for c in changes) / (len(changes) - 1)) ** 0.5 if len(changes) > 1 else None
    return EpdsChangeSpread(
        pairs=shown_pairs,
        mean=round(mean, 2),
        sd=None if sd is None else round(sd, 2),
        p25=nearest_rank(changes, 25),
        median=nearest_rank(changes, 50),
        p75=nearest_rank(changes, 75),
    )


def _withhold_outcomes(
    total: Figures,
    cells: dict[str, list[Figures]],
    reasons: dict[UnmatchedReason, Any],
    exact_cells: dict[str, list[Figures]],
    exact_reasons: Counter[UnmatchedReason],
) -> None:
    """Secondary suppression of an external outcomes report, in place. A total withheld for one breakdown stays
    withheld for the next, which then has nothing to subtract from."""
    for name in OUTCOME_COUNTS:
        for breakdown, rows in cells.items():
            exact = [row[name] for row in exact_cells[breakdown]]
            total[name], shown = secondary_suppression(
                total[name], [row[name] for row in rows], exact, overlapping=breakdown in OVERLAPPING
            )
            for row, value in zip(rows, shown, strict=True):
                row[name] = value
    order = list(reasons)
    total["unmatched"], shown_reasons = secondary_suppression(
        total["unmatched"], [reasons[r] for r in order], [exact_reasons[r] for r in order]
    )
    reasons.update(zip(order, shown_reasons, strict=True))
    for row in [total, *(row for rows in cells.values() for row in rows)]:
        for rate, (part, whole) in OUTCOME_RATES.items():
            if not (isinstance(row[part], int) and isinstance(row[whole], int)):
                row[rate] = None


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), zone).astimezone(UTC)


def _people(db: Session, start: datetime | None, end: datetime | None, zone: ZoneInfo) -> list[Person]:
    referrals = repository.referrals_received(db, start, end)
    matches_of: dict[str, list[Any]] = defaultdict(list)
    for match in repository.confirmed_matches(db, start, end):
        matches_of[match.referral_id].append(match)
    attended = {
        match_id: (count, first_at) for match_id, count, first_at in repository.attended_sessions(db, start, end)
    }
    baseline, end_total = _epds_totals(repository.epds_measures(db, start, end))
    reasons = _unmatched_reasons(db, referrals, start, end)

    def local_days(since: datetime, until: datetime) -> int:
        return max(0, (until.astimezone(zone).date() - since.astimezone(zone).date()).days)

    people = []
    for referral in referrals:
        matches = matches_of[referral.id]
        started = sorted(((attended[m.id][1], m.outcome) for m in matches if m.id in attended), key=lambda s: s[0])
        people.append(
            Person(
                groups={
                    "format": (_first(referral.formats),),
                    "language": (_first(referral.languages),),
                    "referrer_role": (referral.referrer_role,),
                    "area": (referral.area or UNKNOWN,),
                    "parent_role": (referral.parent_role,),
                    "stage_at_referral": (_stage(referral, zone),),
                    "background": tuple(sorted(set(referral.background or []))) or (NO_BACKGROUND,),
                    "simd_quintile": (UNKNOWN if referral.simd_quintile is None else str(referral.simd_quintile),),
                    "month": (referral.received_at.astimezone(zone).strftime("%Y-%m"),),
                },
                days_to_match=local_days(referral.received_at, min(m.confirmed_at for m in matches))
                if matches
                else None,
                days_to_first_session=local_days(referral.received_at, started[0][0]) if started else None,
                ended_early=bool(started) and started[-1][1] == "ended_early",
                matches=len(matches),
                sessions_held=sum(attended[m.id][0] for m in matches if m.id in attended),
                epds_baseline=baseline.get(referral.id),
                epds_end=end_total.get(referral.id),
                unmatched_reason=reasons.get(referral.id),
            )
        )
    return people


def _first(values: list[str]) -> str:
    return values[0] if values else UNKNOWN


def _stage(referral: Any, zone: ZoneInfo) -> str:
    """Postnatal when her baby was born by the local day of the referral; antenatal when a due date was given
    and the baby was not yet born then (a birth date added later does not move her); unknown otherwise, as
    after erasure."""
    referred_on = referral.received_at.astimezone(zone).date()
    if referral.baby_birth_date is not None and referral.baby_birth_date <= referred_on:
        return "postnatal"
    if referral.due_date is not None or referral.baby_birth_date is not None:
        return "antenatal"
    return UNKNOWN


def _epds_totals(measures: Iterable[Any]) -> tuple[dict[str, int], dict[str, int]]:
    """Her earliest baseline and her latest end total, by completion day and then by when it was recorded."""
    baseline: dict[str, int] = {}
    end: dict[str, int] = {}
    for measure in sorted(measures, key=lambda m: (m.completed_on, m.recorded_at)):
        if measure.timepoint == "baseline":
            baseline.setdefault(measure.referral_id, measure.total)
        else:
            end[measure.referral_id] = measure.total
    return baseline, end


def _unmatched_reasons(
    db: Session, referrals: list[Any], start: datetime | None, end: datetime | None
) -> dict[str, UnmatchedReason]:
    """Why each still-unmatched referral is so. A waiting one takes the reason of the last match run that left
    her out, unless a later (or the same) run proposed her, or no run has considered her."""
    reasons = {
        r.id: UnmatchedReason.proposal_awaiting_decision for r in referrals if r.status == ReferralStatus.proposed
    }
    reasons |= {r.id: UnmatchedReason.risk_review_pending for r in referrals if r.status == ReferralStatus.escalated}
    waiting = {r.id: r.received_at for r in referrals if r.status == ReferralStatus.waiting}
    if not waiting:
        return reasons
    left_out: dict[str, tuple[datetime, UnmatchedReason]] = {}
    for run_at, unmatched in repository.match_runs_since(db, min(waiting.values())):
        for entry in unmatched:
            if entry["referral_id"] in waiting:
                left_out[entry["referral_id"]] = (run_at, run_reason(entry))
    proposed_at = repository.last_proposed_at(db, start, end)
    for referral_id in waiting:
        found = left_out.get(referral_id)
        later_proposal = found is not None and referral_id in proposed_at and proposed_at[referral_id] >= found[0]
        reasons[referral_id] = UnmatchedReason.awaiting_a_match_run if found is None or later_proposal else found[1]
    return reasons


def run_reason(entry: dict[str, Any]) -> UnmatchedReason:
    """The code a match run stored for a referral it left out (the engine's cause codes are this enum's values);
    runs stored before codes existed count as another reason rather than have their sentences parsed."""
    causes = entry.get("causes") or []
    try:
        return UnmatchedReason(causes[0]["code"]) if causes else UnmatchedReason.other_run_reason
    except ValueError:
        return UnmatchedReason.other_run_reason


def _grouped(items: list[Any], keys: Callable[[Any], Iterable[str]]) -> list[tuple[str, list[Any]]]:
    """Items per group, groups sorted by name; an item may sit in several groups (a volunteer's languages)."""
    groups: dict[str, list[Any]] = defaultdict(list)
    for item in items:
        for key in keys(item):
            groups[key].append(item)
    return sorted(groups.items())


def _outcome_figures(people: list[Person], threshold: int, *, suppress: bool) -> Figures:
    cell = Cell(len(people), suppress=suppress)
    matched = [p.days_to_match for p in people if p.days_to_match is not None]
    started = [p.days_to_first_session for p in people if p.days_to_first_session is not None]
    ended_early = sum(p.ended_early for p in people)
    matches = sum(p.matches for p in people)
    baselines = [p.epds_baseline for p in people if p.epds_baseline is not None]
    changes = [p.epds_end - p.epds_baseline for p in people if p.epds_baseline is not None and p.epds_end is not None]
    improved = sum(change < 0 for change in changes)
    return {
        "received": cell.count(len(people)),
        "matched": cell.count(len(matched)),
        "started": cell.count(len(started)),
        "take_up": cell.ratio(len(started), len(people)),
        "ended_early": cell.count(ended_early),
        "drop_out": cell.ratio(ended_early, len(started)),
        "days_to_match_median": cell.percentile(matched, 50),
        "days_to_match_p90": cell.percentile(matched, 90),
        "days_to_first_session_median": cell.percentile(started, 50),
        "days_to_first_session_p90": cell.percentile(started, 90),
        "matches": cell.count(matches),
        "sessions_per_match": cell.mean(sum(p.sessions_held for p in people), matches, people=len(matched)),
        "epds_baselines": cell.count(len(baselines)),
        "epds_flagged": cell.count(sum(total >= threshold for total in baselines)),
        "epds_pairs": cell.count(len(changes)),
        "epds_mean_change": cell.mean(sum(changes), len(changes), people=len(changes)),
        "epds_improved": cell.count(improved),
        "epds_share_improved": cell.ratio(improved, len(changes)),
        "unmatched": cell.count(sum(p.unmatched_reason is not None for p in people)),
    }


@dataclass(frozen=True)
class Supply:
    """A ready volunteer: where she can help, and how many more parents she can take."""

    languages: tuple[str, ...]
    formats: tuple[str, ...]
    area: str
    free_places: int


@dataclass(frozen=True)
class Demand:
    """A waiting referral, under her first (preferred) language and format."""

    language: str
    format: str
    area: str


def capacity(*, db: Session, audience: Audience = Audience.internal) -> CapacityReport:
    settings = programme_service.current(db)
    today = clock.today(settings.time_zone)
    volunteers = repository.active_volunteers(db)
    load = match_repository.current_parents(db, [v.id for v in volunteers])
    supply = [
        Supply(
            languages=tuple(v.languages),
            formats=tuple(v.formats),
            area=v.area or UNKNOWN,
            free_places=max(0, min(v.max_parents, v.max_sessions_per_week) - load[v.id]),
        )
        for v in volunteers
        if not readiness.not_ready_reasons(
            v,
            today=today,
            supervision_interval_days=settings.supervision_interval_days,
            current_parents=load[v.id],
            required_training=settings.required_training_modules,
            match_weeks=settings.planned_sessions,
        )
    ]
    demand = [
        Demand(language=_first(languages), format=_first(formats), area=area or UNKNOWN)
        for languages, formats, area in repository.waiting_referrals(db)
    ]
    breakdowns = {
        "language": _capacity_groups(supply, demand, lambda s: s.languages, lambda d: d.language),
        "format": _capacity_groups(supply, demand, lambda s: s.formats, lambda d: d.format),
        "area": _capacity_groups(supply, demand, lambda s: (s.area,), lambda d: d.area),
    }
    total = _capacity_figures(supply, demand)
    if audience is Audience.internal:
        shown_total, shown = _exact(total), {name: [_exact(g) for g in groups] for name, groups in breakdowns.items()}
    else:
        shown_total = _capacity_shown(total)
        shown = {name: [_capacity_shown(g) for g in groups] for name, groups in breakdowns.items()}
        _withhold_capacity(shown_total, shown, breakdowns)
    return CapacityReport(
        audience=audience,
        as_of=today,
        total=CapacityFigures(**shown_total),
        breakdowns=CapacityBreakdowns(
            **{
                name: [
                    CapacityGroup(group=group.name, **figures)
                    for group, figures in zip(breakdowns[name], shown[name], strict=True)
                ]
                for name in breakdowns
            }
        ),
    )


@dataclass(frozen=True)
class CapacityCell:
    """Exact figures of one capacity cell."""

    name: str
    ready_volunteers: int
    free_places: int
    waiting_referrals: int


def _capacity_groups(
    supply: list[Supply],
    demand: list[Demand],
    supply_keys: Callable[[Supply], Iterable[str]],
    demand_key: Callable[[Demand], str],
) -> list[CapacityCell]:
    ready = dict(_grouped(supply, supply_keys))
    waiting = dict(_grouped(demand, lambda d: [demand_key(d)]))
    return [
        _capacity_figures(ready.get(group, []), waiting.get(group, []), name=group)
        for group in sorted(ready.keys() | waiting.keys())
    ]


def _capacity_figures(supply: list[Supply], demand: list[Demand], *, name: str = "all") -> CapacityCell:
    return CapacityCell(
        name=name,
        ready_volunteers=len(supply),
        free_places=sum(s.free_places for s in supply),
        waiting_referrals=len(demand),
    )


def _exact(cell: CapacityCell) -> Figures:
    return {
        "ready_volunteers": cell.ready_volunteers,
        "free_places": cell.free_places,
        "waiting_referrals": cell.waiting_referrals,
    }


def _capacity_shown(cell: CapacityCell) -> Figures:
    """Volunteers and parents are different people, so each count is suppressed on its own."""
    ready = Cell(cell.ready_volunteers).count(cell.ready_volunteers)
    return {
        "ready_volunteers": ready,
        "free_places": cell.free_places if isinstance(ready, int) else None,
        "waiting_referrals": Cell(cell.waiting_referrals).count(cell.waiting_referrals),
    }


def _withhold_capacity(total: Figures, shown: dict[str, list[Figures]], exact: dict[str, list[CapacityCell]]) -> None:
    """Secondary suppression of an external capacity report, in place: waiting referrals add up in every
    breakdown, ready volunteers by area; by language and format a volunteer counts under each of hers, so
    those add up to more. Free places go with the ready volunteers they belong to."""
    for name, rows in shown.items():
        for column in ("waiting_referrals", "ready_volunteers"):
            values = [getattr(cell, column) for cell in exact[name]]
            overlapping = column == "ready_volunteers" and name != "area"
            total[column], cells = secondary_suppression(
                total[column], [row[column] for row in rows], values, overlapping=overlapping
            )
            for row, value in zip(rows, cells, strict=True):
                row[column] = value
    for row in [total, *(row for rows in shown.values() for row in rows)]:
        if not isinstance(row["ready_volunteers"], int):
            row["free_places"] = None
