"""The cost meter: every `sample_interval` it lists what runs (workspaces, job runs, model
servers: subjects.py), measures each (usage.py, nvml.py), records the interval since its last
sample with its cost (record.py), and logs each ended job's cost on its MLflow run (runs.py).

One meter per platform service process; not thread-safe (one event loop). `clock` is the one
source of "now", so tests drive it with a fake clock. A sample that fails is logged and the next
one goes on from the store's cursors: nothing is lost or counted twice.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from traitlets import Float, Unicode, default
from traitlets.config import LoggingConfigurable

from ...prices import CostPrices
from ...profiles import Profile
from ..access import Viewer
from ..background import cancel
from ..hubapi import HubError
from ..jobs.notify import Notifier
from ..store import Store
from ..store.cost import DEPLOYMENT, JOB, WORKSPACE, CostCursor, CostUsage
from ..store.jobs import FINISHED, JobRun
from ..store.models import utcnow
from .alerts import Fired, budget_alerts, deliver, idle_alert
from .budgets import CostBudgets
from .idle import IdleGPUs
from .nvml import GPUProbe, GPUReading, NVMLProbe
from .overrun import stop_overrun
from .record import Charge, Observed, Price, record_sample
from .report import list_budgets
from .runs import RunLog
from .subjects import Subject, leases, running_deployments, running_jobs
from .usage import ProcessTable, Reading, cgroup_reading, with_gpus

ADMIN = Viewer(name="labworks", admin=True)  # the meter's own view of every budget


class Workspaces(Protocol):
    async def running(self, default_profile: str) -> list[Subject]: ...

    async def stop(self, workspace: str) -> None: ...


@dataclass(frozen=True)
class Running:
    kind: str
    burn_per_hour: float
    cpu_percent: float | None
    gpu_utilization: float | None


@dataclass
class SampleSummary:
    """What one sample found, for the Prometheus figures (service/metrics.py)."""

    charges: list[Charge] = field(default_factory=list)
    running: list[Running] = field(default_factory=list)
    budgets: list[dict] = field(default_factory=list)


class CostMeter(LoggingConfigurable):
    """See the module docstring."""

    sample_interval = Float(15.0, help="Seconds between samples of what runs.").tag(config=True)
    finished_lookback = Float(
        86400.0,
        help="Seconds back the meter looks for job runs that ended without being seen running"
        " (they ran wholly between two samples, or while the service was down); billed once.",
    ).tag(config=True)
    gpu_host = Unicode(
        help="This machine's name in the GPU leases (default: its host name, as GPUAllocator)."
    ).tag(config=True)

    @default("gpu_host")
    def _default_gpu_host(self) -> str:
        return socket.gethostname()

    def __init__(
        self,
        store_: Store,
        prices: CostPrices,
        profiles: list[Profile],
        *,
        clock: Callable[[], datetime] = utcnow,
        workspaces: Workspaces | None = None,
        gpus: GPUProbe | None = None,
        run_log: RunLog | None = None,
        observer: Callable[[SampleSummary], None] | None = None,
        budgets: CostBudgets | None = None,
        notifiers: Mapping[str, Notifier] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.store = store_
        self.prices = prices
        self.profiles = {p.name: p for p in profiles}
        self.default_profile = profiles[0].name if profiles else ""
        self.clock = clock
        self.workspaces = workspaces
        self._gpus = gpus
        self.run_log = run_log
        self.observer = observer
        self.budgets = budgets
        self.notifiers = notifiers or {}
        self.idle = (
            IdleGPUs(budgets.idle_gpu_threshold, budgets.idle_gpu_minutes) if budgets else None
        )
        self._task: asyncio.Task | None = None
        self._hub_warned = False

    @property
    def gpus(self) -> GPUProbe:
        if self._gpus is None:
            self._gpus = NVMLProbe()
        return self._gpus

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="labworks-cost-meter")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel(task)
        if isinstance(self._gpus, NVMLProbe):
            self._gpus.close()

    async def _loop(self) -> None:
        while True:
            try:
                await self.sample()
            except Exception:
                self.log.exception("Cost meter: a sample failed; the next one goes on")
            await asyncio.sleep(self.sample_interval)

    # --- one sample ------------------------------------------------------------------------

    def price_of(self, kind: str, profile_name: str) -> Price:
        """What a subject of `kind` on `profile_name` reserves, and its price per hour."""
        profile = None if kind == DEPLOYMENT else self.profiles.get(profile_name)
        return self.prices.reserved(profile), self.prices.profile_price(profile)

    async def sample(self) -> SampleSummary:
        """List, measure, record and bill once; what it found."""
        now = self.clock()
        subjects, held = await self.store.run(self._listed)
        complete = {JOB, DEPLOYMENT}
        if self.workspaces is not None:
            try:
                subjects += await self.workspaces.running(self.default_profile)
                complete.add(WORKSPACE)
                self._hub_warned = False
            except HubError as e:
                if not self._hub_warned:
                    self.log.warning("Cost meter: workspaces not metered now: %s", e)
                    self._hub_warned = True
        readings = await asyncio.to_thread(self._measure, subjects, held)
        observed = [
            Observed(s, *self.price_of(s.kind, s.profile), readings.get(s.key)) for s in subjects
        ]
        lookback = timedelta(seconds=self.finished_lookback)

        def record(session: Session) -> SampleSummary:
            charges, running = record_sample(
                session, now, observed, complete, self.price_of, lookback
            )
            return self._summary(session, charges, running)

        summary = await self.store.run(record)
        await self._bill_runs()
        if self.observer is not None:
            self.observer(summary)
        try:
            await self._alert(now, summary, observed)
        except Exception:  # alerts never stop the metering; one not recorded fires next time
            self.log.exception("Cost meter: budget and idle-GPU alerts failed this sample")
        return summary

    def _listed(self, session: Session) -> tuple[list[Subject], dict[str, list[int]]]:
        return running_jobs(session) + running_deployments(session), leases(session, self.gpu_host)

    def _measure(self, subjects: list[Subject], held: dict[str, list[int]]) -> dict:
        """A reading per subject that can be measured here (a cgroup, or a pid in /proc)."""
        table = ProcessTable() if any(s.pid for s in subjects) else None
        gpu = self.gpus.read() if any(held.get(s.gpu_holder) for s in subjects) else GPUReading()
        found: dict[tuple[str, str], Reading] = {}
        for subject in subjects:
            reading = cgroup_reading(subject.cgroup) if subject.cgroup else None
            if reading is None and subject.pid and table is not None:
                reading = table.reading(subject.pid, subject.start_ticks)
            if reading is None:
                continue
            leased = held.get(subject.gpu_holder, [])
            found[subject.key] = with_gpus(reading, gpu, leased, set(reading.pids))
        return found

    def _summary(
        self, session: Session, charges: list[Charge], cursors: list[CostCursor]
    ) -> SampleSummary:
        running = [
            Running(c.subject_kind, c.burn_per_hour, c.cpu_percent, c.gpu_utilization)
            for c in cursors
        ]
        budgets = list_budgets(session, ADMIN, self.clock())["budgets"]
        return SampleSummary(charges, running, budgets)

    # --- alerts ----------------------------------------------------------------------------

    async def _alert(self, now: datetime, summary: SampleSummary, observed: list[Observed]) -> None:
        """Fire the budget thresholds crossed and the idle GPU workspaces found, once each."""
        if self.budgets is None or self.idle is None:
            return
        config = self.budgets
        fired: list[Fired] = await self.store.run(budget_alerts, summary.budgets, now, config)
        for idle in self.idle.look(observed, now):
            stop = config.idle_gpu_action == "stop" and self.workspaces is not None
            text = (
                f"GPU workspace {idle.subject.id} has used under {config.idle_gpu_threshold:g}%"
                f" of its GPU since {idle.since:%Y-%m-%d %H:%M} UTC with no activity"
                + ("; it is being stopped." if stop else "; stop it if you are done.")
            )
            found = await self.store.run(
                idle_alert, idle.key, idle.subject.owner, idle.payload, text, now, config
            )
            if found is None:
                continue
            fired.append(found)
            if stop and self.workspaces is not None:
                try:
                    await self.workspaces.stop(idle.subject.id)
                except HubError as e:
                    self.log.warning("Cost meter: idle workspace %s not stopped: %s",
                                     idle.subject.id, e)  # fmt: skip
        if fired:
            await deliver(self.store, self.notifiers, fired)
        if config.over_budget_action == "stop":
            await self._stop_overrun(now, summary)

    async def _stop_overrun(self, now: datetime, summary: SampleSummary) -> None:
        """Stop the work of budgets spent longer than the grace period (overrun.py)."""
        gpu_profiles = {name for name, p in self.profiles.items() if p.gpu_count}
        grace = self.budgets.grace_period if self.budgets is not None else 0.0
        stopped = await self.store.run(stop_overrun, summary.budgets, now, grace, gpu_profiles)
        if stopped.jobs or stopped.sweeps or stopped.workspaces:
            self.log.info("Cost meter: spent budgets: cancelled jobs %s, stopped sweeps %s and"
                          " GPU workspaces %s", stopped.jobs, stopped.sweeps,
                          stopped.workspaces)  # fmt: skip
        hub = self.workspaces
        if hub is None:
            return
        for workspace in stopped.workspaces:
            try:
                await hub.stop(workspace)
            except HubError as e:
                self.log.warning("Cost meter: workspace %s not stopped: %s", workspace, e)

    # --- ended jobs' runs ------------------------------------------------------------------

    async def _bill_runs(self) -> None:
        """Log each ended job's cost on its MLflow run, once."""
        ended = await self.store.run(unbilled_jobs)
        if not ended:
            return
        for job_id, cost in ended:
            found = None
            if self.run_log is not None:
                try:
                    await self.run_log.ready()
                    found = await asyncio.to_thread(self.run_log.log_cost, job_id, cost)
                except Exception as e:  # the tracking server is down: try at the next sample
                    self.log.warning("Cost meter: cost of job %s not logged yet: %s", job_id, e)
                    return
            await self.store.run(mark_billed, job_id, found)


