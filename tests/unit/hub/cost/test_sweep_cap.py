"""A sweep with a cost cap, on SQLite and PostgreSQL: it queues trials while its trials' metered
cost is under the cap, and once it reaches it the sweep stops, naming the cap, its queued
trials' jobs are cancelled and no trial is queued again."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from labworks_hub.service.store import jobs as job_store
from labworks_hub.service.store import sweeps as sweep_store
from labworks_hub.service.store.jobs import JobRun
from labworks_hub.service.store.sweeps import Sweep, SweepTrial
from labworks_hub.service.sweeps.engine import SweepEngine, create_study, sweep_cost

from ..sweeps.test_delete import Runs
from ..sweeps.test_journal import new_sweep
from .test_report import row


class Jobs:
    """What the engine uses of the job service: the store, and queueing a trial's job."""

    def __init__(self, db) -> None:
        self.store = db

    async def db(self, work: Any, *args: Any) -> Any:
        return await self.store.run(work, *args)

    def queue_run(self, session, definition, *, trigger: str, parameters: dict) -> JobRun:
        return job_store.create_run(session, definition, trigger=trigger, parameters=parameters)

    def wake(self) -> None:
        pass


def spend(store, sweep_id: str, subject: str, cost: float) -> None:
    with store.session() as s:
        s.add(row("ann", "job", subject, date(2026, 12, 1), cost, sweep_id=sweep_id))


def trials(store, sweep_id: str) -> list[tuple[str, str]]:
    """(trial state, its job's status) of each trial."""
    with store.session() as s:
        query = (
            select(SweepTrial.state, JobRun.status)
            .join(JobRun, JobRun.id == SweepTrial.run_id)
            .where(SweepTrial.sweep_id == sweep_id)
            .order_by(SweepTrial.number)
        )
        return [tuple(r) for r in s.execute(query)]


def test_a_sweep_stops_when_its_trials_reach_its_cost_cap(store):
    sweep_id = new_sweep(store)
    with store.session() as s:
        sweep = s.get(Sweep, sweep_id)
        sweep.space = {"x": {"type": "float", "low": 0.0, "high": 1.0}}
        sweep.parallel, sweep.max_cost_usd = 2, 0.5
    engine = SweepEngine(Jobs(store), Runs())  # type: ignore[arg-type]
    with store.session() as s:
        create_study(engine.storage(sweep_id), s.get(Sweep, sweep_id))
    assert engine.advance(sweep_id)
    assert len(trials(store, sweep_id)) == 2
    spend(store, sweep_id, "trial-a", 0.3)
    spend(store, "another", "other", 5.0)  # another sweep's cost is not this one's
    assert not engine.advance(sweep_id)  # both still queued: nothing new, under the cap
    with store.session() as s:
        assert s.get(Sweep, sweep_id).status == sweep_store.RUNNING
        assert sweep_cost(s, sweep_id) == 0.3
    spend(store, sweep_id, "trial-b", 0.25)
    assert not engine.advance(sweep_id)
    with store.session() as s:
        sweep = s.get(Sweep, sweep_id)
        assert sweep.status == sweep_store.STOPPED
        assert sweep.reason == "the sweep's cost cap (0.50) is reached: its trials cost 0.55"
    assert [status for _, status in trials(store, sweep_id)] == ["cancelled", "cancelled"]
    assert not engine.advance(sweep_id)
    assert len(trials(store, sweep_id)) == 2
