"""State machines as data, and the one way a status changes.

Each aggregate declares a `Lifecycle`: its allowed transitions and how its rows are versioned. `transition()`
moves one row's status, bumps its version, writes the audit row and, where the change is news, the outbox
event, all in the caller's transaction. Nothing else in the service assigns a status (tests/test_architecture
checks it), so an aggregate's life can be read in its `lifecycle.py` alone."""

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, TypeVar

from sqlmodel import Session

from service.core import audit, clock, outbox
from service.core.auth import Principal
from service.core.errors import TransitionNotAllowed

S = TypeVar("S", bound=StrEnum)


@dataclass(frozen=True)
class Lifecycle(Generic[S]):
    """`record` names the aggregate in errors, audit rows and events; `version` is the column counting its
    changes (an ETag, or a calendar SEQUENCE), or None where nobody reads one; `audited` is false only for the
    service's own bookkeeping (a webhook delivery's attempts), which no person does."""

    record: str
    states: type[S]
    transitions: Mapping[S, frozenset[S]]
    version: str | None = "version"
    audited: bool = True

    def allows(self, current: str, target: S) -> bool:
        return target in self.transitions[self.states(current)]

    def check(self, current: str, target: S, *, action: str) -> S:
        """The target, or 409 naming the current state."""
        if not self.allows(current, target):
            raise TransitionNotAllowed(self.record, current, action)
        return target

    def move(
        self,
        db: Session,
        row: Any,
        target: S,
        *,
        action: str,
        actor: Principal | None,
        audit_action: str | None = None,
        reason: str | None = None,
        events: tuple["Event", ...] = (),
    ) -> S:
        """`transition()` for a row of this aggregate."""
        return transition(
            db, self, row, target, action=action, actor=actor, audit_action=audit_action, reason=reason, events=events
        )


@dataclass(frozen=True)
class Event:
    """An outbox event a transition raises: its type, the record it is about (the aggregate's root, which may
    not be the row that moved: a session's events are about its match) and ids, codes and times only."""

    type: str
    record_type: str
    record_id: str
    data: Mapping[str, Any]


def event(event_type: str, *, record_type: str, record_id: str, **data: Any) -> Event:
    return Event(event_type, record_type, record_id, data)


def transition(
    db: Session,
    lifecycle: Lifecycle[S],
    row: Any,
    target: S,
    *,
    action: str,
    actor: Principal | None,
    audit_action: str | None = None,
    reason: str | None = None,
    events: tuple[Event, ...] = (),
) -> S:
    """Move `row` to `target` (409 if its lifecycle forbids it), bump its version, stamp `updated_at`, and
    write the audit row (`<record>.<target>` unless named) and the events, in the caller's transaction."""
    lifecycle.check(row.status, target, action=action)
    row.status = target.value
    if lifecycle.version is not None:
        setattr(row, lifecycle.version, getattr(row, lifecycle.version) + 1)
    if hasattr(row, "updated_at"):
        row.updated_at = clock.now()
    db.add(row)
    if lifecycle.audited:
        audit.record(
            db,
            actor=actor,
            action=audit_action or f"{lifecycle.record}.{target.value}",
            record_type=lifecycle.record,
            record_id=row.id,
            reason=reason,
        )
    emit(db, events)
    return target


def begin(
    db: Session,
    lifecycle: Lifecycle[S],
    row: Any,
    *,
    actor: Principal | None,
    reason: str | None = None,
    events: tuple[Event, ...] = (),
) -> None:
    """A new row in its lifecycle's first state: added, audited as `<record>.created`, its events raised."""
    lifecycle.states(row.status)  # a known state, or ValueError: a programming error, not the caller's
    db.add(row)
    audit.record(
        db,
        actor=actor,
        action=f"{lifecycle.record}.created",
        record_type=lifecycle.record,
        record_id=row.id,
        reason=reason,
    )
    emit(db, events)


def emit(db: Session, events: tuple[Event, ...]) -> None:
    """Raise events that no status change carries (plans extended, reminders)."""
    for item in events:
        outbox.emit(db, item.type, record_type=item.record_type, record_id=item.record_id, **item.data)
