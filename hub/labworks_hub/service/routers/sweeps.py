"""Sweeps over REST: create, list, show, stop, resume, extend, share, delete.

The sweep engine (service/sweeps) does the work; this module only translates HTTP. Its lifespan
starts the engine after the job service (the jobs router's lifespan) and stops it first.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI, Path, Request

from ..access import Viewer
from ..sweeps import models
from ..sweeps import operations as ops
from ..sweeps.engine import SweepEngine
from ..sweeps.runs import SweepRuns
from .experiments import VisibilityRequest
from .jobs_common import body_schema, read_body, service_of
from .tracking_common import tracking_viewer

SweepId = Path(pattern=r"^[0-9a-f]{12}$", description="The sweep's id.")


def engine_of(app: FastAPI) -> SweepEngine:
    engine = getattr(app.state, "sweeps", None)
    if engine is None:
        engine = app.state.sweeps = SweepEngine(service_of(app), SweepRuns(app.state.tracking))
    return engine


def sweep_engine(request: Request) -> SweepEngine:
    return engine_of(request.app)


@asynccontextmanager
async def _run_sweeps(app: FastAPI) -> AsyncIterator[None]:
    engine = engine_of(app)
    await engine.start()
    try:
        yield
    finally:
        await engine.stop()


router = APIRouter(tags=["sweeps"], lifespan=_run_sweeps)


@router.post(
    "/sweeps",
    response_model=models.SweepDetail,
    status_code=201,
    openapi_extra=body_schema(models.SweepRequest),
)
async def create(
    request: Request,
    who: Viewer = Depends(tracking_viewer),
    engine: SweepEngine = Depends(sweep_engine),
) -> models.SweepDetail:
    """Start a sweep: trials of the notebook as jobs, their parameters chosen by the sampler.
    400 names the field at fault (space, sampler, parallel, parameters, profile)."""
    body = await read_body(request, models.SweepRequest)
    return await ops.create(engine, who, body)


@router.get("/sweeps", response_model=models.SweepList)
async def list_sweeps(
    who: Viewer = Depends(tracking_viewer), engine: SweepEngine = Depends(sweep_engine)
) -> models.SweepList:
    """Your sweeps and those shared with your groups, newest first."""
    return await ops.list_sweeps(engine, who)


@router.get("/sweeps/{sweep_id}", response_model=models.SweepDetail)
async def show(
    sweep_id: str = SweepId,
    who: Viewer = Depends(tracking_viewer),
    engine: SweepEngine = Depends(sweep_engine),
) -> models.SweepDetail:
    """Status, counts, the best trial and every trial; 404 if you cannot see it."""
    return await ops.show(engine, who, sweep_id)


@router.post("/sweeps/{sweep_id}/stop", response_model=models.SweepDetail)
async def stop(
    sweep_id: str = SweepId,
    who: Viewer = Depends(tracking_viewer),
    engine: SweepEngine = Depends(sweep_engine),
) -> models.SweepDetail:
    """Ask for no more trials and cancel the running ones (owner only; 409 if not running)."""
    return await ops.stop(engine, who, sweep_id)


@router.post("/sweeps/{sweep_id}/resume", response_model=models.SweepDetail)
async def resume(
    sweep_id: str = SweepId,
    who: Viewer = Depends(tracking_viewer),
    engine: SweepEngine = Depends(sweep_engine),
) -> models.SweepDetail:
    """Go on with a stopped or failed sweep (owner only)."""
    return await ops.resume(engine, who, sweep_id)


@router.post("/sweeps/{sweep_id}/extend", response_model=models.SweepDetail)
async def extend(
    body: models.SweepExtend,
    sweep_id: str = SweepId,
    who: Viewer = Depends(tracking_viewer),
    engine: SweepEngine = Depends(sweep_engine),
) -> models.SweepDetail:
    """Ask for more trials; a finished sweep runs again (owner only)."""
    return await ops.extend(engine, who, sweep_id, body)


@router.put("/sweeps/{sweep_id}/visibility", response_model=models.SweepDetail)
async def set_visibility(
    body: VisibilityRequest,
    sweep_id: str = SweepId,
    who: Viewer = Depends(tracking_viewer),
    engine: SweepEngine = Depends(sweep_engine),
) -> models.SweepDetail:
    """Share the sweep and its trials' jobs with one of your groups ('group:<name>'), or
    nobody ('private'). Owner only."""
    return await ops.set_visibility(engine, who, sweep_id, body.visibility)


@router.delete("/sweeps/{sweep_id}", status_code=204)
async def delete(
    sweep_id: str = SweepId,
    who: Viewer = Depends(tracking_viewer),
    engine: SweepEngine = Depends(sweep_engine),
) -> None:
    """Delete the sweep, its trials and its study (owner only). A running sweep is stopped
    first and its trials' jobs cancelled; the jobs themselves and their MLflow runs stay."""
    await ops.delete(engine, who, sweep_id)
