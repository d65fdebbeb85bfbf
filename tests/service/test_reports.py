"""Reports: figures worked out by hand from a seeded programme, the same in JSON and CSV, small numbers
suppressed, coordinators only."""

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import Connection
from sqlmodel import Session

from api_schemas.reports import UnmatchedReason
from service.core.ids import new_id
from service.models import Match, Referral, SupportSession
from service.reports.figures import nearest_rank
from service.reports.service import run_reason
from tests.conftest import KeyMaker
from tests.factories import referral_body, volunteer_body

S = "<5"
W = "suppressed"  # withheld by secondary suppression, so that no "<5" can be subtracted back from a total
JANUARY = "/v1/reports/outcomes?from=2027-01-01&to=2027-01-31&audience=external"
LEITH, CALTON = "EH6 6QQ", "EH7 5QY"  # postcode districts EH6 and EH7, the report's areas


def epds_answers(total: int, *, self_harm: int = 0) -> list[int]:
    """Ten item scores adding up to `total`, item 10 (self-harm) as given."""
    rest = total - self_harm
    items = [min(3, max(0, rest - 3 * i)) for i in range(9)]
    assert sum(items) == rest
    return [*items, self_harm]


def epds(total: int, on: date, timepoint: str = "baseline", *, self_harm: int = 0) -> dict[str, Any]:
    return {
        "instrument": "EPDS",
        "answers": epds_answers(total, self_harm=self_harm),
        "completed_on": on.isoformat(),
        "timepoint": timepoint,
    }


@dataclass(frozen=True)
class Parent:
    """One referral of the seeded programme; days are counted from her referral (10:00 UTC, which is 10:00 in
    London in January)."""

    n: int
    format: str
    language: str
    role: str
    area: str | None  # a postcode, or None for coordinates only (area "unknown")
    received_day: int  # of January 2027
    baseline: int | None = None
    match_after: int | None = None
    first_session_after: int | None = None
    attended: int = 0
    outcome: str | None = None
    end: int | None = None
    self_harm: int = 0

    @property
    def received_at(self) -> datetime:
        return datetime(2027, 1, self.received_day, 10, 0, tzinfo=UTC)


HV, MW, GP, SELF = "health_visitor", "midwife", "gp", "self"
HOME, PHONE, VENUE = "home_visit", "telephone", "in_person"
PARENTS = (
    #      format lang  role  area   day  EPDS  match 1st  held outcome          end
    Parent(1, HOME, "pl", HV, LEITH, 4, 15, 5, 12, 8, "completed", end=9),
    Parent(2, HOME, "pl", HV, LEITH, 4, 18, 10, 17, 3, "ended_early"),
    Parent(3, HOME, "pl", HV, LEITH, 5, 14, 3, 10, 8, "completed", end=8),
    Parent(4, HOME, "pl", HV, LEITH, 6, 12, 7, 14, 2, "ended_early"),
    Parent(5, HOME, "pl", MW, LEITH, 7, 20, 14, 21, 8, "completed", end=12),
    Parent(6, HOME, "en", MW, CALTON, 8, 11, 2, 9, 1, "ended_early"),
    Parent(7, HOME, "en", MW, CALTON, 11, 10, 21, 28, 8, "completed", end=11),
    Parent(8, HOME, "en", HV, CALTON, 12, 16, 6, 13, 4),  # still meeting
    Parent(9, HOME, "pl", HV, LEITH, 13, 13, 4, 11, 2, "ended_early", end=11),
    Parent(10, HOME, "pl", GP, LEITH, 14, 9, 9),  # matched, no session yet (a declined offer before)
    Parent(11, PHONE, "en", HV, CALTON, 15, 17, 1, 8, 8, "completed", end=10),
    Parent(12, PHONE, "en", MW, CALTON, 18, 12, 8, 15, 1, "ended_early"),
    Parent(13, VENUE, "en", HV, CALTON, 19, 13),  # no volunteer offers meetings at a venue
    Parent(14, VENUE, "ar", GP, None, 20, 8),  # nobody speaks Arabic
    Parent(15, VENUE, "ar", MW, None, 21, 14, self_harm=1),  # escalated: risk review pending
    Parent(16, PHONE, "pl", HV, LEITH, 22),  # posted after the only match run, so no run has seen her
    Parent(17, PHONE, "ur", SELF, CALTON, 25, 14),  # nobody speaks Urdu
    Parent(18, PHONE, "ur", SELF, CALTON, 26, 10),
    Parent(19, PHONE, "ur", SELF, LEITH, 27),
    Parent(20, PHONE, "ur", SELF, LEITH, 28),
)
RUN_AT = datetime(2027, 2, 20, 10, 0, tzinfo=UTC)


