"""`labworks experiments ...`: the MLflow experiments you can see, and who else may see yours.

Talks to the platform API (LABWORKS_URL, LABWORKS_TOKEN). Runs, metrics and artifacts are read
and written with the stock `mlflow` client (MLFLOW_TRACKING_URI, MLFLOW_TRACKING_TOKEN).
"""

from __future__ import annotations

from datetime import UTC, datetime

import click

from .client import call, echo_json, json_option


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
@click.option("--group", metavar="G", help="Members of group G (yours) may read it.")
@click.option("--public", is_flag=True, help="Every user may read it.")
@click.option("--private", is_flag=True, help="Only you (undo sharing).")
@json_option
def experiments_share(
    experiment_id: str, group: str | None, public: bool, private: bool, as_json: bool
) -> None:
    """Let others read experiment ID (its runs, metrics, artifacts and models); only its
    owner may. Nobody but the owner may write to it."""
    if sum((group is not None, public, private)) != 1:
        raise click.UsageError("give exactly one of --group G, --public or --private")
    visibility = f"group:{group}" if group is not None else "public" if public else "private"
    shared = call("PUT", f"experiments/{experiment_id}/visibility", json={"visibility": visibility})
    if as_json:
        echo_json(shared)
        return
    click.echo(f"Experiment {shared['id']} ({shared['name']}) is now {shared['visibility']}.")


def _time(millis: int | None) -> str:
    if millis is None:
        return "-"
    return datetime.fromtimestamp(millis / 1000, UTC).strftime("%Y-%m-%d %H:%M")
