"""`labworks sweeps ...`: search a notebook's parameters, each trial a notebook job.

Talks to the platform API (LABWORKS_URL, LABWORKS_TOKEN). The search space is a YAML (or JSON)
file with one entry per parameter, e.g.::

    lr:     {type: log-float, low: 1.0e-4, high: 0.1}
    layers: {type: int, low: 1, high: 4}
    kernel: {type: categorical, choices: [linear, rbf]}
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import click
import yaml

from .client import call, echo_json, json_option, visibility_options
from .jobs import job_body, job_options

ENDED = ("succeeded", "failed", "stopped")


def _read_space(path: Path) -> dict[str, Any]:
    try:
        space = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise click.BadParameter(f"cannot read {path}: {e}", param_hint="--space") from None
    if not isinstance(space, dict):
        raise click.BadParameter(
            f"{path} is not a mapping of parameter names to ranges", param_hint="--space"
        )
    return space


@click.group()
def sweeps() -> None:
    """Hyperparameter sweeps: create, list, show, stop, resume, extend, share, delete."""


@sweeps.command("create")
@job_options
@click.option(
    "--space",
    "space_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="YAML file: per parameter {type, low, high[, step]} or {type: categorical, choices}.",
)
@click.option("--metric", required=True, help="The MLflow metric the notebook logs.")
@click.option(
    "--direction", type=click.Choice(["minimize", "maximize"]), default="minimize",
    show_default=True,
)  # fmt: skip
@click.option(
    "--sampler", type=click.Choice(["grid", "random", "tpe", "cmaes"]), default="tpe",
    show_default=True,
)  # fmt: skip
@click.option("--trials", type=click.IntRange(1), default=20, show_default=True)
@click.option("--parallel", type=click.IntRange(1), default=1, show_default=True)
@click.option(
    "--pruner", type=click.Choice(["none", "median", "halving"]), default="none",
    show_default=True, help="Stop bad trials early from the steps they log.",
)  # fmt: skip
@click.option("--budget", type=click.IntRange(1), help="Stop the sweep after this many seconds.")
@click.option(
    "--max-cost", type=click.FloatRange(0, min_open=True), metavar="USD",
    help="Cost cap: stop the sweep once its trials cost this much.",
)  # fmt: skip
@click.option("--seed", type=click.IntRange(0, 2**31 - 1), help="Sampler seed.")
@click.option("--wait", is_flag=True, help="Wait until it ends; exit 1 unless it succeeded.")
@json_option
def sweeps_create(
    notebook: Path,
    space_file: Path,
    metric: str,
    direction: str,
    sampler: str,
    trials: int,
    parallel: int,
    pruner: str,
    budget: int | None,
    max_cost: float | None,
    seed: int | None,
    wait: bool,
    as_json: bool,
    **options: Any,
) -> None:
    """Start a sweep of NOTEBOOK; prints the sweep id."""
    body = {
        **job_body(notebook, options), "space": _read_space(space_file), "metric": metric,
        "direction": direction, "sampler": sampler, "trials": trials, "parallel": parallel,
        "pruner": pruner, "budget_seconds": budget, "seed": seed,
        "max_cost_usd": max_cost,
    }  # fmt: skip
    sweep = call("POST", "sweeps", json=body)
    if wait:
        sweep = _wait(sweep["id"])
    if as_json:
        echo_json(sweep)
    else:
        click.echo(sweep["id"])
    if wait and sweep["status"] != "succeeded":
        click.echo(f"sweep {sweep['id']} {sweep['status']}: {sweep['reason']}", err=True)
        sys.exit(1)


def _wait(sweep_id: str) -> dict:
    """Poll until the sweep ends, telling stderr its progress when it changes."""
    last = None
    while True:
        sweep = call("GET", f"sweeps/{sweep_id}")
        progress = _progress(sweep)
        if progress != last:
            last = progress
            click.echo(f"{sweep_id}: {progress}", err=True)
        if sweep["status"] in ENDED:
            return sweep
        time.sleep(1)


def _progress(sweep: dict) -> str:
    counts = sweep["counts"]
    text = (
        f"{sweep['status']}, {counts['complete']}/{sweep['trials']} complete,"
        f" {counts['running']} running, {counts['pruned']} pruned, {counts['fail']} failed"
    )
    if sweep["best_value"] is not None:
        text += f", best {sweep['metric']} {sweep['best_value']:g}"
    return text


@sweeps.command("list")
@json_option
def sweeps_list(as_json: bool) -> None:
    """List my sweeps and my groups' sweeps, newest first."""
    listing = call("GET", "sweeps")
    if as_json:
        echo_json(listing)
        return
    if not listing["sweeps"]:
        click.echo("No sweeps. Start one with `labworks sweeps create NOTEBOOK --space ...`.")
        return
    click.echo("ID\tSTATUS\tNAME\tOWNER\tDONE\tBEST")
    for s in listing["sweeps"]:
        done = s["counts"]["complete"] + s["counts"]["pruned"]
        best = "-" if s["best_value"] is None else f"{s['best_value']:g}"
        click.echo(f"{s['id']}\t{s['status']}\t{s['name']}\t{s['owner']}\t{done}/{s['trials']}"
                   f"\t{best}")  # fmt: skip


