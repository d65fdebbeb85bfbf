"""The audit log, written in the caller's transaction, so it commits or rolls back with the change.

Rows are appended with a Core INSERT on the session's connection: an audit row is never read back or changed
in the request, so the ORM's unit of work (most of a write request's CPU) would buy nothing."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, insert
from sqlmodel import Session

from service.core import clock
from service.core.auth import Principal
from service.core.ids import new_id
from service.core.logs import current_request_id
from service.models import AuditEvent

# Built once: each request then only binds values, instead of building and hashing a statement.
_TABLE: Table = AuditEvent.__table__  # type: ignore[attr-defined]
_INSERT = insert(_TABLE)


def row(
    *, actor: Principal | None, action: str, record_type: str, record_id: str, reason: str | None = None
) -> tuple[Table, dict[str, Any]]:
    """The audit row of an action, for writing with others (service.core.together)."""
    return _TABLE, {
        "id": new_id(),
        "at": clock.now(),
        "actor_key_id": actor.key_id if actor else None,
        "actor_role": actor.role.value if actor else "system",
        "action": action,
        "record_type": record_type,
        "record_id": record_id,
        "request_id": current_request_id(),
        "reason": reason,
    }


def record(
    db: Session, *, actor: Principal | None, action: str, record_type: str, record_id: str, reason: str | None = None
) -> None:
    _, values = row(actor=actor, action=action, record_type=record_type, record_id=record_id, reason=reason)
    db.connection().execute(_INSERT, values)


def record_all(db: Session, rows: Sequence[tuple[Table, dict[str, Any]]]) -> None:
    """Many audit rows (from `row`) in one multi-row INSERT, as a scan raising alerts for a programme writes."""
    if rows:
        db.connection().execute(_INSERT, [values for _, values in rows])
