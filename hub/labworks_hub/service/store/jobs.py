"""Notebook jobs in the store: job definitions, runs, schedules, run events, input notebooks.

Every state change is a row here first; the job service acts on it afterwards, so a restart
finds everything it needs in these tables. Who may see what is the access layer's one rule
(`Shareable.visible_to`, access.py): a run, definition or schedule is visible to its owner and,
when shared with a group (`visibility` `group:<name>`; `share_group` on the wire), to that
group's members. Anything not visible is reported as missing (404) so its existence does not
leak; only the owner may change it (cancel, pause, delete).

A run moves through the states of `TRANSITIONS`; every move is an UPDATE guarded by the state
it leaves (compare and set) plus an event row, so concurrent requests cannot both win.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    Boolean,
    CursorResult,
    ForeignKey,
    Integer,
    String,
    Text,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship, undefer

from ..access import Conflict, Forbidden, NotFound, Shareable, Viewer, Visibility
from .models import Base, UTCDateTime, utcnow

__all__ = [
    "ACTIVE",
    "FINISHED",
    "TRANSITIONS",
    "JobDefinition",
    "JobNotebook",
    "JobRun",
    "JobRunEvent",
    "JobSchedule",
    "NotifySettings",
]

QUEUED, RUNNING = "queued", "running"
SUCCEEDED, FAILED, CANCELLED, TIMED_OUT = "succeeded", "failed", "cancelled", "timed_out"
ACTIVE = (QUEUED, RUNNING)
FINISHED = (SUCCEEDED, FAILED, CANCELLED, TIMED_OUT)
STATUSES = (*ACTIVE, *FINISHED)
# The state machine of a run: a failed or timed-out attempt with retries left goes back to
# queued (with a backoff in `not_before`); a run that cannot start at all (its profile was
# removed) fails from queued; finished runs never change again.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    QUEUED: (RUNNING, CANCELLED, FAILED),
    RUNNING: (QUEUED, SUCCEEDED, FAILED, CANCELLED, TIMED_OUT),
}


def new_id() -> str:
    """12 hex digits: short enough to type, random enough not to be guessed or collide."""
    return secrets.token_hex(6)


class JobNotebook(Base):
    """An input notebook, content-addressed: runs and definitions point at the exact copy."""

    __tablename__ = "lw_job_notebooks"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    content: Mapped[str] = mapped_column(Text, deferred=True)
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class _Spec:
    """Columns saying what to run; a definition holds them, each run keeps its own copy."""

    name: Mapped[str] = mapped_column(String(255))
    notebook_path: Mapped[str] = mapped_column(String(1024), default="")
    notebook_sha256: Mapped[str] = mapped_column(ForeignKey("lw_job_notebooks.sha256"))
    parameters: Mapped[dict] = mapped_column(default=dict)
    profile: Mapped[str] = mapped_column(String(255))
    kernel_name: Mapped[str] = mapped_column(String(255), default="")
    image: Mapped[str] = mapped_column(String(1024), default="")
    timeout: Mapped[int] = mapped_column(Integer)
    max_retries: Mapped[int] = mapped_column(Integer, default=0)
    priority: Mapped[int] = mapped_column(Integer, default=0)


class _GroupShared(Shareable):
    """Jobs are shared with one group or none: `share_group` is that group, as on the wire."""

    @property
    def share_group(self) -> str | None:
        return self.shared_as.group


class JobDefinition(_GroupShared, _Spec, Base):
    """What to run: a notebook with parameters, profile and limits. One per submitted job or
    schedule; reruns and scheduled firings make more runs of the same definition."""

    __tablename__ = "lw_job_definitions"

    id: Mapped[str] = mapped_column(String(12), primary_key=True, default=new_id)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    schedule: Mapped[JobSchedule | None] = relationship(
        back_populates="definition", uselist=False, cascade="all, delete-orphan"
    )


class JobSchedule(Base):
    """When to run a definition: a cron expression in a time zone, paused or not."""

    __tablename__ = "lw_job_schedules"

    id: Mapped[str] = mapped_column(String(12), primary_key=True, default=new_id)
    definition_id: Mapped[str] = mapped_column(
        ForeignKey("lw_job_definitions.id", ondelete="CASCADE"), unique=True
    )
    cron: Mapped[str] = mapped_column(String(255))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True, default=None)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    definition: Mapped[JobDefinition] = relationship(back_populates="schedule")


class JobRun(_GroupShared, _Spec, Base):
    """One execution of a definition with its exact inputs, environment and outcome."""

    __tablename__ = "lw_job_runs"

    id: Mapped[str] = mapped_column(String(12), primary_key=True, default=new_id)
    definition_id: Mapped[str] = mapped_column(
        ForeignKey("lw_job_definitions.id", ondelete="CASCADE"), index=True
    )
    schedule_id: Mapped[str | None] = mapped_column(String(12), index=True, default=None)
    rerun_of: Mapped[str | None] = mapped_column(String(12), default=None)
    trigger: Mapped[str] = mapped_column(String(16), default="api")  # api, schedule, rerun
    resources: Mapped[dict] = mapped_column(default=dict)  # cpu, memory, gpus of the profile
    environment: Mapped[dict] = mapped_column(default=dict)  # env hash or image digest
    executor: Mapped[str] = mapped_column(String(64), default="")
    executor_state: Mapped[dict] = mapped_column(default=dict)  # pid, Job name, GPUs, ...
    status: Mapped[str] = mapped_column(String(16), index=True, default=QUEUED)
    reason: Mapped[str] = mapped_column(Text, default="")
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    has_output: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class JobRunEvent(Base):
    """What happened to a run, in order: queued, started, retry, reattached, finished, ..."""

    __tablename__ = "lw_job_run_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[str] = mapped_column(
        ForeignKey("lw_job_runs.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text, default="")


class NotifySettings(Base):
    """How a user hears about finished jobs: a webhook and/or an e-mail, and which outcomes."""

    __tablename__ = "lw_job_notify_settings"

    owner: Mapped[str] = mapped_column(String(255), primary_key=True)
    webhook_url: Mapped[str] = mapped_column(Text, default="")
    email: Mapped[str] = mapped_column(String(320), default="")
    events: Mapped[str] = mapped_column(String(16), default="failed")  # failed, finished, none
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


SPEC_FIELDS = (
    "name", "notebook_path", "notebook_sha256", "parameters", "profile", "kernel_name", "image",
    "timeout", "max_retries", "priority",
)  # fmt: skip


# --- who may change what ---------------------------------------------------------------------


def _owned(thing: Any, viewer: Viewer, what: str) -> None:
    if not viewer.owns(thing.owner):
        raise Forbidden(f"{what} belongs to {thing.owner!r}; only they can change it")


# --- notebooks and definitions ---------------------------------------------------------------


def save_notebook(session: Session, canonical: str) -> str:
    """Keep an input notebook (its canonical JSON) once; returns its sha256."""
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    if session.get(JobNotebook, digest) is None:
        try:
            with session.begin_nested():
                session.add(JobNotebook(sha256=digest, content=canonical, size=len(canonical)))
        except IntegrityError:  # the same notebook was saved at the same moment: same content
            pass
    return digest


def notebook_content(session: Session, sha256: str) -> str:
    notebook = session.scalar(
        select(JobNotebook)
        .options(undefer(JobNotebook.content))
        .where(JobNotebook.sha256 == sha256)
    )
    if notebook is None:
        raise NotFound(f"input notebook {sha256[:12]} is missing from the store")
    return notebook.content


def create_definition(
    session: Session, viewer: Viewer, share_group: str | None, **spec: Any
) -> JobDefinition:
    """A new definition of the viewer's, shared with `share_group` (one of theirs) or no one."""
    visibility = Visibility.of_group(share_group).settable_by(viewer)
    definition = JobDefinition(owner=viewer.name, visibility=visibility.value, **spec)
    session.add(definition)
    session.flush()
    return definition


