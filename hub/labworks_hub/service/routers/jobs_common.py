"""Request helpers the jobs and schedules routers share: the job service and JSON bodies that
carry notebooks (read by the route; the request guard has limited their size already)."""

from __future__ import annotations

from typing import TypeVar

from fastapi import FastAPI, Request
from pydantic import BaseModel

from ..access import Unprocessable
from ..jobs.build import build_job_service
from ..jobs.service import JobService
from ..validation import parse_body

M = TypeVar("M", bound=BaseModel)
ENVELOPE_BYTES = 64 * 1024  # room for the fields around the notebook in a request body


def service_of(app: FastAPI) -> JobService:
    service = getattr(app.state, "jobs", None)
    if service is None:
        state = app.state
        service = state.jobs = build_job_service(state.settings, state.store, state.artifacts)
        service.token_revoked = state.identity.revoked  # a job's token dies with it
    return service


def job_service(request: Request) -> JobService:
    return service_of(request.app)


async def read_body(request: Request, model: type[M]) -> M:
    """The JSON body as `model` (422 naming the first problem)."""
    return parse_body(model, await request.body(), Unprocessable)


def body_schema(model: type[BaseModel]) -> dict:
    """OpenAPI for a route that reads its body itself (the guard gives it the notebook limit)."""
    schema = {"application/json": {"schema": model.model_json_schema()}}
    return {"requestBody": {"required": True, "content": schema}}


def body_limit(service: JobService) -> int:
    return service.max_notebook_bytes + ENVELOPE_BYTES
