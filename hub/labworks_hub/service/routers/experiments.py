"""Experiments over REST: list what the caller can see, and share one (owner, group, public).

Runs, metrics and artifacts are MLflow's own API at `/services/labworks/mlflow/` (the stock
client); this router adds what MLflow lacks: who owns an experiment and who else sees it. Who
may see or share what is decided in store/tracking.py, never here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Literal, TypeVar

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, Field

from ..auth import Caller, current_caller
from ..errors import APIError
from ..store import tracking as store
from ..store.tracking import TrackingStoreError, Viewer
from ..tracking.server import TrackingError, TrackingServer

T = TypeVar("T")


router = APIRouter(tags=["experiments"])
ExperimentId = Path(description="MLflow experiment id.", max_length=32)


class Experiment(BaseModel):
    id: str
    name: str
    owner: str | None = Field(description="The hub user who created it.")
    visibility: str = Field(description="'private', 'group:<name>' or 'public' (read-only).")
    yours: bool = Field(description="You own it: you may share it.")
    lifecycle_stage: Literal["active", "deleted"]
    creation_time: int | None = Field(description="Milliseconds since the epoch.")
    last_update_time: int | None


class ExperimentList(BaseModel):
    experiments: list[Experiment]


class VisibilityRequest(BaseModel):
    visibility: str = Field(
        description="'private' (owner only), 'group:<name>' (members of one of your groups"
        " may read it) or 'public' (every user may read it).",
        examples=["group:ml"],
    )


async def tracking_viewer(request: Request, caller: Caller = Depends(current_caller)) -> Viewer:
    """A user, known to the tracking server with their current groups."""
    if caller.kind != "user":
        raise APIError(403, "experiments belong to users; use a user's token")
    server: TrackingServer = request.app.state.tracking
    try:
        await server.ready()
        await server.sync_user(caller)
    except TrackingError as e:
        raise APIError(503, f"the tracking server is not available: {e}") from None
    return Viewer(name=caller.name, groups=frozenset(caller.groups))


async def _run(request: Request, work: Callable[..., T], *args) -> T:
    """Run a store function off the event loop; its refusals become JSON errors."""
    server: TrackingServer = request.app.state.tracking
    try:
        return await asyncio.to_thread(work, server.auth_store, _tracking_store(), *args)
    except TrackingStoreError as e:
        raise APIError(e.status, str(e)) from None


def _tracking_store():
    from mlflow.server.handlers import _get_tracking_store

    return _get_tracking_store()


def _model(info: store.ExperimentInfo) -> Experiment:
    return Experiment.model_validate(info, from_attributes=True)


@router.get("/experiments", response_model=ExperimentList)
async def list_experiments(
    request: Request, viewer: Viewer = Depends(tracking_viewer)
) -> ExperimentList:
    """The active experiments you can read: yours, your groups', public ones."""
    found = await _run(request, store.list_experiments, viewer)
    return ExperimentList(experiments=[_model(e) for e in found])


@router.get("/experiments/{experiment_id}", response_model=Experiment)
async def get_experiment(
    request: Request,
    experiment_id: str = ExperimentId,
    viewer: Viewer = Depends(tracking_viewer),
) -> Experiment:
    """One experiment; 404 when it does not exist or you cannot read it."""
    return _model(await _run(request, store.get_experiment, viewer, experiment_id))


@router.put("/experiments/{experiment_id}/visibility", response_model=Experiment)
async def set_visibility(
    request: Request,
    body: VisibilityRequest,
    experiment_id: str = ExperimentId,
    viewer: Viewer = Depends(tracking_viewer),
) -> Experiment:
    """Who besides you may read the experiment (its runs, metrics, artifacts, models):
    nobody, one of your groups, or every user. Owner only (403); 400: not a visibility."""
    return _model(await _run(request, store.set_visibility, viewer, experiment_id, body.visibility))
