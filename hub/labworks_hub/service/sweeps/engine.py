"""The sweep engine: asks Optuna for trials, runs each as a notebook job, tells it the outcome.

One pass over a running sweep (`advance`), in this order, each step safe to repeat after a
crash at any point:

1. a trial Optuna started with no trial row (the process died between the two writes) gets
   its job now, with the parameters Optuna chose: no trial is lost;
2. a trial whose job ended is told to Optuna: the objective is the last value of the sweep's
   metric in the MLflow run(s) the job logged (found by their `labworks.job.id` tag, which the
   kernel's run-context provider sets); a job that failed, or logged no objective, is a failed
   trial with the reason;
3. a running trial's intermediate values (the metric's steps) are reported; one the pruner
   stops has its job cancelled and is a pruned trial;
4. the sweep ends when enough trials completed or were pruned, when its time budget or cost
   cap is spent, or, failing fast, when its first trials all ended without logging the metric;
5. new trials are asked for, up to the parallelism, each written with its job in one
   transaction: no trial runs twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import threading
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

import optuna
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from traitlets import Float, Integer
from traitlets.config import LoggingConfigurable

from ..access import Refused, Viewer
from ..background import cancel
from ..jobs.service import JobService
from ..store import Store
from ..store import jobs as job_store
from ..store import sweeps as store
from ..store.cost import CostUsage
from ..store.jobs import ACTIVE, SUCCEEDED, JobDefinition, JobRun
from ..store.jobs import RUNNING as JOB_RUNNING
from ..store.models import utcnow
from ..store.sweeps import Sweep, SweepTrial
from .journal import StoreJournal
from .runs import History, SweepRuns
from .space import Space, parse

optuna.logging.set_verbosity(optuna.logging.WARNING)


class SweepEngine(LoggingConfigurable):
    """Drives every running sweep; woken when a job ends, else every `interval` seconds."""

    interval = Float(2.0, help="Seconds between passes when no job ended.").tag(config=True)
    fail_fast_trials = Integer(
        3, help="A sweep whose first N ended trials all lack the objective fails."
    ).tag(config=True)
    max_failed_trials = Integer(
        0, help="Failed trials after which a sweep stops; 0: the number of trials asked for."
    ).tag(config=True)

    def __init__(self, jobs: JobService, runs: SweepRuns, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.jobs = jobs
        self.db: Store = jobs.store
        self.runs = runs
        self._storages: dict[str, optuna.storages.JournalStorage] = {}
        self._journals: dict[str, StoreJournal] = {}  # their backends, closed at stop
        self._studies: dict[str, optuna.Study] = {}
        self._importance: dict[str, tuple[int, dict[str, float]]] = {}  # see below
        self._lock = threading.Lock()
        self._task: asyncio.Task | None = None
        self._wake = asyncio.Event()

    # --- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="labworks-sweeps")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel(task)
        with self._lock:
            for journal in self._journals.values():
                journal.close()
            self._journals.clear()
            self._storages.clear()
            self._studies.clear()

    def wake(self) -> None:
        self._wake.set()

    async def _loop(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.tick()
            except Exception:
                self.log.exception("Sweeps loop step failed; trying again")
            ended = asyncio.ensure_future(self.jobs.some_run_ended(self.interval))
            woken = asyncio.ensure_future(self._wake.wait())
            await asyncio.wait({ended, woken}, return_when=asyncio.FIRST_COMPLETED)
            for waiting in (ended, woken):
                waiting.cancel()

    async def tick(self) -> None:
        ids = await self.jobs.db(lambda s: [sweep.id for sweep in store.running_sweeps(s)])
        if not ids:
            return
        await self.runs.ready()
        queued = False
        for sweep_id in ids:
            try:
                queued |= await asyncio.to_thread(self.advance, sweep_id)
            except Exception:
                self.log.exception("Sweep %s: a pass failed; trying again", sweep_id)
        if queued:
            self.jobs.wake()

    # --- the study --------------------------------------------------------------------------

    def storage(self, sweep_id: str) -> optuna.storages.JournalStorage:
        """The sweep's study storage, kept for the process: it replays the journal once."""
        with self._lock:
            return self._storage(sweep_id)

    def _storage(self, sweep_id: str) -> optuna.storages.JournalStorage:
        storage = self._storages.get(sweep_id)
        if storage is None:
            journal = self._journals[sweep_id] = StoreJournal(self.db, sweep_id)
            storage = self._storages[sweep_id] = optuna.storages.JournalStorage(journal)
        return storage

    def study(self, sweep: Sweep) -> optuna.Study:
        """The sweep's study, kept for the process: its sampler's random state goes on from
        trial to trial (a new sampler with the same seed would draw the same values again).
        A process that starts on a study with trials seeds its sampler past them."""
        with self._lock:
            study = self._studies.get(sweep.id)
            if study is None:
                storage = self._storage(sweep.id)
                seed = sweep.seed
                if seed is not None:
                    seed += len(storage.get_all_trials(storage.get_study_id_from_name(sweep.id)))
                study = self._studies[sweep.id] = optuna.load_study(
                    study_name=sweep.id,
                    storage=storage,
                    sampler=make_sampler(sweep.sampler, parse(sweep.space), seed),
                    pruner=make_pruner(sweep.pruner),
                )
            return study

    def forget(self, sweep_id: str) -> None:
        """Drop what is kept for a deleted sweep: its study, its storage, and its journal's
        connection (closed). A pass running on it meanwhile finds the sweep gone."""
        with self._lock:
            self._studies.pop(sweep_id, None)
            self._importance.pop(sweep_id, None)
            self._storages.pop(sweep_id, None)
            journal = self._journals.pop(sweep_id, None)
        if journal is not None:
            journal.close()

    def remembered_importance(
        self, sweep_id: str, complete: int, compute: Callable[[], dict[str, float]]
    ) -> dict[str, float]:
        """The sweep's parameter importance as `compute` gave it when `complete` trials had
        completed (a completed trial stays so): the panel and `watch` ask every few seconds,
        and each computation is tens of milliseconds of CPU the trials need."""
        known = self._importance.get(sweep_id)
        if known is None or known[0] != complete:
            known = self._importance[sweep_id] = (complete, compute())
        return known[1]

    # --- one pass ---------------------------------------------------------------------------

    def advance(self, sweep_id: str) -> bool:
        """One pass over the sweep (the module's steps 1-5); True when it queued jobs.

        Read the store, then talk to Optuna, then write the store: no store transaction is
        open while the journal is written (on SQLite there is one writer at a time)."""
        with self.db.session() as session:
            sweep = session.get(Sweep, sweep_id)
            if sweep is None or sweep.status != store.RUNNING:
                return False
            rows = {t.number: t for t in store.trials(session, sweep.id)}
            jobs = {
                run.id: (run.status, run.reason)
                for run in session.scalars(
                    select(JobRun).where(JobRun.id.in_([t.run_id for t in rows.values()]))
                )
            }
            cost = sweep_cost(session, sweep.id) if sweep.max_cost_usd is not None else 0.0
        study = self.study(sweep)
        pass_ = Pass(sweep, rows, jobs)
        pass_.cost = cost
        self._adopt_orphans(study, pass_)
        for row in list(rows.values()):
            if row.state == store.TRIAL_RUNNING:
                self._follow(study, pass_, row)
        if not self._settle(pass_):
            self._ask(study, pass_)
        if not self._apply(pass_):
            self.forget(sweep_id)  # deleted while this pass ran
            return False
        return bool(pass_.new)

    def _adopt_orphans(self, study: optuna.Study, pass_: Pass) -> None:
        running = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
        pass_.new.extend((t.number, dict(t.params)) for t in running if t.number not in pass_.rows)

    def _follow(self, study: optuna.Study, pass_: Pass, row: SweepTrial) -> None:
        """Steps 2 and 3 for one running trial."""
        sweep = pass_.sweep
        status, job_reason = pass_.jobs.get(row.run_id, ("", "its job was deleted"))
        frozen = study.get_trials(deepcopy=False)[row.number]
        if frozen.state.is_finished():  # told before a crash; only the row was not saved
            pass_.end(row, frozen.state.name.lower(), frozen.value, "")
            if status in ACTIVE:
                pass_.cancels.append(row.run_id)
            return
        if status in ACTIVE and (status != JOB_RUNNING or sweep.pruner == "none"):
            return
        found = self.runs.history(row.run_id, sweep.metric)
        if found.run_id and not row.mlflow_run_id:
            pass_.mlflow[row.number] = found.run_id
            self.runs.adopt(found.run_id, sweep.parent_run_id)
        if status in ACTIVE:
            self._maybe_prune(study, pass_, row, found)
        elif status != SUCCEEDED:
            study.tell(row.number, state=optuna.trial.TrialState.FAIL)
            pass_.end(row, store.TRIAL_FAILED, None, job_reason or f"its job {status}")
        elif found.last is None or not math.isfinite(found.last):
            study.tell(row.number, state=optuna.trial.TrialState.FAIL)
            reason = (
                f"the notebook did not log the metric {sweep.metric!r} (mlflow.log_metric)"
                if found.last is None
                else f"the metric {sweep.metric!r} is {found.last}"
            )
            pass_.end(row, store.TRIAL_FAILED, None, reason)
        else:
            study.tell(row.number, found.last)
            pass_.end(row, store.COMPLETE, found.last, "")
            if study.best_trial.number == row.number and sweep.parent_run_id:
                self.runs.log_best(sweep.parent_run_id, sweep.metric, found.last, row.number)

    def _maybe_prune(
        self, study: optuna.Study, pass_: Pass, row: SweepTrial, found: History
    ) -> None:
        if not found.steps:
            return
        frozen = study.get_trials(deepcopy=False)[row.number]
        trial = optuna.trial.Trial(study, frozen._trial_id)
        for step, value in found.steps:
            if step not in frozen.intermediate_values and math.isfinite(value):
                trial.report(value, step)
        if not trial.should_prune():
            return
        last_step, last_value = found.steps[-1]
        study.tell(row.number, state=optuna.trial.TrialState.PRUNED)
        pass_.end(row, store.PRUNED, last_value, f"pruned at step {last_step}")
        pass_.cancels.append(row.run_id)

    def _settle(self, pass_: Pass) -> bool:
        """Step 4: end the sweep if it is done; True when no more trials are to be asked."""
        sweep, states = pass_.sweep, pass_.states()
        counts = count_states(states.values())
        done = counts[store.COMPLETE] + counts[store.PRUNED]
        running = counts[store.TRIAL_RUNNING] + len(pass_.new)
        ended = [pass_.outcome(n) for n in sorted(states) if states[n] != store.TRIAL_RUNNING]
        # A trial ended (pruned, or told before a crash) whose job is still being cancelled.
        lingering = any(
            pass_.jobs.get(row.run_id, ("", ""))[0] in ACTIVE
            for n, row in pass_.rows.items()
            if states[n] != store.TRIAL_RUNNING
        )
        first = ended[: self.fail_fast_trials]
        status = reason = ""
        if len(first) == min(self.fail_fast_trials, sweep.n_trials) and all(
            state == store.TRIAL_FAILED for state, _ in first
        ):
            status = store.FAILED
            reason = (
                f"no trial logged the metric {sweep.metric!r}: log it in the notebook with"
                " mlflow.log_metric"
                if all("did not log the metric" in why for _, why in first)
                else f"the first {len(first)} trial(s) failed; the last: {first[-1][1]}"
            )
        elif counts[store.TRIAL_FAILED] >= (self.max_failed_trials or sweep.n_trials):
            status, reason = store.FAILED, f"{counts[store.TRIAL_FAILED]} trials failed"
        elif done >= sweep.n_trials and running == 0 and not lingering:
            status = store.SUCCEEDED  # once no trial's job is left running
        elif sweep.timeout_seconds and utcnow() >= sweep.started_at + timedelta(
            seconds=sweep.timeout_seconds
        ):
            status, reason = store.STOPPED, "the sweep's time budget is spent"
        elif sweep.max_cost_usd is not None and pass_.cost >= sweep.max_cost_usd:
            status = store.STOPPED
            reason = (
                f"the sweep's cost cap ({sweep.max_cost_usd:.2f}) is reached: its trials cost"
                f" {pass_.cost:.2f}"
            )
        if not status:
            return done + running >= sweep.n_trials  # nothing more to ask for
        if status != store.SUCCEEDED:
            pass_.cancels.extend(
                pass_.rows[n].run_id
                for n, state in states.items()
                if state == store.TRIAL_RUNNING and n in pass_.rows
            )
        pass_.ending = (status, reason)
        return True

    def _ask(self, study: optuna.Study, pass_: Pass) -> None:
        """Step 5: new trials up to the parallelism and the trials still wanted."""
        sweep, counts = pass_.sweep, count_states(pass_.states().values())
        running = counts[store.TRIAL_RUNNING] + len(pass_.new)
        done = counts[store.COMPLETE] + counts[store.PRUNED]
        wanted = min(sweep.parallel - running, sweep.n_trials - done - running)
        distributions = parse(sweep.space).distributions()
        for _ in range(max(0, wanted)):
            trial = study.ask(fixed_distributions=distributions)
            pass_.new.append((trial.number, dict(trial.params)))

    def _apply(self, pass_: Pass) -> bool:
        """Write what the pass decided, in one transaction: trial outcomes, cancels, new
        trials with their jobs, the sweep's end. False when the sweep is gone (deleted).

        The sweep's row is locked meanwhile, as a deletion locks it: a deletion waits for
        the trials queued here and cancels their jobs, or this pass finds no sweep."""
        owner = Viewer(pass_.sweep.owner)
        with self.db.session() as session:
            sweep = session.get(Sweep, pass_.sweep.id, with_for_update=True)
            if sweep is None:
                return False
            for number, fields in pass_.ended.items():
                row = session.get(SweepTrial, (sweep.id, number))
                if row is not None:
                    for name, value in fields.items():
                        setattr(row, name, value)
            for number, run_id in pass_.mlflow.items():
                row = session.get(SweepTrial, (sweep.id, number))
                if row is not None:
                    row.mlflow_run_id = run_id
            for run_id in pass_.cancels:
                with contextlib.suppress(Refused):  # it has just ended: nothing to cancel
                    job_store.request_cancel(session, owner, run_id)
            # A sweep stopped while this pass ran queues nothing: a resume adopts the trials.
            if sweep.status == store.RUNNING:
                for number, params in pass_.new:
                    self._queue(session, sweep, number, params)
            ended = pass_.ending if sweep.status == store.RUNNING else None
            if ended is not None:
                end_sweep(sweep, *ended)
        if ended is not None:  # MLflow after the store's commit
            self.log.info("Sweep %s %s %s", sweep.id, *ended)
            if sweep.parent_run_id:
                try:
                    self.runs.end_parent(sweep.parent_run_id, ended[0])
                except Exception:
                    self.log.exception("Sweep %s: cannot close its MLflow run", sweep.id)
        return True

    def _queue(self, session: Session, sweep: Sweep, number: int, params: dict) -> None:
        """The trial's job run and its row, in the caller's transaction."""
        definition = session.get(JobDefinition, sweep.definition_id)
        assert definition is not None
        run = self.jobs.queue_run(
            session, definition, trigger="sweep", parameters={**definition.parameters, **params}
        )
        run.name = f"{sweep.name} #{number}"
        session.add(SweepTrial(sweep_id=sweep.id, number=number, run_id=run.id, params=params))


