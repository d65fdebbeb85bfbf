"""Standard Webhooks on real deliveries: verified by the repo's client helper, replays refused, secrets rotated
with both signing during the grace period, plain v1.0 secrets still working, and the old header kept."""

import base64
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from peer_match_client import WebhookVerificationError, verify
from sqlalchemy import Connection

from service.events import signing
from service.events.worker import DeliveryWorker
from tests.factories import referral_body
from tests.service.test_events import Receiver

START = datetime(2027, 1, 5, 9, 0, tzinfo=UTC)
GIVEN_SECRET = "whsec_" + base64.b64encode(b"a receiver's own 32 random bytes").decode()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()


def _subscribe(client: TestClient, admin: dict[str, str], url: str, **fields: Any) -> dict[str, Any]:
    response = client.post("/v1/webhooks", json={"url": url, "events": ["referral.received"], **fields}, headers=admin)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _deliver_one(client: TestClient, coordinator: dict[str, str], db: Connection, n: int = 1) -> None:
    assert client.post("/v1/referrals", json=referral_body(n), headers=coordinator).status_code == 201
    assert DeliveryWorker(db, allow_private=True).run_once() == 1


def test_a_delivery_verifies_with_the_generated_secret_and_a_replay_ten_minutes_later_is_rejected(
    client: TestClient, admin: dict[str, str], coordinator: dict[str, str], db: Connection, receiver: Receiver
) -> None:
    with time_machine.travel(START, tick=False):
        created = _subscribe(client, admin, receiver.url)
        _deliver_one(client, coordinator, db)
    secret = created["secret"]
    assert secret.startswith("whsec_") and len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert "secret" not in client.get("/v1/webhooks", headers=admin).json()["items"][0]  # shown once
    delivery = receiver.received[0]
    assert delivery["headers"]["webhook-id"] == delivery["body"]["id"]
    assert delivery["headers"]["webhook-timestamp"] == str(int(START.timestamp()))
    payload = verify(delivery["raw"], delivery["headers"], secret, now=START + timedelta(seconds=3))
    assert payload["type"] == "referral.received"
    with pytest.raises(WebhookVerificationError, match="too old"):
        verify(delivery["raw"], delivery["headers"], secret, now=START + timedelta(minutes=10))
    with pytest.raises(WebhookVerificationError):
        verify(delivery["raw"], delivery["headers"], GIVEN_SECRET, now=START)


def test_the_same_event_keeps_its_webhook_id_on_a_retry_but_is_signed_at_the_new_time(
    client: TestClient, admin: dict[str, str], coordinator: dict[str, str], db: Connection, receiver: Receiver
) -> None:
    with time_machine.travel(START, tick=False):
        _subscribe(client, admin, receiver.url, secret=GIVEN_SECRET)
        client.post("/v1/referrals", json=referral_body(), headers=coordinator)
        receiver.fail_next = 1
        DeliveryWorker(db, allow_private=True).run_once()
    later = START + timedelta(hours=2)
    with time_machine.travel(later, tick=False):
        assert DeliveryWorker(db, allow_private=True).run_once() == 1
    headers = receiver.received[0]["headers"]
    assert headers["webhook-id"] == receiver.received[0]["body"]["id"]
    assert verify(receiver.received[0]["raw"], headers, GIVEN_SECRET, now=later)


def test_after_a_rotation_both_secrets_verify_until_the_grace_period_ends(
    client: TestClient, admin: dict[str, str], coordinator: dict[str, str], db: Connection, receiver: Receiver
) -> None:
    with time_machine.travel(START, tick=False):
        webhook = _subscribe(client, admin, receiver.url, secret=GIVEN_SECRET)
        rotated = client.post(f"/v1/webhooks/{webhook['id']}/secrets", json={"grace_period_hours": 2}, headers=admin)
        assert rotated.status_code == 200, rotated.text
        new_secret = rotated.json()["secret"]
        assert new_secret.startswith("whsec_") and new_secret != GIVEN_SECRET
        assert rotated.json()["previous_secret_expires_at"] == "2027-01-05T11:00:00Z"
        listed = client.get("/v1/webhooks", headers=admin).json()["items"][0]
        assert listed["previous_secret_expires_at"] == "2027-01-05T11:00:00Z"
        _deliver_one(client, coordinator, db, 1)
    during = receiver.received[0]
    assert len(during["headers"]["webhook-signature"].split()) == 2
    assert verify(during["raw"], during["headers"], GIVEN_SECRET, now=START)
    assert verify(during["raw"], during["headers"], new_secret, now=START)

    after_grace = START + timedelta(hours=2, seconds=1)
    with time_machine.travel(after_grace, tick=False):
        _deliver_one(client, coordinator, db, 2)
        assert client.get("/v1/webhooks", headers=admin).json()["items"][0]["previous_secret_expires_at"] is None
    after = receiver.received[1]
    assert verify(after["raw"], after["headers"], new_secret, now=after_grace)
    with pytest.raises(WebhookVerificationError):
        verify(after["raw"], after["headers"], GIVEN_SECRET, now=after_grace)


