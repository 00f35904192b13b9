"""labworks.sources against a stand-in of the platform's source routes and of an object store,
both real HTTP servers on loopback: pandas reading CSV and Parquet through ``open``, ``fs`` and
``labworks://``, range reads, presigned URLs reused and signed again, the platform's refusals,
the origin header and typed DataFrames from queries. The platform itself is exercised in the
integration tests of issue 19."""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import subprocess
import sys
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import fsspec
import numpy as np
import pandas as pd
import pytest

from labworks import api, sources

TOKEN = "tk"
FRAME = pd.DataFrame({"id": range(3000), "name": [f"n{i}" for i in range(3000)],
                      "score": np.linspace(0, 1, 3000)})  # fmt: skip
BLOB = bytes(range(256)) * 4096  # 1 MiB, every offset's byte known
REFUSED = ("you may not read source 'secret' (owner: bob); "
           "ask for access: labworks sources request secret")  # fmt: skip


def _files() -> dict[str, bytes]:
    parquet = io.BytesIO()
    FRAME.to_parquet(parquet, index=False)
    csv = FRAME.to_csv(index=False).encode()
    return {"x.csv": csv, "sub/x.parquet": parquet.getvalue(), "blob.bin": BLOB,
            "x.csv.gz": gzip.compress(csv)}  # fmt: skip


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any = None


@dataclass
class Platform:
    """What the stand-in holds and saw. Sources: `raw` (folder), `lake` (s3), `warehouse`
    (postgres), `secret` (bob's folder, which the caller may not read)."""

    files: dict[str, bytes] = field(default_factory=_files)
    seen: list[Seen] = field(default_factory=list)
    url_lifetime: timedelta = timedelta(seconds=300)
    signatures: set[str] = field(default_factory=set)  # presigned URLs the store accepts
    signed: int = 0
    refusing: bool = False  # the store refuses every URL, even newly signed ones
    answer: dict[str, Any] = field(default_factory=dict)  # of the next query
    port: int = 0

    def to(self, prefix: str) -> list[Seen]:
        return [s for s in self.seen if s.path.startswith(prefix)]


KINDS = {"raw": "folder", "lake": "s3", "warehouse": "postgres", "secret": "folder"}


