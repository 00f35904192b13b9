"""Notebook jobs over REST: inspect a notebook's parameters, submit, list, show, cancel, rerun,
read logs and output notebooks, and the caller's notification settings.

The job service (service/jobs) does the work and the store decides who sees what; this module
only translates HTTP. Its lifespan starts the job service's loop with the app and stops it
with the app (running jobs keep running and are re-attached at the next start).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from pydantic import BeforeValidator

from ..access import Viewer
from ..auth import viewer
from ..jobs import models
from ..jobs import operations as ops
from ..jobs.service import JobService
from ..store import tracking as tracking_runs
from ..validation import MAX_OFFSET
from .jobs_common import (
    body_schema,
    job_service,
    read_body,
    service_of,
)
from .tracking_common import in_mlflow, tracking_store, tracking_viewer


@asynccontextmanager
async def _run_jobs(app: FastAPI) -> AsyncIterator[None]:
    service = service_of(app)
    await service.start()
    try:
        yield
    finally:
        await service.stop()


def _iso_time(value: object) -> object:
    """An ISO 8601 time as the schema says; pydantic would also take a bare number."""
    if isinstance(value, str) and not _ISO_TIME.match(value):
        raise ValueError("an ISO 8601 time, e.g. 2026-11-23T11:00:00Z")
    return value


_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]|$)")
IsoTime = Annotated[datetime, BeforeValidator(_iso_time)]

router = APIRouter(tags=["jobs"], lifespan=_run_jobs)


@router.post(
    "/jobs/inspect",
    response_model=models.InspectResult,
    openapi_extra=body_schema(models.InspectRequest),
)
async def inspect(
    request: Request,
    _who: Viewer = Depends(viewer),
    service: JobService = Depends(job_service),
) -> models.InspectResult:
    """The parameters a notebook declares in its `parameters` cell: names, types, defaults."""
    body = await read_body(request, models.InspectRequest)
    return await ops.inspect(service, body)


@router.post(
    "/jobs",
    response_model=models.JobDetail,
    status_code=201,
    openapi_extra=body_schema(models.JobRequest),
)
async def submit(
    request: Request,
    who: Viewer = Depends(viewer),
    service: JobService = Depends(job_service),
) -> models.JobDetail:
    """Run a notebook as a job now. 400: not a notebook, bad parameters, unknown profile or
    kernel; 413: the notebook is too large."""
    body = await read_body(request, models.JobRequest)
    return await ops.submit(service, who, body)


@router.get("/jobs", response_model=models.JobList)
async def list_jobs(
    status: list[models.Status] | None = Query(
        None, description="Only jobs in these states (repeat the parameter for several)."
    ),
    q: str = Query("", max_length=200, description="Part of the job name or notebook path."),
    mine: bool = Query(False, description="Only my own jobs, not my groups'."),
    updated_since: IsoTime | None = Query(
        None,
        description="Only jobs changed after this time, ISO 8601 (what the lab polls for).",
        examples=["2026-11-23T11:00:00Z"],
    ),
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
    who: Viewer = Depends(viewer),
    service: JobService = Depends(job_service),
) -> models.JobList:
    """My jobs and my groups' jobs, newest first."""
    return await ops.list_jobs(
        service, who, status=status, search=q, mine=mine, updated_since=updated_since,
        limit=limit, offset=offset,
    )  # fmt: skip


@router.get("/jobs/notifications", response_model=models.NotifySettingsModel)
async def get_notifications(
    who: Viewer = Depends(viewer), service: JobService = Depends(job_service)
) -> models.NotifySettingsModel:
    """How I hear about my jobs ending: a webhook and/or an e-mail address, and for which
    outcomes; `email_available` says whether this platform can send mail."""
    return await ops.get_notify(service, who)


@router.put("/jobs/notifications", response_model=models.NotifySettingsModel)
async def put_notifications(
    body: models.NotifySettingsUpdate,
    who: Viewer = Depends(viewer),
    service: JobService = Depends(job_service),
) -> models.NotifySettingsModel:
    """Set my webhook (POSTed `{"event": "job.ended", "job": {...}}`), my e-mail address and
    the outcomes to hear about. 400: a webhook that is refused; 422: not an e-mail address,
    or e-mail is not configured on this platform."""
    return await ops.put_notify(service, who, body)


