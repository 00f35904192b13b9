"""`labworks sources ...`: data that lives outside the platform (folders on its host, S3 buckets,
PostgreSQL databases) registered once, with its credentials kept by the platform, and read from
workspaces and jobs by whoever is granted it. Register, list, browse, preview, grant, request
access and audit who read what.

Credentials are never options (they would sit in the shell's history and in `ps`): S3 keys come
from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (AWS_SESSION_TOKEN optional), a PostgreSQL
password from PGPASSWORD, else from a hidden prompt when a terminal is there to ask.

Talks to the platform API (LABWORKS_URL, LABWORKS_TOKEN).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote

import click
from psycopg import conninfo

from ..service.sources.audit import report_csv
from .client import call, echo_json, json_option, size_text, time_text

DSN_KEYS = ("host", "port", "dbname", "user", "sslmode")  # what a postgres source's config holds
CELL_CHARS = 60  # a preview cell longer than this is cut


def _path(name: str, *rest: str) -> str:
    return "/".join(["sources", quote(name, safe=""), *rest])


def _interactive() -> bool:
    """Whether a person can answer a prompt (stdin is a terminal)."""
    return sys.stdin.isatty()


def _secret(variable: str, label: str) -> str:
    """The value of environment `variable`, else a hidden prompt for `label`, else an error."""
    value = os.environ.get(variable)
    if value:
        return value
    if not _interactive():
        raise click.ClickException(
            f"set {variable} (credentials are never taken as options) or run this in a terminal"
            " to be asked for it"
        )
    return str(click.prompt(label, hide_input=True))


def _dsn_config(dsn: str) -> dict[str, Any]:
    """The config of a postgres source from a libpq DSN (URI or key=value) without password.
    Messages never repeat the DSN: a mistyped one may hold a password."""
    try:
        parts = conninfo.conninfo_to_dict(dsn)
    except Exception:  # psycopg's message quotes the DSN
        raise click.BadParameter(
            "not a libpq connection string (host=H dbname=D user=U) or URI"
            " (postgresql://USER@HOST:PORT/DBNAME)",
            param_hint="--dsn",
        ) from None
    if "password" in parts:
        raise click.BadParameter(
            "holds a password: give the DSN without it and set PGPASSWORD (or be asked for it)",
            param_hint="--dsn",
        )
    other = sorted(set(parts) - set(DSN_KEYS))
    if other:
        raise click.BadParameter(
            f"only {', '.join(DSN_KEYS)} may be set, not {', '.join(other)}", param_hint="--dsn"
        )
    missing = [key for key in ("host", "dbname", "user") if not parts.get(key)]
    if missing:
        raise click.BadParameter(f"names no {', '.join(missing)}", param_hint="--dsn")
    port = str(parts.get("port") or "5432")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise click.BadParameter(f"port must be a number from 1 to 65535, not {port!r}",
                                 param_hint="--dsn")  # fmt: skip
    return {
        "host": parts["host"], "port": int(port), "dbname": parts["dbname"],
        "user": parts["user"], "sslmode": parts.get("sslmode") or "prefer",
    }  # fmt: skip


def _cell(value: Any) -> str:
    text = "" if value is None else str(value).replace("\t", "\\t").replace("\n", "\\n")
    return text if len(text) <= CELL_CHARS else text[: CELL_CHARS - 1] + "…"


def _rows(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A tab-separated table, as the other client commands print."""
    click.echo("\t".join(header))
    for row in rows:
        click.echo("\t".join(_cell(value) for value in row))


def _where(source: dict) -> str:
    """Where a source's data is, in words, from its non-secret config."""
    config = source["config"]
    if source["kind"] == "s3":
        where = f"s3://{config.get('bucket', '?')}/{config.get('prefix') or ''}"
        return where + (f" at {config['endpoint_url']}" if config.get("endpoint_url") else "")
    if source["kind"] == "postgres" and config:
        return (f"postgresql://{config['user']}@{config['host']}:{config['port']}"
                f"/{config['dbname']}")  # fmt: skip
    return config.get("path") or "-"


