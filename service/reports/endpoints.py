from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from api_schemas.reports import Audience, CapacityReport, OutcomesReport, RecruitmentReport, ReportDay
from service.core.deps import Coordinator, SessionDep
from service.reports import csv_export, recruitment
from service.reports import service as report_service

router = APIRouter(prefix="/v1/reports", tags=["reports"])

FromParam = Annotated[
    ReportDay | None,
    Query(alias="from", description="First local day (YYYY-MM-DD) whose referrals are counted; open if absent"),
]
ToParam = Annotated[ReportDay | None, Query(description="Last local day (YYYY-MM-DD), included; open if absent")]
AudienceParam = Annotated[
    Audience,
    Query(
        description="internal: exact counts, for the programme's coordinators; external: for funders and anyone "
        'outside, counts of 1 to 4 are "<5" and the cells that would let someone subtract back to one "suppressed"'
    ),
]
CSV_RESPONSE = {
    200: {
        "content": {"text/csv": {"schema": {"type": "string"}}},
        "description": "The report; as one CSV table when the request accepts text/csv",
    }
}


def wants_csv(accept: str | None) -> bool:
    """text/csv when the caller ranks it above JSON (`Accept: text/csv`); JSON otherwise, and on a tie."""
    quality: dict[str, float] = {}
    for part in (accept or "").split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        q = next((value for name, _, value in (p.partition("=") for p in params) if name.strip() == "q"), "1")
        try:
            quality[media.lower()] = float(q)
        except ValueError:
            quality[media.lower()] = 0.0
    json_q = max(quality.get("application/json", 0.0), quality.get("application/*", 0.0), quality.get("*/*", 0.0))
    return quality.get("text/csv", 0.0) > json_q


@router.get("/outcomes", response_model=OutcomesReport, responses=CSV_RESPONSE)
def outcomes_report(
    db: SessionDep,
    _caller: Coordinator,
    request: Request,
    response: Response,
    from_: FromParam = None,
    to: ToParam = None,
    audience: AudienceParam = Audience.internal,
) -> OutcomesReport | Response:
    """What happened to the referrals received in the period: take-up, drop-out, waiting times, EPDS change,
    by format, language, referrer role and area, and why the still unmatched are so. Exact counts by default;
    with `audience=external`, small numbers are suppressed (primary and secondary). JSON, or CSV with
    `Accept: text/csv`."""
    report = report_service.outcomes(db=db, first_day=from_, last_day=to, audience=audience)
    if wants_csv(request.headers.get("accept")):
        name = f"outcomes_{audience.value}_{from_ or 'start'}_{to or 'now'}.csv"
        return Response(
            csv_export.outcomes(report),
            media_type="text/csv; charset=utf-8",
            headers={"Vary": "Accept", "Content-Disposition": f'attachment; filename="{name}"'},
        )
    response.headers["Vary"] = "Accept"
    return report


@router.get("/capacity", response_model=CapacityReport)
def capacity_report(
    db: SessionDep, _caller: Coordinator, audience: AudienceParam = Audience.internal
) -> CapacityReport:
    """Ready volunteers, their free places and the waiting referrals, in total and by language, format and
    area. Exact counts by default; with `audience=external`, small numbers are suppressed."""
    return report_service.capacity(db=db, audience=audience)


@router.get("/recruitment", response_model=RecruitmentReport, responses=CSV_RESPONSE)
def recruitment_report(
    db: SessionDep,
    _caller: Coordinator,
    request: Request,
    response: Response,
    limit: Annotated[int, Query(ge=1, le=100, description="How many openings, best first")] = 20,
) -> RecruitmentReport | Response:
    """Where to recruit: the volunteer profiles (area, language, format, and gender or specialism where parents
    asked) whose one new volunteer would let the most waiting parents be matched now, each count an exact
    what-if of today's match run. JSON, or CSV with `Accept: text/csv`."""
    found = recruitment.report(db, limit=limit)
    response.headers["Vary"] = "Accept"
    if wants_csv(request.headers.get("accept")):
        return Response(
            recruitment.as_csv(found),
            media_type="text/csv; charset=utf-8",
            headers={"Vary": "Accept", "Content-Disposition": f'attachment; filename="recruitment_{found.as_of}.csv"'},
        )
    return found
