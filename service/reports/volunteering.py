"""The volunteers' report: what the programme's volunteers gave in a period, and how they stand today.

- Sessions held and hours given: attended sessions that started in the period, hours from each session's
  planned start to end. A volunteer who held none is not counted as giving.
- Matches supported: matches a volunteer accepted (`confirmed_at`) in the period.
- Supervision kept up: of today's active volunteers, those whose last supervision is no older than the
  programme's supervision interval (the same rule that makes a volunteer not ready).
- Reasons for leaving: every volunteer now `left`, by the code recorded with the move (`not_recorded` for those
  who left before reasons were asked, or were created as left). No date of leaving is kept, so this is not
  limited to the period.
External reports suppress counts of 1 to 4, hide hours given by fewer than 5 volunteers and the share of fewer
than 5, and withhold reasons by secondary suppression so none can be worked back from `left`."""

from collections import Counter
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from api_schemas.reports import Audience, LeftCount, ReportPeriod, VolunteersReport
from api_schemas.volunteers import VolunteerStatus
from service.core import clock
from service.core.errors import invalid
from service.programme import service as programme_service
from service.reports import repository
from service.reports.figures import Cell, secondary_suppression
from service.reports.service import _local_midnight

NOT_RECORDED = "not_recorded"


def volunteers(
    *, db: Session, first_day: date | None, last_day: date | None, audience: Audience = Audience.internal
) -> VolunteersReport:
    if first_day is not None and last_day is not None and last_day < first_day:
        raise invalid(["query", "to"], "must not be before from")
    settings = programme_service.current(db)
    zone = ZoneInfo(settings.time_zone)
    start = None if first_day is None else _local_midnight(first_day, zone)
    end = None if last_day is None else _local_midnight(last_day + timedelta(days=1), zone)
    today = clock.today(settings.time_zone)
    standing = repository.volunteer_standing(db)
    by_status = Counter(row.status for row in standing)
    active = [row for row in standing if row.status == VolunteerStatus.active]
    due_since = today - timedelta(days=settings.supervision_interval_days)
    kept_up = sum(row.last_supervision_on is not None and row.last_supervision_on >= due_since for row in active)
    reasons = Counter(row.left_reason or NOT_RECORDED for row in standing if row.status == VolunteerStatus.left)
    sessions = repository.held_sessions(db, start, end)
    givers = len({row.volunteer_id for row in sessions})
    hours = sum((row.ends_at - row.starts_at).total_seconds() for row in sessions) / 3600
    matches = repository.matches_accepted(db, start, end)
    suppress = audience is Audience.external

    def count(value: int) -> int | str:
        return Cell(value, suppress=suppress).count(value)

    left_total = count(by_status[VolunteerStatus.left])
    order = sorted(reasons)
    shown_reasons: list[int | str] = [count(reasons[r]) for r in order]
    if suppress:
        left_total, shown_reasons = secondary_suppression(left_total, shown_reasons, [reasons[r] for r in order])
    return VolunteersReport(
        period=ReportPeriod(from_day=first_day, to_day=last_day, time_zone=settings.time_zone),
        audience=audience,
        generated_at=clock.now(),
        active=count(len(active)),
        paused=count(by_status[VolunteerStatus.paused]),
        left=left_total,
        sessions_held=count(len(sessions)),
        hours_given=None if suppress and givers < 5 else round(hours, 1),
        volunteers_giving=count(givers),
        matches_supported=count(matches),
        supervision_kept_up=count(kept_up),
        supervision_share=Cell(len(active), suppress=suppress).ratio(kept_up, len(active)),
        left_by_reason=[LeftCount(reason=r, volunteers=v) for r, v in zip(order, shown_reasons, strict=True)],
    )
