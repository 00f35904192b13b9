"""The I/O of data sources against real things: a folder with links and a FIFO in it, a real
S3 endpoint (SeaweedFS, the `s3` fixture) and a real PostgreSQL server (`postgres`)."""

from __future__ import annotations

import io
import json
import os
import stat
import time
import uuid

import fsspec
import httpx
import psycopg
import pytest

from labworks_hub.service.access import Invalid, NotFound, TooLarge, Unavailable
from labworks_hub.service.sources.backends import (
    FolderBackend,
    PostgresBackend,
    S3Backend,
    backend_for,
)
from tests.platform import free_port

# --- folder -----------------------------------------------------------------------------------


@pytest.fixture
def folder(tmp_path):
    """A source folder a user could have filled: files, a folder, and things that must never
    be followed or read (links out of it, a FIFO)."""
    root = tmp_path / "root"
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "a.csv").write_text("x,y\n1,2\n")
    (root / "sub" / "b.txt").write_text("bee")
    (root / "sub" / "deeper" / "c.bin").write_bytes(b"\x00\x01")
    (root / "link").symlink_to("/etc/passwd")
    (root / "linkdir").symlink_to("/etc")
    (root / "sub" / "up").symlink_to("..")
    os.mkfifo(root / "fifo")
    return root


def test_a_folder_lists_files_and_folders_but_no_link_or_fifo(folder):
    backend = FolderBackend(str(folder))
    backend.check()
    entries, truncated = backend.list("")
    assert [(e.path, e.kind, e.size) for e in entries] == [
        ("a.csv", "file", 8),
        ("sub", "dir", None),
    ]
    assert not truncated and entries[0].modified is not None
    assert [e.path for e in backend.list("sub")[0]] == ["sub/b.txt", "sub/deeper"]
    assert backend.list("", limit=1) == ([entries[0]], True)
    assert backend.stat("sub/deeper/c.bin").size == 2
    assert backend.stat("").kind == "dir"


@pytest.mark.parametrize("path", ["link", "linkdir", "linkdir/passwd", "sub/up/a.csv", "fifo"])
def test_a_folder_never_follows_a_link_nor_reads_a_special_file(folder, path):
    backend = FolderBackend(str(folder))
    started = time.monotonic()
    with pytest.raises(Invalid, match=r"link|special file"):
        backend.open(path)
    assert time.monotonic() - started < 5  # a FIFO with no writer does not hang the reader
    with pytest.raises(Invalid, match=r"link|special file"):
        backend.stat(path)
    if path not in ("link", "fifo"):
        with pytest.raises(Invalid, match="link"):
            backend.list(path)


def test_a_folder_reads_a_file_seekably_and_refuses_what_is_missing(folder):
    backend = FolderBackend(str(folder))
    with backend.open("sub/b.txt") as f:
        f.seek(1)
        assert f.read() == b"ee"
    with pytest.raises(NotFound):
        backend.open("nope.csv")
    with pytest.raises(NotFound):
        backend.list("nope")
    with pytest.raises(NotFound):
        backend.stat("sub/nope")
    with pytest.raises(Invalid, match="is a folder"):
        backend.open("sub")
    for path in ("../root/a.csv", "sub/../../root/a.csv", "/etc/passwd"):  # even uncleaned
        with pytest.raises(Invalid, match="bad path"):
            backend.open(path)
        with pytest.raises(Invalid, match="bad path"):
            backend.write(path, io.BytesIO(b"x"), max_bytes=5)
    with pytest.raises(Invalid, match="through /objects"):
        backend.presign("a.csv", 60)
    with pytest.raises(Invalid):
        backend.query(table="a.b", sql=None, limit=1)
    assert backend.row_count("a.b") is None


def test_a_folder_walks_its_files_only_and_is_bounded(folder):
    backend = FolderBackend(str(folder))
    assert [e.path for e in backend.walk("")] == ["a.csv", "sub/b.txt", "sub/deeper/c.bin"]
    assert [e.path for e in backend.walk("sub/b.txt")] == ["sub/b.txt"]
    with pytest.raises(Invalid, match="more than 2 files"):
        backend.walk("", max_files=2)