@click.group()
def sources() -> None:
    """Data sources: folders, S3 buckets and PostgreSQL databases read through the platform,
    which keeps their credentials, with grants, previews and an access audit."""


@sources.group("add")
def add() -> None:
    """Register a source (folders: administrators; s3 and postgres: members of the platform's
    data-owners group and administrators). The platform checks it can reach it first."""


def _common(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options every `add` command takes."""
    for option in reversed((
        click.option("--description", default="", help="What the data is."),
        click.option("--tag", "tags", multiple=True, metavar="TAG", help="A tag (repeat it)."),
        click.option("--owner", default=None, help="Its owner (administrators; default: you)."),
        json_option,
    )):  # fmt: skip
        command = option(command)
    return command


def _register(name: str, kind: str, config: dict, credentials: dict | None, description: str,
              tags: tuple[str, ...], owner: str | None, as_json: bool) -> None:  # fmt: skip
    body: dict[str, Any] = {"name": name, "kind": kind, "description": description,
                            "tags": list(tags), "config": config}  # fmt: skip
    if credentials:
        body["credentials"] = credentials
    if owner:
        body["owner"] = owner
    added = call("POST", "sources", json=body)
    if as_json:
        echo_json(added)
        return
    click.echo(f"Registered {added['kind']} source {added['name']} (owner {added['owner']}):"
               f" {_where(added)}")  # fmt: skip


@add.command("folder")
@click.argument("name")
@click.option("--path", "folder", required=True, metavar="DIR",
              help="An absolute path on the platform's host (local or NFS).")  # fmt: skip
@_common
def add_folder(name: str, folder: str, description: str, tags: tuple[str, ...],
               owner: str | None, as_json: bool) -> None:  # fmt: skip
    """Register folder DIR of the platform's host as source NAME (administrators)."""
    _register(name, "folder", {"path": folder}, None, description, tags, owner, as_json)


@add.command("s3")
@click.argument("name")
@click.option("--bucket", required=True, help="The bucket.")
@click.option("--prefix", default="", help="Only objects under this prefix.")
@click.option("--endpoint", default=None, metavar="URL", help="Not AWS: the S3 endpoint URL.")
@click.option("--region", default=None, help="The bucket's region (default: us-east-1).")
@_common
def add_s3(
    name: str, bucket: str, prefix: str, endpoint: str | None, region: str | None,
    description: str, tags: tuple[str, ...], owner: str | None, as_json: bool,
) -> None:  # fmt: skip
    """Register S3 bucket B (or a prefix of it) as source NAME. Its keys come from
    AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN when set), else from a
    hidden prompt; the platform keeps them encrypted and never shows them again."""
    credentials = {
        "access_key_id": _secret("AWS_ACCESS_KEY_ID", "AWS access key ID"),
        "secret_access_key": _secret("AWS_SECRET_ACCESS_KEY", "AWS secret access key"),
    }
    if os.environ.get("AWS_SESSION_TOKEN"):
        credentials["session_token"] = os.environ["AWS_SESSION_TOKEN"]
    config = {"bucket": bucket, "prefix": prefix}
    config.update({"endpoint_url": endpoint} if endpoint else {})
    config.update({"region": region} if region else {})
    _register(name, "s3", config, credentials, description, tags, owner, as_json)


@add.command("postgres")
@click.argument("name")
@click.option("--dsn", required=True,
              help="host=H port=P dbname=D user=U [sslmode=M], or postgresql://U@H:P/D;"
                   " without a password.")  # fmt: skip
@_common
def add_postgres(name: str, dsn: str, description: str, tags: tuple[str, ...],
                 owner: str | None, as_json: bool) -> None:  # fmt: skip
    """Register a PostgreSQL database as source NAME. Its password comes from PGPASSWORD, else
    from a hidden prompt; a DSN that holds one is refused. Give it a read-only role."""
    config = _dsn_config(dsn)
    credentials = {"password": _secret("PGPASSWORD", f"Password of {config['user']}")}
    _register(name, "postgres", config, credentials, description, tags, owner, as_json)


@sources.command("list")
@json_option
def sources_list(as_json: bool) -> None:
    """All sources (every user sees the catalog) and your access to each."""
    listing = call("GET", "sources")
    if as_json:
        echo_json(listing)
        return
    if not listing["sources"]:
        click.echo("No sources yet: register one with `labworks sources add`.")
        return
    _rows(("NAME", "KIND", "OWNER", "ACCESS", "TAGS", "DESCRIPTION"),
          [(s["name"], s["kind"], s["owner"], s["access"], ",".join(s["tags"]) or "-",
            s["description"] or "-") for s in listing["sources"]])  # fmt: skip


@sources.command("ls")
@click.argument("name")
@click.argument("prefix", default="")
@json_option
def sources_ls(name: str, prefix: str, as_json: bool) -> None:
    """List one level of source NAME under PREFIX: files and folders, or a database's schemas
    and a schema's tables (with the planner's row estimate)."""
    found = call("GET", _path(name, "list"), params={"prefix": prefix})
    if as_json:
        echo_json(found)
        return
    if not found["entries"]:
        click.echo(f"Nothing in {name}/{prefix}.")
        return
    rows = []
    for e in found["entries"]:
        when = f"~{e['rows']} rows" if e["rows"] is not None else time_text(e["modified"])
        rows.append((e["kind"], size_text(e["size"]), when, e["path"]))
    _rows(("KIND", "SIZE", "MODIFIED/ROWS", "PATH"), rows)
    if found["truncated"]:
        click.echo(f"(the first {len(rows)} entries only: give a longer PREFIX)")


@sources.command("preview")
@click.argument("name")
@click.argument("path")
@click.option("--limit", type=click.IntRange(1, 500), default=None, help="Rows (default 50).")
@json_option
def sources_preview(name: str, path: str, limit: int | None, as_json: bool) -> None:
    """Preview PATH of source NAME (a file, or a table as SCHEMA.TABLE): the columns and first
    rows of a table, CSV, Parquet or JSON lines file, the start of a text, an image's size."""
    params: dict[str, Any] = {"path": path, **({"limit": limit} if limit else {})}
    found = call("GET", _path(name, "preview"), params=params)
    if as_json:
        echo_json(found)
        return
    kind, where = found["format"], f"{name}/{found['path']}"
    if kind == "image":
        click.echo(f"{where}: an image, {size_text(found['size'])} (see it in the Data panel)")
    elif kind == "text":
        text = found["text"] or ""
        click.echo(text, nl=not text.endswith("\n"))
        if found["truncated"]:
            click.echo("(the start only)")
    elif kind == "binary":
        click.echo(f"{where}: binary, {size_text(found['size'])}; no preview")
    else:
        count = found["row_count"]
        total = "row count unknown" if count is None else f"{count} rows"
        click.echo(f"{where}: {kind}, {len(found['columns'])} columns, {total}"
                   f" (the first {len(found['rows'])} below)")  # fmt: skip
        _rows([f"{c['name']} ({c['type']})" for c in found["columns"]], found["rows"])


def _principal(user: str | None, group: str | None) -> str:
    if (user is None) == (group is None):
        raise click.UsageError("give USER or --group GROUP")
    return f"user:{user}" if user is not None else f"group:{group}"


@sources.command("grant")
@click.argument("name")
@click.argument("user", required=False)
@click.option("--group", default=None, help="Grant the members of GROUP instead.")
@click.option("--write", is_flag=True, help="Also let them write objects (default: read).")
def sources_grant(name: str, user: str | None, group: str | None, write: bool) -> None:
    """Let USER (or the members of --group GROUP) read source NAME, or read and write it.
    Answers their pending access requests. Owner and administrators."""
    body = {"principal": _principal(user, group), "access": "write" if write else "read"}
    granted = call("PUT", _path(name, "grants"), json=body)
    click.echo(f"Granted {granted['access']} on {name} to {granted['principal']}.")


@sources.command("revoke")
@click.argument("name")
@click.argument("user", required=False)
@click.option("--group", default=None, help="Revoke the grant of GROUP instead.")
def sources_revoke(name: str, user: str | None, group: str | None) -> None:
    """Remove the grant of USER (or of --group GROUP) on source NAME."""
    principal = _principal(user, group)
    call("DELETE", _path(name, "grants", quote(principal, safe="")))
    click.echo(f"Revoked the grant of {principal} on {name}.")


@sources.command("grants")
@click.argument("name")
@json_option
def sources_grants(name: str, as_json: bool) -> None:
    """Who is granted source NAME (owner and administrators)."""
    found = call("GET", _path(name, "grants"))
    if as_json:
        echo_json(found)
        return
    if not found["grants"]:
        click.echo(f"No grants on {name}: only its owner and administrators read it.")
        return
    _rows(("PRINCIPAL", "ACCESS", "BY", "WHEN"),
          [(g["principal"], g["access"], g["granted_by"], time_text(g["granted_at"]))
           for g in found["grants"]])  # fmt: skip


@sources.command("request")
@click.argument("name")
@click.option("--reason", default="", help="Why you need it: the owner reads this.")
@click.option("--write", is_flag=True, help="Ask to write too (default: read).")
def sources_request(name: str, reason: str, write: bool) -> None:
    """Ask the owner of source NAME for access; they are notified and grant it with
    `labworks sources grant`."""
    body = {"reason": reason, "access": "write" if write else "read"}
    asked = call("POST", _path(name, "requests"), json=body)
    click.echo(f"Asked for {asked['access']} access to {asked['source']} (request {asked['id']},"
               f" {asked['status']}): its owner is notified.")  # fmt: skip


@sources.command("requests")
@json_option
def sources_requests(as_json: bool) -> None:
    """Access requests on the sources you manage (pending first) and your own."""
    found = call("GET", "sources/requests")
    if as_json:
        echo_json(found)
        return
    if not found["requests"]:
        click.echo("No access requests.")
        return
    _rows(("ID", "SOURCE", "USER", "ACCESS", "STATUS", "WHEN", "REASON"),
          [(r["id"], r["source"], r["user"], r["access"], r["status"], time_text(r["created_at"]),
            r["reason"] or "-") for r in found["requests"]])  # fmt: skip


@sources.command("audit")
@click.argument("name")
@click.option("--since", type=click.DateTime(), default=None, help="Only entries from then on.")
@click.option("--csv", "as_csv", is_flag=True, help="Print the entries as CSV.")
@json_option
def sources_audit(name: str, since: datetime | None, as_csv: bool, as_json: bool) -> None:
    """Who read source NAME, what, how many bytes or rows, when and from where, refusals
    included; then totals per user and per object (owner and administrators)."""
    params = {"since": since.isoformat()} if since else {}
    found = call("GET", _path(name, "audit"), params=params)
    if as_csv:
        click.echo(report_csv(found), nl=False)
        return
    if as_json:
        echo_json(found)
        return
    if not found["entries"]:
        click.echo(f"No access to {name} recorded" + (" since then." if since else " yet."))
        return
    _rows(("WHEN", "USER", "ACTION", "OBJECT", "BYTES", "ROWS", "ALLOWED", "ORIGIN"),
          [(time_text(e["at"]), e["user"], e["action"], e["object"] or "-", size_text(e["bytes"]),
            e["rows"] if e["rows"] is not None else "-",
            "yes" if e["allowed"] else f"no: {e['reason']}", e["origin"] or "-")
           for e in found["entries"]])  # fmt: skip
    click.echo("\nBy user:")
    _rows(("USER", "READS", "BYTES", "ROWS", "REFUSED"),
          [(u["user"], u["reads"], size_text(u["bytes"]), u["rows"], u["refused"])
           for u in found["by_user"]])  # fmt: skip
    click.echo("\nBy object:")
    _rows(
        ("OBJECT", "READS", "BYTES", "ROWS"),
        [(o["object"], o["reads"], size_text(o["bytes"]), o["rows"]) for o in found["by_object"]],
    )


@sources.command("remove")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def sources_remove(name: str, yes: bool) -> None:
    """Remove source NAME with its grants, requests and credentials (owner and administrators).
    The data itself is not touched."""
    if not yes:
        click.confirm(f"Remove source {name}, its grants and its credentials?", abort=True)
    call("DELETE", _path(name))
    click.echo(f"Removed source {name}.")
