"""Data sources over REST: the catalog, grants and access requests, browsing, previews, object
reads (streamed, or presigned URLs for S3), read-only queries, writes, the access audit, and
snapshots of a source into a dataset version.

Who may do what is decided in sources/catalog.py; the I/O is sources/backends.py; this module
translates HTTP and writes the audit row of every access, refusals included.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import IO, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request, Response
from fastapi.responses import RedirectResponse, StreamingResponse

from ..access import NAME_RE, Forbidden, Invalid, Refused, Unavailable, Viewer
from ..auth import viewer
from ..jobs.artifacts import ArtifactError, ArtifactStore
from ..jobs.notify import Notice
from ..sources import audit, catalog
from ..sources.backends import Entry, SourceBackend
from ..sources.models import (
    AccessRequestCreate,
    AccessRequestList,
    AccessRequestModel,
    AuditReport,
    Column,
    EntryList,
    EntryModel,
    GrantList,
    GrantModel,
    GrantRequest,
    PreviewModel,
    QueryRequest,
    SignedURL,
    SnapshotRequest,
    SourceCreate,
    SourceList,
    SourceModel,
    SourceUpdate,
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
from ..store.sources import S3, DataSource
from .datasets import BINARY, TOO_LARGE, Name, Owner, VersionDetail, _detail
from .jobs_common import service_of

log = logging.getLogger(__name__)
T = TypeVar("T")
CHUNK = 1024 * 1024
SourceName = Path(pattern=NAME_RE.pattern, description="The source's name.")
ObjectPath = Path(description="The object's path in the source.", max_length=1024)
PathQuery = Query(..., max_length=1024, description="A path in the source.")
RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")


def sources_of(app: FastAPI) -> DataSources:
    """The sources' configuration and backends, made on first use with the platform's config."""
    found = getattr(app.state, "data_sources", None)
    if found is None:
        config = service_of(app).config
        found = app.state.data_sources = DataSources(
            config=config, state_dir=app.state.settings.state_dir
        )
    return found


def data_sources(request: Request) -> DataSources:
    return sources_of(request.app)


@asynccontextmanager
async def _sources_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Register the sources the config declares (or bring them up to date), then close the
    backends at the end."""
    sources = sources_of(app)
    try:
        declared = sources.declared(os.environ)
        await app.state.store.run(catalog.declare, declared, sources.secrets)
    except Refused as e:  # the service runs on; the log says what to fix
        log.error("Data sources from the config not registered: %s", e.message)
    try:
        yield
    finally:
        sources.close()


router = APIRouter(tags=["sources"], lifespan=_sources_lifespan)


# --- helpers ----------------------------------------------------------------------------------


def _store(request: Request) -> Store:
    return request.app.state.store


def _origin(request: Request) -> str:
    return audit.clean_origin(request.headers.get("x-labworks-origin"))


class _Access:
    """One access to one source: decides it (recording a refusal), runs its I/O off the event
    loop, and records what it did."""

    def __init__(self, request: Request, who: Viewer, name: str, action: str, obj: str) -> None:
        self.request, self.who, self.name, self.action, self.object = (
            request, who, name, action, obj,
        )  # fmt: skip
        self.sources = sources_of(request.app)
        self.source: DataSource | None = None

    async def allow(self, need: str = "read") -> SourceBackend:
        try:
            self.source = await _store(self.request).run(catalog.require, self.who, self.name, need)
        except Forbidden as e:
            await self.record(allowed=False, reason=e.message)
            raise
        return self.sources.backend(self.source)

    async def run(self, work: Callable[..., T], *args: Any) -> T:
        """`work(*args)` in a thread; a failure is recorded and answered by its kind (an
        unexpected one as 503 naming the source, its detail in the log only)."""
        try:
            return await asyncio.to_thread(work, *args)
        except Refused as e:
            await self.record(reason=f"failed: {e.message}")
            if isinstance(e, Unavailable):  # a source that does not answer: say which
                raise Unavailable(f"source {self.name!r}: {e.message}") from None
            raise
        except Exception as e:  # a driver's error: its text may name hosts, never shown
            log.warning("Source %s: %s of %r failed: %r", self.name, self.action, self.object, e)
            await self.record(reason=f"failed: {type(e).__name__}")
            raise Unavailable(
                f"source {self.name!r} failed to answer ({type(e).__name__}); try again, or"
                " ask its owner to check it"
            ) from None

    async def record(self, allowed: bool = True, reason: str = "", **counts: Any) -> None:
        await _store(self.request).run(self.record_in, allowed, reason, counts)

    def record_in(self, session: Any, allowed: bool, reason: str, counts: dict) -> None:
        audit.record(
            session, source=self.name, user=self.who.name or "(service)", action=self.action,
            object=self.object, allowed=allowed, reason=reason, origin=_origin(self.request),
            **counts,
        )  # fmt: skip


def _entry(entry: Entry) -> EntryModel:
    return EntryModel(**asdict(entry))