def test_a_folder_write_replaces_atomically_and_never_through_a_link(folder, tmp_path):
    backend = FolderBackend(str(folder))
    assert backend.write("new/dir/x.bin", io.BytesIO(b"12345"), max_bytes=5) == 5
    written = folder / "new" / "dir" / "x.bin"
    assert written.read_bytes() == b"12345"
    assert stat.S_IMODE(written.stat().st_mode) == 0o640
    backend.write("new/dir/x.bin", io.BytesIO(b"abc"), max_bytes=5)
    assert written.read_bytes() == b"abc"
    with pytest.raises(TooLarge):
        backend.write("new/dir/x.bin", io.BytesIO(b"123456"), max_bytes=5)
    assert written.read_bytes() == b"abc"
    assert sorted(os.listdir(written.parent)) == ["x.bin"]  # no partial file left
    outside = tmp_path / "outside.txt"
    outside.write_text("keep")
    (folder / "out").symlink_to(outside)
    backend.write("out", io.BytesIO(b"new"), max_bytes=5)  # replaces the link, not its target
    assert outside.read_text() == "keep"
    assert (folder / "out").read_bytes() == b"new" and not (folder / "out").is_symlink()
    with pytest.raises(Invalid, match="link"):
        backend.write("linkdir/x", io.BytesIO(b"x"), max_bytes=5)
    with pytest.raises(Invalid, match="folder"):
        backend.write("sub", io.BytesIO(b"x"), max_bytes=5)


def test_a_folder_that_is_not_there_is_refused(tmp_path):
    with pytest.raises(Invalid, match="absolute"):
        FolderBackend("relative/path")
    with pytest.raises(Invalid, match="does not exist"):
        FolderBackend(str(tmp_path / "nope")).check()


# --- s3 ---------------------------------------------------------------------------------------


@pytest.fixture
def bucket(s3):
    """A prefix of its own in the session's bucket with `p/` (the source) and `q/` (a sibling
    the source must never reach)."""
    base = f"{s3.bucket}/{uuid.uuid4().hex[:12]}"
    fs = fsspec.filesystem("s3", skip_instance_cache=True, **s3.storage_options)
    fs.pipe({f"{base}/p/a.csv": b"x,y\n1,2\n", f"{base}/p/d/b.txt": b"bee",
             f"{base}/p/d/e/c.bin": b"\x00", f"{base}/q/x": b"secret"})  # fmt: skip
    return base.split("/", 1)[1], fs


def make_s3(s3, prefix, **kwargs):
    options = {"endpoint_url": s3.endpoint, "region": "us-east-1",
               "access_key_id": "labworks", "secret_access_key": "labworks-secret"}  # fmt: skip
    return S3Backend(s3.bucket, prefix, **{**options, **kwargs})


def test_s3_lists_stats_and_reads_under_its_prefix(s3, bucket):
    base, _ = bucket
    backend = make_s3(s3, f"{base}/p")
    backend.check()
    entries, truncated = backend.list("")
    assert [(e.path, e.kind, e.size) for e in entries] == [("a.csv", "file", 8), ("d", "dir", None)]
    assert not truncated and entries[0].modified is not None
    assert [e.path for e in backend.list("d")[0]] == ["d/b.txt", "d/e"]
    assert backend.list("", limit=1)[1] is True
    assert backend.stat("a.csv").size == 8
    assert backend.stat("d").kind == "dir"
    with backend.open("a.csv") as f:
        f.seek(4)
        assert f.read() == b"1,2\n"
    assert [e.path for e in backend.walk("")] == ["a.csv", "d/b.txt", "d/e/c.bin"]
    assert [e.path for e in backend.walk("d")] == ["d/b.txt", "d/e/c.bin"]
    with pytest.raises(Invalid, match="more than 2 files"):
        backend.walk("", max_files=2)
    with pytest.raises(NotFound):
        backend.stat("nope")
    with pytest.raises(NotFound):
        backend.open("nope")


def test_s3_never_reaches_outside_its_prefix(s3, bucket):
    base, _ = bucket
    backend = make_s3(s3, f"{base}/p/")
    with pytest.raises(NotFound):
        backend.open("q/x")  # that is p/q/x
    for path in ("../q/x", "%2e%2e/q/x", "/q/x", "d/../../q/x"):
        with pytest.raises(Invalid):
            backend.open(path)
        with pytest.raises(Invalid):
            backend.presign(path, 60)
    assert "q" not in [e.path for e in backend.list("")[0]]


