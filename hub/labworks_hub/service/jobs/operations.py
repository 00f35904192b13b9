"""What users ask of the job service: inspect, submit, list, cancel, rerun, read logs and
outputs, manage schedules and notification settings.

Each function takes the `JobService` and the `Viewer` asking, checks the input (clear
messages, raised as the access layer's `Refused` kinds, which errors.py maps to HTTP), and works
through the store's query layer, which alone decides who sees what. Routers translate to and
from HTTP, nothing more.
"""

from __future__ import annotations

import asyncio
import json
import posixpath
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from ...catalog import CatalogError
from ...profiles import Profile, ProfileError, choose_profile, image_refusal
from ..access import (
    Forbidden,
    Invalid,
    NotFound,
    Refused,
    TooLarge,
    Unavailable,
    Unprocessable,
    Viewer,
)
from ..cost.budgets import CostBudgets, budget_check
from ..store import jobs as store
from ..store.jobs import FINISHED, RUNNING, JobDefinition, JobRun, JobSchedule
from . import models, parameters, scheduler
from .artifacts import ArtifactError, run_key
from .executors.base import ExecutorError
from .notify import NotifyError
from .queue import Demand
from .service import JobService

LOG_LIMIT = 256 * 1024


# --- wire forms ------------------------------------------------------------------------------


def _detail(session: Session, run: JobRun) -> models.JobDetail:
    events = [
        models.Event(at=e.at, attempt=e.attempt, kind=e.kind, message=e.message)
        for e in store.run_events(session, run.id)
    ]
    return models.JobDetail(**models.Job.from_run(run).model_dump(), events=events)


# --- checking what to run --------------------------------------------------------------------


def read_notebook(service: JobService, content: Any) -> Any:
    try:
        notebook = parameters.read_notebook(content)
    except parameters.NotebookError as e:
        raise Invalid(str(e)) from None
    size = len(parameters.canonical(notebook).encode())
    if size > service.max_notebook_bytes:
        raise TooLarge(
            f"the notebook is {size / 2**20:.1f} MiB; jobs take notebooks of at most"
            f" {service.max_notebook_bytes / 2**20:.0f} MiB (clear large outputs first)"
        )
    return notebook


async def inspect(service: JobService, body: models.InspectRequest) -> models.InspectResult:
    notebook = read_notebook(service, body.content)
    return _inspected(notebook, body.kernel_name or "")


def _inspected(notebook: Any, kernel_name: str) -> models.InspectResult:
    info = parameters.inspect_notebook(notebook, kernel_name)
    return models.InspectResult.model_validate(info.to_dict())


async def job_parameters(service: JobService, viewer: Viewer, run_id: str) -> models.InspectResult:
    """The parameters the job's input notebook declares (NotFound unless the job is visible)."""
    return await _declared(service, lambda s: store.get_run(s, viewer, run_id))


async def schedule_parameters(
    service: JobService, viewer: Viewer, schedule_id: str
) -> models.InspectResult:
    """The parameters the schedule's notebook declares (NotFound unless it is visible)."""
    return await _declared(service, lambda s: store.get_schedule(s, viewer, schedule_id).definition)


async def _declared(
    service: JobService, find: Callable[[Session], JobRun | JobDefinition]
) -> models.InspectResult:
    """What the notebook of the run or definition `find` gives declares, for its kernel."""

    def read(session: Session) -> tuple[str, str]:
        spec = find(session)
        return store.notebook_content(session, spec.notebook_sha256), spec.kernel_name

    content, kernel_name = await service.db(read)
    return _inspected(parameters.read_notebook(content), kernel_name)


def _pick_profile(service: JobService, viewer: Viewer, name: str | None) -> Profile:
    try:
        profile = choose_profile(service.profiles, name, set(viewer.groups))
    except ProfileError as e:
        raise Invalid(str(e)) from None
    refusal = service.cannot_run(profile)
    if refusal:
        raise Invalid(f"profile {profile.name!r} {refusal}")
    return profile


