"""New rows for several tables written by one statement on PostgreSQL, in order on SQLite.

A referral post writes four rows (the referral, its audit row, its event, the key's stored answer). Sent as four
statements they cost four trips through SQLAlchemy, the driver and the server, the largest share of the post's
CPU after the framework's own (docs/decisions/0028). PostgreSQL runs INSERTs inside WITH as one statement, in
one round trip, atomically with the transaction; SQLite has no INSERT inside WITH, so there they run one after
another in the same transaction, with the same outcome."""

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, bindparam, insert, literal, literal_column, select, text
from sqlalchemy.engine import Row
from sqlalchemy.sql import Select

Rows = Sequence[tuple[Table, dict[str, Any]]]
_statements: dict[tuple[Any, ...], Any] = {}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime")  # as service.models.columns.UtcDateTime refuses one
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} cannot be written as JSON")


def _as_json(row: dict[str, Any]) -> str:
    return json.dumps(row, default=_plain, ensure_ascii=False, separators=(",", ":"))


def _with_inserts(
    connection: Connection, rows: Rows, then: Select[Any] | None, only_if: ColumnElement[bool] | None
) -> Any:
    """SELECT `then` WITH one INSERT per row, each taking its row as one JSON parameter.

    One parameter per row rather than one per column: the driver parses and caches a statement's placeholders
    only up to 50 of them, and a referral alone has more, so a statement with one per column was parsed again
    at every post. json_populate_record casts each field to its column's type as a bound value would be."""
    quote = connection.dialect.identifier_preparer.quote
    writes = []
    for place, (table, row) in enumerate(rows):
        columns = [quote(name) for name in row]
        source = text(f"json_populate_record(NULL::{quote(table.name)}, CAST(:w{place} AS json)) AS w{place}_row")
        chosen: Any = select(*(literal_column(column) for column in columns)).select_from(
            source.bindparams(bindparam(f"w{place}"))
        )
        if only_if is not None:
            chosen = chosen.where(only_if)
        writes.append(insert(table).from_select(list(row), chosen).cte(f"w{place}"))
    return (then if then is not None else select(literal(1))).add_cte(*writes)


def insert_rows(
    connection: Connection,
    rows: Rows,
    then: Select[Any] | None = None,
    *,
    only_if: ColumnElement[bool] | None = None,
    parameters: Mapping[str, Any] | None = None,
) -> Row[Any] | None:
    """Insert each (table, values) row, then run `then` and return its first row (None without `then`). An
    IntegrityError from any row leaves none of them written once the transaction rolls back.

    With `only_if`, a condition asked in the same statement, no row is written unless it holds; `then` should
    say whether it did. `parameters` bind the names `only_if` and `then` use."""
    bound = dict(parameters or {})
    if connection.dialect.name != "postgresql":
        # Each request's transaction holds SQLite's write lock from its first statement (service.core.db), so
        # nothing can change the condition between asking it and writing.
        if only_if is None or connection.execute(select(only_if), bound).scalar():
            for table, row in rows:
                connection.execute(insert(table), row)
        return connection.execute(then, bound).first() if then is not None else None
    # Built once per shape of rows: building and hashing the statement cost more than running it.
    key = (id(then), id(only_if), tuple((table.name, tuple(row)) for table, row in rows))
    statement = _statements.get(key)
    if statement is None:
        statement = _statements[key] = _with_inserts(connection, rows, then, only_if)
    bound.update({f"w{place}": _as_json(row) for place, (_, row) in enumerate(rows)})
    found = connection.execute(statement, bound).first()
    return found if then is not None else None
