"""The delivery worker: due deliveries, in order per record, signed, retried with back-off, then dead.

On SQLite its loop runs inside the service (started and stopped with the app's lifespan) or alone
(`peer-match worker`). On PostgreSQL there is no loop: the job queue calls `run_jobs` and `run_once(jobs=False)`
as periodic tasks (`service/jobs.periodic`, docs/decisions/0023-job-queue.md). Each delivery is claimed in its
own short transaction, so a worker stopped mid-delivery loses nothing: the attempt is simply made again, with
the same event id.
"""

import json
import random
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import urlsplit

import httpx
import structlog
from sqlalchemy import Connection, Engine
from sqlmodel import Session

from api_schemas.events import DeliveryStatus
from service.core import clock
from service.events import lifecycle, repository, signing, urls
from service.events.service import body, live_secrets
from service.models import Delivery, OutboxEvent, Webhook

log = structlog.get_logger("peer_match.worker")
MAX_ATTEMPTS = 10
BASE_DELAY_S = 2.0
MAX_DELAY_S = 3600.0


def backoff(attempts: int, rng: random.Random = random.Random()) -> timedelta:
    """Exponential back-off with full jitter between half and all of the step."""
    step = min(BASE_DELAY_S * 2 ** (attempts - 1), MAX_DELAY_S)
    return timedelta(seconds=step * (0.5 + rng.random() / 2))


class DeliveryWorker:
    def __init__(
        self,
        engine: Engine | Connection,
        *,
        allow_private: bool,
        http: httpx.Client | None = None,
        periodic: list[Callable[[Session], int]] | None = None,
        senders: list[Callable[[Engine | Connection], int]] | None = None,
    ) -> None:
        self.engine = engine
        self.allow_private = allow_private
        self.http = http or httpx.Client(timeout=10.0, follow_redirects=False)
        self.periodic = periodic or []
        # Other outboxes (messages) that claim, send and record each item in transactions of their own.
        self.senders = senders or []

    def run_once(self, *, limit: int = 100, jobs: bool = True) -> int:
        """Run the periodic jobs (reminders, alerts), deliver what is due and send due messages; the number tried."""
        if jobs:
            self.run_jobs()
        attempted = 0
        for delivery_id in self._due(limit):
            attempted += self._attempt(delivery_id)
        for sender in self.senders:
            attempted += sender(self.engine)
        return attempted

    def run_jobs(self) -> None:
        for job in self.periodic:
            with Session(self.engine) as db:
                job(db)
                db.commit()

    def _due(self, limit: int) -> list[str]:
        with Session(self.engine) as db:
            return repository.due_delivery_ids(db, now=clock.now(), limit=limit)

    def _attempt(self, delivery_id: str) -> int:
        with Session(self.engine) as db:
            delivery = repository.claim_pending(db, delivery_id, now=clock.now())
            if delivery is None or repository.earlier_pending_exists(db, delivery):
                return 0
            event = repository.get_event(db, delivery.event_id)
            webhook = repository.get_webhook(db, delivery.webhook_id)
            if event is None or webhook is None or webhook.deleted_at is not None:
                delivery.last_error = "webhook deleted"
                lifecycle.move(db, delivery, DeliveryStatus.dead)
                db.commit()
                return 0
            self._send(db, delivery, event, webhook)
            db.add(delivery)
            db.commit()
            return 1

    def _send(self, db: Session, delivery: Delivery, event: OutboxEvent, webhook: Webhook) -> None:
        now = clock.now()
        raw = json.dumps(body(event, sent_at=now.isoformat()), separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            # The event id is the Standard Webhooks message id: the same on every retry, so receivers can dedupe.
            **signing.headers(message_id=event.id, sent_at=now, raw_body=raw, secrets=live_secrets(webhook, now=now)),
            "X-Peer-Match-Event-Id": event.id,
            "X-Peer-Match-Event": event.type,
            signing.LEGACY_HEADER: signing.signature(webhook.secret, raw),
        }
        delivery.attempts += 1
        try:
            address = urls.resolve_checked(webhook.url, allow_private=self.allow_private)
            target, host = urls.pinned(webhook.url, address)
            sni = {"sni_hostname": urlsplit(webhook.url).hostname} if webhook.url.startswith("https") else {}
            response = self.http.post(target, content=raw, headers={**headers, "Host": host}, extensions=sni)
            delivery.last_status_code = response.status_code
            ok = 200 <= response.status_code < 300
            delivery.last_error = None if ok else f"HTTP {response.status_code}"
        except (httpx.HTTPError, urls.UnsafeUrl) as exc:
            ok = False
            delivery.last_error = f"{type(exc).__name__}: {exc}"[:300]
        if ok:
            delivery.delivered_at = now
            lifecycle.move(db, delivery, DeliveryStatus.delivered)
        elif delivery.attempts >= MAX_ATTEMPTS:
            lifecycle.move(db, delivery, DeliveryStatus.dead)
        else:
            delivery.next_attempt_at = now + backoff(delivery.attempts)
        log.info("webhook_delivery", event_type=event.type, status=delivery.status, attempts=delivery.attempts)

    def run_until(self, stop: threading.Event, *, interval_s: float = 1.0, jobs_interval_s: float = 30.0) -> None:
        """Deliver every `interval_s`; run the periodic jobs every `jobs_interval_s`, since they scan every
        volunteer and session and reminders are due hours ahead, not to the second."""
        jobs_due = 0.0
        while not stop.is_set():
            try:
                run_jobs = time.monotonic() >= jobs_due
                if run_jobs:
                    jobs_due = time.monotonic() + jobs_interval_s
                self.run_once(jobs=run_jobs)
            except Exception as exc:  # the loop must survive a bad moment (database restarting, say)
                log.error("worker_iteration_failed", error_type=type(exc).__name__)
            stop.wait(interval_s)
