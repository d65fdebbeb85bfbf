"""Every query erasure makes: the rows outside the referral and volunteer tables that can hold their data."""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, MetaData, String, Table, Text, TypeDecorator, cast, exists
from sqlmodel import Session, SQLModel, col, select, update

from api_schemas.volunteers import VolunteerStatus
from service.matches.lifecycle import HOLDS_CAPACITY
from service.models import (
    ApiKey,
    AuditEvent,
    Feedback,
    IdempotencyRecord,
    Match,
    MatchRun,
    Message,
    Proposal,
    Referral,
    RiskReview,
    SupportSession,
    Volunteer,
)

ERASED_KEY_NAME = "(erased volunteer)"


def clear_override_reasons(db: Session, *, referral_id: str | None = None, volunteer_id: str | None = None) -> None:
    """A coordinator's override reason is free text and may name either person."""
    query = update(Match).values(override_reason=None)
    if referral_id is not None:
        query = query.where(col(Match.referral_id) == referral_id)
    if volunteer_id is not None:
        query = query.where(col(Match.volunteer_id) == volunteer_id)
    db.exec(query)


def _unnamed(value: Any, pattern: "re.Pattern[str]") -> Any:
    """A JSON value with every sentence naming her reworded to "the volunteer"."""
    if isinstance(value, str):
        return pattern.sub("the volunteer", value)
    if isinstance(value, list):
        return [_unnamed(item, pattern) for item in value]
    if isinstance(value, dict):
        return {key: _unnamed(item, pattern) for key, item in value.items()}
    return value


def unname_in_reasons(db: Session, *, volunteer_id: str, first_name: str) -> None:
    """Reasons name the volunteer by first name ("3.4 km from Joanna"): her proposals', her matches' and the
    runs' unmatched explanations that list her are reworded, and the runs' `first_name` fields cleared."""
    pattern = re.compile(rf"\b{re.escape(first_name)}\b")
    for row in db.exec(select(Proposal).where(Proposal.volunteer_id == volunteer_id)):
        row.reasons = _unnamed(row.reasons, pattern)
        db.add(row)
    for match in db.exec(select(Match).where(Match.volunteer_id == volunteer_id)):
        match.reasons = _unnamed(match.reasons, pattern)
        db.add(match)
    mentioned = cast(MatchRun.unmatched, Text).contains(volunteer_id)  # type: ignore[attr-defined]
    for run in db.exec(select(MatchRun).where(mentioned)):
        entries = _unnamed(run.unmatched, pattern)
        for entry in entries:
            for fit in entry.get("not_ready") or []:
                if fit.get("volunteer_id") == volunteer_id:
                    fit["first_name"] = None
        run.unmatched = entries
        db.add(run)


def clear_feedback_text(db: Session, match_ids: list[str]) -> None:
    """Free-text answers to the end-of-support questionnaire may name or describe either person: they go; the
    scale and yes/no answers stay, anonymous, for the reports."""
    if not match_ids:
        return
    for row in db.exec(select(Feedback).where(col(Feedback.match_id).in_(match_ids))):
        row.answers = {code: value for code, value in (row.answers or {}).items() if not isinstance(value, str)}
        db.add(row)


def bump_sessions_of_referral(db: Session, referral_id: str, *, now: datetime) -> None:
    """A new SEQUENCE, so calendar apps fetch the sessions again and drop the name they showed."""
    matches = select(Match.id).where(Match.referral_id == referral_id)
    db.exec(
        update(SupportSession)
        .where(col(SupportSession.match_id).in_(matches))
        .values(sequence=SupportSession.sequence + 1, updated_at=now)
    )


def clear_risk_review_notes(db: Session, referral_id: str) -> None:
    db.exec(update(RiskReview).where(col(RiskReview.referral_id) == referral_id).values(note=None))


def idempotency_records_for(db: Session, location: str) -> list[IdempotencyRecord]:
    """Stored first responses that a retry would replay: they hold the record as it was created."""
    return list(db.exec(select(IdempotencyRecord).where(IdempotencyRecord.location == location)))


def revoke_keys_of_volunteer(db: Session, volunteer_id: str, *, now: datetime) -> None:
    """Her keys stop working at once, and lose their names, which an admin may have written hers into."""
    keys = col(ApiKey.volunteer_id) == volunteer_id
    db.exec(update(ApiKey).where(keys, col(ApiKey.revoked_at).is_(None)).values(revoked_at=now))
    db.exec(update(ApiKey).where(keys).values(name=ERASED_KEY_NAME))


def matches_of(db: Session, *, referral_id: str | None = None, volunteer_id: str | None = None) -> list[str]:
    query = select(Match.id)
    if referral_id is not None:
        query = query.where(Match.referral_id == referral_id)
    if volunteer_id is not None:
        query = query.where(Match.volunteer_id == volunteer_id)
    return list(db.exec(query))


def clear_message_fields(db: Session, *, recipient_id: str, match_ids: list[str]) -> None:
    """Messages hold first names: hers, and hers in the other person's messages about their matches."""
    about = col(Message.recipient_id) == recipient_id
    if match_ids:
        about = about | col(Message.match_id).in_(match_ids)
    db.exec(update(Message).where(about).values(personalisation={}))


# --- What the database holds about one person (a subject access export) ------------------------------------

# Ids are UUIDs, unique across tables, so a column holding one of hers refers to her row whatever it is named.
_ID_SUFFIX = "_id"
_IN_CHUNK = 500  # bound parameters per IN list: SQLite's limit is far above, PostgreSQL's is 65535


