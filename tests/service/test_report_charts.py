"""The reports drawn (SVG) and the report page: the charts carry the very figures of the JSON report, withheld
ones withheld; the page holds every chart and table, works with a short-lived link, and renders in headless
Chromium with no network."""

import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import Connection
from sqlmodel import Session

from service.core import auth
from tests.service.test_reports import programme as programme  # the seeded programme, a fixture

PERIOD = "from=2027-01-01&to=2027-01-31"
AUDIENCES = ("internal", "external")
OUTCOME_BREAKDOWNS = ("format", "language", "referrer_role", "area", "parent_role", "stage_at_referral", "background")
TABLES = [
    "outcomes-total",
    *(f"outcomes-{b}" for b in [*OUTCOME_BREAKDOWNS, "simd_quintile", "month"]),
    "outcomes-epds-change",
    "outcomes-feedback",
    "outcomes-unmatched",
    "capacity-language",
    "capacity-format",
    "capacity-area",
]


class Marks(HTMLParser):
    """Every value-carrying mark of the charts in a document, every chart figure and every table."""

    def __init__(self) -> None:
        super().__init__()
        self.marks: dict[tuple[str, str, str], str] = {}
        self.charts: list[str] = []
        self.tables: list[str] = []
        self._open_chart: str | None = None
        self.svg_in: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "g" and a.get("data-chart"):
            key = (a["data-chart"] or "", a["data-series"] or "", a["data-group"] or "")
            assert key not in self.marks, key
            self.marks[key] = a["data-value"] or ""
        if tag == "figure" and a.get("data-chart"):
            self.charts.append(a["data-chart"] or "")
            self._open_chart = a["data-chart"]
        if tag == "svg" and self._open_chart:
            self.svg_in.add(self._open_chart)
        if tag == "table" and a.get("data-table"):
            self.tables.append(a["data-table"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "figure":
            self._open_chart = None


def read_marks(text: str) -> Marks:
    parser = Marks()
    parser.feed(text)
    return parser


def shown(value: Any) -> str:
    return "none" if value is None else str(value)


def expected_outcome_marks(report: dict[str, Any], breakdown: str = "format") -> dict[tuple[str, str, str], str]:
    """What the outcomes chart must carry, read off the JSON report."""
    total, spread = report["total"], report["epds_change"]
    marks = {("outcomes", "received", m["group"]): shown(m["received"]) for m in report["breakdowns"]["month"]}
    for series, key in (("median", "median"), ("90th percentile", "p90")):
        marks[("outcomes", series, "to a match")] = shown(total[f"days_to_match_{key}"])
        marks[("outcomes", series, "to a first session")] = shown(total[f"days_to_first_session_{key}"])
    for cell in report["breakdowns"][breakdown]:
        marks[("outcomes", "take-up", cell["group"])] = shown(cell["take_up"])
        marks[("outcomes", "drop-out", cell["group"])] = shown(cell["drop_out"])
    if spread["median"] is not None:
        marks[("outcomes", "quartiles", "pairs")] = f"{spread['p25']}..{spread['p75']}"
        marks[("outcomes", "median", "pairs")] = shown(spread["median"])
    if spread["mean"] is not None and spread["sd"] is not None:
        marks[("outcomes", "mean", "pairs")] = shown(spread["mean"])
    return marks


def expected_capacity_marks(report: dict[str, Any], breakdown: str = "area") -> dict[tuple[str, str, str], str]:
    rows = [{"group": "all", **report["total"]}, *report["breakdowns"][breakdown]]
    return {
        ("capacity", series, row["group"]): shown(row[field])
        for row in rows
        for series, field in (
            ("ready volunteers", "ready_volunteers"),
            ("free places", "free_places"),
            ("waiting referrals", "waiting_referrals"),
        )
    }


@pytest.mark.parametrize("audience", AUDIENCES)
def test_the_outcomes_chart_carries_the_reports_own_figures(
    client: TestClient, coordinator: dict[str, str], programme: dict[int, str], audience: str
) -> None:
    query = f"{PERIOD}&audience={audience}&breakdown=language"
    report = client.get(f"/v1/reports/outcomes?{query}", headers=coordinator).json()
    response = client.get(f"/v1/reports/outcomes.svg?{query}", headers=coordinator)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert response.text.startswith("<svg")
    assert read_marks(response.text).marks == expected_outcome_marks(report, "language")
    for title in ("Referrals received by month", "Waiting times", "Take-up and drop-out by language", "EPDS change"):
        assert title in response.text


def test_an_external_chart_shows_no_withheld_figure(
    client: TestClient, coordinator: dict[str, str], programme: dict[int, str]
) -> None:
    """The seeded January: 'ar' and 'ur' speakers are 1 to 4 each, so their rates are withheld in the JSON and
    drawn as labels, never bars; the exact internal chart does draw them."""
    internal = read_marks(client.get(f"/v1/reports/outcomes.svg?{PERIOD}&breakdown=language", headers=coordinator).text)
    external = read_marks(
        client.get(f"/v1/reports/outcomes.svg?{PERIOD}&breakdown=language&audience=external", headers=coordinator).text
    )
    assert external.marks[("outcomes", "take-up", "ar")] == "none"
    assert internal.marks[("outcomes", "take-up", "ar")] != "none"


def test_the_epds_spread_is_worked_from_the_pairs(
    client: TestClient, coordinator: dict[str, str], programme: dict[int, str]
) -> None:
    """Six pairs, changes -6 -6 -8 +1 -2 -7: sorted -8 -7 -6 -6 -2 +1; nearest rank p25 the 2nd (-7), median the
    3rd (-6), p75 the 5th (-2); mean -28 / 6; sample SD sqrt(59.33 / 5) = 3.44."""
    report = client.get(f"/v1/reports/outcomes?{PERIOD}&audience=external", headers=coordinator).json()
    assert report["epds_change"] == {"pairs": 6, "mean": -4.67, "sd": 3.44, "p25": -7, "median": -6, "p75": -2}


@pytest.mark.parametrize("audience", AUDIENCES)
def test_the_capacity_chart_carries_the_reports_own_figures(
    client: TestClient, coordinator: dict[str, str], programme: dict[int, str], audience: str
) -> None:
    report = client.get(f"/v1/reports/capacity?audience={audience}", headers=coordinator).json()
    response = client.get(f"/v1/reports/capacity.svg?audience={audience}&breakdown=language", headers=coordinator)
    assert response.status_code == 200, response.text
    assert read_marks(response.text).marks == expected_capacity_marks(report, "language")


def test_an_unknown_breakdown_is_422(client: TestClient, coordinator: dict[str, str]) -> None:
    response = client.get("/v1/reports/outcomes.svg?breakdown=name", headers=coordinator)
    assert response.status_code == 422 and "breakdown" in response.text


def _page(client: TestClient, headers: dict[str, str], query: str = PERIOD) -> str:
    response = client.get(f"/reports?{query}", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in response.headers["content-security-policy"]
    return response.text


def test_a_report_link_opens_the_page_without_the_key_for_fifteen_minutes(
    client: TestClient, coordinator: dict[str, str], programme: dict[int, str]
) -> None:
    now = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)
    with time_machine.travel(now, tick=False):
        created = client.post("/v1/reports/links", headers=coordinator)
        assert created.status_code == 201, created.text
        link = created.json()
        assert link["url"] == f"/reports?link={link['link']}"
        assert datetime.fromisoformat(link["expires_at"]) == now + timedelta(minutes=15)
        assert client.get(f"{link['url']}&{PERIOD}").status_code == 200
        # Only the page: the API still wants the key.
        assert client.get(f"/v1/reports/outcomes?link={link['link']}").status_code == 401
        key_id, expires, signature = link["link"].split(".")
        forged = f"{key_id}.{int(expires) + 3600}.{signature}"
        assert client.get(f"/reports?link={forged}").status_code == 401
    with time_machine.travel(now + timedelta(minutes=15), tick=False):
        expired = client.get(link["url"])
        assert expired.status_code == 401 and expired.headers["content-type"] == "application/problem+json"


def test_revoking_the_key_ends_its_links(client: TestClient, coordinator: dict[str, str], db: Connection) -> None:
    link = client.post("/v1/reports/links", headers=coordinator).json()
    assert client.get(link["url"]).status_code == 200
    with Session(db) as session:
        assert auth.revoke(session, link["link"].split(".")[0])
        session.commit()
    assert client.get(link["url"]).status_code == 401


def test_the_page_wants_a_coordinators_key(client: TestClient, make_key: Any) -> None:
    assert client.get("/reports").status_code == 401
    assert client.get("/reports", headers=make_key("integrator", source="nhs")).status_code == 403


def test_the_page_holds_every_chart_and_table(
    client: TestClient, coordinator: dict[str, str], programme: dict[int, str]
) -> None:
    page = read_marks(_page(client, coordinator, f"{PERIOD}&audience=external"))
    assert page.charts == ["outcomes", "capacity"] and page.svg_in == {"outcomes", "capacity"}
    assert page.tables == TABLES


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium (Debian's chromium package) is not installed")
def test_the_page_renders_in_headless_chromium_with_no_network_and_its_charts_match_the_json(
    client: TestClient, coordinator: dict[str, str], programme: dict[int, str], tmp_path: Path
) -> None:
    """The page as a browser builds it (its DOM after parsing, `--dump-dom`), every host unresolvable: each chart
    is there with the JSON report's figures, and each table."""
    query = f"{PERIOD}&audience=external"
    html_file = tmp_path / "reports.html"
    html_file.write_text(_page(client, coordinator, query), encoding="utf-8")
    assert CHROMIUM is not None
    dom = subprocess.run(
        [
            CHROMIUM,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--virtual-time-budget=3000",
            "--dump-dom",
            html_file.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    page = read_marks(dom)
    assert page.charts == ["outcomes", "capacity"] and page.svg_in == {"outcomes", "capacity"}
    assert page.tables == TABLES
    outcomes = client.get(f"/v1/reports/outcomes?{query}", headers=coordinator).json()
    capacity = client.get("/v1/reports/capacity?audience=external", headers=coordinator).json()
    assert page.marks == {**expected_outcome_marks(outcomes), **expected_capacity_marks(capacity)}
