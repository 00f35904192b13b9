"""The sources API in-process (real app, real SQLite store, real folder sources on disk), with
the hub's token check answered by a small stand-in for JupyterHub's REST API: the catalog,
grants and requests, refusals that name the owner, reads with Range, previews, writes, the
audit (refusals included), snapshots into datasets, and credentials that never come back."""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from fastapi.testclient import TestClient

from labworks_hub.service.app import create_app
from labworks_hub.service.settings import ServiceSettings
from tests.fake_hub import ACCESS, SERVICE_TOKEN, Owner, fake_hub_api

API = "/services/labworks/api/v1"
USERS = [
    Owner("adm", admin=True),
    Owner("ana", groups=("data-owners",)),
    Owner("ben", groups=("ml",)),
    Owner("cal"),
]
CSV = "x,y\n" + "".join(f"{i},{i * i}\n" for i in range(200))


@pytest.fixture(scope="module")
def hub_api() -> Iterator[str]:
    """A user's token is `<name>-token`."""
    with fake_hub_api({f"{u.name}-token": u for u in USERS}) as url:
        yield url


@pytest.fixture(autouse=True)
def service_scopes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTERHUB_OAUTH_ACCESS_SCOPES", json.dumps([ACCESS]))


@pytest.fixture
def data(tmp_path) -> Path:
    """A folder source's content: a CSV, a nested file, and a link out of it."""
    root = tmp_path / "data"
    (root / "raw").mkdir(parents=True)
    (root / "raw" / "points.csv").write_text(CSV)
    (root / "raw" / "notes.txt").write_text("hello\n")
    (root / "escape").symlink_to("/etc")
    return root


@pytest.fixture
def client(tmp_path, hub_api) -> Iterator[TestClient]:
    settings = ServiceSettings.from_env({
        "LABWORKS_DB_URL": f"sqlite:///{tmp_path / 'store.sqlite'}",
        "LABWORKS_STATE_DIR": str(tmp_path / "state"),
        "JUPYTERHUB_SERVICE_PREFIX": "/services/labworks/",
        "JUPYTERHUB_API_URL": hub_api,
        "JUPYTERHUB_API_TOKEN": SERVICE_TOKEN,
        "LABWORKS_JOBS_CONFIG": json.dumps({
            "LocalExecutor": {"isolation": "off"},
            "WebhookNotifier": {"allow_private_addresses": True},  # the loopback receiver
        }),
    })  # fmt: skip
    with TestClient(create_app(settings)) as c:
        yield c


def call(client: TestClient, user: str, method: str, path: str, **kwargs):
    headers = {"Authorization": f"token {user}-token", **kwargs.pop("headers", {})}
    return client.request(method, API + path, headers=headers, **kwargs)


def ok(reply, status: int = 200) -> dict:
    assert reply.status_code == status, reply.text
    return reply.json() if reply.content and "json" in reply.headers["content-type"] else {}


@pytest.fixture
def raw(client, data) -> str:
    """`raw`: a folder source of ana's (the admin registers it for her), read-granted to ml."""
    body = {"name": "raw", "kind": "folder", "owner": "ana", "description": "Raw drops",
            "tags": ["csv"], "config": {"path": str(data)}}  # fmt: skip
    made = ok(call(client, "adm", "POST", "/sources", json=body), 201)
    assert made["owner"] == "ana" and made["access"] == "owner"
    ok(call(client, "ana", "PUT", "/sources/raw/grants",
            json={"principal": "group:ml", "access": "read"}))  # fmt: skip
    return "raw"


def audit(client: TestClient, name: str = "raw") -> list[dict]:
    return ok(call(client, "ana", "GET", f"/sources/{name}/audit"))["entries"]


