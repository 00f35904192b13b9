"""labworks.data: manifests and their digest, path rules, the download cache (checked, atomic,
reused), lineage on real MLflow runs in a local store, and error messages. The HTTP side talks
to a small stand-in of the dataset routes (the platform itself is exercised in
tests/integration/test_data_lineage.py)."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import mlflow
import pytest
from mlflow.tracking import MlflowClient

from labworks import data, track

TOKEN = "tk"
TRAIN, TEST = b"a,b\n1,2\n", b"a,b\n3,4\n"


def sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


class Store:
    """What the stand-in holds: blobs by sha256, versions of dataset `ada/iris`, requests seen."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}
        self.versions: list[dict] = []
        self.requests: list[tuple[str, str]] = []
        self.corrupt: set[str] = set()  # blobs served with a flipped byte
        self.cut: set[str] = set()  # blobs whose answer breaks off before its end
        self.snapshots: list[dict] = []  # the bodies of snapshot requests


class DatasetApi(BaseHTTPRequestHandler):
    """The dataset routes of the wire contract for one user (`ada`) and one dataset."""

    store: Store
    base = "/api/v1/datasets/ada/iris"

    def _reply(
        self, status: int, body: object = None, raw: bytes | None = None, missing: int = 0
    ) -> None:
        payload = raw if raw is not None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(payload) + missing))
        self.end_headers()
        self.wfile.write(payload)

    def _route(self, method: str) -> None:
        self.store.requests.append((method, self.path))
        if self.headers["Authorization"] != f"token {TOKEN}":
            return self._reply(401, {"error": "unauthorized", "message": "bad token"})
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        path, blobs = self.path, self.store.blobs
        if path == "/api/v1/me":
            return self._reply(200, {"name": "ada"})
        if not path.startswith(self.base):
            return self._reply(404, {"error": "not_found", "message": "no such dataset"})
        rest = path.removeprefix(self.base)
        if rest == "/blobs/missing":
            return self._reply(200, {"missing": [s for s in json.loads(body)["sha256"]
                                                 if s not in blobs]})  # fmt: skip
        if rest.startswith("/blobs/") and method == "PUT":
            assert sha(body) == rest.removeprefix("/blobs/")
            blobs[sha(body)] = body
            return self._reply(201, {"sha256": sha(body), "size": len(body)})
        if rest.startswith("/blobs/"):
            content = blobs[rest.removeprefix("/blobs/")]
            if rest.removeprefix("/blobs/") in self.store.corrupt:
                content = bytes([content[0] ^ 1]) + content[1:]
            cut = rest.removeprefix("/blobs/") in self.store.cut
            return self._reply(200, raw=content[:3] if cut else content, missing=5 if cut else 0)
        if rest == "/versions" and method == "POST":
            sent = json.loads(body)
            files = [data.File(**f) for f in sent["files"]]
            number = len(self.store.versions) + 1
            version = {"ref": "ada/iris", "number": number, "size": sum(f.size for f in files),
                       "digest": data.manifest_digest(files), "file_count": len(files),
                       "message": sent["message"], "created_by": "ada", "files": sent["files"],
                       "created_at": "2026-11-23T20:00:00+00:00"}  # fmt: skip
            self.store.versions.append(version)
            return self._reply(201, version)
        if rest == "/snapshot" and method == "POST":
            self.store.snapshots.append(json.loads(body))
            number = len(self.store.versions) + 1
            files = [{"path": "query.parquet", "sha256": "00", "size": 8}]
            version = {"ref": "ada/iris", "number": number, "size": 8, "digest": "sha256:00",
                       "file_count": 1, "message": json.loads(body)["message"],
                       "created_by": "ada", "files": files,
                       "created_at": "2026-12-05T20:00:00+00:00"}  # fmt: skip
            self.store.versions.append(version)
            return self._reply(201, version)
        if rest == "" and method == "GET":
            versions = [{k: v for k, v in x.items() if k not in ("ref", "files")}
                        for x in self.store.versions[::-1]]  # fmt: skip
            return self._reply(200, {"ref": "ada/iris", "versions": versions})
        found = re.fullmatch(r"/versions/(\d+|latest)", rest)
        if found and self.store.versions:
            asked = found.group(1)
            index = -1 if asked == "latest" else int(asked) - 1
            return self._reply(200, self.store.versions[index])
        return self._reply(404, {"error": "not_found", "message": "no version " + rest})

    def do_GET(self) -> None:
        self._route("GET")

    def do_PUT(self) -> None:
        self._route("PUT")

    def do_POST(self) -> None:
        self._route("POST")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[data.Client, Store]]:
    """A client of the stand-in, caching under tmp_path/cache."""
    store = Store()
    handler = type("Handler", (DatasetApi,), {"store": store})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/api/v1"
        yield data.Client(url, TOKEN, tmp_path / "cache"), store
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def fresh_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts with a process that has read no dataset."""
    monkeypatch.setattr(track, "_DATASET_READS", {})
    monkeypatch.setattr(track, "_LOGGED_INPUTS", set())


def folder(tmp_path: Path) -> Path:
    """train.csv and sub/test.csv."""
    root = tmp_path / "iris"
    (root / "sub").mkdir(parents=True)
    (root / "train.csv").write_bytes(TRAIN)
    (root / "sub" / "test.csv").write_bytes(TEST)
    return root


def test_manifest_digest_is_the_contracts_sorted_lines() -> None:
    files = [data.File("b.csv", "2" * 64, 5), data.File("a/x.csv", "1" * 64, 12)]
    lines = f"a/x.csv\t{'1' * 64}\t12\nb.csv\t{'2' * 64}\t5\n"
    assert data.manifest_digest(files) == "sha256:" + sha(lines.encode())
    assert data.manifest_digest(files[::-1]) == data.manifest_digest(files)


def test_scan_a_folder_and_a_file(tmp_path: Path) -> None:
    root = folder(tmp_path)
    assert data.scan(root) == [
        data.File("sub/test.csv", sha(TEST), 8),
        data.File("train.csv", sha(TRAIN), 8),
    ]
    assert data.scan(root / "sub" / "test.csv") == [data.File("test.csv", sha(TEST), 8)]
    (tmp_path / "empty").mkdir()
    with pytest.raises(data.DataError, match="no files in"):
        data.scan(tmp_path / "empty")
    with pytest.raises(data.DataError, match="no such file or folder"):
        data.scan(tmp_path / "absent")


@pytest.mark.parametrize(
    "bad",
    ["", "/etc/passwd", "a/../b", "..", "a//b", "./a", "a\\b", "a/", " ", "a/ /b", " a.csv",
     "a.csv ", "a\u202egnp.csv", "a\u2067b", "a\u200eb", "a\x00b", "a\nb", "a\x9bb", "x" * 1025],
)  # fmt: skip
def test_paths_must_be_relative_posix_without_dots_empty_blank_or_unsafe_parts(bad: str) -> None:
    with pytest.raises(data.DataError, match="not a relative POSIX file path"):
        data.check_path(bad)
    assert data.check_path("a/b.c/d_e-f.csv") == "a/b.c/d_e-f.csv"
    assert data.check_path("my data/r\u00e9sum\u00e9 1.csv") == "my data/r\u00e9sum\u00e9 1.csv"


def test_refs_names_and_versions_are_checked_before_asking(tmp_path: Path) -> None:
    client = data.Client("http://127.0.0.1:9/api/v1", TOKEN)  # nothing listens there
    assert client.ref("bob/iris") == "bob/iris"
    for bad in ("a/b/c", "/iris", "bob/", "bob/.hidden", "../iris", "bob/ir is"):
        with pytest.raises(data.DataError, match="not a dataset"):
            client.ref(bad)
    with pytest.raises(data.DataError, match="not a dataset name"):
        client.push("no/slash", tmp_path)
    with pytest.raises(data.DataError, match="a version is a number from 1"):
        client.get("bob/iris", version=0)
    with pytest.raises(data.DataError, match="cannot reach the platform") as refused:
        client.get("bob/iris")
    assert refused.value.status is None


def test_the_environment_names_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(data.DataError) as missing:
        data.Client.from_env({})
    message = str(missing.value)
    assert "LABWORKS_API_URL" in message and "JUPYTERHUB_API_TOKEN" in message
    with pytest.raises(data.DataError, match="LABWORKS_API_TOKEN") as no_token:
        data.Client.from_env({"LABWORKS_API_URL": "http://h/api/v1"})
    assert "LABWORKS_API_URL" not in str(no_token.value)
    with pytest.raises(data.DataError, match="must be http"):
        data.Client.from_env({"LABWORKS_API_URL": "file:///etc", "MLFLOW_TRACKING_TOKEN": "t"})
    env = {"LABWORKS_API_URL": "http://h/api/v1/", "JUPYTERHUB_API_TOKEN": "t",
           "LABWORKS_DATA_CACHE": str(tmp_path)}  # fmt: skip
    client = data.Client.from_env(env)
    assert (client.api_url, client.api.token, client.cache) == ("http://h/api/v1", "t", tmp_path)
    assert data.Client.from_env({**env, "LABWORKS_DATA_CACHE": ""}).cache == (
        Path.home() / ".cache/labworks/datasets"
    )


def test_push_uploads_only_missing_blobs_then_get_downloads_checks_and_reuses(
    api: tuple[data.Client, Store], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, store = api
    root = folder(tmp_path)
    store.blobs[sha(TRAIN)] = TRAIN  # train.csv is held already
    v1 = client.push("iris", root, message="first")
    puts = [p for m, p in store.requests if m == "PUT"]
    assert puts == [f"/api/v1/datasets/ada/iris/blobs/{sha(TEST)}"]
    assert (v1.ref, v1.number, v1.file_count, v1.size) == ("ada/iris", 1, 2, 16)
    assert v1.message == "first"
    assert v1.digest == data.manifest_digest(data.scan(root))
    assert v1.created.year == 2026

    got = client.get("iris")
    assert got == tmp_path / "cache" / "ada" / "iris" / "1"
    assert (got / "train.csv").read_bytes() == TRAIN
    assert (got / "sub" / "test.csv").read_bytes() == TEST
    assert sorted(p.name for p in got.rglob("*")) == ["sub", "test.csv", "train.csv"]
    assert (got.parent / "1.checked.json").is_file()  # beside the version's files

    # Read again: nothing downloaded, and files untouched since their check are not hashed.
    downloads = len([p for m, p in store.requests if "/blobs/" in p and m == "GET"])
    hashed: list[Path] = []
    real_hash = data._hash
    monkeypatch.setattr(data, "_hash", lambda path: hashed.append(path) or real_hash(path))
    assert client.get("iris") == got
    assert hashed == []
    assert len([p for m, p in store.requests if "/blobs/" in p and m == "GET"]) == downloads

    (got / "train.csv").write_bytes(b"edited")  # a changed cached file is fetched again
    assert client.get("ada/iris", version=1) == got
    assert (got / "train.csv").read_bytes() == TRAIN
    blob_gets = [p for m, p in store.requests if "/blobs/" in p and m == "GET"]
    assert len(blob_gets) == downloads + 1  # test.csv was intact: reused

    dest = client.get("iris", dest=tmp_path / "elsewhere")
    assert (dest / "sub" / "test.csv").read_bytes() == TEST


def test_a_download_that_does_not_match_is_never_put_in_place(
    api: tuple[data.Client, Store], tmp_path: Path
) -> None:
    client, store = api
    client.push("iris", folder(tmp_path))
    store.corrupt.add(sha(TRAIN))
    with pytest.raises(data.DataError, match=r"train\.csv: the download does not match"):
        client.get("iris")
    version = tmp_path / "cache" / "ada" / "iris" / "1"
    assert not (version / "train.csv").exists()
    assert not list(version.rglob("*.part"))  # the partial file is gone
    assert track.lineage({}).get("labworks.dataset.ada/iris") is None  # not a read
    store.corrupt.clear()
    store.cut.add(sha(TRAIN))  # as when the connection drops, or the process is stopped
    with pytest.raises(data.DataError, match=r"train\.csv: the download does not match"):
        client.get("iris")
    assert not (version / "train.csv").exists()
    assert not list(version.rglob("*.part"))
    store.cut.clear()
    assert (client.get("iris") / "train.csv").read_bytes() == TRAIN


def test_open_one_file_or_name_the_choices(api: tuple[data.Client, Store], tmp_path: Path) -> None:
    client, _ = api
    client.push("iris", folder(tmp_path))
    with pytest.raises(data.DataError, match=r"holds 2 files, give one of its paths: sub/test"):
        client.open("iris")
    with pytest.raises(data.DataError, match=r"it has no 'nope.csv': sub/test.csv, train.csv"):
        client.open("iris", "nope.csv")
    with client.open("iris", "sub/test.csv") as f:
        assert f.read() == TEST
    client.push("iris", tmp_path / "iris" / "train.csv")  # version 2: one file
    with client.open("iris") as f:
        assert f.read() == TRAIN
    assert [(v.number, v.file_count) for v in client.versions("iris")] == [(2, 1), (1, 2)]


def test_the_platforms_refusal_is_a_data_error_with_its_message_and_status(
    api: tuple[data.Client, Store],
) -> None:
    client, _ = api
    with pytest.raises(data.DataError) as missing:
        client.get("bob/other")
    assert (missing.value.message, missing.value.status) == ("no such dataset", 404)
    with pytest.raises(data.DataError, match=r"^bad token$") as refused:
        data.Client(client.api_url, "wrong").get("ada/iris")
    assert refused.value.status == 401


def test_a_read_tags_the_active_run_and_logs_its_input_once(
    api: tuple[data.Client, Store], tmp_path: Path, tracking: MlflowClient
) -> None:
    client, _ = api
    v1 = client.push("iris", folder(tmp_path))
    with mlflow.start_run() as active:
        client.get("iris")
        client.open("iris", "train.csv").close()  # the same version again: one input
    run = tracking.get_run(active.info.run_id)
    assert run.data.tags["labworks.dataset.ada/iris"] == "1"
    [logged] = run.inputs.dataset_inputs
    assert logged.dataset.name == "ada/iris"
    assert logged.dataset.digest == v1.digest.removeprefix("sha256:")[:32]
    source = json.loads(logged.dataset.source)["url"]
    assert source == f"{client.api_url}/datasets/ada/iris/versions/1"
    assert {t.key: t.value for t in logged.tags}["labworks.dataset.version"] == "1"


def test_reads_before_a_run_land_on_the_runs_started_later(
    api: tuple[data.Client, Store], tmp_path: Path, tracking: MlflowClient
) -> None:
    client, _ = api
    client.push("iris", folder(tmp_path))
    v2 = client.push("iris", tmp_path / "iris" / "train.csv")
    client.get("iris", version=1)
    client.get("iris")  # the last read wins the tag; both versions are inputs
    assert track.lineage({})["labworks.dataset.ada/iris"] == "2"
    assert track.LineageRunContext().in_context()  # a process that read data is in context
    with track.run(name="later") as active:
        pass
    run = tracking.get_run(active.info.run_id)
    assert run.data.tags["labworks.dataset.ada/iris"] == "2"
    inputs = {
        {t.key: t.value for t in i.tags}["labworks.dataset.version"]: i.dataset.digest
        for i in run.inputs.dataset_inputs
    }
    assert inputs.keys() == {"1", "2"}
    assert inputs["2"] == v2.digest[7:39]


def test_snapshot_asks_the_platform_to_copy_a_prefix_a_table_or_a_query(
    api: tuple[data.Client, Store],
) -> None:
    client, store = api
    v1 = client.snapshot("iris", "raw/2026/", message="december")
    assert (v1.ref, v1.number, v1.message) == ("ada/iris", 1, "december")
    client.snapshot("iris", "warehouse", table="sales.orders", limit=10)
    client.snapshot("iris", "warehouse/", sql="select 1")
    assert store.snapshots == [
        {"source": "raw", "prefix": "2026/", "message": "december"},
        {"source": "warehouse", "table": "sales.orders", "limit": 10, "message": ""},
        {"source": "warehouse", "sql": "select 1", "message": ""},
    ]
    assert store.requests[-1] == ("POST", "/api/v1/datasets/ada/iris/snapshot")
    with pytest.raises(data.DataError, match="not both"):
        client.snapshot("iris", "warehouse", table="a.b", sql="select 1")
    with pytest.raises(data.DataError, match="not from 'warehouse/sales'"):
        client.snapshot("iris", "warehouse/sales", table="a.b")
    with pytest.raises(data.DataError, match="not a dataset name"):
        client.snapshot("../iris", "raw/")
    assert len(store.snapshots) == 3


def test_datasets_is_the_data_module() -> None:
    from labworks import datasets

    assert datasets is data and datasets.snapshot is data.snapshot


def test_importing_data_does_not_import_mlflow() -> None:
    code = "import sys; from labworks import data; print('mlflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
