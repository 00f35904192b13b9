"""What a spent budget does: new work is refused, with a message naming the budget and who can
raise it (docs/admin/costs.md, "Budgets").

`CostBudgets` holds the configuration of budgets at work (refusals, where group alerts go, idle
GPUs); `budget_check` is the one check that job submission, sweep creation, deployment creation
and the spawner (through `GET /cost/check`) call before they start anything new.

Who passes a spent budget: administrators (their own work is never refused), and everyone under
a budget whose `override_until` (an administrator sets it) is still ahead. Work that runs goes
on; a spent budget only refuses what is new.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from traitlets import CaselessStrEnum, Float, Unicode
from traitlets.config import LoggingConfigurable

from ..access import Forbidden, Viewer
from ..jobs.notify import Notifier
from ..store.cost import GROUP, USER, CostBudget
from ..store.models import Account
from .report import budget_use, month_bounds

WORKSPACE_KIND, JOB_KIND, SWEEP_KIND, DEPLOYMENT_KIND = "workspace", "job", "sweep", "deployment"
CHECKED = (WORKSPACE_KIND, JOB_KIND, SWEEP_KIND, DEPLOYMENT_KIND)
PLURAL = {
    WORKSPACE_KIND: "GPU workspaces",
    JOB_KIND: "jobs",
    SWEEP_KIND: "sweeps",
    DEPLOYMENT_KIND: "deployments",
}


class CostBudgets(LoggingConfigurable):
    """Budgets at work: what a spent budget refuses, where group alerts go, idle GPUs."""

    refuse = CaselessStrEnum(
        ["all", "gpu", "none"],
        default_value="all",
        help="What a spent (100%) budget refuses. all: new jobs, sweeps and deployments, and"
        " workspaces on GPU profiles; gpu: only new work on GPU profiles; none: nothing"
        " (alerts only). Workspaces without a GPU are never refused, so users keep their files.",
    ).tag(config=True)
    admin_webhook = Unicode(
        "", help="Webhook URL that gets the alerts of group budgets (and idle-GPU alerts)."
    ).tag(config=True)
    admin_email = Unicode(
        "", help="Address that gets the alerts of group budgets (and idle-GPU alerts)."
    ).tag(config=True)
    over_budget_action = CaselessStrEnum(
        ["continue", "stop"],
        default_value="continue",
        help="What happens to running work when a budget is spent. continue: it runs on;"
        " stop: after grace_period, the jobs (sweep trials too) of the people it covers are"
        " cancelled, their sweeps stopped and their GPU workspaces stopped (never deployments,"
        " workspaces without a GPU, or administrators' work).",
    ).tag(config=True)
    grace_period = Float(
        3600.0, help="Seconds a budget stays spent before over_budget_action 'stop' acts."
    ).tag(config=True)
    idle_gpu_threshold = Float(
        5.0, help="GPU utilization (percent) under which a GPU workspace counts as idle."
    ).tag(config=True)
    idle_gpu_minutes = Float(
        60.0,
        help="Minutes a GPU workspace stays under idle_gpu_threshold, with no activity"
        " (a busy kernel counts as activity), before it is idle; 0: never.",
    ).tag(config=True)
    idle_gpu_action = CaselessStrEnum(
        ["alert", "stop"],
        default_value="alert",
        help="alert: tell its owner (and the admin destination); stop: tell them and stop it.",
    ).tag(config=True)

    def notifiers(self, jobs: Mapping[str, Notifier]) -> dict[str, Notifier]:
        """The jobs' notifiers (their classes and configuration), made again as children of
        this object, so `c.CostBudgets.WebhookNotifier.<trait>` changes them for cost alerts
        alone (e.g. allow_private_addresses for an admin webhook inside the cluster)."""
        return {channel: type(notifier)(parent=self) for channel, notifier in jobs.items()}


def admins(session: Session) -> list[str]:
    """The administrators' names: who can raise a budget."""
    query = select(Account.name).where(
        Account.admin.is_(True), Account.disabled.is_(False), Account.deleted_at.is_(None)
    )
    return sorted(session.scalars(query))


def who_raises(session: Session) -> str:
    names = admins(session)
    return f"an administrator ({', '.join(names)})" if names else "an administrator"


def refuses(rule: str, kind: str, gpu: bool) -> bool:
    """Whether `rule` (CostBudgets.refuse) refuses a new `kind` (with a GPU or not)."""
    if rule == "none":
        return False
    if kind == WORKSPACE_KIND or rule == "gpu":
        return gpu
    return True


def budget_check(
    session: Session, viewer: Viewer, kind: str, gpu: bool, rule: str, now: datetime
) -> None:
    """Forbidden when a spent budget of `viewer` (theirs or a group's) refuses a new `kind`."""
    if viewer.admin or not viewer.is_user or not refuses(rule, kind, gpu):
        return
    month, start, end = month_bounds(None, now)
    query = select(CostBudget).where(
        ((CostBudget.scope == USER) & (CostBudget.name == viewer.name))
        | ((CostBudget.scope == GROUP) & CostBudget.name.in_(sorted(viewer.groups)))
    )
    for budget in session.scalars(query.order_by(CostBudget.scope.desc(), CostBudget.name)):
        if budget.override_until is not None and budget.override_until > now:
            continue
        use = budget_use(session, budget, start, end)
        if use["percent"] < 100:
            continue
        whose = "your budget" if budget.scope == USER else f"group {budget.name!r}'s budget"
        raise Forbidden(
            f"{whose} for {month} is spent: {use['spent_usd']:.2f} of"
            f" {budget.monthly_usd:.2f} ({use['percent']:.0f}%), so new {PLURAL[kind]} are"
            f" refused. Ask {who_raises(session)} to raise it (`labworks cost budgets set"
            f" {budget.scope} {budget.name} ...`) or to override it; what runs goes on."
        )