class Handler(BaseHTTPRequestHandler):
    platform: Platform
    protocol_version = "HTTP/1.1"

    def _reply(self, status: int, body: object = None, raw: bytes | None = None,
               headers: dict[str, str] | None = None) -> None:  # fmt: skip
        payload = raw if raw is not None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _bytes(self, key: str) -> None:
        """The object's bytes, or the range asked of them (206); a .gz object is stored with
        `Content-Encoding: gzip`, as S3 may hold it."""
        content = self.platform.files[key]
        stored = {"Content-Encoding": "gzip"} if key.endswith(".gz") else {}
        asked = re.fullmatch(r"bytes=(\d+)-(\d+)", self.headers.get("Range") or "")
        if not asked:
            return self._reply(200, raw=content, headers=stored)
        start, last = int(asked.group(1)), min(int(asked.group(2)), len(content) - 1)
        span = f"bytes {start}-{last}/{len(content)}"
        return self._reply(206, raw=content[start : last + 1],
                           headers={"Content-Range": span, **stored})  # fmt: skip

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def _route(self, method: str) -> None:
        url = urllib.parse.urlsplit(self.path)
        path = urllib.parse.unquote(url.path)
        query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        self.platform.seen.append(Seen(method, path, query, dict(self.headers.items()), body))
        if path.startswith("/s3/"):
            return self._store(path.removeprefix("/s3/bucket/"), query)
        if self.headers["Authorization"] != f"token {TOKEN}":
            return self._reply(401, {"error": "unauthorized", "message": "bad token"})
        return self._api(method, path.removeprefix("/api/v1/"), query, body)

    def _store(self, key: str, query: dict[str, str]) -> None:
        """The object store: presigned GETs only (a platform token must never reach it)."""
        if "Authorization" in self.headers:
            return self._reply(400, raw=b"<Error><Message>two auth mechanisms</Message></Error>")
        if self.platform.refusing or query.get("X-Signature") not in self.platform.signatures:
            error = (
                b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>"
            )
            return self._reply(403, raw=error)
        return self._bytes(key)

    def _api(self, method: str, path: str, query: dict[str, str], body: Any) -> None:
        p = self.platform
        if path == "sources":
            return self._reply(200, {"sources": [self._model(n) for n in KINDS]})
        name, _, action = path.removeprefix("sources/").partition("/")
        if name not in KINDS:
            return self._reply(404, {"error": "not_found", "message": f"no source {name!r}"})
        if not action:
            return self._reply(200, self._model(name))
        if action == "requests" and method == "POST":
            return self._reply(201, {"id": 1, "source": name, "user": "ada", "status": "pending",
                                     **body})  # fmt: skip
        if name == "secret":
            return self._reply(403, {"error": "forbidden", "message": REFUSED})
        if action == "list":
            return self._reply(200, {"entries": self._entries(query["prefix"]), "truncated": False})
        if action == "stat":
            if query["path"] not in p.files:
                return self._reply(404, {"error": "not_found", "message": "no such object"})
            return self._reply(200, self._entry(query["path"]))
        if action == "preview":
            return self._reply(200, {"path": query["path"], "format": "csv", "rows": [[0, "n0"]],
                                     "limit": int(query["limit"])})  # fmt: skip
        if action == "query" and method == "POST":
            return self._reply(200, p.answer)
        if action == "url" and KINDS[name] == "s3":
            p.signed += 1
            p.signatures.add(str(p.signed))
            key = urllib.parse.quote(query["path"])
            return self._reply(200, {
                "url": f"http://127.0.0.1:{p.port}/s3/bucket/{key}?X-Signature={p.signed}",
                "expires_at": (datetime.now(UTC) + p.url_lifetime).isoformat(),
                "size": len(p.files[query["path"]]),
            })  # fmt: skip
        if action.startswith("objects/") and KINDS[name] == "folder":
            return self._bytes(action.removeprefix("objects/"))
        return self._reply(400, {"error": "invalid", "message": f"no route {method} {path}"})

    def _model(self, name: str) -> dict[str, Any]:
        owner = "bob" if name == "secret" else "ada"
        return {"name": name, "kind": KINDS[name], "owner": owner, "description": "", "tags": [],
                "config": {}, "access": "none" if name == "secret" else "owner"}  # fmt: skip

    def _entry(self, path: str) -> dict[str, Any]:
        return {"path": path, "kind": "file", "size": len(self.platform.files[path]),
                "modified": None, "rows": None}  # fmt: skip

    def _entries(self, prefix: str) -> list[dict[str, Any]]:
        below = {f.removeprefix(prefix).lstrip("/").split("/")[0]: f
                 for f in self.platform.files if f.startswith(prefix)}  # fmt: skip
        return [
            self._entry(f) if "/" not in f.removeprefix(prefix).lstrip("/")
            else {"path": f"{prefix}{part}".lstrip("/"), "kind": "dir", "size": None}
            for part, f in sorted(below.items())
        ]  # fmt: skip

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def platform(monkeypatch: pytest.MonkeyPatch) -> Iterator[Platform]:
    """The stand-in, named by the workspace's environment (user ada, server gpu)."""
    store = Platform()
    server = ThreadingHTTPServer(("127.0.0.1", 0), type("H", (Handler,), {"platform": store}))
    store.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    for name in ("JUPYTERHUB_API_TOKEN", "MLFLOW_TRACKING_TOKEN", "LABWORKS_JOB_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LABWORKS_API_URL", f"http://127.0.0.1:{store.port}/api/v1")
    monkeypatch.setenv("LABWORKS_API_TOKEN", TOKEN)
    monkeypatch.setenv("JUPYTERHUB_USER", "ada")
    monkeypatch.setenv("JUPYTERHUB_SERVER_NAME", "gpu")
    try:
        yield store
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("source", ["raw", "lake"])
def test_pandas_reads_csv_and_parquet_through_open_fs_and_the_protocol(
    platform: Platform, source: str
) -> None:
    pd.testing.assert_frame_equal(pd.read_csv(sources.open(f"{source}/x.csv")), FRAME)
    pd.testing.assert_frame_equal(pd.read_csv(sources.fs(source).open("x.csv")), FRAME)
    pd.testing.assert_frame_equal(pd.read_parquet(f"labworks://{source}/sub/x.parquet"), FRAME)
    with sources.open(f"{source}/sub/x.parquet") as f:
        pd.testing.assert_frame_equal(pd.read_parquet(f), FRAME)
    if source == "lake":  # straight from the store, with no platform token or origin
        reads = platform.to("/s3/")
        assert platform.to("/api/v1/sources/lake/objects") == []
        assert not any("Authorization" in s.headers or "X-Labworks-Origin" in s.headers
                       for s in reads)  # fmt: skip
        # pandas asks fsspec for the file's size more than once: the signed URL answers it
        assert platform.to("/api/v1/sources/lake/stat") == []
        assert len(platform.to("/api/v1/sources/lake/url")) == 2  # one per object read
    else:
        reads = platform.to("/api/v1/sources/raw/objects/")
    assert reads and all(re.fullmatch(r"bytes=\d+-\d+", s.headers["Range"]) for s in reads)