async def _image(service: JobService, viewer: Viewer, profile: Profile, ref: str | None) -> str:
    """The image reference pinned by digest a job runs in ('' for the local environment)."""
    executor = service.executor
    if not ref:
        return str(getattr(executor, "image", "") or "") if executor.runs_images else ""
    if not executor.runs_images:
        raise Invalid(
            "this platform runs jobs in its own environment (local executor); leave out image"
        )
    if service.catalog is None or not service.catalog.configured:
        raise Invalid("this platform has no image catalog: leave out image")
    try:
        image = await service.catalog.resolve(ref, viewer.name)
    except CatalogError as e:
        raise Refused.of_status(e.status, str(e)) from None
    refusal = image_refusal(profile, image.repository)
    if refusal:
        raise Invalid(refusal)
    return f"{service.catalog.pull_reference(image)}@{image.digest}"


async def job_spec(
    service: JobService, viewer: Viewer, body: models.Settings
) -> tuple[dict[str, Any], str, dict, dict]:
    """The checked definition fields, canonical notebook, resources and environment."""
    notebook = read_notebook(service, body.content)
    profile = _pick_profile(service, viewer, body.profile)
    info = parameters.inspect_notebook(notebook, body.kernel_name or "")
    if not info.kernel_name:
        raise Invalid("the notebook names no kernel (no kernelspec); choose a kernel_name")
    problem = service.executor.check_kernel(info.kernel_name)
    if problem:
        raise Invalid(problem)
    try:
        values = parameters.check(info, body.parameters)
    except parameters.ParameterError as e:
        raise Invalid(str(e)) from None
    image = await _image(service, viewer, profile, body.image)
    try:
        environment = service.executor.environment(image)
    except ExecutorError as e:
        raise Invalid(str(e)) from None
    path = body.path.strip()
    name = body.name.strip() or posixpath.basename(path) or "notebook"
    spec = {
        "name": name, "notebook_path": path, "parameters": values, "profile": profile.name,
        "kernel_name": info.kernel_name, "image": image,
        "timeout": body.timeout or service.default_timeout, "max_retries": body.retries,
        "priority": body.priority,
    }  # fmt: skip
    return spec, parameters.canonical(notebook), Demand.of(profile).to_dict(), environment


# --- jobs ------------------------------------------------------------------------------------


async def within_budget(service: JobService, viewer: Viewer, kind: str, profile: str) -> None:
    """Forbidden when a spent budget of `viewer` refuses a new `kind` on `profile`
    (service/cost/budgets.py; `CostBudgets.refuse` says what is refused)."""
    found = service.profile_named(profile)
    gpu = bool(found and found.gpu_count)
    rule = CostBudgets(config=service.config).refuse
    await service.db(budget_check, viewer, kind, gpu, rule, service.clock())


async def submit(service: JobService, viewer: Viewer, body: models.JobRequest) -> models.JobDetail:
    spec, notebook, resources, environment = await job_spec(service, viewer, body)
    await within_budget(service, viewer, "job", spec["profile"])

    def work(session: Session) -> models.JobDetail:
        sha = store.save_notebook(session, notebook)
        definition = store.create_definition(
            session, viewer, body.share_with_group, notebook_sha256=sha, **spec
        )
        run = store.create_run(
            session, definition, trigger="api", resources=resources, environment=environment,
            executor=service.executor.name, now=service.clock(),
        )  # fmt: skip
        return _detail(session, run)

    job = await service.db(work)
    service.wake()
    return job


