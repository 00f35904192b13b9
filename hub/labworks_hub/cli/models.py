"""`labworks models list|share|versions|version|task|alias|history`: the registered models you
can see, who else may see yours, their versions' task types and lineage, aliases, and the
history of who moved what.

Talks to the platform API (LABWORKS_URL, LABWORKS_TOKEN). Registering is `labworks models
register` (cli/serving.py), the stock `mlflow` client or the Experiments panel's "Register
model".
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

import click

from .client import call, echo_json, json_option, visibility_options

TASKS = ("classification", "regression", "multilabel", "seq2seq")


@click.group()
def models() -> None:
    """Registered models: list them, share yours, their versions, task types, aliases and
    history; register and serve versions."""


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


def _model_path(name: str, *rest: str) -> str:
    return "/".join(["models", quote(name, safe=""), *(quote(p, safe="") for p in rest)])


@models.command("versions")
@click.argument("name")
@json_option
def models_versions(name: str, as_json: bool) -> None:
    """List the versions of model NAME, the newest first, with aliases and task tags."""
    listing = call("GET", _model_path(name, "versions"))
    if as_json:
        echo_json(listing)
        return
    click.echo("VERSION\tTASK\tALIASES\tRUN\tCREATED")
    for v in listing["versions"]:
        click.echo(
            f"{v['version']}\t{v['task'] or '-'}\t{','.join(v['aliases']) or '-'}"
            f"\t{v['run_id'] or '-'}\t{_time(v['creation_time'])}"
        )


@models.command("version")
@click.argument("name")
@click.argument("version")
@json_option
def models_version(name: str, version: str, as_json: bool) -> None:
    """Show VERSION of model NAME: its task type (tagged or inferred), aliases and lineage
    (run, notebook, job, parameters, dataset versions, image)."""
    found = call("GET", _model_path(name, "versions", version))
    if as_json:
        echo_json(found)
        return
    say_version(found)


def say_version(found: dict) -> None:
    """A version as `labworks models version` prints it."""
    click.echo(f"{found['name']} version {found['version']}: {_task(found)}")
    click.echo(f"  aliases: {', '.join(found['aliases']) or '-'}")
    lineage = found.get("lineage")
    if not lineage:
        return
    click.echo(f"  run: {lineage['run_id']}")
    if not lineage["readable"]:
        click.echo("  (you may not read that run: its lineage is its owner's)")
        return
    rows = [
        ("experiment", lineage.get("experiment_id")),
        ("notebook", lineage.get("notebook")),
        ("job", lineage.get("job_id")),
        ("parameters", ", ".join(f"{k}={v}" for k, v in lineage["parameters"].items())),
        ("datasets", ", ".join(f"{d['name']}@{d['version'] or '?'}" for d in lineage["datasets"])),
        ("image", lineage.get("image_digest") or lineage.get("image")),
        ("environment", lineage.get("env_hash")),
        ("git commit", lineage.get("git_commit")),
    ]
    for label, value in rows:
        if value:
            click.echo(f"  {label}: {value}")


def _task(found: dict) -> str:
    if not found["task"]:
        return (
            "no task type (its signature and flavour do not tell): set one with"
            f" `labworks models task {found['name']} {found['version']} <task>`"
        )
    return found["task"] + (" (inferred from its signature and flavour)" if found["task_inferred"]
                            else "")  # fmt: skip


@models.command("task")
@click.argument("name")
@click.argument("version")
@click.argument("task", required=False, type=click.Choice(TASKS))
@click.option("--reason", default="", help="Why: kept in the model's history.")
@json_option
def models_task(name: str, version: str, task: str | None, reason: str, as_json: bool) -> None:
    """Show the task type of VERSION of model NAME, or set it to TASK (its owner only): what
    serving shapes the outputs by."""
    if task is None:
        found = call("GET", _model_path(name, "versions", version))
    else:
        found = call("PUT", _model_path(name, "versions", version, "task"),
                     json={"task": task, "reason": reason})  # fmt: skip
    if as_json:
        echo_json(found)
        return
    click.echo(f"{found['name']} version {found['version']}: {_task(found)}")


@models.command("alias")
@click.argument("name")
@click.argument("alias")
@click.argument("version", required=False)
@click.option("--delete", is_flag=True, help="Remove ALIAS instead.")
@click.option("--reason", default="", help="Why: kept in the model's history.")
def models_alias(name: str, alias: str, version: str | None, delete: bool, reason: str) -> None:
    """Point ALIAS (staging, production, any name) of model NAME at VERSION, moving it if it
    points elsewhere, or remove it with --delete. Its owner only; recorded with who and why."""
    if delete == (version is not None):
        raise click.UsageError("give VERSION to set the alias, or --delete to remove it")
    if delete:
        call("DELETE", _model_path(name, "aliases", alias), params={"reason": reason})
        click.echo(f"Removed alias {alias} of {name}.")
        return
    call("PUT", _model_path(name, "aliases", alias), json={"version": version, "reason": reason})
    click.echo(f"{name}@{alias} is now version {version}.")


@models.command("history")
@click.argument("name")
@json_option
def models_history(name: str, as_json: bool) -> None:
    """Who registered versions of model NAME, moved its aliases or changed task types, when
    and why; the newest first."""
    found = call("GET", _model_path(name, "history"))
    if as_json:
        echo_json(found)
        return
    if not found["events"]:
        click.echo(f"No changes to {name} recorded yet.")
        return
    click.echo("WHEN\tWHO\tWHAT\tWHY")
    for e in found["events"]:
        click.echo(f"{e['at'][:19].replace('T', ' ')}\t{e['actor']}\t{describe_event(e)}"
                   f"\t{e['reason'] or '-'}")  # fmt: skip


def describe_event(event: dict) -> str:
    """One history event in words."""
    alias, before, after = event["alias"], event["from_version"], event["to_version"]
    if event["action"] == "alias.set":
        return f"{alias}: {before} -> {after}" if before else f"{alias}: set to {after}"
    if event["action"] == "alias.delete":
        return f"{alias}: removed (was {before})"
    if event["action"] == "task":
        detail = event["detail"]
        return f"version {after} task: {detail.get('from') or '-'} -> {detail.get('to')}"
    return f"registered version {after}"


def _time(millis: int | None) -> str:
    if millis is None:
        return "-"
    return datetime.fromtimestamp(millis / 1000, UTC).strftime("%Y-%m-%d %H:%M")
