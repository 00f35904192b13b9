"""Fixtures shared by every test suite."""

from __future__ import annotations

import itertools
import os

import pytest

from labworks_hub.service.store import Store
from tests.postgres import PostgresServer
from tests.registry import Registry

pytest_plugins = ["pytest_jupyter.jupyter_server"]

_db_counter = itertools.count()

# What must run on one pytest-xdist worker, in order: the integration tests (they share one
# platform) and the unit tests that add system accounts beside it.
PLATFORM_GROUP = ("tests/integration/", "tests/unit/hub/test_isolation.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under `--dist loadgroup`, a worker takes a whole group: the platform's tests, or one
    module of the others (so a module's fixtures are made once)."""
    for item in items:
        module = item.nodeid.split("::", 1)[0]
        platform = module.startswith(PLATFORM_GROUP)
        item.add_marker(pytest.mark.xdist_group("platform" if platform else module))


@pytest.fixture(scope="session")
def postgres():
    """One real PostgreSQL server on loopback for the whole session."""
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path):
    """A fresh, empty database URL: the store suite runs once on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.create_database(f"lw_test_{os.getpid()}_{next(_db_counter)}")


@pytest.fixture
def store(db_url):
    """The platform store on a fresh database of each backend, migrated to the newest revision
    (a module may define its own `store` instead)."""
    s = Store(db_url)
    s.migrate()
    yield s
    s.dispose()


@pytest.fixture(scope="session")
def registry(tmp_path_factory):
    """One real OCI registry (Debian's docker-registry) on loopback for the whole session;
    tests push the images they need (tests/registry.py)."""
    server = Registry(tmp_path_factory.mktemp("registry")).start()
    yield server
    server.stop()
