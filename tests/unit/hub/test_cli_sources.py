"""`labworks sources ...` and `labworks datasets snapshot`: the real click commands against a
stand-in of the platform's source routes on loopback, speaking the wire contract. Each test
asserts what the command sent (method, path, query, JSON body) and what it printed; credentials
come from the environment or a hidden prompt, never from options or a DSN."""

from __future__ import annotations

import importlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner, Result
from pydantic import ValidationError

from labworks_hub.cli import cli
from labworks_hub.service.sources import models

sources = importlib.import_module("labworks_hub.cli.sources")  # the module, not the group

API = "/services/labworks/api/v1/"
TOKEN = "ana-token"
NOW = "2026-12-05T21:40:00+00:00"


@dataclass
class Seen:
    method: str
    path: str  # below the API root, as sent (still percent-encoded)
    query: dict[str, list[str]]
    body: object
    authorization: str | None


@dataclass
class Platform:
    """The answers the stand-in gives, by (method, path), and the requests it got."""

    answers: dict[tuple[str, str], tuple[int, object]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)

    def answer(self, method: str, path: str, status: int = 200, body: object = None) -> None:
        self.answers[(method, path)] = (status, body)

    def sent(self) -> list[Seen]:
        """The requests, less the SDK's `GET me` (who am I)."""
        return [s for s in self.seen if s.path != "me"]


def check(method: str, path: str, body: object) -> None:
    """Validate a request body with the platform's own wire types (pydantic.ValidationError)."""
    parts = path.split("/")
    if (method, path) == ("POST", "sources"):
        create = models.SourceCreate.model_validate(body)
        models.CONFIGS[create.kind].model_validate(create.config)
        credentials = models.CREDENTIALS[create.kind]
        assert (credentials is None) == (create.credentials is None)
        if credentials is not None:
            credentials.model_validate(create.credentials)
    elif method == "PUT" and parts[::2] == ["sources", "grants"]:
        models.GrantRequest.model_validate(body)
    elif method == "POST" and parts[::2] == ["sources", "requests"]:
        models.AccessRequestCreate.model_validate(body)
    elif method == "POST" and parts[0] == "datasets" and parts[-1] == "snapshot":
        models.SnapshotRequest.model_validate(body)