class Pass:
    """What one pass over a sweep read and decided, applied in one transaction at its end."""

    def __init__(
        self, sweep: Sweep, rows: dict[int, SweepTrial], jobs: dict[str, tuple[str, str]]
    ) -> None:
        self.sweep = sweep
        self.rows = rows
        self.jobs = jobs  # job run id -> (status, reason)
        self.ended: dict[int, dict[str, Any]] = {}  # trial number -> the row's new fields
        self.mlflow: dict[int, str] = {}  # trial number -> its MLflow run, once found
        self.cancels: list[str] = []  # job runs to cancel
        self.new: list[tuple[int, dict[str, Any]]] = []  # trials to queue: number, params
        self.ending: tuple[str, str] | None = None  # the sweep's (status, reason)
        self.cost = 0.0  # what its trials cost so far (read when it has a cost cap)

    def end(self, row: SweepTrial, state: str, value: float | None, reason: str) -> None:
        self.ended[row.number] = {
            "state": state, "value": value, "reason": reason, "finished_at": utcnow(),
        }  # fmt: skip

    def states(self) -> dict[int, str]:
        states = {n: row.state for n, row in self.rows.items()}
        states.update({n: fields["state"] for n, fields in self.ended.items()})
        return states

    def outcome(self, number: int) -> tuple[str, str]:
        """(state, reason) of a trial after this pass."""
        if number in self.ended:
            return self.ended[number]["state"], self.ended[number]["reason"]
        row = self.rows[number]
        return row.state, row.reason


