"""The platform service application: `create_app()` wires settings, store, auth and routers."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import RedirectResponse

from .. import __version__
from .auth import HubIdentity, install_oauth
from .errors import ERROR_RESPONSES, install_error_handlers
from .guard import BodyLimits, RequestGuard
from .jobs.build import build_artifact_store
from .metrics import install_metrics
from .routers import (
    admin,
    cost,
    datasets,
    deployments,
    experiments,
    gallery,
    images,
    jobs,
    models,
    profiles,
    schedules,
    sharing,
    source_data,
    sources,
    sweeps,
    system,
)
from .routers.jobs_common import body_limit, service_of
from .settings import ServiceSettings
from .store import Store
from .store.datasets import MAX_FILES
from .tracking.gate import install_tracking

log = logging.getLogger("labworks.service")
# A dataset version's file list: MAX_FILES entries of up to 2 KiB (a long path, escaped, and its
# sha256 and size) may pass the guard; the route checks each one.
VERSION_LIST_BYTES = MAX_FILES * 2048


def create_app(settings: ServiceSettings, store: Store | None = None) -> FastAPI:
    store = store or Store(settings.db_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        store.migrate()
        log.info(
            "Labworks platform service %s ready at %s (store %r)",
            __version__,
            settings.prefix,
            store,
        )
        yield
        store.dispose()

    app = FastAPI(
        title="Labworks platform API",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        responses=ERROR_RESPONSES,
    )
    app.state.settings = settings
    app.state.store = store
    app.state.identity = HubIdentity(settings)
    app.state.artifacts = build_artifact_store(settings)  # the one: jobs, datasets, tracking
    limits = BodyLimits(
        notebook=lambda: body_limit(service_of(app)),
        raw=lambda: app.state.artifacts.max_blob_size,
        routes={settings.api_prefix + "/datasets/{owner}/{name}/versions": VERSION_LIST_BYTES},
    )
    app.add_middleware(RequestGuard, limits=limits)  # auth, XSRF, types, sizes before the body
    app.state.registry = install_metrics(app)  # outside the guard: refusals are counted too
    install_error_handlers(app)
    install_oauth(app, settings)
    # MLflow first: its calls (the busiest route by far) skip matching every API route.
    install_tracking(app, settings)  # MLflow at <prefix>mlflow, behind hub tokens
    deployments.install_gateway(app, settings)  # inference at <prefix>models, before the API
    app.include_router(system.router, prefix=settings.api_prefix)
    app.include_router(sharing.router, prefix=settings.api_prefix)
    app.include_router(gallery.router, prefix=settings.api_prefix)
    app.include_router(images.router, prefix=settings.api_prefix)
    app.include_router(jobs.router, prefix=settings.api_prefix)  # starts the job service
    app.include_router(schedules.router, prefix=settings.api_prefix)
    app.include_router(sweeps.router, prefix=settings.api_prefix)  # after jobs: runs on them
    app.include_router(profiles.router, prefix=settings.api_prefix)
    app.include_router(experiments.router, prefix=settings.api_prefix)
    app.include_router(models.router, prefix=settings.api_prefix)
    app.include_router(deployments.router, prefix=settings.api_prefix)  # after jobs: uses them
    app.include_router(cost.router, prefix=settings.api_prefix)  # after jobs: meters them
    app.include_router(datasets.router, prefix=settings.api_prefix)
    app.include_router(sources.router, prefix=settings.api_prefix)  # after jobs: their config
    app.include_router(source_data.router, prefix=settings.api_prefix)
    app.include_router(admin.router, prefix=settings.api_prefix)

    @app.get(settings.prefix, include_in_schema=False)
    async def landing():
        """The hub's Services menu links here: send people to the API docs."""
        return RedirectResponse(settings.api_prefix + "/docs")

    return app