def _post_referral(client: TestClient, headers: dict[str, str], parent: Parent) -> str:
    place: dict[str, Any] = (
        {"postcode": parent.area} if parent.area else {"postcode": None, "location": {"lat": 55.95, "lon": -3.19}}
    )
    place["baby_birth_date"] = "2026-10-01"  # every one of them postnatal when referred
    body = referral_body(
        parent.n,
        referrer={"organisation": "NHS Lothian", "role": parent.role},
        parent=place,
        languages=[parent.language],
        formats=[parent.format],
    )
    if parent.baseline is not None:
        body["epds"] = epds(parent.baseline, parent.received_at.date(), self_harm=parent.self_harm)
    with time_machine.travel(parent.received_at, tick=False):
        created = client.post("/v1/referrals", json=body, headers=headers)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def _seed_matches(connection: Connection, volunteer_id: str, ids: dict[int, str]) -> None:
    """Matches and sessions written straight to the tables, so each date is exactly the one the hand
    arithmetic uses; the referral's status follows what happened."""
    with Session(connection) as session:
        for parent in PARENTS:
            if parent.match_after is None:
                continue
            referral = session.get(Referral, ids[parent.n])
            assert referral is not None
            confirmed = parent.received_at + timedelta(days=parent.match_after)
            status = "ended" if parent.outcome else "active" if parent.attended else "scheduled"
            match = _match(ids[parent.n], volunteer_id, confirmed, status=status, outcome=parent.outcome)
            session.add(match)
            session.flush()
            if parent.first_session_after is not None:
                first = parent.received_at + timedelta(days=parent.first_session_after)
                for week in range(parent.attended):
                    session.add(_session(match, volunteer_id, week + 1, first + timedelta(weeks=week), "attended"))
                # A missed session the week before and a cancelled one after never count as held.
                session.add(_session(match, volunteer_id, 0, first - timedelta(weeks=1), "missed"))
                session.add(_session(match, volunteer_id, 99, first + timedelta(weeks=20), "cancelled"))
            else:
                session.add(_session(match, volunteer_id, 1, confirmed + timedelta(days=30), "planned"))
            referral.status = {"ended": "ended", "active": "active", "scheduled": "matched"}[status]
            session.add(referral)
        # Parent 10 had an earlier offer that the volunteer declined: created, never confirmed, not a match.
        session.add(
            _match(
                ids[10],
                volunteer_id,
                None,
                status="declined",
                outcome=None,
                created_at=PARENTS[9].received_at + timedelta(days=3),
            )
        )
        session.commit()


def _match(
    referral_id: str,
    volunteer_id: str,
    confirmed: datetime | None,
    *,
    status: str,
    outcome: str | None,
    created_at: datetime | None = None,
) -> Match:
    created = created_at or (confirmed - timedelta(hours=2) if confirmed else datetime(2027, 1, 1, tzinfo=UTC))
    return Match(
        id=new_id(),
        referral_id=referral_id,
        volunteer_id=volunteer_id,
        status=status,
        format="home_visit",
        planned_sessions=8,
        outcome=outcome,
        created_at=created,
        confirmed_at=confirmed,
        updated_at=created,
    )


def _session(match: Match, volunteer_id: str, number: int, starts_at: datetime, status: str) -> SupportSession:
    return SupportSession(
        id=new_id(),
        match_id=match.id,
        volunteer_id=volunteer_id,
        number=number,
        kind="regular",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=1),
        format=match.format,
        status=status,
        updated_at=starts_at,
    )


@pytest.fixture
def programme(client: TestClient, coordinator: dict[str, str], db: Connection) -> dict[int, str]:
    """The seeded programme of PARENTS, two referrals just outside January, and one match run."""
    with time_machine.travel(datetime(2027, 1, 2, 9, 0, tzinfo=UTC), tick=False):
        body = volunteer_body(name="Former Volunteer", status="left")
        former = client.post("/v1/volunteers", json=body, headers=coordinator).json()["id"]
    ids = {p.n: _post_referral(client, coordinator, p) for p in PARENTS if p.n != 16}
    # Just outside the period: 23:30 on 31 December and 00:10 on 1 February, London time (GMT).
    for n, at in ((90, datetime(2026, 12, 31, 23, 30, tzinfo=UTC)), (91, datetime(2027, 2, 1, 0, 10, tzinfo=UTC))):
        with time_machine.travel(at, tick=False):
            assert (
                client.post("/v1/referrals", json=referral_body(n, languages=["pl"]), headers=coordinator).status_code
                == 201
            )
    _seed_matches(db, former, ids)
    for parent in PARENTS:
        if parent.end is not None:
            on = parent.received_at.date() + timedelta(days=70)
            recorded = client.post(
                f"/v1/referrals/{ids[parent.n]}/measures", json=epds(parent.end, on, "end"), headers=coordinator
            )
            assert recorded.status_code == 201, recorded.text
    # Ignored: a later second baseline (her first counts) and a measure at another timepoint.
    client.post(f"/v1/referrals/{ids[3]}/measures", json=epds(5, date(2027, 1, 20)), headers=coordinator)
    client.post(f"/v1/referrals/{ids[1]}/measures", json=epds(2, date(2027, 2, 1), "other"), headers=coordinator)
    with time_machine.travel(RUN_AT, tick=False):
        body = volunteer_body(name="Telephone Volunteer", languages=["en"], formats=["telephone"])
        assert client.post("/v1/volunteers", json=body, headers=coordinator).status_code == 201
        run = client.post("/v1/match-runs?wait=true", headers=coordinator).json()
    assert run["proposals"] == []
    ids[16] = _post_referral(client, coordinator, PARENTS[15])  # received in January, after the run in time
    return ids


