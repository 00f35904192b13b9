"""Data sources on the real platform, against a real SeaweedFS (S3) and a real PostgreSQL on
loopback: the admin registers them with the CLI for their owner (loopback endpoints are the
admin's to register), the owner grants a user, whose notebook job reads a CSV and a Parquet
object through pandas and a table through the SDK; an ungranted user's job is refused with a
403 naming the source and its owner; the owner's audit (CLI and REST) lists both. A snapshot
keeps its bytes after the source changes; traversal is refused; a database that stops
answering is a 503 in bounded time; and the sources' secrets are found in no log, response,
job environment or store file."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import socket
import subprocess
import threading
import time
import uuid
from pathlib import Path

import fsspec
import httpx
import nbformat
import pandas as pd
import psycopg
import pytest

from tests.platform import API, labworks

pytestmark = pytest.mark.e2e
ENDED = ("succeeded", "failed", "cancelled", "timed_out")
OWNER, READER, STRANGER = "srcana", "srcben", "srccal"
LAKE, WAREHOUSE, FILES, DARK = "srclake", "srcwarehouse", "srcfiles", "srcdark"
PREFIX = f"srctest-{os.getpid()}/"  # this module's objects in the shared bucket
S3_SECRET = f"srcS3secret{uuid.uuid4().hex}"
PG_PASSWORD = f"srcPGpassword{uuid.uuid4().hex}"
WRONG_PASSWORD = f"srcPGwrong{uuid.uuid4().hex}"  # a registration refused for it
CSV_BYTES = b"id,name,score\n1,ada,0.5\n2,bob,1.5\n3,cy,2.5\n"
SEEN: list[str] = []  # every response body and CLI output of this module, for the secrets check


def call(platform, token: str, method: str, path: str, **kwargs) -> httpx.Response:
    reply = httpx.request(
        method, platform.url + API + path, headers={"Authorization": f"token {token}"},
        timeout=60, **kwargs,
    )  # fmt: skip
    SEEN.append(reply.text)
    return reply


def cli(platform, token: str, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    done = labworks(
        *args, home=platform.home, check=False,
        env={"LABWORKS_URL": platform.url, "LABWORKS_TOKEN": token, **(env or {})},
    )  # fmt: skip
    SEEN.extend((done.stdout, done.stderr))
    return done


def notebook(*cells: str) -> dict:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"c{i}"
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}  # fmt: skip
    return json.loads(nbformat.writes(nb))


def run_job(platform, token: str, *cells: str) -> tuple[dict, str]:
    """Run the cells as a notebook job of the token's user; (the ended job, its log)."""
    reply = call(platform, token, "POST", "/jobs", json={"content": notebook(*cells)})
    assert reply.status_code == 201, reply.text
    job_id = reply.json()["id"]
    deadline = time.monotonic() + 240
    while True:
        job = call(platform, token, "GET", f"/jobs/{job_id}").json()
        if job["status"] in ENDED:
            break
        assert time.monotonic() < deadline, f"job {job_id} still {job['status']}"
        time.sleep(0.3)
    log = call(platform, token, "GET", f"/jobs/{job_id}/logs").json()["text"]
    return job, log


