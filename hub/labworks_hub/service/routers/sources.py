"""Data sources over REST, the catalog: registering sources, their grants and access
requests, and the access audit of a source or a dataset. Reading a source's data is
source_data.py.

Who may do what is decided in sources/catalog.py; this module translates HTTP.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request, Response

from ..access import Refused, Viewer
from ..auth import viewer
from ..jobs.notify import Notice
from ..sources import audit, catalog
from ..sources.models import (
    AccessRequestCreate,
    AccessRequestList,
    AccessRequestModel,
    AuditReport,
    GrantList,
    GrantModel,
    GrantRequest,
    SourceCreate,
    SourceList,
    SourceModel,
    SourceUpdate,
)
from ..sources.service import DataSources
from ..store import datasets as dataset_store
from ..store.models import utcnow
from .datasets import Name, Owner
from .jobs_common import service_of
from .sources_common import SourceName, data_sources, sources_of, store_of

log = logging.getLogger(__name__)


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

# --- the catalog ------------------------------------------------------------------------------


@router.get("/sources", response_model=SourceList)
async def list_sources(request: Request, who: Viewer = Depends(viewer)) -> SourceList:
    """Every registered source (its name, kind, owner, description, tags) with your access to
    it: owner, write, read or none. Never its credentials."""
    found = await store_of(request).run(catalog.list_sources, who)
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
    made = await store_of(request).run(
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
    found = await store_of(request).run(catalog.requests, who)
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

    return SourceModel(**await store_of(request).run(work))


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
    source = await store_of(request).run(catalog.require, who, name, catalog.MANAGE)
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
    updated = await store_of(request).run(catalog.update, who, name, changes)
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
    await store_of(request).run(catalog.remove, who, name)
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
    found = await store_of(request).run(catalog.grants, who, name)
    return GrantList(grants=[_grant(g) for g in found])


@router.put("/sources/{name}/grants", response_model=GrantModel)
async def put_grant(
    request: Request, body: GrantRequest, name: str = SourceName, who: Viewer = Depends(viewer)
) -> GrantModel:
    """Give a user (`user:ana`) or a group (`group:ml`) read or write access, or change theirs;
    a user's pending request is answered by it. The owner or an administrator."""
    made = await store_of(request).run(
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
    await store_of(request).run(catalog.revoke, who, name, principal)


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
    asked, source, new = await store_of(request).run(
        catalog.ask, who, name, body.access, body.reason
    )
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
        sources.tell_later(
            store_of(request), service_of(request.app).notifiers, source.owner, notice
        )
    return answer


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

    return _audit_answer(await store_of(request).run(work), format, request, name)


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

    return _audit_answer(await store_of(request).run(work), format, request, f"{owner}-{name}")
