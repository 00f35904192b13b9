"""`labworks cost ...`: what work costs. Reports by user, group, project, job, sweep, run and
more (a table, CSV or JSON), budgets (list; administrators set them) and the price list.

Talks to the platform API (LABWORKS_URL, LABWORKS_TOKEN).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import click

from ..service.cost.models import report_csv
from .client import call, echo_json, json_option

BY = ("user", "group", "project", "workspace", "job", "sweep", "run", "deployment", "day")


def _table(rows: Sequence[Sequence[str]], right: set[int]) -> None:
    """Rows as aligned columns; the columns in `right` are numbers."""
    widths = [max(len(row[n]) for row in rows) for n in range(len(rows[0]))]
    for row in rows:
        cells = [v.rjust(w) if n in right else v.ljust(w)
                 for n, (v, w) in enumerate(zip(row, widths, strict=True))]  # fmt: skip
        click.echo("  ".join(cells).rstrip())


@click.group()
def cost() -> None:
    """What work costs: reports, budgets and prices."""


@cost.command("report")
@click.option("--by", type=click.Choice(BY), default="user", show_default=True,
              help="What each row is.")  # fmt: skip
@click.option("--month", metavar="YYYY-MM", help="The month (default: this one).")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV: a header row, then one per key.")
@json_option
def report(by: str, month: str | None, as_csv: bool, as_json: bool) -> None:
    """A month's cost: yours (with --by group, your groups'); administrators see everyone's."""
    params = {"by": by, **({"month": month} if month else {})}
    found = call("GET", "cost/report", params=params)
    if as_json:
        echo_json(found)
        return
    if as_csv:
        click.echo(report_csv(found), nl=False)
        return
    currency = found["currency"]
    click.echo(f"{found['month']}, by {by} ({currency})")
    rows = [(by.upper(), "COST", "CPU-H", "GIB-H", "GPU-H")]
    for row in found["rows"]:
        key = row["key"] or "-"
        label = f"{key} ({row['name']})" if row["name"] and row["name"] != key else key
        rows.append((label, f"{row['cost_usd']:.2f}", f"{row['cpu_hours']:.1f}",
                     f"{row['memory_gb_hours']:.1f}", f"{row['gpu_hours']:.1f}"))  # fmt: skip
    rows.append(("TOTAL", f"{found['total_usd']:.2f}", "", "", ""))
    _table(rows, right={1, 2, 3, 4})


@cost.group()
def budgets() -> None:
    """Monthly budgets of users and groups."""


@budgets.command("list")
@json_option
def list_budgets(as_json: bool) -> None:
    """Your budget and your groups' with this month's use (administrators: all budgets)."""
    found = call("GET", "cost/budgets")
    if as_json:
        echo_json(found)
        return
    if not found["budgets"]:
        click.echo("No budgets.")
        return
    rows = [("SCOPE", "NAME", "MONTHLY", "SPENT", "USED", "THRESHOLDS")]
    for b in found["budgets"]:
        rows.append((b["scope"], b["name"], f"{b['monthly_usd']:.2f}", f"{b['spent_usd']:.2f}",
                     f"{b['percent']:.0f}%", ",".join(map(str, b["thresholds"]))))  # fmt: skip
    _table(rows, right={2, 3, 4})


def _thresholds(_ctx: click.Context, _param: click.Parameter, value: str) -> list[int]:
    try:
        return [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise click.BadParameter(f"percentages separated by commas, not {value!r}") from None


@budgets.command("set")
@click.argument("scope", type=click.Choice(["user", "group"]))
@click.argument("name")
@click.option("--monthly", type=float, required=True, metavar="USD", help="The monthly budget.")
@click.option("--thresholds", default="50,80,100", show_default=True, callback=_thresholds,
              help="Percentages of the budget that alert.")  # fmt: skip
@click.option("--override-hours", type=click.FloatRange(0, 24 * 366, min_open=True),
              metavar="HOURS", help="Refuse no new work for this long, even if spent.")  # fmt: skip
@json_option
def set_budget(
    scope: str, name: str, monthly: float, thresholds: list[int], override_hours: float | None,
    as_json: bool,
) -> None:  # fmt: skip
    """Set the monthly budget of a user or a group (administrators). A spent budget refuses
    new work; --override-hours lets it through for a while (setting it again without the
    option ends an override)."""
    body: dict = {"monthly_usd": monthly, "thresholds": thresholds}
    if override_hours:
        until = datetime.now(UTC) + timedelta(hours=override_hours)
        body["override_until"] = until.isoformat(timespec="seconds")
    found = call("PUT", f"cost/budgets/{scope}/{name}", json=body)
    if as_json:
        echo_json(found)
        return
    click.echo(f"Budget of {scope} {name}: {found['monthly_usd']:.2f} a month,"
               f" {found['spent_usd']:.2f} spent ({found['percent']:.0f}%)")  # fmt: skip
    if found.get("override_until"):
        click.echo(f"Overridden until {found['override_until']}: new work is not refused.")


@budgets.command("delete")
@click.argument("scope", type=click.Choice(["user", "group"]))
@click.argument("name")
def delete_budget(scope: str, name: str) -> None:
    """Remove the budget of a user or a group (administrators)."""
    call("DELETE", f"cost/budgets/{scope}/{name}")
    click.echo(f"Budget of {scope} {name} removed.")


@cost.command("prices")
@json_option
def prices(as_json: bool) -> None:
    """The price table and what an hour on each profile costs."""
    found = call("GET", "cost/prices")
    if as_json:
        echo_json(found)
        return
    table, currency = found["prices"], found["currency"]
    click.echo(f"Prices ({currency}): CPU core-hour {table['cpu_core_hour']},"
               f" memory GiB-hour {table['memory_gb_hour']},"
               f" disk GiB-month {table['disk_gb_month']},"
               f" spot discount {table['spot_discount']:.0%}")  # fmt: skip
    gpus = ", ".join(f"{model} {price}" for model, price in table["gpu_hour"].items())
    click.echo(f"GPU-hour: {gpus}")
    rows = [("PROFILE", "PER HOUR", "")]
    for p in found["profiles"]:
        rows.append((p["name"], f"{p['per_hour']:.4f}", "" if p["computed"] else "(set)"))
    _table(rows, right={1})
