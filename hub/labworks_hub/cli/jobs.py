"""`labworks jobs ...` and `labworks schedules ...`: run notebooks as papermill jobs, now or on a
cron schedule, and follow them.

Talks to the platform API (LABWORKS_URL, LABWORKS_TOKEN). `-p name=value` values are read as
the type the notebook's parameters cell gives them (asked of the platform), so `-p epochs=10`
is an int and `-p layers='[64, 32]'` a list.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from .client import call, echo_json, json_option

ENDED = ("succeeded", "failed", "cancelled", "timed_out")


def _read_notebook(path: Path) -> dict:
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise click.ClickException(f"cannot read {path} as a notebook: {e}") from None
    if not isinstance(content, dict):
        raise click.ClickException(f"{path} is not a Jupyter notebook (not a JSON object)")
    return content


def _parse(kind: str, name: str, text: str) -> Any:
    """`text` as a value of type `kind` (service/jobs/parameters.py, imported only when needed:
    it brings nbformat, slow to import)."""
    from ..service.jobs.parameters import ParameterError, parse_text

    try:
        return parse_text(kind, name, text)
    except ParameterError as e:
        raise click.BadParameter(str(e), param_hint="-p") from None


def _parameters(content: dict, pairs: tuple[str, ...], kernel: str | None) -> dict[str, Any]:
    """`name=value` pairs as the notebook's parameter types want them."""
    if not pairs:
        return {}
    raw: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"{pair!r} is not name=value", param_hint="-p")
        raw[name.strip()] = value
    info = call("POST", "jobs/inspect", json={"content": content, "kernel_name": kernel})
    types = {p["name"]: p["type"] for p in info["parameters"]}
    return {name: _parse(types.get(name, "any"), name, text) for name, text in raw.items()}


def job_options(command: Callable) -> Callable:
    """What to run and how, shared by `jobs run` and `schedules create`."""
    options = [
        click.argument("notebook", type=click.Path(exists=True, dir_okay=False, path_type=Path)),
        click.option("-p", "--parameter", "parameters", multiple=True, metavar="NAME=VALUE",
                     help="A value for the notebook's parameters cell (repeat for more)."),
        click.option("--profile", help="Profile to run on (default: the first one)."),
        click.option("--kernel", help="Kernel to use instead of the notebook's own."),
        click.option("--image", help="Catalog image repository:tag (Kubernetes executor)."),
        click.option("--name", default="", help="Job name (default: the notebook file name)."),
        click.option("--timeout", type=click.IntRange(min=1), help="Seconds before it is stopped."),
        click.option("--retries", type=click.IntRange(0, 10), default=0, show_default=True,
                     help="Attempts after a failure or timeout."),
        click.option("--priority", type=click.IntRange(-100, 100), default=0, show_default=True,
                     help="Higher runs first."),
        click.option("--share", metavar="GROUP", help="Let members of GROUP (yours) see it."),
    ]  # fmt: skip
    for option in reversed(options):
        command = option(command)
    return command


def job_body(notebook: Path, options: dict[str, Any]) -> dict[str, Any]:
    content = _read_notebook(notebook)
    return {
        "content": content, "path": str(notebook), "name": options["name"],
        "parameters": _parameters(content, options["parameters"], options["kernel"]),
        "profile": options["profile"], "kernel_name": options["kernel"],
        "image": options["image"], "timeout": options["timeout"],
        "retries": options["retries"], "priority": options["priority"],
        "share_with_group": options["share"],
    }  # fmt: skip


@click.group()
def jobs() -> None:
    """Notebooks run as papermill jobs: run, list, show, logs, cancel, rerun, output, and
    notifications."""


@jobs.command("run")
@job_options
@click.option("--wait", is_flag=True, help="Wait until it ends; exit 1 unless it succeeded.")
@json_option
def jobs_run(notebook: Path, wait: bool, as_json: bool, **options: Any) -> None:
    """Run NOTEBOOK as a job now; prints the job id."""
    job = call("POST", "jobs", json=job_body(notebook, options))
    if as_json and not wait:
        echo_json(job)
        return
    click.echo(job["id"])
    if wait:
        job = _wait(job["id"])
        if as_json:
            echo_json(job)
        _exit_for(job)


def _wait(job_id: str) -> dict:
    """Wait until the job ends (the API answers when it does), telling stderr its status."""
    last = None
    while True:
        job = call("GET", f"jobs/{job_id}", params={"wait": 0 if last is None else 20})
        if job["status"] != last:
            last = job["status"]
            click.echo(f"{job_id}: {last}", err=True)
        if job["status"] in ENDED:
            return job


def _exit_for(job: dict) -> None:
    if job["status"] != "succeeded":
        click.echo(f"job {job['id']} {job['status']}: {job['reason']}", err=True)
        sys.exit(1)


