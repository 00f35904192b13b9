"""The job service: the queue loop that starts, watches, finishes and retries notebook jobs.

One `JobService` per platform service process. Its loop (`tick`) fires due schedules, looks
at the running attempts (end, cancel request, timeout) and starts queued runs that fit in the
executor's capacity; it runs every `poll_interval` and at once when something happens (a
submit, a cancel request, a job process ending). Every step is a row in the store first
(store/jobs.py), then the executor's action, so `reconcile()` at start can take over what a
previous process left: queued runs stay queued, running attempts are re-attached, or marked
failed ("platform restarted while running and the job process is gone") and retried per
their policy. Each attempt gets a hub token of its owner (hubapi.py; its id and sha256 are kept,
its value only reaches the attempt's environment), revoked when the attempt ends (also one seen
after a restart), and its GPUs leased in the store (labworks_hub.gpus), shared with the
workspaces. What users ask for (submit, cancel, logs, schedules) is in operations.py. When the
hub that started this process dies, the loop stops and the process exits (lifeline.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar

from jupyterhub.traitlets import EntryPointType
from sqlalchemy.orm import Session
from traitlets import Float, Integer, List, Type, Unicode, default
from traitlets.config import LoggingConfigurable

from ...catalog import ImageCatalog
from ...gpus import GPU, GPUAllocator, NoGPUAvailable, job_holder
from ...profiles import Profile
from ...public_url import PUBLIC_URL_ENV, from_environment
from ..background import cancel
from ..hubapi import HubError, HubTokens, token_digest
from ..lifeline import Lifeline, watch_parent
from ..store import Store
from ..store import jobs as store
from ..store.jobs import FAILED, FINISHED, QUEUED, RUNNING, JobDefinition, JobRun, JobSchedule
from ..store.models import utcnow
from ..tracking.env import personal_experiment, tracking_uri
from . import scheduler
from .artifacts import ArtifactError, ArtifactStore, run_key
from .executors.base import (
    CANCELLED,
    SUCCEEDED,
    TIMED_OUT,
    Executor,
    ExecutorError,
    Outcome,
    RunSpec,
)
from .executors.local import LocalExecutor
from .models import Job
from .notify import EmailNotifier, Notifier, WebhookNotifier
from .outputs import mark_stopped_cell
from .queue import Demand, SlotPool

T = TypeVar("T")
LOST = "platform restarted while running and the job process is gone"
TOKEN_VARIABLES = ("JUPYTERHUB_API_TOKEN", "LABWORKS_API_TOKEN", "MLFLOW_TRACKING_TOKEN")
OUTPUT, LOG = "output.ipynb", "log.txt"


LINEAGE_PARAMETERS_MAX = 32 * 1024  # bytes of JSON passed in the environment


class JobService(LoggingConfigurable):
    """Runs notebook jobs with the configured executor. Not thread-safe: one event loop."""

    executor_class = EntryPointType(
        default_value=LocalExecutor,
        klass=Executor,
        entry_point_group="labworks.executors",
        help="Where jobs run: `local` (papermill processes here) or `kubernetes`.",
    ).tag(config=True)
    artifact_store_class = Type(
        ArtifactStore, klass=ArtifactStore, help="Where output notebooks and logs are kept."
    ).tag(config=True)
    webhook_notifier_class = Type(
        WebhookNotifier, klass=Notifier, help="Tells owners' webhooks that their job ended."
    ).tag(config=True)
    email_notifier_class = Type(
        EmailNotifier, klass=Notifier, help="Mails owners that their job ended."
    ).tag(config=True)
    state_dir = Unicode(".", help="The platform's state directory.")
    api_url = Unicode(
        "",
        help="Platform API root given to jobs as LABWORKS_API_URL (default: the address the"
        " service listens on; on Kubernetes the chart sets the platform Service's address).",
    ).tag(config=True)
    public_url = Unicode(
        help="The platform's public URL, which the links jobs print start with (MLflow's run"
        " links: jobs track through it). Default: $LABWORKS_PUBLIC_URL, which `labworks up`"
        " sets, else JupyterHub's public URL; empty: the platform service's own address."
    ).tag(config=True)
    poll_interval = Float(1.0, help="Seconds between looks at running jobs.").tag(config=True)
    retry_backoff = Float(
        30.0, help="Seconds before the first retry of a failed attempt; doubles each retry."
    ).tag(config=True)
    default_timeout = Integer(6 * 3600, help="Seconds a job may run when it does not say.").tag(
        config=True
    )
    max_notebook_bytes = Integer(
        16 * 1024 * 1024, help="Largest input notebook (its JSON) a job may have."
    ).tag(config=True)
    token_scopes = List(
        Unicode(),
        ["access:services!service=labworks"],
        help="Scopes of the hub token each attempt gets (a subset of its owner's).",
    ).tag(config=True)
    token_margin = Integer(
        600, help="Seconds a job's hub token outlives the job's timeout (it is revoked at the end)."
    ).tag(config=True)

    @default("public_url")
    def _public_url_default(self) -> str:
        return from_environment()

    def __init__(
        self,
        store_: Store,
        profiles: list[Profile],
        *,
        clock: Callable[[], datetime] = utcnow,
        catalog: ImageCatalog | None = None,
        hub: HubTokens | None = None,
        artifacts: ArtifactStore | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.store = store_
        self.profiles = profiles
        self.clock = clock  # the one source of "now": tests run schedules on a fast clock
        self.catalog = catalog
        self.hub = hub  # gives each attempt a hub token of its owner; None: no token
        self.token_revoked: Callable[[str], None] = lambda digest: None  # told each revoke
        self._tokens: dict[str, str] = {}  # run id -> digest of its attempt's token
        # the platform's one artifact store (app.state.artifacts); its own in tests
        self.artifacts: ArtifactStore = artifacts or self.artifact_store_class(parent=self)
        self.executor: Executor = self.executor_class(parent=self)
        self.executor.wakeup = self.wake
        self.notifiers: dict[str, Notifier] = {  # channel (a settings field) -> notifier
            "webhook_url": self.webhook_notifier_class(parent=self),
            "email": self.email_notifier_class(parent=self),
        }
        capacity = self.executor.capacity()
        self.pool = SlotPool(capacity)
        self.gpu_allocator: GPUAllocator | None = None  # GPUs leased here and by workspaces
        if capacity.gpus is not None:
            self.gpu_allocator = GPUAllocator(store_, [GPU(i) for i in capacity.gpus], parent=self)
        self._active: dict[str, dict[str, Any]] = {}  # run id -> executor state
        self._event: asyncio.Event | None = None
        self._task: asyncio.Task | None = None
        self._lifeline: Lifeline | None = None
        self._background: set[asyncio.Task] = set()
        self._ended = asyncio.Event()  # set (and replaced) whenever a run ends

    def cannot_run(self, profile: Profile) -> str | None:
        """Why jobs on `profile` could never start here (e.g. no GPU), or None."""
        refusal = self.pool.never_fits(Demand.of(profile))
        return f"cannot run jobs here: {refusal}" if refusal else None

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Take over what a previous process left, then run the loop. The loop stops, and the
        process with it, when the hub that started this process is gone (lifeline.py)."""
        self._event = asyncio.Event()
        self._lifeline = watch_parent(self._stop_loop)
        await self.executor.start()
        await self.reconcile()
        self._task = asyncio.create_task(self._loop(), name="labworks-jobs")
        self.log.info(
            "Jobs: %s executor, %d slot(s), artifacts at %s",
            self.executor.name or type(self.executor).__name__,
            self.executor.slots,
            self.artifacts.url,
        )

    async def stop(self) -> None:
        """Stop the loop; running attempts keep running and are re-attached at next start."""
        if self._lifeline is not None:
            self._lifeline.close()
            self._lifeline = None
        await cancel(self._stop_loop())
        for task in list(self._background):
            task.cancel()
        await self.executor.close()
        if self.hub is not None:
            await self.hub.aclose()

    def _stop_loop(self) -> asyncio.Task | None:
        """Take no more work: no schedule fires, no queued run starts."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
        return task

    def wake(self) -> None:
        if self._event is not None:
            self._event.set()

    async def _loop(self) -> None:
        assert self._event is not None
        while True:
            self._event.clear()
            try:
                await self.tick()
            except Exception:
                self.log.exception("Jobs loop step failed; trying again")
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for loses a cancel that comes
            # with a wakeup, and stop() would wait for a loop that never ends.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_interval):
                    await self._event.wait()

    async def tick(self) -> None:
        """One step: fire due schedules, look at running attempts, start what fits."""
        await self.fire_schedules()
        await self._watch()
        await self._dispatch()

    async def db(self, work: Callable[..., T], *args: Any) -> T:
        """Run `work(session, *args)` in one store transaction, off the event loop."""
        return await self.store.run(work, *args)

    # --- profiles and environment ----------------------------------------------------------

    def profile_named(self, name: str) -> Profile | None:
        return next((p for p in self.profiles if p.name == name), None)

    def job_env(self, run: JobRun, profile: Profile, attempt: int) -> dict[str, str]:
        """The environment a workspace on this profile has, plus the job's identity."""
        image, _, digest = run.image.partition("@")
        env = {
            "JUPYTERHUB_USER": run.owner,
            "LABWORKS_PROFILE": profile.name,
            "LABWORKS_PROFILE_DISPLAY_NAME": profile.display_name,
            "LABWORKS_GPU_COUNT": str(profile.gpu_count),
            "LABWORKS_IMAGE": image,
            "LABWORKS_IMAGE_DIGEST": digest,
            "LABWORKS_RECORDED_IMAGE": image,
            "LABWORKS_RECORDED_IMAGE_DIGEST": digest,
            "LABWORKS_CULL_IDLE_TIMEOUT": "0",
            "LABWORKS_API_URL": self.api_url,
            "LABWORKS_JOB_ID": run.id,
            "LABWORKS_JOB_NAME": run.name,
            "LABWORKS_JOB_ATTEMPT": str(attempt),
            # lineage of MLflow runs the job starts (kernels/labworks/track.py)
            "LABWORKS_JOB_NOTEBOOK_PATH": run.notebook_path,
            "LABWORKS_JOB_NOTEBOOK_SHA256": run.notebook_sha256,
        }
        parameters = json.dumps(run.parameters)
        if len(parameters) <= LINEAGE_PARAMETERS_MAX:  # larger ones are read from the API
            env["LABWORKS_JOB_PARAMETERS"] = parameters
        if env_hash := run.environment.get("env_hash"):  # the kernel need not hash it again
            env["LABWORKS_ENV_HASH"] = env_hash
        if self.public_url:
            env[PUBLIC_URL_ENV] = self.public_url
        if self.api_url.endswith("/api/v1"):  # the stock mlflow client, as in workspaces
            env["MLFLOW_TRACKING_URI"] = tracking_uri(self.api_url, self.public_url)
            env["MLFLOW_EXPERIMENT_NAME"] = personal_experiment(run.owner)
        if profile.cpu_limit:
            env["CPU_LIMIT"] = f"{profile.cpu_limit:g}"
        if profile.mem_limit:
            env["MEM_LIMIT"] = str(profile.mem_limit)
        return env

    # --- schedules -------------------------------------------------------------------------

    async def fire_schedules(self) -> list[str]:
        """Queue a run of every due schedule; the ids of the runs queued."""
        now = self.clock()
        fired = await self.db(
            lambda s: [run.id for run in scheduler.fire_due(s, now, self.queue_scheduled)]
        )
        if fired:
            self.log.info("Schedules fired: %s", ", ".join(fired))
        return fired

    def queue_scheduled(self, session: Session, schedule: JobSchedule) -> JobRun:
        """A run of a schedule's definition (in the transaction that moves the schedule on)."""
        return self.queue_run(session, schedule.definition, "schedule", schedule_id=schedule.id)

    def queue_run(
        self,
        session: Session,
        definition: JobDefinition,
        trigger: str,
        *,
        parameters: dict[str, Any] | None = None,
        schedule_id: str | None = None,
    ) -> JobRun:
        """A new queued run of `definition`, as submitted jobs get them, for the service's own
        triggers (a schedule firing, a sweep's trial). A profile removed since, or an
        environment the executor cannot give, is the run's failure, recorded on it."""
        profile = self.profile_named(definition.profile)
        now = self.clock()
        environment: dict[str, Any] = {}
        problem = None
        if profile is None:
            problem = f"profile {definition.profile!r} no longer exists; edit the {trigger}"
        else:
            try:
                environment = self.executor.environment(definition.image)
            except ExecutorError as e:
                problem = str(e)
        run = store.create_run(
            session, definition, trigger=trigger, schedule_id=schedule_id, now=now,
            parameters=parameters, resources=Demand.of(profile).to_dict() if profile else {},
            environment=environment, executor=self.executor.name,
        )  # fmt: skip
        if problem:
            store.move(session, run, QUEUED, FAILED, problem, now=now)
        return run

    # --- starting --------------------------------------------------------------------------

    async def _dispatch(self) -> None:
        if self.pool.free_slots() == 0:
            return
        now = self.clock()
        due = await self.db(
            lambda s: [(r.id, r.owner, r.resources) for r in store.runs_due(s, now, limit=200)]
        )
        for run_id, owner, resources in due:
            if self.pool.free_slots() == 0:
                break
            demand = Demand.from_dict(resources)
            if self.pool.try_take(run_id, demand) is None:
                continue
            gpus = await self._lease_gpus(run_id, owner, demand.gpus)
            if gpus is None:  # a workspace or another job has them: wait, let others pass
                self.pool.release(run_id)
                continue
            spec = None
            try:
                spec = await self.db(self._mark_started, run_id, gpus, now)
            finally:
                if spec is None:  # cancelled meanwhile, or the store failed
                    await self._forget(run_id, {})
            if spec is not None:
                await self._submit(spec)

    def _mark_started(
        self, session: Session, run_id: str, gpus: tuple[int, ...], now: datetime
    ) -> RunSpec | None:
        run = session.get(JobRun, run_id)
        if run is None or run.status != QUEUED:
            return None
        profile = self.profile_named(run.profile)
        if profile is None:
            store.move(session, run, QUEUED, FAILED, f"profile {run.profile!r} no longer exists")
            return None
        attempt = run.attempt + 1
        spec = RunSpec(
            run_id=run.id, attempt=attempt, owner=run.owner, name=run.name,
            notebook=store.notebook_content(session, run.notebook_sha256),
            parameters=dict(run.parameters), kernel_name=run.kernel_name, profile=profile,
            timeout=run.timeout, image=run.image, gpu_indices=gpus,
            env=self.job_env(run, profile, attempt), notebook_path=run.notebook_path,
        )  # fmt: skip
        note = self.executor.start_note(spec)
        resources = {**run.resources, "gpu_indices": list(gpus)}
        state = {"run_id": run.id, "attempt": attempt}
        moved = store.move(
            session, run, QUEUED, RUNNING, f"attempt {attempt} started {note}".strip(),
            now=now, attempt=attempt, resources=resources, executor_state=state,
        )  # fmt: skip
        return spec if moved else None

    async def _submit(self, spec: RunSpec) -> None:
        base: dict[str, Any] = {"run_id": spec.run_id, "attempt": spec.attempt}
        try:
            spec = await self._with_token(spec, base)
        except HubError as e:
            reason = f"cannot give the job a hub token: {e}"
            await self._finish(spec.run_id, base, Outcome(FAILED, reason))
            return
        try:
            state = {**base, **await self.executor.submit(spec)}
        except ExecutorError as e:
            await self._finish(spec.run_id, base, Outcome(FAILED, str(e)))
            return
        except Exception as e:
            self.log.exception("Job %s could not be started", spec.run_id)
            await self._finish(spec.run_id, base, Outcome(FAILED, f"could not start: {e}"))
            return
        self._active[spec.run_id] = state
        await self.db(store.save_running_state, spec.run_id, state)

    # --- watching and finishing ------------------------------------------------------------

    async def _watch(self) -> None:
        if not self._active:
            return
        rows = await self.db(
            lambda s: {
                r.id: (r.cancel_requested, r.started_at, r.timeout) for r in store.runs_running(s)
            }
        )
        now = self.clock()
        for run_id, state in list(self._active.items()):
            if run_id not in rows:  # no longer running in the store: nothing to watch
                await self._forget(run_id, state)
                continue
            cancel, started, timeout = rows[run_id]
            outcome = await self.executor.poll(state)
            if outcome is None and cancel:
                await self.executor.cancel(state)
                outcome = Outcome(CANCELLED, "cancelled by its owner")
            elif outcome is None and started and (now - started).total_seconds() > timeout:
                await self.executor.cancel(state)
                outcome = Outcome(TIMED_OUT, f"timed out after {timeout} s")
            if outcome is not None:
                await self._finish(run_id, state, outcome)

    async def _finish(self, run_id: str, state: dict[str, Any], outcome: Outcome) -> None:
        """Keep the attempt's output and log, then record its end (or its retry)."""
        reason = outcome.reason
        has_output = False
        attempt = int(state.get("attempt", 0))
        prefix = run_key(run_id, attempt, "").rstrip("/")
        if state:
            try:
                has_output = await self.executor.collect(state, self.artifacts, prefix)
                if has_output and outcome.status != SUCCEEDED:
                    await asyncio.to_thread(self._mark_stop, f"{prefix}/{OUTPUT}", reason)
            except (ArtifactError, ExecutorError, OSError) as e:
                self.log.error("Job %s: output not kept: %s", run_id, e)
                reason = f"{reason} (output not kept: {e})".strip()
        await self._forget(run_id, state)  # its GPUs are free once its end is seen
        now = self.clock()
        status = await self.db(store.end_attempt, run_id, outcome.status, reason, has_output,
                               self.retry_backoff, now)  # fmt: skip
        if state:
            with contextlib.suppress(Exception):
                await self.executor.forget(state)
        if status in FINISHED:
            self._ended.set()
            self._ended = asyncio.Event()
            self._in_background(self._notify(run_id))
        elif status == QUEUED:
            self.wake()

    async def some_run_ended(self, timeout: float) -> None:
        """Return when a run ends (any run), or after `timeout` seconds."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._ended.wait()

    def live_state(self, run_id: str) -> dict[str, Any] | None:
        """The executor state of a running attempt this process watches, else None."""
        return self._active.get(run_id)

    async def _forget(self, run_id: str, state: dict[str, Any]) -> None:
        """The attempt is over: give back its slot and GPUs, revoke its hub token."""
        self._active.pop(run_id, None)
        grant = self.pool.release(run_id)
        if self.gpu_allocator is not None and grant is not None and grant.demand.gpus:
            await asyncio.to_thread(self.gpu_allocator.release, job_holder(run_id))
        await self._revoke_token(run_id, state)

    def _mark_stop(self, key: str, reason: str) -> None:
        """Mark where an attempt stopped in its output notebook, unless papermill did."""
        raw = self.artifacts.get(key)
        if raw is None:
            return
        marked = mark_stopped_cell(raw, reason)
        if marked is not None:
            self.artifacts.put(key, marked)

    # --- restart ---------------------------------------------------------------------------

    async def reconcile(self) -> None:
        """Re-attach the attempts the store says are running, or end them as lost."""
        since = utcnow()
        running = await self.db(
            lambda s: [
                (r.id, r.owner, dict(r.executor_state), dict(r.resources))
                for r in store.runs_running(s)
            ]
        )
        for run_id, owner, state, resources in running:
            found = False
            with contextlib.suppress(Exception):
                found = bool(state) and await self.executor.reattach(state)
            if found:
                self.pool.restore(run_id, Demand.from_dict(resources))
                if self.gpu_allocator is not None and resources.get("gpu_indices"):
                    await asyncio.to_thread(self.gpu_allocator.restore, job_holder(run_id),
                                            owner, resources["gpu_indices"])  # fmt: skip
                self._active[run_id] = state
                if digest := state.get("hub_token", {}).get("digest"):
                    self._tokens[run_id] = digest  # refused here too once the attempt ends
                await self.db(
                    store.add_run_event, run_id, "reattached", "re-attached after a restart"
                )
                self.log.info("Job %s re-attached", run_id)
            else:
                self.log.warning("Job %s: %s", run_id, LOST)
                await self._finish(run_id, state, Outcome(FAILED, LOST))
        if self.gpu_allocator is not None:  # leases of jobs that ended while no service ran
            alive = [job_holder(run_id) for run_id in self._active]
            await asyncio.to_thread(self.gpu_allocator.release_stale, "job:", alive, since)

    # --- GPUs and hub tokens ---------------------------------------------------------------

    async def _lease_gpus(self, run_id: str, owner: str, count: int) -> tuple[int, ...] | None:
        """The GPU indices leased to the run (in the store, shared with the workspaces);
        None while too few are free."""
        if not count or self.gpu_allocator is None:
            return ()
        with contextlib.suppress(NoGPUAvailable):
            allocator = self.gpu_allocator
            return tuple(
                await asyncio.to_thread(allocator.acquire, job_holder(run_id), owner, count)
            )
        return None

    async def _with_token(self, spec: RunSpec, state: dict[str, Any]) -> RunSpec:
        """`spec` with a new hub token of its owner in its secret environment, and the token's
        id in `state` (to revoke it when the attempt ends); unchanged when there is no hub."""
        if self.hub is None:
            return spec
        token = await self.hub.create(
            spec.owner, note=f"labworks job {spec.run_id} attempt {spec.attempt}",
            expires_in=spec.timeout + self.token_margin, scopes=list(self.token_scopes),
        )  # fmt: skip
        digest = token_digest(token.value)
        state["hub_token"] = {"user": spec.owner, "id": token.id, "digest": digest}
        self._tokens[spec.run_id] = digest
        return replace(spec, secret_env=dict.fromkeys(TOKEN_VARIABLES, token.value))

    async def _revoke_token(self, run_id: str, state: dict[str, Any]) -> None:
        token, digest = state.get("hub_token"), self._tokens.pop(run_id, None)
        if digest:
            self.token_revoked(digest)  # this service refuses it from now on, whatever the hub
        if not token or self.hub is None:
            return
        try:
            await self.hub.revoke(token["user"], token["id"])
        except HubError as e:
            self.log.warning("Job %s: its hub token %s stays until it expires: %s",
                             run_id, token["id"], e)  # fmt: skip

    # --- notices ---------------------------------------------------------------------------

    def _in_background(self, coroutine: Any) -> None:
        task = asyncio.create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _notify(self, run_id: str) -> None:
        """Tell the owner of an ended run on each channel their settings name (a failed
        notice is logged by its notifier and changes nothing)."""

        def load(session: Session) -> tuple[str, dict[str, str], dict[str, Any]] | None:
            run = session.get(JobRun, run_id)
            if run is None:
                return None
            settings = store.notify_settings(session, run.owner)
            where = {"webhook_url": settings.webhook_url, "email": settings.email or ""}
            return settings.events, where, Job.from_run(run).model_dump(mode="json")

        loaded = await self.db(load)
        if loaded is None:
            return
        events, where, job = loaded
        wanted = events == "finished" or (
            events == "failed" and job["status"] in (FAILED, TIMED_OUT)
        )
        if not wanted:
            return
        sends = [
            notifier.notify(where[channel], job)
            for channel, notifier in self.notifiers.items()
            if where.get(channel) and notifier.available
        ]
        for result in await asyncio.gather(*sends, return_exceptions=True):
            if isinstance(result, BaseException):
                self.log.error("Job %s: a notice failed: %r", run_id, result)
