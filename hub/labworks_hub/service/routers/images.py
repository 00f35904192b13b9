"""The image catalog over REST: the workspace images the caller may pick, and tag -> digest.

Where workspaces and jobs run in the platform's own Python environment (the local backends of
the embedded default), the listing names that environment too (`local`, with its lock digest),
marked the default when no registry offers images.

The catalog (labworks_hub.catalog) is read at service start and refreshed in the background;
while the registry cannot be reached, the last good catalog is served with `stale: true` and a
warning. `users/<name>/...` repositories are listed for <name> only.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from pydantic import BaseModel

from ...catalog import CatalogError, ImageCatalog, ImageInfo, local_environment, owner_of
from ..access import Refused, Unavailable
from ..auth import Caller, current_caller
from ..background import cancel
from .jobs_common import service_of

log = logging.getLogger("labworks.service")


@asynccontextmanager
async def _warm_catalog(app: FastAPI):
    """Read the registry once at start, so the first listing does not wait for it."""
    catalog = _catalog_of(app)
    task = catalog.refresh_in_background() if catalog.configured else None
    yield
    await cancel(task)


router = APIRouter(tags=["images"], lifespan=_warm_catalog)


class Image(BaseModel):
    repository: str
    tag: str
    ref: str  # repository:tag, what a spawn's `image` option takes
    digest: str  # sha256:... of the manifest (or index) the tag points to
    pull: str  # what a runtime pulls: <registry host>/<repository>:<tag>@<digest>
    title: str
    description: str
    packages: list[str]
    gpu: bool
    created: str | None
    source: str
    revision: str
    owner: str | None  # the user of a users/<name>/... repository; null: shared


class LocalImage(BaseModel):
    """The Python environment this platform runs in, as a catalog entry."""

    name: str  # "local"
    title: str
    description: str
    digest: str  # sha256 over every installed `name==version`: the environment's lock digest
    python: str
    prefix: str
    packages: list[str]
    default: bool  # true: what a workspace or job gets when it names no image


class ImageList(BaseModel):
    registry: str | None  # null: no registry is configured
    local: LocalImage | None  # null: workspaces and jobs run in images, not here
    tag_pattern: str
    images: list[Image]
    fetched_at: datetime | None  # when the registry last answered
    stale: bool  # true: the registry could not be read; this is the last good catalog
    warning: str | None


NO_REGISTRY = (
    "no image registry is configured: an admin starts Labworks with `labworks up --registry"
    " https://registry.example.org` (remembered), or sets c.ImageCatalog.registry_url; see"
    " docs/admin/images.md"
)


async def _local_image(request: Request, default: bool) -> LocalImage | None:
    """The local environment, where jobs run in it (the local executor); else None."""
    if service_of(request.app).executor.name != "local":
        return None
    found = await asyncio.to_thread(local_environment)
    return LocalImage(**found.to_dict(), default=default)


def _catalog_of(app: FastAPI) -> ImageCatalog:
    catalog = getattr(app.state, "catalog", None)
    if catalog is None:
        catalog = app.state.catalog = ImageCatalog(log=log, **app.state.settings.image_catalog)
    return catalog


def image_catalog(request: Request) -> ImageCatalog:
    return _catalog_of(request.app)


def _user(caller: Caller) -> str | None:
    """Whose personal repositories the caller sees: a user's own; a service's, none."""
    return caller.name if caller.kind == "user" else None


def _model(catalog: ImageCatalog, image: ImageInfo) -> Image:
    return Image(
        **image.to_dict(),
        ref=image.ref,
        pull=f"{catalog.pull_reference(image)}@{image.digest}",
        owner=owner_of(image.repository),
    )


@router.get("/images", response_model=ImageList)
async def list_images(
    request: Request,
    caller: Caller = Depends(current_caller),
    catalog: ImageCatalog = Depends(image_catalog),
) -> ImageList:
    """The workspace images the caller may pick: CI build-id tags only, newest first within
    each repository; and the local environment where that is what runs. 503 only when the
    registry has never been read."""
    local = await _local_image(request, default=not catalog.configured)
    if not catalog.configured:
        return ImageList(
            registry=None,
            local=local,
            tag_pattern=catalog.tag_pattern,
            images=[],
            fetched_at=None,
            stale=False,
            warning=NO_REGISTRY,
        )
    snapshot = await catalog.snapshot()
    if snapshot.fetched_at is None:
        raise Unavailable(snapshot.warning or "the image catalog could not be read")
    return ImageList(
        registry=catalog.registry_url,
        local=local,
        tag_pattern=catalog.tag_pattern,
        images=[_model(catalog, i) for i in catalog.visible(snapshot, _user(caller))],
        fetched_at=datetime.fromtimestamp(snapshot.fetched_at, UTC),
        stale=snapshot.stale,
        warning=snapshot.warning,
    )


@router.get("/images/resolve", response_model=Image)
async def resolve_image(
    ref: str = Query(description="repository:tag, e.g. labworks/labworks-minimal:ci-1234"),
    caller: Caller = Depends(current_caller),
    catalog: ImageCatalog = Depends(image_catalog),
) -> Image:
    """The digest a CI tag points to now, read from the registry. 400: not a CI build id or
    not `repository:tag`; 404: no such image for this caller; 503: registry unreachable and the
    tag not in the last good catalog."""
    try:
        image = await catalog.resolve(ref, _user(caller))
    except CatalogError as e:
        raise Refused.of_status(e.status, str(e)) from None
    return _model(catalog, image)
