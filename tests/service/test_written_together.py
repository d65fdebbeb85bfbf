"""Rows written together (service.core.together: one statement on PostgreSQL, JSON per row) read back as the
same rows written one INSERT at a time, whatever their values; and the referral post built on it keeps its
promises: a retry replays, a duplicate is 409, nothing of a refused post stays."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, Table, insert, select, text

from service.core import together
from service.models import AuditEvent, OutboxEvent, Referral
from service.referrals import repository
from tests.conftest import KeyMaker
from tests.factories import referral_body

AUDIT: Table = AuditEvent.__table__  # type: ignore[attr-defined]
EVENTS: Table = OutboxEvent.__table__  # type: ignore[attr-defined]
REFERRALS: Table = Referral.__table__  # type: ignore[attr-defined]

texts = st.text(st.characters(exclude_characters="\x00", exclude_categories=("Cs",)), max_size=40)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats(allow_nan=False, allow_infinity=False) | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=12,
)
moments = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))


def _read(db: Connection, table: Table, row_id: str) -> dict[str, Any]:
    found = db.execute(select(table).where(table.c.id == row_id)).mappings().one()
    return dict(found)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    at=moments,
    reason=st.none() | texts,
    action=texts.filter(bool),
    payload=st.dictionaries(texts, json_values, max_size=5),
)
def test_rows_written_together_read_back_as_rows_written_one_by_one(
    db: Connection, at: datetime, reason: str | None, action: str, payload: dict[str, Any]
) -> None:
    ids = iter(range(4))

    def rows(suffix: int) -> list[tuple[Table, dict[str, Any]]]:
        audit = {
            "id": f"a-{suffix}",
            "at": at,
            "actor_key_id": None,
            "actor_role": "system",
            "action": action[:60],
            "record_type": "referral",
            "record_id": "r",
            "request_id": None,
            "reason": reason,
        }
        event = {
            "id": f"e-{suffix}",
            "type": "referral.received",
            "record_type": "referral",
            "record_id": "r",
            "occurred_at": at,
            "payload": payload,
        }
        return [(AUDIT, audit), (EVENTS, event)]

    savepoint = db.begin_nested()
    try:
        one_by_one, written_together = next(ids), next(ids)
        for table, row in rows(one_by_one):
            db.execute(insert(table), row)
        together.insert_rows(db, rows(written_together))
        for table, prefix in ((AUDIT, "a"), (EVENTS, "e")):
            first = _read(db, table, f"{prefix}-{one_by_one}")
            second = _read(db, table, f"{prefix}-{written_together}")
            assert {**first, "id": None} == {**second, "id": None}
    finally:
        savepoint.rollback()


def test_a_referral_row_of_every_kind_of_value_reads_back_as_written(db: Connection) -> None:
    values: dict[str, Any] = {
        "id": "ref-together",
        "source": "nhs-lothian",
        "external_id": "T-1",
        "created_by_key_id": None,
        "status": "waiting",
        "referrer_organisation": "GP practice",
        "referrer_role": "gp",
        "parent_name": 'Zoë O\'Brien "Jo"',
        "parent_role": "mother",
        "phone": "07700 900123",
        "email": None,
        "postcode": "EH6 5QY",
        "lat": 55.97123456789,
        "lon": -3.1712345678,
        "location_precision": "postcode",
        "area": "EH6",
        "address_lines": None,
        "access_notes": "Ring twice; the bell's broken\nSecond line",
        "max_travel_km": 7.5,
        "due_date": date(2027, 1, 31),
        "baby_birth_date": None,
        "languages": ["pl", "en"],
        "formats": ["telephone"],
        "availability": [{"day": "monday", "start": "10:00", "end": "12:00"}],
        "background": [],
        "experiences": ["birth_trauma"],
        "interests": [],
        "volunteer_gender": "any",
        "must_match": [],
        "simd_quintile": 2,
        "needs": {"specialisms": [], "interpreter": None},
        "consent_share": True,
        "consent_contact": False,
        "consent_given_on": date(2026, 12, 1),
        "contact_preferences": {"channel": "sms"},
        "received_at": datetime(2026, 12, 7, 9, 30, 15, 123456, tzinfo=UTC),
        "updated_at": datetime(2026, 12, 7, 9, 30, 15, 123456, tzinfo=UTC) + timedelta(microseconds=1),
    }
    _, (table, row) = repository.new(values)
    together.insert_rows(db, [(table, row)])
    read = _read(db, REFERRALS, "ref-together")
    assert {name: read[name] for name in row} == row


def test_a_retry_replays_even_when_the_rules_would_refuse_it_now(
    client: TestClient, make_key: KeyMaker, db: Connection
) -> None:
    """The retry is not checked before the work (a round trip every post would pay); a refusal it meets is
    answered with the first response when its key has one."""
    integrator = {**make_key("integrator", source="nhs-lothian"), "Idempotency-Key": "late-retry"}
    body = referral_body(41)
    first = client.post("/v1/referrals", json=body, headers=integrator)
    assert first.status_code == 201, first.text
    # The same body, later: a duplicate external_id, which alone would be 409.
    again = client.post("/v1/referrals", json=body, headers=integrator)
    assert (again.status_code, again.json()) == (201, first.json())
    assert again.headers["Location"] == first.headers["Location"]
    # Three years on, her baby is past the perinatal window and the body alone would be 422: still the replay.
    like_it = referral_body(44)
    with time_machine.travel(datetime.now(UTC) + timedelta(days=3 * 365)):
        late = client.post("/v1/referrals", json=body, headers=integrator)
        fresh = client.post("/v1/referrals", json=like_it, headers={**integrator, "Idempotency-Key": "new"})
        assert fresh.status_code == 422 and "Idempotency-Key" not in fresh.text
    assert (late.status_code, late.json()) == (201, first.json())
    # The key with another body: 422 naming the key, and nothing of the second body kept.
    other = client.post("/v1/referrals", json=referral_body(42), headers=integrator)
    assert other.status_code == 422
    assert any(error["loc"] == ["header", "Idempotency-Key"] for error in other.json()["errors"])
    count = db.execute(text("SELECT count(*) FROM referral WHERE external_id IN ('REF-0041', 'REF-0042')"))
    assert count.scalar() == 1


@pytest.mark.parametrize("with_epds", [False, True])
def test_a_coordinators_retry_without_an_external_id_makes_one_referral(
    client: TestClient, make_key: KeyMaker, db: Connection, with_epds: bool
) -> None:
    """Nothing unique in the body: the key's record is what refuses the second, after the work, and the whole
    second request is undone."""
    coordinator = {**make_key("coordinator"), "Idempotency-Key": f"no-external-{with_epds}"}
    body = {**referral_body(43), "external_id": None}
    if with_epds:
        body["epds"] = {"answers": [1] * 10, "completed_on": date.today().isoformat()}
    first = client.post("/v1/referrals", json=body, headers=coordinator)
    assert first.status_code == 201, first.text
    again = client.post("/v1/referrals", json=body, headers=coordinator)
    assert (again.status_code, again.json()) == (201, first.json())
    name = {"name": body["parent"]["name"]}
    names = db.execute(text("SELECT count(*) FROM referral WHERE parent_name = :name"), name)
    assert names.scalar() == 1
    measures = db.execute(text("SELECT count(*) FROM measure WHERE referral_id = :id"), {"id": first.json()["id"]})
    assert measures.scalar() == (1 if with_epds else 0)
