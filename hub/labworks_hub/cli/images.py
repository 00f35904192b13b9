"""`labworks images ...`: the workspace images you may pick, from the platform's image catalog.

Talks to the platform API (LABWORKS_URL, LABWORKS_TOKEN).
"""

from __future__ import annotations

import json

import click

from .client import call, json_option


def _get(path: str, **params: str) -> dict:
    return call("GET", path, params=params or None)


@click.group()
def images() -> None:
    """Workspace images of the catalog (CI build-id tags only)."""


@images.command("list")
@json_option
def images_list(as_json: bool) -> None:
    """List the images you may pick: reference, digest, GPU, build date, title. Where
    workspaces and jobs run in the platform's own Python environment, it comes first as
    `local`, with the digest of its lock (every installed name==version)."""
    catalog = _get("images")
    if as_json:
        click.echo(json.dumps(catalog, indent=2))
        return
    rows = [
        (
            i["ref"],
            i["digest"][:19],
            "gpu" if i["gpu"] else "-",
            (i["created"] or "-")[:10],
            i["title"] or "-",
        )
        for i in catalog["images"]
    ]
    local = catalog.get("local")
    if local:
        default = ", the default" if local["default"] else ""
        title = f"{local['title']}: Python {local['python']}{default}"
        rows.insert(0, (local["name"], local["digest"][:19], "-", "-", title))
    if not rows:
        click.echo("No images.")
    widths = [max(len(row[n]) for row in rows) for n in range(4)] if rows else []
    for row in rows:
        padded = [v.ljust(w) for v, w in zip(row[:4], widths, strict=True)]
        click.echo("  ".join([*padded, row[4]]))
    if local:
        click.echo(f"\n{local['name']}: {local['description']}")
        click.echo(f"  digest:   {local['digest']}")
        click.echo(f"  prefix:   {local['prefix']}")
        click.echo(f"  packages: {', '.join(local['packages']) or '-'}")
    if catalog.get("warning") and catalog.get("registry") is None:
        click.echo(f"\nCatalog images: none; {catalog['warning']}.")
    elif catalog.get("warning"):
        click.secho(f"Warning: {catalog['warning']}", fg="yellow", err=True)


@images.command("resolve")
@click.argument("ref")
@json_option
def images_resolve(ref: str, as_json: bool) -> None:
    """Print the digest CI tag REF (repository:tag) points to now, and what a runtime pulls."""
    image = _get("images/resolve", ref=ref)
    if as_json:
        click.echo(json.dumps(image, indent=2))
        return
    click.echo(image["digest"])
    click.echo(image["pull"])
