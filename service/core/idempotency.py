"""Idempotency-Key for creating POSTs, inside the request's own transaction.

The key row is inserted first (INSERT ... ON CONFLICT DO NOTHING): a concurrent request with the same key waits
on the unique index (PostgreSQL) or the write lock (SQLite) until the first commits, then replays its
response. So one key makes one record, and a half-done request leaves nothing behind.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import bindparam, delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from service.core import clock
from service.core.auth import Principal
from service.core.errors import Conflict, invalid
from service.core.ids import new_id
from service.models import IdempotencyRecord


@dataclass(frozen=True)
class Replay:
    status: int
    body: Any
    location: str | None
    etag: str | None = None

    def headers(self) -> dict[str, str]:
        """The first answer's Location and ETag, to send again with its body."""
        found = {"Location": self.location, "ETag": self.etag}
        return {name: value for name, value in found.items() if value}


def body_hash(body: BaseModel) -> str:
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Claim:
    record_id: str


_records = IdempotencyRecord.__table__.c  # type: ignore[attr-defined]


def _claim_statement(insert: Any) -> Any:
    return (
        insert(IdempotencyRecord.__table__)
        .values(
            id=bindparam("id"),
            caller_key_id=bindparam("caller_key_id"),
            route=bindparam("route"),
            key=bindparam("key"),
            request_hash=bindparam("request_hash"),
            created_at=bindparam("created_at"),
        )
        .on_conflict_do_nothing(index_elements=["caller_key_id", "route", "key"])
        .returning(_records.id)
    )


# Built once per dialect: building it per request cost more than running it (decision 0007).
_CLAIM = {"postgresql": _claim_statement(postgresql.insert), "sqlite": _claim_statement(sqlite.insert)}


def claim(db: Session, *, caller: Principal, route: str, key: str, request_hash: str) -> Claim | Replay:
    """Claim the key for this request, or return the first request's response to replay."""
    record_id = new_id()
    connection = db.connection()
    claimed = connection.execute(
        _CLAIM[connection.dialect.name],
        {
            "id": record_id,
            "caller_key_id": caller.key_id,
            "route": route,
            "key": key,
            "request_hash": request_hash,
            "created_at": clock.now(),
        },
    ).first()
    if claimed is not None:
        return Claim(record_id)
    query = select(IdempotencyRecord).where(
        IdempotencyRecord.caller_key_id == caller.key_id, IdempotencyRecord.route == route, IdempotencyRecord.key == key
    )
    first = db.exec(query).one()
    if first.request_hash != request_hash:
        raise invalid(["header", "Idempotency-Key"], "this key was already used with a different body")
    if first.response_status is None:
        raise Conflict("A request with this Idempotency-Key is still in progress.")
    return Replay(first.response_status, first.response_body, first.location, first.etag)


_COMPLETE = (
    update(IdempotencyRecord.__table__)  # type: ignore[arg-type]
    .where(_records.id == bindparam("record_id"))
    .values(
        response_status=bindparam("status"),
        response_body=bindparam("body"),
        location=bindparam("location"),
        etag=bindparam("etag"),
    )
)


def complete(
    db: Session, claimed: Claim, *, status: int, body: Any, location: str | None, etag: str | None = None
) -> None:
    db.connection().execute(
        _COMPLETE,
        {"record_id": claimed.record_id, "status": status, "body": body, "location": location, "etag": etag},
    )


# The contract keeps keys at least 24 h. A week covers any sane retry, and no longer: a stored first response
# can hold the referral's personal data.
KEPT_FOR = timedelta(days=7)


def prune(db: Session) -> int:
    """Forget keys older than KEPT_FOR (a periodic job); the number forgotten."""
    cutoff = clock.now() - KEPT_FOR
    table = IdempotencyRecord.__table__
    result = db.connection().execute(delete(table).where(table.c.created_at < cutoff))  # type: ignore[attr-defined]
    return int(result.rowcount or 0)
