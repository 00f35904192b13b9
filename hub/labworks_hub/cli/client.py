"""Client commands: talk to a running platform over HTTP (LABWORKS_URL, LABWORKS_TOKEN)."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import click

from ..client import ClientError, LabworksClient


def _client() -> LabworksClient:
    try:
        return LabworksClient.from_env()
    except ClientError as e:
        raise click.ClickException(str(e)) from None


def call(method: str, path: str, **kwargs: Any) -> dict:
    """One request to the platform API; its failure is the command's one-line error."""
    try:
        return _client().request(method, path, **kwargs)
    except ClientError as e:
        raise click.ClickException(str(e)) from None


def echo_json(data: dict) -> None:
    click.echo(json.dumps(data, indent=2))


def size_text(size: int | None) -> str:
    """Bytes as people read them (1.5 MB); '-' for none."""
    if size is None:
        return "-"
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"


def time_text(text: str | None) -> str:
    """An ISO time from the API as `YYYY-MM-DD HH:MM`; '-' for none."""
    return "-" if text is None else datetime.fromisoformat(text).strftime("%Y-%m-%d %H:%M")


def _show(data: dict, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    for key, value in data.items():
        if isinstance(value, list):
            value = ", ".join(value) or "-"
        click.echo(f"{key}: {value}")


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


def visibility_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """`--group G | --public | --private` of a share command, passed on as one `visibility`
    argument (`group:G`, `public` or `private`)."""

    @click.option("--group", metavar="G", help="Members of group G (yours) may read it.")
    @click.option("--public", is_flag=True, help="Every user may read it.")
    @click.option("--private", is_flag=True, help="Only you (undo sharing).")
    @functools.wraps(command)
    def chosen(*args: Any, group: str | None, public: bool, private: bool, **kwargs: Any) -> Any:
        if sum((group is not None, public, private)) != 1:
            raise click.UsageError("give exactly one of --group G, --public or --private")
        visibility = f"group:{group}" if group is not None else "public" if public else "private"
        return command(*args, visibility=visibility, **kwargs)

    return chosen


@click.command()
@json_option
def health(as_json: bool) -> None:
    """Check that the platform service answers (no token needed)."""
    try:
        _show(_client().get("health", auth=False), as_json)
    except ClientError as e:
        raise click.ClickException(str(e)) from None


@click.command()
@json_option
def me(as_json: bool) -> None:
    """Show who the token belongs to: name, groups, admin."""
    try:
        _show(_client().get("me"), as_json)
    except ClientError as e:
        raise click.ClickException(str(e)) from None