def suppressed_cell() -> dict[str, Any]:
    """A cell of 1 to 4 people: every count "<5", every derived figure null."""
    return {
        "received": S,
        "matched": S,
        "started": S,
        "take_up": None,
        "ended_early": S,
        "drop_out": None,
        "days_to_match_median": None,
        "days_to_match_p90": None,
        "days_to_first_session_median": None,
        "days_to_first_session_p90": None,
        "matches": S,
        "sessions_per_match": None,
        "epds_baselines": S,
        "epds_flagged": S,
        "epds_pairs": S,
        "epds_mean_change": None,
        "epds_improved": S,
        "epds_share_improved": None,
        "unmatched": S,
    }


# Every figure below is worked out by hand from PARENTS (P1..P20). Days to match: P1 5, P2 10, P3 3, P4 7,
# P5 14, P6 2, P7 21, P8 6, P9 4, P10 9, P11 1, P12 8. Days to first session: P1 12, P2 17, P3 10, P4 14,
# P5 21, P6 9, P7 28, P8 13, P9 11, P11 8, P12 15. Sessions held: P1 8, P2 3, P3 8, P4 2, P5 8, P6 1, P7 8,
# P8 4, P9 2, P10 0, P11 8, P12 1. EPDS threshold 13. Nearest rank: the ceil(p*n/100)-th smallest value.
TOTAL = {
    "received": 20,  # P1..P20; the two referrals of 31 December and 1 February are outside
    "matched": 12,  # P1..P12 (P10's declined offer is not a match, her confirmed one is)
    "started": 11,  # P1..P9, P11, P12 (P10 has not met yet)
    "take_up": 0.55,  # 11 / 20
    "ended_early": 5,  # P2, P4, P6, P9, P12
    "drop_out": 0.455,  # 5 / 11 = 0.4545...
    "days_to_match_median": 6,  # sorted 1,2,3,4,5,6,7,8,9,10,14,21; n=12: ceil(6.0)=6th -> 6
    "days_to_match_p90": 14,  # ceil(10.8)=11th -> 14
    "days_to_first_session_median": 13,  # sorted 8,9,10,11,12,13,14,15,17,21,28; n=11: ceil(5.5)=6th -> 13
    "days_to_first_session_p90": 21,  # ceil(9.9)=10th -> 21
    "matches": 12,  # one confirmed match each for P1..P12
    "sessions_per_match": 4.42,  # (8+3+8+2+8+1+8+4+2+0+8+1) = 53 / 12 = 4.4166...
    "epds_baselines": 17,  # P1..P15, P17, P18
    "epds_flagged": 10,  # baseline >= 13: P1 15, P2 18, P3 14, P5 20, P8 16, P9 13, P11 17, P13 13, P15 14, P17 14
    "epds_pairs": 6,  # P1, P3, P5, P7, P9, P11
    "epds_mean_change": -4.67,  # (-6 -6 -8 +1 -2 -7) = -28 / 6 = -4.666...
    "epds_improved": 5,  # all pairs but P7 (10 -> 11)
    "epds_share_improved": 0.833,  # 5 / 6
    "unmatched": 8,  # P13 P14 P16..P20 waiting, P15 escalated
}
HOME_VISITS = {  # P1..P10
    "received": 10,
    "matched": 10,
    "started": 9,  # P10 has not met yet
    "take_up": 0.9,  # 9 / 10
    "ended_early": S,
    "drop_out": None,  # P2, P4, P6, P9: 4 people, so hidden, and the rate with it
    "days_to_match_median": 6,  # sorted 2,3,4,5,6,7,9,10,14,21; n=10: ceil(5.0)=5th -> 6
    "days_to_match_p90": 14,  # ceil(9.0)=9th -> 14
    "days_to_first_session_median": 13,  # sorted 9,10,11,12,13,14,17,21,28; n=9: ceil(4.5)=5th -> 13
    "days_to_first_session_p90": 28,  # ceil(8.1)=9th -> 28
    "matches": 10,
    "sessions_per_match": 4.4,  # (8+3+8+2+8+1+8+4+2+0) = 44 / 10
    "epds_baselines": 10,
    "epds_flagged": 6,  # P1, P2, P3, P5, P8, P9
    "epds_pairs": W,  # 5 (P1, P3, P5, P7, P9): else 6 - 5 would leave telephone's "<5" (P11) exactly 1
    "epds_mean_change": -4.2,  # (-6 -6 -8 +1 -2) = -21 / 5
    "epds_improved": S,
    "epds_share_improved": None,  # 4 improved: hidden
    "unmatched": 0,
}
TELEPHONE = {  # P11, P12, P16..P20: 7 people, but most of what happened to them concerns 1 to 4
    "received": W,  # 7: else 20 - 10 - 7 would give the 3 behind in_person's "<5"
    "matched": S,
    "started": S,
    "take_up": None,
    "ended_early": S,
    "drop_out": None,
    "days_to_match_median": None,
    "days_to_match_p90": None,
    "days_to_first_session_median": None,
    "days_to_first_session_p90": None,
    "matches": S,
    "sessions_per_match": None,
    "epds_baselines": S,  # P11, P12, P17, P18
    "epds_flagged": S,
    "epds_pairs": S,
    "epds_mean_change": None,
    "epds_improved": S,
    "epds_share_improved": None,
    "unmatched": W,  # 5 (P16..P20): else 8 - 0 - 5 would give in_person's 3
}
POLISH = {  # P1..P5, P9, P10, P16
    "received": 8,
    "matched": 7,
    "started": 6,
    "take_up": 0.75,  # 6 / 8
    "ended_early": S,
    "drop_out": None,  # P2, P4, P9
    "days_to_match_median": 7,  # sorted 3,4,5,7,9,10,14; n=7: ceil(3.5)=4th -> 7
    "days_to_match_p90": 14,  # ceil(6.3)=7th -> 14
    "days_to_first_session_median": 12,  # sorted 10,11,12,14,17,21; n=6: ceil(3.0)=3rd -> 12
    "days_to_first_session_p90": 21,  # ceil(5.4)=6th -> 21
    "matches": 7,
    "sessions_per_match": 4.43,  # (8+3+8+2+8+2+0) = 31 / 7 = 4.428...
    "epds_baselines": 7,
    "epds_flagged": 5,  # P1, P2, P3, P5, P9
    "epds_pairs": S,
    "epds_mean_change": None,
    "epds_improved": S,
    "epds_share_improved": None,  # 4 pairs
    "unmatched": S,  # P16
}
ENGLISH = {  # P6, P7, P8, P11, P12, P13
    "received": 6,
    # 5 matched, 5 started, 5 matches: shown with Polish's 7, 6 and 7 they would add up to the total's 12, 11
    # and 12, telling that nobody behind the Arabic and Urdu "<5" was matched or met a volunteer.
    "matched": W,
    "started": W,
    "take_up": None,  # 5 / 6 would give started back
    "ended_early": S,
    "drop_out": None,  # P6, P12
    "days_to_match_median": 6,  # sorted 1,2,6,8,21; n=5: ceil(2.5)=3rd -> 6
    "days_to_match_p90": 21,  # ceil(4.5)=5th -> 21
    "days_to_first_session_median": 13,  # sorted 8,9,13,15,28 -> 3rd
    "days_to_first_session_p90": 28,  # 5th
    "matches": W,
    "sessions_per_match": 4.4,  # (1+8+4+8+1) = 22 / 5
    "epds_baselines": 6,
    "epds_flagged": S,  # P8, P11, P13
    "epds_pairs": S,
    "epds_mean_change": None,
    "epds_improved": S,
    "epds_share_improved": None,  # P7, P11
    "unmatched": S,  # P13
}
HEALTH_VISITORS = {  # P1, P2, P3, P4, P8, P9, P11, P13, P16
    "received": 9,
    "matched": 7,
    "started": 7,
    "take_up": 0.778,  # 7 / 9 = 0.7777...
    "ended_early": S,
    "drop_out": None,  # P2, P4, P9
    "days_to_match_median": 5,  # P1 5, P2 10, P3 3, P4 7, P8 6, P9 4, P11 1: sorted 1,3,4,5,6,7,10 -> 4th
    "days_to_match_p90": 10,  # ceil(6.3)=7th
    "days_to_first_session_median": 12,  # 12,17,10,14,13,11,8: sorted 8,10,11,12,13,14,17 -> 4th
    "days_to_first_session_p90": 17,  # 7th
    "matches": 7,
    "sessions_per_match": 5.0,  # (8+3+8+2+4+2+8) = 35 / 7
    "epds_baselines": 8,  # all but P16
    "epds_flagged": 7,  # P1 15, P2 18, P3 14, P8 16, P9 13, P11 17, P13 13 (P4 has 12)
    "epds_pairs": S,
    "epds_mean_change": None,
    "epds_improved": S,
    "epds_share_improved": None,  # P1 P3 P9 P11
    "unmatched": S,  # P13, P16
}
MIDWIVES = {  # P5, P6, P7, P12, P15: five people, four matched
    "received": 5,
    "matched": S,
    "started": S,
    "take_up": None,
    "ended_early": S,
    "drop_out": None,
    "days_to_match_median": None,
    "days_to_match_p90": None,
    "days_to_first_session_median": None,
    "days_to_first_session_p90": None,
    "matches": S,
    "sessions_per_match": None,
    "epds_baselines": 5,
    "epds_flagged": S,  # P5 20, P15 14
    "epds_pairs": S,
    "epds_mean_change": None,
    "epds_improved": S,
    "epds_share_improved": None,
    "unmatched": S,  # P15
}
LEITH_AREA = {  # EH6: P1..P5, P9, P10, P16, P19, P20
    **POLISH,
    "received": 10,
    "take_up": 0.6,  # 6 / 10; otherwise the same people as POLISH, plus P19, P20
    "epds_baselines": W,  # 7: else 17 - 7 - 8 would give the 2 behind unknown's "<5"
    "unmatched": S,  # P16, P19, P20
}
CALTON_AREA = {  # EH7: P6, P7, P8, P11, P12, P13, P17, P18
    **ENGLISH,  # matched, started and matches withheld again: EH6's 7, 6, 7 and EH7's would make the total
    "received": W,  # 8: else 20 - 10 - 8 would give unknown's 2
    "take_up": None,
    "epds_baselines": 8,
    "epds_flagged": S,  # P8, P11, P13, P17
    "unmatched": S,  # P13, P17, P18
}
BREAKDOWNS = {
    "format": {"home_visit": HOME_VISITS, "in_person": suppressed_cell(), "telephone": TELEPHONE},
    "language": {"ar": suppressed_cell(), "en": ENGLISH, "pl": POLISH, "ur": suppressed_cell()},
    "referrer_role": {
        "gp": suppressed_cell(),
        "health_visitor": HEALTH_VISITORS,
        "midwife": MIDWIVES,
        "self": suppressed_cell(),
    },
    "area": {"EH6": LEITH_AREA, "EH7": CALTON_AREA, "unknown": suppressed_cell()},
    # Every one of them a mother, postnatal, first-time parent: one cell each, the total.
    "parent_role": {"mother": TOTAL},
    "stage_at_referral": {"postnatal": TOTAL},
    "background": {"first_time_parent": TOTAL},
    "simd_quintile": {"unknown": TOTAL},  # none of the seeds carries one
    "month": {"2027-01": TOTAL},
}
UNMATCHED_BY_REASON = {
    # 5: P14 (Arabic), P17..P20 (Urdu), the run found 0 speakers. Shown, 8 - 5 would leave three "<5" adding up
    # to 3: one each.
    "no_volunteer_speaks_her_language": W,
    "no_volunteer_offers_her_formats": S,  # P13: 1 speaks English, 0 offer meetings at a venue
    "awaiting_a_match_run": S,  # P16, posted after the only run
    "risk_review_pending": S,  # P15
}


