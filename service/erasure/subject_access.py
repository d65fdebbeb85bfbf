"""A subject access export (UK GDPR article 15): every row the database holds about one parent or volunteer,
with the audit rows of who read and changed them, for an admin to review and send."""

import json
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy import MetaData
from sqlmodel import Session, SQLModel

from api_schemas.rights import SubjectExportOut, SubjectType
from service.core import audit, clock
from service.core.auth import Principal
from service.erasure import repository


def is_secret(column_name: str) -> bool:
    """Credentials are not personal data to hand over, and a copy would let whoever holds it act as her: API key
    and request hashes, calendar feed tokens, webhook secrets (by name, so a new table's secret is caught too)."""
    return "secret" in column_name or "token" in column_name or column_name.endswith("_hash")


def _narrowed(value: Any, subject_id: str) -> Any:
    """A list shared with others (a match run's unmatched referrals) keeps only the entries that name her."""
    if not isinstance(value, list):
        return value
    mentioning = [item for item in value if subject_id in json.dumps(item, default=str)]
    return mentioning if mentioning else value


def _rows(
    by_key: dict[Any, dict[str, Any]], table: str, subject_id: str, withheld: set[str], *, narrow: bool
) -> list[Any]:
    rows = []
    for key in sorted(by_key, key=str):
        row = {}
        for column, value in by_key[key].items():
            if is_secret(column):
                withheld.add(f"{table}.{column}")
                continue
            row[column] = _narrowed(value, subject_id) if narrow else value
        rows.append(to_jsonable_python(row))
    return rows


def collect(
    db: Session, *, subject_type: SubjectType, subject_id: str, metadata: MetaData | None = None
) -> SubjectExportOut:
    """What the database holds about her, grouped by table (see `repository.holdings` for how it is found)."""
    found = repository.holdings(db, table_name=subject_type.value, record_id=subject_id, metadata=metadata)
    withheld: set[str] = set()
    tables: dict[str, list[dict[str, Any]]] = {}
    for table in (metadata or SQLModel.metadata).sorted_tables:
        name = table.name
        rows = _rows(found.linked.get(name, {}), name, subject_id, withheld, narrow=False)
        rows += _rows(found.mentioning.get(name, {}), name, subject_id, withheld, narrow=True)
        if rows:
            tables[name] = rows
    return SubjectExportOut(
        subject_type=subject_type,
        subject_id=subject_id,
        exported_at=clock.now(),
        tables=dict(sorted(tables.items())),
        withheld_columns=sorted(withheld),
    )


def export(db: Session, *, actor: Principal, subject_type: SubjectType, subject_id: str) -> SubjectExportOut:
    """The export, audited after it is read (so it does not list itself): who exported whom, and when."""
    out = collect(db, subject_type=subject_type, subject_id=subject_id)
    audit.record(
        db, actor=actor, action=f"{subject_type.value}.exported", record_type=subject_type.value, record_id=subject_id
    )
    return out
