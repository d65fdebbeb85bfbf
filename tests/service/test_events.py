"""Webhooks against a real HTTP receiver on 127.0.0.1: every event once, signed, in order, never lost."""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text

from service.events import signing
from service.events.worker import DeliveryWorker
from tests.factories import referral_body

SECRET = "a-shared-secret-of-some-length"


class Receiver:
    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.fail_next = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.fail_next:
                    receiver.fail_next -= 1
                    self.send_response(503)
                    self.end_headers()
                    return
                receiver.received.append(
                    {
                        "raw": raw,
                        "signature": self.headers["X-Peer-Match-Signature"],
                        "event_id": self.headers["X-Peer-Match-Event-Id"],
                        "body": json.loads(raw),
                        "headers": {name.lower(): value for name, value in self.headers.items()},
                    }
                )
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()


def _subscribe(client: TestClient, admin: dict[str, str], url: str, events: list[str]) -> str:
    response = client.post("/v1/webhooks", json={"url": url, "events": events, "secret": SECRET}, headers=admin)
    assert response.status_code == 201, response.text
    assert response.json()["secret"] is None  # the caller's own secret is never echoed
    return str(response.json()["id"])


def test_every_event_arrives_once_signed_and_in_order(
    client: TestClient, admin: dict[str, str], coordinator: dict[str, str], db: Connection, receiver: Receiver
) -> None:
    _subscribe(client, admin, receiver.url, ["referral.received"])
    ids = [client.post("/v1/referrals", json=referral_body(n), headers=coordinator).json()["id"] for n in range(3)]
    worker = DeliveryWorker(db, allow_private=True)
    assert worker.run_once() == 3
    assert worker.run_once() == 0
    assert [r["body"]["record"]["id"] for r in receiver.received] == ids
    for delivery in receiver.received:
        assert signing.verify(SECRET, delivery["raw"], delivery["signature"])
        assert delivery["body"]["type"] == "referral.received"
        assert delivery["event_id"] == delivery["body"]["id"]
        assert "Nowak" not in delivery["raw"].decode() and "EH6" not in delivery["raw"].decode()


def test_a_failed_delivery_is_retried_later_and_the_log_shows_attempts(
    client: TestClient, admin: dict[str, str], coordinator: dict[str, str], db: Connection, receiver: Receiver
) -> None:
    import time_machine

    webhook_id = _subscribe(client, admin, receiver.url, ["*"])
    client.post("/v1/referrals", json=referral_body(), headers=coordinator)
    receiver.fail_next = 1
    worker = DeliveryWorker(db, allow_private=True)
    worker.run_once()
    log = client.get(f"/v1/webhooks/{webhook_id}/deliveries", headers=admin).json()["items"]
    assert log[0]["status"] == "pending" and log[0]["attempts"] == 1 and log[0]["last_status_code"] == 503
    assert worker.run_once() == 0  # not due yet: back-off
    with time_machine.travel(log[0]["next_attempt_at"], tick=False):
        assert worker.run_once() == 1
    log = client.get(f"/v1/webhooks/{webhook_id}/deliveries", headers=admin).json()["items"]
    assert log[0]["status"] == "delivered" and log[0]["attempts"] == 2
    assert len(receiver.received) == 1


def test_a_delivery_listed_by_one_relay_and_failed_by_another_waits_for_its_back_off(
    client: TestClient, admin: dict[str, str], coordinator: dict[str, str], db: Connection, receiver: Receiver
) -> None:
    """Two relays overlap (the job queue runs them on several workers): one lists a delivery as due, another tries
    it first and fails; the first must not try it again at once, before its back-off."""
    _subscribe(client, admin, receiver.url, ["*"])
    client.post("/v1/referrals", json=referral_body(), headers=coordinator)
    first, second = DeliveryWorker(db, allow_private=True), DeliveryWorker(db, allow_private=True)
    [listed] = first._due(limit=10)
    receiver.fail_next = 1
    assert second.run_once() == 1  # tried and failed: due again only after the back-off
    assert first._attempt(listed) == 0
    assert receiver.fail_next == 0 and receiver.received == []


class _KilledAfterSending(httpx.Client):
    """Sends, then dies before the worker can record the delivery: a crash mid-delivery."""

    def post(self, *args: Any, **kwargs: Any) -> httpx.Response:
        super().post(*args, **kwargs)
        raise SystemExit("worker killed")


def test_a_worker_stopped_mid_delivery_loses_nothing_and_repeats_the_same_event_id(
    client: TestClient, admin: dict[str, str], coordinator: dict[str, str], db: Connection, receiver: Receiver
) -> None:
    _subscribe(client, admin, receiver.url, ["referral.received"])
    client.post("/v1/referrals", json=referral_body(), headers=coordinator)
    with pytest.raises(SystemExit):
        DeliveryWorker(db, allow_private=True, http=_KilledAfterSending()).run_once()
    assert DeliveryWorker(db, allow_private=True).run_once() == 1
    assert len(receiver.received) == 2
    assert receiver.received[0]["event_id"] == receiver.received[1]["event_id"]


def test_events_raised_while_no_webhook_is_live_wait_for_none_and_a_new_webhook_gets_the_next_ones(
    client: TestClient, admin: dict[str, str], coordinator: dict[str, str], db: Connection, receiver: Receiver
) -> None:
    client.post("/v1/referrals", json=referral_body(1), headers=coordinator)
    deleted = _subscribe(client, admin, receiver.url, ["referral.received"])
    assert client.delete(f"/v1/webhooks/{deleted}", headers=admin).status_code == 204
    client.post("/v1/referrals", json=referral_body(2), headers=coordinator)
    _subscribe(client, admin, receiver.url, ["*"])
    later = client.post("/v1/referrals", json=referral_body(3), headers=coordinator).json()["id"]
    assert DeliveryWorker(db, allow_private=True).run_once() == 1
    assert [r["body"]["record"]["id"] for r in receiver.received] == [later]
    assert db.execute(text("SELECT count(*) FROM outbox_event")).scalar() == 3  # all three recorded


def test_a_deleted_webhook_gets_nothing_more(
    client: TestClient, admin: dict[str, str], coordinator: dict[str, str], db: Connection, receiver: Receiver
) -> None:
    webhook_id = _subscribe(client, admin, receiver.url, ["referral.received"])
    client.post("/v1/referrals", json=referral_body(), headers=coordinator)
    assert client.delete(f"/v1/webhooks/{webhook_id}", headers=admin).status_code == 204
    DeliveryWorker(db, allow_private=True).run_once()
    assert receiver.received == []
    assert client.get("/v1/webhooks", headers=admin).json()["items"] == []


def test_webhook_urls_to_private_addresses_are_refused_unless_allowed() -> None:
    from service.events import urls

    for url in (
        "http://127.0.0.1/x",
        "http://localhost/x",
        "http://10.1.2.3/x",
        "http://[::1]/x",
        "http://169.254.169.254/latest",
    ):
        with pytest.raises(urls.UnsafeUrl):
            urls.check(url, require_https=False, allow_private=False)
    with pytest.raises(urls.UnsafeUrl):
        urls.check("http://hooks.example.org/x", require_https=True, allow_private=False)
    urls.check("https://hooks.example.org/x", require_https=True, allow_private=False)


def test_only_admins_manage_webhooks(client: TestClient, coordinator: dict[str, str]) -> None:
    body = {"url": "https://hooks.example.org/x", "events": ["*"], "secret": SECRET}
    assert client.post("/v1/webhooks", json=body, headers=coordinator).status_code == 403
