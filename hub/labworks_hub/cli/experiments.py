"""`labworks experiments ...`: the MLflow experiments you can see, and who else may see yours.

Talks to the platform API (LABWORKS_URL, LABWORKS_TOKEN). Runs, metrics and artifacts are read
and written with the stock `mlflow` client (MLFLOW_TRACKING_URI, MLFLOW_TRACKING_TOKEN).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click

from .client import call, echo_json, json_option, visibility_options


@click.group()
def experiments() -> None:
    """MLflow experiments: list them, share yours with a group or everyone."""


@experiments.command("list")
@json_option
def experiments_list(as_json: bool) -> None:
    """List the experiments you can read: yours, your groups', public ones."""
    listing = call("GET", "experiments")
    if as_json:
        echo_json(listing)
        return
    if not listing["experiments"]:
        click.echo("No experiments yet: log a run with mlflow to create one.")
        return
    click.echo("ID\tNAME\tOWNER\tVISIBILITY\tUPDATED")
    for e in listing["experiments"]:
        click.echo(
            f"{e['id']}\t{e['name']}\t{e['owner'] or '-'}\t{e['visibility']}"
            f"\t{_time(e['last_update_time'])}"
        )


@experiments.command("share")
@click.argument("experiment_id", metavar="ID")
@visibility_options
@json_option
def experiments_share(experiment_id: str, visibility: str, as_json: bool) -> None:
    """Let others read experiment ID (its runs, metrics, artifacts and models); only its
    owner may. Nobody but the owner may write to it."""
    shared = call("PUT", f"experiments/{experiment_id}/visibility", json={"visibility": visibility})
    if as_json:
        echo_json(shared)
        return
    click.echo(f"Experiment {shared['id']} ({shared['name']}) is now {shared['visibility']}.")


@experiments.command("runs")
@click.argument("experiment_id", metavar="ID")
@click.option(
    "--filter",
    "filter_",
    metavar="F",
    default="",
    help="MLflow's search syntax, e.g. \"metrics.acc > 0.9 and params.lr = '0.01'\".",
)
@click.option(
    "--order-by",
    "order_by",
    metavar="O",
    multiple=True,
    help='e.g. "metrics.acc DESC"; repeatable. Default: newest first.',
)
@click.option("--metric", "metrics", metavar="KEY", multiple=True, help="A metric column.")
@click.option("--param", "params", metavar="KEY", multiple=True, help="A parameter column.")
@click.option("--tag", "tags", metavar="KEY", multiple=True, help="A tag column.")
@click.option(
    "--limit", type=click.IntRange(1, 1000), default=25, show_default=True, help="Runs on the page."
)
@click.option("--page-token", metavar="T", help="The next page (printed under a full page).")
@json_option
def experiments_runs(
    experiment_id: str,
    filter_: str,
    order_by: tuple[str, ...],
    metrics: tuple[str, ...],
    params: tuple[str, ...],
    tags: tuple[str, ...],
    limit: int,
    page_token: str | None,
    as_json: bool,
) -> None:
    """One page of the runs of experiment ID, as the Experiments panel's table: the chosen
    columns (default: the page's first metrics and parameters), filtered and sorted."""
    columns: dict[str, list[str]] = {
        "metrics": list(metrics),
        "params": list(params),
        "tags": list(tags),
    }
    body: dict[str, Any] = {
        "experiment_ids": [experiment_id],
        "filter": filter_,
        "order_by": list(order_by),
        "max_results": limit,
        "page_token": page_token,
        "columns": columns,
    }
    page = call("POST", "experiments/runs/table", json=body)
    if not (metrics or params or tags) and page["runs"]:
        keys = page["keys"]
        columns = {
            "metrics": keys["metrics"][:DEFAULT_COLUMNS],
            "params": keys["params"][:DEFAULT_COLUMNS],
            "tags": [],
        }
        body["columns"] = columns
        page = call("POST", "experiments/runs/table", json=body)
    if as_json:
        echo_json(page)
        return
    if not page["runs"]:
        click.echo("No runs match." if filter_ else "No runs in this experiment yet.")
        return
    header = ["RUN_ID", "NAME", "STATUS", "STARTED"]
    header += [f"metrics.{k}" for k in columns["metrics"]]
    header += [f"params.{k}" for k in columns["params"]]
    header += [f"tags.{k}" for k in columns["tags"]]
    click.echo("\t".join(header))
    for run in page["runs"]:
        info, data = run["info"], run.get("data", {})
        values = {
            kind: {e["key"]: e["value"] for e in data.get(kind, [])}
            for kind in ("metrics", "params", "tags")
        }
        row = [
            info["run_id"],
            info.get("run_name") or "-",
            info.get("status", "-"),
            _time(_int(info.get("start_time"))),
        ]
        for kind in ("metrics", "params", "tags"):
            row += [str(values[kind].get(k, "-")) for k in columns[kind]]
        click.echo("\t".join(row))
    if page.get("next_page_token"):
        click.echo(f"More runs: --page-token {page['next_page_token']}")


DEFAULT_COLUMNS = 5


def _int(value: object) -> int | None:
    return int(value) if isinstance(value, int | str) and str(value).isdigit() else None


def _time(millis: int | None) -> str:
    if millis is None:
        return "-"
    return datetime.fromtimestamp(millis / 1000, UTC).strftime("%Y-%m-%d %H:%M")
