"""What users ask of sweeps: create, list, show, stop, resume, extend, share, delete.

Each function takes the `SweepEngine` and the `Viewer` asking, checks the input (each problem
named with its field, as the access layer's `Refused` kinds), and leaves the running to the
engine. The store decides who sees what (`Shareable.visible_to`); only the owner changes a
sweep.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import warnings
from dataclasses import dataclass

import optuna
from sqlalchemy.orm import Session

from ..access import PUBLIC, Conflict, Forbidden, Invalid, Viewer, Visibility
from ..jobs import parameters
from ..jobs.operations import job_spec, read_notebook, within_budget
from ..store import jobs as job_store
from ..store import sweeps as store
from ..store.models import utcnow
from ..store.sweeps import Sweep, SweepTrial
from . import models
from .engine import SweepEngine, count_states, create_study, end_sweep
from .space import Space, SpaceError, parse

MIN_TRIALS_FOR_IMPORTANCE = 4


async def create(
    engine: SweepEngine, viewer: Viewer, body: models.SweepRequest
) -> models.SweepDetail:
    viewer.require_user("run sweeps")
    service = engine.jobs
    try:
        space = parse(body.space)
        check_sampler(body.sampler, space)
    except SpaceError as e:
        raise Invalid(str(e)) from None
    searched = sorted(set(body.parameters) & {d.name for d in space.dimensions})
    if searched:
        raise Invalid(
            f"parameters: {', '.join(searched)} are searched (space); leave them out of the"
            " fixed parameters"
        )
    slots = service.executor.slots
    if body.parallel > slots:
        raise Invalid(
            f"parallel: {body.parallel} trials at once is more than this platform runs"
            f" ({slots} job slot(s)); use at most {slots}"
        )
    spec, notebook, _resources, _environment = await job_spec(service, viewer, body)
    await within_budget(service, viewer, "sweep", spec["profile"])
    info = parameters.inspect_notebook(read_notebook(service, body.content), spec["kernel_name"])
    try:
        space.against(info)
    except SpaceError as e:
        raise Invalid(str(e)) from None

    def save(session: Session) -> str:
        sha = job_store.save_notebook(session, notebook)
        definition = job_store.create_definition(
            session, viewer, body.share_with_group, notebook_sha256=sha, **spec
        )
        sweep = Sweep(
            owner=viewer.name, visibility=definition.visibility, name=spec["name"],
            definition_id=definition.id, space=space.to_dict(), metric=body.metric,
            direction=body.direction, sampler=body.sampler, pruner=body.pruner,
            seed=body.seed, n_trials=_capped(body.sampler, space, body.trials),
            parallel=body.parallel,
            timeout_seconds=body.budget_seconds, max_cost_usd=body.max_cost_usd,
            status=store.STOPPED, reason="starting",
        )  # fmt: skip
        session.add(sweep)
        session.flush()
        return sweep.id

    sweep_id = await service.db(save)
    await _start(engine, viewer, sweep_id)
    return await show(engine, viewer, sweep_id)


def _capped(sampler: str, space: Space, trials: int) -> int:
    """A grid runs each point once: asking more trials than it has points asks for all."""
    size = space.grid_size() if sampler == "grid" else None
    return min(trials, size) if size is not None else trials


def check_sampler(sampler: str, space: Space) -> None:
    if sampler == "grid" and space.grid() is None:
        raise SpaceError(
            "sampler: grid needs every parameter finite (categorical, int, or float with a step)"
        )
    if sampler == "cmaes" and space.has_categorical():
        raise SpaceError(
            "sampler: cmaes searches numbers only; use tpe or random with categorical parameters"
        )


async def _start(engine: SweepEngine, viewer: Viewer, sweep_id: str) -> None:
    """Make sure the study and the parent run exist, then let the engine run the sweep."""

    def prepare(session: Session) -> None:
        sweep = _owned(session, viewer, sweep_id, "start")
        if not sweep.parent_run_id:
            sweep.experiment_id, sweep.parent_run_id = engine.runs.parent(
                sweep.owner, sweep.id, sweep.name
            )
        now = utcnow()
        sweep.status, sweep.reason, sweep.started_at, sweep.updated_at = (
            store.RUNNING, "", now, now,
        )  # fmt: skip
        sweep.finished_at = None

    def study(session: Session) -> Sweep:
        return _owned(session, viewer, sweep_id, "start")

    sweep = await engine.jobs.db(study)
    await asyncio.to_thread(ensure_study, engine, sweep)
    await engine.jobs.db(prepare)
    engine.wake()


def ensure_study(engine: SweepEngine, sweep: Sweep) -> None:
    with contextlib.suppress(optuna.exceptions.DuplicatedStudyError):
        create_study(engine.storage(sweep.id), sweep)  # or made before a crash or a stop


async def list_sweeps(engine: SweepEngine, viewer: Viewer) -> models.SweepList:
    def work(session: Session) -> models.SweepList:
        sweeps = store.list_sweeps(session, viewer)
        return models.SweepList(sweeps=[_summary(s, store.trials(session, s.id)) for s in sweeps])

    return await engine.jobs.db(work)


async def show(engine: SweepEngine, viewer: Viewer, sweep_id: str) -> models.SweepDetail:
    def work(session: Session) -> tuple[Sweep, list[SweepTrial]]:
        sweep = store.get_sweep(session, viewer, sweep_id)
        return sweep, store.trials(session, sweep.id)

    sweep, rows = await engine.jobs.db(work)
    insights = await asyncio.to_thread(_insights, engine, sweep)
    summary = _summary(sweep, rows)
    trials = [_trial(t, insights.intermediate.get(t.number, [])) for t in rows]
    return models.SweepDetail(
        **summary.model_dump(), trial_list=trials, importance=insights.importance
    )


def _trial(row: SweepTrial, intermediate: list[tuple[int, float]]) -> models.TrialModel:
    fields = {
        "number": row.number, "state": row.state, "params": row.params, "value": row.value,
        "intermediate": intermediate, "job_id": row.run_id, "mlflow_run_id": row.mlflow_run_id,
        "reason": row.reason, "created_at": row.created_at, "finished_at": row.finished_at,
    }  # fmt: skip
    return models.TrialModel.model_validate(fields)


@dataclass(frozen=True)
class Insights:
    """What the study knows beyond the trial rows."""

    intermediate: dict[int, list[tuple[int, float]]]  # trial number -> (step, value) reported
    importance: dict[str, float]  # parameter -> its share of the objective's variation


def _insights(engine: SweepEngine, sweep: Sweep) -> Insights:
    """The values each trial reported by step and Optuna's parameter importance (PED-ANOVA:
    no extra dependency, milliseconds); empty before there is enough to say."""
    try:
        study = engine.study(sweep)
    except KeyError:  # the study is not made yet
        return Insights({}, {})
    trials = study.get_trials(deepcopy=False)
    intermediate = {
        t.number: sorted(t.intermediate_values.items()) for t in trials if t.intermediate_values
    }
    complete = sum(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    importance: dict[str, float] = {}
    if complete >= MIN_TRIALS_FOR_IMPORTANCE:
        importance = engine.remembered_importance(sweep.id, complete, lambda: _importance(study))
    return Insights(intermediate, importance)


def _importance(study: optuna.Study) -> dict[str, float]:
    with warnings.catch_warnings(), contextlib.suppress(ValueError, RuntimeError):
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        evaluator = optuna.importance.PedAnovaImportanceEvaluator()
        found = optuna.importance.get_param_importances(study, evaluator=evaluator)
        return {name: round(float(share), 6) for name, share in found.items()}
    return {}


def _summary(sweep: Sweep, rows: list[SweepTrial]) -> models.SweepModel:
    counts = count_states(t.state for t in rows)
    complete = [t for t in rows if t.state == store.COMPLETE and t.value is not None]
    pick = min if sweep.direction == "minimize" else max
    best = pick(complete, key=lambda t: t.value) if complete else None  # type: ignore[arg-type,return-value]
    fields = {
        "id": sweep.id, "name": sweep.name, "owner": sweep.owner, "visibility": sweep.visibility,
        "status": sweep.status, "reason": sweep.reason, "metric": sweep.metric,
        "direction": sweep.direction, "sampler": sweep.sampler, "pruner": sweep.pruner,
        "space": sweep.space, "trials": sweep.n_trials, "parallel": sweep.parallel,
        "budget_seconds": sweep.timeout_seconds, "max_cost_usd": sweep.max_cost_usd,
        "counts": counts,
        "best_value": best.value if best else None, "best_params": best.params if best else None,
        "best_trial": best.number if best else None,
        "best_run_id": (best.mlflow_run_id or None) if best else None,
        "parent_run_id": sweep.parent_run_id, "experiment_id": sweep.experiment_id,
        "eta_seconds": _eta(sweep, rows, counts), "created_at": sweep.created_at,
        "finished_at": sweep.finished_at,
    }  # fmt: skip
    return models.SweepModel.model_validate(fields)


def _eta(sweep: Sweep, rows: list[SweepTrial], counts: dict[str, int]) -> float | None:
    """Seconds left: the trials still to finish, in waves of `parallel`, at the median trial
    time so far; None before a trial ended or once the sweep is not running."""
    durations = [
        (t.finished_at - t.created_at).total_seconds() for t in rows if t.finished_at is not None
    ]
    if sweep.status != store.RUNNING or not durations:
        return None
    left = max(0, sweep.n_trials - counts[store.COMPLETE] - counts[store.PRUNED])
    waves = -(-left // max(1, sweep.parallel))
    return waves * statistics.median(durations)


async def stop(engine: SweepEngine, viewer: Viewer, sweep_id: str) -> models.SweepDetail:
    """Stop asking for trials and cancel the running ones; `resume` goes on."""

    def work(session: Session) -> None:
        sweep = _owned(session, viewer, sweep_id, "stop")
        if sweep.status != store.RUNNING:
            raise Conflict(f"sweep {sweep_id} is {sweep.status}, not running")
        for row in store.trials(session, sweep.id):
            if row.state == store.TRIAL_RUNNING:
                job = job_store.get_run(session, viewer, row.run_id)
                if job.status in job_store.ACTIVE:
                    job_store.request_cancel(session, viewer, row.run_id)
        end_sweep(sweep, store.STOPPED, f"stopped by {viewer.name}")

    await engine.jobs.db(work)
    engine.jobs.wake()
    engine.wake()
    return await show(engine, viewer, sweep_id)


async def resume(engine: SweepEngine, viewer: Viewer, sweep_id: str) -> models.SweepDetail:
    def check(session: Session) -> None:
        sweep = _owned(session, viewer, sweep_id, "resume")
        if sweep.status == store.RUNNING:
            raise Conflict(f"sweep {sweep_id} is running already")
        if sweep.status == store.SUCCEEDED:
            raise Conflict(f"sweep {sweep_id} has all its trials; extend it for more")

    await engine.jobs.db(check)
    await _within_budget(engine, viewer, sweep_id, "resume")
    await _start(engine, viewer, sweep_id)
    return await show(engine, viewer, sweep_id)


async def _within_budget(engine: SweepEngine, viewer: Viewer, sweep_id: str, doing: str) -> None:
    """Forbidden when a spent budget of the owner refuses more of this sweep's trials."""

    def profile(session: Session) -> str:
        sweep = _owned(session, viewer, sweep_id, doing)
        definition = session.get(job_store.JobDefinition, sweep.definition_id)
        return definition.profile if definition is not None else ""

    await within_budget(engine.jobs, viewer, "sweep", await engine.jobs.db(profile))


