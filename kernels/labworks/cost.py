"""What your work costs, from a notebook.

    from labworks import cost

    cost.meter()                     # a live meter (ipywidgets) under the cell
    cost.summary()["month_usd"]      # this month's spend, as a number

Both read the platform's ``GET /cost/summary`` with this workspace's or job's token
(``labworks.api``): your burn rate per hour now, today's and this month's spend, what of
yours is running, and your budgets' use. A refusal is a ``CostError`` with the platform's
message.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Mapping
from typing import Any

from .api import Api, PlatformError

__all__ = ["CostError", "describe", "meter", "money", "summary"]

MIN_INTERVAL = 1.0


class CostError(PlatformError):
    """A cost request failed; ``status`` is the platform's HTTP status, if it answered."""


def _api() -> Api:
    return Api.from_env("labworks.cost", CostError)


def summary() -> dict[str, Any]:
    """Your burn rate per hour, today's and this month's spend, what of yours runs (each with
    its burn rate and use at the last sample) and your budgets, as the platform reports them."""
    return dict(_api().json("GET", "cost/summary"))


def money(amount: float, currency: str = "USD") -> str:
    """An amount as the lab shows it: "$1.23"; under a cent with four decimals."""
    digits = 4 if amount and abs(amount) < 0.01 else 2
    text = f"{abs(amount):,.{digits}f}"
    sign = "-" if amount < 0 else ""
    return f"{sign}${text}" if currency == "USD" else f"{sign}{text} {currency}"


def describe(current: Mapping[str, Any]) -> str:
    """The summary as the meter shows it, in HTML: a line of totals, then what runs and the
    budgets (every name escaped)."""
    cur = str(current.get("currency", "USD"))
    parts = [
        f"<b>{money(current['burn_per_hour'], cur)}/h</b> now",
        f"today {money(current['today_usd'], cur)}",
        f"this month {money(current['month_usd'], cur)}",
    ]
    out = [f"<div class='labworks-cost-totals'>{' · '.join(parts)}</div>"]
    running = current.get("running") or []
    if running:
        rows = "".join(
            f"<tr><td>{_e(r['kind'])}</td><td>{_e(r['name'] or r['id'])}</td>"
            f"<td>{_e(r['profile'])}</td><td>{money(r['burn_per_hour'], cur)}/h</td>"
            f"<td>{_gpu(r)}</td></tr>"
            for r in running
        )
        out.append(
            "<table class='labworks-cost-running'><tr><th>Running</th><th>Name</th>"
            f"<th>Profile</th><th>Rate</th><th>GPU</th></tr>{rows}</table>"
        )
    else:
        out.append("<div>Nothing of yours is running.</div>")
    for budget in current.get("budgets") or []:
        out.append(
            f"<div>Budget {_e(budget['scope'])} {_e(budget['name'])}: "
            f"{money(budget['spent_usd'], cur)} of {money(budget['monthly_usd'], cur)}"
            f" ({budget['percent']:.0f}%)</div>"
        )
    return "".join(out)


def meter(interval: float = 30.0) -> Any:
    """A widget under the cell showing :func:`summary`, read again every ``interval`` seconds
    in the background until the widget is closed; returns it (display happens when it is the
    cell's value). Needs ipywidgets, which Labworks kernels have."""
    import ipywidgets as widgets  # only here: a script need not have it

    if not interval >= MIN_INTERVAL:
        raise ValueError(f"interval: at least {MIN_INTERVAL} seconds, not {interval!r}")
    view = widgets.HTML(describe(summary()))
    status = widgets.HTML()
    box = widgets.VBox([view, status])
    closed = threading.Event()

    def follow() -> None:
        while not closed.wait(interval):
            if box.comm is None:  # closed with box.close()
                return
            try:
                view.value = describe(summary())
                status.value = ""
            except CostError as e:
                status.value = _e(f"cannot read the cost: {e}")

    box.stop = closed.set  # type: ignore[attr-defined]  # stop refreshing, keep the widget
    threading.Thread(target=follow, name="labworks-cost-meter", daemon=True).start()
    return box


def _gpu(subject: Mapping[str, Any]) -> str:
    used = subject.get("gpu_utilization")
    return "—" if used is None else f"{used:.0f}%"


def _e(value: object) -> str:
    return html.escape(str(value))
