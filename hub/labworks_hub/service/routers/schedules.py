"""Schedules over REST: notebooks run on a cron schedule (create, list, show, change, pause,
resume, delete), their run history, and a preview of the next firing times.

A schedule is a job definition with a cron expression and a time zone; each firing is a job
(GET /jobs?schedule=...). The job service fires them; this module only translates HTTP.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request

from ..access import Viewer
from ..auth import viewer
from ..jobs import models
from ..jobs import operations as ops
from ..jobs.service import JobService
from ..validation import MAX_OFFSET
from .jobs_common import (
    body_schema,
    job_service,
    read_body,
)

router = APIRouter(tags=["schedules"])


@router.post("/schedules/preview", response_model=models.Preview)
async def preview(
    body: models.PreviewRequest,
    _who: Viewer = Depends(viewer),
    service: JobService = Depends(job_service),
) -> models.Preview:
    """The next firing times of a cron expression in a time zone (400 if either is invalid)."""
    return await ops.preview(body, service.clock())


@router.post(
    "/schedules",
    response_model=models.Schedule,
    status_code=201,
    openapi_extra=body_schema(models.ScheduleRequest),
)
async def create(
    request: Request,
    who: Viewer = Depends(viewer),
    service: JobService = Depends(job_service),
) -> models.Schedule:
    """Run a notebook on a cron schedule. The notebook, parameters and profile are checked now,
    as for POST /jobs."""
    body = await read_body(request, models.ScheduleRequest)
    return await ops.create_schedule(service, who, body)


@router.get("/schedules", response_model=models.ScheduleList)
async def list_schedules(
    who: Viewer = Depends(viewer), service: JobService = Depends(job_service)
) -> models.ScheduleList:
    """My schedules and my groups' schedules, with next run and the status of the last run."""
    return await ops.list_schedules(service, who)


@router.get("/schedules/{schedule_id}", response_model=models.Schedule)
async def show(
    schedule_id: str, who: Viewer = Depends(viewer), service: JobService = Depends(job_service)
) -> models.Schedule:
    return await ops.get_schedule(service, who, schedule_id)


@router.get("/schedules/{schedule_id}/parameters", response_model=models.InspectResult)
async def schedule_parameters(
    schedule_id: str, who: Viewer = Depends(viewer), service: JobService = Depends(job_service)
) -> models.InspectResult:
    """The parameters the schedule's notebook declares (names, types, defaults), as
    POST /jobs/inspect answers for that notebook and kernel."""
    return await ops.schedule_parameters(service, who, schedule_id)


@router.patch("/schedules/{schedule_id}", response_model=models.Schedule)
async def update(
    schedule_id: str,
    body: models.ScheduleUpdate,
    who: Viewer = Depends(viewer),
    service: JobService = Depends(job_service),
) -> models.Schedule:
    """Change the cron expression, time zone, parameters, profile or paused state (its owner
    only); omitted fields stay."""
    return await ops.update_schedule(service, who, schedule_id, body)


@router.post("/schedules/{schedule_id}/pause", response_model=models.Schedule)
async def pause(
    schedule_id: str, who: Viewer = Depends(viewer), service: JobService = Depends(job_service)
) -> models.Schedule:
    """Stop firing until resumed; runs already queued or running go on."""
    return await ops.update_schedule(service, who, schedule_id, models.ScheduleUpdate(paused=True))


@router.post("/schedules/{schedule_id}/resume", response_model=models.Schedule)
async def resume(
    schedule_id: str, who: Viewer = Depends(viewer), service: JobService = Depends(job_service)
) -> models.Schedule:
    """Fire again, from the next time after now (missed times are not caught up)."""
    return await ops.update_schedule(service, who, schedule_id, models.ScheduleUpdate(paused=False))


@router.delete("/schedules/{schedule_id}", status_code=204)
async def delete(
    schedule_id: str, who: Viewer = Depends(viewer), service: JobService = Depends(job_service)
) -> None:
    """Remove the schedule (its owner only); the jobs it ran stay in the job list."""
    await ops.delete_schedule(service, who, schedule_id)


@router.get("/schedules/{schedule_id}/runs", response_model=models.JobList)
async def runs(
    schedule_id: str,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
    who: Viewer = Depends(viewer),
    service: JobService = Depends(job_service),
) -> models.JobList:
    """The jobs this schedule ran, newest first."""
    await ops.get_schedule(service, who, schedule_id)  # 404 unless visible
    return await ops.list_jobs(service, who, schedule_id=schedule_id, limit=limit, offset=offset)