async def extend(
    engine: SweepEngine, viewer: Viewer, sweep_id: str, body: models.SweepExtend
) -> models.SweepDetail:
    def work(session: Session) -> None:
        sweep = _owned(session, viewer, sweep_id, "extend")
        if sweep.n_trials + body.trials > models.MAX_TRIALS:
            raise Invalid(f"trials: a sweep has at most {models.MAX_TRIALS}")
        wanted = _capped(sweep.sampler, parse(sweep.space), sweep.n_trials + body.trials)
        if wanted == sweep.n_trials:
            raise Conflict(f"sweep {sweep_id} asks for every point of its grid already")
        sweep.n_trials = wanted
        sweep.updated_at = utcnow()

    await _within_budget(engine, viewer, sweep_id, "extend")
    await engine.jobs.db(work)
    await _start(engine, viewer, sweep_id)
    return await show(engine, viewer, sweep_id)


async def set_visibility(
    engine: SweepEngine, viewer: Viewer, sweep_id: str, visibility: str
) -> models.SweepDetail:
    """Share the sweep (and its trials' jobs) with one of the owner's groups, or no one."""

    def work(session: Session) -> None:
        sweep = _owned(session, viewer, sweep_id, "share")
        chosen = Visibility.parse(visibility)
        if chosen.value == PUBLIC:
            raise Invalid("visibility: sweeps are shared with one group or no one")
        value = chosen.settable_by(viewer).value
        sweep.visibility = value
        definition = session.get(job_store.JobDefinition, sweep.definition_id)
        if definition is not None:
            definition.visibility = value
        for row in store.trials(session, sweep.id):
            job = session.get(job_store.JobRun, row.run_id)
            if job is not None:
                job.visibility = value

    await engine.jobs.db(work)
    return await show(engine, viewer, sweep_id)