@pytest.mark.parametrize("source", ["raw", "lake"])
def test_a_seek_reads_that_range_in_blocks(platform: Platform, source: str) -> None:
    prefix = "/s3/bucket/" if source == "lake" else f"/api/v1/sources/{source}/objects/"
    with sources.open(f"{source}/blob.bin", block_size=1 << 16) as f:
        assert f.size == len(BLOB)
        f.seek(500_000)
        assert f.read(100) == BLOB[500_000:500_100]
        assert f.read(1000) == BLOB[500_100:501_100]  # inside the block: no request
        f.seek(-10, os.SEEK_END)
        assert f.read() == BLOB[-10:]
        assert f.tell() == len(BLOB)
    ranges = [s.headers["Range"] for s in platform.to(prefix)]
    assert ranges == [f"bytes=500000-{500_100 + (1 << 16) - 1}", f"bytes={len(BLOB) - 10}-1048575"]


@pytest.mark.parametrize("source", ["raw", "lake"])
def test_bytes_come_as_stored_even_with_a_content_encoding(platform: Platform, source: str) -> None:
    with sources.open(f"{source}/x.csv.gz") as f:
        assert f.read() == platform.files["x.csv.gz"]
    with sources.open(f"{source}/x.csv.gz") as f:
        pd.testing.assert_frame_equal(pd.read_csv(f, compression="gzip"), FRAME)


def test_a_presigned_url_is_reused_until_shortly_before_it_expires(platform: Platform) -> None:
    for _ in range(3):
        with sources.open("lake/blob.bin", block_size=1 << 10) as f:
            f.seek(1 << 19)
            assert f.read(10) == BLOB[1 << 19 : (1 << 19) + 10]
    assert platform.signed == 1
    platform.url_lifetime = timedelta(0)  # URLs that expire as they are signed
    csv = platform.files["x.csv"]
    with sources.open("lake/x.csv", block_size=1 << 10) as f:  # signs
        assert f.read(10) == csv[:10]  # signs again
        f.seek(30_000)
        assert f.read(10) == csv[30_000:30_010]  # and again
    assert platform.signed == 1 + 3


def test_a_url_the_store_refuses_is_signed_again_once(platform: Platform) -> None:
    with sources.open("lake/blob.bin", block_size=1 << 10) as f:
        assert f.read(10) == BLOB[:10]
        platform.signatures.clear()  # revoked (or expired early on a skewed clock)
        f.seek(1 << 19)
        assert f.read(10) == BLOB[1 << 19 : (1 << 19) + 10]
        assert platform.signed == 2
        platform.refusing = True
        with pytest.raises(sources.SourceError, match="refused the read: Request has expired") as e:
            f.seek(0)
            f.read(10)
    assert e.value.status == 403


def test_a_source_one_may_not_read_is_the_platforms_403(platform: Platform) -> None:
    with pytest.raises(sources.SourceError) as refused:
        sources.open("secret/x.csv")
    assert (refused.value.message, refused.value.status) == (REFUSED, 403)
    with pytest.raises(sources.SourceError, match=re.escape(REFUSED)):
        pd.read_parquet("labworks://secret/sub/x.parquet")
    with pytest.raises(sources.SourceError, match=re.escape(REFUSED)):
        sources.read_table("secret", "a.b")
    with pytest.raises(sources.SourceError, match=r"^no source 'nope'$"):
        sources.ls("nope/x")
    asked = sources.request_access("secret", "churn model", write=True)
    assert (asked["status"], asked["access"], asked["reason"]) == (
        "pending",
        "write",
        "churn model",
    )


