"""Where to recruit, from today's waiting parents and the matching optimum itself (matching/recruitment.py).

The recruit is assumed to be like today's volunteers where the report cannot ask: she takes the median number
of parents (`max_parents`) and travels the median distance (`max_travel_km`) of the active volunteers, and she
is free whenever the parents are. docs/decisions/0022-where-to-recruit.md says why."""

import csv
import io
import statistics
import threading

from sqlmodel import Session

from api_schemas.reports import RecruitmentOpening, RecruitmentReport
from matching import recruitment
from matching.languages import name as language_name
from matching.model import TRAVEL_FORMATS, MatchProblem
from service.core import clock, collector
from service.match_runs import repository as run_repository
from service.match_runs import service as run_service
from service.matches import repository as match_repository
from service.programme import service as programme_service
from service.reports.csv_export import BOM, field

DEFAULT_PLACES, DEFAULT_REACH_KM = 2, 10.0
FORMAT_WORDS = {
    "home_visit": "offering home visits",
    "telephone": "offering telephone support",
    "in_person": "meeting parents at a venue",
    "video": "offering video calls",
}
COLUMNS = ("language", "format", "area", "gender", "specialism", "would_match", "fit_directly", "detail")


def report(db: Session, *, limit: int) -> RecruitmentReport:
    with collector.paused():  # the people's rows and profiles: many small objects at once
        return _report(db, limit=limit)


def _report(db: Session, *, limit: int) -> RecruitmentReport:
    settings = programme_service.current(db)
    # Plain rows of the columns the profiles read, as a match run reads them (docs/decisions/0026).
    referrals = run_repository.run_referrals(db, None, reopening=())
    volunteers = match_repository.active_volunteer_rows(db)
    places = max(1, int(statistics.median_low([v.max_parents for v in volunteers]))) if volunteers else DEFAULT_PLACES
    travellers = [v.max_travel_km for v in volunteers if TRAVEL_FORMATS & set(v.formats)]
    reach = float(statistics.median_low(travellers)) if travellers else DEFAULT_REACH_KM
    found = _openings(
        run_service.problem_for(db, referrals, settings=settings, volunteers=volunteers),
        areas={r.id: r.area for r in referrals if r.area},
        places=places,
        reach_km=reach,
        limit=limit,
    )
    return RecruitmentReport(
        as_of=clock.today(settings.time_zone),
        waiting=found.waiting,
        matchable_now=found.matchable_now,
        places_assumed=places,
        reach_km_assumed=reach,
        openings=[_opening(o) for o in found.openings],
        profiles_considered=found.profiles_considered,
        what_if_solves=found.what_ifs,
    )


class _Last:
    """The last report's inputs and openings, per process. The key is the whole problem as the engine reads it
    (every waiting parent and volunteer profile, weights, rejected pairs) with the assumptions: equal inputs
    give equal openings, so a page view with nothing changed skips the engine, and any change recomputes."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.key: tuple[object, ...] | None = None
        self.found: recruitment.Recruitment | None = None


_last = _Last()


def _openings(
    problem: MatchProblem, *, areas: dict[str, str], places: int, reach_km: float, limit: int
) -> recruitment.Recruitment:
    key = (problem, sorted(areas.items()), places, reach_km, limit)
    with _last.lock:
        if _last.key == key and _last.found is not None:
            return _last.found
    found = recruitment.openings(problem, areas=areas, places=places, reach_km=reach_km, limit=limit)
    with _last.lock:
        _last.key, _last.found = key, found
    return found


def _opening(opening: recruitment.Opening) -> RecruitmentOpening:
    p = opening.profile
    who = ", ".join(
        word
        for word in (p.gender, f"{language_name(p.language)}-speaking")
        if word  # "a male, Polish-speaking volunteer"
    )
    where = f" around {p.area}" if p.area else ""
    with_specialism = f" with the {p.specialism.replace('_', ' ')} specialism" if p.specialism else ""
    parents = "parent" if opening.would_match == 1 else "parents"
    direct = "waiting parent fits" if opening.fit_directly == 1 else "waiting parents fit"
    detail = (
        f"One {who} volunteer{with_specialism} {FORMAT_WORDS.get(p.format, p.format)}{where} would match "
        f"{opening.would_match} more {parents} now ({opening.fit_directly} {direct} this profile directly)."
    )
    return RecruitmentOpening(
        language=p.language,
        format=p.format,
        area=p.area,
        gender=p.gender,
        specialism=p.specialism,
        would_match=opening.would_match,
        fit_directly=opening.fit_directly,
        detail=detail,
    )


def as_csv(found: RecruitmentReport) -> str:
    """One row per opening, for Excel as the other reports (UTF-8 with a byte order mark, CRLF)."""
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for opening in found.openings:
        writer.writerow([field(getattr(opening, column)) for column in COLUMNS])
    return out.getvalue()
