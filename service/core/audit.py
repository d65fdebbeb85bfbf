"""The audit log, written in the caller's transaction, so it commits or rolls back with the change.

Rows are appended with a Core INSERT on the session's connection: an audit row is never read back or changed
in the request, so the ORM's unit of work (most of a write request's CPU) would buy nothing."""

from sqlalchemy import insert
from sqlmodel import Session

from service.core import clock
from service.core.auth import Principal
from service.core.ids import new_id
from service.core.logs import current_request_id
from service.models import AuditEvent

# Built once: each request then only binds values, instead of building and hashing a statement.
_INSERT = insert(AuditEvent.__table__)  # type: ignore[arg-type]


def record(
    db: Session, *, actor: Principal | None, action: str, record_type: str, record_id: str, reason: str | None = None
) -> None:
    db.connection().execute(
        _INSERT,
        {
            "id": new_id(),
            "at": clock.now(),
            "actor_key_id": actor.key_id if actor else None,
            "actor_role": actor.role.value if actor else "system",
            "action": action,
            "record_type": record_type,
            "record_id": record_id,
            "request_id": current_request_id(),
            "reason": reason,
        },
    )