async def delete(engine: SweepEngine, viewer: Viewer, sweep_id: str) -> None:
    """Delete the sweep: a running one is stopped first, the jobs of its trials that are
    still queued or running cancelled; then its trial rows and its study (Optuna's journal)
    go. The trials' jobs, with their history, and the MLflow runs stay."""

    def work(session: Session) -> str:
        sweep = _owned(session, viewer, sweep_id, "delete", lock=True)
        running = sweep.status == store.RUNNING
        end_sweep(sweep, store.STOPPED, f"deleted by {viewer.name}")
        # The first write: on SQLite it takes the one write lock, so the engine queues no
        # trial between the read below and the deletion (PostgreSQL: the row lock above).
        session.flush()
        for row in store.trials(session, sweep.id):
            job = session.get(job_store.JobRun, row.run_id)
            if job is not None and job.status in job_store.ACTIVE:
                with contextlib.suppress(Conflict):  # it has just ended: nothing to cancel
                    job_store.request_cancel(session, viewer, row.run_id)
        store.delete_sweep(session, sweep.id)
        return sweep.parent_run_id if running else ""

    parent_run_id = await engine.jobs.db(work)
    engine.forget(sweep_id)
    engine.jobs.wake()
    engine.wake()
    if parent_run_id:  # MLflow after the store's commit, as the engine ends a sweep
        try:
            await asyncio.to_thread(engine.runs.end_parent, parent_run_id, store.STOPPED)
        except Exception:
            engine.log.exception("Sweep %s: cannot close its MLflow run", sweep_id)


def _owned(
    session: Session, viewer: Viewer, sweep_id: str, doing: str, *, lock: bool = False
) -> Sweep:
    sweep = store.get_sweep(session, viewer, sweep_id, lock=lock)
    if not viewer.owns(sweep.owner):
        raise Forbidden(f"only {sweep.owner} can {doing} sweep {sweep_id}")
    return sweep
