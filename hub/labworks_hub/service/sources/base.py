"""What every data source backend shares: the entries and tables it answers, the protocol it
keeps (backends.py states the rules) and JSON-safe values."""

from __future__ import annotations

import base64
import builtins
import math
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import IO, Any, BinaryIO, Protocol

from labworks_hub.service.access import Invalid, TooLarge

MAX_LIST = 1000
MAX_WALK = 10_000
CHUNK = 1 << 20


@dataclass(frozen=True)
class Entry:
    """One thing in a source. `kind`: file, dir (folder and s3), schema or table (postgres);
    `rows`: a table's row estimate."""

    path: str
    kind: str
    size: int | None = None
    modified: datetime | None = None
    rows: int | None = None


@dataclass(frozen=True)
class Table:
    """Rows of a query: `columns` as (name, type), values JSON-safe (`json_safe`)."""

    columns: builtins.list[tuple[str, str]]
    rows: builtins.list[builtins.list[Any]]
    truncated: bool


Entries = tuple[builtins.list[Entry], bool]


class SourceBackend(Protocol):
    """What the router, the snapshot and the preview need of a source (see the module's
    docstring for the rules every implementation keeps)."""

    kind: str

    def check(self) -> None:
        """Whether the source can be reached with its configuration and credentials."""

    def list(self, prefix: str, limit: int = MAX_LIST) -> Entries:
        """One level under `prefix`, sorted by path, at most `limit`; and whether more were left
        off."""

    def stat(self, path: str) -> Entry: ...

    def open(self, path: str) -> BinaryIO:
        """A readable, seekable file; the caller closes it."""

    def walk(self, prefix: str, max_files: int = MAX_WALK) -> Iterator[Entry]:
        """The files under `prefix` (or the file `prefix` names), at every depth; `Invalid`
        before the first one when there are more than `max_files`."""

    def presign(self, path: str, expires: int) -> str: ...

    def write(self, path: str, stream: IO[bytes], max_bytes: int) -> int:
        """Store the bytes of `stream` at `path`, replacing it; the size written."""

    def query(self, *, table: str | None, sql: str | None, limit: int) -> Table: ...

    def row_count(self, table: str, timeout_s: float = 1.0) -> int | None:
        """The exact count of `table` when it takes less than `timeout_s`; else None."""

    def close(self) -> None: ...


def json_safe(value: Any) -> Any:
    """`value` as JSON can carry it: dates and times ISO 8601, decimals and UUIDs as strings,
    bytes base64, NaN as null and infinities as strings; lists and dicts converted inside."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return value if math.isfinite(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, Decimal | uuid.UUID | timedelta):
        return str(value)
    return str(value)


class NoFiles:
    """What a database source answers to the calls on files."""

    def open(self, path: str) -> BinaryIO:
        raise Invalid("a database source has tables, not files: query a table")

    def walk(self, prefix: str, max_files: int = MAX_WALK) -> Iterator[Entry]:
        raise Invalid("a database source has tables, not files: snapshot a table or a query")

    def presign(self, path: str, expires: int) -> str:
        raise Invalid("a database source has no URLs: query a table")

    def write(self, path: str, stream: IO[bytes], max_bytes: int) -> int:
        raise Invalid("a database source is read-only")


class NoTables:
    """What a file source answers to the calls on tables."""

    def query(self, *, table: str | None, sql: str | None, limit: int) -> Table:
        raise Invalid("this source holds files, not tables: preview or read a file")

    def row_count(self, table: str, timeout_s: float = 1.0) -> int | None:
        return None


def copy_bounded(stream: IO[bytes], out: IO[bytes], max_bytes: int, path: str) -> int:
    size = 0
    while chunk := stream.read(CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise TooLarge(f"{path} is larger than the limit of {max_bytes} bytes")
        out.write(chunk)
    return size