def create_run(
    session: Session,
    definition: JobDefinition,
    *,
    trigger: str,
    parameters: dict | None = None,
    resources: dict | None = None,
    environment: dict | None = None,
    executor: str = "",
    schedule_id: str | None = None,
    rerun_of: str | None = None,
    now: datetime | None = None,
) -> JobRun:
    """A new queued run of `definition` (its spec copied; `parameters` override)."""
    now = now or utcnow()
    spec = {name: getattr(definition, name) for name in SPEC_FIELDS}
    if parameters is not None:
        spec["parameters"] = parameters
    run = JobRun(
        definition_id=definition.id, owner=definition.owner, visibility=definition.visibility,
        trigger=trigger, schedule_id=schedule_id, rerun_of=rerun_of, resources=resources or {},
        environment=environment or {}, executor=executor, created_at=now, updated_at=now,
        not_before=now, **spec,
    )  # fmt: skip
    session.add(run)
    session.flush()
    add_event(session, run.id, "queued", f"queued ({trigger})", attempt=0, now=now)
    return run


def add_event(
    session: Session,
    run_id: str,
    kind: str,
    message: str = "",
    *,
    attempt: int = 0,
    now: datetime | None = None,
) -> None:
    session.add(
        JobRunEvent(run_id=run_id, kind=kind, message=message, attempt=attempt, at=now or utcnow())
    )


# --- runs as a viewer sees them --------------------------------------------------------------


