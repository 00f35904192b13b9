"""`labworks up`: prepare the state directory and run JupyterHub with the platform service."""

from __future__ import annotations

import errno
import os
import signal
import sys
from pathlib import Path

import click
from traitlets.config import PyFileConfigLoader

from .. import hubdb
from ..home import PORTS_KEY, LabworksHome
from ..hubconfig import HubSettings, remembered_options, render
from ..isolation import IsolationError, PlatformAccount, give_home
from ..service.store.accounts import create_account, generate_password, has_admin
from ..spawners.local import isolation_status_from_config
from ..supervisor import (
    SupervisedHub,
    SupervisorError,
    bind_error,
    lock_instance,
    stable_ports,
    stop_leftovers,
)
from .options import home_option, open_home, open_store

FIRST_ADMIN = "admin"


def check_port_free(ip: str, port: int) -> None:
    error = bind_error(ip, port)
    if error is None:
        return
    if error.errno == errno.EADDRINUSE:
        raise click.ClickException(
            f"port {port} on {ip} is already in use; stop what runs there or pass --port"
        )
    raise click.ClickException(f"cannot listen on {ip}:{port}: {error.strerror}")


def take_over(lw: LabworksHome) -> None:
    """Become the one `labworks up` of this home, stopping what a crashed one left running."""
    try:
        lock_instance(lw.lock_file)
        stopped = stop_leftovers(lw.process_record)
    except SupervisorError as e:
        raise click.ClickException(str(e)) from None
    for entry in stopped:
        click.secho(
            f"Stopped {entry.role} (pid {entry.pid}), left running by a labworks up that"
            " ended without stopping it",
            fg="yellow", err=True,
        )  # fmt: skip
    # JupyterHub would signal the pid in here without checking that it is still its proxy.
    lw.proxy_pid_file.unlink(missing_ok=True)


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


def give_platform_its_files(lw: LabworksHome, split: bool) -> None:
    """Where the platform service gets an account of its own: make (or check) it and give it
    its folders (and what root left in them); say whom the service runs as."""
    if split:
        loader = PyFileConfigLoader(lw.hub_config.name, str(lw.root))
        platform = PlatformAccount(config=loader.load_config())  # c.PlatformAccount.name
    else:
        platform = PlatformAccount()
    reason = platform.unavailable_reason(lw.root)
    if reason is not None:
        who = f"uid {os.geteuid()}, the user running labworks up"
        click.secho(f"Platform service runs as {who}: {reason}.", fg="yellow", err=True)
        return
    try:
        account = platform.ensure()
        for path in lw.platform_paths():
            give_home(path, account, previous=os.geteuid())
    except (IsolationError, OSError) as e:
        raise click.ClickException(f"cannot give the platform service its account: {e}") from None
    click.secho(
        f"Platform service runs as the system account {account.name} (uid {account.uid});"
        " jobs start through the root launcher.",
        fg="green", err=True,
    )  # fmt: skip


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
    lw = open_home(home, create=True)
    take_over(lw)
    check_port_free(ip, port)
    settings = lw.load_settings()
    for name in lw.move_platform_files(settings):
        click.echo(f"Moved {name} into {lw.platform_dir} (the platform service's folder)")
    db_url = db_url or settings.get("db_url") or lw.default_db_url
    store = open_store(db_url)
    settings["db_url"] = db_url
    try:
        settings["registry_url"], settings["profiles_file"] = remembered_options(
            settings, registry, profiles
        )
        ports, warnings = stable_ports(settings.get(PORTS_KEY, {}), avoid={port})
    except (ValueError, SupervisorError) as e:
        raise click.ClickException(str(e)) from None
    settings[PORTS_KEY] = ports
    lw.save_settings(settings)
    for warning in warnings:
        click.secho(warning, fg="red", bold=True, err=True)

    first_login: tuple[str, ...] = ()
    with store.session() as session:
        if not has_admin(session):
            password = generate_password()
            account = create_account(session, FIRST_ADMIN, password, admin=True)
            first_login = (
                "First start: created the administrator account.",
                f"  user:     {FIRST_ADMIN}",
                f"  password: {password}   (shown once; only a hash is kept)",
            )
            click.secho(first_login[0], bold=True)
            click.echo("\n".join(first_login[1:]))
            hubdb.sync_user(lw.hub_db_url, account)
    store.dispose()

    hub = HubSettings(
        home=str(lw.root),
        ip=ip,
        port=port,
        hub_port=ports["hub"],
        proxy_api_port=ports["proxy_api"],
        service_port=ports["service"],
        db_url=db_url,
        cull_idle_timeout=cull_idle_timeout,
        registry_url=settings["registry_url"],
        profiles_file=settings["profiles_file"],
        platform_account=PlatformAccount().unavailable_reason(lw.root) is None,
    )
    fd = os.open(lw.hub_config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(render(hub))

    host = f"[{ip}]" if ":" in ip else ip
    click.secho(f"Labworks starting at http://{host}:{port}/  (state: {lw.root})", bold=True)
    announce_isolation(lw.hub_config)
    give_platform_its_files(lw, hub.platform_account)
    os.chdir(lw.root)
    # Started with SIGINT ignored (nohup, `cmd &` in a script), every service would inherit that
    # and sit out the hub's stop timeouts; a handler here gives children the default back.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    SupervisedHub.welcome = (f"Labworks is running at http://{host}:{port}/", *first_login)
    sys.exit(SupervisedHub.launch_instance([f"--config={lw.hub_config}"]) or 0)
