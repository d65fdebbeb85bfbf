"""Internal reports show exact counts; external ones suppress small numbers and the cells that would let someone
subtract their way back to one (secondary suppression). CSV for Excel."""

import csv
import io
import itertools
from datetime import UTC, date, datetime
from typing import Any

import pytest
import time_machine
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from service.reports import csv_export
from service.reports.figures import Cell, secondary_suppression
from tests.factories import patch_current, referral_body
from tests.service.test_reports import JANUARY, TOTAL, epds
from tests.service.test_reports import programme as programme  # the seeded programme, a fixture

S, W = "<5", "suppressed"
MARCH = "/v1/reports/outcomes?from=2027-03-01&to=2027-03-31"
ROLES = ["health_visitor"] * 7 + ["midwife"] * 5 + ["gp"] * 2


@pytest.fixture
def fourteen(client: TestClient, coordinator: dict[str, str]) -> None:
    """Fourteen referrals on 1 March 2027, through the API: 7 from health visitors, 5 from midwives, 2 from GPs.
    The second GP referral comes with an EPDS whose item 10 is positive, so she waits for a risk review; the
    others wait for a match run. Everyone shares one language, format and area."""
    with time_machine.travel(datetime(2027, 3, 1, 10, 0, tzinfo=UTC), tick=False):
        for n, role in enumerate(ROLES):
            body = referral_body(n, referrer={"organisation": "NHS Lothian", "role": role})
            if n == len(ROLES) - 1:
                body["epds"] = epds(14, date(2027, 3, 1), self_harm=1)
            response = client.post("/v1/referrals", json=body, headers=coordinator)
            assert response.status_code == 201, response.text


def _by_role(report: dict[str, Any], figure: str) -> dict[str, Any]:
    return {cell["group"]: cell[figure] for cell in report["breakdowns"]["referrer_role"]}


def test_the_coordinators_report_shows_exact_counts(
    client: TestClient, coordinator: dict[str, str], fourteen: None
) -> None:
    report = client.get(MARCH, headers=coordinator).json()
    assert report["audience"] == "internal"
    assert report["total"]["received"] == 14 and report["total"]["unmatched"] == 14
    assert _by_role(report, "received") == {"gp": 2, "health_visitor": 7, "midwife": 5}
    assert _by_role(report, "unmatched") == {"gp": 2, "health_visitor": 7, "midwife": 5}
    assert _by_role(report, "epds_baselines") == {"gp": 1, "health_visitor": 0, "midwife": 0}
    assert _by_role(report, "take_up") == {"gp": 0.0, "health_visitor": 0.0, "midwife": 0.0}
    assert [(u["reason"], u["referrals"]) for u in report["unmatched_by_reason"]] == [
        ("awaiting_a_match_run", 13),
        ("risk_review_pending", 1),
    ]


def test_an_external_report_withholds_the_cell_that_would_give_a_small_one_back(
    client: TestClient, coordinator: dict[str, str], fourteen: None
) -> None:
    """GPs referred 2: "<5". With the total (14) and health visitors (7) shown, showing midwives' 5 would give
    14 - 7 - 5 = 2 back, so the smallest other cell, the midwives', is withheld as well. The same for the
    unmatched reasons: 14 unmatched less 13 awaiting a run would give the 1 in risk review."""
    report = client.get(f"{MARCH}&audience=external", headers=coordinator).json()
    assert report["audience"] == "external"
    assert report["total"]["received"] == 14 and report["total"]["unmatched"] == 14
    assert _by_role(report, "received") == {"gp": S, "health_visitor": 7, "midwife": W}
    assert _by_role(report, "unmatched") == {"gp": S, "health_visitor": 7, "midwife": W}
    # The 1 baseline EPDS in all: the total is "<5", so there is nothing to subtract from.
    assert report["total"]["epds_baselines"] == S
    assert _by_role(report, "epds_baselines") == {"gp": S, "health_visitor": 0, "midwife": 0}
    # A rate goes with its counts: take-up 0 of a withheld 5 is withheld too.
    assert _by_role(report, "take_up") == {"gp": None, "health_visitor": 0.0, "midwife": None}
    assert [(u["reason"], u["referrals"]) for u in report["unmatched_by_reason"]] == [
        ("awaiting_a_match_run", W),
        ("risk_review_pending", S),
    ]
    # The breakdowns everyone shares one cell of show the total, which is safe: nothing is small.
    assert [(c["group"], c["received"]) for c in report["breakdowns"]["language"]] == [("pl", 14)]


def test_the_external_csv_withholds_the_same_cells(
    client: TestClient, coordinator: dict[str, str], fourteen: None
) -> None:
    response = client.get(f"{MARCH}&audience=external", headers={**coordinator, "Accept": "text/csv"})
    assert response.status_code == 200
    assert 'filename="outcomes_external_2027-03-01_2027-03-31.csv"' in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    roles = {row["group"]: row for row in rows if row["breakdown"] == "referrer_role"}
    assert {group: row["received"] for group, row in roles.items()} == {"gp": S, "health_visitor": "7", "midwife": W}
    assert roles["midwife"]["take_up"] == "" and roles["health_visitor"]["take_up"] == "0.0"