def test_s3_presigned_url_reads_the_bytes(s3, bucket):
    base, _ = bucket
    backend = make_s3(s3, f"{base}/p")
    url = backend.presign("d/b.txt", 60)
    assert "labworks-secret" not in url
    answer = httpx.get(url)
    assert answer.status_code == 200 and answer.content == b"bee"
    assert httpx.get(url, headers={"Range": "bytes=1-1"}).content == b"e"


def test_s3_write_is_bounded(s3, bucket):
    base, fs = bucket
    backend = make_s3(s3, f"{base}/p")
    assert backend.write("new/y.bin", io.BytesIO(b"x" * 3000), max_bytes=3000) == 3000
    assert fs.cat(f"{s3.bucket}/{base}/p/new/y.bin") == b"x" * 3000
    with pytest.raises(TooLarge):
        backend.write("new/z.bin", io.BytesIO(b"x" * 3001), max_bytes=3000)
    assert not fs.exists(f"{s3.bucket}/{base}/p/new/z.bin")
    with pytest.raises(Invalid):
        backend.query(table="a.b", sql=None, limit=1)


def test_s3_that_does_not_answer_is_unavailable_quickly(s3):
    dead = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    with pytest.raises(Unavailable, match=f"{dead} did not answer"):
        make_s3(s3, "", endpoint_url=dead).check()
    assert time.monotonic() - started < 15
    with pytest.raises(Invalid, match="no bucket"):
        S3Backend("no-such-bucket", "", s3.endpoint, "us-east-1", "labworks", "x").check()
    with pytest.raises(Invalid, match="bucket name"):
        S3Backend("../etc", "")


# --- postgres ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def database(postgres):
    """A database with a schema `sales`: a table of three rows of many types, a view, a slow
    view and a sequence."""
    url = postgres.create_database(f"lw_sources_{os.getpid()}_{uuid.uuid4().hex[:6]}")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("""
            create schema sales;
            create sequence sales.ids;
            create table sales.orders (id int primary key, amount numeric(10, 2),
                at timestamptz, day date, data bytea, u uuid, note text, score float8);
            insert into sales.orders values
                (1, 10.50, '2026-01-02 03:04:05+00', '2026-01-02', '\\x0102',
                 '6f1c2d3e-0000-4000-8000-000000000001', 'one', 'NaN'),
                (2, 20.00, null, null, null, null, '50%', 1.5),
                (3, 30.25, null, null, null, null, 'three', '-Infinity');
            analyze sales.orders;
            create view sales.recent as select id from sales.orders;
            create view sales.slow as select 1 as x from pg_sleep(3);
        """)
    return postgres, url.rsplit("/", 1)[1]


def make_pg(database, **kwargs):
    server, dbname = database
    options = {"host": "127.0.0.1", "port": server.port, "dbname": dbname, "user": server.user,
               "password": server.password, "sslmode": "disable"}  # fmt: skip
    return PostgresBackend(**{**options, **kwargs})


def test_postgres_lists_schemas_and_tables_with_estimates(database):
    backend = make_pg(database)
    backend.check()
    schemas = [e.path for e in backend.list("")[0]]
    assert "sales" in schemas and "public" in schemas
    assert not {"pg_catalog", "information_schema"} & set(schemas)
    assert not [s for s in schemas if s.startswith("pg_")]
    tables = backend.list("sales")[0]
    assert [(e.path, e.kind, e.rows) for e in tables] == [
        ("sales.orders", "table", 3), ("sales.recent", "table", None),
        ("sales.slow", "table", None),
    ]  # fmt: skip
    assert backend.list("sales", limit=1) == ([tables[0]], True)
    assert backend.stat("sales.orders").rows == 3
    assert backend.stat("sales").kind == "schema"
    with pytest.raises(NotFound):
        backend.stat("sales.nope")
    with pytest.raises(NotFound):
        backend.list("nope")
    with pytest.raises(Invalid):
        backend.open("sales.orders")