def get_run(session: Session, viewer: Viewer, run_id: str) -> JobRun:
    run = session.scalar(select(JobRun).where(JobRun.id == run_id, JobRun.visible_to(viewer)))
    if run is None:
        raise NotFound(f"no job {run_id!r} (yours or your groups')")
    return run


def list_runs(
    session: Session,
    viewer: Viewer,
    *,
    status: Sequence[str] | None = None,
    search: str = "",
    mine: bool = False,
    schedule_id: str | None = None,
    updated_since: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[JobRun], int]:
    """Visible runs, newest first, and how many match in all."""
    query = select(JobRun).where(JobRun.visible_to(viewer))
    if mine:
        query = query.where(JobRun.owner == viewer.name)
    if status:
        query = query.where(JobRun.status.in_(status))
    if search:
        pattern = f"%{_escape_like(search.lower())}%"
        query = query.where(
            or_(
                func.lower(JobRun.name).like(pattern, escape="\\"),
                func.lower(JobRun.notebook_path).like(pattern, escape="\\"),
            )
        )
    if schedule_id:
        query = query.where(JobRun.schedule_id == schedule_id)
    if updated_since:
        query = query.where(JobRun.updated_at > updated_since)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = query.order_by(JobRun.created_at.desc(), JobRun.id.desc()).limit(limit).offset(offset)
    return list(session.scalars(page)), total


def run_events(session: Session, run_id: str) -> list[JobRunEvent]:
    query = select(JobRunEvent).where(JobRunEvent.run_id == run_id).order_by(JobRunEvent.id)
    return list(session.scalars(query))


def request_cancel(session: Session, viewer: Viewer, run_id: str) -> JobRun:
    """Cancel a queued run now, or ask the service to stop a running one (409 if finished)."""
    run = get_run(session, viewer, run_id)
    _owned(run, viewer, f"job {run_id}")
    if run.status == QUEUED and move(session, run, QUEUED, CANCELLED, "cancelled while queued"):
        return run
    if run.status == RUNNING:
        if not run.cancel_requested:
            now = utcnow()
            session.execute(
                update(JobRun)
                .where(JobRun.id == run.id, JobRun.status == RUNNING)
                .values(cancel_requested=True, updated_at=now)
            )
            add_event(session, run.id, "cancel_requested", f"by {viewer.name}", attempt=run.attempt)
            session.refresh(run)
        return run
    raise Conflict(f"job {run_id} already ended ({run.status}); nothing to cancel")


# --- state changes (the job service) ---------------------------------------------------------


def move(
    session: Session,
    run: JobRun,
    source: str,
    target: str,
    reason: str = "",
    *,
    now: datetime | None = None,
    **values: Any,
) -> bool:
    """Move `run` from `source` to `target` if it still is in `source`; False if it is not."""
    if target not in TRANSITIONS.get(source, ()):
        raise ValueError(f"a run cannot go from {source} to {target}")
    now = now or utcnow()
    if target in FINISHED:
        values.setdefault("finished_at", now)
    if target == RUNNING:
        values.setdefault("started_at", now)
    result = session.execute(
        update(JobRun)
        .where(JobRun.id == run.id, JobRun.status == source)
        .values(status=target, reason=reason, updated_at=now, **values)
    )
    changed = cast(CursorResult, result).rowcount
    if not changed:
        session.refresh(run)
        return False
    attempt = values.get("attempt", run.attempt)
    add_event(session, run.id, target, reason, attempt=attempt, now=now)
    session.flush()
    session.refresh(run)
    return True


def save_running_state(session: Session, run_id: str, state: dict) -> None:
    """Keep the executor's state of a running attempt (what a restart re-attaches to)."""
    run = session.get(JobRun, run_id)
    if run is not None and run.status == RUNNING:
        run.executor_state = dict(state)
        run.updated_at = utcnow()


def add_run_event(session: Session, run_id: str, kind: str, message: str) -> None:
    """An event of the run's current attempt, if the run still exists."""
    run = session.get(JobRun, run_id)
    if run is not None:
        add_event(session, run_id, kind, message, attempt=run.attempt)


def end_attempt(
    session: Session,
    run_id: str,
    status: str,
    reason: str,
    has_output: bool,
    backoff: float,
    now: datetime,
) -> str:
    """Record the end of the run's attempt (finish, or fail a run that never started); the
    status taken, '' when the run is gone."""
    run = session.get(JobRun, run_id)
    if run is None:
        return ""
    if run.status == QUEUED:  # could not start at all: no attempt to retry
        move(session, run, QUEUED, FAILED, reason, now=now)
        return FAILED
    if run.status != RUNNING:
        return run.status
    return finish(
        session, run, status, reason, retry_backoff=backoff, now=now, has_output=has_output
    )


