"""Idempotency-Key for creating POSTs, inside the request's own transaction.

Most routes claim the key first (INSERT ... ON CONFLICT DO NOTHING) and store the answer at the end: a
concurrent request with the same key waits on the unique index (PostgreSQL) or the write lock (SQLite) until
the first commits, then replays its response. The referral post, the hottest route, writes the key's row once,
answer included, with the referral (`row`): a second request with the key then fails on the same unique index
once the first commits, rolls back, and replays what `stored` finds. Either way one key makes one record, and a
half-done request leaves nothing behind.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Table, bindparam, delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from service.core import clock
from service.core.auth import Principal
from service.core.errors import Conflict, invalid
from service.core.ids import new_id
from service.models import IdempotencyRecord


@dataclass(frozen=True)
class Answer:
    """A creating POST's answer as stored with its key, and replayed to a retry."""

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


@dataclass(frozen=True)
class Key:
    """An Idempotency-Key as one caller sent it to one route, with the hash of the body it came with."""

    caller_key_id: str
    route: str
    key: str
    request_hash: str


_TABLE: Table = IdempotencyRecord.__table__  # type: ignore[attr-defined]


def row(key: Key, answer: Answer) -> tuple[Table, dict[str, Any]]:
    """The key's record with its answer, for writing with the rows it answers for (service.core.together)."""
    return _TABLE, {
        "id": new_id(),
        "caller_key_id": key.caller_key_id,
        "route": key.route,
        "key": key.key,
        "request_hash": key.request_hash,
        "response_status": answer.status,
        "response_body": answer.body,
        "location": answer.location,
        "etag": answer.etag,
        "created_at": clock.now(),
    }


def stored(db: Session, key: Key) -> Answer | None:
    """The answer stored for this key, to replay; None if the key is new. 422 if it came with another body, 409
    if its first request is still at work (a route that claims first)."""
    query = select(IdempotencyRecord).where(
        IdempotencyRecord.caller_key_id == key.caller_key_id,
        IdempotencyRecord.route == key.route,
        IdempotencyRecord.key == key.key,
    )
    first = db.exec(query).first()
    if first is None:
        return None
    if first.request_hash != key.request_hash:
        raise invalid(["header", "Idempotency-Key"], "this key was already used with a different body")
    if first.response_status is None:
        raise Conflict("A request with this Idempotency-Key is still in progress.")
    return Answer(first.response_status, first.response_body, first.location, first.etag)


def claim(db: Session, *, caller: Principal, route: str, key: str, request_hash: str) -> Claim | Answer:
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
    first = stored(db, Key(caller.key_id, route, key, request_hash))
    assert first is not None  # the insert found it
    return first


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
