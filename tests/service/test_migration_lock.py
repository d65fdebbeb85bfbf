"""Replicas starting together on one PostgreSQL migrate one at a time (an advisory lock), so none of them trips
over another's half-applied migration."""

import threading

import pytest
from sqlalchemy import Engine, text

from service.core import migrate


@pytest.mark.real_commits
def test_an_upgrade_waits_while_another_replica_holds_the_migration_lock(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("advisory locks are PostgreSQL's; SQLite has one writer anyway")
    finished = threading.Event()

    def start_another_replica() -> None:
        migrate.upgrade(engine)
        finished.set()

    with engine.connect() as first:
        first.execute(text("SELECT pg_advisory_lock(:key)"), {"key": migrate.MIGRATION_LOCK})
        replica = threading.Thread(target=start_another_replica)
        replica.start()
        assert not finished.wait(timeout=1.5), "the second replica migrated while the first held the lock"
        first.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": migrate.MIGRATION_LOCK})
        first.commit()
    replica.join(timeout=60)
    assert finished.is_set() and migrate.is_current(engine)
