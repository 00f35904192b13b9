"""The notebook gallery: publish a notebook read-only to a group, list, read and diff versions.

Who may see or publish what is decided in the store (store/gallery.py), never here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field

from ..access import Viewer
from ..auth import viewer
from ..store import Store
from ..store import gallery as store_gallery
from ..store.models import GalleryEntry, GalleryVersion
from ..validation import Text, parse_body

router = APIRouter(tags=["gallery"])
MAX_ID = 2**31 - 1  # ids and numbers are INTEGER columns: a larger one names nothing
EntryId = Path(ge=1, le=MAX_ID, description="The gallery entry's id.")
T = TypeVar("T")


class PublishRequest(BaseModel):
    group: str = Field(description="Group whose gallery receives the notebook; you must be in it.")
    name: str = Field(description="File name of the notebook, e.g. analysis.ipynb.")
    content: dict[str, Any] = Field(description="The notebook (nbformat 4 JSON).")
    message: Text = Field("", description="What changed, shown in the version list.")


class VersionInfo(BaseModel):
    number: int
    sha256: str
    size: int
    message: str
    published_at: datetime


class EntrySummary(BaseModel):
    id: int
    owner: str
    group: str
    name: str
    created_at: datetime
    updated_at: datetime
    latest_version: int


class EntryDetail(EntrySummary):
    versions: list[VersionInfo]


class EntryList(BaseModel):
    entries: list[EntrySummary]


class Published(BaseModel):
    entry: EntrySummary
    version: VersionInfo


class VersionContent(VersionInfo):
    entry_id: int
    owner: str
    group: str
    name: str
    content: dict[str, Any]


class Diff(BaseModel):
    base: int
    remote: int
    diff: list[Any] = Field(description="nbdime's diff of the two notebooks (JSON).")
    text: str = Field(description="The same diff as plain text, as `nbdiff` prints it.")


async def _in_store(request: Request, work: Callable[..., T], *args: Any) -> T:
    """Run `work(session, *args)` in a store transaction off the event loop."""
    store: Store = request.app.state.store
    return await store.run(work, *args)


def _version_info(v: GalleryVersion) -> VersionInfo:
    return VersionInfo(
        number=v.number, sha256=v.sha256, size=v.size, message=v.message,
        published_at=v.published_at,
    )  # fmt: skip


def _summary(entry: GalleryEntry, latest: int) -> dict[str, Any]:
    return {
        "id": entry.id,
        "owner": entry.owner,
        "group": entry.group,
        "name": entry.name,
        "created_at": entry.created_at,
        "updated_at": entry.updated_at,
        "latest_version": latest,
    }


@router.post(
    "/gallery",
    response_model=Published,
    status_code=201,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": PublishRequest.model_json_schema()}},
        }
    },
)
async def publish(request: Request, who: Viewer = Depends(viewer)) -> Published:
    """Publish a notebook to a group's gallery: a new read-only version of it (the request
    guard limits the body to the notebook limit)."""
    body = parse_body(PublishRequest, await request.body())

    def work(session) -> Published:
        version = store_gallery.publish(
            session, who, group=body.group, name=body.name, content=body.content,
            message=body.message,
        )  # fmt: skip
        return Published(
            entry=EntrySummary(**_summary(version.entry, version.number)),
            version=_version_info(version),
        )

    return await _in_store(request, work)


@router.get("/gallery", response_model=EntryList)
async def list_gallery(
    request: Request,
    group: str | None = Query(None, description="Only this group's entries."),
    who: Viewer = Depends(viewer),
) -> EntryList:
    """The gallery entries of your groups (and the ones you published), newest first."""

    def work(session) -> EntryList:
        entries = store_gallery.list_entries(session, who, group)
        latest = store_gallery.latest_numbers(session, [e.id for e in entries])
        return EntryList(
            entries=[EntrySummary(**_summary(e, latest.get(e.id, 0))) for e in entries]
        )

    return await _in_store(request, work)


@router.get("/gallery/{entry_id}", response_model=EntryDetail)
async def show_entry(
    request: Request, entry_id: int = EntryId, who: Viewer = Depends(viewer)
) -> EntryDetail:
    """One entry with the list of its versions."""

    def work(session) -> EntryDetail:
        entry = store_gallery.get_entry(session, who, entry_id)
        versions = [_version_info(v) for v in entry.versions]
        latest = versions[-1].number if versions else 0
        return EntryDetail(**_summary(entry, latest), versions=versions)

    return await _in_store(request, work)


@router.get("/gallery/{entry_id}/versions/{number}", response_model=VersionContent)
async def read_version(
    request: Request,
    entry_id: int = EntryId,
    number: int = Path(ge=1, le=MAX_ID, description="The version number (1 is the first)."),
    who: Viewer = Depends(viewer),
) -> VersionContent:
    """One version with the notebook itself (read-only: versions never change)."""

    def work(session) -> VersionContent:
        v = store_gallery.get_version(session, who, entry_id, number)
        return VersionContent(
            **_version_info(v).model_dump(), entry_id=entry_id, owner=v.entry.owner,
            group=v.entry.group, name=v.entry.name, content=json.loads(v.content),
        )  # fmt: skip

    return await _in_store(request, work)


@router.get("/gallery/{entry_id}/diff", response_model=Diff)
async def diff(
    request: Request,
    entry_id: int = EntryId,
    base: int = Query(ge=1, le=MAX_ID, description="The older version number."),
    remote: int = Query(ge=1, le=MAX_ID, description="The newer version number."),
    who: Viewer = Depends(viewer),
) -> Diff:
    """nbdime's diff between two versions of an entry."""
    result = await _in_store(request, store_gallery.diff_versions, who, entry_id, base, remote)
    return Diff(**result)


@router.delete("/gallery/{entry_id}", status_code=204)
async def delete_entry(
    request: Request, entry_id: int = EntryId, who: Viewer = Depends(viewer)
) -> None:
    """Remove an entry and all its versions (its publisher only)."""
    await _in_store(request, store_gallery.delete_entry, who, entry_id)
