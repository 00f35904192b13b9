"""Data sources over REST, their data: browsing, previews, object reads (streamed, or presigned
URLs for S3), writes, read-only queries, and snapshots of a source into a dataset version.
Each access is decided and audited by `SourceAccess` (sources_common.py).
"""

from __future__ import annotations

import asyncio
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import asdict
from datetime import timedelta
from typing import IO, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import RedirectResponse, StreamingResponse

from ..access import Invalid, Unavailable, Viewer
from ..auth import viewer
from ..jobs.artifacts import ArtifactError, ArtifactStore
from ..sources.backends import Entry
from ..sources.models import (
    Column,
    EntryList,
    EntryModel,
    PreviewModel,
    QueryRequest,
    SignedURL,
    SnapshotRequest,
    TableModel,
    Written,
)
from ..sources.paths import clean_path
from ..sources.preview import preview as make_preview
from ..sources.service import DataSources
from ..sources.snapshot import snapshot_files, snapshot_query
from ..store import Store
from ..store import datasets as dataset_store
from ..store.models import utcnow
from ..store.sources import S3
from .datasets import BINARY, TOO_LARGE, Name, Owner, VersionDetail, version_detail
from .sources_common import SourceAccess, SourceName, data_sources, store_of

router = APIRouter(tags=["sources"])
CHUNK = 1024 * 1024
ObjectPath = Path(description="The object's path in the source.", max_length=1024)
PathQuery = Query(..., max_length=1024, description="A path in the source.")
RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _entry(entry: Entry) -> EntryModel:
    return EntryModel(**asdict(entry))


def _columns(columns: list[Any]) -> list[Column]:
    return [
        Column(name=c[0], type=c[1]) if isinstance(c, tuple | list) else Column(**c)
        for c in columns
    ]


@router.get("/sources/{name}/list", response_model=EntryList)
async def list_entries(
    request: Request,
    name: str = SourceName,
    prefix: str = Query("", max_length=1024, description="A folder or a schema; '' the top."),
    who: Viewer = Depends(viewer),
) -> EntryList:
    """One level under `prefix`: files and folders (object stores, folders), or schemas and
    then tables (databases), at most 1,000."""
    path = clean_path(prefix)
    access = SourceAccess(request, who, name, "list", path)
    backend = await access.allow()
    entries, truncated = await access.run(backend.list, path)
    await access.record()
    return EntryList(entries=[_entry(e) for e in entries], truncated=truncated)


@router.get("/sources/{name}/stat", response_model=EntryModel)
async def stat_entry(
    request: Request, name: str = SourceName, path: str = PathQuery, who: Viewer = Depends(viewer)
) -> EntryModel:
    """One file, folder or table; 404 when it is not there."""
    cleaned = clean_path(path)
    access = SourceAccess(request, who, name, "stat", cleaned)
    backend = await access.allow()
    found = await access.run(backend.stat, cleaned)
    await access.record()
    return _entry(found)


@router.get("/sources/{name}/preview", response_model=PreviewModel)
async def preview(
    request: Request,
    name: str = SourceName,
    path: str = PathQuery,
    limit: int = Query(50, ge=1, le=500),
    who: Viewer = Depends(viewer),
    sources: DataSources = Depends(data_sources),
) -> PreviewModel:
    """The first rows of a CSV, Parquet or JSON-lines file or of a table (with its columns and,
    where cheap, its row count), a text's beginning or an image's thumbnail. Reads at most
    `max_preview_bytes` of any object, so a 10 GB file previews as fast as a small one."""
    cleaned = clean_path(path)
    access = SourceAccess(request, who, name, "preview", cleaned)
    backend = await access.allow()
    shown = await access.run(make_preview, backend, cleaned, limit, sources.max_preview_bytes)
    await access.record(rows=len(shown.rows))
    fields = asdict(shown)
    return PreviewModel(**{**fields, "columns": _columns(fields["columns"])})


