"""Engine, sessions and migrations of the platform store (SQLite or PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "lw_alembic_version"
T = TypeVar("T")


class StoreError(Exception):
    """The store cannot be opened or migrated; the message is safe to show (no password)."""


def redact_url(url: str) -> str:
    """The URL with any password replaced by ***, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "<unparseable database URL>"


def normalize_url(url: str) -> str:
    """Use psycopg 3 for plain `postgresql://` URLs (SQLAlchemy would pick psycopg2)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


class Store:
    """One database: an engine, a session factory and its migrations. Thread-safe."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        try:
            self.url = normalize_url(url)
        except (ArgumentError, ValueError) as e:
            raise StoreError(f"invalid database URL {redact_url(url)}: {e}") from None
        kwargs: dict = {"echo": echo, "pool_pre_ping": True}
        if self.url.startswith("sqlite"):
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        try:
            self.engine: Engine = create_engine(self.url, **kwargs)
        except (ArgumentError, ImportError) as e:
            raise StoreError(f"cannot use database {redact_url(self.url)}: {e}") from None
        if self.url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def __repr__(self) -> str:
        return f"Store({redact_url(self.url)})"

    def check(self) -> None:
        """Connect once, raising StoreError with a clear, password-free message on failure."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError as e:
            orig = getattr(e, "orig", None)
            reason = str(orig) if orig else str(e)
            reason = reason.strip().splitlines()[0] if reason.strip() else type(e).__name__
            raise StoreError(
                f"cannot connect to database {redact_url(self.url)}: {reason}"
            ) from None

    def migrate(self, revision: str = "head") -> None:
        """Bring the schema to `revision`, the newest by default (idempotent; safe at every
        start)."""
        self.check()
        self._alembic(command.upgrade, revision)

    def downgrade(self, revision: str) -> None:
        """Take the schema back to `revision` (an operator's way back from an upgrade)."""
        self._alembic(command.downgrade, revision)

    def _alembic(self, step, revision: str) -> None:
        """Run an Alembic `step` in one transaction. On SQLite, foreign keys are off meanwhile:
        a migration that rebuilds a table (batch mode) drops the old one, which would otherwise
        cascade to the rows that refer to it."""
        sqlite = self.url.startswith("sqlite")
        with self.engine.connect() as conn:
            if sqlite:
                conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
                conn.commit()
            try:
                with conn.begin():
                    cfg = Config()
                    cfg.set_main_option("script_location", str(MIGRATIONS))
                    cfg.attributes["connection"] = conn
                    step(cfg, revision)
            finally:
                if sqlite:
                    conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                    conn.commit()

    def revision(self) -> str | None:
        with self.engine.connect() as conn:
            try:
                query = text(f"SELECT version_num FROM {VERSION_TABLE}")  # noqa: S608 (a constant)
                row = conn.execute(query).first()
            except SQLAlchemyError:
                return None
        return row[0] if row else None

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error."""
        with self._sessions() as session, session.begin():
            yield session

    async def run(self, work: Callable[..., T], *args: Any) -> T:
        """`work(session, *args)` in one transaction (`session()`), in a thread: how async code
        (routers, the job service) uses the store without blocking the event loop."""

        def run() -> T:
            with self.session() as session:
                return work(session, *args)

        return await asyncio.to_thread(run)

    def dispose(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    # WAL's recommended setting: a commit is safe from a killed process (the OS has it) and the
    # file never corrupts; only a power cut may lose the last commits. Saves an fsync each.
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()