@jobs.command("list")
@click.option("--status", multiple=True, type=click.Choice(["queued", "running", *ENDED]))
@click.option("--search", default="", help="Part of the name or notebook path.")
@click.option("--mine", is_flag=True, help="Only my own jobs, not my groups'.")
@click.option("--limit", type=click.IntRange(1, 500), default=50, show_default=True)
@click.option("--offset", type=click.IntRange(min=0), default=0)
@json_option
def jobs_list(
    status: tuple[str, ...], search: str, mine: bool, limit: int, offset: int, as_json: bool
) -> None:
    """List my jobs and my groups' jobs, newest first."""
    params: dict[str, Any] = {"q": search, "limit": limit, "offset": offset, "mine": mine}
    if status:
        params["status"] = list(status)
    listing = call("GET", "jobs", params=params)
    if as_json:
        echo_json(listing)
        return
    if not listing["jobs"]:
        click.echo("No jobs.")
        return
    click.echo("ID\tSTATUS\tNAME\tOWNER\tPROFILE\tCREATED")
    for job in listing["jobs"]:
        click.echo(
            f"{job['id']}\t{job['status']}\t{job['name']}\t{job['owner']}\t{job['profile']}"
            f"\t{job['created_at']}"
        )
    shown = offset + len(listing["jobs"])
    if shown < listing["total"]:
        click.echo(f"({shown} of {listing['total']}; --offset {shown} for more)", err=True)


@jobs.command("show")
@click.argument("job_id", metavar="ID")
@json_option
def jobs_show(job_id: str, as_json: bool) -> None:
    """Show job ID: parameters, profile, environment, timing and history."""
    job = call("GET", f"jobs/{job_id}")
    if as_json:
        echo_json(job)
        return
    for key in ("id", "name", "owner", "status", "reason", "notebook_path", "profile",
                "kernel_name", "image", "attempt", "created_at", "started_at", "finished_at",
                "duration_seconds"):  # fmt: skip
        click.echo(f"{key}: {'-' if job[key] in (None, '') else job[key]}")
    click.echo(f"parameters: {json.dumps(job['parameters'])}")
    click.echo(f"environment: {json.dumps(job['environment'])}")
    for event in job["events"]:
        click.echo(f"  {event['at']}  #{event['attempt']} {event['kind']}  {event['message']}")


@jobs.command("logs")
@click.argument("job_id", metavar="ID")
@click.option("-f", "--follow", is_flag=True, help="Keep printing until the job ends.")
@click.option("--attempt", type=click.IntRange(min=1), help="Attempt (default: the latest).")
def jobs_logs(job_id: str, follow: bool, attempt: int | None) -> None:
    """Print the log of job ID."""
    offset = 0
    while True:
        params: dict[str, Any] = {"offset": offset}
        if attempt:
            params["attempt"] = attempt
        chunk = call("GET", f"jobs/{job_id}/logs", params=params)
        if chunk["text"]:
            click.echo(chunk["text"], nl=False)
        offset = chunk["next_offset"]
        if not follow or chunk["complete"]:
            return
        if not chunk["text"]:
            job = call("GET", f"jobs/{job_id}")
            if job["status"] in ENDED and attempt is None and chunk["attempt"] == job["attempt"]:
                continue  # read what the ended attempt left, then stop on `complete`
            time.sleep(0.5)


@jobs.command("cancel")
@click.argument("job_id", metavar="ID")
def jobs_cancel(job_id: str) -> None:
    """Cancel job ID (a running one is stopped with its whole process tree)."""
    job = call("POST", f"jobs/{job_id}/cancel")
    state = "cancelled" if job["status"] == "cancelled" else "stopping"
    click.echo(f"{job_id}: {state}")


@jobs.command("rerun")
@click.argument("job_id", metavar="ID")
@click.option("-p", "--parameter", "parameters", multiple=True, metavar="NAME=VALUE",
              help="Replace a parameter value (the others stay).")  # fmt: skip
@click.option("--wait", is_flag=True, help="Wait until it ends; exit 1 unless it succeeded.")
def jobs_rerun(job_id: str, parameters: tuple[str, ...], wait: bool) -> None:
    """Run job ID's notebook again as a new job; prints the new id."""
    body: dict[str, Any] = {}
    if parameters:
        body["parameters"] = _override(call("GET", f"jobs/{job_id}")["parameters"], parameters)
    job = call("POST", f"jobs/{job_id}/rerun", json=body)
    click.echo(job["id"])
    if wait:
        _exit_for(_wait(job["id"]))


def _override(values: dict[str, Any], pairs: tuple[str, ...]) -> dict[str, Any]:
    """`values` with the `name=value` pairs set; a value keeps the type of the one it replaces
    (a new name's value is JSON when it parses, else text; the platform checks it)."""
    result = dict(values)
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"{pair!r} is not name=value", param_hint="-p")
        name = name.strip()
        result[name] = _parse(_json_type(values[name]) if name in values else "any", name, text)
    return result