@router.get("/sources/{name}/url", response_model=SignedURL)
async def signed_url(
    request: Request,
    name: str = SourceName,
    path: str = PathQuery,
    who: Viewer = Depends(viewer),
    sources: DataSources = Depends(data_sources),
) -> SignedURL:
    """A presigned URL that reads this one object for `url_lifetime` seconds (S3 sources): how
    the SDK reads objects straight from the store. Audited with the object's size."""
    cleaned = clean_path(path)
    access = SourceAccess(request, who, name, "url", cleaned)
    backend = await access.allow()
    if backend.kind != S3:
        await access.record(reason="failed: not an S3 source")
        raise Invalid(f"source {name!r} is a {backend.kind} source: read it through /objects")
    entry = await access.run(backend.stat, cleaned)
    if entry.kind != "file":
        await access.record(reason="failed: not a file")
        raise Invalid(f"{cleaned or '/'} in source {name!r} is a {entry.kind}, not a file")
    url = await access.run(backend.presign, cleaned, sources.url_lifetime)
    await access.record(bytes=entry.size)
    expires = utcnow() + timedelta(seconds=sources.url_lifetime)
    return SignedURL(url=url, expires_at=expires, size=entry.size)


@router.get(
    "/sources/{name}/objects/{path:path}",
    response_class=StreamingResponse,
    responses={200: {"content": BINARY}, 206: {"content": BINARY}, 307: {}, 416: {}},
)
async def read_object(
    request: Request,
    name: str = SourceName,
    path: str = ObjectPath,
    redirect: bool = Query(False, description="S3 sources: answer 307 to a presigned URL."),
    who: Viewer = Depends(viewer),
    sources: DataSources = Depends(data_sources),
) -> Response:
    """The object's bytes, streamed; one `Range: bytes=a-b` gives 206. Audited with the bytes
    sent once the answer ends."""
    cleaned = clean_path(path)
    access = SourceAccess(request, who, name, "read", cleaned)
    backend = await access.allow()
    if redirect and backend.kind == S3:
        entry = await access.run(backend.stat, cleaned)
        url = await access.run(backend.presign, cleaned, sources.url_lifetime)
        await access.record(bytes=entry.size)
        return RedirectResponse(url, status_code=307)
    entry = await access.run(backend.stat, cleaned)
    if entry.kind != "file" or entry.size is None:
        await access.record(reason="failed: not a file")
        raise Invalid(f"{cleaned or '/'} in source {name!r} is a {entry.kind}, not a file")
    size = entry.size
    start, end = _range(request.headers.get("range"), size)
    if (start >= size and size > 0) or start > end + 1:
        return Response(status_code=416, headers={"Content-Range": f"bytes */{size}"})
    stream = await access.run(backend.open, cleaned)
    headers = {"Content-Length": str(end - start + 1), "Accept-Ranges": "bytes"}
    partial = request.headers.get("range") is not None
    if partial:
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    store = store_of(request)
    return StreamingResponse(
        _send(stream, start, end - start + 1, lambda sent: _record_sync(store, access, sent)),
        status_code=206 if partial else 200,
        media_type="application/octet-stream",
        headers=headers,
    )


def _range(header: str | None, size: int) -> tuple[int, int]:
    """(first, last) byte of a single-range `Range` header, else the whole object."""
    found = RANGE_RE.match(header.strip()) if header else None
    if found is None:
        return 0, size - 1
    first, last = found.groups()
    if not first:  # the last N bytes
        count = int(last or 0)
        return max(size - count, 0), size - 1
    return int(first), min(int(last), size - 1) if last else size - 1


def _send(
    stream: IO[bytes], start: int, length: int, done: Callable[[int], None]
) -> Iterator[bytes]:
    """`length` bytes from `start` in CHUNK pieces (Starlette iterates this in a thread); then
    the count is recorded, however the answer ended."""
    sent = 0
    try:
        with stream:
            if start:
                stream.seek(start)
            while sent < length:
                chunk = stream.read(min(CHUNK, length - sent))
                if not chunk:
                    break
                sent += len(chunk)
                yield chunk
    finally:
        done(sent)


def _record_sync(store: Store, access: SourceAccess, sent: int) -> None:
    with store.session() as session:
        access.record_in(session, True, "", {"bytes": sent})


