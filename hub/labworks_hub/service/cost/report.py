"""Cost reports, the caller's live summary, and budgets with their use this month.

Who sees what: a user sees their own usage, and for `by=group` the totals of the groups they
are members of (a group's spend is what its current members spent); administrators see
everyone's. Budgets: a user sees their own and their groups'; only administrators set them.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, null, select
from sqlalchemy.orm import Session

from ..access import Forbidden, Invalid, NotFound, Viewer, check_name
from ..store.cost import GROUP, JOB, USER, CostBudget, CostCursor, CostUsage
from ..store.models import Account, Group, group_members
from .models import MONTH_PATTERN

MONTH = re.compile(MONTH_PATTERN)


def month_bounds(month: str | None, now: datetime) -> tuple[str, date, date]:
    """("YYYY-MM", first day, first day of the next month) of `month` (default: now's)."""
    if month is None:
        month = now.astimezone(UTC).strftime("%Y-%m")
    found = MONTH.match(month)
    if not found:
        raise Invalid(f"month must be YYYY-MM, e.g. 2026-12, not {month!r}")
    year, number = int(month[:4]), int(month[5:])
    start = date(year, number, 1)
    end = date(year + number // 12, number % 12 + 1, 1)
    return month, start, end


def _sums() -> list[Any]:
    return [
        func.sum(CostUsage.cost_usd),
        func.sum(CostUsage.core_seconds) / 3600,
        func.sum(CostUsage.memory_gb_seconds) / 3600,
        func.sum(CostUsage.gpu_seconds) / 3600,
        func.sum(CostUsage.cpu_seconds) / 3600,
    ]


# by -> (key column, name column, condition on the rows)
_KEYS: dict[str, tuple[Any, Any, ColumnElement[bool] | None]] = {
    "user": (CostUsage.owner, None, None),
    "project": (CostUsage.project, None, None),
    "workspace": (CostUsage.subject_id, func.max(CostUsage.name),
                  CostUsage.subject_kind == "workspace"),
    "job": (CostUsage.subject_id, func.max(CostUsage.name), CostUsage.subject_kind == JOB),
    "sweep": (CostUsage.sweep_id, None, CostUsage.sweep_id != ""),
    "run": (CostUsage.mlflow_run_id, func.max(CostUsage.name), CostUsage.mlflow_run_id != ""),
    "deployment": (CostUsage.subject_id, func.max(CostUsage.name),
                   CostUsage.subject_kind == "deployment"),
    "day": (CostUsage.day, None, None),
}  # fmt: skip


def report(session: Session, viewer: Viewer, by: str, month: str | None, now: datetime) -> dict:
    """The month's cost grouped `by`, as the caller may see it, biggest first."""
    month, start, end = month_bounds(month, now)
    in_month = and_(CostUsage.day >= start, CostUsage.day < end)
    if by == "group":
        query = (
            select(*[Group.name, null(), *_sums()])
            .join(group_members, group_members.c.group_id == Group.id)
            .join(Account, Account.id == group_members.c.account_id)
            .join(CostUsage, CostUsage.owner == Account.name)
            .where(in_month)
            .group_by(Group.name)
        )
        if not viewer.admin:
            query = query.where(
                Group.name.in_(sorted(viewer.groups)) if viewer.is_user else false()
            )
    else:
        key, name, condition = _KEYS[by]
        query = select(*[key, name if name is not None else null(), *_sums()])
        query = query.where(in_month).group_by(key)
        if condition is not None:
            query = query.where(condition)
        if not viewer.admin:
            query = query.where(_own(viewer))
    rows: list[dict[str, Any]] = [
        {"key": str(key), "name": name or "", "cost_usd": cost or 0.0, "cpu_hours": cpu or 0.0,
         "memory_gb_hours": memory or 0.0, "gpu_hours": gpus or 0.0,
         "cpu_used_hours": used or 0.0}
        for key, name, cost, cpu, memory, gpus, used in session.execute(query)
    ]  # fmt: skip
    rows.sort(key=lambda r: (-r["cost_usd"], r["key"]) if by != "day" else r["key"])
    total = sum(r["cost_usd"] for r in rows)
    return {"month": month, "by": by, "rows": rows, "total_usd": total}


def _own(viewer: Viewer) -> ColumnElement[bool]:
    return CostUsage.owner == viewer.name if viewer.is_user else false()


def spent(session: Session, start: date, end: date, owners: ColumnElement[bool]) -> float:
    query = select(func.sum(CostUsage.cost_usd)).where(
        CostUsage.day >= start, CostUsage.day < end, owners
    )
    return session.scalar(query) or 0.0


def members(session: Session, group: str) -> list[str]:
    query = (
        select(Account.name)
        .join(group_members, group_members.c.account_id == Account.id)
        .join(Group, Group.id == group_members.c.group_id)
        .where(Group.name == group)
    )
    return list(session.scalars(query))


def budget_use(session: Session, budget: CostBudget, start: date, end: date) -> dict:
    """The budget as the API shows it, with what was spent against it this month."""
    if budget.scope == USER:
        owners = CostUsage.owner == budget.name
    else:
        owners = CostUsage.owner.in_(members(session, budget.name))
    used = spent(session, start, end, owners)
    percent = 100 * used / budget.monthly_usd if budget.monthly_usd else (100.0 if used else 0.0)
    return {
        "scope": budget.scope, "name": budget.name, "monthly_usd": budget.monthly_usd,
        "thresholds": list(budget.thresholds), "spent_usd": used, "percent": percent,
        "updated_by": budget.updated_by, "override_until": budget.override_until,
    }  # fmt: skip


def list_budgets(session: Session, viewer: Viewer, now: datetime) -> dict:
    """The caller's budget and their groups' (an administrator: every budget)."""
    month, start, end = month_bounds(None, now)
    query = select(CostBudget).order_by(CostBudget.scope, CostBudget.name)
    if not viewer.admin:
        mine = and_(CostBudget.scope == USER, CostBudget.name == viewer.name)
        groups = and_(CostBudget.scope == GROUP, CostBudget.name.in_(sorted(viewer.groups)))
        query = query.where(mine | groups if viewer.is_user else false())
    found = [budget_use(session, b, start, end) for b in session.scalars(query)]
    return {"month": month, "budgets": found}


def _admin(viewer: Viewer) -> None:
    if not (viewer.is_user and viewer.admin):
        raise Forbidden("only administrators set budgets; ask one to set or raise yours")


def set_budget(
    session: Session, viewer: Viewer, scope: str, name: str, monthly_usd: float,
    thresholds: list[int], now: datetime, override_until: datetime | None = None,
) -> dict:  # fmt: skip
    """Create or change a budget (administrators only); NotFound for an unknown user or group."""
    _admin(viewer)
    check_name(name, f"{scope} name")
    if scope == USER:
        account = session.scalar(select(Account).where(Account.name == name))
        if account is None or account.deleted:
            raise NotFound(f"no user {name!r}")
    elif session.scalar(select(Group.id).where(Group.name == name)) is None:
        raise NotFound(f"no group {name!r}")
    budget = session.get(CostBudget, (scope, name))
    if budget is None:
        budget = CostBudget(scope=scope, name=name)
        session.add(budget)
    budget.monthly_usd, budget.thresholds = monthly_usd, list(thresholds)
    budget.updated_by, budget.updated_at = viewer.name, now
    budget.override_until = override_until
    session.flush()
    _, start, end = month_bounds(None, now)
    return budget_use(session, budget, start, end)


def delete_budget(session: Session, viewer: Viewer, scope: str, name: str) -> None:
    _admin(viewer)
    budget = session.get(CostBudget, (scope, name))
    if budget is None:
        raise NotFound(f"no budget for {scope} {name!r}")
    session.delete(budget)
    session.flush()


def summary(session: Session, viewer: Viewer, now: datetime) -> dict:
    """The caller's burn rate now, spend today and this month, running work and budgets."""
    _, start, end = month_bounds(None, now)
    today = now.astimezone(UTC).date()
    running = list(
        session.scalars(
            select(CostCursor)
            .where(CostCursor.ended_at.is_(None), CostCursor.owner == viewer.name)
            .order_by(CostCursor.subject_kind, CostCursor.subject_id)
        )
    ) if viewer.is_user else []  # fmt: skip
    listed = [
        {"kind": c.subject_kind, "id": c.subject_id, "name": c.name, "profile": c.profile,
         "burn_per_hour": c.burn_per_hour, "cpu_percent": c.cpu_percent,
         "memory_bytes": c.memory_bytes, "gpu_utilization": c.gpu_utilization}
        for c in running
    ]  # fmt: skip
    return {
        "user": viewer.name,
        "burn_per_hour": sum(c.burn_per_hour for c in running),
        "today_usd": spent_on(session, today, viewer),
        "month_usd": spent(session, start, end, _own(viewer)),
        "running": listed,
        "budgets": list_budgets(session, viewer, now)["budgets"],
    }


def spent_on(session: Session, day: date, viewer: Viewer) -> float:
    return (
        session.scalar(
            select(func.sum(CostUsage.cost_usd)).where(CostUsage.day == day, _own(viewer))
        )
        or 0.0
    )