def unbilled_jobs(session: Session) -> list[tuple[str, float]]:
    """(job run id, its cost) of ended jobs whose cost is not on their run yet."""
    cost = (
        select(func.sum(CostUsage.cost_usd))
        .where(CostUsage.subject_kind == JOB, CostUsage.subject_id == CostCursor.subject_id)
        .scalar_subquery()
    )
    query = (
        select(CostCursor.subject_id, cost)
        .join(JobRun, JobRun.id == CostCursor.subject_id)
        .where(
            CostCursor.subject_kind == JOB,
            CostCursor.ended_at.is_not(None),
            CostCursor.billed.is_(False),
            JobRun.status.in_(FINISHED),
        )
    )
    return [(job_id, total or 0.0) for job_id, total in session.execute(query)]


def mark_billed(session: Session, job_id: str, found: tuple[str, str] | None) -> None:
    """The job's cost is on its run (`found`: its run id and project tag; None: it has none)."""
    cursor = session.get(CostCursor, (JOB, job_id))
    if cursor is None:
        return
    cursor.billed = True
    if found is not None:
        cursor.mlflow_run_id, cursor.project = found
        session.execute(
            update(CostUsage)
            .where(CostUsage.subject_kind == JOB, CostUsage.subject_id == job_id)
            .values(mlflow_run_id=found[0], project=found[1])
        )
