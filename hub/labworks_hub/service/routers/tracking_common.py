"""What the experiments and models routers share: the calling user as the tracking server
knows them, and the tracking server's stores. Refusals are access.py's (errors.py answers)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Depends, Request

from ..access import Viewer
from ..auth import viewer
from ..tracking.server import TrackingServer

T = TypeVar("T")


async def tracking_viewer(request: Request, who: Viewer = Depends(viewer)) -> Viewer:
    """A user, known to the tracking server with their current groups (403 for a service's
    token: experiments and models belong to users; 503 when the tracking server is down)."""
    who.require_user("use experiments and models")
    server: TrackingServer = request.app.state.tracking
    await server.ready()
    await server.sync_user(who)
    return who


async def in_mlflow(request: Request, work: Callable[..., T], mlflow_store: Any, *args: Any) -> T:
    """Run `work(auth_store, mlflow_store, *args)` off the event loop: MLflow's auth store
    (users, roles, grants) and one of its other stores, of the running tracking server."""
    server: TrackingServer = request.app.state.tracking
    return await asyncio.to_thread(work, server.auth_store, mlflow_store, *args)


def tracking_store() -> Any:
    """MLflow's tracking store (runs, experiments) of the running tracking server."""
    from mlflow.server.handlers import _get_tracking_store

    return _get_tracking_store()


def registry_store() -> Any:
    """MLflow's model registry store of the running tracking server."""
    from mlflow.server.handlers import _get_model_registry_store

    return _get_model_registry_store()
