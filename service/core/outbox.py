"""Raising events: written in the caller's transaction with one delivery per subscribed webhook.

Appended with Core INSERTs on the session's connection, like the audit log: nothing reads them back in the
request, and the ORM's unit of work would cost most of a write request's CPU."""

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Table, insert, select
from sqlmodel import Session

from api_schemas.events import DeliveryStatus, EventType
from service.core import clock
from service.core.ids import new_id
from service.models import Delivery, OutboxEvent, Webhook

EVENT_TYPES = frozenset(e.value for e in EventType if e is not EventType.all)
# Built once: each event then only binds values, instead of building and hashing statements.
_EVENTS: Table = OutboxEvent.__table__  # type: ignore[attr-defined]
_INSERT_EVENT = insert(_EVENTS)
_INSERT_DELIVERY = insert(Delivery.__table__)  # type: ignore[arg-type]
_webhooks = Webhook.__table__.c  # type: ignore[attr-defined]
_SUBSCRIBED = select(_webhooks.id, _webhooks.events).where(_webhooks.deleted_at.is_(None))
# The event's INSERT says whether any webhook is live, so that without one (most events: most programmes have
# none or few) the subscriptions are not read in a round trip of their own: that was a tenth of a post's CPU.
_LIVE_WEBHOOK = select(_webhooks.id).where(_webhooks.deleted_at.is_(None)).exists().label("any_webhook")
_INSERT_EVENT_ANY_WEBHOOK = _INSERT_EVENT.returning(_LIVE_WEBHOOK)
# The same question asked after an event written with other rows (service.core.together).
ANY_WEBHOOK = select(_LIVE_WEBHOOK)


# Called with each event in the same transaction, for what must be written with it (a message to the parent).
# Registered by the composition layer (service.jobs), so core never imports the domains that listen.
Listener = Callable[[Session, str, str, str, Mapping[str, Any], str], None]
_listeners: list[Listener] = []


def listen(listener: Listener) -> None:
    """Call `listener(db, event_type, record_type, record_id, data, event_id)` for every event raised from now."""
    if listener not in _listeners:
        _listeners.append(listener)


def event_row(event_type: str, *, record_type: str, record_id: str, **data: Any) -> tuple[Table, dict[str, Any]]:
    """The row of a new event, for writing with others (service.core.together); after it is written, call
    `raised` with its id and whether any webhook is live (the result of ANY_WEBHOOK).  `data` holds ids, codes and
    times only, never personal data."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type}")
    return _EVENTS, {
        "id": new_id(),
        "type": event_type,
        "record_type": record_type,
        "record_id": record_id,
        "occurred_at": clock.now(),
        "payload": {key: _plain(value) for key, value in data.items()},
    }


def emit(db: Session, event_type: str, *, record_type: str, record_id: str, **data: Any) -> str:
    """Record an event and its deliveries; its id. `data` holds ids, codes and times only, never personal data."""
    _, row = event_row(event_type, record_type=record_type, record_id=record_id, **data)
    any_webhook = db.connection().execute(_INSERT_EVENT_ANY_WEBHOOK, row).scalar_one()
    raised(db, row, data, any_webhook=any_webhook)
    return str(row["id"])


def raised(db: Session, row: Mapping[str, Any], data: Mapping[str, Any], *, any_webhook: bool) -> None:
    """What follows an event's row in the same transaction: its listeners, and a delivery per subscribed webhook."""
    _follow(db, [(row, data)], subscribed=list(db.connection().execute(_SUBSCRIBED)) if any_webhook else [])


def emit_all(db: Session, events: Sequence[tuple[str, str, str, Mapping[str, Any]]]) -> list[str]:
    """Record many events at once, (type, record type, record id, data) each, as a scan raising alerts for a
    whole programme does: one multi-row INSERT and one read of the webhooks, where one by one each event cost a
    round trip or two (~1.2 ms an alert with its audit row). Their ids, in order."""
    if not events:
        return []
    rows = [
        event_row(kind, record_type=record_type, record_id=record_id, **data)[1]
        for kind, record_type, record_id, data in events
    ]
    connection = db.connection()
    connection.execute(_INSERT_EVENT, rows)
    _follow(
        db,
        [(row, data) for row, (*_, data) in zip(rows, events, strict=True)],
        subscribed=list(connection.execute(_SUBSCRIBED)),
    )
    return [str(row["id"]) for row in rows]


def _follow(
    db: Session, events: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]], *, subscribed: Sequence[Any]
) -> None:
    deliveries = []
    for row, data in events:
        event_type, record_type, record_id, event_id = row["type"], row["record_type"], row["record_id"], row["id"]
        for listener in _listeners:
            listener(db, event_type, record_type, record_id, data, event_id)
        deliveries += [
            {
                "id": new_id(),
                "webhook_id": webhook_id,
                "event_id": event_id,
                "record_id": record_id,
                "status": DeliveryStatus.pending.value,
                "attempts": 0,
                "next_attempt_at": row["occurred_at"],
            }
            for webhook_id, kinds in subscribed
            if event_type in kinds or "*" in kinds
        ]
    if deliveries:
        db.connection().execute(_INSERT_DELIVERY, deliveries)


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value
