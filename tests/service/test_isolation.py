"""Tests do not see each other's records, in any table: the default tests because each runs in a transaction
rolled back at its end, the real_commits tests because every table is emptied after them. Each pair of tests
below runs in file order: the first leaves records behind, the second finds none."""

from contextlib import closing
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, create_engine, inspect, select, text
from sqlalchemy.pool import NullPool

from service.migrations.outside_models import is_outside_models
from tests.conftest import MIGRATIONS_TABLE, SEEDED, SEEDED_TABLES, KeyMaker, record_tables
from tests.factories import referral_body, volunteer_body

NEW_CODE = {"code": "isolation_probe", "label": "Left behind by a test"}
PROBE_TABLE = "isolation_probe"


def leftovers(connection: Connection) -> dict[str, int]:
    """Rows the migrations did not put there, by table, for every table the database has (its own list, not
    the models')."""
    from service.models import Programme, VocabularyCode

    quote = connection.dialect.identifier_preparer.quote
    found: dict[str, int] = {}
    for table in inspect(connection).get_table_names():
        if table == MIGRATIONS_TABLE:
            continue
        if table == VocabularyCode.__tablename__:
            query = text(f"SELECT count(*) FROM {quote(table)} WHERE id > :seeded")
            found[table] = connection.execute(query, {"seeded": SEEDED["vocabulary_max_id"]}).scalar() or 0
        elif table == Programme.__tablename__:
            programme = Programme.__table__  # type: ignore[attr-defined]
            rows = [dict(row) for row in connection.execute(select(programme)).mappings()]
            found[table] = 0 if rows == SEEDED["programme"] else 1
        else:
            found[table] = connection.execute(text(f"SELECT count(*) FROM {quote(table)}")).scalar() or 0
    return {table: count for table, count in found.items() if count}


def unreached_tables(connection: Connection) -> set[str]:
    """Tables of the database that the real_commits cleanup neither empties nor restores."""
    reached = {table.name for table in record_tables()} | SEEDED_TABLES | {MIGRATIONS_TABLE}
    return {name for name in inspect(connection).get_table_names() if not is_outside_models(name)} - reached


def committed(engine: Engine, table: str) -> int:
    """Rows as another connection sees them: only what was committed for real. A bare DBAPI connection outside
    the engine's pool (which a default test may not use), so that on SQLite no BEGIN IMMEDIATE waits for the
    test's own write lock."""
    with closing(create_engine(engine.url, poolclass=NullPool).raw_connection()) as raw:
        cursor = raw.cursor()
        cursor.execute(f"SELECT count(*) FROM {table}")
        count: int = cursor.fetchone()[0]
        raw.rollback()
        return count


def leave_records(client: TestClient, admin: dict[str, str], coordinator: dict[str, str]) -> None:
    """Records in many tables: a referral and a volunteer (with their audit and outbox rows), a new vocabulary
    code, changed programme settings; the keys are records too."""
    assert client.post("/v1/referrals", json=referral_body(1), headers=coordinator).status_code == 201
    assert client.post("/v1/volunteers", json=volunteer_body(), headers=coordinator).status_code == 201
    assert client.post("/v1/vocabulary/background", json=NEW_CODE, headers=admin).status_code == 201
    settings = client.get("/v1/programme", headers=admin).json()
    assert (
        client.put(
            "/v1/programme", json={**settings, "rest_days": settings["rest_days"] + 1}, headers=admin
        ).status_code
        == 200
    )


def assert_left_behind(found: dict[str, Any]) -> None:
    expected = {"referral", "volunteer", "api_key", "audit_event", "outbox_event", "vocabulary_code", "programme"}
    assert expected <= set(found), found


def assert_new_code_unknown(client: TestClient, make_key: KeyMaker) -> None:
    """The code the first test added is refused again: the engine's memory of known codes was forgotten too."""
    body = referral_body(2, background=[NEW_CODE["code"]])
    assert client.post("/v1/referrals", json=body, headers=make_key("coordinator")).status_code == 422


def test_a_test_leaves_records_in_its_transaction(
    client: TestClient, admin: dict[str, str], coordinator: dict[str, str], db: Connection, engine: Engine
) -> None:
    leave_records(client, admin, coordinator)
    # Even a table no model declares, made by the test itself.
    db.execute(text(f"CREATE TABLE {PROBE_TABLE} (id INTEGER)"))
    db.execute(text(f"INSERT INTO {PROBE_TABLE} VALUES (1)"))
    assert_left_behind(leftovers(db))
    assert committed(engine, "referral") == 0  # never committed: other connections do not see it


def test_the_next_test_finds_none_of_them(client: TestClient, make_key: KeyMaker, db: Connection) -> None:
    assert leftovers(db) == {}
    assert PROBE_TABLE not in inspect(db).get_table_names()
    assert_new_code_unknown(client, make_key)


@pytest.mark.real_commits
class TestRealCommits:
    def test_a_real_commits_test_leaves_committed_records(
        self, client: TestClient, admin: dict[str, str], coordinator: dict[str, str], engine: Engine
    ) -> None:
        leave_records(client, admin, coordinator)
        with engine.connect() as connection:
            assert_left_behind(leftovers(connection))
        assert committed(engine, "referral") == 1  # committed for real: every connection sees it

    def test_the_next_test_finds_none_of_them(self, client: TestClient, make_key: KeyMaker, engine: Engine) -> None:
        with engine.connect() as connection:
            assert leftovers(connection) == {}
        assert_new_code_unknown(client, make_key)


def test_the_cleanup_reaches_every_table_of_the_migrated_database(db: Connection) -> None:
    assert unreached_tables(db) == set()


def test_a_table_the_models_do_not_declare_would_be_reported(db: Connection) -> None:
    db.execute(text(f"CREATE TABLE {PROBE_TABLE} (id INTEGER)"))  # rolled back with the test
    assert unreached_tables(db) == {PROBE_TABLE}


def test_a_commit_of_the_tests_own_transaction_is_refused(db: Connection) -> None:
    with pytest.raises(AssertionError, match="real_commits"):
        db.commit()


def test_make_key_writes_in_the_tests_transaction(make_key: KeyMaker, engine: Engine, db: Connection) -> None:
    make_key("admin")
    assert db.execute(text("SELECT count(*) FROM api_key")).scalar() == 1
    assert committed(engine, "api_key") == 0


def test_a_default_test_that_opens_a_connection_of_its_own_fails_at_once(engine: Engine, db: Connection) -> None:
    with pytest.raises(AssertionError, match="real_commits"), engine.connect():
        pass
