"""The `labworks` command line: operator commands (up, users, token) and client commands."""

from __future__ import annotations

import importlib

import click

# Each command's module is imported when that command runs (click's lazy subcommands): a client
# command such as `labworks jobs list` loads neither JupyterHub nor the store nor the cost meter,
# which the operator commands need. The serving commands extend `models` (cli/serving.py).
COMMANDS = {
    "cost": "cost:cost",
    "datasets": "datasets:datasets",
    "experiments": "experiments:experiments",
    "gallery": "gallery:gallery",
    "groups": "admin:groups",
    "health": "client:health",
    "images": "images:images",
    "jobs": "jobs:jobs",
    "me": "client:me",
    "models": "serving:models",
    "profiles": "profiles:profiles",
    "schedules": "jobs:schedules",
    "share": "sharing:share",
    "sources": "sources:sources",
    "sweeps": "sweeps:sweeps",
    "token": "accounts:token",
    "up": "platform:up",
    "users": "accounts:users",
    "workspace": "workspace:workspace",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, name = COMMANDS[cmd_name].split(":")
        command = getattr(importlib.import_module(f".{module}", __name__), name)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="labworks", prog_name="labworks")
def cli() -> None:
    """Labworks: a Jupyter-native ML platform."""


def main() -> None:
    cli(prog_name="labworks")


__all__ = ["cli", "main"]
