"""Webhook subscriptions (admins) and their delivery log."""

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from api_schemas.events import DeliveryOut, SecretRotated, SecretRotationIn, WebhookCreated, WebhookIn, WebhookOut
from service.core import audit, clock
from service.core.auth import Principal
from service.core.config import Settings
from service.core.errors import NotFound, invalid
from service.core.ids import new_id
from service.events import repository, signing, urls
from service.models import OutboxEvent, Webhook


def create(*, db: Session, actor: Principal, webhook_in: WebhookIn, settings: Settings) -> WebhookCreated:
    """A new subscription; the secret is the caller's, or generated and returned this once."""
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
        secret=webhook_in.secret or signing.new_secret(),
        created_at=clock.now(),
    )
    db.add(webhook)
    audit.record(db, actor=actor, action="webhook.created", record_type="webhook", record_id=webhook.id)
    generated = None if webhook_in.secret else webhook.secret
    return WebhookCreated(**to_out(webhook).model_dump(), secret=generated)


def rotate_secret(*, db: Session, actor: Principal, webhook: Webhook, rotation_in: SecretRotationIn) -> SecretRotated:
    """A new secret signs from now on; the current one signs beside it for the grace period, so receivers can
    switch over without losing a delivery. A secret older than that (a second rotation in the grace period) stops."""
    now = clock.now()
    webhook.previous_secret = webhook.secret
    webhook.previous_secret_expires_at = now + timedelta(hours=rotation_in.grace_period_hours)
    webhook.secret = rotation_in.secret or signing.new_secret()
    db.add(webhook)
    audit.record(db, actor=actor, action="webhook.secret_rotated", record_type="webhook", record_id=webhook.id)
    return SecretRotated(
        secret=None if rotation_in.secret else webhook.secret,
        previous_secret_expires_at=webhook.previous_secret_expires_at,
    )


def live_secrets(webhook: Webhook, *, now: datetime) -> list[str]:
    """The secrets that sign a delivery now: the current one, and the previous one until it expires."""
    expires_at = webhook.previous_secret_expires_at
    if webhook.previous_secret and expires_at is not None and now < expires_at:
        return [webhook.secret, webhook.previous_secret]
    return [webhook.secret]


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
    expires_at = webhook.previous_secret_expires_at
    return WebhookOut(
        id=webhook.id,
        url=webhook.url,
        events=webhook.events,
        created_at=webhook.created_at,
        previous_secret_expires_at=expires_at if expires_at is not None and expires_at > clock.now() else None,
    )


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