def count_states(states: Iterable[str]) -> dict[str, int]:
    """How many trials are in each state."""
    counts = dict.fromkeys(
        (store.TRIAL_RUNNING, store.COMPLETE, store.PRUNED, store.TRIAL_FAILED), 0
    )
    for state in states:
        counts[state] = counts.get(state, 0) + 1
    return counts


def sweep_cost(session: Session, sweep_id: str) -> float:
    """What the sweep's trials cost so far, as the cost meter recorded it."""
    query = select(func.sum(CostUsage.cost_usd)).where(CostUsage.sweep_id == sweep_id)
    return session.scalar(query) or 0.0


def end_sweep(sweep: Sweep, status: str, reason: str = "", now: datetime | None = None) -> None:
    now = now or utcnow()
    sweep.status, sweep.reason, sweep.updated_at, sweep.finished_at = status, reason, now, now


def make_sampler(name: str, space: Space, seed: int | None) -> optuna.samplers.BaseSampler:
    if name == "grid":
        grid = space.grid()
        assert grid is not None  # checked when the sweep was created
        return optuna.samplers.GridSampler(grid, seed=seed)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    if name == "cmaes":
        return optuna.samplers.CmaEsSampler(seed=seed)
    raise ValueError(f"unknown sampler {name!r}")


def make_pruner(name: str) -> optuna.pruners.BasePruner:
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=2)
    if name == "halving":
        return optuna.pruners.SuccessiveHalvingPruner()
    return optuna.pruners.NopPruner()


def create_study(storage: optuna.storages.BaseStorage, sweep: Sweep) -> None:
    """The sweep's empty study, named by its id."""
    optuna.create_study(study_name=sweep.id, storage=storage, direction=sweep.direction)