@router.get("/jobs/{job_id}", response_model=models.JobDetail)
async def show(
    job_id: str,
    wait: float = Query(
        0, ge=0, le=60, description="Answer once the job has ended, or after this many seconds."
    ),
    who: Viewer = Depends(viewer),
    service: JobService = Depends(job_service),
) -> models.JobDetail:
    """One job with its history (attempts, retries, cancel requests)."""
    return await ops.get_job(service, who, job_id, wait)


@router.get("/jobs/{job_id}/logs", response_model=models.LogChunk)
async def logs(
    job_id: str,
    offset: int = Query(
        0, ge=0, le=MAX_OFFSET, description="Byte to read from; to tail, the last next_offset."
    ),
    limit: int = Query(ops.LOG_LIMIT, ge=1, le=4 * ops.LOG_LIMIT),
    attempt: int | None = Query(None, ge=1, description="Attempt number; default: the latest."),
    who: Viewer = Depends(viewer),
    service: JobService = Depends(job_service),
) -> models.LogChunk:
    """The job's log (papermill's output and the cells' printed output), from `offset`."""
    return await ops.logs(service, who, job_id, attempt=attempt, offset=offset, limit=limit)


@router.get("/jobs/{job_id}/output", response_model=models.Output)
async def output(
    job_id: str,
    attempt: int | None = Query(None, ge=1, description="Attempt number; default: the latest."),
    who: Viewer = Depends(viewer),
    service: JobService = Depends(job_service),
) -> models.Output:
    """The output notebook; while the job runs, its latest save. A failed job's output marks
    the failing cell."""
    return await ops.output(service, who, job_id, attempt=attempt)


@router.get("/jobs/{job_id}/notebook", response_model=models.Input)
async def input_notebook(
    job_id: str, who: Viewer = Depends(viewer), service: JobService = Depends(job_service)
) -> models.Input:
    """The exact input notebook the job ran, as submitted (before parameters were injected)."""
    return await ops.input_notebook(service, who, job_id)


@router.get("/jobs/{job_id}/runs", response_model=models.JobRuns)
async def job_runs(
    request: Request,
    job_id: str,
    who: Viewer = Depends(tracking_viewer),
    service: JobService = Depends(job_service),
) -> models.JobRuns:
    """The MLflow runs the job logged (each tagged `labworks.job.id` by the kernel) that you
    may read, newest first: where "Register and serve" finds the job's model."""
    job = await ops.get_job(service, who, job_id)  # 404 unless the job is yours or shared
    runs = await in_mlflow(request, tracking_runs.readable_job_runs, tracking_store(), who,
                           job.id)  # fmt: skip
    return models.JobRuns(job_id=job.id, runs=runs)


@router.get("/jobs/{job_id}/parameters", response_model=models.InspectResult)
async def job_parameters(
    job_id: str, who: Viewer = Depends(viewer), service: JobService = Depends(job_service)
) -> models.InspectResult:
    """The parameters the job's input notebook declares (names, types, defaults), as
    POST /jobs/inspect answers for that notebook and kernel."""
    return await ops.job_parameters(service, who, job_id)


@router.post("/jobs/{job_id}/cancel", response_model=models.JobDetail)
async def cancel(
    job_id: str, who: Viewer = Depends(viewer), service: JobService = Depends(job_service)
) -> models.JobDetail:
    """Cancel a queued job, or stop a running one with its whole kernel process tree (the
    status becomes `cancelled` once it stopped). 409 if it already ended."""
    return await ops.cancel(service, who, job_id)


@router.post("/jobs/{job_id}/rerun", response_model=models.JobDetail, status_code=201)
async def rerun(
    job_id: str,
    body: models.RerunRequest | None = None,
    who: Viewer = Depends(viewer),
    service: JobService = Depends(job_service),
) -> models.JobDetail:
    """Run the same notebook again (a new job), optionally with other parameters."""
    return await ops.rerun(service, who, job_id, body or models.RerunRequest(parameters=None))
