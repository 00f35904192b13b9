"""`labworks share add|list|revoke`: who may open your workspace (JupyterHub sharing).

Talks to the platform API (LABWORKS_URL, LABWORKS_TOKEN), which asks the hub with your token.
"""

from __future__ import annotations

import json
import os
from urllib.parse import quote, urlsplit

import click

from ..public_url import from_environment
from .client import call, json_option


def _target(user: str | None, group: str | None) -> tuple[str, str]:
    if bool(user) == bool(group):
        raise click.UsageError("name one USER or one --group G")
    return ("user", user) if user else ("group", group or "")


def _full_url(path: str) -> str:
    """The address to open: the origin of LABWORKS_URL (or, in a workspace, of the platform's
    public URL) plus the path."""
    public = os.environ.get("LABWORKS_URL", "").rstrip("/") or from_environment()
    if public and path.startswith("/"):
        parts = urlsplit(public)
        return f"{parts.scheme}://{parts.netloc}{path}"
    return path


@click.group()
def share() -> None:
    """Share your workspace with a user or a group, list and revoke shares.

    People you share with can open your workspace and run code in it, as you.
    """


@share.command("add")
@click.argument("user", required=False)
@click.option("--group", metavar="G", help="Share with everyone in group G instead of a user.")
@json_option
def share_add(user: str | None, group: str | None, as_json: bool) -> None:
    """Share your workspace with USER (or --group G)."""
    kind, name = _target(user, group)
    shared = call("POST", "shares", json={kind: name})
    if as_json:
        click.echo(json.dumps(shared, indent=2))
        return
    click.echo(f"Shared your workspace with {kind} {name!r}.")
    click.echo(f"They open it at {_full_url(shared['url'])}")


@share.command("list")
@json_option
def share_list(as_json: bool) -> None:
    """List who your workspace is shared with."""
    shares = call("GET", "shares")
    if as_json:
        click.echo(json.dumps(shares, indent=2))
        return
    if not shares["shares"]:
        click.echo("Your workspace is not shared with anyone.")
        return
    click.echo(f"Shared at {_full_url(shares['url'])} with:")
    for item in shares["shares"]:
        click.echo(f"{item['kind']}\t{item['name']}\t{item.get('created_at') or '-'}")


@share.command("revoke")
@click.argument("user", required=False)
@click.option("--group", metavar="G", help="Stop sharing with group G instead of a user.")
def share_revoke(user: str | None, group: str | None) -> None:
    """Stop sharing your workspace with USER (or --group G)."""
    kind, name = _target(user, group)
    call("DELETE", f"shares/{kind}/{quote(name, safe='')}")
    click.echo(f"Your workspace is no longer shared with {kind} {name!r}.")
