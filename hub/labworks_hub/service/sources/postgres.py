"""A data source in a PostgreSQL database: schemas, tables and read-only queries."""

from __future__ import annotations

import builtins
import math
import re
from typing import Any

from labworks_hub.service.access import Invalid, NotFound, Unavailable
from labworks_hub.service.sources.base import MAX_LIST, Entries, Entry, NoFiles, Table, json_safe

_TABLE_RE = re.compile(r"^([^.\s\"]+)\.([^\s\"]+)$")
_READS = ("select", "with", "values", "table")
_COMMENT = re.compile(r"\s+|--[^\n]*(\n|$)|/\*.*?\*/", re.DOTALL)


class PostgresBackend(NoFiles):
    """A PostgreSQL database: schemas at the root, tables and views in each.

    A query runs through a server-side cursor (so rows stream and at most `limit + 1` are
    fetched) in a READ ONLY transaction under `statement_timeout`; a cursor takes one SELECT,
    VALUES or TABLE statement and no data-modifying WITH, and the transaction refuses the
    writes a function would do. The role of the source should still be a read-only one (the
    administrator's guide says so): a superuser role could read server files through functions.
    One new connection per call, closed after it.
    """

    kind = "postgres"

    def __init__(
        self,
        host: str,
        port: int = 5432,
        dbname: str = "postgres",
        user: str = "",
        password: str | None = None,
        sslmode: str = "prefer",
        connect_timeout: float = 5,
        query_timeout: float = 30,
    ) -> None:
        if not host or not user:
            raise Invalid("a PostgreSQL source needs a host and a user")
        self.where = f"{host}:{port}"
        self.params: dict[str, Any] = {
            "host": host, "port": int(port), "dbname": dbname or "postgres", "user": user,
            "password": password or "", "sslmode": sslmode or "prefer",
            "connect_timeout": max(2, math.ceil(connect_timeout)),
            "application_name": "labworks-sources",
        }  # fmt: skip
        self.query_timeout = query_timeout

    def _connect(self, timeout_s: float | None = None) -> Any:
        """A new connection whose transactions are READ ONLY, in one begun with
        `statement_timeout` set (as SET LOCAL: a startup `options` would not pass PgBouncer)."""
        import psycopg

        try:
            conn = psycopg.connect(**self.params)
        except psycopg.OperationalError as e:
            reason = str(e).split("failed:", 1)[-1].strip().splitlines()[0]
            if "FATAL" in str(e):  # the server answered: a bad password, database or role
                raise Invalid(
                    f"PostgreSQL at {self.where} refused the connection: {reason}"
                ) from None
            raise Unavailable(f"PostgreSQL at {self.where} did not answer: {reason}") from None
        try:
            conn.read_only = True
            ms = int((timeout_s or self.query_timeout) * 1000)
            conn.execute("select set_config('statement_timeout', %s, true)", [f"{ms}ms"])
        except psycopg.Error as e:
            conn.close()
            raise self._refusal(e) from None
        return conn

    def _refusal(self, e: Exception, timeout_s: float | None = None) -> Exception:
        import psycopg
        from psycopg import errors

        message = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        if isinstance(e, errors.QueryCanceled):
            took = timeout_s or self.query_timeout
            return Unavailable(f"the query took longer than {took:g} s on {self.where}")
        if isinstance(e, errors.InsufficientPrivilege):
            return Invalid(f"the source's role may not do this: {message}")
        if isinstance(e, errors.ReadOnlySqlTransaction) or (
            isinstance(e, errors.FeatureNotSupported) and "data-modifying" in message
        ):
            return Invalid(f"cannot run a statement that writes: {message}")
        if isinstance(e, errors.UndefinedTable):
            return NotFound(f"{message} in {self.where}")
        if "multiple commands" in message:
            return Invalid("run one statement at a time")
        if isinstance(e, psycopg.OperationalError):
            return Unavailable(f"PostgreSQL at {self.where} failed: {message}")
        return Invalid(f"the database refused the query: {message}")

    def _run(self, statement: Any, limit: int, timeout_s: float | None = None) -> Table:
        import psycopg

        conn = self._connect(timeout_s)
        try:
            with conn.transaction():
                with conn.cursor(name="labworks_source") as cur:
                    cur.execute(statement)
                    fetched = cur.fetchmany(limit + 1)
                    description = cur.description or []
                oids = [column.type_code for column in description]
                types = dict(
                    conn.execute(
                        "select oid, format_type(oid, null) from pg_type where oid = any(%s)",
                        [oids],
                    ).fetchall()
                )
        except psycopg.Error as e:
            raise self._refusal(e, timeout_s) from None
        finally:
            conn.close()
        columns = [(c.name, types.get(c.type_code, "unknown")) for c in description]
        rows = [[json_safe(v) for v in row] for row in fetched[:limit]]
        return Table(columns, rows, truncated=len(fetched) > limit)

    def _fetch(self, query: str, *params: Any) -> builtins.list[tuple]:
        import psycopg

        conn = self._connect()
        try:
            return conn.execute(query, params).fetchall()
        except psycopg.Error as e:
            raise self._refusal(e) from None
        finally:
            conn.close()

    def check(self) -> None:
        self._fetch("select 1")

    def _table(self, table: str) -> tuple[str, str]:
        match = _TABLE_RE.match(table)
        if not match:
            raise Invalid(f"name a table as schema.table, not {table!r}")
        return match.group(1), match.group(2)

    def _schemas(self, name: str | None, limit: int) -> builtins.list[tuple]:
        """Schemas the role may use (one, or all but the system's)."""
        return self._fetch(
            "select nspname from pg_namespace where nspname not in ('pg_catalog', "
            "'information_schema') and nspname not like 'pg\\_toast%%' and nspname not like "
            "'pg\\_temp%%' and has_schema_privilege(oid, 'USAGE') "
            "and (%s::text is null or nspname = %s) order by 1 limit %s",
            name, name, limit,
        )  # fmt: skip

    def _tables(self, schema: str, name: str | None, limit: int) -> builtins.list[tuple]:
        """Tables and views of `schema` (one, or all) with the planner's row estimates."""
        return self._fetch(
            "select c.relname, c.reltuples::bigint, c.relkind from pg_class c join pg_namespace"
            " n on n.oid = c.relnamespace where n.nspname = %s and c.relkind in ('r', 'v', 'm',"
            " 'p', 'f') and (%s::text is null or c.relname = %s) order by 1 limit %s",
            schema, name, name, limit,
        )  # fmt: skip

    def list(self, prefix: str, limit: int = MAX_LIST) -> Entries:
        if not prefix:
            found = [Entry(name, "schema") for (name,) in self._schemas(None, limit + 1)]
        elif "." in prefix:
            raise Invalid(f"{prefix} is a table: list the root or a schema")
        else:
            found = [
                Entry(f"{prefix}.{name}", "table", rows=_estimate(rows, kind))
                for name, rows, kind in self._tables(prefix, None, limit + 1)
            ]
            if not found and not self._schemas(prefix, 1):
                raise NotFound(f"no schema {prefix} in this database")
        return found[:limit], len(found) > limit

    def stat(self, path: str) -> Entry:
        if not path:
            return Entry("", "dir")
        if "." not in path:
            if not self._schemas(path, 1):
                raise NotFound(f"no schema {path} in this database")
            return Entry(path, "schema")
        schema, name = self._table(path)
        found = self._tables(schema, name, 1)
        if not found:
            raise NotFound(f"no table {path} in this database")
        return Entry(path, "table", rows=_estimate(found[0][1], found[0][2]))

    def query(self, *, table: str | None, sql: str | None, limit: int) -> Table:
        from psycopg import sql as pgsql

        if (table is None) == (sql is None):
            raise Invalid("give a table or an SQL query, not both")
        if limit < 1:
            raise Invalid("the limit is at least 1")
        if table is not None:
            statement = pgsql.SQL("select * from {}").format(pgsql.Identifier(*self._table(table)))
            return self._run(statement, limit)
        text = _COMMENT.sub(" ", sql or "").strip().lstrip("(").lower()
        if not text:
            raise Invalid("the query is empty")
        if not text.startswith(_READS):
            first = text.split(None, 1)[0]
            raise Invalid(
                f"cannot run a statement that writes: {first.upper()} is not a query "
                "(run SELECT, WITH, VALUES or TABLE)"
            )
        return self._run(sql, limit)

    def row_count(self, table: str, timeout_s: float = 1.0) -> int | None:
        from psycopg import sql as pgsql

        statement = pgsql.SQL("select count(*) from {}").format(
            pgsql.Identifier(*self._table(table))
        )
        try:
            return int(self._run(statement, 1, timeout_s).rows[0][0])
        except Unavailable:
            return None

    def close(self) -> None:
        pass


def _estimate(rows: int | None, kind: str) -> int | None:
    """The planner's row estimate: none for views and never-analyzed tables (-1)."""
    return rows if kind in ("r", "m", "p") and rows is not None and rows >= 0 else None
