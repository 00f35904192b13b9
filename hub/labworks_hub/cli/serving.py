"""`labworks models register|serve|deployments|deployment|traffic|promote|predict|undeploy`:
registering a run's model with its task type, and serving versions at endpoints.

Registering goes to the tracking server's registry API (MLflow's REST API, with the same token);
the rest to the platform API's `/deployments` and to the inference gateway
(`/services/labworks/models/v2/...`, the Open Inference Protocol).
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import quote

import click

from ..client import ClientError
from .client import _client, call, echo_json, json_option, visibility_options
from .models import TASKS, models

REGISTRY = "mlflow/api/2.0/mlflow/"
TASK_TAG = "labworks.task"


def _service(method: str, path: str, **kwargs: Any) -> dict:
    try:
        return _client().service(method, path, **kwargs)
    except ClientError as e:
        raise click.ClickException(str(e)) from None


@models.command("register")
@click.argument("source")
@click.option("--name", required=True, help="The registered model (made if it is new).")
@click.option(
    "--task",
    type=click.Choice(TASKS),
    help="What the model does (default: inferred from its signature and flavour).",
)
@json_option
def register(source: str, name: str, task: str | None, as_json: bool) -> None:
    """Register SOURCE (runs:/<run id>/<path>, e.g. runs:/ab12.../model) as a new version of
    model NAME. Its task type (what `serve` shapes the outputs by) is --task, else the one its
    MLmodel file's signature and flavour imply, as the platform infers it."""
    if not source.startswith("runs:/"):
        raise click.UsageError("SOURCE is runs:/<run id>/<artifact path>, e.g. runs:/ab12/model")
    run_id = source.removeprefix("runs:/").split("/", 1)[0]
    try:
        _client().service("POST", REGISTRY + "registered-models/create", json={"name": name})
    except ClientError as e:
        if "RESOURCE_ALREADY_EXISTS" not in str(e) and "already exists" not in str(e):
            raise click.ClickException(str(e)) from None
    tags = [{"key": TASK_TAG, "value": task}] if task else []
    created = _service(
        "POST", REGISTRY + "model-versions/create",
        json={"name": name, "source": source, "run_id": run_id, "tags": tags},
    )["model_version"]  # fmt: skip
    version = str(created["version"])
    found = call("GET", f"models/{quote(name, safe='')}/versions/{version}")
    if as_json:
        echo_json(found)
        return
    click.echo(f"Registered {name} version {version} ({found['task'] or 'no task type'})"
               f" from {source}.")  # fmt: skip
    change = f"`labworks models task {name} {version} <task>`"
    if not found["task"]:
        click.echo(f"  Its signature and flavour do not tell its task type: set it with {change}.")
    elif found["task_inferred"]:
        click.echo(f"  The task type was inferred from its signature and flavour; change it with"
                   f" {change}.")  # fmt: skip


@models.command("serve")
@click.argument("model")
@click.option("--version", "version", required=True, help="The version to serve.")
@click.option("--endpoint", help="The endpoint name (default: the model's, lower-cased).")
@click.option("--task", type=click.Choice(TASKS), help="Default: the version's task tag.")
@click.option("--log-payloads", "sample", type=click.FloatRange(0, 1), default=0.0,
              help="Share of requests whose payloads are logged (1: all).")  # fmt: skip
@click.option("--wait", is_flag=True, help="Wait until it answers (or failed).")
@click.option("--timeout", type=float, default=600, show_default=True, help="Seconds --wait waits.")
@json_option
def serve(
    model: str, version: str, endpoint: str | None, task: str | None, sample: float,
    wait: bool, timeout: float, as_json: bool,
) -> None:  # fmt: skip
    """Serve VERSION of registered model MODEL behind the Open Inference Protocol v2."""
    body = {"model": model, "version": version, "name": endpoint, "task": task,
            "payload_sample": sample}  # fmt: skip
    deployment = call("POST", "deployments", json=body)
    if wait:
        deployment = _wait(deployment["name"], timeout)
    if as_json:
        echo_json(deployment)
        return
    _say(deployment)
    if deployment["status"] == "failed":
        raise SystemExit(1)