def test_the_catalog_is_seen_by_all_and_read_by_grantees_only(client, raw, data):
    listed = {s["name"]: s for s in ok(call(client, "cal", "GET", "/sources"))["sources"]}
    assert listed["raw"]["access"] == "none" and listed["raw"]["owner"] == "ana"
    assert listed["raw"]["config"] == {}  # where a folder is: its owner's and admins' business
    mine = ok(call(client, "ana", "GET", "/sources/raw"))
    assert mine["config"] == {"path": str(data)} and mine["access"] == "owner"
    assert ok(call(client, "ben", "GET", "/sources/raw"))["access"] == "read"

    entries = ok(call(client, "ben", "GET", "/sources/raw/list", params={"prefix": "raw"}))
    assert {(e["path"], e["kind"]) for e in entries["entries"]} == {
        ("raw/points.csv", "file"), ("raw/notes.txt", "file"),
    }  # fmt: skip
    refused = call(client, "cal", "GET", "/sources/raw/list")
    assert refused.status_code == 403
    message = refused.json()["message"]
    assert "raw" in message and "its owner is ana" in message
    assert "labworks sources request raw" in message
    assert call(client, "cal", "GET", "/sources/nope/list").status_code == 404

    rows = audit(client)
    assert [(r["user"], r["action"], r["allowed"]) for r in rows[:2]] == [
        ("cal", "list", False), ("ben", "list", True),
    ]  # fmt: skip
    assert "its owner is ana" in rows[0]["reason"]


def test_objects_stream_with_ranges_and_the_audit_counts_the_bytes(client, raw):
    whole = call(client, "ben", "GET", "/sources/raw/objects/raw/points.csv",
                 headers={"X-Labworks-Origin": "job:abc123"})  # fmt: skip
    assert whole.status_code == 200 and whole.text == CSV
    part = call(client, "ben", "GET", "/sources/raw/objects/raw/points.csv",
                headers={"Range": "bytes=4-9"})  # fmt: skip
    assert part.status_code == 206 and part.content == CSV.encode()[4:10]
    assert part.headers["content-range"] == f"bytes 4-9/{len(CSV)}"
    tail = call(client, "ben", "GET", "/sources/raw/objects/raw/points.csv",
                headers={"Range": "bytes=-5"})  # fmt: skip
    assert tail.content == CSV.encode()[-5:]
    beyond = call(client, "ben", "GET", "/sources/raw/objects/raw/points.csv",
                  headers={"Range": f"bytes={len(CSV) + 10}-"})  # fmt: skip
    assert beyond.status_code == 416

    reads = [r for r in audit(client) if r["action"] == "read"]
    assert sorted(r["bytes"] for r in reads) == [5, 6, len(CSV)]
    assert {r["origin"] for r in reads} >= {"job:abc123"}
    usage = ok(call(client, "ana", "GET", "/sources/raw/audit"))
    assert usage["by_user"][0]["user"] == "ben"
    assert usage["by_user"][0]["bytes"] == len(CSV) + 11
    assert usage["by_object"][0]["object"] == "raw/points.csv"


@pytest.mark.parametrize("path", ["../store.sqlite", "raw/../../store.sqlite", "%2e%2e/x",
                                  "escape/passwd", "/etc/passwd", "raw\\..\\x"])  # fmt: skip
def test_paths_never_leave_the_source(client, raw, path):
    reply = call(client, "ben", "GET", "/sources/raw/stat", params={"path": path})
    assert reply.status_code in (400, 404), reply.text
    got = call(client, "ben", "GET", "/sources/raw/objects/" + path.lstrip("/"))
    assert got.status_code in (400, 404) and "root:" not in got.text


def test_previews_are_bounded_and_show_rows(client, raw):
    shown = ok(call(client, "ben", "GET", "/sources/raw/preview",
                    params={"path": "raw/points.csv", "limit": 5}))  # fmt: skip
    assert shown["format"] == "csv"
    assert [c["name"] for c in shown["columns"]] == ["x", "y"]
    assert len(shown["rows"]) == 5 and shown["truncated"] is True
    text = ok(call(client, "ben", "GET", "/sources/raw/preview", params={"path": "raw/notes.txt"}))
    assert text["format"] == "text" and text["text"] == "hello\n"