def test_the_outcomes_report_gives_the_hand_worked_figures(
    client: TestClient, coordinator: dict[str, str], programme: dict[int, str]
) -> None:
    response = client.get(JANUARY, headers=coordinator)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["period"] == {"from": "2027-01-01", "to": "2027-01-31", "time_zone": "Europe/London"}
    assert report["epds_threshold"] == 13
    assert report["total"] == TOTAL
    for breakdown, cells in BREAKDOWNS.items():
        assert {c.pop("group"): c for c in report["breakdowns"][breakdown]} == cells, breakdown
    assert [(u["reason"], u["referrals"]) for u in report["unmatched_by_reason"]] == list(UNMATCHED_BY_REASON.items())


def test_the_outcomes_report_as_csv_gives_the_same_figures(
    client: TestClient, coordinator: dict[str, str], programme: dict[int, str]
) -> None:
    response = client.get(JANUARY, headers={**coordinator, "Accept": "text/csv"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["vary"] == "Accept"
    assert response.content.startswith(b"\xef\xbb\xbf")  # the byte order mark Excel needs to read UTF-8
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    by_cell = {(row.pop("breakdown"), row.pop("group")): row for row in rows}

    def as_csv(cell: dict[str, Any]) -> dict[str, str]:
        return {name: "" if value is None else str(value) for name, value in cell.items()}

    assert by_cell.pop(("all", "all")) == as_csv(TOTAL)
    for breakdown, cells in BREAKDOWNS.items():
        for group, cell in cells.items():
            assert by_cell.pop((breakdown, group)) == as_csv(cell), (breakdown, group)
    for reason, count in UNMATCHED_BY_REASON.items():
        row = by_cell.pop(("unmatched_reason", reason))
        assert row.pop("unmatched") == str(count) and set(row.values()) == {""}
    assert by_cell == {}
    assert (
        response.text.lstrip("\ufeff").splitlines()[0].startswith("breakdown,group,received,matched,started,take_up,")
    )


def test_a_breakdown_cell_of_one_to_four_people_shows_less_than_five(
    client: TestClient, coordinator: dict[str, str], programme: dict[int, str]
) -> None:
    report = client.get(JANUARY, headers=coordinator).json()
    arabic = next(c for c in report["breakdowns"]["language"] if c["group"] == "ar")  # P14, P15
    assert arabic["received"] == "<5" and arabic["unmatched"] == "<5"
    assert arabic["matched"] == "<5"  # 0 matched, but a zero about 2 people would say something about them
    assert arabic["epds_mean_change"] is None and arabic["take_up"] is None
    # The same people through another door: a one-day period holds one referral (P15, 21 January).
    one_day = client.get(
        "/v1/reports/outcomes?from=2027-01-21&to=2027-01-21&audience=external", headers=coordinator
    ).json()
    assert one_day["total"] == suppressed_cell()
    assert [c["group"] for c in one_day["breakdowns"]["language"]] == ["ar"]
    assert all(u["referrals"] == "<5" for u in one_day["unmatched_by_reason"])


def test_without_dates_every_referral_is_counted(
    client: TestClient, coordinator: dict[str, str], programme: dict[int, str]
) -> None:
    report = client.get("/v1/reports/outcomes", headers=coordinator).json()
    assert report["period"] == {"from": None, "to": None, "time_zone": "Europe/London"}
    assert report["total"]["received"] == 22  # PARENTS and the two just outside January
    from_february = client.get("/v1/reports/outcomes?from=2027-02-01&audience=external", headers=coordinator).json()
    assert from_february["total"]["received"] == S  # only the referral of 1 February at 00:10


def test_an_api_made_match_counts_as_matched_and_started(client: TestClient, coordinator: dict[str, str]) -> None:
    """Five parents through the whole API path: referral, match run, accept, her accept, one attended session."""
    weekdays = [{"day": day, "start": "09:00", "end": "17:00"} for day in ("mon", "tue", "wed", "thu", "fri")]
    start = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)  # a Monday
    with time_machine.travel(start, tick=False) as traveller:
        body = volunteer_body(
            languages=["en"],
            formats=["telephone"],
            availability=weekdays,
            capacity={"max_parents": 5, "max_sessions_per_week": 5},
        )
        client.post("/v1/volunteers", json=body, headers=coordinator)
        for n in range(5):
            body = referral_body(n, languages=["en"], formats=["telephone"], availability=weekdays)
            assert client.post("/v1/referrals", json=body, headers=coordinator).status_code == 201
        traveller.move_to(start + timedelta(days=2))
        proposals = client.post("/v1/match-runs?wait=true", headers=coordinator).json()["proposals"]
        assert len(proposals) == 5
        first_sessions = []
        for proposal in proposals:
            match = client.post(f"/v1/proposals/{proposal['id']}/accept", headers=coordinator).json()
            assert client.post(f"/v1/matches/{match['id']}/accept", headers=coordinator).status_code == 200
            first_sessions.append(
                client.get(f"/v1/matches/{match['id']}/sessions", headers=coordinator).json()["items"][0]
            )
        traveller.move_to(max(datetime.fromisoformat(s["ends_at"]) for s in first_sessions))
        for planned in first_sessions:
            attended = client.post(
                f"/v1/sessions/{planned['id']}/attendance", json={"status": "attended"}, headers=coordinator
            )
            assert attended.status_code == 200, attended.text
        total = client.get("/v1/reports/outcomes?from=2027-03-01&to=2027-03-01", headers=coordinator).json()["total"]
    # Received Monday 1 March, confirmed Wednesday 3 March: 2 days for all five.
    assert total["received"] == 5 and total["matched"] == 5 and total["started"] == 5 and total["take_up"] == 1.0
    assert total["days_to_match_median"] == 2 and total["days_to_match_p90"] == 2
    assert total["sessions_per_match"] == 1.0 and total["ended_early"] == 0 and total["drop_out"] == 0.0
    first_days = sorted((datetime.fromisoformat(s["starts_at"]).date() - date(2027, 3, 1)).days for s in first_sessions)
    assert total["days_to_first_session_median"] == first_days[2]  # nearest rank: ceil(2.5) = 3rd of 5
    assert total["days_to_first_session_p90"] == first_days[4]


def test_the_capacity_report_counts_ready_volunteers_free_places_and_waiting_referrals(
    client: TestClient, coordinator: dict[str, str]
) -> None:
    with time_machine.travel(datetime(2027, 3, 1, 9, 0, tzinfo=UTC), tick=False):

        def volunteer(**overrides: Any) -> str:
            response = client.post("/v1/volunteers", json=volunteer_body(**overrides), headers=coordinator)
            assert response.status_code == 201, response.text
            return str(response.json()["id"])

        v1 = volunteer(
            languages=["en", "pl"],
            formats=["home_visit", "telephone"],
            postcode=CALTON,
            capacity={"max_parents": 2, "max_sessions_per_week": 2},
        )
        volunteer(
            languages=["en", "pl"],
            formats=["home_visit", "telephone"],
            postcode=CALTON,
            capacity={"max_parents": 3, "max_sessions_per_week": 1},
        )
        volunteer(
            languages=["en"],
            formats=["telephone"],
            postcode=LEITH,
            capacity={"max_parents": 1, "max_sessions_per_week": 1},
        )
        volunteer(
            languages=["en"],
            formats=["telephone"],
            postcode=LEITH,
            capacity={"max_parents": 2, "max_sessions_per_week": 2},
        )
        volunteer(
            languages=["en", "pl"],
            formats=["home_visit", "telephone"],
            postcode=LEITH,
            capacity={"max_parents": 1, "max_sessions_per_week": 1},
        )
        volunteer(languages=["en"], formats=["telephone"], postcode=CALTON, status="paused")
        volunteer(languages=["pl"], formats=["home_visit"], postcode=LEITH, training_completed_on=None)
        matched = client.post("/v1/referrals", json=referral_body(100), headers=coordinator).json()["id"]
        made = client.post("/v1/matches", json={"referral_id": matched, "volunteer_id": v1}, headers=coordinator)
        assert made.status_code == 201, made.text
        for n in range(5):
            client.post("/v1/referrals", json=referral_body(n, parent={"postcode": LEITH}), headers=coordinator)
        client.post(
            "/v1/referrals",
            json=referral_body(9, languages=["ar"], formats=["telephone"], parent={"postcode": CALTON}),
            headers=coordinator,
        )
        client.post(
            "/v1/referrals", json=referral_body(10, epds=epds(14, date(2027, 3, 1), self_harm=1)), headers=coordinator
        )  # escalated, so not waiting
        report = client.get("/v1/reports/capacity?audience=external", headers=coordinator)
        internal = client.get("/v1/reports/capacity", headers=coordinator).json()
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["as_of"] == "2027-03-01"
    # Ready: V1..V5 (V6 paused, V7 untrained). Free places, the lesser of max_parents and weekly sessions less
    # her parents: V1 min(2,2)-1 pending match = 1, V2 min(3,1) = 1, V3 1, V4 2, V5 1: 6 in all.
    # Waiting: five Polish home visits in EH6 and one Arabic telephone referral in EH7.
    assert body["total"] == {"ready_volunteers": 5, "free_places": 6, "waiting_referrals": 6}
    cells = {name: {c.pop("group"): c for c in groups} for name, groups in body["breakdowns"].items()}
    assert cells["language"] == {
        "ar": {"ready_volunteers": 0, "free_places": 0, "waiting_referrals": S},
        "en": {"ready_volunteers": 5, "free_places": 6, "waiting_referrals": 0},  # all five speak English
        # Waiting: shown, 6 - 0 - 5 would give Arabic's 1.
        "pl": {"ready_volunteers": S, "free_places": None, "waiting_referrals": W},  # V1, V2, V5
    }
    assert cells["format"] == {
        "home_visit": {"ready_volunteers": S, "free_places": None, "waiting_referrals": W},  # V1, V2, V5; 5 waiting
        "telephone": {"ready_volunteers": 5, "free_places": 6, "waiting_referrals": S},
    }
    assert cells["area"] == {
        # Ready volunteers add up by area: 3 and 2 "<5" in a total of 5 could be 1+4, 2+3, 3+2 or 4+1.
        "EH6": {"ready_volunteers": S, "free_places": None, "waiting_referrals": W},  # V3, V4, V5
        "EH7": {"ready_volunteers": S, "free_places": None, "waiting_referrals": S},  # V1, V2
    }
    # The programme's own report: every count exact. Free places by area: EH6 V3 1 + V4 2 + V5 1, EH7 V1 1 + V2 1.
    assert internal["audience"] == "internal" and body["audience"] == "external"
    assert internal["total"] == body["total"]
    exact = {name: {c.pop("group"): c for c in groups} for name, groups in internal["breakdowns"].items()}
    assert exact == {
        "language": {
            "ar": {"ready_volunteers": 0, "free_places": 0, "waiting_referrals": 1},
            "en": {"ready_volunteers": 5, "free_places": 6, "waiting_referrals": 0},
            "pl": {"ready_volunteers": 3, "free_places": 3, "waiting_referrals": 5},
        },
        "format": {
            "home_visit": {"ready_volunteers": 3, "free_places": 3, "waiting_referrals": 5},
            "telephone": {"ready_volunteers": 5, "free_places": 6, "waiting_referrals": 1},
        },
        "area": {
            "EH6": {"ready_volunteers": 3, "free_places": 4, "waiting_referrals": 5},
            "EH7": {"ready_volunteers": 2, "free_places": 2, "waiting_referrals": 1},
        },
    }


@pytest.mark.parametrize("path", ["/v1/reports/outcomes", "/v1/reports/capacity"])
@pytest.mark.parametrize("role", ["integrator", "volunteer"])
def test_integrators_and_volunteers_may_not_read_reports(
    client: TestClient, make_key: KeyMaker, path: str, role: str
) -> None:
    headers = make_key(
        role, source="nhs" if role == "integrator" else None, volunteer_id="v-1" if role == "volunteer" else None
    )
    response = client.get(path, headers=headers)
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"


def test_admins_may_read_reports(client: TestClient, admin: dict[str, str]) -> None:
    assert client.get("/v1/reports/outcomes", headers=admin).status_code == 200
    assert client.get("/v1/reports/capacity", headers=admin).status_code == 200


@pytest.mark.parametrize(
    ("query", "loc"),
    [
        ("from=2027-13-01", ["query", "from"]),
        ("from=1800000000", ["query", "from"]),  # a Unix time is not a date
        ("to=01/02/2027", ["query", "to"]),
        ("from=1999-12-31", ["query", "from"]),
        ("from=2027-02-01&to=2027-01-31", ["query", "to"]),
    ],
)
def test_a_bad_date_is_422_problem_details(
    client: TestClient, coordinator: dict[str, str], query: str, loc: list[str]
) -> None:
    response = client.get(f"/v1/reports/outcomes?{query}", headers=coordinator)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["loc"] == loc


def test_an_empty_period_shows_zeros(client: TestClient, coordinator: dict[str, str]) -> None:
    """Zero says nothing about anyone, so it is shown; with nobody to divide by, rates are null."""
    report = client.get("/v1/reports/outcomes?from=2030-01-01&to=2030-01-31", headers=coordinator).json()
    assert report["total"] == {name: None if value is None else 0 for name, value in suppressed_cell().items()}
    assert report["breakdowns"] == {
        "format": [],
        "language": [],
        "referrer_role": [],
        "area": [],
        "parent_role": [],
        "stage_at_referral": [],
        "background": [],
        "simd_quintile": [],
        "month": [],
    }
    assert report["unmatched_by_reason"] == []


def test_every_cause_the_engine_gives_is_a_reason_a_report_counts() -> None:
    from matching.explain import CAUSE_CODES

    for code in CAUSE_CODES:
        entry = {"referral_id": "r", "reasons": ["(any sentence)"], "causes": [{"code": code, "params": {}}]}
        assert run_reason(entry) is UnmatchedReason(code)


@pytest.mark.parametrize(
    "entry",
    [
        {"referral_id": "r", "reasons": ["0 available volunteers speak Arabic"]},  # stored before causes existed
        {"referral_id": "r", "reasons": [], "causes": [{"code": "something_new", "params": {}}]},
    ],
)
def test_a_run_without_a_known_cause_code_counts_as_another_reason(entry: dict[str, object]) -> None:
    assert run_reason(entry) is UnmatchedReason.other_run_reason


def test_percentiles_are_nearest_rank() -> None:
    assert nearest_rank([4, 1, 3, 2], 50) == 2  # ceil(2.0) = 2nd: the lower middle value
    assert nearest_rank([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90) == 9  # ceil(9.0) = 9th
    assert nearest_rank([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 90) == 10  # ceil(9.9) = 10th
    assert nearest_rank([7], 90) == 7
