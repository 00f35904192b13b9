"""Cost alerts: a budget crossing one of its thresholds, a GPU workspace left idle.

After each sample the meter calls `Alerts.after_sample`. Each alert has a key (a budget's
threshold in a month; an idle workspace's server start) and fires once: its row in
`lw_cost_alerts` is written in the same transaction that decides to fire it, so a restart, a
second sample or a second look never fires it again. A notice that cannot be delivered is
logged and counted (`delivered`), never retried.

Where alerts go: a user budget's alerts and an idle workspace's go to its owner's notification
settings (the jobs' webhook and e-mail: `PUT /jobs/notifications`), a group budget's to the
configured admin destination (`CostBudgets.admin_webhook`, `admin_email`), which also gets a
copy of idle-GPU alerts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from ..jobs.notify import EMAIL, WEBHOOK, Notice, Notifier
from ..store import Store
from ..store import jobs as job_store
from ..store.cost import USER, CostAlert
from .budgets import CostBudgets, admins, who_raises
from .models import significant
from .report import month_bounds

BUDGET, IDLE_GPU = "budget", "idle_gpu"


@dataclass(frozen=True)
class Fired:
    """An alert that fired now, with where it goes: (channel, destination) pairs."""

    key: str
    notice: Notice
    destinations: list[tuple[str, str]] = field(default_factory=list)


def budget_alerts(
    session: Session, budgets: list[dict], now: datetime, config: CostBudgets
) -> list[Fired]:
    """Record the thresholds each budget (as `list_budgets` shows it) crossed and that have not
    fired this month; what fired now."""
    month, _, _ = month_bounds(None, now)
    fired = []
    for budget in budgets:
        for threshold in sorted(budget["thresholds"]):
            if budget["percent"] < threshold:
                break
            key = f"{BUDGET}/{budget['scope']}/{budget['name']}/{month}/{threshold}"
            if session.get(CostAlert, key) is not None:
                continue
            notice = _budget_notice(session, budget, threshold, month)
            session.add(
                CostAlert(key=key, kind=BUDGET, owner=budget["name"], payload=notice.payload,
                          fired_at=now)
            )  # fmt: skip
            if budget["scope"] == USER:
                where = _settings(session, budget["name"])
            else:
                where = _admin_destinations(config)
            fired.append(Fired(key, notice, where))
    session.flush()
    return fired


def _budget_notice(session: Session, budget: dict, threshold: int, month: str) -> Notice:
    whose = "Your budget" if budget["scope"] == USER else f"Group {budget['name']}'s budget"
    raise_by = who_raises(session)
    text = (
        f"{whose} for {month} has reached {threshold}%: {budget['spent_usd']:.2f} spent of"
        f" {budget['monthly_usd']:.2f} ({budget['percent']:.0f}%)."
    )
    if threshold >= 100:
        text += " New work is refused until it is raised or the month ends; what runs goes on."
    text += f" {raise_by[0].upper()}{raise_by[1:]} can raise it."
    payload = {
        "budget": {"scope": budget["scope"], "name": budget["name"],
                   "monthly_usd": budget["monthly_usd"]},
        "spent_usd": significant(budget["spent_usd"]), "percent": round(budget["percent"], 3),
        "threshold": threshold, "month": month, "raise_by": admins(session), "message": text,
    }  # fmt: skip
    subject = f"Labworks: {whose.lower()} reached {threshold}% for {month}"
    return Notice("cost.budget_alert", subject, text, payload)


def idle_alert(
    session: Session, key: str, owner: str, payload: dict, text: str, now: datetime,
    config: CostBudgets,
) -> Fired | None:  # fmt: skip
    """Record an idle-GPU alert under `key`; None when it fired before."""
    if session.get(CostAlert, key) is not None:
        return None
    notice = Notice("cost.idle_gpu", f"Labworks: your GPU workspace is idle ({owner})", text,
                    {**payload, "message": text})  # fmt: skip
    session.add(CostAlert(key=key, kind=IDLE_GPU, owner=owner, payload=notice.payload,
                          fired_at=now))  # fmt: skip
    session.flush()
    return Fired(key, notice, _settings(session, owner) + _admin_destinations(config))


def _settings(session: Session, user: str) -> list[tuple[str, str]]:
    settings = job_store.notify_settings(session, user)
    found = [(WEBHOOK, settings.webhook_url), (EMAIL, settings.email or "")]
    return [(channel, where) for channel, where in found if where]


def _admin_destinations(config: CostBudgets) -> list[tuple[str, str]]:
    found = [(WEBHOOK, config.admin_webhook), (EMAIL, config.admin_email)]
    return [(channel, where) for channel, where in found if where]


async def deliver(store_: Store, notifiers: Mapping[str, Notifier], fired: list[Fired]) -> None:
    """Send each fired alert to its destinations and count what was accepted."""
    for alert in fired:
        sends = [
            notifiers[channel].send(where, alert.notice)
            for channel, where in alert.destinations
            if channel in notifiers and notifiers[channel].available
        ]
        results = await asyncio.gather(*sends, return_exceptions=True)
        accepted = sum(1 for r in results if r is True)
        if accepted:
            await store_.run(_count, alert.key, accepted)


def _count(session: Session, key: str, accepted: int) -> None:
    row = session.get(CostAlert, key)
    if row is not None:
        row.delivered = accepted