def test_an_unknown_audience_is_422(client: TestClient, coordinator: dict[str, str]) -> None:
    response = client.get("/v1/reports/outcomes?audience=funders", headers=coordinator)
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["query", "audience"]
    assert client.get("/v1/reports/capacity?audience=public", headers=coordinator).status_code == 422


def test_the_seeded_programme_shows_exact_counts_internally(
    client: TestClient, coordinator: dict[str, str], programme: dict[int, str]
) -> None:
    """The programme of tests/service/test_reports.py, worked by hand: what the external report hides."""
    report = client.get(JANUARY.replace("&audience=external", ""), headers=coordinator).json()
    assert report["total"] == TOTAL
    telephone = next(c for c in report["breakdowns"]["format"] if c.pop("group") == "telephone")
    assert telephone == {  # P11, P12, P16..P20
        "received": 7,
        "matched": 2,  # P11, P12
        "started": 2,
        "take_up": 0.286,  # 2 / 7
        "ended_early": 1,  # P12
        "drop_out": 0.5,
        "days_to_match_median": 1,  # P11 1, P12 8: ceil(1.0) = 1st
        "days_to_match_p90": 8,  # ceil(1.8) = 2nd
        "days_to_first_session_median": 8,  # P11 8, P12 15
        "days_to_first_session_p90": 15,
        "matches": 2,
        "sessions_per_match": 4.5,  # (8 + 1) / 2
        "epds_baselines": 4,  # P11 17, P12 12, P17 14, P18 10
        "epds_flagged": 2,  # 17 and 14
        "epds_pairs": 1,  # P11 17 -> 10
        "epds_mean_change": -7.0,
        "epds_improved": 1,
        "epds_share_improved": 1.0,
        "unmatched": 5,  # P16..P20
    }
    assert [(u["reason"], u["referrals"]) for u in report["unmatched_by_reason"]] == [
        ("no_volunteer_speaks_her_language", 5),
        ("no_volunteer_offers_her_formats", 1),
        ("awaiting_a_match_run", 1),
        ("risk_review_pending", 1),
    ]


def _possible_values(low_high: list[tuple[int, int]], index: int, remainder: int) -> set[int]:
    """Every value hidden cell `index` can take, by brute force: values within each cell's bounds adding up."""
    ranges = [range(low, min(high, remainder) + 1) for low, high in low_high]
    return {combo[index] for combo in itertools.product(*ranges) if sum(combo) == remainder}


@given(st.lists(st.integers(min_value=0, max_value=9), min_size=1, max_size=4), st.lists(st.booleans(), max_size=4))
def test_after_secondary_suppression_no_small_cell_has_one_possible_value(
    exact: list[int], small_people: list[bool]
) -> None:
    """Whatever the cells, a reader who knows the rule, the total and the shown cells is left at least two
    values for every "<5"; primary suppression is kept and a shown total stays shown unless the cells ran out."""
    total = sum(exact)
    # A cell of 1 to 4 people shows every count as "<5", a zero included.
    shown = [
        S if small or Cell(count).count(count) == S else count
        for count, small in zip(exact, small_people + [False] * 4, strict=False)
    ]
    shown_total = Cell(total).count(total)
    new_total, cells = secondary_suppression(shown_total, shown, exact)
    assert all(after == before for before, after in zip(shown, cells, strict=True) if before == S)
    assert all(after in (before, W) for before, after in zip(shown, cells, strict=True))
    if not isinstance(new_total, int) or total == 0:
        return
    hidden = [i for i, cell in enumerate(cells) if not isinstance(cell, int)]
    remainder = total - sum(cell for cell in cells if isinstance(cell, int))
    bounds = [
        (0, 4) if cells[i] == S and exact[i] == 0 else (1, 4) if cells[i] == S else (0, remainder) for i in hidden
    ]
    for position, i in enumerate(hidden):
        if cells[i] == S:
            assert len(_possible_values(bounds, position, remainder)) >= 2, (exact, shown, cells)


