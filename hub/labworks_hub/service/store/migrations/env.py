"""Alembic environment: runs on the connection handed in by Store.migrate()."""

from __future__ import annotations

from alembic import context

from labworks_hub.service.store.db import VERSION_TABLE
from labworks_hub.service.store.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    version_table=VERSION_TABLE,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