def _wait(name: str, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    shown = ""
    while True:
        deployment = call("GET", f"deployments/{name}")
        status = deployment["status"]
        if status != shown:
            click.echo(f"{name}: {status}", err=True)
            shown = status
        if status in ("ready", "failed") or time.monotonic() > deadline:
            return deployment
        time.sleep(1)


def _show(deployment: dict, as_json: bool) -> None:
    if as_json:
        echo_json(deployment)
    else:
        _say(deployment)


def _say(deployment: dict) -> None:
    click.echo(f"{deployment['name']}: {deployment['model']} version {deployment['version']}"
               f" ({deployment['task']}), {deployment['status']}")  # fmt: skip
    if deployment.get("reason"):
        click.echo(f"  {deployment['reason']}")
    if deployment.get("canary_version"):
        click.echo(f"  canary: version {deployment['canary_version']}"
                   f" at {deployment['canary_percent']}%")  # fmt: skip
    click.echo(f"  POST {deployment['url']}")


@models.command("deployments")
@json_option
def deployments(as_json: bool) -> None:
    """The deployments you can call: yours, your groups', public ones."""
    listing = call("GET", "deployments")
    if as_json:
        echo_json(listing)
        return
    if not listing["deployments"]:
        click.echo("No deployments: serve one with `labworks models serve MODEL --version V`.")
        return
    click.echo("ENDPOINT\tMODEL\tVERSION\tCANARY\tTASK\tSTATUS\tOWNER")
    for d in listing["deployments"]:
        canary = f"{d['canary_version']}@{d['canary_percent']}%" if d["canary_version"] else "-"
        click.echo(f"{d['name']}\t{d['model']}\t{d['version']}\t{canary}\t{d['task']}"
                   f"\t{d['status']}\t{d['owner']}")  # fmt: skip


@models.command("deployment")
@click.argument("endpoint")
@json_option
def deployment(endpoint: str, as_json: bool) -> None:
    """One deployment: its servers with live traffic, and every change made to it."""
    shown = call("GET", f"deployments/{endpoint}")
    if as_json:
        echo_json(shown)
        return
    _say(shown)
    for server in shown["servers"]:
        t = server["traffic"]
        click.echo(f"  version {server['version']} ({server['role']}): {server['status']};"
                   f" {t['requests']} requests, {t['errors']} errors,"
                   f" p50 {t['p50_ms'] or '-'} ms")  # fmt: skip
    for event in shown["events"]:
        detail = ", ".join(f"{k}={v}" for k, v in event["detail"].items())
        why = f": {event['reason']}" if event["reason"] else ""
        click.echo(f"  {event['at'][:19]} {event['actor']} {event['action']} {detail}{why}")


@models.command("traffic")
@click.argument("endpoint")
@click.option("--canary", "canary", help="The canary version (none: all to the stable one).")
@click.option("--percent", type=click.IntRange(0, 100), default=0, help="Its share of requests.")
@click.option("--reason", default="", help="Why (kept with the change).")
@json_option
def traffic(endpoint: str, canary: str | None, percent: int, reason: str, as_json: bool) -> None:
    """Send PERCENT of ENDPOINT's requests to version CANARY (started if needed)."""
    body = {"canary_version": canary, "percent": percent, "reason": reason}
    changed = call("PUT", f"deployments/{endpoint}/traffic", json=body)
    _show(changed, as_json)


@models.command("promote")
@click.argument("endpoint")
@click.option("--reason", default="", help="Why (kept with the change).")
@json_option
def promote(endpoint: str, reason: str, as_json: bool) -> None:
    """Make ENDPOINT's canary its stable version, with every request."""
    changed = call("POST", f"deployments/{endpoint}/promote", json={"reason": reason})
    _show(changed, as_json)


@models.command("share-deployment")
@click.argument("endpoint")
@visibility_options
@json_option
def share_deployment(endpoint: str, visibility: str, as_json: bool) -> None:
    """Let others call ENDPOINT (only its owner may change it)."""
    changed = call("PUT", f"deployments/{endpoint}/visibility", json={"visibility": visibility})
    if as_json:
        echo_json(changed)
        return
    click.echo(f"{endpoint} is now {changed['visibility']}.")


@models.command("predict")
@click.argument("endpoint")
@click.option("--json", "body", required=True, help="The OIP v2 request body (JSON).")
@click.option("--version", help="Ask this version (default: as the traffic split says).")
def predict(endpoint: str, body: str, version: str | None) -> None:
    """Send one inference request to ENDPOINT and print the answer (JSON)."""
    try:
        payload = json.loads(body)
    except ValueError as e:
        raise click.UsageError(f"--json is not JSON: {e}") from None
    where = f"models/v2/models/{quote(endpoint, safe='')}"
    if version:
        where += f"/versions/{quote(version, safe='')}"
    echo_json(_service("POST", where + "/infer", json=payload))


@models.group("keys")
def keys() -> None:
    """API keys of an endpoint, for applications outside the hub."""


@keys.command("create")
@click.argument("endpoint")
@click.option("--name", "key_name", required=True, help="What the key is for.")
def keys_create(endpoint: str, key_name: str) -> None:
    """A new API key that calls ENDPOINT only; printed this once (keep it secret)."""
    made = call("POST", f"deployments/{endpoint}/keys", json={"name": key_name})
    click.echo(made["key"])
    click.echo(f"API key {made['id']} ({key_name}) of {endpoint}: shown once; only a hash is"
               " kept. Send it as Authorization: Bearer <key>.", err=True)  # fmt: skip


@keys.command("list")
@click.argument("endpoint")
@json_option
def keys_list(endpoint: str, as_json: bool) -> None:
    """ENDPOINT's API keys (never the keys themselves)."""
    listing = call("GET", f"deployments/{endpoint}/keys")
    if as_json:
        echo_json(listing)
        return
    click.echo("ID\tNAME\tCREATED BY\tCREATED")
    for key in listing["keys"]:
        click.echo(f"{key['id']}\t{key['name']}\t{key['created_by']}\t{key['created_at'][:19]}")


@keys.command("revoke")
@click.argument("endpoint")
@click.argument("key_id")
def keys_revoke(endpoint: str, key_id: str) -> None:
    """Stop API key KEY_ID of ENDPOINT from working, now."""
    call("DELETE", f"deployments/{endpoint}/keys/{key_id}")
    click.echo(f"API key {key_id} of {endpoint} is revoked.")


@models.command("payloads")
@click.argument("endpoint")
@click.option("--sample", type=click.FloatRange(0, 1), help="Log this share of requests.")
@click.option("--batch", help="Print the records of this batch (from the list).")
@json_option
def payloads(endpoint: str, sample: float | None, batch: str | None, as_json: bool) -> None:
    """ENDPOINT's payload log: its batches, one batch's records, or (--sample) how much of it
    is logged. Owner only."""
    if sample is not None:
        changed = call("PUT", f"deployments/{endpoint}/payloads", json={"sample": sample})
        click.echo(f"{endpoint}: logging {changed['payload_sample']:.0%} of requests.")
        return
    if batch:
        shown = call("GET", f"deployments/{endpoint}/payloads/{batch}")
        if as_json:
            echo_json(shown)
            return
        for record in shown["records"]:
            click.echo(f"{record['at']}\t{record['version']}\t{record['caller']}"
                       f"\t{record['status']}\t{record['latency_ms']} ms\t{record['request']}"
                       f"\t{record['response']}")  # fmt: skip
        return
    listing = call("GET", f"deployments/{endpoint}/payloads")
    if as_json:
        echo_json(listing)
        return
    click.echo(f"Logging {listing['sample']:.0%} of requests; {len(listing['batches'])} batches.")
    for found in listing["batches"]:
        click.echo(f"{found['batch']}\t{found['bytes']} bytes")


@models.command("undeploy")
@click.argument("endpoint")
def undeploy(endpoint: str) -> None:
    """Stop serving ENDPOINT: it stops answering now; its servers stop."""
    call("DELETE", f"deployments/{endpoint}")
    click.echo(f"{endpoint} is taken down.")
