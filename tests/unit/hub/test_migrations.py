"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import importlib
import pkgutil

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from labworks_hub.service import store as store_package
from labworks_hub.service.store.db import VERSION_TABLE
from labworks_hub.service.store.models import Base


def test_migrated_schema_matches_the_models(store):
    for module in pkgutil.iter_modules(store_package.__path__):
        importlib.import_module(f"{store_package.__name__}.{module.name}")  # every model
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    differences = [d for d in differences if not _is_version_table(d)]
    assert differences == []


def _is_version_table(difference: tuple) -> bool:
    return difference[0] == "remove_table" and difference[1].name == VERSION_TABLE
