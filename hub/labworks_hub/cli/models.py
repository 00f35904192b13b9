"""`labworks models ...`: the registered models you can see, and who else may see yours.

Talks to the platform API (LABWORKS_URL, LABWORKS_TOKEN). Registering models, versions, tags
and aliases is done with the stock `mlflow` client (MLFLOW_TRACKING_URI, MLFLOW_TRACKING_TOKEN)
or the Experiments panel's "Register model".
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

import click

from .client import call, echo_json, json_option, visibility_options


@click.group()
def models() -> None:
    """Registered models: list them, share yours with a group or everyone."""


@models.command("list")
@json_option
def models_list(as_json: bool) -> None:
    """List the registered models you can read: yours, your groups', public ones."""
    listing = call("GET", "models")
    if as_json:
        echo_json(listing)
        return
    if not listing["models"]:
        click.echo("No registered models yet: register one from a run (mlflow.register_model).")
        return
    click.echo("NAME\tOWNER\tVISIBILITY\tLATEST\tUPDATED")
    for m in listing["models"]:
        latest = m["latest_versions"][0]["version"] if m["latest_versions"] else "-"
        click.echo(
            f"{m['name']}\t{m['owner'] or '-'}\t{m['visibility']}\t{latest}"
            f"\t{_time(m['last_updated_time'])}"
        )


@models.command("share")
@click.argument("name")
@visibility_options
@json_option
def models_share(name: str, visibility: str, as_json: bool) -> None:
    """Let others read registered model NAME (its versions and their files, to load them);
    only its owner may. Nobody but the owner may add versions or change it."""
    shared = call(
        "PUT", f"models/{quote(name, safe='')}/visibility", json={"visibility": visibility}
    )
    if as_json:
        echo_json(shared)
        return
    click.echo(f"Model {shared['name']} is now {shared['visibility']}.")


def _time(millis: int | None) -> str:
    if millis is None:
        return "-"
    return datetime.fromtimestamp(millis / 1000, UTC).strftime("%Y-%m-%d %H:%M")
