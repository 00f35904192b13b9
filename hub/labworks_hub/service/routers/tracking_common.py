"""What the experiments and models routers share: the calling user as the tracking server
knows them, and store work run off the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Depends, Request

from ..auth import Caller, current_caller
from ..errors import APIError
from ..store.tracking import TrackingStoreError, Viewer
from ..tracking.server import TrackingError, TrackingServer

T = TypeVar("T")


async def tracking_viewer(request: Request, caller: Caller = Depends(current_caller)) -> Viewer:
    """A user, known to the tracking server with their current groups (403 for a service's
    token: experiments and models belong to users; 503 when the tracking server is down)."""
    if caller.kind != "user":
        raise APIError(403, "experiments and models belong to users; use a user's token")
    server: TrackingServer = request.app.state.tracking
    try:
        await server.ready()
        await server.sync_user(caller)
    except TrackingError as e:
        raise APIError(503, f"the tracking server is not available: {e}") from None
    return Viewer(name=caller.name, groups=frozenset(caller.groups))


async def in_store(request: Request, work: Callable[..., T], mlflow_store: Any, *args) -> T:
    """`work(auth_store, mlflow_store, *args)` off the event loop; its refusals become JSON
    errors."""
    server: TrackingServer = request.app.state.tracking
    try:
        return await asyncio.to_thread(work, server.auth_store, mlflow_store, *args)
    except TrackingStoreError as e:
        raise APIError(e.status, str(e)) from None


def tracking_store() -> Any:
    """MLflow's tracking store (runs, experiments) of the running tracking server."""
    from mlflow.server.handlers import _get_tracking_store

    return _get_tracking_store()


def registry_store() -> Any:
    """MLflow's model registry store of the running tracking server."""
    from mlflow.server.handlers import _get_model_registry_store

    return _get_model_registry_store()
