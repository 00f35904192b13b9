"""The `labworks` command line: operator commands (up, users, token) and client commands."""

from __future__ import annotations

import click

from .. import __version__
from .accounts import token, users
from .admin import groups
from .client import health, me
from .cost import cost
from .datasets import datasets
from .experiments import experiments
from .gallery import gallery
from .images import images
from .jobs import jobs, schedules
from .models import models
from .platform import up
from .profiles import profiles
from .serving import models as _serving  # noqa: F401 (adds the serving commands to `models`)
from .sharing import share
from .sources import sources
from .sweeps import sweeps
from .workspace import workspace


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="labworks")
def cli() -> None:
    """Labworks: a Jupyter-native ML platform."""


for command in (
    up, users, groups, token, me, health, workspace, share, gallery, images, jobs, schedules,
    profiles, experiments, models, datasets, sweeps, cost, sources,
):  # fmt: skip
    cli.add_command(command)


def main() -> None:
    cli(prog_name="labworks")


__all__ = ["cli", "main"]