def _columns(columns: list[Any]) -> list[Column]:
    return [
        Column(name=c[0], type=c[1]) if isinstance(c, tuple | list) else Column(**c)
        for c in columns
    ]


# --- the catalog ------------------------------------------------------------------------------


@router.get("/sources", response_model=SourceList)
async def list_sources(request: Request, who: Viewer = Depends(viewer)) -> SourceList:
    """Every registered source (its name, kind, owner, description, tags) with your access to
    it: owner, write, read or none. Never its credentials."""
    found = await _store(request).run(catalog.list_sources, who)
    return SourceList(sources=[SourceModel(**s) for s in found])


@router.post("/sources", response_model=SourceModel, status_code=201)
async def create_source(
    request: Request,
    body: SourceCreate,
    who: Viewer = Depends(viewer),
    sources: DataSources = Depends(data_sources),
) -> SourceModel:
    """Register a source. Administrators register any kind (folders only they); members of the
    registrars group (`data-owners`) register s3 and postgres sources. The platform tries the
    source first: 400 with the reason when it cannot use it (nothing is stored). Credentials
    are sealed with the platform's key and never answered."""
    catalog.may_register(who, body.kind, sources.registrars_group)
    config, credentials = sources.checked(body.kind, body.config, body.credentials)
    await sources.check_reachable(who, body.kind, config, credentials)
    sealed = sources.secrets.seal(credentials) if credentials else ""
    made = await _store(request).run(
        lambda s: catalog.create(
            s, who, name=body.name, kind=body.kind, owner=body.owner or who.name,
            description=body.description, tags=body.tags, config=config, credentials=sealed,
        )
    )  # fmt: skip
    return SourceModel(**made)


@router.get("/sources/requests", response_model=AccessRequestList)
async def list_requests(request: Request, who: Viewer = Depends(viewer)) -> AccessRequestList:
    """Access requests on the sources you manage (grant them with PUT .../grants) and your own;
    pending first."""
    found = await _store(request).run(catalog.requests, who)
    return AccessRequestList(requests=[_request(r, name) for r, name in found])


def _request(request: Any, source: str) -> AccessRequestModel:
    return AccessRequestModel(
        id=request.id, source=source, user=request.user, access=request.access,
        reason=request.reason, status=request.status, created_at=request.created_at,
        decided_by=request.decided_by, decided_at=request.decided_at,
    )  # fmt: skip


@router.get("/sources/{name}", response_model=SourceModel)
async def show_source(
    request: Request, name: str = SourceName, who: Viewer = Depends(viewer)
) -> SourceModel:
    """One source with your access to it; 404 when there is none of that name."""

    def work(session) -> dict:
        source = catalog.get(session, name)
        return catalog.describe(source, catalog.access_of(session, who, source))

    return SourceModel(**await _store(request).run(work))


@router.patch("/sources/{name}", response_model=SourceModel)
async def update_source(
    request: Request,
    body: SourceUpdate,
    name: str = SourceName,
    who: Viewer = Depends(viewer),
    sources: DataSources = Depends(data_sources),
) -> SourceModel:
    """Change the description, tags, config or credentials (the owner or an administrator); a
    new config or new credentials are tried as at registration."""
    source = await _store(request).run(catalog.require, who, name, catalog.MANAGE)
    changes: dict[str, Any] = body.model_dump(include={"description", "tags"}, exclude_none=True)
    if body.config is not None or body.credentials is not None:
        old = sources.secrets.open(source.credentials)
        config, credentials = sources.checked(
            source.kind, body.config if body.config is not None else source.config,
            body.credentials if body.credentials is not None else old or None,
        )  # fmt: skip
        await sources.check_reachable(who, source.kind, config, credentials)
        changes["config"] = config
        changes["credentials"] = sources.secrets.seal(credentials) if credentials else ""
    updated = await _store(request).run(catalog.update, who, name, changes)
    sources.forget(name)
    return SourceModel(**updated)


@router.delete("/sources/{name}", status_code=204)
async def delete_source(
    request: Request,
    name: str = SourceName,
    who: Viewer = Depends(viewer),
    sources: DataSources = Depends(data_sources),
) -> None:
    """Remove the source from the catalog with its grants and requests (the owner or an
    administrator). Its data is not touched; its audit stays."""
    await _store(request).run(catalog.remove, who, name)
    sources.forget(name)


# --- grants and requests ----------------------------------------------------------------------


def _grant(g: Any) -> GrantModel:
    return GrantModel(
        principal=g.principal, access=g.access, granted_by=g.granted_by, granted_at=g.granted_at
    )


@router.get("/sources/{name}/grants", response_model=GrantList)
async def list_grants(
    request: Request, name: str = SourceName, who: Viewer = Depends(viewer)
) -> GrantList:
    """Who has read or write access (the owner or an administrator)."""
    found = await _store(request).run(catalog.grants, who, name)
    return GrantList(grants=[_grant(g) for g in found])


