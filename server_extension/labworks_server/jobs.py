"""Notebook jobs and schedules on the user's own server: ``/labworks/jobs/...``,
``/labworks/schedules/...`` and the profiles jobs run on, ``/labworks/profiles``.

The lab sends a notebook's path; submitting, scheduling and inspecting read the notebook through
this server's contents manager (the lab saves it first) and forward its content. Everything else
is forwarded to the platform's jobs API as it is. One route writes into the workspace: the two
notebooks nbdime's diff page compares (``.labworks/jobs/<id>/{source,output}.ipynb``).
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlencode

import tornado.web

from .handlers import LabworksHandler
from .notebooks import read_notebook, write_for_nbdime

DIFF_DIR = ".labworks/jobs"
JOB_ID = r"([0-9a-f]{1,64})"
# The fields of the platform's POST /jobs a request from the lab may set (besides the path).
SETTINGS = (
    "name", "parameters", "profile", "kernel_name", "image", "timeout", "retries", "priority",
    "share_with_group",
)  # fmt: skip
SCHEDULE_SETTINGS = (*SETTINGS, "cron", "timezone")
# What PATCH /schedules/<id> may change, and the fields of PUT /jobs/notifications.
SCHEDULE_CHANGES = ("cron", "timezone", "parameters", "profile", "paused")
NOTIFY_SETTINGS = ("webhook_url", "email", "events")


def _query(handler: tornado.web.RequestHandler, names: tuple[str, ...], many: str = "") -> str:
    """The given query arguments, ready to forward (``?a=1&b=2``, or empty)."""
    pairs: list[tuple[str, str]] = []
    for name in names:
        values = handler.get_query_arguments(name)
        pairs.extend((name, v) for v in (values if name == many else values[-1:]))
    return f"?{urlencode(pairs)}" if pairs else ""


class JobsBaseHandler(LabworksHandler):
    """The jobs routes act with the owner's token, so only the owner may use them.

    A GET is not activity: the lab polls jobs, logs and schedules in the background, and that
    must not keep an idle workspace running (a person's clicks are counted by the lab itself).
    """

    owner_may = "run and see jobs from it; open your own workspace to run yours"

    @property
    def _track_activity(self) -> bool:  # type: ignore[override]
        return self.request.method != "GET"

    async def notebook_settings(self, fields: tuple[str, ...]) -> dict[str, Any]:
        """The request body's ``path`` read into ``content``, with the given fields."""
        body = self.json_object()
        path = body.get("path")
        if not isinstance(path, str) or not path.strip("/"):
            raise tornado.web.HTTPError(400, 'give the notebook\'s "path" in this workspace')
        path = path.strip("/")
        content = await read_notebook(self.contents_manager, path)
        forwarded = {key: body[key] for key in fields if key in body}
        return {"content": content, "path": path, **forwarded}


class JobsHandler(JobsBaseHandler):
    """``GET /labworks/jobs``: my jobs and my groups'; ``POST`` runs a notebook of this
    workspace as a job."""

    @tornado.web.authenticated
    async def get(self) -> None:
        names = ("status", "q", "mine", "updated_since", "limit", "offset")
        self.finish(await self.platform.get(f"/jobs{_query(self, names, many='status')}"))

    @tornado.web.authenticated
    async def post(self) -> None:
        """Body: ``{"path", "parameters", "profile", "name", "timeout", "retries", ...}``."""
        request = await self.notebook_settings(SETTINGS)
        job = await self.platform.post("/jobs", request)
        self.set_status(201)
        self.finish(job)


class ProfilesHandler(JobsBaseHandler):
    """``GET /labworks/profiles``: the workspace profiles jobs run on, each with its CPU,
    memory and GPUs, the default, and whether the owner can run jobs on it (and why not)."""

    @tornado.web.authenticated
    async def get(self) -> None:
        self.finish(await self.platform.get("/profiles"))


class NotificationsHandler(JobsBaseHandler):
    """``GET /labworks/jobs/notifications``: how the owner hears about jobs ending (webhook,
    e-mail, events, and whether the platform can send e-mail); ``PUT`` replaces them."""

    @tornado.web.authenticated
    async def get(self) -> None:
        self.finish(await self.platform.get("/jobs/notifications"))

    @tornado.web.authenticated
    async def put(self) -> None:
        """Body: ``{"webhook_url", "email", "events"}``."""
        body = self.json_object()
        settings = {key: body[key] for key in NOTIFY_SETTINGS if key in body}
        self.finish(await self.platform.put("/jobs/notifications", settings))


class InspectHandler(JobsBaseHandler):
    """``GET /labworks/jobs/inspect?path=P[&kernel_name=K]``: the parameters the notebook's
    ``parameters`` cell declares, with their types and defaults."""

    @tornado.web.authenticated
    async def get(self) -> None:
        content = await read_notebook(self.contents_manager, self.get_query_argument("path", ""))
        kernel = self.get_query_argument("kernel_name", "") or None
        self.finish(
            await self.platform.post("/jobs/inspect", {"content": content, "kernel_name": kernel})
        )


class JobHandler(JobsBaseHandler):
    """``GET /labworks/jobs/<id>``: one job with its history."""

    @tornado.web.authenticated
    async def get(self, job_id: str) -> None:
        self.finish(await self.platform.get(f"/jobs/{job_id}"))


class LogsHandler(JobsBaseHandler):
    """``GET /labworks/jobs/<id>/logs?offset=N``: the log from byte N (tail it with
    ``next_offset``)."""

    @tornado.web.authenticated
    async def get(self, job_id: str) -> None:
        query = _query(self, ("offset", "limit", "attempt"))
        self.finish(await self.platform.get(f"/jobs/{job_id}/logs{query}"))


class OutputHandler(JobsBaseHandler):
    """``GET /labworks/jobs/<id>/output``: the output notebook (the lab's read-only
    ``LabworksJobs:`` drive reads this)."""

    @tornado.web.authenticated
    async def get(self, job_id: str) -> None:
        query = _query(self, ("attempt",))
        self.finish(await self.platform.get(f"/jobs/{job_id}/output{query}"))


class JobParametersHandler(JobsBaseHandler):
    """``GET /labworks/jobs/<id>/parameters``: the parameters the job's notebook declares,
    as the platform reads them from the exact input notebook it kept."""

    @tornado.web.authenticated
    async def get(self, job_id: str) -> None:
        self.finish(await self.platform.get(f"/jobs/{job_id}/parameters"))


class JobRunsHandler(JobsBaseHandler):
    """``GET /labworks/jobs/<id>/runs``: the ids of the MLflow runs the job logged that the
    user may read, newest first."""

    @tornado.web.authenticated
    async def get(self, job_id: str) -> None:
        self.finish(await self.platform.get(f"/jobs/{job_id}/runs"))


class CancelHandler(JobsBaseHandler):
    """``POST /labworks/jobs/<id>/cancel``: cancel a queued job or stop a running one."""

    @tornado.web.authenticated
    async def post(self, job_id: str) -> None:
        self.finish(await self.platform.post(f"/jobs/{job_id}/cancel", {}))


class RerunHandler(JobsBaseHandler):
    """``POST /labworks/jobs/<id>/rerun``: a new job from the same notebook copy; body
    ``{"parameters": {...}}`` (optional: all values; omitted, the job's own)."""

    @tornado.web.authenticated
    async def post(self, job_id: str) -> None:
        body = self.get_json_body() or {}
        if not isinstance(body, dict):
            raise tornado.web.HTTPError(400, "send a JSON object in the request body")
        parameters = body.get("parameters")
        if parameters is not None and not isinstance(parameters, dict):
            raise tornado.web.HTTPError(400, '"parameters" must be an object of name: value')
        job = await self.platform.post(f"/jobs/{job_id}/rerun", {"parameters": parameters})
        self.set_status(201)
        self.finish(job)


class JobDiffFilesHandler(JobsBaseHandler):
    """``POST /labworks/jobs/<id>/diff-files``: write the exact notebook the job ran (kept by
    the platform) and its output where nbdime's diff page reads them.

    Answers ``{"base", "remote", "source_path"}``; ``source_path`` is where the notebook was in
    the submitting workspace.
    """

    @tornado.web.authenticated
    async def post(self, job_id: str) -> None:
        source, output = await asyncio.gather(
            self.platform.get(f"/jobs/{job_id}/notebook"),
            self.platform.get(f"/jobs/{job_id}/output"),
        )
        folder = f"{DIFF_DIR}/{job_id}"
        cm = self.contents_manager
        self.finish(
            {
                "base": write_for_nbdime(cm, f"{folder}/source.ipynb", source["content"]),
                "remote": write_for_nbdime(cm, f"{folder}/output.ipynb", output["content"]),
                "source_path": source.get("path", ""),
            }
        )


class SchedulesHandler(JobsBaseHandler):
    """``GET /labworks/schedules``: my schedules and my groups'; ``POST`` puts a notebook of
    this workspace on a cron schedule."""

    @tornado.web.authenticated
    async def get(self) -> None:
        self.finish(await self.platform.get("/schedules"))

    @tornado.web.authenticated
    async def post(self) -> None:
        """Body: the fields of ``POST /labworks/jobs`` plus ``cron`` and ``timezone``."""
        request = await self.notebook_settings(SCHEDULE_SETTINGS)
        schedule = await self.platform.post("/schedules", request)
        self.set_status(201)
        self.finish(schedule)


class PreviewHandler(JobsBaseHandler):
    """``POST /labworks/schedules/preview``: body ``{"cron", "timezone", "count"}``; the next
    firing times."""

    @tornado.web.authenticated
    async def post(self) -> None:
        body = self.json_object()
        request = {key: body[key] for key in ("cron", "timezone", "count") if key in body}
        self.finish(await self.platform.post("/schedules/preview", request))


class ScheduleHandler(JobsBaseHandler):
    """``GET /labworks/schedules/<id>``: one schedule; ``PATCH`` changes it; ``DELETE``
    removes it (its jobs stay)."""

    @tornado.web.authenticated
    async def get(self, schedule_id: str) -> None:
        self.finish(await self.platform.get(f"/schedules/{schedule_id}"))

    @tornado.web.authenticated
    async def patch(self, schedule_id: str) -> None:
        """Body: any of ``{"cron", "timezone", "parameters", "profile", "paused"}``; the
        fields left out stay as they are."""
        body = self.json_object()
        changes = {key: body[key] for key in SCHEDULE_CHANGES if key in body}
        self.finish(await self.platform.patch(f"/schedules/{schedule_id}", changes))

    @tornado.web.authenticated
    async def delete(self, schedule_id: str) -> None:
        await self.platform.delete(f"/schedules/{schedule_id}")
        self.set_status(204)
        self.finish()


class ScheduleActionHandler(JobsBaseHandler):
    """``POST /labworks/schedules/<id>/(pause|resume)``."""

    @tornado.web.authenticated
    async def post(self, schedule_id: str, action: str) -> None:
        self.finish(await self.platform.post(f"/schedules/{schedule_id}/{action}", {}))


class ScheduleParametersHandler(JobsBaseHandler):
    """``GET /labworks/schedules/<id>/parameters``: the parameters the schedule's notebook
    declares, as the platform reads them from the notebook copy the schedule runs."""

    @tornado.web.authenticated
    async def get(self, schedule_id: str) -> None:
        self.finish(await self.platform.get(f"/schedules/{schedule_id}/parameters"))


class ScheduleRunsHandler(JobsBaseHandler):
    """``GET /labworks/schedules/<id>/runs``: the jobs the schedule ran, newest first."""

    @tornado.web.authenticated
    async def get(self, schedule_id: str) -> None:
        query = _query(self, ("limit", "offset"))
        self.finish(await self.platform.get(f"/schedules/{schedule_id}/runs{query}"))


jobs_handlers: list[tuple[str, type[LabworksHandler]]] = [
    (r"/labworks/jobs", JobsHandler),
    (r"/labworks/jobs/inspect", InspectHandler),
    (r"/labworks/jobs/notifications", NotificationsHandler),
    (rf"/labworks/jobs/{JOB_ID}", JobHandler),
    (rf"/labworks/jobs/{JOB_ID}/logs", LogsHandler),
    (rf"/labworks/jobs/{JOB_ID}/output", OutputHandler),
    (rf"/labworks/jobs/{JOB_ID}/parameters", JobParametersHandler),
    (rf"/labworks/jobs/{JOB_ID}/runs", JobRunsHandler),
    (rf"/labworks/jobs/{JOB_ID}/cancel", CancelHandler),
    (rf"/labworks/jobs/{JOB_ID}/rerun", RerunHandler),
    (rf"/labworks/jobs/{JOB_ID}/diff-files", JobDiffFilesHandler),
    (r"/labworks/schedules", SchedulesHandler),
    (r"/labworks/schedules/preview", PreviewHandler),
    (rf"/labworks/schedules/{JOB_ID}", ScheduleHandler),
    (rf"/labworks/schedules/{JOB_ID}/(pause|resume)", ScheduleActionHandler),
    (rf"/labworks/schedules/{JOB_ID}/runs", ScheduleRunsHandler),
    (rf"/labworks/schedules/{JOB_ID}/parameters", ScheduleParametersHandler),
    (r"/labworks/profiles", ProfilesHandler),
]
