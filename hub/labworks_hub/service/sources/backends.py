"""Reading data sources: a folder on the platform host, an S3 bucket's prefix, a PostgreSQL
database. Pure I/O, no FastAPI and no store: every read is bounded and every network call has a
timeout, so a dead endpoint is a quick `Unavailable`, never a hung request.

The contract of a `SourceBackend`:
- Paths are relative to the source's root and already checked by `paths.clean_path`; a backend
  never reaches outside its root (a folder never follows a symbolic link, an S3 key always
  starts with the source's prefix). A table of a database is `schema.table`.
- Failures are `access.Refused` kinds: `Invalid` for what the caller or the configuration got
  wrong (the message says what), `NotFound` for a missing path, `TooLarge` over a write's
  limit, `Unavailable` for a source that did not answer (naming the endpoint). Messages never
  hold credentials.
- A backend holds no connection between calls (PostgreSQL opens one per call, a folder one
  descriptor per call) and may be shared by threads (s3fs runs its calls on its own event-loop
  thread); `close()` releases what it holds.
"""

from __future__ import annotations

from typing import Any

from labworks_hub.service.access import Invalid
from labworks_hub.service.sources.base import Entry, SourceBackend, Table, json_safe
from labworks_hub.service.sources.folder import FolderBackend
from labworks_hub.service.sources.postgres import PostgresBackend
from labworks_hub.service.sources.s3 import S3Backend

__all__ = [
    "Entry",
    "FolderBackend",
    "PostgresBackend",
    "S3Backend",
    "SourceBackend",
    "Table",
    "backend_for",
    "json_safe",
]


def backend_for(
    kind: str,
    config: dict[str, Any],
    credentials: dict[str, Any],
    *,
    connect_timeout: float = 5,
    query_timeout: float = 30,
) -> SourceBackend:
    """The backend of a source of `kind` with its configuration and (opened) credentials."""
    try:
        if kind == "folder":
            return FolderBackend(config["path"])
        if kind == "s3":
            return S3Backend(
                config["bucket"], config.get("prefix") or "", config.get("endpoint_url"),
                config.get("region"), credentials.get("access_key_id"),
                credentials.get("secret_access_key"), credentials.get("session_token"),
                connect_timeout=connect_timeout, read_timeout=query_timeout,
            )  # fmt: skip
        if kind == "postgres":
            return PostgresBackend(
                config["host"], int(config.get("port") or 5432), config.get("dbname") or "",
                config.get("user") or "", credentials.get("password"),
                config.get("sslmode") or "prefer", connect_timeout, query_timeout,
            )  # fmt: skip
    except KeyError as e:
        raise Invalid(f"a {kind} source needs {e.args[0]} in its configuration") from None
    raise Invalid(f"unknown kind of source {kind!r}: folder, s3 or postgres")
