"""`labworks datasets ...`: versioned datasets, pushed and pulled with `labworks.data` (the
kernel SDK), snapshotted from data sources, listed, shown, shared and deleted through the
platform API.

Talks to the platform API (LABWORKS_URL, LABWORKS_TOKEN).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import click

from labworks import data

from ..client import ClientError, LabworksClient
from .client import call, echo_json, json_option, size_text, time_text, visibility_options

SNAPSHOT_TIMEOUT = 3600.0  # seconds: the platform answers once it has copied every object


def _sdk() -> data.Client:
    """The SDK's client for the platform and token the other commands use."""
    try:
        client = LabworksClient.from_env()
    except ClientError as e:
        raise click.ClickException(str(e)) from None
    if not client.token:
        raise click.ClickException("set LABWORKS_TOKEN (create one with `labworks token NAME`)")
    return data.Client(client.api_url, client.token)


def _ref(ref: str) -> str:
    """`owner/name` of REF (a bare name is one of yours)."""
    try:
        return _sdk().ref(ref)
    except data.DataError as e:
        raise _failed("resolving " + ref, e) from None


def _failed(action: str, error: data.DataError) -> click.ClickException:
    """The one-line error, worded like the other client commands'."""
    if error.status is None:
        return click.ClickException(error.message)
    return click.ClickException(f"{action} failed ({error.status}): {error.message}")


def _path(ref: str) -> str:
    owner, name = ref.split("/")
    return f"datasets/{quote(owner, safe='')}/{quote(name, safe='')}"


@click.group()
def datasets() -> None:
    """Versioned datasets: push and pull versions, list, show, share and delete them."""


@datasets.command("list")
@json_option
def datasets_list(as_json: bool) -> None:
    """List the datasets you can read: yours, your groups', public ones."""
    listing = call("GET", "datasets")
    if as_json:
        echo_json(listing)
        return
    if not listing["datasets"]:
        click.echo("No datasets yet: push one with `labworks datasets push NAME PATH`.")
        return
    click.echo("REF\tVISIBILITY\tLATEST\tUPDATED\tDESCRIPTION")
    for d in listing["datasets"]:
        click.echo(
            f"{d['ref']}\t{d['visibility']}\t{d['latest_version'] or '-'}"
            f"\t{time_text(d['updated_at'])}\t{d['description'] or '-'}"
        )


@datasets.command("show")
@click.argument("ref")
@json_option
def datasets_show(ref: str, as_json: bool) -> None:
    """Show dataset REF (NAME of yours, or OWNER/NAME) and its versions, newest first."""
    found = call("GET", _path(_ref(ref)))
    if as_json:
        echo_json(found)
        return
    click.echo(f"{found['ref']} ({found['visibility']})")
    if found["description"]:
        click.echo(found["description"])
    click.echo("VERSION\tFILES\tSIZE\tDIGEST\tCREATED\tBY\tMESSAGE")
    for v in found["versions"]:
        click.echo(
            f"{v['number']}\t{v['file_count']}\t{size_text(v['size'])}\t{v['digest'][:19]}"
            f"\t{time_text(v['created_at'])}\t{v['created_by']}\t{v['message'] or '-'}"
        )


@datasets.command("push")
@click.argument("name")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("-m", "--message", default="", help="What changed in this version.")
@click.option("--description", default=None, help="Set the dataset's description.")
def datasets_push(name: str, path: Path, message: str, description: str | None) -> None:
    """Push file or folder PATH as a new version of your dataset NAME (created when new).
    Only files the platform does not hold yet are uploaded."""
    try:
        version = _sdk().push(name, path, message, description)
    except data.DataError as e:
        raise _failed(f"push {name}", e) from None
    _say_version(version.ref, version.number, version.file_count, version.size, version.digest)


def _say_version(ref: str, number: int, file_count: int, size: int, digest: str) -> None:
    """A new version, as `push` and `snapshot` print it."""
    files = "1 file" if file_count == 1 else f"{file_count} files"
    click.echo(f"{ref} version {number}: {files}, {size_text(size)}, {digest}")


@datasets.command("snapshot")
@click.argument("name")
@click.argument("source", metavar="SOURCE[/PREFIX]")
@click.option("--table", default=None, metavar="SCHEMA.TABLE", help="Snapshot a table's rows.")
@click.option("--sql", default=None, metavar="QUERY", help="Snapshot a read-only query's rows.")
@click.option("--limit", type=click.IntRange(min=1), default=None,
              help="Rows at most (--table, --sql; default: the platform's).")  # fmt: skip
@click.option("-m", "--message", default="", help="What this version is.")
def datasets_snapshot(
    name: str, source: str, table: str | None, sql: str | None, limit: int | None, message: str
) -> None:
    """The platform copies the files of data source SOURCE under PREFIX (SOURCE alone: all of
    them), or the rows of --table or --sql as Parquet, into a new version of your dataset NAME
    (created when new): that version stays the same when the source changes."""
    source_name, _, prefix = source.partition("/")
    body: dict = {"source": source_name, "message": message}
    if table is not None and sql is not None:
        raise click.UsageError("give --table or --sql, not both")
    if table is None and sql is None:
        if limit is not None:
            raise click.UsageError("--limit goes with --table or --sql")
        body["prefix"] = prefix
    elif prefix:
        raise click.UsageError("a table or query snapshot takes SOURCE alone, not SOURCE/PREFIX")
    else:
        body.update({"table": table} if table is not None else {"sql": sql})
        if limit is not None:
            body["limit"] = limit
    try:
        client = LabworksClient.from_env()
        client.timeout = SNAPSHOT_TIMEOUT
        v = client.request("POST", f"{_path(_ref(name))}/snapshot", json=body)
    except ClientError as e:
        raise click.ClickException(str(e)) from None
    _say_version(v["ref"], v["number"], v["file_count"], v["size"], v["digest"])


@datasets.command("pull")
@click.argument("ref")
@click.option("--version", type=click.IntRange(min=1), default=None, help="Default: the latest.")
@click.option(
    "--dest",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder to write the files into (default: ./NAME).",
)
def datasets_pull(ref: str, version: int | None, dest: Path | None) -> None:
    """Download a version of dataset REF (NAME of yours, or OWNER/NAME), checking every file's
    sha256; files already there and intact are kept."""
    try:
        sdk = _sdk()
        full = sdk.ref(ref)
        folder = sdk.get(full, version, dest or Path(full.split("/")[1]))
    except data.DataError as e:
        raise _failed(f"pull {ref}", e) from None
    click.echo(f"{full} -> {folder}")


@datasets.command("share")
@click.argument("ref")
@visibility_options
@json_option
def datasets_share(ref: str, visibility: str, as_json: bool) -> None:
    """Let others read your dataset REF (NAME, or OWNER/NAME): its versions and files. Only
    its owner may share it, push to it or delete it."""
    shared = call("PUT", f"{_path(_ref(ref))}/visibility", json={"visibility": visibility})
    if as_json:
        echo_json(shared)
        return
    click.echo(f"Dataset {shared['ref']} is now {shared['visibility']}.")


@datasets.command("delete")
@click.argument("ref")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def datasets_delete(ref: str, yes: bool) -> None:
    """Delete your dataset REF with all its versions and files."""
    full = _ref(ref)
    if not yes:
        click.confirm(f"Delete dataset {full} and all its versions?", abort=True)
    call("DELETE", _path(full))
    click.echo(f"Deleted {full}.")