def test_writes_need_a_write_grant(client, raw, data):
    body = b"a,b\n1,2\n"
    refused = call(client, "ben", "PUT", "/sources/raw/objects/out/new.csv", content=body,
                   headers={"Content-Type": "application/octet-stream"})  # fmt: skip
    assert refused.status_code == 403 and "--write" in refused.json()["message"]
    ok(call(client, "ana", "PUT", "/sources/raw/grants",
            json={"principal": "user:ben", "access": "write"}))  # fmt: skip
    written = ok(call(client, "ben", "PUT", "/sources/raw/objects/out/new.csv", content=body,
                      headers={"Content-Type": "application/octet-stream"}))  # fmt: skip
    assert written == {"path": "out/new.csv", "size": len(body)}
    assert (data / "out" / "new.csv").read_bytes() == body


class Hook(BaseHTTPRequestHandler):
    """A webhook receiver on loopback: what it was sent, in order."""

    received: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        Hook.received.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def hook() -> Iterator[str]:
    Hook.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


def test_requests_reach_the_owner_and_a_grant_answers_them(client, raw, hook):
    ok(call(client, "ana", "PUT", "/jobs/notifications", json={"webhook_url": hook}))
    asked = ok(call(client, "cal", "POST", "/sources/raw/requests",
                    json={"reason": "churn model", "access": "read"}), 201)  # fmt: skip
    assert asked["status"] == "pending"
    deadline = time.monotonic() + 20
    while not Hook.received and time.monotonic() < deadline:  # sent in the background
        time.sleep(0.05)
    [notice] = Hook.received
    assert (notice["event"], notice["source"], notice["user"]) == (
        "source.access_request", "raw", "cal",
    )  # fmt: skip
    assert "labworks sources grant raw cal" in notice["message"]
    again = call(client, "ben", "POST", "/sources/raw/requests", json={"access": "read"})
    assert again.status_code == 409  # ben reads it already
    pending = ok(call(client, "ana", "GET", "/sources/requests"))["requests"]
    assert [(r["user"], r["reason"], r["status"]) for r in pending] == [
        ("cal", "churn model", "pending"),
    ]  # fmt: skip
    assert ok(call(client, "ben", "GET", "/sources/requests"))["requests"] == []
    ok(call(client, "ana", "PUT", "/sources/raw/grants",
            json={"principal": "user:cal", "access": "read"}))  # fmt: skip
    answered = ok(call(client, "cal", "GET", "/sources/requests"))["requests"]
    assert answered[0]["status"] == "granted" and answered[0]["decided_by"] == "ana"
    ok(call(client, "cal", "GET", "/sources/raw/list"))
    assert (
        call(
            client,
            "ben",
            "PUT",
            "/sources/raw/grants",
            json={"principal": "user:ben", "access": "write"},
        ).status_code
        == 403
    )


def test_who_registers_what(client, data):
    folder = {"name": "mine", "kind": "folder", "config": {"path": str(data)}}
    refused = call(client, "ana", "POST", "/sources", json=folder)
    assert refused.status_code == 403 and "administrators" in refused.json()["message"]
    s3 = {
        "name": "lake",
        "kind": "s3",
        "config": {"bucket": "lake", "endpoint_url": "http://127.0.0.1:9/"},
        "credentials": {"access_key_id": "AKIA1", "secret_access_key": "SeCrEt-Key-1"},
    }
    assert call(client, "cal", "POST", "/sources", json=s3).status_code == 403  # not data-owners
    private = call(client, "ana", "POST", "/sources", json=s3)
    assert private.status_code == 403 and "127.0.0.1" in private.json()["message"]
    missing = call(client, "adm", "POST", "/sources", json={**folder, "config": {"path": "/nope"}})
    assert missing.status_code == 400
    assert call(client, "adm", "GET", "/sources/mine").status_code == 404  # nothing stored


