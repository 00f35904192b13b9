"""Fixtures shared by every test suite."""

from __future__ import annotations

import itertools
import os

import pytest

from labworks_hub.service.store import Store
from tests.postgres import PostgresServer
from tests.registry import Registry
from tests.s3 import SeaweedS3

pytest_plugins = ["pytest_jupyter.jupyter_server"]

_db_counter = itertools.count()


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """Under `pytest -n N`, a worker takes a whole module at a time, so a module's fixtures are
    made once. Each worker starts its own platform for the integration modules it is given
    (`platform` is session-scoped); modules use user names of their own, so two platforms on
    one machine never share a workspace account. xdist's own `--dist loadscope` would split
    parametrized tests by class; `--dist loadgroup` cannot group under pytest 9, whose node ids
    no longer follow the `_nodeid` it rewrites."""
    from xdist.scheduler import LoadScopeScheduling

    class ModuleScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return nodeid.split("::", 1)[0]

    return ModuleScheduling(config, log)


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


@pytest.fixture(scope="session")
def s3(tmp_path_factory):
    """One real S3 endpoint (SeaweedFS) on loopback for the whole session, with one bucket
    (`s3.bucket`) that tests share under prefixes of their own (tests/s3.py)."""
    server = SeaweedS3(tmp_path_factory.mktemp("seaweedfs")).start()
    yield server
    server.stop()