@sweeps.command("show")
@click.argument("sweep_id", metavar="ID")
@json_option
def sweeps_show(sweep_id: str, as_json: bool) -> None:
    """Show sweep ID: status, counts, the best trial and every trial."""
    sweep = call("GET", f"sweeps/{sweep_id}")
    if as_json:
        echo_json(sweep)
        return
    for key in ("id", "name", "owner", "status", "reason", "metric", "direction", "sampler",
                "pruner", "trials", "parallel", "best_value", "best_params", "best_run_id",
                "eta_seconds"):  # fmt: skip
        click.echo(f"{key}: {'-' if sweep[key] in (None, '') else sweep[key]}")
    click.echo(f"progress: {_progress(sweep)}")
    click.echo("TRIAL\tSTATE\tVALUE\tJOB\tPARAMS")
    for t in sweep["trial_list"]:
        value = "-" if t["value"] is None else f"{t['value']:g}"
        click.echo(f"{t['number']}\t{t['state']}\t{value}\t{t['job_id']}\t{t['params']}"
                   + (f"\t{t['reason']}" if t["reason"] else ""))  # fmt: skip


def _act(sweep_id: str, action: str, **kwargs: Any) -> None:
    sweep = call("POST", f"sweeps/{sweep_id}/{action}", **kwargs)
    click.echo(f"{sweep_id}: {_progress(sweep)}")


@sweeps.command("stop")
@click.argument("sweep_id", metavar="ID")
def sweeps_stop(sweep_id: str) -> None:
    """Stop sweep ID: no more trials; running ones are cancelled."""
    _act(sweep_id, "stop")


@sweeps.command("resume")
@click.argument("sweep_id", metavar="ID")
def sweeps_resume(sweep_id: str) -> None:
    """Go on with a stopped or failed sweep ID."""
    _act(sweep_id, "resume")


@sweeps.command("extend")
@click.argument("sweep_id", metavar="ID")
@click.option("--trials", type=click.IntRange(1), required=True, help="Trials to add.")
def sweeps_extend(sweep_id: str, trials: int) -> None:
    """Ask sweep ID for more trials (a finished one runs again)."""
    _act(sweep_id, "extend", json={"trials": trials})


@sweeps.command("share")
@click.argument("sweep_id", metavar="ID")
@visibility_options
def sweeps_share(sweep_id: str, visibility: str) -> None:
    """Let one of your groups see sweep ID and its trials (--group G), or nobody (--private)."""
    sweep = call("PUT", f"sweeps/{sweep_id}/visibility", json={"visibility": visibility})
    click.echo(f"{sweep_id}: {sweep['visibility']}")


@sweeps.command("delete")
@click.argument("sweep_id", metavar="ID")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def sweeps_delete(sweep_id: str, yes: bool) -> None:
    """Delete sweep ID with its trials and study; a running one is stopped first. The trials'
    jobs and MLflow runs stay."""
    if not yes:
        click.confirm(f"Delete sweep {sweep_id} with its trials and study?", abort=True)
    call("DELETE", f"sweeps/{sweep_id}")
    click.echo(f"Deleted sweep {sweep_id}.")
