"""Administration commands: `labworks groups ...` and the account lifecycle of `labworks users`
(disable, enable, delete, transfer). They call the platform's admin REST API, so a change
counts at once (tokens die, servers stop, groups apply to the next request).

Who is asking: LABWORKS_URL and LABWORKS_TOKEN of an administrator, as every client command.
An operator on the machine needs neither: with no LABWORKS_TOKEN, the command finds the running
platform through the state directory (--home, $LABWORKS_HOME, ./.labworks), mints a
five-minute token of the first administrator there and revokes it (through the hub) when
done.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import click
import httpx

from .. import hubdb
from ..client import API_PATH, ClientError, LabworksClient
from ..home import PORTS_KEY
from ..service.store.accounts import first_admin
from .client import echo_json, json_option
from .options import home_option, open_home, open_store

OPERATOR_TOKEN_SECONDS = 300


@contextmanager
def admin_client(home: str | None) -> Iterator[LabworksClient]:
    """The client of the environment's token, else an operator's through the home."""
    env = os.environ
    workspace = env.get("LABWORKS_API_URL") and env.get("JUPYTERHUB_API_TOKEN")
    if env.get("LABWORKS_TOKEN") or workspace:
        try:
            client = LabworksClient.from_env()
        except ClientError as e:
            raise click.ClickException(str(e)) from None
        yield client
        return
    lw = open_home(home, create=False)
    ports = lw.load_settings().get(PORTS_KEY, {})
    if not ports.get("service") or not ports.get("hub"):
        raise click.ClickException(
            f"the platform in {lw.root} has not started yet; run `labworks up` first"
        )
    store = open_store(lw.db_url())
    try:
        with store.session() as session:
            account = first_admin(session)
    finally:
        store.dispose()
    if account is None:
        raise click.ClickException(f"no administrator who may log in in {lw.root}")
    token = hubdb.new_token(
        lw.hub_db_url, account, expires_in=OPERATOR_TOKEN_SECONDS,
        note="labworks administration command (operator)",
    )  # fmt: skip
    try:
        yield LabworksClient(f"http://127.0.0.1:{ports['service']}/{API_PATH}", token)
    finally:
        _revoke(lw.hub_db_url, f"http://127.0.0.1:{ports['hub']}/hub/api", account.name, token)


def _revoke(hub_db_url: str, hub_api: str, user: str, token: str) -> None:
    """Revoke the operator's token through the running hub (it expires anyway)."""
    token_id = hubdb.token_id(hub_db_url, token)
    if token_id is None:
        return
    url = f"{hub_api}/users/{quote(user, safe='')}/tokens/{token_id}"
    with contextlib.suppress(httpx.HTTPError):
        httpx.delete(url, headers={"Authorization": f"token {token}"}, timeout=30)


def admin_call(home: str | None, method: str, path: str, **kwargs: Any) -> dict:
    """One admin API request; its failure is the command's one-line error."""
    with admin_client(home) as client:
        try:
            return client.request(method, path, **kwargs)
        except ClientError as e:
            if "cannot reach" in str(e) and not os.environ.get("LABWORKS_TOKEN"):
                raise click.ClickException(f"{e} (is `labworks up` running?)") from None
            raise click.ClickException(str(e)) from None


def part(name: str) -> str:
    """A name as one path segment."""
    return quote(name, safe="")


def show_group(group: dict) -> str:
    return f"{group['name']}\t{','.join(group['members']) or '-'}"


@click.group()
def groups() -> None:
    """Manage groups and their members (administrators; changes count at once)."""


@groups.command("list")
@json_option
@home_option
def groups_list(as_json: bool, home: str | None) -> None:
    """List groups with their members."""
    found = admin_call(home, "GET", "admin/groups")
    if as_json:
        echo_json(found)
        return
    for group in found["groups"]:
        click.echo(show_group(group))
    if not found["groups"]:
        click.echo("No groups.")