def test_postgres_reads_a_table_as_json_safe_rows(database):
    backend = make_pg(database)
    table = backend.query(table="sales.orders", sql=None, limit=2)
    assert table.columns == [
        ("id", "integer"), ("amount", "numeric"), ("at", "timestamp with time zone"),
        ("day", "date"), ("data", "bytea"), ("u", "uuid"), ("note", "text"),
        ("score", "double precision"),
    ]  # fmt: skip
    assert table.truncated and len(table.rows) == 2
    first = table.rows[0] if table.rows[0][0] == 1 else table.rows[1]
    assert first == [1, "10.50", "2026-01-02T03:04:05+00:00", "2026-01-02", "AQI=",
                     "6f1c2d3e-0000-4000-8000-000000000001", "one", None]  # fmt: skip
    json.dumps(table.rows, allow_nan=False)
    every = backend.query(table=None, sql="select id, note, score from sales.orders order by id",
                          limit=10)  # fmt: skip
    assert every.rows == [[1, "one", None], [2, "50%", 1.5], [3, "three", "-Infinity"]]
    assert not every.truncated
    assert backend.row_count("sales.orders") == 3
    assert backend.row_count("sales.slow", timeout_s=0.3) is None


@pytest.mark.parametrize(
    "sql",
    [
        "insert into sales.orders (id) values (9)",
        "drop table sales.orders",
        "  -- a comment\n  delete from sales.orders",
        "with gone as (delete from sales.orders returning *) select * from gone",
        "select nextval('sales.ids')",
        "select 1 from sales.orders for update",
    ],
)
def test_postgres_refuses_a_statement_that_writes(database, sql):
    backend = make_pg(database)
    with pytest.raises(Invalid, match="cannot run a statement that writes"):
        backend.query(table=None, sql=sql, limit=10)
    assert backend.row_count("sales.orders") == 3


def test_postgres_refuses_several_statements_and_bad_names(database):
    backend = make_pg(database)
    with pytest.raises(Invalid, match="one statement"):
        backend.query(table=None, sql="select 1; select 2", limit=10)
    with pytest.raises(Invalid, match="one statement"):
        backend.query(table=None, sql="select 1; drop table sales.orders", limit=10)
    with pytest.raises(Invalid, match=r"schema\.table"):
        backend.query(table='sales.x"; drop table sales.orders; --', sql=None, limit=10)
    with pytest.raises(NotFound):
        backend.query(table="sales.orders;drop", sql=None, limit=10)
    with pytest.raises(Invalid, match="not both"):
        backend.query(table="sales.orders", sql="select 1", limit=10)
    with pytest.raises(Invalid, match="refused the query"):
        backend.query(table=None, sql="select nope from sales.orders", limit=10)


def test_postgres_that_is_slow_or_gone_is_unavailable_quickly(database):
    backend = make_pg(database, query_timeout=0.5)
    started = time.monotonic()
    with pytest.raises(Unavailable, match=r"took longer than 0\.5 s"):
        backend.query(table=None, sql="select pg_sleep(5)", limit=1)
    assert time.monotonic() - started < 4
    port = free_port()
    started = time.monotonic()
    with pytest.raises(Unavailable, match=f"127.0.0.1:{port} did not answer"):
        make_pg(database, port=port).check()
    assert time.monotonic() - started < 4
    with pytest.raises(Invalid, match="refused the connection") as refused:
        make_pg(database, password="wrong-password").check()
    assert "wrong-password" not in refused.value.message


def test_backend_for_builds_each_kind(tmp_path, database):
    server, dbname = database
    assert isinstance(backend_for("folder", {"path": str(tmp_path)}, {}), FolderBackend)
    s3 = backend_for("s3", {"bucket": "bkt", "prefix": "p"}, {"access_key_id": "k"})
    assert isinstance(s3, S3Backend) and s3.prefix == "p/"
    pg = backend_for(
        "postgres", {"host": "127.0.0.1", "port": server.port, "dbname": dbname,
                     "user": server.user, "sslmode": "disable"},
        {"password": server.password}, connect_timeout=3, query_timeout=2,
    )  # fmt: skip
    pg.check()
    with pytest.raises(Invalid, match="needs bucket"):
        backend_for("s3", {}, {})
    with pytest.raises(Invalid, match="unknown kind"):
        backend_for("ftp", {}, {})
