"""Wire types of the jobs and schedules API (pydantic; they make the OpenAPI schema)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, Field

from ..validation import Name, ShownPath, check_name

if TYPE_CHECKING:
    from ..store.jobs import JobRun, JobSchedule

Status = Literal["queued", "running", "succeeded", "failed", "cancelled", "timed_out"]
MAX_TIMEOUT = 7 * 24 * 3600
MAX_CRON_CHARS = 255  # the store's column
MAX_ZONE_CHARS = 64  # the store's column; the longest IANA name has 32
Cron = Annotated[
    str,
    Field(
        max_length=MAX_CRON_CHARS,
        description="Five-field cron expression, e.g. '0 6 * * 1-5', or @daily.",
    ),
]
TimeZone = Annotated[
    str,
    Field(max_length=MAX_ZONE_CHARS, description="IANA time zone the cron expression is read in."),
]


class Settings(BaseModel):
    """What to run and how: the fields a job and a schedule share."""

    content: dict[str, Any] = Field(description="The notebook (nbformat 4 JSON).")
    path: ShownPath = Field(
        "", description="Where the notebook lives in the workspace (shown only)."
    )
    name: Name = Field("", description="Job name; default: the notebook's file name.")
    parameters: dict[str, Any] = Field(
        default_factory=dict,
        description="Values for the notebook's `parameters` cell, checked against its types.",
    )
    profile: str | None = Field(
        None, max_length=255, description="Profile to run on; default: the first one."
    )
    kernel_name: str | None = Field(
        None, max_length=255, description="Kernel to use instead of the notebook's own kernelspec."
    )
    image: str | None = Field(
        None,
        max_length=1024,
        description="Catalog image `repository:tag` (executors that run images; the local"
        " executor takes none).",
    )
    timeout: int | None = Field(
        None, ge=1, le=MAX_TIMEOUT, description="Seconds before the job is stopped."
    )
    retries: int = Field(0, ge=0, le=10, description="Attempts after a failure or timeout.")
    priority: int = Field(0, ge=-100, le=100, description="Higher runs first.")
    share_with_group: str | None = Field(
        None,
        max_length=255,
        description="A group of yours whose members may see this job (read-only).",
    )


class JobRequest(Settings):
    """POST /jobs: run a notebook now."""


class ScheduleRequest(Settings):
    """POST /schedules: run a notebook on a cron schedule."""

    cron: Cron
    timezone: TimeZone = "UTC"


class ScheduleUpdate(BaseModel):
    """PATCH /schedules/{id}: change when or what a schedule runs; omitted fields stay."""

    cron: Cron | None = None
    timezone: TimeZone | None = None
    paused: bool | None = None
    parameters: dict[str, Any] | None = Field(
        default=None, description="Parameter values (all of them), checked against the notebook."
    )
    profile: str | None = Field(
        default=None, max_length=255, description="Profile its next runs use."
    )


class InspectRequest(BaseModel):
    content: dict[str, Any] = Field(description="The notebook (nbformat 4 JSON).")
    kernel_name: str | None = Field(
        None, max_length=255, description="Kernel that would run it, if not its own."
    )


class ParameterInfo(BaseModel):
    name: str
    type: Literal["int", "float", "bool", "str", "list", "dict", "any"]
    default: Any = Field(description="The default as JSON; null when it is not a literal.")
    default_text: str = Field(description="The default as written in the cell.")
    help: str = Field(description="The comment after the assignment, if any.")


class InspectResult(BaseModel):
    kernel_name: str
    language: str
    has_parameters_cell: bool
    inspectable: bool = Field(description="False: this language's parameters cannot be listed.")
    parameters: list[ParameterInfo]


class RerunRequest(BaseModel):
    parameters: dict[str, Any] | None = Field(
        None, description="New parameter values (all of them); omitted: the run's own."
    )


class Event(BaseModel):
    at: datetime
    attempt: int
    kind: str
    message: str


class Job(BaseModel):
    """One run of a notebook job."""

    id: str
    name: str
    owner: str
    shared_with_group: str | None
    status: Status
    reason: str = Field(description="Why it failed, timed out, was cancelled or is retried.")
    notebook_path: str
    notebook_sha256: str = Field(description="sha256 of the exact input notebook kept.")
    parameters: dict[str, Any]
    profile: str
    kernel_name: str
    image: str
    environment: dict[str, Any] = Field(
        description="Where it ran: {kind: local, env_hash} or {kind: image, image, digest}."
    )
    executor: str
    timeout: int
    retries: int
    priority: int
    attempt: int = Field(description="Attempts started so far (0 while first queued).")
    cancel_requested: bool
    has_output: bool
    trigger: Literal["api", "schedule", "rerun", "sweep"]
    schedule_id: str | None
    rerun_of: str | None
    created_at: datetime
    updated_at: datetime
    not_before: datetime = Field(description="A queued retry waits until then.")
    started_at: datetime | None
    finished_at: datetime | None
    duration_seconds: float | None

    @classmethod
    def from_run(cls, run: JobRun) -> Job:
        duration = None
        if run.started_at and run.finished_at:
            duration = (run.finished_at - run.started_at).total_seconds()
        return cls.model_validate(dict(
            id=run.id, name=run.name, owner=run.owner, shared_with_group=run.share_group,
            status=run.status, reason=run.reason, notebook_path=run.notebook_path,
            notebook_sha256=run.notebook_sha256, parameters=run.parameters, profile=run.profile,
            kernel_name=run.kernel_name, image=run.image, environment=run.environment,
            executor=run.executor, timeout=run.timeout, retries=run.max_retries,
            priority=run.priority, attempt=run.attempt, cancel_requested=run.cancel_requested,
            has_output=run.has_output, trigger=run.trigger, schedule_id=run.schedule_id,
            rerun_of=run.rerun_of, created_at=run.created_at, updated_at=run.updated_at,
            not_before=run.not_before, started_at=run.started_at, finished_at=run.finished_at,
            duration_seconds=duration,
        ))  # fmt: skip


class JobDetail(Job):
    events: list[Event]


class JobList(BaseModel):
    jobs: list[Job]
    total: int
    limit: int
    offset: int


class LogChunk(BaseModel):
    job_id: str
    attempt: int
    offset: int
    next_offset: int = Field(description="Ask again from here for more.")
    text: str
    complete: bool = Field(description="True: the attempt ended and this is the end of its log.")


class Output(BaseModel):
    job_id: str
    attempt: int
    complete: bool = Field(description="False: the job still runs; this is its latest save.")
    content: dict[str, Any] = Field(description="The output notebook (nbformat 4 JSON).")


class JobRuns(BaseModel):
    job_id: str
    runs: list[str] = Field(
        description="Ids of the MLflow runs the job logged that you may read, newest first."
    )


class Input(BaseModel):
    job_id: str
    path: str = Field(description="Where the notebook was in the owner's workspace.")
    sha256: str = Field(description="sha256 of the stored copy (canonical JSON).")
    content: dict[str, Any] = Field(description="The input notebook (nbformat 4 JSON).")


class Schedule(BaseModel):
    id: str
    definition_id: str
    name: str
    owner: str
    shared_with_group: str | None
    cron: str
    timezone: str
    paused: bool
    next_run_at: datetime | None
    last_run_at: datetime | None
    last_status: Status | None = Field(description="Status of its newest run.")
    notebook_path: str
    parameters: dict[str, Any]
    profile: str
    kernel_name: str
    timeout: int
    retries: int
    priority: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, schedule: JobSchedule, last: JobRun | None) -> Schedule:
        d = schedule.definition
        return cls.model_validate(dict(
            id=schedule.id, definition_id=d.id, name=d.name, owner=d.owner,
            shared_with_group=d.share_group, cron=schedule.cron, timezone=schedule.timezone,
            paused=schedule.paused, next_run_at=schedule.next_run_at,
            last_run_at=schedule.last_run_at, last_status=last.status if last else None,
            notebook_path=d.notebook_path, parameters=d.parameters, profile=d.profile,
            kernel_name=d.kernel_name, timeout=d.timeout, retries=d.max_retries,
            priority=d.priority, created_at=schedule.created_at, updated_at=schedule.updated_at,
        ))  # fmt: skip


class ScheduleList(BaseModel):
    schedules: list[Schedule]


class PreviewRequest(BaseModel):
    cron: Cron
    timezone: TimeZone = "UTC"
    count: int = Field(3, ge=1, le=20)


class Preview(BaseModel):
    cron: str = Field(description="The expression, normalized.")
    timezone: str
    next_runs: list[datetime] = Field(description="Next firing times, in the time zone.")


def _url(url: str) -> str:
    """A one-line URL with a valid port, or '' (the notifier decides whether it may be used)."""
    check_name(url, "URL")
    try:
        _ = urlsplit(url).port  # reading it raises for a bad port or IPv6 address
    except ValueError as e:
        raise ValueError(f"not a URL: {e}") from None
    return url


class NotifySettingsUpdate(BaseModel):
    """PUT /jobs/notifications: where and when to hear that my jobs ended (all fields)."""

    webhook_url: Annotated[str, AfterValidator(_url)] = Field(
        "", max_length=2048, description="Empty: no webhook."
    )
    email: str = Field(
        "", max_length=320, description="Address to mail the notices to; empty: no e-mail."
    )
    events: Literal["failed", "finished", "none"] = Field(
        "failed",
        description="failed: failures and timeouts; finished: every end; none: no notices.",
    )


class NotifySettingsModel(NotifySettingsUpdate):
    """My notification settings, and whether this platform can send e-mail."""

    email_available: bool = Field(
        False,
        description="False: the platform has no SMTP server; an address is kept but no mail is"
        " sent until it has one (read-only; ignored in a PUT).",
    )
    email_setup: str = Field(
        "",
        description="When e-mail is not available: how an admin configures it (read-only;"
        " ignored in a PUT).",
    )