def _json_type(value: Any) -> str:
    kinds = {bool: "bool", int: "int", float: "float", str: "str", list: "list", dict: "dict"}
    return kinds.get(type(value), "any")


EVENTS = {
    "failed": "failures and timeouts",
    "finished": "every end",
    "none": "nothing",
}


@jobs.command("notifications")
@click.option("--webhook", metavar="URL", help="POST a notice to URL when a job ends.")
@click.option("--no-webhook", is_flag=True, help="Stop the webhook notices.")
@click.option("--email", metavar="ADDRESS", help="Mail a notice to ADDRESS when a job ends.")
@click.option("--no-email", is_flag=True, help="Stop the e-mail notices.")
@click.option("--on", "events", type=click.Choice(list(EVENTS)),
              help="Which ends: failed (failures and timeouts), finished (all), none.")  # fmt: skip
@json_option
def jobs_notifications(
    webhook: str | None,
    no_webhook: bool,
    email: str | None,
    no_email: bool,
    events: str | None,
    as_json: bool,
) -> None:
    """Show or change how I hear that my jobs ended (no options: show)."""
    if webhook is not None and no_webhook:
        raise click.UsageError("give --webhook or --no-webhook, not both")
    if email is not None and no_email:
        raise click.UsageError("give --email or --no-email, not both")
    changes: dict[str, str] = {}
    if webhook is not None or no_webhook:
        changes["webhook_url"] = "" if no_webhook else str(webhook)
    if email is not None or no_email:
        changes["email"] = "" if no_email else str(email)
    if events:
        changes["events"] = events
    settings = call("GET", "jobs/notifications")
    if changes:
        body = {key: settings[key] for key in ("webhook_url", "email", "events")}
        settings = call("PUT", "jobs/notifications", json={**body, **changes})
    if as_json:
        echo_json(settings)
        return
    mail = settings["email"] or "-"
    if settings["email"] and not settings["email_available"]:
        mail += " (saved, not sent yet: e-mail is not configured on this platform)"
    elif not settings["email_available"]:
        mail += " (e-mail is not configured on this platform)"
    click.echo(f"webhook: {settings['webhook_url'] or '-'}")
    click.echo(f"email: {mail}")
    click.echo(f"on: {settings['events']} ({EVENTS.get(settings['events'], '?')})")
    if not settings["email_available"] and settings.get("email_setup"):
        click.echo(f"To send mail, {settings['email_setup']}.")


@jobs.command("output")
@click.argument("job_id", metavar="ID")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to save it (default: <job name>-<ID>.ipynb here).")  # fmt: skip
@click.option("--force", is_flag=True, help="Overwrite the file if it exists.")
def jobs_output(job_id: str, output: Path | None, force: bool) -> None:
    """Save the output notebook of job ID."""
    job = call("GET", f"jobs/{job_id}")
    result = call("GET", f"jobs/{job_id}/output")
    target = output or Path(f"{Path(job['name']).stem}-{job_id}.ipynb")
    if target.exists() and not force:
        raise click.ClickException(f"{target} exists; pass --force to overwrite it")
    target.write_text(json.dumps(result["content"], indent=1) + "\n", encoding="utf-8")
    note = "" if result["complete"] else " (the job still runs: its latest save)"
    click.echo(f"Saved the output of {job_id} to {target}{note}")


@click.group()
def schedules() -> None:
    """Notebooks run on a cron schedule: create, list, show, update, pause, resume, delete,
    runs."""


@schedules.command("create")
@job_options
@click.option("--cron", required=True, help="Five fields, e.g. '0 6 * * 1-5', or @daily.")
@click.option("--tz", "timezone", default="UTC", show_default=True, help="IANA time zone.")
@json_option
def schedules_create(
    notebook: Path, cron: str, timezone: str, as_json: bool, **options: Any
) -> None:
    """Run NOTEBOOK on a cron schedule; prints the schedule id and its next runs."""
    body = {**job_body(notebook, options), "cron": cron, "timezone": timezone}
    schedule = call("POST", "schedules", json=body)
    if as_json:
        echo_json(schedule)
        return
    click.echo(schedule["id"])
    nexts = call("POST", "schedules/preview", json={"cron": cron, "timezone": timezone})
    click.echo("next runs: " + ", ".join(nexts["next_runs"]), err=True)