def test_a_secret_given_at_rotation_is_used_and_not_echoed(
    client: TestClient, admin: dict[str, str], coordinator: dict[str, str], db: Connection, receiver: Receiver
) -> None:
    chosen = "whsec_" + base64.b64encode(b"chosen by the receiver, 28 b").decode()
    with time_machine.travel(START, tick=False):
        webhook = _subscribe(client, admin, receiver.url)
        rotated = client.post(f"/v1/webhooks/{webhook['id']}/secrets", json={"secret": chosen}, headers=admin)
        assert rotated.json()["secret"] is None
        _deliver_one(client, coordinator, db)
    assert verify(receiver.received[0]["raw"], receiver.received[0]["headers"], chosen, now=START)


def test_a_second_rotation_in_the_grace_period_retires_the_oldest_secret(
    client: TestClient, admin: dict[str, str], coordinator: dict[str, str], db: Connection, receiver: Receiver
) -> None:
    with time_machine.travel(START, tick=False):
        webhook = _subscribe(client, admin, receiver.url, secret=GIVEN_SECRET)
        first = client.post(f"/v1/webhooks/{webhook['id']}/secrets", headers=admin).json()["secret"]
        second = client.post(f"/v1/webhooks/{webhook['id']}/secrets", headers=admin).json()["secret"]
        _deliver_one(client, coordinator, db)
    delivery = receiver.received[0]
    assert len(delivery["headers"]["webhook-signature"].split()) == 2
    assert verify(delivery["raw"], delivery["headers"], [first, second], now=START)
    with pytest.raises(WebhookVerificationError):
        verify(delivery["raw"], delivery["headers"], GIVEN_SECRET, now=START)


def test_a_plain_v1_secret_still_signs_both_ways_and_the_deprecated_header_is_kept(
    client: TestClient, admin: dict[str, str], coordinator: dict[str, str], db: Connection, receiver: Receiver
) -> None:
    plain = "a-shared-secret-of-some-length"
    with time_machine.travel(START, tick=False):
        assert _subscribe(client, admin, receiver.url, secret=plain)["secret"] is None
        _deliver_one(client, coordinator, db)
    delivery = receiver.received[0]
    assert signing.verify(plain, delivery["raw"], delivery["headers"]["x-peer-match-signature"])
    assert verify(delivery["raw"], delivery["headers"], signing.as_standard(plain), now=START)


def test_rotating_an_unknown_webhook_is_404(client: TestClient, admin: dict[str, str]) -> None:
    response = client.post("/v1/webhooks/no-such-webhook/secrets", headers=admin)
    assert response.status_code == 404 and response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        ("whsec_not base64 at all!!", "base64"),
        ("whsec_" + base64.b64encode(b"too short").decode(), "24 to 64 bytes"),
        ("short", "at least 16"),
    ],
)
def test_a_malformed_secret_is_422_naming_the_field(
    client: TestClient, admin: dict[str, str], secret: str, message: str
) -> None:
    body = {"url": "https://hooks.example.org/x", "events": ["*"], "secret": secret}
    response = client.post("/v1/webhooks", json=body, headers=admin)
    assert response.status_code == 422
    assert message in response.text and "secret" in response.text


@given(st.binary(min_size=24, max_size=64), st.binary(min_size=1, max_size=200))
def test_any_whsec_secret_signs_what_the_client_verifies(raw_key: bytes, text: bytes) -> None:
    secret = "whsec_" + base64.b64encode(raw_key).decode()
    body = ('{"n":"' + text.hex() + '"}').encode()
    headers = signing.headers(message_id="evt-1", sent_at=START, raw_body=body, secrets=[secret])
    assert verify(body, headers, secret, now=START) == {"n": text.hex()}