def test_every_platform_request_names_its_origin(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert {s["name"]: s["kind"] for s in sources.list()} == KINDS
    sources.open("raw/x.csv").read(10)
    monkeypatch.setenv("LABWORKS_JOB_ID", "42")  # in a job: the job, whatever the workspace
    sources.ls("raw")
    origins = [s.headers["X-Labworks-Origin"] for s in platform.to("/api/v1/")]
    assert origins[-1] == "job:42"
    assert set(origins[:-1]) == {"workspace:ada/gpu"}
    assert api.origin({"JUPYTERHUB_USER": "ada"}) == "workspace:ada/"


def test_listing_stat_and_preview(platform: Platform) -> None:
    assert [(e["path"], e["kind"]) for e in sources.ls("raw")] == [
        ("blob.bin", "file"), ("sub", "dir"), ("x.csv", "file"), ("x.csv.gz", "file")]  # fmt: skip
    assert [e["path"] for e in sources.ls("raw/sub/")] == ["sub/x.parquet"]
    assert platform.to("/api/v1/sources/raw/list")[-1].query == {"prefix": "sub/"}
    assert sources.preview("raw/x.csv", limit=5)["limit"] == 5
    raw = sources.fs("raw")
    assert raw.ls("", detail=False) == ["blob.bin", "sub", "x.csv", "x.csv.gz"]
    assert raw.ls("sub", detail=False) == ["sub/x.parquet"]
    assert raw.info("x.csv")["size"] == len(platform.files["x.csv"])
    assert raw.isdir("sub") and not raw.exists("nope.csv")
    every = fsspec.filesystem("labworks")
    assert set(every.ls("", detail=False)) == set(KINDS)
    assert every.cat_file("raw/blob.bin", start=10, end=20) == BLOB[10:20]


@pytest.mark.parametrize("path", ["../x", "Raw/x", "raw/../secret/x.csv", "raw/./x", ""])
def test_paths_that_are_not_inside_a_source_are_refused_before_asking(
    platform: Platform, path: str
) -> None:
    with pytest.raises(sources.SourceError, match="not"):
        sources.open(path)
    assert platform.seen == []


def test_queries_become_dataframes_typed_from_the_answer(platform: Platform) -> None:
    platform.answer = {
        "columns": [{"name": "id", "type": "integer"}, {"name": "total", "type": "numeric"},
                    {"name": "paid", "type": "boolean"}, {"name": "note", "type": "text"},
                    {"name": "at", "type": "timestamp with time zone"},
                    {"name": "day", "type": "date"}, {"name": "ratio", "type": "double precision"},
                    {"name": "raw", "type": "bytea"}, {"name": "id", "type": "bigint"}],
        "rows": [[1, "10.50", True, "a", "2026-12-01T10:00:00+01:00", "2026-12-01", 0.5, "AAE=", 7],
                 [None, None, None, None, None, None, None, None, 8]],
        "row_count": 2, "truncated": False,
    }  # fmt: skip
    df = sources.read_table("warehouse", "sales.orders", limit=5)
    assert platform.to("/api/v1/sources/warehouse/query")[-1].body == {
        "table": "sales.orders", "limit": 5}  # fmt: skip
    assert list(df.columns) == ["id", "total", "paid", "note", "at", "day", "ratio", "raw", "id"]
    dtypes = [str(t) for t in df.dtypes]
    assert dtypes[:3] == ["Int64", "float64", "boolean"]
    assert dtypes[4:8] == ["datetime64[us, UTC]", "datetime64[us]", "float64", "object"]
    assert dtypes[8] == "Int64"
    assert df.iloc[0, 4] == pd.Timestamp("2026-12-01T09:00:00Z")
    assert df.iloc[0, 7] == b"\x00\x01" and df.iloc[0, 1] == 10.5
    assert df.iloc[1, :8].isna().all()
    platform.answer = {"columns": [{"name": "n", "type": "bigint"}], "rows": [[1]],
                       "row_count": 1, "truncated": True}  # fmt: skip
    with pytest.warns(UserWarning, match="only the first 1 rows"):
        df = sources.read_sql("warehouse", "select 1 as n", limit=1)
    assert platform.to("/api/v1/sources/warehouse/query")[-1].body == {
        "sql": "select 1 as n", "limit": 1}  # fmt: skip
    assert df["n"].tolist() == [1]


def test_importing_sources_does_not_import_pandas() -> None:
    code = "import sys; from labworks import sources; print('pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
