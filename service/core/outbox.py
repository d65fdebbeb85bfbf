"""Raising events: written in the caller's transaction with one delivery per subscribed webhook.

Appended with Core INSERTs on the session's connection, like the audit log: nothing reads them back in the
request, and the ORM's unit of work would cost most of a write request's CPU."""

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import insert, select
from sqlmodel import Session

from api_schemas.events import DeliveryStatus, EventType
from service.core import clock
from service.core.ids import new_id
from service.models import Delivery, OutboxEvent, Webhook

EVENT_TYPES = frozenset(e.value for e in EventType if e is not EventType.all)
# Built once: each event then only binds values, instead of building and hashing statements.
_INSERT_EVENT = insert(OutboxEvent.__table__)  # type: ignore[arg-type]
_INSERT_DELIVERY = insert(Delivery.__table__)  # type: ignore[arg-type]
_webhooks = Webhook.__table__.c  # type: ignore[attr-defined]
_SUBSCRIBED = select(_webhooks.id, _webhooks.events).where(_webhooks.deleted_at.is_(None))
# The event's INSERT says whether any webhook is live, so that without one (most events: most programmes have
# none or few) the subscriptions are not read in a round trip of their own: that was a tenth of a post's CPU.
_INSERT_EVENT_ANY_WEBHOOK = _INSERT_EVENT.returning(
    select(_webhooks.id).where(_webhooks.deleted_at.is_(None)).exists().label("any_webhook")
)


# Called with each event in the same transaction, for what must be written with it (a message to the parent).
# Registered by the composition layer (service.jobs), so core never imports the domains that listen.
Listener = Callable[[Session, str, str, str, Mapping[str, Any], str], None]
_listeners: list[Listener] = []


def listen(listener: Listener) -> None:
    """Call `listener(db, event_type, record_type, record_id, data, event_id)` for every event raised from now."""
    if listener not in _listeners:
        _listeners.append(listener)


def emit(db: Session, event_type: str, *, record_type: str, record_id: str, **data: Any) -> str:
    """Record an event and its deliveries; its id. `data` holds ids, codes and times only, never personal data."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type}")
    now = clock.now()
    event_id = new_id()
    connection = db.connection()
    any_webhook = connection.execute(
        _INSERT_EVENT_ANY_WEBHOOK,
        {
            "id": event_id,
            "type": event_type,
            "record_type": record_type,
            "record_id": record_id,
            "occurred_at": now,
            "payload": {key: _plain(value) for key, value in data.items()},
        },
    ).scalar_one()
    for listener in _listeners:
        listener(db, event_type, record_type, record_id, data, event_id)
    if not any_webhook:
        return event_id
    deliveries = [
        {
            "id": new_id(),
            "webhook_id": webhook_id,
            "event_id": event_id,
            "record_id": record_id,
            "status": DeliveryStatus.pending.value,
            "attempts": 0,
            "next_attempt_at": now,
        }
        for webhook_id, events in connection.execute(_SUBSCRIBED)
        if event_type in events or "*" in events
    ]
    if deliveries:
        connection.execute(_INSERT_DELIVERY, deliveries)
    return event_id


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value