async def list_jobs(
    service: JobService,
    viewer: Viewer,
    *,
    status: Sequence[str] | None = None,
    search: str = "",
    mine: bool = False,
    schedule_id: str | None = None,
    updated_since: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> models.JobList:
    def work(session: Session) -> models.JobList:
        runs, total = store.list_runs(
            session, viewer, status=status, search=search, mine=mine, schedule_id=schedule_id,
            updated_since=updated_since, limit=limit, offset=offset,
        )  # fmt: skip
        return models.JobList(
            jobs=[models.Job.from_run(r) for r in runs], total=total, limit=limit, offset=offset
        )

    return await service.db(work)


async def get_job(
    service: JobService, viewer: Viewer, run_id: str, wait: float = 0
) -> models.JobDetail:
    """The job; with `wait`, answered as soon as it ends, or after `wait` seconds."""
    deadline = asyncio.get_running_loop().time() + wait
    while True:
        job = await service.db(lambda s: _detail(s, store.get_run(s, viewer, run_id)))
        left = deadline - asyncio.get_running_loop().time()
        if job.status in FINISHED or left <= 0:
            return job
        await service.some_run_ended(left)


async def cancel(service: JobService, viewer: Viewer, run_id: str) -> models.JobDetail:
    def work(session: Session) -> models.JobDetail:
        return _detail(session, store.request_cancel(session, viewer, run_id))

    job = await service.db(work)
    service.wake()
    return job


async def rerun(
    service: JobService, viewer: Viewer, run_id: str, body: models.RerunRequest
) -> models.JobDetail:
    def load(session: Session) -> tuple[JobRun, str]:
        run = store.get_run(session, viewer, run_id)
        if not viewer.owns(run.owner):
            raise Forbidden(f"job {run_id} belongs to {run.owner!r}; only they can rerun it")
        return run, store.notebook_content(session, run.notebook_sha256)

    run, content = await service.db(load)
    values = run.parameters if body.parameters is None else body.parameters
    info = parameters.inspect_notebook(parameters.read_notebook(content), run.kernel_name)
    try:
        values = parameters.check(info, values)
    except parameters.ParameterError as e:
        raise Invalid(str(e)) from None
    profile = _pick_profile(service, viewer, run.profile)
    await within_budget(service, viewer, "job", profile.name)

    def work(session: Session) -> models.JobDetail:
        definition = session.get(JobDefinition, run.definition_id)
        assert definition is not None
        new = store.create_run(
            session, definition, trigger="rerun", parameters=values, rerun_of=run.id,
            resources=Demand.of(profile).to_dict(), executor=service.executor.name,
            environment=service.executor.environment(run.image), now=service.clock(),
        )  # fmt: skip
        return _detail(session, new)

    job = await service.db(work)
    service.wake()
    return job


def _attempt_of(run: JobRun, attempt: int | None) -> int:
    if attempt is None:
        return run.attempt
    if not 1 <= attempt <= run.attempt:
        raise NotFound(f"job {run.id} has no attempt {attempt} (it has {run.attempt})")
    return attempt


async def logs(
    service: JobService,
    viewer: Viewer,
    run_id: str,
    *,
    attempt: int | None = None,
    offset: int = 0,
    limit: int = LOG_LIMIT,
) -> models.LogChunk:
    run = await service.db(lambda s: store.get_run(s, viewer, run_id))
    number = _attempt_of(run, attempt)
    live = service.live_state(run.id) if run.status == RUNNING and number == run.attempt else None
    if number == 0:
        data: bytes | None = b""
    elif live is not None:
        data = await service.executor.read_log(live, offset, limit)
    else:
        data = await _artifact(service, run_key(run.id, number, "log.txt"), offset, limit)
    data = data or b""
    ended = live is None and number > 0 and not (run.status == RUNNING and number == run.attempt)
    return models.LogChunk(
        job_id=run.id, attempt=number, offset=offset, next_offset=offset + len(data),
        text=data.decode("utf-8", errors="replace"), complete=ended and len(data) < limit,
    )  # fmt: skip


async def output(
    service: JobService, viewer: Viewer, run_id: str, *, attempt: int | None = None
) -> models.Output:
    run = await service.db(lambda s: store.get_run(s, viewer, run_id))
    number = _attempt_of(run, attempt)
    live = service.live_state(run.id) if run.status == RUNNING and number == run.attempt else None
    if number == 0:
        data = None
    elif live is not None:
        data = await service.executor.read_output(live)
    else:
        data = await _artifact(service, run_key(run.id, number, "output.ipynb"), 0, None)
    if not data:
        raise NotFound(f"job {run.id} has no output notebook (yet) for attempt {number}")
    try:
        content = json.loads(data)
    except ValueError:
        raise NotFound(f"job {run.id}: the output notebook is being written; ask again") from None
    return models.Output(job_id=run.id, attempt=number, complete=live is None, content=content)


async def input_notebook(service: JobService, viewer: Viewer, run_id: str) -> models.Input:
    """The exact notebook the job ran (before parameters were injected)."""

    def read(session) -> models.Input:
        run = store.get_run(session, viewer, run_id)
        content = json.loads(store.notebook_content(session, run.notebook_sha256))
        return models.Input(
            job_id=run.id, path=run.notebook_path, sha256=run.notebook_sha256, content=content
        )

    return await service.db(read)


async def _artifact(service: JobService, key: str, offset: int, limit: int | None) -> bytes | None:
    try:
        if limit is None:
            return await asyncio.to_thread(service.artifacts.get, key)
        return await asyncio.to_thread(service.artifacts.read_from, key, offset, limit)
    except ArtifactError as e:
        raise Unavailable(str(e)) from None


# --- schedules -------------------------------------------------------------------------------


async def preview(body: models.PreviewRequest, now: datetime) -> models.Preview:
    cron, times = _when(body.cron, body.timezone, now, body.count)
    return models.Preview(cron=cron, timezone=body.timezone, next_runs=times)


def _when(cron: str, timezone: str, after: datetime, count: int = 1) -> tuple[str, list[datetime]]:
    """The normalized cron expression and its next `count` firings after `after`; Invalid
    when the expression or the time zone is not valid, or the expression never fires."""
    try:
        cron = scheduler.check_cron(cron)
        return cron, scheduler.next_times(cron, timezone, after, count)
    except scheduler.ScheduleError as e:
        raise Invalid(str(e)) from None


async def create_schedule(
    service: JobService, viewer: Viewer, body: models.ScheduleRequest
) -> models.Schedule:
    cron = _when(body.cron, body.timezone, service.clock())[0]
    spec, notebook, _resources, _environment = await job_spec(service, viewer, body)

    def work(session: Session) -> models.Schedule:
        now = service.clock()
        sha = store.save_notebook(session, notebook)
        definition = store.create_definition(
            session, viewer, body.share_with_group, notebook_sha256=sha, **spec
        )
        schedule = JobSchedule(
            definition_id=definition.id, cron=cron, timezone=body.timezone, paused=False,
            next_run_at=scheduler.next_time(cron, body.timezone, now), created_at=now,
            updated_at=now,
        )  # fmt: skip
        session.add(schedule)
        session.flush()
        session.refresh(schedule)
        return models.Schedule.from_row(schedule, None)

    return await service.db(work)


async def list_schedules(service: JobService, viewer: Viewer) -> models.ScheduleList:
    def work(session: Session) -> models.ScheduleList:
        schedules = store.list_schedules(session, viewer)
        last = store.last_runs(session, [s.id for s in schedules])
        return models.ScheduleList(
            schedules=[models.Schedule.from_row(s, last.get(s.id)) for s in schedules]
        )

    return await service.db(work)


async def get_schedule(service: JobService, viewer: Viewer, schedule_id: str) -> models.Schedule:
    def work(session: Session) -> models.Schedule:
        schedule = store.get_schedule(session, viewer, schedule_id)
        return models.Schedule.from_row(
            schedule, store.last_runs(session, [schedule.id]).get(schedule.id)
        )

    return await service.db(work)


async def update_schedule(
    service: JobService, viewer: Viewer, schedule_id: str, body: models.ScheduleUpdate
) -> models.Schedule:
    def load(session: Session) -> tuple[str, str, str, str]:
        schedule = store.owned_schedule(session, viewer, schedule_id)
        content = store.notebook_content(session, schedule.definition.notebook_sha256)
        return schedule.cron, schedule.timezone, content, schedule.definition.image

    cron, timezone, content, image = await service.db(load)
    timezone = body.timezone or timezone
    cron = _when(body.cron or cron, timezone, service.clock())[0]
    profile = None if body.profile is None else _pick_profile(service, viewer, body.profile)
    if profile is not None and image:
        refusal = image_refusal(profile, _repository(service, image))
        if refusal:
            raise Invalid(refusal)
    values = None
    if body.parameters is not None:
        info = parameters.inspect_notebook(parameters.read_notebook(content))
        try:
            values = parameters.check(info, body.parameters)
        except parameters.ParameterError as e:
            raise Invalid(str(e)) from None

    def work(session: Session) -> models.Schedule:
        now = service.clock()
        schedule = store.owned_schedule(session, viewer, schedule_id)
        schedule.cron, schedule.timezone = cron, timezone
        if body.paused is not None:
            schedule.paused = body.paused
        if values is not None:
            schedule.definition.parameters = values
        if profile is not None:
            schedule.definition.profile = profile.name
        schedule.next_run_at = scheduler.next_run(cron, timezone, schedule.paused, now)
        schedule.updated_at = now
        session.flush()
        return models.Schedule.from_row(
            schedule, store.last_runs(session, [schedule.id]).get(schedule.id)
        )

    return await service.db(work)


def _repository(service: JobService, image: str) -> str:
    """The catalog repository of a pinned image reference (`<prefix>/<repo>:<tag>@<digest>`)."""
    ref = image.partition("@")[0]
    prefix = service.catalog.pull_prefix if service.catalog is not None else ""
    if prefix and ref.startswith(prefix + "/"):
        ref = ref[len(prefix) + 1 :]
    return ref.rpartition(":")[0] if ":" in ref.rpartition("/")[2] else ref


async def delete_schedule(service: JobService, viewer: Viewer, schedule_id: str) -> None:
    """Remove the schedule; its runs (and their definition) stay in the job list."""

    def work(session: Session) -> None:
        session.delete(store.owned_schedule(session, viewer, schedule_id))

    await service.db(work)


# --- notification settings -------------------------------------------------------------------


def _notify_model(service: JobService, found: store.NotifySettings) -> models.NotifySettingsModel:
    return models.NotifySettingsModel(
        webhook_url=found.webhook_url, email=found.email or "", events=found.events,  # type: ignore[arg-type]
        email_available=service.notifiers["email"].available,
        email_setup=service.notifiers["email"].setup,
    )  # fmt: skip


async def get_notify(service: JobService, viewer: Viewer) -> models.NotifySettingsModel:
    return await service.db(lambda s: _notify_model(service, store.notify_settings(s, viewer.name)))


async def put_notify(
    service: JobService, viewer: Viewer, body: models.NotifySettingsUpdate
) -> models.NotifySettingsModel:
    """Replace the viewer's settings. A bad webhook is a 400; an e-mail address that is not
    one a 422. An address is saved where the platform cannot send mail yet (`email_available`
    false, `email_setup` says how an admin turns it on): it is used once it can."""
    if not viewer.is_user:
        raise Forbidden("only users have notification settings")
    url, email = body.webhook_url.strip(), body.email.strip()
    if url:
        try:
            service.notifiers["webhook_url"].check(url)
        except NotifyError as e:
            raise Invalid(str(e)) from None
    if email:
        try:
            service.notifiers["email"].check(email)
        except NotifyError as e:
            raise Unprocessable(str(e)) from None

    def work(session: Session) -> models.NotifySettingsModel:
        saved = store.save_notify_settings(session, viewer, url, body.events, email=email)
        return _notify_model(service, saved)

    return await service.db(work)


__all__ = [
    "cancel",
    "create_schedule",
    "delete_schedule",
    "get_job",
    "get_notify",
    "get_schedule",
    "inspect",
    "job_parameters",
    "list_jobs",
    "list_schedules",
    "logs",
    "output",
    "preview",
    "put_notify",
    "rerun",
    "schedule_parameters",
    "submit",
    "update_schedule",
]
