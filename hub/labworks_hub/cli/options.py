"""Options and helpers shared by the operator commands."""

from __future__ import annotations

import click

from ..home import HomeError, LabworksHome
from ..service.store import Store, StoreError

home_option = click.option(
    "--home",
    type=click.Path(file_okay=False),
    default=None,
    help="State directory (default: $LABWORKS_HOME, else ./.labworks).",
)


def open_home(home: str | None, *, create: bool) -> LabworksHome:
    lw = LabworksHome.resolve(home)
    try:
        if create:
            return lw.ensure()
        if not lw.exists():
            raise click.ClickException(
                f"no Labworks state in {lw.root}; run `labworks up` first or pass --home"
            )
        return lw
    except HomeError as e:
        raise click.ClickException(str(e)) from None


def open_store(db_url: str) -> Store:
    """The migrated platform store, or a one-line error."""
    try:
        store = Store(db_url)
        store.migrate()
    except StoreError as e:
        raise click.ClickException(str(e)) from None
    return store
