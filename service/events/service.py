"""Webhook subscriptions (admins) and their delivery log."""

from typing import Any

from sqlmodel import Session

from api_schemas.events import DeliveryOut, WebhookIn, WebhookOut
from service.core import audit, clock
from service.core.auth import Principal
from service.core.config import Settings
from service.core.errors import NotFound, invalid
from service.core.ids import new_id
from service.events import repository, urls
from service.models import OutboxEvent, Webhook


def create(*, db: Session, actor: Principal, webhook_in: WebhookIn, settings: Settings) -> Webhook:
    try:
        urls.check(
            webhook_in.url,
            require_https=settings.environment == "production",
            allow_private=settings.allow_private_webhooks,
        )
    except urls.UnsafeUrl as exc:
        raise invalid(["body", "url"], str(exc)) from None
    webhook = Webhook(
        id=new_id(),
        url=webhook_in.url,
        events=sorted({e.value for e in webhook_in.events}),
        secret=webhook_in.secret,
        created_at=clock.now(),
    )
    db.add(webhook)
    audit.record(db, actor=actor, action="webhook.created", record_type="webhook", record_id=webhook.id)
    return webhook


def live(*, db: Session, webhook_id: str) -> Webhook:
    webhook = repository.get_webhook(db, webhook_id)
    if webhook is None or webhook.deleted_at is not None:
        raise NotFound("No webhook with this id.")
    return webhook


def listing(*, db: Session) -> list[Webhook]:
    return repository.live_webhooks(db)


def delete(*, db: Session, actor: Principal, webhook: Webhook) -> None:
    webhook.deleted_at = clock.now()
    db.add(webhook)
    audit.record(db, actor=actor, action="webhook.deleted", record_type="webhook", record_id=webhook.id)


def deliveries(*, db: Session, webhook: Webhook, limit: int) -> list[DeliveryOut]:
    return [
        DeliveryOut(
            id=d.id,
            event_id=d.event_id,
            event_type=event_type,
            status=d.status,
            attempts=d.attempts,
            last_status_code=d.last_status_code,
            last_error=d.last_error,
            next_attempt_at=d.next_attempt_at,
            delivered_at=d.delivered_at,
        )
        for d, event_type in repository.deliveries_of(db, webhook.id, limit=limit)
    ]


def to_out(webhook: Webhook) -> WebhookOut:
    return WebhookOut(id=webhook.id, url=webhook.url, events=webhook.events, created_at=webhook.created_at)


def body(event: OutboxEvent, *, sent_at: str) -> dict[str, Any]:
    """The JSON a webhook receives. `sent_at` is inside the signed body so a receiver can refuse replays."""
    return {
        "id": event.id,
        "type": event.type,
        "occurred_at": event.occurred_at.isoformat(),
        "record": {"type": event.record_type, "id": event.record_id},
        "data": event.payload,
        "sent_at": sent_at,
    }
