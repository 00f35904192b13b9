"""`labworks gallery ...`: publish notebooks read-only to a group gallery, list, read and diff.

Talks to the platform API (LABWORKS_URL, LABWORKS_TOKEN). You see the galleries of your groups.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from .client import call, echo_json, json_option


@click.group()
def gallery() -> None:
    """Notebooks published read-only to your groups, with their versions."""


@gallery.command("publish")
@click.argument("notebook", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--group", required=True, metavar="G", help="Publish to group G (yours).")
@click.option("-m", "--message", default="", help="What changed in this version.")
@json_option
def gallery_publish(notebook: Path, group: str, message: str, as_json: bool) -> None:
    """Publish NOTEBOOK (.ipynb) to group G's gallery as a new version."""
    try:
        content = json.loads(notebook.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise click.ClickException(f"cannot read {notebook} as a notebook: {e}") from None
    published = call(
        "POST", "gallery",
        json={"group": group, "name": notebook.name, "content": content, "message": message},
    )  # fmt: skip
    if as_json:
        echo_json(published)
        return
    entry, version = published["entry"], published["version"]
    click.echo(
        f"Published {entry['name']} to {entry['group']} as version {version['number']}"
        f" (entry {entry['id']})."
    )


@gallery.command("list")
@click.option("--group", metavar="G", help="Only group G's entries.")
@json_option
def gallery_list(group: str | None, as_json: bool) -> None:
    """List the notebooks in your groups' galleries."""
    listing = call("GET", "gallery", params={"group": group} if group else None)
    if as_json:
        echo_json(listing)
        return
    if not listing["entries"]:
        click.echo("No notebooks in your groups' galleries yet.")
        return
    click.echo("ID\tGROUP\tNAME\tOWNER\tLATEST\tUPDATED")
    for e in listing["entries"]:
        click.echo(
            f"{e['id']}\t{e['group']}\t{e['name']}\t{e['owner']}\tv{e['latest_version']}"
            f"\t{e['updated_at']}"
        )


@gallery.command("show")
@click.argument("entry_id", type=int, metavar="ID")
@json_option
def gallery_show(entry_id: int, as_json: bool) -> None:
    """Show entry ID and its versions."""
    entry = call("GET", f"gallery/{entry_id}")
    if as_json:
        echo_json(entry)
        return
    click.echo(f"{entry['name']} in {entry['group']}, published by {entry['owner']}")
    for v in entry["versions"]:
        note = f"\t{v['message']}" if v["message"] else ""
        click.echo(f"v{v['number']}\t{v['published_at']}\t{v['sha256'][:12]}{note}")


@gallery.command("diff")
@click.argument("entry_id", type=int, metavar="ID")
@click.argument("base", type=int, metavar="V1")
@click.argument("remote", type=int, metavar="V2")
@json_option
def gallery_diff(entry_id: int, base: int, remote: int, as_json: bool) -> None:
    """Show what changed from version V1 to V2 of entry ID (nbdime)."""
    diff = call("GET", f"gallery/{entry_id}/diff", params={"base": base, "remote": remote})
    if as_json:
        echo_json(diff)
        return
    click.echo(diff["text"].rstrip("\n") or f"v{base} and v{remote} are the same notebook.")


@gallery.command("download")
@click.argument("entry_id", type=int, metavar="ID")
@click.argument("number", type=int, metavar="VERSION")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write it (default: <name>-v<VERSION>.ipynb here).",
)  # fmt: skip
@click.option("--force", is_flag=True, help="Overwrite the file if it exists.")
def gallery_download(entry_id: int, number: int, output: Path | None, force: bool) -> None:
    """Save version VERSION of entry ID as a notebook file."""
    version = call("GET", f"gallery/{entry_id}/versions/{number}")
    target = output or Path(f"{Path(version['name']).stem}-v{number}.ipynb")
    if target.exists() and not force:
        raise click.ClickException(f"{target} exists; pass --force to overwrite it")
    target.write_text(json.dumps(version["content"], indent=1) + "\n", encoding="utf-8")
    click.echo(f"Saved {version['name']} v{number} to {target}")


@gallery.command("delete")
@click.argument("entry_id", type=int, metavar="ID")
def gallery_delete(entry_id: int) -> None:
    """Remove entry ID and all its versions (you must have published it)."""
    call("DELETE", f"gallery/{entry_id}")
    click.echo(f"Deleted gallery entry {entry_id}.")