@schedules.command("list")
@json_option
def schedules_list(as_json: bool) -> None:
    """List my schedules and my groups' schedules."""
    listing = call("GET", "schedules")
    if as_json:
        echo_json(listing)
        return
    if not listing["schedules"]:
        click.echo("No schedules.")
        return
    click.echo("ID\tNAME\tCRON\tTZ\tSTATE\tNEXT RUN\tLAST STATUS")
    for s in listing["schedules"]:
        state = "paused" if s["paused"] else "active"
        click.echo(
            f"{s['id']}\t{s['name']}\t{s['cron']}\t{s['timezone']}\t{state}"
            f"\t{_next_run(s)}\t{s['last_status'] or '-'}"
        )


def _next_run(schedule: dict) -> str:
    """`paused`, the next run's time, or `-` when there is none."""
    return "paused" if schedule["paused"] else (schedule["next_run_at"] or "-")


@schedules.command("show")
@click.argument("schedule_id", metavar="ID")
@json_option
def schedules_show(schedule_id: str, as_json: bool) -> None:
    """Show schedule ID."""
    schedule = call("GET", f"schedules/{schedule_id}")
    if as_json:
        echo_json(schedule)
        return
    for key, value in schedule.items():
        click.echo(f"{key}: {json.dumps(value) if isinstance(value, dict) else value}")


@schedules.command("update")
@click.argument("schedule_id", metavar="ID")
@click.option("--cron", help="New cron expression: five fields, e.g. '0 6 * * 1-5', or @daily.")
@click.option("--tz", "--timezone", "timezone", help="New IANA time zone.")
@click.option(
    "-p",
    "--parameter",
    "parameters",
    multiple=True,
    metavar="NAME=VALUE",
    help="Set a parameter value (repeat for more; the others stay).",
)
@click.option("--profile", help="Profile the next runs use.")  # fmt: skip
@json_option
def schedules_update(
    schedule_id: str,
    cron: str | None,
    timezone: str | None,
    parameters: tuple[str, ...],
    profile: str | None,
    as_json: bool,
) -> None:
    """Change when schedule ID runs, its parameters or its profile (its next runs)."""
    body: dict[str, Any] = {}
    if cron is not None:
        body["cron"] = cron
    if timezone is not None:
        body["timezone"] = timezone
    if profile is not None:
        body["profile"] = profile
    if parameters:
        current = call("GET", f"schedules/{schedule_id}")["parameters"]
        body["parameters"] = _override(current, parameters)
    if not body:
        raise click.UsageError("nothing to change: give --cron, --tz, -p or --profile")
    schedule = call("PATCH", f"schedules/{schedule_id}", json=body)
    if as_json:
        echo_json(schedule)
        return
    click.echo(
        f"{schedule_id}: {schedule['cron']} ({schedule['timezone']}) on {schedule['profile']},"
        f" parameters {json.dumps(schedule['parameters'])}"
    )
    state = _next_run(schedule)
    click.echo(state if schedule["paused"] else f"next run {state}", err=True)


def _set_paused(schedule_id: str, paused: bool) -> None:
    action = "pause" if paused else "resume"
    schedule = call("POST", f"schedules/{schedule_id}/{action}")
    state = _next_run(schedule)
    click.echo(f"{schedule_id}: {state if paused else 'next run ' + state}")


@schedules.command("pause")
@click.argument("schedule_id", metavar="ID")
def schedules_pause(schedule_id: str) -> None:
    """Stop schedule ID from firing until resumed."""
    _set_paused(schedule_id, True)


@schedules.command("resume")
@click.argument("schedule_id", metavar="ID")
def schedules_resume(schedule_id: str) -> None:
    """Let schedule ID fire again."""
    _set_paused(schedule_id, False)


@schedules.command("delete")
@click.argument("schedule_id", metavar="ID")
def schedules_delete(schedule_id: str) -> None:
    """Remove schedule ID (the jobs it ran stay)."""
    call("DELETE", f"schedules/{schedule_id}")
    click.echo(f"Deleted schedule {schedule_id}.")


@schedules.command("runs")
@click.argument("schedule_id", metavar="ID")
@json_option
def schedules_runs(schedule_id: str, as_json: bool) -> None:
    """The jobs schedule ID ran, newest first."""
    listing = call("GET", f"schedules/{schedule_id}/runs")
    if as_json:
        echo_json(listing)
        return
    for job in listing["jobs"]:
        click.echo(f"{job['id']}\t{job['status']}\t{job['created_at']}\t{job['reason']}")


@schedules.command("preview")
@click.option("--cron", required=True, help="Five fields, e.g. '0 6 * * 1-5', or @daily.")
@click.option("--tz", "timezone", default="UTC", show_default=True, help="IANA time zone.")
@click.option("-n", "count", type=click.IntRange(1, 20), default=3, show_default=True)
def schedules_preview(cron: str, timezone: str, count: int) -> None:
    """The next firing times of a cron expression."""
    preview = call(
        "POST", "schedules/preview", json={"cron": cron, "timezone": timezone, "count": count}
    )
    for when in preview["next_runs"]:
        click.echo(when)
