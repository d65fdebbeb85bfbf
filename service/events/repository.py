"""Every query of the events domain: webhooks, their deliveries, and the deliveries due."""

from datetime import datetime

from sqlmodel import Session, col, select

from api_schemas.events import DeliveryStatus
from service.models import Delivery, OutboxEvent, Webhook


def live_webhooks(db: Session) -> list[Webhook]:
    return list(db.exec(select(Webhook).where(col(Webhook.deleted_at).is_(None)).order_by(Webhook.id)))


def deliveries_of(db: Session, webhook_id: str, *, limit: int) -> list[tuple[Delivery, str]]:
    query = (
        select(Delivery, OutboxEvent.type)
        .join(OutboxEvent, col(OutboxEvent.id) == Delivery.event_id)
        .where(Delivery.webhook_id == webhook_id)
        .order_by(col(Delivery.event_id).desc())
        .limit(limit)
    )
    return [(delivery, event_type) for delivery, event_type in db.exec(query)]


def due_delivery_ids(db: Session, *, now: datetime, limit: int) -> list[str]:
    query = (
        select(Delivery.id)
        .where(Delivery.status == DeliveryStatus.pending, col(Delivery.next_attempt_at) <= now)
        .order_by(Delivery.event_id)
        .limit(limit)
    )
    return list(db.exec(query))


def claim_pending(db: Session, delivery_id: str, *, now: datetime) -> Delivery | None:
    """The delivery, locked, if still pending, due now and no other worker holds it. Due is asked again here:
    another worker may have tried and failed it since it was listed, and its back-off must hold."""
    return db.exec(
        select(Delivery)
        .where(
            Delivery.id == delivery_id,
            Delivery.status == DeliveryStatus.pending,
            col(Delivery.next_attempt_at) <= now,
        )
        .with_for_update(skip_locked=True)
    ).first()


def earlier_pending_exists(db: Session, delivery: Delivery) -> bool:
    """An earlier event about the same record still waits for this webhook: deliveries keep their order."""
    earlier = select(Delivery.id).where(
        Delivery.webhook_id == delivery.webhook_id,
        Delivery.record_id == delivery.record_id,
        col(Delivery.event_id) < delivery.event_id,
        Delivery.status == DeliveryStatus.pending,
    )
    return db.exec(earlier.limit(1)).first() is not None


def get_webhook(db: Session, webhook_id: str) -> Webhook | None:
    return db.get(Webhook, webhook_id)


def get_event(db: Session, event_id: str) -> OutboxEvent | None:
    return db.get(OutboxEvent, event_id)