class SourceApi(BaseHTTPRequestHandler):
    """The routes of the contract: each body checked as the platform checks it, then the answer
    the test set."""

    platform: Platform

    def _route(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        path = url.path.removeprefix(API)
        self.platform.seen.append(Seen(
            self.command, path, parse_qs(url.query, keep_blank_values=True),
            json.loads(raw) if raw else None, self.headers.get("Authorization"),
        ))  # fmt: skip
        if path == "me":
            return self._reply(200, {"name": "ana", "groups": ["ml"], "admin": False})
        try:
            check(self.command, path, self.platform.seen[-1].body)
        except (ValidationError, AssertionError) as e:
            return self._reply(422, {"error": "invalid", "message": str(e)})
        status, body = self.platform.answers.get(
            (self.command, path), (404, {"error": "not_found", "message": f"no route {path}"})
        )
        return self._reply(status, body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _route

    def _reply(self, status: int, body: object) -> None:
        if isinstance(body, str):  # the audit's CSV
            payload, kind = body.encode(), "text/csv; charset=utf-8"
        else:
            payload, kind = (b"" if body is None else json.dumps(body).encode()), "application/json"
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), SourceApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def platform(server: str, monkeypatch: pytest.MonkeyPatch) -> Platform:
    """The stand-in with no answers yet, and the environment of a user outside a workspace."""
    SourceApi.platform = found = Platform()
    monkeypatch.setenv("LABWORKS_URL", server)
    monkeypatch.setenv("LABWORKS_TOKEN", TOKEN)
    for name in ("LABWORKS_API_URL", "JUPYTERHUB_API_TOKEN", "AWS_ACCESS_KEY_ID",
                 "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "PGPASSWORD"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    return found


def run(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=input)


def source(name: str, kind: str, config: dict, **more: object) -> dict:
    """A SourceModel as the platform answers it."""
    return {
        "name": name, "kind": kind, "owner": "ana", "description": "", "tags": [],
        "config": config, "has_credentials": kind != "folder", "access": "owner",
        "created_at": NOW, "updated_at": NOW, **more,
    }  # fmt: skip


S3_CONFIG = {"bucket": "lake", "prefix": "raw/", "endpoint_url": "http://s3.lab:8333",
             "region": "us-east-1"}  # fmt: skip
PG_CONFIG = {"host": "db.lab", "port": 5433, "dbname": "sales", "user": "reader",
             "sslmode": "require"}  # fmt: skip


# --- add --------------------------------------------------------------------------------


def test_add_s3_sends_the_keys_of_the_environment_in_the_body(platform, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIA-ENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s3cr3t-env")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "session-env")
    platform.answer("POST", "sources", 201, source("raw", "s3", S3_CONFIG))

    result = run("sources", "add", "s3", "raw", "--bucket", "lake", "--prefix", "raw/",
                 "--endpoint", "http://s3.lab:8333", "--region", "us-east-1",
                 "--description", "raw events", "--tag", "events", "--tag", "pii")  # fmt: skip

    assert result.exit_code == 0, result.output
    (sent,) = platform.sent()
    assert (sent.method, sent.path, sent.authorization) == ("POST", "sources", f"token {TOKEN}")
    assert sent.body == {
        "name": "raw", "kind": "s3", "description": "raw events", "tags": ["events", "pii"],
        "config": S3_CONFIG,
        "credentials": {"access_key_id": "AKIA-ENV", "secret_access_key": "s3cr3t-env",
                        "session_token": "session-env"},
    }  # fmt: skip
    assert result.output == (
        "Registered s3 source raw (owner ana): s3://lake/raw/ at http://s3.lab:8333\n"
    )


@pytest.mark.parametrize(
    "option",
    ["--access-key-id", "--secret-access-key", "--aws-secret-access-key", "--key", "--secret",
     "--password"],
)  # fmt: skip
def test_keys_are_never_accepted_as_options(platform, option):
    result = run("sources", "add", "s3", "raw", "--bucket", "lake", option, "s3cr3t")

    assert result.exit_code == 2
    assert f"No such option '{option}'" in result.output
    assert platform.seen == []


def test_add_s3_without_keys_and_without_a_terminal_says_what_to_set(platform):
    result = run("sources", "add", "s3", "raw", "--bucket", "lake")

    assert result.exit_code == 1
    assert "Error: set AWS_ACCESS_KEY_ID (credentials are never taken as options)" in result.output
    assert platform.seen == []


def test_add_s3_asks_for_missing_keys_with_a_hidden_prompt(platform, monkeypatch):
    monkeypatch.setattr(sources, "_interactive", lambda: True)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIA-ENV")
    platform.answer("POST", "sources", 201, source("raw", "s3", S3_CONFIG))

    result = run("sources", "add", "s3", "raw", "--bucket", "lake", input="typed-s3cr3t\n")

    assert result.exit_code == 0, result.output
    assert "AWS secret access key: " in result.output
    assert "typed-s3cr3t" not in result.output  # hidden: not echoed
    (sent,) = platform.sent()
    assert sent.body["credentials"] == {"access_key_id": "AKIA-ENV",
                                        "secret_access_key": "typed-s3cr3t"}  # fmt: skip
    assert sent.body["config"] == {"bucket": "lake", "prefix": ""}


@pytest.mark.parametrize(
    "dsn",
    ["postgresql://reader:hunter2@db.lab/sales", "host=db.lab dbname=sales user=reader "
     "password=hunter2", "postgres://reader@db.lab/sales?password=hunter2"],
)  # fmt: skip
def test_a_dsn_with_a_password_is_refused(platform, monkeypatch, dsn):
    monkeypatch.setenv("PGPASSWORD", "from-env")

    result = run("sources", "add", "postgres", "warehouse", "--dsn", dsn)

    assert result.exit_code == 2
    assert "holds a password" in result.output and "PGPASSWORD" in result.output
    assert "hunter2" not in result.output
    assert platform.seen == []


def test_a_dsn_that_does_not_parse_is_not_repeated(platform):
    result = run("sources", "add", "postgres", "w", "--dsn", "postgresql://u:hunter2@[db/sales")

    assert result.exit_code == 2
    assert "not a libpq connection string" in result.output
    assert "hunter2" not in result.output
    assert platform.seen == []


@pytest.mark.parametrize(
    "dsn",
    ["postgresql://reader@db.lab:5433/sales?sslmode=require",
     "host=db.lab port=5433 dbname=sales user=reader sslmode=require"],
)  # fmt: skip
def test_add_postgres_sends_the_dsn_as_config_and_pgpassword(platform, monkeypatch, dsn):
    monkeypatch.setenv("PGPASSWORD", "pg-env-pw")
    platform.answer("POST", "sources", 201, source("warehouse", "postgres", PG_CONFIG))

    result = run("sources", "add", "postgres", "warehouse", "--dsn", dsn, "--owner", "bob")

    assert result.exit_code == 0, result.output
    (sent,) = platform.sent()
    assert sent.body == {"name": "warehouse", "kind": "postgres", "description": "", "tags": [],
                         "config": PG_CONFIG, "credentials": {"password": "pg-env-pw"},
                         "owner": "bob"}  # fmt: skip
    assert "pg-env-pw" not in result.output
    assert result.output == (
        "Registered postgres source warehouse (owner ana): postgresql://reader@db.lab:5433/sales\n"
    )


def test_add_postgres_defaults_port_and_sslmode_and_prompts_for_the_password(platform, monkeypatch):
    monkeypatch.setattr(sources, "_interactive", lambda: True)
    platform.answer("POST", "sources", 201, source("warehouse", "postgres", PG_CONFIG))

    result = run("sources", "add", "postgres", "warehouse", "--dsn",
                 "postgresql://reader@db.lab/sales", input="typed-pw\n")  # fmt: skip

    assert result.exit_code == 0, result.output
    assert "Password of reader: " in result.output and "typed-pw" not in result.output
    (sent,) = platform.sent()
    assert sent.body["config"] == {"host": "db.lab", "port": 5432, "dbname": "sales",
                                   "user": "reader", "sslmode": "prefer"}  # fmt: skip
    assert sent.body["credentials"] == {"password": "typed-pw"}


def test_add_postgres_without_a_password_and_terminal_fails(platform):
    result = run("sources", "add", "postgres", "w", "--dsn", "host=h dbname=d user=u")

    assert result.exit_code == 1
    assert "Error: set PGPASSWORD" in result.output
    assert platform.seen == []


def test_add_folder_and_the_platforms_refusal(platform):
    refusal = {"error": "invalid", "message": "cannot list /srv/none: no such folder"}
    platform.answer("POST", "sources", 400, refusal)

    result = run("sources", "add", "folder", "shared", "--path", "/srv/none")

    assert result.exit_code == 1
    assert result.output == (
        "Error: POST sources failed (400): cannot list /srv/none: no such folder\n"
    )
    (sent,) = platform.sent()
    assert sent.body == {"name": "shared", "kind": "folder", "description": "", "tags": [],
                         "config": {"path": "/srv/none"}}  # fmt: skip


# --- reading ----------------------------------------------------------------------------


def test_list_prints_the_catalog_and_json_the_answer(platform):
    listing = {"sources": [
        source("raw", "s3", S3_CONFIG, tags=["events"], description="raw events"),
        source("warehouse", "postgres", {}, owner="bob", access="none"),
    ]}  # fmt: skip
    platform.answer("GET", "sources", 200, listing)

    result = run("sources", "list")

    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "NAME\tKIND\tOWNER\tACCESS\tTAGS\tDESCRIPTION",
        "raw\ts3\tana\towner\tevents\traw events",
        "warehouse\tpostgres\tbob\tnone\t-\t-",
    ]
    assert json.loads(run("sources", "list", "--json").output) == listing


def test_ls_prints_kind_size_modified_or_rows_and_path(platform):
    platform.answer("GET", "sources/raw/list", 200, {"entries": [
        {"path": "2026/", "kind": "dir", "size": None, "modified": None, "rows": None},
        {"path": "2026/events.csv", "kind": "file", "size": 12_345_678,
         "modified": "2026-12-01T08:30:00+00:00", "rows": None},
        {"path": "sales.orders", "kind": "table", "size": None, "modified": None, "rows": 4200},
    ], "truncated": True})  # fmt: skip

    result = run("sources", "ls", "raw", "2026/")

    assert result.exit_code == 0, result.output
    (sent,) = platform.sent()
    assert (sent.method, sent.path, sent.query) == ("GET", "sources/raw/list",
                                                    {"prefix": ["2026/"]})  # fmt: skip
    assert result.output.splitlines() == [
        "KIND\tSIZE\tMODIFIED/ROWS\tPATH",
        "dir\t-\t-\t2026/",
        "file\t12.3 MB\t2026-12-01 08:30\t2026/events.csv",
        "table\t-\t~4200 rows\tsales.orders",
        "(the first 3 entries only: give a longer PREFIX)",
    ]


def test_preview_of_a_table_prints_columns_rows_and_count(platform):
    platform.answer("GET", "sources/warehouse/preview", 200, {
        "path": "sales.orders", "format": "table",
        "columns": [{"name": "id", "type": "int4"}, {"name": "note", "type": "text"}],
        "rows": [[1, "first\torder"], [2, None]], "row_count": 4200, "truncated": True,
        "text": None, "image": None, "size": None,
    })  # fmt: skip

    result = run("sources", "preview", "warehouse", "sales.orders", "--limit", "2")

    assert result.exit_code == 0, result.output
    (sent,) = platform.sent()
    assert sent.query == {"path": ["sales.orders"], "limit": ["2"]}
    assert result.output.splitlines() == [
        "warehouse/sales.orders: table, 2 columns, 4200 rows (the first 2 below)",
        "id (int4)\tnote (text)",
        "1\tfirst\\torder",
        "2\t",
    ]


def test_preview_of_an_image_and_a_text_and_json(platform):
    image = {"path": "cat.png", "format": "image", "columns": [], "rows": [], "row_count": None,
             "truncated": False, "text": None, "image": "data:image/png;base64,iVBORw0KGgo=",
             "size": 48_213}  # fmt: skip
    platform.answer("GET", "sources/raw/preview", 200, image)
    assert run("sources", "preview", "raw", "cat.png").output == (
        "raw/cat.png: an image, 48.2 KB (see it in the Data panel)\n"
    )
    assert json.loads(run("sources", "preview", "raw", "cat.png", "--json").output) == image

    text = {**image, "format": "text", "image": None, "text": "hello\nworld\n", "size": 12}
    platform.answer("GET", "sources/raw/preview", 200, text)
    assert run("sources", "preview", "raw", "notes.txt").output == "hello\nworld\n"
    assert platform.sent()[-1].query == {"path": ["notes.txt"]}


# --- grants and requests ------------------------------------------------------------------


def test_grant_and_revoke_a_user_and_a_group(platform):
    grant = {"principal": "group:ml", "access": "write", "granted_by": "ana", "granted_at": NOW}
    platform.answer("PUT", "sources/raw/grants", 200, grant)
    platform.answer("DELETE", "sources/raw/grants/user%3Abob", 204)

    granted = run("sources", "grant", "raw", "--group", "ml", "--write")
    run("sources", "grant", "raw", "bob")
    revoked = run("sources", "revoke", "raw", "bob")

    assert granted.output == "Granted write on raw to group:ml.\n"
    assert revoked.exit_code == 0, revoked.output
    assert revoked.output == "Revoked the grant of user:bob on raw.\n"
    assert [(s.method, s.path, s.body) for s in platform.sent()] == [
        ("PUT", "sources/raw/grants", {"principal": "group:ml", "access": "write"}),
        ("PUT", "sources/raw/grants", {"principal": "user:bob", "access": "read"}),
        ("DELETE", "sources/raw/grants/user%3Abob", None),
    ]


@pytest.mark.parametrize("args", [("raw",), ("raw", "bob", "--group", "ml")])
def test_grant_takes_a_user_or_a_group(platform, args):
    result = run("sources", "grant", *args)

    assert result.exit_code == 2
    assert "give USER or --group GROUP" in result.output
    assert platform.seen == []


def test_request_access_and_list_requests(platform):
    asked = {"id": 7, "source": "warehouse", "user": "ana", "access": "write",
             "reason": "churn model", "status": "pending", "created_at": NOW}  # fmt: skip
    platform.answer("POST", "sources/warehouse/requests", 201, asked)
    platform.answer("GET", "sources/requests", 200, {"requests": [asked]})

    result = run("sources", "request", "warehouse", "--reason", "churn model", "--write")

    assert result.output == (
        "Asked for write access to warehouse (request 7, pending): its owner is notified.\n"
    )
    assert platform.sent()[0].body == {"reason": "churn model", "access": "write"}
    assert run("sources", "requests").output.splitlines() == [
        "ID\tSOURCE\tUSER\tACCESS\tSTATUS\tWHEN\tREASON",
        "7\twarehouse\tana\twrite\tpending\t2026-12-05 21:40\tchurn model",
    ]


# --- audit ------------------------------------------------------------------------------

AUDIT = {
    "entries": [
        {"at": NOW, "user": "bob", "action": "read", "object": "x.csv", "bytes": 2048,
         "rows": None, "allowed": True, "reason": None, "origin": "workspace:bob/"},
        {"at": NOW, "user": "cal", "action": "query", "object": "sales.orders", "bytes": None,
         "rows": None, "allowed": False, "reason": "no grant", "origin": "job:4f2a"},
    ],
    "by_user": [{"user": "bob", "reads": 1, "bytes": 2048, "rows": 0, "refused": 0},
                {"user": "cal", "reads": 0, "bytes": 0, "rows": 0, "refused": 1}],
    "by_object": [{"object": "x.csv", "reads": 1, "bytes": 2048, "rows": 0}],
}  # fmt: skip


def test_audit_prints_entries_and_totals_by_user_and_object(platform):
    platform.answer("GET", "sources/raw/audit", 200, AUDIT)

    result = run("sources", "audit", "raw", "--since", "2026-12-01")

    assert result.exit_code == 0, result.output
    assert platform.sent()[0].query == {"since": ["2026-12-01T00:00:00"]}
    assert result.output.splitlines() == [
        "WHEN\tUSER\tACTION\tOBJECT\tBYTES\tROWS\tALLOWED\tORIGIN",
        "2026-12-05 21:40\tbob\tread\tx.csv\t2.0 KB\t-\tyes\tworkspace:bob/",
        "2026-12-05 21:40\tcal\tquery\tsales.orders\t-\t-\tno: no grant\tjob:4f2a",
        "",
        "By user:",
        "USER\tREADS\tBYTES\tROWS\tREFUSED",
        "bob\t1\t2.0 KB\t0\t0",
        "cal\t0\t0 B\t0\t1",
        "",
        "By object:",
        "OBJECT\tREADS\tBYTES\tROWS",
        "x.csv\t1\t2.0 KB\t0",
    ]


def test_audit_csv_is_the_csv_the_platform_writes(platform):
    """`--csv` writes the entries with the platform's own CSV writer (service/sources/audit.py),
    as `labworks cost report --csv` does: a header row, one row per entry."""
    platform.answer("GET", "sources/raw/audit", 200, AUDIT)

    result = run("sources", "audit", "raw", "--csv")

    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "at,user,action,object,bytes,rows,allowed,reason,origin",
        f"{NOW},bob,read,x.csv,2048,,True,,workspace:bob/",
        f"{NOW},cal,query,sales.orders,,,False,no grant,job:4f2a",
    ]
    (sent,) = platform.sent()
    assert (sent.query, sent.authorization) == ({}, f"token {TOKEN}")


NO_READ = (
    "you have no access to source 'raw'; its owner is bob. Ask for read access: labworks sources"
    " request raw (or Request access in the Data panel)"
)
NOT_OWNER = "only the owner of source 'raw' (bob) or an administrator can do this"


@pytest.mark.parametrize(
    ("args", "path", "message"),
    [
        (["preview", "raw", "x.csv"], "sources/raw/preview", NO_READ),
        (["audit", "raw"], "sources/raw/audit", NOT_OWNER),
        (["audit", "raw", "--csv"], "sources/raw/audit", NOT_OWNER),
    ],
)
def test_a_403_prints_the_platforms_message_and_fails(platform, args, path, message):
    platform.answer("GET", path, 403, {"error": "forbidden", "message": message})

    result = run("sources", *args)

    assert result.exit_code == 1
    assert result.output == f"Error: GET {path} failed (403): {message}\n"


def test_remove_asks_first(platform):
    platform.answer("DELETE", "sources/raw", 204)

    kept = run("sources", "remove", "raw", input="n\n")
    removed = run("sources", "remove", "raw", "--yes")

    assert kept.exit_code == 1 and "Aborted!" in kept.output
    assert removed.output == "Removed source raw.\n"
    assert [(s.method, s.path) for s in platform.sent()] == [("DELETE", "sources/raw")]


# --- datasets snapshot --------------------------------------------------------------------

VERSION = {"ref": "ana/events", "number": 3, "digest": "sha256:" + "ab" * 32, "size": 2_500_000,
           "file_count": 2, "message": "december", "created_by": "ana", "created_at": NOW,
           "files": []}  # fmt: skip


@pytest.mark.parametrize(
    ("args", "body"),
    [
        (["raw/2026/12/"], {"source": "raw", "prefix": "2026/12/"}),
        (["raw"], {"source": "raw", "prefix": ""}),
        (["warehouse", "--table", "sales.orders", "--limit", "500"],
         {"source": "warehouse", "table": "sales.orders", "limit": 500}),
        (["warehouse", "--sql", "select 1"], {"source": "warehouse", "sql": "select 1"}),
    ],
)  # fmt: skip
def test_snapshot_posts_the_source_and_prints_the_version(platform, args, body):
    platform.answer("POST", "datasets/ana/events/snapshot", 201, VERSION)

    result = run("datasets", "snapshot", "events", *args, "-m", "december")

    assert result.exit_code == 0, result.output
    (sent,) = platform.sent()
    assert (sent.method, sent.path) == ("POST", "datasets/ana/events/snapshot")
    assert sent.body == {**body, "message": "december"}
    assert result.output == f"ana/events version 3: 2 files, 2.5 MB, {VERSION['digest']}\n"


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["w", "--table", "a.b", "--sql", "select 1"], "give --table or --sql, not both"),
        (["raw/x/", "--limit", "5"], "--limit goes with --table or --sql"),
        (["w/sales", "--table", "a.b"], "takes SOURCE alone"),
    ],
)
def test_snapshot_usage_errors(platform, args, error):
    result = run("datasets", "snapshot", "events", *args)

    assert result.exit_code == 2
    assert error in result.output
    assert platform.sent() == []