@dataclass
class Holdings:
    """Rows by table and primary key: those reached from her record through columns holding ids of rows already
    found (`linked`), and those that only mention her id inside a longer text or JSON value (`mentioning`)."""

    linked: dict[str, dict[Any, dict[str, Any]]] = field(default_factory=dict)
    mentioning: dict[str, dict[Any, dict[str, Any]]] = field(default_factory=dict)


def _primary_key(table: Table) -> Column[Any] | None:
    keys = list(table.primary_key.columns)
    return keys[0] if len(keys) == 1 else None


def _string_type(column: Column[Any]) -> String | None:
    """The column's string type, seen through a decorator (SQLModel declares `str` fields as `AutoString`)."""
    kind = column.type
    if isinstance(kind, TypeDecorator):
        kind = kind.impl_instance
    return kind if isinstance(kind, String) else None


def reference_columns(table: Table) -> list[Column[Any]]:
    """The columns that can hold another row's id: every foreign key, and every string column named `…_id`
    (many references carry no foreign key: `volunteer_id` on a key or a concern, `match_id` on a message,
    `record_id` on the audit log and the outbox, `actor_key_id`)."""
    primary = _primary_key(table)
    return [
        column
        for column in table.columns
        if column is not primary
        and (column.foreign_keys or (column.name.endswith(_ID_SUFFIX) and _string_type(column) is not None))
    ]


def _text_columns(table: Table) -> list[Column[Any]]:
    """Columns that may hold an id inside a longer value (a path, a JSON document); plain id columns excluded."""
    references = set(reference_columns(table))
    found = []
    for column in table.columns:
        if column in references or column is _primary_key(table):
            continue
        string = _string_type(column)
        if isinstance(column.type, JSON) or (string is not None and (string.length is None or string.length > 36)):
            found.append(column)
    return found


def _chunks(ids: set[Any]) -> Iterator[list[Any]]:
    ordered = sorted(ids, key=str)
    for start in range(0, len(ordered), _IN_CHUNK):
        yield ordered[start : start + _IN_CHUNK]


def holdings(db: Session, *, table_name: str, record_id: str, metadata: MetaData | None = None) -> Holdings:
    """Every row about one person, read from the tables' metadata so a table added later is included without
    being named: her record, then every row with a column holding the id of a row already found, until no new
    row is found (her matches, their sessions, their messages, the audit rows of each, …), then the rows whose
    text or JSON holds her id (a stored idempotent reply, a match run that left her unmatched). References are
    followed towards the rows that point at hers only, never back up (a match leads to its sessions, not to the
    other person), and the mentioning rows are not followed further."""
    tables = [t for t in (metadata or SQLModel.metadata).sorted_tables if _primary_key(t) is not None]
    found = Holdings()
    connection = db.connection()
    root = (metadata or SQLModel.metadata).tables[table_name]
    new_ids: set[Any] = set()
    for row in connection.execute(root.select().where(_primary_key(root) == record_id)).mappings():  # type: ignore[operator]
        found.linked.setdefault(table_name, {})[record_id] = dict(row)
        new_ids.add(record_id)
    while new_ids:
        fresh: set[Any] = set()
        for table in tables:
            key = _primary_key(table)
            assert key is not None
            seen = found.linked.setdefault(table.name, {})
            for column in reference_columns(table):
                for chunk in _chunks(new_ids):
                    for row in connection.execute(table.select().where(column.in_(chunk))).mappings():
                        if row[key.name] not in seen:
                            seen[row[key.name]] = dict(row)
                            fresh.add(row[key.name])
        new_ids = fresh
    if not found.linked.get(table_name):
        return found
    pattern = "%" + record_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    for table in tables:
        key = _primary_key(table)
        assert key is not None
        linked = found.linked.get(table.name, {})
        for column in _text_columns(table):
            query = table.select().where(cast(column, Text).like(pattern, escape="\\"))
            for row in connection.execute(query).mappings():
                if row[key.name] not in linked:
                    found.mentioning.setdefault(table.name, {})[row[key.name]] = dict(row)
    return found


# --- The retention schedule ----------------------------------------------------------------------------------

_CLOSED_REFERRAL = ("ended", "withdrawn", "declined")
_HOLDING = [s.value for s in HOLDS_CAPACITY]


def referrals_past(db: Session, cutoff: datetime) -> list[Referral]:
    """Not erased, closed (ended, declined, withdrawn) and unchanged since before the cutoff, with no match that
    holds a place or ended since: her last change is when she was closed, or later."""
    query = select(Referral).where(
        col(Referral.erased_at).is_(None),
        col(Referral.status).in_(_CLOSED_REFERRAL),
        col(Referral.updated_at) < cutoff,
        ~exists().where(
            Match.referral_id == Referral.id, (col(Match.status).in_(_HOLDING)) | (col(Match.ended_at) >= cutoff)
        ),
    )
    return list(db.exec(query.order_by(Referral.id)))


def volunteers_past(db: Session, cutoff: datetime) -> list[Volunteer]:
    """Not erased, `left`, unchanged since before the cutoff, with no match that holds a place or ended since."""
    query = select(Volunteer).where(
        col(Volunteer.erased_at).is_(None),
        Volunteer.status == VolunteerStatus.left.value,
        col(Volunteer.updated_at) < cutoff,
        ~exists().where(
            Match.volunteer_id == Volunteer.id, (col(Match.status).in_(_HOLDING)) | (col(Match.ended_at) >= cutoff)
        ),
    )
    return list(db.exec(query.order_by(Volunteer.id)))


def last_run_since(db: Session, action: str, since: datetime) -> bool:
    """Whether the schedule already ran since this instant (its audit row says when)."""
    query = select(AuditEvent.id).where(AuditEvent.action == action, col(AuditEvent.at) >= since).limit(1)
    return db.exec(query).first() is not None
