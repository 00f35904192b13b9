"""`labworks up`: prepare the state directory and run JupyterHub with the platform service."""

from __future__ import annotations

import errno
import os
import signal
import socket
import sys
from pathlib import Path

import click

from .. import hubdb
from ..hubconfig import HubSettings, remembered_options, render
from ..service.store.accounts import create_account, generate_password, has_admin
from ..spawners.local import isolation_status_from_config
from .options import home_option, open_home, open_store

FIRST_ADMIN = "admin"


def check_port_free(ip: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((ip, port))
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                raise click.ClickException(
                    f"port {port} on {ip} is already in use; stop what runs there or pass --port"
                ) from None
            raise click.ClickException(f"cannot listen on {ip}:{port}: {e.strerror}") from None


def free_port(ip: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((ip, 0))
        return sock.getsockname()[1]


def announce_isolation(hub_config: Path) -> None:
    """Say loudly whether workspaces are isolated from each other, and if not, why."""
    try:
        status = isolation_status_from_config(hub_config)
    except Exception as e:  # the hub would fail on the same config: say it in one line
        raise click.ClickException(f"cannot load {hub_config}: {e}") from None
    if status is None:  # another spawner: it isolates in its own way
        return
    color = "green" if status.on and status.limits else "yellow" if status.on else "red"
    prefix = "" if status.on else "WARNING: "
    click.secho(prefix + status.summary(), fg=color, bold=not status.on, err=True)


@click.command()
@home_option
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--ip", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--db-url",
    default=None,
    help="Platform store URL, e.g. postgresql://user:pw@host/db (default: SQLite in the home;"
    " remembered for the next start).",
)
@click.option(
    "--cull-idle-timeout",
    type=click.IntRange(min=0),
    default=3600,
    show_default=True,
    help="Stop workspaces idle for this many seconds; 0 disables culling.",
)
@click.option(
    "--registry",
    default=None,
    help="OCI registry of the workspace image catalog, e.g. https://registry.example.org"
    " (remembered; '' turns it off).",
)
@click.option(
    "--profiles",
    default=None,
    help="YAML file of workspace profiles, checked now (remembered; '' for the defaults).",
)
def up(
    home: str | None,
    port: int,
    ip: str,
    db_url: str | None,
    cull_idle_timeout: int,
    registry: str | None,
    profiles: str | None,
) -> None:
    """Start Labworks (JupyterHub, platform service, idle culler) until Ctrl-C."""
    os.umask(0o077)  # what the hub and the store write in the state directory stays private
    check_port_free(ip, port)
    lw = open_home(home, create=True)
    settings = lw.load_settings()
    db_url = db_url or settings.get("db_url") or lw.default_db_url
    store = open_store(db_url)
    settings["db_url"] = db_url
    try:
        settings["registry_url"], settings["profiles_file"] = remembered_options(
            settings, registry, profiles
        )
    except ValueError as e:
        raise click.ClickException(str(e)) from None
    lw.save_settings(settings)

    with store.session() as session:
        if not has_admin(session):
            password = generate_password()
            account = create_account(session, FIRST_ADMIN, password, admin=True)
            click.secho("First start: created the administrator account.", bold=True)
            click.echo(f"  user:     {FIRST_ADMIN}")
            click.echo(f"  password: {password}   (shown once; only a hash is kept)")
            hubdb.sync_user(lw.hub_db_url, account)
    store.dispose()

    hub = HubSettings(
        home=str(lw.root),
        ip=ip,
        port=port,
        hub_port=free_port(),
        proxy_api_port=free_port(),
        service_port=free_port(),
        db_url=db_url,
        cull_idle_timeout=cull_idle_timeout,
        registry_url=settings["registry_url"],
        profiles_file=settings["profiles_file"],
    )
    fd = os.open(lw.hub_config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(render(hub))

    host = f"[{ip}]" if ":" in ip else ip
    click.secho(f"Labworks starting at http://{host}:{port}/  (state: {lw.root})", bold=True)
    announce_isolation(lw.hub_config)
    os.chdir(lw.root)
    # Started with SIGINT ignored (nohup, `cmd &` in a script), every service would inherit that
    # and sit out the hub's stop timeouts; a handler here gives children the default back.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    from jupyterhub.app import JupyterHub

    sys.exit(JupyterHub.launch_instance([f"--config={lw.hub_config}"]) or 0)