class Blackhole:
    """A TCP relay to PostgreSQL that can be switched to accept connections and never answer
    (a database host that hangs), and back."""

    def __init__(self, target_port: int) -> None:
        self.target = ("127.0.0.1", target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.silent = False
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.held.append(client)
            if self.silent:
                continue  # accepted, never answered
            upstream = socket.create_connection(self.target)
            self.held.append(upstream)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.listener.close()
        for s in self.held:
            s.close()


@pytest.fixture(scope="module")
def tokens(platform) -> dict[str, str]:
    for name in (OWNER, READER, STRANGER):
        platform.add_user(name)
    return {name: platform.token(name) for name in ("admin", OWNER, READER, STRANGER)}


@pytest.fixture(scope="module")
def lake(s3) -> dict:
    """The S3 objects: a CSV, a Parquet file and a folder to snapshot; the filesystem ("fs")
    and the Parquet file's size."""
    fs = fsspec.filesystem("s3", **s3.storage_options)
    root = f"{s3.bucket}/{PREFIX}"
    fs.pipe(root + "x.csv", CSV_BYTES)
    buffer = io.BytesIO()
    pd.DataFrame({"k": [10, 20, 30, 40], "v": ["a", "b", "c", "d"]}).to_parquet(buffer)
    fs.pipe(root + "y.parquet", buffer.getvalue())
    fs.pipe(root + "snap/data.csv", b"a,b\n1,2\n")
    return {"fs": fs, "y.parquet": len(buffer.getvalue())}


@pytest.fixture(scope="module")
def database(postgres) -> dict:
    """A database with table sales.orders and a role with a password that may only read it."""
    name, role = f"srcdb_{os.getpid()}", f"srcreader_{os.getpid()}"
    postgres.create_database(name)
    with psycopg.connect(postgres.url("postgres"), autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{PG_PASSWORD}'")
    with psycopg.connect(postgres.url(name), autocommit=True) as conn:
        conn.execute("CREATE SCHEMA sales")
        conn.execute("CREATE TABLE sales.orders (id int primary key, customer text, total int)")
        conn.execute("INSERT INTO sales.orders VALUES (1, 'ada', 120), (2, 'bob', 75),"
                     " (3, 'cy', 300)")  # fmt: skip
        conn.execute(f"GRANT USAGE ON SCHEMA sales TO {role}")
        conn.execute(f"GRANT SELECT ON sales.orders TO {role}")
    return {"name": name, "role": role, "port": postgres.port}


@pytest.fixture(scope="module")
def folder(platform) -> Path:
    """A folder the platform can read (0755 under a 0711 base, not pytest's 0700 tmp), with a
    symlink planted to the platform's state directory."""
    path = platform.home.parent / "srcfolder"
    path.mkdir(mode=0o755, exist_ok=True)
    path.chmod(0o755)
    (path / "notes.txt").write_text("hello from a folder\n")
    (path / "leak").symlink_to(platform.home / "platform")  # the platform's state directory
    (path / "leaked.key").symlink_to(platform.home / "platform" / "secrets" / "sources.key")
    return path


@pytest.fixture(scope="module")
def registered(platform, tokens, s3, lake, database, folder) -> dict:
    """The admin registers the three sources for OWNER with the CLI; the owner grants READER."""
    admin = tokens["admin"]
    aws = {"AWS_ACCESS_KEY_ID": "srcaccess", "AWS_SECRET_ACCESS_KEY": S3_SECRET}
    done = cli(platform, admin, "sources", "add", "s3", LAKE, "--bucket", s3.bucket, "--prefix",
               PREFIX, "--endpoint", s3.endpoint, "--owner", OWNER, "--tag", "raw",
               "--description", "the lake", env=aws)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"Registered s3 source {LAKE} (owner {OWNER})" in done.stdout
    where = f"host=127.0.0.1 port={database['port']} dbname={database['name']}"
    dsn = f"{where} user={database['role']}"
    done = cli(platform, admin, "sources", "add", "postgres", WAREHOUSE, "--dsn", dsn,
               "--owner", OWNER, env={"PGPASSWORD": PG_PASSWORD})  # fmt: skip
    assert done.returncode == 0, done.stderr
    done = cli(platform, admin, "sources", "add", "folder", FILES, "--path", str(folder),
               "--owner", OWNER)  # fmt: skip
    assert done.returncode == 0, done.stderr
    for name in (LAKE, WAREHOUSE):
        granted = cli(platform, tokens[OWNER], "sources", "grant", name, READER)
        assert f"Granted read on {name} to user:{READER}." in granted.stdout, granted.stderr
    return {"database": database}


def test_a_granted_job_reads_through_pandas_and_a_stranger_is_refused(
    platform, tokens, registered, lake
):
    job, log = run_job(
        platform, tokens[READER],
        "import pandas as pd\nfrom labworks import sources\n"
        f"x = pd.read_csv(sources.open('{LAKE}/x.csv'))\n"
        f"y = pd.read_parquet('labworks://{LAKE}/y.parquet')\n"
        f"orders = sources.read_table('{WAREHOUSE}', 'sales.orders')\n"
        "print('X', x.to_dict('list'))\nprint('Y', y.to_dict('list'))\n"
        "print('ORDERS', orders.sort_values('id').to_dict('list'))",
    )  # fmt: skip
    assert job["status"] == "succeeded", (job["reason"], log)
    assert "X {'id': [1, 2, 3], 'name': ['ada', 'bob', 'cy'], 'score': [0.5, 1.5, 2.5]}" in log
    assert "Y {'k': [10, 20, 30, 40], 'v': ['a', 'b', 'c', 'd']}" in log
    orders = "{'id': [1, 2, 3], 'customer': ['ada', 'bob', 'cy'], 'total': [120, 75, 300]}"
    assert f"ORDERS {orders}" in log
    reader_job = job["id"]

    job, log = run_job(
        platform, tokens[STRANGER],
        "from labworks import sources\n"
        f"for read in (lambda: sources.open('{LAKE}/x.csv').read(),\n"
        f"             lambda: sources.read_table('{WAREHOUSE}', 'sales.orders')):\n"
        "    try:\n        read()\n        print('READ')\n"
        "    except sources.SourceError as e:\n        print('REFUSED', e.status, e.message)",
    )  # fmt: skip
    assert job["status"] == "succeeded", (job["reason"], log)
    assert "READ" not in log.splitlines()
    for name in (LAKE, WAREHOUSE):
        assert f"REFUSED 403 you have no access to source '{name}'; its owner is {OWNER}." in log
    stranger_job = job["id"]

    # The stranger's REST attempt is a 403 too, with the same message.
    refused = call(platform, tokens[STRANGER], "GET", f"/sources/{LAKE}/objects/x.csv")
    assert refused.status_code == 403
    assert f"its owner is {OWNER}" in refused.json()["message"]

    report = call(platform, tokens[OWNER], "GET", f"/sources/{LAKE}/audit").json()
    mine = [e for e in report["entries"] if e["user"] == READER and e["allowed"]]
    signed = {e["object"]: e["bytes"] for e in mine if e["action"] == "url"}
    assert signed == {"x.csv": len(CSV_BYTES), "y.parquet": lake["y.parquet"]}, mine
    assert {e["origin"] for e in mine} == {f"job:{reader_job}"}
    theirs = [e for e in report["entries"] if e["user"] == STRANGER]
    assert theirs and not any(e["allowed"] for e in theirs)
    assert f"job:{stranger_job}" in {e["origin"] for e in theirs}
    assert any(e["object"] == "x.csv" and "its owner is" in e["reason"] for e in theirs)
    by_user = {u["user"]: u for u in report["by_user"]}
    assert by_user[READER]["bytes"] >= len(CSV_BYTES) and by_user[STRANGER]["refused"] >= 2

    done = cli(platform, tokens[OWNER], "sources", "audit", WAREHOUSE, "--csv")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    queried = [r for r in rows if r["user"] == READER and r["action"] == "query"]
    assert [(r["object"], r["rows"], r["allowed"], r["origin"]) for r in queried] == [
        ("sales.orders", "3", "True", f"job:{reader_job}")
    ]
    refusals = [r for r in rows if r["user"] == STRANGER]
    assert [(r["allowed"], r["origin"]) for r in refusals] == [("False", f"job:{stranger_job}")]
    # only the owner (and admins) see the audit
    assert call(platform, tokens[READER], "GET", f"/sources/{LAKE}/audit").status_code == 403


def test_the_cli_lists_browses_previews_grants_and_revokes(platform, tokens, registered):
    owner, stranger = tokens[OWNER], tokens[STRANGER]
    listed = cli(platform, stranger, "sources", "list")
    assert listed.returncode == 0, listed.stderr
    line = next(line for line in listed.stdout.splitlines() if line.startswith(LAKE))
    assert line.split()[:5] == [LAKE, "s3", OWNER, "none", "raw"]
    shown = json.loads(cli(platform, stranger, "sources", "list", "--json").stdout)
    lake = next(s for s in shown["sources"] if s["name"] == LAKE)
    assert lake["has_credentials"] and "secret_access_key" not in json.dumps(lake)

    ls = cli(platform, owner, "sources", "ls", WAREHOUSE, "sales")
    assert ls.returncode == 0, ls.stderr
    assert "table" in ls.stdout and "orders" in ls.stdout
    ls = cli(platform, owner, "sources", "ls", LAKE)
    assert {"x.csv", "y.parquet", "snap"} <= {line.split()[-1].rstrip("/")
                                             for line in ls.stdout.splitlines()[1:]}  # fmt: skip
    preview = cli(platform, owner, "sources", "preview", WAREHOUSE, "sales.orders", "--json")
    found = json.loads(preview.stdout)
    assert (found["format"], found["row_count"]) == ("table", 3)
    assert [c["name"] for c in found["columns"]] == ["id", "customer", "total"]
    assert sorted(found["rows"]) == [[1, "ada", 120], [2, "bob", 75], [3, "cy", 300]]
    text = cli(platform, owner, "sources", "preview", LAKE, "x.csv")
    assert f"{LAKE}/x.csv: csv, 3 columns" in text.stdout and "ada" in text.stdout

    assert cli(platform, stranger, "sources", "preview", LAKE, "x.csv").returncode != 0
    granted = cli(platform, owner, "sources", "grant", LAKE, STRANGER)
    assert f"Granted read on {LAKE} to user:{STRANGER}." in granted.stdout
    assert cli(platform, stranger, "sources", "preview", LAKE, "x.csv").returncode == 0
    revoked = cli(platform, owner, "sources", "revoke", LAKE, STRANGER)
    assert f"Revoked the grant of user:{STRANGER} on {LAKE}." in revoked.stdout
    again = cli(platform, stranger, "sources", "preview", LAKE, "x.csv")
    assert again.returncode != 0 and "(403)" in again.stderr and OWNER in again.stderr


def test_a_snapshot_keeps_its_bytes_after_the_source_changes(
    platform, tokens, registered, s3, lake
):
    reader = tokens[READER]
    done = cli(platform, reader, "datasets", "snapshot", "srcsnap", f"{LAKE}/snap/", "-m", "v1")
    assert done.returncode == 0, done.stderr
    assert f"{READER}/srcsnap version 1: 1 file" in done.stdout
    lake["fs"].pipe(f"{s3.bucket}/{PREFIX}snap/data.csv", b"a,b\n9,9\n9,9\n")  # the source changes

    version = call(platform, reader, "GET", f"/datasets/{READER}/srcsnap/versions/1").json()
    [file] = version["files"]
    blob = call(platform, reader, "GET", f"/datasets/{READER}/srcsnap/blobs/{file['sha256']}")
    assert blob.content == b"a,b\n1,2\n"
    now = call(platform, reader, "GET", f"/sources/{LAKE}/objects/snap/data.csv")
    assert now.content == b"a,b\n9,9\n9,9\n"
    # the dataset's reads are audited for its owner, and the snapshot on the source
    read = call(platform, reader, "GET", f"/datasets/{READER}/srcsnap/audit").json()
    assert any(e["action"] == "read" and e["bytes"] == 8 for e in read["entries"])
    report = call(platform, tokens[OWNER], "GET", f"/sources/{LAKE}/audit").json()
    assert any(e["action"] == "snapshot" and e["user"] == READER and e["bytes"] == 8
               for e in report["entries"])  # fmt: skip


def test_traversal_is_refused_and_nothing_outside_is_read(platform, tokens, registered, folder):
    owner = tokens[OWNER]
    key = (folder / "leaked.key").resolve()
    assert key.is_file(), "the sources' key is not where the planted symlink points"
    secrets = [key.read_bytes().strip(), b"SQLite format 3"]
    assert call(platform, owner, "GET", f"/sources/{FILES}/objects/notes.txt").content == (
        b"hello from a folder\n"
    )
    attempts = [
        f"/sources/{FILES}/objects/%2e%2e/%2e%2e/etc/passwd",
        f"/sources/{FILES}/objects/..%2f..%2fetc%2fpasswd",
        f"/sources/{FILES}/objects/%2E%2E%5Cetc%5Cpasswd",
        f"/sources/{FILES}/objects//etc/passwd",
        f"/sources/{FILES}/objects/leak/labworks.sqlite",
        f"/sources/{FILES}/objects/leaked.key",
        f"/sources/{LAKE}/objects/%2e%2e/x.csv",
    ]
    for path in attempts:
        reply = call(platform, owner, "GET", path)
        assert reply.status_code in (400, 404), (path, reply.status_code, reply.text[:200])
        assert not any(s in reply.content for s in (b"root:", *secrets)), path
    for route in ("preview", "stat", "list"):
        for bad in ("../etc/passwd", "/etc/passwd", "%2e%2e/etc", "leak/labworks.sqlite",
                    "leaked.key"):  # fmt: skip
            key = "prefix" if route == "list" else "path"
            reply = call(platform, owner, "GET", f"/sources/{FILES}/{route}", params={key: bad})
            assert reply.status_code in (400, 404), (route, bad, reply.status_code, reply.text)
    listing = call(platform, owner, "GET", f"/sources/{FILES}/list").json()
    assert [e["path"] for e in listing["entries"]] == ["notes.txt"]  # symlinks are not shown
    refused = call(platform, owner, "POST", f"/sources/{WAREHOUSE}/query",
                   json={"sql": "delete from sales.orders"})  # fmt: skip
    assert refused.status_code == 400 and "cannot run a statement that writes" in refused.text


@pytest.fixture(scope="module")
def hung(platform, tokens, registered) -> tuple[httpx.Response, float]:
    """A postgres source registered (by the admin) through a relay that answers, then stops
    answering: (the reply to a query then, how long it took)."""
    database = registered["database"]
    relay = Blackhole(database["port"])
    try:
        body = {
            "name": DARK, "kind": "postgres", "owner": OWNER,
            "config": {"host": "127.0.0.1", "port": relay.port, "dbname": database["name"],
                       "user": database["role"]},
            "credentials": {"password": PG_PASSWORD},
        }  # fmt: skip
        made = call(platform, tokens["admin"], "POST", "/sources", json=body)
        assert made.status_code == 201, made.text
        answered = call(platform, tokens[OWNER], "POST", f"/sources/{DARK}/query",
                        json={"table": "sales.orders"})  # fmt: skip
        assert answered.status_code == 200 and answered.json()["row_count"] == 3

        relay.silent = True
        start = time.monotonic()
        reply = call(platform, tokens[OWNER], "POST", f"/sources/{DARK}/query",
                     json={"table": "sales.orders"})  # fmt: skip
        return reply, time.monotonic() - start
    finally:
        relay.close()


def test_a_database_that_stops_answering_is_a_503_in_bounded_time(hung):
    reply, took = hung
    assert reply.status_code == 503, reply.text
    assert "did not answer" in reply.json()["message"]
    assert took < 20, f"the platform waited {took:.1f} s (connect_timeout is 5 s)"


def test_the_503_of_a_database_that_does_not_answer_names_the_source(hung):
    reply, _ = hung
    assert DARK in reply.json()["message"]


def test_no_secret_in_any_log_response_job_environment_or_store(platform, tokens, registered):
    job, log = run_job(
        platform,
        tokens[READER],
        "import os, json\nprint(json.dumps(dict(os.environ), sort_keys=True))",
    )
    assert job["status"] == "succeeded", job["reason"]
    assert "LABWORKS_JOB_ID" in log
    output = call(platform, tokens[READER], "GET", f"/jobs/{job['id']}/output")
    for name in (LAKE, WAREHOUSE, FILES):
        for who in ("admin", OWNER):
            call(platform, tokens[who], "GET", f"/sources/{name}")
    call(platform, tokens["admin"], "GET", "/sources")
    call(platform, tokens[STRANGER], "GET", f"/sources/{WAREHOUSE}/grants")  # an error body
    database = registered["database"]
    config = {"host": "127.0.0.1", "port": database["port"], "dbname": database["name"],
              "user": database["role"]}  # fmt: skip
    wrong = call(platform, tokens["admin"], "POST", "/sources", json={
        "name": "srcwrong", "kind": "postgres", "config": config,
        "credentials": {"password": WRONG_PASSWORD},
    })  # fmt: skip
    assert wrong.status_code == 400 and "password authentication failed" in wrong.text, wrong.text
    assert call(platform, tokens["admin"], "GET", "/sources/srcwrong").status_code == 404

    texts = [("job log", log), ("job output", output.text), ("platform log", platform.log())]
    texts += [(f"response {i}", text) for i, text in enumerate(SEEN)]
    for place, text in texts:
        for secret in (S3_SECRET, PG_PASSWORD, WRONG_PASSWORD):
            assert secret not in text, f"a source's secret is in the {place}"
    files = [p for p in platform.home.parent.rglob("*") if p.is_file() and not p.is_symlink()]
    assert any(p.name.startswith("labworks.sqlite") for p in files), "no store file found"
    for path in files:
        data = path.read_bytes()
        for secret in (S3_SECRET, PG_PASSWORD, WRONG_PASSWORD):
            assert secret.encode() not in data, f"a source's secret is in {path}"
