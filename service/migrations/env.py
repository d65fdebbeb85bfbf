"""Alembic environment: the URL comes from the service settings, the metadata from service.models."""

from alembic import context
from sqlmodel import SQLModel

import service.models  # noqa: F401  (registers the tables)
from service.core.config import get_settings
from service.core.db import make_engine
from service.migrations.outside_models import include_name

config = context.config


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(get_settings())
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection: object) -> None:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=True,
        compare_type=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
