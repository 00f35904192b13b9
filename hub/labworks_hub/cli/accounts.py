"""Operator commands on accounts: `labworks users add|list|reset-password` and `labworks token
NAME` work on the state directory; `users disable|enable|delete|transfer` call the platform
(cli/admin.py)."""

from __future__ import annotations

import click

from .. import hubdb
from ..service.store.accounts import (
    AccountError,
    create_account,
    generate_password,
    get_account,
    list_accounts,
    set_password,
)
from .admin import LIFECYCLE
from .options import home_option, open_home, open_store


@click.group()
def users() -> None:
    """Manage who can log in (add, list, reset-password: on the state directory)."""


for _command in LIFECYCLE:
    users.add_command(_command)


@users.command("add")
@click.argument("name")
@click.option("--admin", is_flag=True, help="Make the user a hub administrator.")
@click.option("--group", "groups", multiple=True, metavar="G", help="Add to group G (repeatable).")
@home_option
def users_add(name: str, admin: bool, groups: tuple[str, ...], home: str | None) -> None:
    """Create user NAME and print a generated password once (groups named are created)."""
    lw = open_home(home, create=False)
    store = open_store(lw.db_url())
    password = generate_password()
    try:
        with store.session() as session:
            account = create_account(session, name, password, admin=admin, groups=list(groups))
    except AccountError as e:
        raise click.ClickException(str(e)) from None
    hubdb.sync_user(lw.hub_db_url, account)
    role = "admin" if admin else "user"
    in_groups = f" in groups {', '.join(account.groups)}" if account.groups else ""
    click.echo(f"Created {role} {name!r}{in_groups}")
    click.echo(f"Password (shown once): {password}")


@users.command("list")
@home_option
def users_list(home: str | None) -> None:
    """List users with their role and groups; disabled ones say so."""
    lw = open_home(home, create=False)
    with open_store(lw.db_url()).session() as session:
        for account in list_accounts(session):
            role = "admin" if account.admin else "user"
            state = "\tdisabled" if account.disabled else ""
            click.echo(f"{account.name}\t{role}\t{','.join(account.groups) or '-'}{state}")


@users.command("reset-password")
@click.argument("name")
@home_option
def users_reset_password(name: str, home: str | None) -> None:
    """Give user NAME a new generated password and print it once."""
    lw = open_home(home, create=False)
    password = generate_password()
    try:
        with open_store(lw.db_url()).session() as session:
            set_password(session, name, password)
    except AccountError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"New password for {name!r} (shown once): {password}")


@click.command()
@click.argument("name")
@click.option(
    "--expires-in",
    type=click.IntRange(min=0),
    default=hubdb.DEFAULT_TOKEN_DAYS * 86400,
    show_default=True,
    help="Lifetime in seconds; 0 for a token that never expires.",
)
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    metavar="SCOPE",
    help="Limit the token to this hub scope (repeatable); default: the user's own permissions.",
)
@click.option("--note", default="labworks token (command line)", show_default=True)
@home_option
def token(name: str, expires_in: int, scopes: tuple[str, ...], note: str, home: str | None) -> None:
    """Print a new hub API token for user NAME, for scripts (LABWORKS_TOKEN)."""
    lw = open_home(home, create=False)
    with open_store(lw.db_url()).session() as session:
        account = get_account(session, name)
    if account is None or account.deleted:
        raise click.ClickException(f"no such user: {name!r} (create it with `labworks users add`)")
    if account.disabled:
        raise click.ClickException(f"user {name!r} is disabled (`labworks users enable {name}`)")
    try:
        value = hubdb.new_token(
            lw.hub_db_url, account, scopes=list(scopes), expires_in=expires_in, note=note
        )
    except (KeyError, ValueError) as e:
        raise click.ClickException(f"cannot create token: {e}") from None
    click.echo(value)
