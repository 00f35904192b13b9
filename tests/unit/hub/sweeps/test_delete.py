"""Deleting a sweep on the store of each backend: its rows and its study go, the jobs of its
trials are cancelled and kept, the engine lets go of its journal, and only the owner may."""

from __future__ import annotations

from typing import Any

import optuna
import pytest
from sqlalchemy import func, select

from labworks_hub.service.access import Forbidden, NotFound, Viewer
from labworks_hub.service.store import Store
from labworks_hub.service.store import jobs as job_store
from labworks_hub.service.store.jobs import JobDefinition, JobRun
from labworks_hub.service.store.sweeps import Sweep, SweepJournalLine, SweepTrial
from labworks_hub.service.sweeps import operations as ops
from labworks_hub.service.sweeps.engine import SweepEngine

from .test_journal import new_sweep

OWNER = Viewer("ann", groups=frozenset({"ml"}))


class Jobs:
    """What the engine and `operations.delete` use of the job service."""

    def __init__(self, db: Store) -> None:
        self.store = db
        self.woken = 0

    async def db(self, work: Any, *args: Any) -> Any:
        return await self.store.run(work, *args)

    def wake(self) -> None:
        self.woken += 1


class Runs:
    """The MLflow side, recording which parent runs were closed."""

    def __init__(self) -> None:
        self.ended: list[tuple[str, str]] = []

    def end_parent(self, run_id: str, status: str) -> None:
        self.ended.append((run_id, status))


@pytest.fixture
def engine(store: Store) -> SweepEngine:
    return SweepEngine(Jobs(store), Runs())  # type: ignore[arg-type]


def trial_jobs(db: Store, sweep_id: str, statuses: list[str]) -> list[str]:
    """A trial of the sweep per status, each with its job run in that status; their ids."""
    with db.session() as session:
        sweep = session.get(Sweep, sweep_id)
        assert sweep is not None
        sweep.parent_run_id = "parent-run"
        sweep.visibility = "group:ml"
        definition = session.get(JobDefinition, sweep.definition_id)
        assert definition is not None
        ids = []
        for number, status in enumerate(statuses):
            run = job_store.create_run(session, definition, trigger="sweep")
            run.status = status
            session.add(SweepTrial(sweep_id=sweep_id, number=number, run_id=run.id))
            ids.append(run.id)
        return ids


def count(db: Store, model: Any, sweep_id: str) -> int:
    with db.session() as session:
        return session.scalar(
            select(func.count()).select_from(model).where(model.sweep_id == sweep_id)
        )


async def test_deleting_a_running_sweep_cancels_its_jobs_and_removes_it(
    store: Store, engine: SweepEngine
):
    sweep_id = new_sweep(store)
    optuna.create_study(study_name=sweep_id, storage=engine.storage(sweep_id)).ask()
    journal = engine._journals[sweep_id]
    assert count(store, SweepJournalLine, sweep_id) > 0
    queued, running, done = trial_jobs(store, sweep_id, ["queued", "running", "succeeded"])

    await ops.delete(engine, Viewer("ann"), sweep_id)

    with store.session() as session:
        assert session.get(Sweep, sweep_id) is None
        jobs = {run.id: run for run in session.scalars(select(JobRun))}
        assert jobs[queued].status == "cancelled"
        assert jobs[running].status == "running" and jobs[running].cancel_requested
        assert jobs[done].status == "succeeded" and not jobs[done].cancel_requested
    assert count(store, SweepTrial, sweep_id) == 0
    assert count(store, SweepJournalLine, sweep_id) == 0
    # The engine let go of the study and closed the journal's connection.
    assert sweep_id not in engine._journals and sweep_id not in engine._storages
    assert journal._connection is None
    assert engine.runs.ended == [("parent-run", "stopped")]  # type: ignore[attr-defined]
    assert engine.jobs.woken == 1  # type: ignore[attr-defined]
    with pytest.raises(NotFound):
        await ops.show(engine, Viewer("ann"), sweep_id)


async def test_a_finished_sweep_is_deleted_without_touching_mlflow(
    store: Store, engine: SweepEngine
):
    sweep_id = new_sweep(store)
    (done,) = trial_jobs(store, sweep_id, ["failed"])
    with store.session() as session:
        session.get(Sweep, sweep_id).status = "succeeded"  # type: ignore[union-attr]

    await ops.delete(engine, Viewer("ann"), sweep_id)

    with store.session() as session:
        assert session.get(Sweep, sweep_id) is None
        assert session.get(JobRun, done).status == "failed"  # type: ignore[union-attr]
    assert engine.runs.ended == []  # type: ignore[attr-defined]


async def test_only_the_owner_deletes_a_sweep(store: Store, engine: SweepEngine):
    sweep_id = new_sweep(store)
    (running,) = trial_jobs(store, sweep_id, ["running"])  # shared with group ml
    with pytest.raises(Forbidden, match="only ann can delete sweep"):
        await ops.delete(engine, Viewer("bob", groups=frozenset({"ml"})), sweep_id)
    with pytest.raises(NotFound):  # not in the group: it does not exist for them
        await ops.delete(engine, Viewer("eve"), sweep_id)
    with pytest.raises(NotFound):  # admins see others' things through the admin views only
        await ops.delete(engine, Viewer("root", admin=True), sweep_id)
    with store.session() as session:
        assert session.get(Sweep, sweep_id) is not None
        assert not session.get(JobRun, running).cancel_requested  # type: ignore[union-attr]
    assert count(store, SweepTrial, sweep_id) == 1


def test_forgetting_a_sweep_never_seen_does_nothing(engine: SweepEngine):
    engine.forget("0123456789ab")
    assert engine._journals == {}
