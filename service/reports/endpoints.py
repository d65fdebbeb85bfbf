from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse

from api_schemas.reports import (
    Audience,
    CapacityReport,
    OutcomesReport,
    RecruitmentReport,
    ReportDay,
    ReportLink,
    VolunteersReport,
)
from service.core.auth import Role, authenticate
from service.core.deps import Coordinator, SessionDep
from service.core.errors import Forbidden
from service.reports import charts, csv_export, links, page, recruitment, volunteering
from service.reports import service as report_service

router = APIRouter(prefix="/v1/reports", tags=["reports"])
page_router = APIRouter(tags=["reports"])
OutcomeBreakdown = Literal[
    "format", "language", "referrer_role", "area", "parent_role", "stage_at_referral", "background", "simd_quintile"
]
CapacityBreakdown = Literal["area", "language", "format"]
SVG_RESPONSE = {200: {"content": {"image/svg+xml": {"schema": {"type": "string"}}}, "description": "The chart"}}

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


@router.get("/volunteers", response_model=VolunteersReport)
def volunteers_report(
    db: SessionDep,
    _caller: Coordinator,
    from_: FromParam = None,
    to: ToParam = None,
    audience: AudienceParam = Audience.internal,
) -> VolunteersReport:
    """The volunteers' side: sessions held and hours given in the period, matches they accepted, supervision
    kept up today, and why those who left did so. Exact by default; with `audience=external`, small numbers
    are suppressed."""
    return volunteering.volunteers(db=db, first_day=from_, last_day=to, audience=audience)


def _svg(text: str) -> Response:
    return Response(text, media_type="image/svg+xml", headers={"Cache-Control": "no-store"})


@router.get("/outcomes.svg", response_class=Response, responses=SVG_RESPONSE)
def outcomes_chart(
    db: SessionDep,
    _caller: Coordinator,
    from_: FromParam = None,
    to: ToParam = None,
    audience: AudienceParam = Audience.internal,
    breakdown: Annotated[OutcomeBreakdown, Query(description="The breakdown take-up and drop-out are drawn by")] = (
        "format"
    ),
) -> Response:
    """The outcomes report drawn (SVG): referrals by month, waits (median and 90th percentile), take-up and
    drop-out by a breakdown, the EPDS change with its spread. Drawn from the same report as the JSON, with the
    same suppression; each mark carries its value (`data-series`, `data-group`, `data-value` and a `<title>`)."""
    report = report_service.outcomes(db=db, first_day=from_, last_day=to, audience=audience)
    return _svg(charts.outcomes_svg(report, breakdown=breakdown))


@router.get("/recruitment.svg", response_class=Response, responses=SVG_RESPONSE)
def recruitment_chart(
    db: SessionDep,
    _caller: Coordinator,
    limit: Annotated[int, Query(ge=1, le=100, description="How many openings, best first")] = 10,
) -> Response:
    """The recruitment report drawn: per volunteer profile, how many more parents one such volunteer would
    match now, beside the waiting parents who fit it directly. Each bar carries its value (`data-value`)."""
    return _svg(charts.recruitment_svg(recruitment.report(db, limit=limit)))


@router.get("/capacity.svg", response_class=Response, responses=SVG_RESPONSE)
def capacity_chart(
    db: SessionDep,
    _caller: Coordinator,
    audience: AudienceParam = Audience.internal,
    breakdown: Annotated[CapacityBreakdown, Query(description="The breakdown drawn")] = "area",
) -> Response:
    """The capacity report drawn (SVG): ready volunteers, free places and waiting referrals by a breakdown."""
    return _svg(charts.capacity_svg(report_service.capacity(db=db, audience=audience), breakdown=breakdown))


@router.post("/links", response_model=ReportLink, status_code=201)
def create_report_link(db: SessionDep, caller: Coordinator) -> ReportLink:
    """A link to the report page that works in a browser without the API key, for 15 minutes and only for that
    page; revoking the key ends it."""
    return links.create(db, caller)


@page_router.get(
    "/reports",
    response_class=HTMLResponse,
    responses={
        200: {"content": {"text/html": {"schema": {"type": "string"}}}, "description": "The report page"},
        401: {"content": {"application/problem+json": {}}, "description": "No valid key, or the link has expired"},
        403: {"content": {"application/problem+json": {}}, "description": "The key's role may not see reports"},
    },
)
def report_page(
    request: Request,
    db: SessionDep,
    link: Annotated[
        str | None, Query(max_length=200, description="A link from POST /v1/reports/links, instead of the key")
    ] = None,
    from_: FromParam = None,
    to: ToParam = None,
    audience: AudienceParam = Audience.internal,
) -> HTMLResponse:
    """One HTML page with the charts and the tables, for coordinators: the API key as a Bearer header, or a
    short-lived `link`. No script and nothing from another host; readable on a phone."""
    if link is not None:
        links.verify(db, link)
    else:
        caller = authenticate(db, request.headers.get("authorization"))
        if caller.role not in (Role.admin, Role.coordinator):
            raise Forbidden(f"The {caller.role.value} role may not use this route.")
    outcomes = report_service.outcomes(db=db, first_day=from_, last_day=to, audience=audience)
    capacity = report_service.capacity(db=db, audience=audience)
    drawn = {"outcomes": charts.outcomes_svg(outcomes), "capacity": charts.capacity_svg(capacity)}
    return HTMLResponse(
        page.render(outcomes, capacity, drawn),
        headers={"Content-Security-Policy": page.CONTENT_SECURITY_POLICY, "Cache-Control": "no-store"},
    )
