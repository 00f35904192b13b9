"""The access audit: one row per access to a source's object or table, allowed or refused, and
per read of a dataset's file; what owners see per user and per object.

A refusal is recorded in a transaction of its own (the refused request's rolls back), and a
streamed read is recorded when its last byte is sent, with the bytes that were.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from ..store.sources import SourceAuditEntry

MAX_ENTRIES = 1000
CSV_COLUMNS = ("at", "user", "action", "object", "bytes", "rows", "allowed", "reason", "origin")
READS = ("read", "url", "query", "preview", "snapshot")  # what counts as a read in usage
ORIGIN_CHARS = 200


def dataset_key(owner: str, name: str) -> str:
    """How the audit names a dataset: `dataset:<owner>/<name>`."""
    return f"dataset:{owner}/{name}"


def clean_origin(text: str | None) -> str:
    """The caller's `X-Labworks-Origin` (`workspace:<user>/<server>`, `job:<id>`) as given, cut
    to 200 printable characters: the caller's own account of where it called from."""
    return "".join(c for c in (text or "") if c.isprintable())[:ORIGIN_CHARS]


def record(
    session: Session, *, source: str, user: str, action: str, object: str = "",
    bytes: int | None = None, rows: int | None = None, allowed: bool = True, reason: str = "",
    origin: str = "", at: datetime | None = None,
) -> None:  # fmt: skip
    entry = SourceAuditEntry(
        source=source, user=user, action=action, object=object, bytes=bytes, rows=rows,
        allowed=allowed, reason=reason, origin=origin,
    )  # fmt: skip
    if at is not None:
        entry.at = at
    session.add(entry)


def report(session: Session, source: str, since: datetime | None) -> dict[str, Any]:
    """The newest entries and the usage per user and per object since `since` (all time)."""
    where = [SourceAuditEntry.source == source]
    if since is not None:
        where.append(SourceAuditEntry.at >= since)
    entry = SourceAuditEntry
    newest = session.scalars(
        select(entry).where(*where).order_by(entry.at.desc(), entry.id.desc()).limit(MAX_ENTRIES)
    )
    is_read = entry.allowed & entry.action.in_(READS)
    read_count = func.sum(case((is_read, 1), else_=0))
    byte_sum = func.coalesce(func.sum(case((is_read, entry.bytes), else_=0)), 0)
    row_sum = func.coalesce(func.sum(case((is_read, entry.rows), else_=0)), 0)
    refused = func.sum(case((entry.allowed, 0), else_=1))
    by_user = session.execute(
        select(entry.user, read_count, byte_sum, row_sum, refused)
        .where(*where).group_by(entry.user).order_by(byte_sum.desc(), entry.user)
    )  # fmt: skip
    by_object = session.execute(
        select(entry.object, read_count, byte_sum, row_sum)
        .where(*where, is_read).group_by(entry.object)
        .order_by(byte_sum.desc(), entry.object).limit(MAX_ENTRIES)
    )  # fmt: skip
    return {
        "source": source,
        "entries": [_entry(e) for e in newest],
        "by_user": [
            {"user": u, "reads": int(r or 0), "bytes": int(b), "rows": int(n), "refused": int(x)}
            for u, r, b, n, x in by_user
        ],
        "by_object": [
            {"object": o, "reads": int(r or 0), "bytes": int(b), "rows": int(n)}
            for o, r, b, n in by_object
        ],
    }


def _entry(e: SourceAuditEntry) -> dict[str, Any]:
    return {column: getattr(e, column) for column in CSV_COLUMNS}


def report_csv(found: dict[str, Any]) -> str:
    """The entries as CSV, a header row first; text a spreadsheet would run as a formula is
    quoted."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for entry in found["entries"]:
        writer.writerow([_cell(entry[column]) for column in CSV_COLUMNS])
    return out.getvalue()


def _cell(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return "" if value is None else value
