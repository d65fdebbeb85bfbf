"""Raising events: written in the caller's transaction with one delivery per subscribed webhook."""

from typing import Any

from sqlmodel import Session, select

from api_schemas.events import EventType
from service import clock
from service.ids import new_id
from service.models import Delivery, OutboxEvent, Webhook

EVENT_TYPES = frozenset(e.value for e in EventType if e is not EventType.all)


def emit(session: Session, event_type: str, *, record_type: str, record_id: str, **data: Any) -> OutboxEvent:
    """Record an event; `data` must hold ids, codes and times only, never personal data."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type}")
    now = clock.now()
    event = OutboxEvent(id=new_id(), type=event_type, record_type=record_type, record_id=record_id,
                        occurred_at=now, payload={key: _plain(value) for key, value in data.items()})
    session.add(event)
    for webhook in session.exec(select(Webhook).where(Webhook.deleted_at == None)):  # noqa: E711
        if event_type in webhook.events or "*" in webhook.events:
            session.add(Delivery(id=new_id(), webhook_id=webhook.id, event_id=event.id, record_id=record_id,
                                 status="pending", next_attempt_at=now))
    return event


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def body(event: OutboxEvent, *, sent_at: str) -> dict[str, Any]:
    """The JSON a webhook receives. `sent_at` is inside the signed body so a receiver can refuse replays."""
    return {"id": event.id, "type": event.type, "occurred_at": event.occurred_at.isoformat(),
            "record": {"type": event.record_type, "id": event.record_id}, "data": event.payload,
            "sent_at": sent_at}