def _group_names(home: str | None) -> set[str]:
    return {g["name"] for g in admin_call(home, "GET", "admin/groups")["groups"]}


@groups.command("create")
@click.argument("name")
@home_option
def groups_create(name: str, home: str | None) -> None:
    """Create group NAME, with no members (one that exists is left as it is)."""
    if name in _group_names(home):
        click.echo(f"Group {name!r} exists already")
        return
    admin_call(home, "POST", "admin/groups", json={"name": name})
    click.echo(f"Created group {name!r}")


@groups.command("delete")
@click.argument("name")
@home_option
def groups_delete(name: str, home: str | None) -> None:
    """Delete group NAME; what was shared with it becomes private to its owners."""
    if name not in _group_names(home):
        click.echo(f"No group {name!r}; nothing to delete")
        return
    admin_call(home, "DELETE", f"admin/groups/{part(name)}")
    click.echo(f"Deleted group {name!r}; what was shared with it is private now")


@groups.command("add")
@click.argument("name")
@click.argument("users", nargs=-1, required=True)
@home_option
def groups_add(name: str, users: tuple[str, ...], home: str | None) -> None:
    """Add USERS to group NAME (members already are fine)."""
    for user in users:
        group = admin_call(home, "PUT", f"admin/groups/{part(name)}/members/{part(user)}")
    click.echo(show_group(group))


@groups.command("remove")
@click.argument("name")
@click.argument("users", nargs=-1, required=True)
@home_option
def groups_remove(name: str, users: tuple[str, ...], home: str | None) -> None:
    """Remove USERS from group NAME (non-members are fine)."""
    for user in users:
        group = admin_call(home, "DELETE", f"admin/groups/{part(name)}/members/{part(user)}")
    click.echo(show_group(group))


# --- the account lifecycle (added to `labworks users` in accounts.py) ---------------------------


@click.command("disable")
@click.argument("name")
@home_option
def users_disable(name: str, home: str | None) -> None:
    """Stop user NAME now: no login, tokens revoked, servers stopped, jobs cancelled,
    schedules paused. What they own is kept."""
    admin_call(home, "POST", f"admin/users/{part(name)}/disable")
    click.echo(f"Disabled {name!r}: logged out everywhere, servers and jobs stopped")


@click.command("enable")
@click.argument("name")
@home_option
def users_enable(name: str, home: str | None) -> None:
    """Let user NAME log in again (their schedules stay paused until they resume them)."""
    admin_call(home, "POST", f"admin/users/{part(name)}/enable")
    click.echo(f"Enabled {name!r}")


@click.command("delete")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@home_option
def users_delete(name: str, yes: bool, home: str | None) -> None:
    """Delete user NAME for good: as disable, and the name can never be used again. What they
    owned is kept under their name; hand it over with `labworks users transfer`."""
    if not yes:
        click.confirm(f"Delete {name!r} for good (the name cannot be reused)?", abort=True)
    admin_call(home, "DELETE", f"admin/users/{part(name)}")
    click.echo(f"Deleted {name!r}; hand over what they owned with `labworks users transfer`")


@click.command("transfer")
@click.argument("name")
@click.option("--to", "to", required=True, metavar="OTHER", help="Who receives everything.")
@json_option
@home_option
def users_transfer(name: str, to: str, as_json: bool, home: str | None) -> None:
    """Make OTHER the owner of everything NAME owns: experiments, models, datasets, gallery
    notebooks, jobs and schedules (their sharing is kept)."""
    moved = admin_call(home, "POST", f"admin/users/{part(name)}/transfer", json={"to": to})
    if as_json:
        echo_json(moved)
        return
    counts = ", ".join(f"{n} {kind}" for kind, n in moved["moved"].items())
    click.echo(f"Handed to {to!r}: {counts}")


LIFECYCLE = (users_disable, users_enable, users_delete, users_transfer)