def test_the_csv_opens_in_excel_as_text_where_it_could_be_a_formula() -> None:
    assert csv_export.field("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert csv_export.field("@sum") == "'@sum"
    assert csv_export.field(-4.67) == "-4.67"  # a number stays a number
    assert csv_export.field(date(2027, 1, 31)) == "2027-01-31"
    assert csv_export.field(None) == ""


APRIL = "/v1/reports/outcomes?from=2027-04-01&to=2027-04-30"
BORN = {"baby_birth_date": "2027-02-01", "due_date": None}
EXPECTING = {"baby_birth_date": None, "due_date": "2027-06-01"}
WHO = (  # (how many, parent role, born or expecting on the day of the referral, background codes)
    (6, "mother", BORN, ["first_time_parent"]),
    (5, "father", EXPECTING, ["rural"]),
    (2, "co_parent", EXPECTING, ["rural"]),
    (4, "mother", BORN, []),
)


@pytest.fixture
def seventeen(client: TestClient, coordinator: dict[str, str]) -> None:
    n = 0
    with time_machine.travel(datetime(2027, 4, 1, 10, 0, tzinfo=UTC), tick=False):
        for count, role, dates, background in WHO:
            for _ in range(count):
                n += 1
                body = referral_body(n, parent={"role": role, **dates}, background=background)
                response = client.post("/v1/referrals", json=body, headers=coordinator)
                assert response.status_code == 201, response.text


def _cells(report: dict[str, Any], breakdown: str) -> dict[str, Any]:
    return {cell["group"]: cell["received"] for cell in report["breakdowns"][breakdown]}


def test_breakdowns_show_who_is_reached(client: TestClient, coordinator: dict[str, str], seventeen: None) -> None:
    report = client.get(APRIL, headers=coordinator).json()
    assert report["total"]["received"] == 17
    assert _cells(report, "parent_role") == {"co_parent": 2, "father": 5, "mother": 10}
    assert _cells(report, "stage_at_referral") == {"antenatal": 7, "postnatal": 10}
    # A parent counts under each of her codes; four have none recorded.
    assert _cells(report, "background") == {"first_time_parent": 6, "none_recorded": 4, "rural": 7}


def test_external_breakdowns_of_who_is_reached_withhold_what_would_give_a_small_one_back(
    client: TestClient, coordinator: dict[str, str], seventeen: None
) -> None:
    """Co-parents 2: "<5"; 17 - 10 mothers - 5 fathers would give them back, so the fathers are withheld. Every
    parent sits in at least one background cell, so the cells add up to 17 or more: shown, 6 first-time parents
    and 7 rural would leave "none recorded" at least 17 - 13 = 4, which is exactly 4."""
    report = client.get(f"{APRIL}&audience=external", headers=coordinator).json()
    assert _cells(report, "parent_role") == {"co_parent": S, "father": W, "mother": 10}
    assert _cells(report, "stage_at_referral") == {"antenatal": 7, "postnatal": 10}
    assert _cells(report, "background") == {"first_time_parent": W, "none_recorded": S, "rural": 7}


MAY = "/v1/reports/outcomes?from=2027-05-01&to=2027-05-31"


@pytest.fixture
def sixteen_by_quintile(client: TestClient, coordinator: dict[str, str]) -> list[str]:
    """Sixteen referrals on 1 May 2027 carrying a SIMD quintile: 8 in the most deprived fifth (one of them first
    given as 2 and corrected), 2 in the middle one, 6 in the least deprived."""
    ids = []
    with time_machine.travel(datetime(2027, 5, 1, 10, 0, tzinfo=UTC), tick=False):
        for n, quintile in enumerate([1] * 7 + [3] * 2 + [5] * 6 + [2]):
            response = client.post("/v1/referrals", json=referral_body(n, simd_quintile=quintile), headers=coordinator)
            assert response.status_code == 201, response.text
            assert response.json()["simd_quintile"] == quintile
            ids.append(response.json()["id"])
        corrected = patch_current(client, f"/v1/referrals/{ids[-1]}", json={"simd_quintile": 1}, headers=coordinator)
        assert corrected.status_code == 200, corrected.text
    return ids


def test_the_report_breaks_down_by_deprivation_quintile(
    client: TestClient, coordinator: dict[str, str], sixteen_by_quintile: list[str]
) -> None:
    report = client.get(MAY, headers=coordinator).json()
    assert _cells(report, "simd_quintile") == {"1": 8, "3": 2, "5": 6}


def test_an_external_deprivation_breakdown_withholds_what_would_give_the_middle_fifth_back(
    client: TestClient, coordinator: dict[str, str], sixteen_by_quintile: list[str]
) -> None:
    """The middle fifth, 2, is "<5"; 16 - 8 - 6 would give it back, so the smaller shown cell is withheld."""
    report = client.get(f"{MAY}&audience=external", headers=coordinator).json()
    assert report["total"]["received"] == 16
    assert _cells(report, "simd_quintile") == {"1": 8, "3": S, "5": W}


def test_a_quintile_can_be_cleared_and_she_then_counts_as_unknown(
    client: TestClient, coordinator: dict[str, str], sixteen_by_quintile: list[str]
) -> None:
    cleared = patch_current(
        client, f"/v1/referrals/{sixteen_by_quintile[0]}", json={"simd_quintile": None}, headers=coordinator
    )
    assert cleared.status_code == 200 and cleared.json()["simd_quintile"] is None, cleared.text
    report = client.get(MAY, headers=coordinator).json()
    assert _cells(report, "simd_quintile") == {"1": 7, "3": 2, "5": 6, "unknown": 1}


def test_only_quintiles_1_to_5_are_accepted(client: TestClient, coordinator: dict[str, str]) -> None:
    response = client.post("/v1/referrals", json=referral_body(1, simd_quintile=6), headers=coordinator)
    assert response.status_code == 422
    assert "simd_quintile" in response.text, response.text
