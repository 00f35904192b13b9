"""Running work of a spent budget, with `CostBudgets.over_budget_action = "stop"`: once a budget
has been spent (100% or more, no override) for `grace_period` seconds, the running and queued
jobs of the people it covers are cancelled, their running sweeps stopped and their GPU
workspaces stopped. Deployments are never stopped (an endpoint going away breaks its callers;
an administrator decides), nor workspaces without a GPU, nor administrators' work.

When a budget is first seen spent, a `spent/<scope>/<name>/<month>` row of `lw_cost_alerts`
records when (so a restart does not restart the grace period); it goes when the budget is no
longer spent or is overridden, so raising a budget and spending it again starts a new grace.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..access import Refused, Viewer
from ..store import jobs as job_store
from ..store import sweeps as sweep_store
from ..store.cost import USER, WORKSPACE, CostAlert, CostBudget, CostCursor
from ..store.jobs import ACTIVE, JobRun
from ..store.models import Account
from ..store.sweeps import Sweep
from .report import members, month_bounds

SPENT = "spent"


@dataclass
class Stopped:
    """What a pass stopped: job runs, sweeps, and the GPU workspaces the hub must stop."""

    jobs: list[str] = field(default_factory=list)
    sweeps: list[str] = field(default_factory=list)
    workspaces: list[str] = field(default_factory=list)


def stop_overrun(
    session: Session, budgets: list[dict], now: datetime, grace: float, gpu_profiles: set[str]
) -> Stopped:
    """Stop the work of each budget spent for longer than `grace` seconds (see module doc)."""
    month, _, _ = month_bounds(None, now)
    stopped = Stopped()
    for budget in budgets:
        key = f"{SPENT}/{budget['scope']}/{budget['name']}/{month}"
        row = session.get(CostBudget, (budget["scope"], budget["name"]))
        overridden = row is not None and row.override_until is not None and row.override_until > now
        if budget["percent"] < 100 or overridden:
            session.execute(delete(CostAlert).where(CostAlert.key == key))
            continue
        since = session.get(CostAlert, key)
        if since is None:
            session.add(CostAlert(key=key, kind=SPENT, owner=budget["name"], payload={},
                                  fired_at=now))  # fmt: skip
            session.flush()
            if grace > 0:
                continue
        elif now - since.fired_at < timedelta(seconds=grace):
            continue
        people = [budget["name"]] if budget["scope"] == USER else members(session, budget["name"])
        _stop_work(session, _not_admins(session, people), gpu_profiles, stopped, budget, now)
    return stopped


def _not_admins(session: Session, names: list[str]) -> list[str]:
    admins = set(session.scalars(select(Account.name).where(Account.admin.is_(True))))
    return [n for n in names if n not in admins]


def _stop_work(
    session: Session, people: list[str], gpu_profiles: set[str], stopped: Stopped, budget: dict,
    now: datetime,
) -> None:  # fmt: skip
    if not people:
        return
    reason = f"stopped: the {budget['scope']} budget {budget['name']!r} is spent"
    for sweep in session.scalars(
        select(Sweep).where(Sweep.owner.in_(people), Sweep.status == sweep_store.RUNNING)
    ):
        sweep.status, sweep.reason = sweep_store.STOPPED, reason
        sweep.updated_at = sweep.finished_at = now
        stopped.sweeps.append(sweep.id)
    for run in session.scalars(
        select(JobRun).where(JobRun.owner.in_(people), JobRun.status.in_(ACTIVE))
    ):
        try:
            job_store.request_cancel(session, Viewer(run.owner), run.id)
        except Refused:  # ended meanwhile
            continue
        stopped.jobs.append(run.id)
    for cursor in session.scalars(
        select(CostCursor).where(
            CostCursor.subject_kind == WORKSPACE,
            CostCursor.ended_at.is_(None),
            CostCursor.owner.in_(people),
            CostCursor.profile.in_(sorted(gpu_profiles)),
        )
    ):
        stopped.workspaces.append(cursor.subject_id)