def runs_due(session: Session, now: datetime, limit: int = 200) -> list[JobRun]:
    """Queued runs whose backoff is over, in queue order (priority, then age)."""
    query = (
        select(JobRun)
        .where(JobRun.status == QUEUED, JobRun.not_before <= now)
        .order_by(JobRun.priority.desc(), JobRun.created_at, JobRun.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def runs_running(session: Session) -> list[JobRun]:
    return list(session.scalars(select(JobRun).where(JobRun.status == RUNNING)))


def finish(
    session: Session,
    run: JobRun,
    status: str,
    reason: str,
    *,
    retry_backoff: float,
    now: datetime | None = None,
    has_output: bool = False,
) -> str:
    """End the current attempt: retry (back to queued with a backoff) when a failed or
    timed-out attempt has retries left, else the final status. Returns the status taken."""
    now = now or utcnow()
    retry = (
        status in (FAILED, TIMED_OUT)
        and run.attempt <= run.max_retries
        and not (run.cancel_requested)
    )
    if retry:
        delay = retry_backoff * 2 ** (run.attempt - 1)
        note = f"{reason}; retry {run.attempt} of {run.max_retries} in {delay:g}s"
        moved = move(
            session, run, RUNNING, QUEUED, note, now=now, has_output=has_output,
            not_before=now + timedelta(seconds=delay), executor_state={}, started_at=None,
        )  # fmt: skip
        return QUEUED if moved else run.status
    move(session, run, RUNNING, status, reason, now=now, has_output=has_output)
    return status


# --- schedules -------------------------------------------------------------------------------


def get_schedule(session: Session, viewer: Viewer, schedule_id: str) -> JobSchedule:
    schedule = session.scalar(
        select(JobSchedule)
        .join(JobDefinition)
        .where(JobSchedule.id == schedule_id, JobDefinition.visible_to(viewer))
    )
    if schedule is None:
        raise NotFound(f"no schedule {schedule_id!r} (yours or your groups')")
    return schedule


def list_schedules(session: Session, viewer: Viewer) -> list[JobSchedule]:
    query = (
        select(JobSchedule)
        .join(JobDefinition)
        .where(JobDefinition.visible_to(viewer))
        .order_by(JobSchedule.created_at.desc(), JobSchedule.id)
    )
    return list(session.scalars(query))


def owned_schedule(session: Session, viewer: Viewer, schedule_id: str) -> JobSchedule:
    schedule = get_schedule(session, viewer, schedule_id)
    _owned(schedule.definition, viewer, f"schedule {schedule_id}")
    return schedule


def schedules_due(session: Session, now: datetime) -> list[JobSchedule]:
    query = (
        select(JobSchedule)
        .where(JobSchedule.paused.is_(False), JobSchedule.next_run_at <= now)
        .order_by(JobSchedule.next_run_at)
    )
    return list(session.scalars(query))


def advance_schedule(
    session: Session, schedule: JobSchedule, now: datetime, next_run: datetime
) -> bool:
    """Move a due schedule to `next_run` if no one else did (compare and set); True if moved."""
    result = session.execute(
        update(JobSchedule)
        .where(JobSchedule.id == schedule.id, JobSchedule.next_run_at == schedule.next_run_at)
        .values(last_run_at=now, next_run_at=next_run, updated_at=now)
    )
    session.refresh(schedule)
    return cast(CursorResult, result).rowcount == 1


def last_runs(session: Session, schedule_ids: list[str]) -> dict[str, JobRun]:
    """The newest run of each schedule."""
    if not schedule_ids:
        return {}
    newest = (
        select(JobRun.schedule_id, func.max(JobRun.created_at).label("at"))
        .where(JobRun.schedule_id.in_(schedule_ids))
        .group_by(JobRun.schedule_id)
        .subquery()
    )
    rows = session.scalars(
        select(JobRun).join(
            newest,
            (JobRun.schedule_id == newest.c.schedule_id) & (JobRun.created_at == newest.c.at),
        )
    )
    return {run.schedule_id: run for run in rows if run.schedule_id}


# --- notification settings -------------------------------------------------------------------

NOTIFY_EVENTS = ("failed", "finished", "none")


def notify_settings(session: Session, owner: str) -> NotifySettings:
    """The owner's settings; the defaults (failures, no destination) when they saved none."""
    found = session.get(NotifySettings, owner)
    return found or NotifySettings(owner=owner, webhook_url="", email="", events="failed")


def save_notify_settings(
    session: Session, viewer: Viewer, webhook_url: str, events: str, *, email: str = ""
) -> NotifySettings:
    """Replace the viewer's settings (checked by the caller)."""
    settings = session.get(NotifySettings, viewer.name)
    if settings is None:
        settings = NotifySettings(owner=viewer.name)
        session.add(settings)
    settings.webhook_url, settings.email, settings.events = webhook_url, email, events
    settings.updated_at = utcnow()
    session.flush()
    return settings


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