def test_credentials_are_sealed_and_never_answered(client, tmp_path, data):
    """A source's secrets are in the store only as a token of the platform's key: not in any
    answer, not in the database file in clear text."""
    secret = "pg-PASSWORD-never-shown"
    body = {"name": "warehouse", "kind": "postgres",
            "config": {"host": "127.0.0.1", "port": 9, "dbname": "w", "user": "reader"},
            "credentials": {"password": secret}}  # fmt: skip
    reply = call(client, "adm", "POST", "/sources", json=body)
    assert reply.status_code == 400 and secret not in reply.text  # nothing answers on port 9
    assert "cannot use this source" in reply.json()["message"]
    from labworks_hub.service.sources.secrets import SourceSecrets, key_file

    key = key_file(str(tmp_path / "state"))
    assert oct(os.stat(tmp_path / "state" / "secrets" / "sources.key").st_mode & 0o777) == "0o600"
    sealed = SourceSecrets([key]).seal({"password": secret})
    with sqlite3.connect(tmp_path / "store.sqlite") as db:
        db.execute(
            "INSERT INTO lw_sources (name, kind, owner, description, tags, config, credentials,"
            " created_by, created_at, updated_at) VALUES ('w2', 'postgres', 'adm', '', '[]',"
            " '{}', ?, 'adm', '2026-12-05 00:00:00', '2026-12-05 00:00:00')", (sealed,),
        )  # fmt: skip
    shown = ok(call(client, "adm", "GET", "/sources/w2"))
    assert shown["has_credentials"] is True and secret not in json.dumps(shown)
    assert secret.encode() not in (tmp_path / "store.sqlite").read_bytes()
    assert SourceSecrets(["another key", key]).open(sealed) == {"password": secret}


def test_a_snapshot_is_a_dataset_version_that_stays_when_the_source_changes(client, raw, data):
    made = ok(call(client, "ben", "POST", "/datasets/ben/points/snapshot",
                   json={"source": "raw", "prefix": "raw", "message": "drop 1"}), 201)  # fmt: skip
    assert made["ref"] == "ben/points" and made["message"] == "drop 1"
    assert sorted(f["path"] for f in made["files"]) == ["notes.txt", "points.csv"]
    (data / "raw" / "points.csv").write_text("x,y\n9,9\n")
    version = ok(call(client, "ben", "GET", "/datasets/ben/points/versions/1"))
    blob = next(f for f in version["files"] if f["path"] == "points.csv")
    got = call(client, "ben", "GET", f"/datasets/ben/points/blobs/{blob['sha256']}",
               headers={"X-Labworks-Origin": "workspace:ben/"})  # fmt: skip
    assert got.text == CSV  # the snapshot, not the source as it is now
    assert call(client, "cal", "POST", "/datasets/cal/points/snapshot",
                json={"source": "raw", "prefix": "raw"}).status_code == 403  # fmt: skip
    assert call(client, "ben", "POST", "/datasets/ana/points/snapshot",
                json={"source": "raw", "prefix": "raw"}).status_code == 403  # fmt: skip
    snapshots = [r for r in audit(client) if r["action"] == "snapshot"]
    assert [(r["user"], r["allowed"]) for r in snapshots] == [("cal", False), ("ben", True)]
    read = ok(call(client, "ben", "GET", "/datasets/ben/points/audit"))["entries"]
    assert [(r["user"], r["object"], r["bytes"], r["origin"]) for r in read] == [
        ("ben", "points.csv", len(CSV), "workspace:ben/"),
    ]  # fmt: skip
    assert call(client, "ana", "GET", "/datasets/ben/points/audit").status_code == 404


def test_the_audit_is_the_owners_and_comes_as_csv(client, raw):
    ok(call(client, "ben", "GET", "/sources/raw/stat", params={"path": "raw/points.csv"}))
    assert call(client, "ben", "GET", "/sources/raw/audit").status_code == 403
    text = call(client, "adm", "GET", "/sources/raw/audit", params={"format": "csv"}).text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["user"] == "ben" and rows[0]["object"] == "raw/points.csv"
    assert rows[0]["allowed"] == "True"