@router.put("/sources/{name}/grants", response_model=GrantModel)
async def put_grant(
    request: Request, body: GrantRequest, name: str = SourceName, who: Viewer = Depends(viewer)
) -> GrantModel:
    """Give a user (`user:ana`) or a group (`group:ml`) read or write access, or change theirs;
    a user's pending request is answered by it. The owner or an administrator."""
    made = await _store(request).run(
        catalog.grant, who, name, body.principal, body.access, utcnow()
    )
    return _grant(made)


@router.delete("/sources/{name}/grants/{principal}", status_code=204)
async def delete_grant(
    request: Request,
    name: str = SourceName,
    principal: str = Path(pattern=r"^(user|group):[a-z0-9][a-z0-9._-]{0,62}$"),
    who: Viewer = Depends(viewer),
) -> None:
    """Take a grant back; 404 when there is none."""
    await _store(request).run(catalog.revoke, who, name, principal)


@router.post("/sources/{name}/requests", response_model=AccessRequestModel, status_code=201)
async def request_access(
    request: Request,
    body: AccessRequestCreate,
    name: str = SourceName,
    who: Viewer = Depends(viewer),
    sources: DataSources = Depends(data_sources),
) -> AccessRequestModel:
    """Ask the owner for read or write access: they are told through their notification
    settings and see it in the Data panel. Asking again updates your pending request."""
    asked, source, new = await _store(request).run(catalog.ask, who, name, body.access, body.reason)
    answer = _request(asked, name)
    if new:
        text = (
            f"{who.name} asks for {body.access} access to data source {name}"
            + (f": {body.reason}" if body.reason else ".")
            + f" Grant it in the Data panel or with: labworks sources grant {name} {who.name}"
            + (" --write" if body.access == "write" else "")
        )
        notice = Notice(
            "source.access_request", f"Labworks: {who.name} asks for access to {name}", text,
            {"source": name, "user": who.name, "access": body.access, "reason": body.reason,
             "message": text},
        )  # fmt: skip
        sources.tell_later(_store(request), service_of(request.app).notifiers, source.owner, notice)
    return answer


# --- reading ----------------------------------------------------------------------------------


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
    access = _Access(request, who, name, "list", path)
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
    access = _Access(request, who, name, "stat", cleaned)
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
    access = _Access(request, who, name, "preview", cleaned)
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
    access = _Access(request, who, name, "url", cleaned)
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
    access = _Access(request, who, name, "read", cleaned)
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
    store = _store(request)
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


def _record_sync(store: Store, access: _Access, sent: int) -> None:
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
    access = _Access(request, who, name, "write", cleaned)
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
    access = _Access(request, who, name, "query", body.table or body.sql or "")
    backend = await access.allow()
    limit = min(body.limit, sources.max_rows)
    table = await access.run(lambda: backend.query(table=body.table, sql=body.sql, limit=limit))
    await access.record(rows=len(table.rows))
    return TableModel(
        columns=_columns(table.columns), rows=table.rows, row_count=len(table.rows),
        truncated=table.truncated,
    )  # fmt: skip


# --- the audit --------------------------------------------------------------------------------


def _audit_answer(found: dict, format: str | None, request: Request, name: str) -> Any:
    wants_csv = format == "csv" or (
        format is None and "text/csv" in request.headers.get("accept", "")
    )
    if wants_csv:
        filename = re.sub(r"[^A-Za-z0-9._-]", "-", f"labworks-audit-{name}.csv")
        return Response(
            audit.report_csv(found),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    return AuditReport.model_validate(found)


CSV_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}}
}


@router.get("/sources/{name}/audit", response_model=AuditReport, responses=CSV_ANSWER)
async def source_audit(
    request: Request,
    name: str = SourceName,
    since: datetime | None = Query(None, description="Only accesses from then on."),
    format: Literal["json", "csv"] | None = Query(None, description="csv: a CSV file."),
    who: Viewer = Depends(viewer),
):
    """Every access to the source, refusals included (who, what, bytes or rows, when, from
    where), newest first, and the usage per user and per object. The owner or an
    administrator."""

    def work(session) -> dict:
        catalog.require(session, who, name, catalog.MANAGE)
        return audit.report(session, name, since)

    return _audit_answer(await _store(request).run(work), format, request, name)


@router.get("/datasets/{owner}/{name}/audit", response_model=AuditReport, responses=CSV_ANSWER)
async def dataset_audit(
    request: Request,
    owner: str = Owner,
    name: str = Name,
    since: datetime | None = Query(None, description="Only reads from then on."),
    format: Literal["json", "csv"] | None = Query(None, description="csv: a CSV file."),
    who: Viewer = Depends(viewer),
):
    """Who read the dataset's files (bytes, when, from where); its owner only."""

    def work(session) -> dict:
        dataset_store.owned(session, who, owner, name)
        return audit.report(session, audit.dataset_key(owner, name), since)

    return _audit_answer(await _store(request).run(work), format, request, f"{owner}-{name}")


# --- snapshots --------------------------------------------------------------------------------


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
    access = _Access(request, who, body.source, "snapshot", cleaned)
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
        return _detail(version.dataset, version), new

    detail, new = await _store(request).run(work)
    if not new:
        response.status_code = 200
    return detail