@router.put(
    "/sources/{name}/objects/{path:path}",
    response_model=Written,
    responses=TOO_LARGE,
    openapi_extra={"requestBody": {"required": True, "content": BINARY}},
)
async def write_object(
    request: Request, name: str = SourceName, path: str = ObjectPath, who: Viewer = Depends(viewer)
) -> Written:
    """Write an object (the raw body) at `path`, replacing one there: write access needed.
    413 over the platform's blob size limit."""
    cleaned = clean_path(path)
    if not cleaned:
        raise Invalid("give the path of the object to write")
    access = SourceAccess(request, who, name, "write", cleaned)
    backend = await access.allow("write")
    limit = request.app.state.artifacts.max_blob_size
    with tempfile.TemporaryFile(prefix="lw-source-") as spool:
        async for chunk in request.stream():
            spool.write(chunk)
        spool.seek(0)
        size = await access.run(backend.write, cleaned, spool, limit)
    await access.record(bytes=size)
    return Written(path=cleaned, size=size)


@router.post("/sources/{name}/query", response_model=TableModel)
async def query(
    request: Request,
    body: QueryRequest,
    name: str = SourceName,
    who: Viewer = Depends(viewer),
    sources: DataSources = Depends(data_sources),
) -> TableModel:
    """A table's first rows (`table`) or one read-only statement's (`sql`), at most `limit`
    (and `max_rows`). Runs in a read-only transaction with the query timeout: a statement that
    writes is a 400, a source that does not answer a 503."""
    if (body.table is None) == (body.sql is None):
        raise Invalid("give either table or sql")
    access = SourceAccess(request, who, name, "query", body.table or body.sql or "")
    backend = await access.allow()
    limit = min(body.limit, sources.max_rows)
    table = await access.run(lambda: backend.query(table=body.table, sql=body.sql, limit=limit))
    await access.record(rows=len(table.rows))
    return TableModel(
        columns=_columns(table.columns), rows=table.rows, row_count=len(table.rows),
        truncated=table.truncated,
    )  # fmt: skip


@router.post(
    "/datasets/{owner}/{name}/snapshot",
    response_model=VersionDetail,
    status_code=201,
    responses={200: {"model": VersionDetail, "description": "The latest version already is it."}},
)
async def snapshot(
    request: Request,
    response: Response,
    body: SnapshotRequest,
    owner: str = Owner,
    name: str = Name,
    who: Viewer = Depends(viewer),
    sources: DataSources = Depends(data_sources),
) -> VersionDetail:
    """Copy what a source holds under `prefix` (or a table's or query's rows, as Parquet) into a
    new version of your dataset, created (private) if missing: an immutable copy that runs can
    name exactly, whatever the source does next. 200 when the latest version is the same."""
    dataset_store.check_owner(who, owner, name)
    if sum(x is not None for x in (body.prefix, body.table, body.sql)) != 1:
        raise Invalid("give one of prefix, table or sql")
    artifacts: ArtifactStore = request.app.state.artifacts
    blobs = dataset_store.blob_prefix(owner, name)
    what = body.prefix if body.prefix is not None else body.table or body.sql or ""
    cleaned = clean_path(body.prefix) if body.prefix is not None else what
    access = SourceAccess(request, who, body.source, "snapshot", cleaned)
    backend = await access.allow()
    try:
        if body.prefix is not None:
            files = await access.run(snapshot_files, backend, cleaned, artifacts, blobs)
            rows = None
        else:
            limit = min(body.limit, sources.max_rows)
            files, rows = await access.run(
                snapshot_query, backend, body.table, body.sql, limit, artifacts, blobs
            )
    except ArtifactError as e:
        raise Unavailable(str(e)) from None
    await access.record(bytes=sum(f.size for f in files), rows=rows)
    held = await asyncio.to_thread(artifacts.sizes, blobs)
    message = body.message or f"snapshot of {body.source}/{what}"[:2000]

    def work(session) -> tuple[VersionDetail, bool]:
        version, new = dataset_store.create_version(
            session, who, owner, name, files, held, message=message
        )
        return version_detail(version.dataset, version), new

    detail, new = await store_of(request).run(work)
    if not new:
        response.status_code = 200
    return detail
