"""Request helpers the jobs and schedules routers share: the job service, the caller as a
store viewer, JSON errors from job refusals, and size-limited JSON bodies."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

from fastapi import Depends, FastAPI, Request
from pydantic import BaseModel, ValidationError

from ..auth import Caller, current_caller
from ..errors import APIError
from ..jobs.service import JobService, build_job_service
from ..store.jobs import JobError, Viewer

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")
ENVELOPE_BYTES = 64 * 1024  # room for the fields around the notebook in a request body


def service_of(app: FastAPI) -> JobService:
    service = getattr(app.state, "jobs", None)
    if service is None:
        service = app.state.jobs = build_job_service(app.state.settings, app.state.store)
        service.token_revoked = app.state.identity.revoked  # a job's token dies with it
    return service


def job_service(request: Request) -> JobService:
    return service_of(request.app)


def viewer(caller: Caller = Depends(current_caller)) -> Viewer:
    """Users see their own and their groups' jobs; services see none."""
    name = caller.name if caller.kind == "user" else ""
    return Viewer(name=name, groups=frozenset(caller.groups))


async def answer(work: Awaitable[T]) -> T:
    """Await a job operation, turning its refusals into the API's JSON errors."""
    try:
        return await work
    except JobError as e:
        raise APIError(e.status, str(e)) from None


async def read_body(request: Request, model: type[M], limit: int) -> M:
    """The JSON body as `model`, refused with 413 past `limit` bytes before it is all read."""
    declared = request.headers.get("content-length", "")
    too_large = APIError(
        413, f"the request is larger than {limit / 2**20:.0f} MiB; jobs take smaller notebooks"
    )
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    try:
        return model.model_validate_json(b"".join(chunks))
    except ValidationError as e:
        raise APIError(422, _first_error(e)) from None


def body_schema(model: type[BaseModel]) -> dict:
    """OpenAPI for a route that reads its body itself (to limit its size)."""
    schema = {"application/json": {"schema": model.model_json_schema()}}
    return {"requestBody": {"required": True, "content": schema}}


def body_limit(service: JobService) -> int:
    return service.max_notebook_bytes + ENVELOPE_BYTES


def _first_error(e: ValidationError) -> str:
    errors = e.errors()
    if not errors:
        return "invalid request"
    err = errors[0]
    if err.get("type") == "json_invalid":
        return f"the request body is not JSON: {err.get('msg')}"
    where = ".".join(str(p) for p in err.get("loc", ()))
    return f"{where}: {err.get('msg')}" if where else str(err.get("msg"))
