"""Optuna's journal storage kept in the platform store: one study per sweep, no second database.

Optuna's `JournalStorage` keeps the study in memory and writes each change as a log line; a
reader replays lines it has not seen. Its backend here appends the lines to
`lw_sweep_journal` (SQLite or PostgreSQL) with gap-free numbers per sweep. Several processes may
append at once: each writes at the end it read, and the primary key turns a race into a retry,
so no line is lost or doubled and no database-wide lock is taken.

Why not Optuna's `RDBStorage`: it issues a query per operation (about 50 times the in-memory
storage, optuna#3921) and brings its own tables and Alembic history into our schema; the
journal costs one short insert per change and replays from memory.
"""

from __future__ import annotations

import json
import random
import sqlite3
import threading
import time
from collections.abc import Iterable
from typing import Any

from optuna.storages.journal import BaseJournalBackend
from sqlalchemy import Connection, bindparam, func, insert, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from ..store import Store
from ..store.sweeps import SweepJournalLine

APPEND_ATTEMPTS = 50
# The JSON column is TEXT on SQLite: json.dumps is what SQLAlchemy's JSON type writes.
SQLITE_INSERT = "INSERT INTO lw_sweep_journal (sweep_id, seq, line) VALUES (?, ?, ?)"


class GoneError(RuntimeError):
    """The sweep was deleted: its journal takes no more lines."""


class StoreJournal(BaseJournalBackend):
    """The journal lines of one sweep in the store.

    Optuna reads before nearly every operation, so reads are made cheap. The journal keeps one
    connection in autocommit (SQLAlchemy Core, not a pooled, pre-pinged ORM session per call):
    an append is one multi-row INSERT at the end it read, atomic on its own. On SQLite,
    `PRAGMA data_version` changes only when another connection commits, so while it holds
    still the store has exactly the lines read so far plus this journal's own appends, which
    are answered from memory. A connection the database dropped is opened again."""

    def __init__(self, db: Store, sweep_id: str) -> None:
        self.engine = db.engine
        self.sweep_id = sweep_id
        self._sqlite = db.url.startswith("sqlite")
        self._lock = threading.Lock()
        self._connection: Connection | None = None
        self._raw: Any = None  # the sqlite3 connection under it, on SQLite
        self._version: int | None = None  # SQLite data_version when the store was last read
        self._known = 0  # lines 0.._known-1 were read or written here, none since by others
        self._own: dict[int, dict[str, Any]] = {}  # lines appended here since the last read
        line = SweepJournalLine
        mine = line.sweep_id == sweep_id
        self._read = select(line.line).where(mine, line.seq >= bindparam("start"))
        self._read = self._read.order_by(line.seq)
        self._length = select(func.coalesce(func.max(line.seq) + 1, 0)).where(mine)

    def read_logs(self, log_number_from: int) -> Iterable[dict[str, Any]]:
        with self._lock:
            try:
                return self._read_from(log_number_from)
            except SQLAlchemyError:  # a dropped or invalidated connection: open it again
                self._drop()
                return self._read_from(log_number_from)

    def _read_from(self, start: int) -> list[dict[str, Any]]:
        connection = self._connect()
        version = self._data_version(connection)
        if version is not None and version == self._version:
            return [self._own[n] for n in range(start, self._known) if n in self._own]
        lines = list(connection.execute(self._read, {"start": start}).scalars())
        self._version, self._known, self._own = version, start + len(lines), {}
        return lines

    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        with self._lock:
            for attempt in range(APPEND_ATTEMPTS):
                if self._append(logs):
                    return
                time.sleep(random.uniform(0, 0.002 * (attempt + 1)))  # noqa: S311 (jitter)
        raise RuntimeError(f"sweep {self.sweep_id}: the journal stayed contended")

    def _append(self, logs: list[dict[str, Any]]) -> bool:
        """Write at the end; False when another writer took those numbers first."""
        connection = self._connect()
        start = -1
        try:
            version = self._data_version(connection)
            if version is not None and version == self._version:
                start = self._known  # nobody else wrote since: the end is known
            else:
                start = connection.execute(self._length).scalar_one()
            if self._raw is not None and len(logs) == 1:  # what Optuna writes: to sqlite3
                self._raw.execute(SQLITE_INSERT, (self.sweep_id, start, json.dumps(logs[0])))
            else:  # one statement, so a batch is all or nothing in autocommit
                rows = [
                    {"sweep_id": self.sweep_id, "seq": start + i, "line": line}
                    for i, line in enumerate(logs)
                ]
                connection.execute(insert(SweepJournalLine).values(rows))
        except (IntegrityError, sqlite3.IntegrityError) as e:
            if connection.execute(self._length).scalar_one() == start:  # not a race
                raise GoneError(f"sweep {self.sweep_id} is gone: its journal is closed") from e
            return False
        except SQLAlchemyError:
            self._drop()
            raise
        if start == self._known:  # nobody else wrote since the last read: remember ours
            for line in logs:
                self._own[self._known] = line
                self._known += 1
        else:
            self._version = None  # read the store next time
        return True

    def _connect(self) -> Connection:
        if self._connection is None or self._connection.invalidated:
            self._connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            # the sqlite3 connection under SQLAlchemy's: Optuna's hot path skips the layers
            self._raw = self._connection.connection.driver_connection if self._sqlite else None
            self._version = None
        return self._connection

    def _data_version(self, connection: Connection) -> int | None:
        if self._raw is None:
            return None
        return self._raw.execute("PRAGMA data_version").fetchone()[0]

    def _drop(self) -> None:
        if self._connection is not None:
            self._connection.invalidate()
            self._connection.close()
        self._connection = self._raw = None

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
            self._connection = self._raw = None
