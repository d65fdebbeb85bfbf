"""What a match run's save writes, in set-based statements: its proposals, its referrals moved to proposed (and
back to waiting when a later run re-solves them), the earlier proposals expired, and no audit row or event but
the run's own creation, exactly as the save that moved each referral through the ORM wrote."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, select, text
from sqlmodel import Session

from service.core.errors import TransitionNotAllowed
from service.models import AuditEvent, OutboxEvent, Proposal, Referral
from service.referrals import lifecycle as referral_lifecycle
from tests.service.test_match_run_jobs import _people


def _written(db: Connection) -> tuple[set[tuple[str, str, str]], set[tuple[str, str, str]]]:
    """(action, record type, record id) of every audit row; (type, record type, record id) of every event."""
    audit = AuditEvent.__table__.c  # type: ignore[attr-defined]
    events = OutboxEvent.__table__.c  # type: ignore[attr-defined]
    return (
        {tuple(row) for row in db.execute(select(audit.action, audit.record_type, audit.record_id))},
        {tuple(row) for row in db.execute(select(events.type, events.record_type, events.record_id))},
    )


def _referrals(db: Connection) -> dict[str, tuple[str, int, Any]]:
    table = Referral.__table__.c  # type: ignore[attr-defined]
    return {
        rid: (status, version, at)
        for rid, status, version, at in db.execute(select(table.id, table.status, table.version, table.updated_at))
    }


def _proposals(db: Connection, run_id: str) -> dict[str, str]:
    table = Proposal.__table__.c  # type: ignore[attr-defined]
    return dict(db.execute(select(table.referral_id, table.status).where(table.run_id == run_id)).all())


def test_a_run_writes_its_proposals_and_moves_its_referrals_with_no_audit_row_or_event_of_their_own(
    client: TestClient, coordinator: dict[str, str], db: Connection
) -> None:
    referral_ids = _people(client, coordinator, referrals=5, volunteers=2)
    audit_before, events_before = _written(db)
    referrals_before = _referrals(db)

    run = client.post("/v1/match-runs?wait=true", headers=coordinator).json()

    assert run["status"] == "done" and run["stats"]["matched"] == 4
    proposed = {p["referral_id"] for p in run["proposals"]}
    assert _proposals(db, run["id"]) == dict.fromkeys(proposed, "open")
    audit, events = _written(db)
    assert audit - audit_before == {("match_run.created", "match_run", run["id"])} and events == events_before
    after = _referrals(db)
    for rid in referral_ids:
        status, version, updated_at = after[rid]
        # Only the status moves: no version bump and no new updated_at, as the ORM path left them.
        assert status == ("proposed" if rid in proposed else "waiting")
        assert (version, updated_at) == referrals_before[rid][1:]

    # A second run over all of them expires the first's proposals, returns their referrals to waiting and
    # proposes again, still with no audit row or event but its own creation.
    second = client.post("/v1/match-runs?wait=true", headers=coordinator).json()

    assert second["status"] == "done" and second["stats"]["matched"] == 4
    assert set(_proposals(db, run["id"]).values()) == {"expired"}
    audit_after, events_after = _written(db)
    assert audit_after - audit == {("match_run.created", "match_run", second["id"])} and events_after == events
    again = {p["referral_id"] for p in second["proposals"]}
    assert {rid: s for rid, (s, _, _) in _referrals(db).items()} == {
        rid: "proposed" if rid in again else "waiting" for rid in referral_ids
    }


def test_a_run_over_named_referrals_expires_only_their_proposals(
    client: TestClient, coordinator: dict[str, str], db: Connection
) -> None:
    _people(client, coordinator, referrals=4, volunteers=2)
    first = client.post("/v1/match-runs?wait=true", headers=coordinator).json()
    named = sorted(p["referral_id"] for p in first["proposals"])[:2]

    second = client.post("/v1/match-runs?wait=true", json={"referral_ids": named}, headers=coordinator).json()

    assert second["status"] == "done", second
    assert {rid: s for rid, s in _proposals(db, first["id"]).items() if s == "expired"}.keys() == set(named)
    assert sorted(_proposals(db, second["id"])) == named


def test_marking_proposed_a_referral_that_no_longer_waits_is_refused(
    client: TestClient, coordinator: dict[str, str], db: Connection
) -> None:
    waiting, escalated = _people(client, coordinator, referrals=2, volunteers=0)
    db.execute(text("UPDATE referral SET status = 'escalated' WHERE id = :id"), {"id": escalated})

    with Session(db) as session, pytest.raises(TransitionNotAllowed):
        referral_lifecycle.mark_proposed(session, [waiting, escalated])
