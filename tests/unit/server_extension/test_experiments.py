"""``/labworks/mlflow/...`` and ``/labworks/experiments/...`` against a real jupyter_server with
the extension, forwarding over real HTTP to a real, plain ``mlflow server`` (SQLite, served
artifacts) laid out like the platform's: at ``/services/labworks/mlflow`` beside the API root.
The runs are logged with the stock ``mlflow`` client."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPResponse

from labworks_server import experiments
from labworks_server.experiments import runs_csv
from labworks_server.tracking import ArtifactTooLarge, _Stream, tracking_url

from .conftest import IDP_USER, closed_port

PREFIX = "/services/labworks"
SEARCH = "mlflow/api/2.0/mlflow/runs/search"


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A plain ``mlflow server`` at ``<url>/services/labworks/mlflow``; yields ``<url>``."""
    root = tmp_path_factory.mktemp("mlflow")
    port = closed_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
         "--workers", "1", "--backend-store-uri", f"sqlite:///{root / 'mlflow.sqlite'}",
         "--serve-artifacts", "--artifacts-destination", str(root / "artifacts"),
         "--static-prefix", f"{PREFIX}/mlflow"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        env={**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"},
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(f"{url}{PREFIX}/mlflow/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, "mlflow server exited"
            assert time.monotonic() < deadline, "mlflow server did not answer in 180 s"
            time.sleep(0.25)
        yield url
    finally:  # the server, its uvicorn worker and its job runners: one process group
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture(scope="module")
def logged(mlflow_server: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Three runs logged with the stock client: params, metric histories (``log_batch`` too),
    tags and artifacts."""
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param, RunTag

    client = MlflowClient(tracking_uri=f"{mlflow_server}{PREFIX}/mlflow")
    experiment = client.create_experiment("panel-tests")
    files = tmp_path_factory.mktemp("artifacts")
    (files / "notes.txt").write_text("hello from a run\n")
    (files / "weights.bin").write_bytes(bytes(range(256)) * 64)
    runs = {}
    for name, lr, acc in (("alpha", "0.1", 0.6), ("beta", "0.01", 0.9), ("gamma", "=cmd()", 0.3)):
        run = client.create_run(experiment, run_name=name, tags={"team": "vision"})
        rid = run.info.run_id
        now = int(time.time() * 1000)
        client.log_batch(
            rid,
            metrics=[Metric("loss", 1.0 / (s + 1), now, s) for s in range(5)]
            + [Metric("acc", acc, now, 4)],
            params=[Param("lr", lr), Param("epochs", "5")],
            tags=[RunTag("labworks.job.id", "4f0c2a9e81d3")] if name == "beta" else [],
        )
        client.log_artifact(rid, str(files / "notes.txt"))
        client.log_artifact(rid, str(files / "weights.bin"), "model")
        client.set_terminated(rid)
        runs[name] = rid
    return {"experiment": experiment, "runs": runs, "weights": (files / "weights.bin").read_bytes()}


@pytest.fixture
def platform_api_url(mlflow_server: str) -> str:
    return f"{mlflow_server}{PREFIX}/api/v1"


@pytest.fixture(autouse=True)
def owner(workspace_env: pytest.MonkeyPatch) -> str:
    """The test token's user owns the workspace (the tracking routes are the owner's)."""
    workspace_env.setenv("JUPYTERHUB_USER", IDP_USER)
    return IDP_USER


@pytest.fixture
def lab(http_server: Any, jp_http_port: int, jp_base_url: str, jp_auth_header: dict[str, str]):
    """``await lab(method, path, body)``: a request from the lab to its own server."""

    async def fetch(method: str, path: str, body: Any = None) -> HTTPResponse:
        return await AsyncHTTPClient().fetch(
            f"http://127.0.0.1:{jp_http_port}{jp_base_url}labworks/{path}",
            method=method,
            headers=jp_auth_header,
            body=None if body is None else json.dumps(body),
            raise_error=False,
            request_timeout=60,
        )

    return fetch


def answer_of(response: HTTPResponse) -> Any:
    assert response.headers["Content-Type"].startswith("application/json"), response.body
    return json.loads(response.body)


def run_names(answer: dict[str, Any]) -> list[str]:
    return [run["info"]["run_name"] for run in answer.get("runs", [])]


def test_the_tracking_server_sits_beside_the_api_root() -> None:
    assert (
        tracking_url("http://h:1/services/labworks/api/v1") == "http://h:1/services/labworks/mlflow"
    )
    assert (
        tracking_url("http://h:1/services/labworks/api/v1/")
        == "http://h:1/services/labworks/mlflow"
    )
    assert tracking_url("") == ""


async def test_search_pages_through_runs_with_mlflow_filter_and_order(
    lab: Any, logged: dict[str, Any]
) -> None:
    query = {
        "experiment_ids": [logged["experiment"]],
        "filter": "metrics.acc > 0.5 and tags.team = 'vision'",
        "order_by": ["metrics.acc DESC"],
        "max_results": 1,
    }
    first = answer_of(await lab("POST", SEARCH, query))
    assert run_names(first) == ["beta"]
    assert first["next_page_token"]
    second = answer_of(await lab("POST", SEARCH, {**query, "page_token": first["next_page_token"]}))
    assert run_names(second) == ["alpha"]
    assert not second.get("next_page_token")
    everything = answer_of(await lab("POST", SEARCH, {**query, "filter": "", "max_results": 10}))
    assert sorted(run_names(everything)) == ["alpha", "beta", "gamma"]


async def test_a_bad_filter_comes_back_as_mlflows_own_message(
    lab: Any, logged: dict[str, Any]
) -> None:
    reply = await lab(
        "POST", SEARCH, {"experiment_ids": [logged["experiment"]], "filter": "metrics.acc >>> 1"}
    )
    assert reply.code == 400
    answer = answer_of(reply)
    assert answer["error"] == "INVALID_PARAMETER_VALUE"
    assert "Invalid comparator '>>>'" in answer["message"]


async def test_get_routes_forward_their_query(lab: Any, logged: dict[str, Any]) -> None:
    alpha, beta = logged["runs"]["alpha"], logged["runs"]["beta"]
    run = answer_of(await lab("GET", f"mlflow/api/2.0/mlflow/runs/get?run_id={beta}"))["run"]
    assert {t["key"]: t["value"] for t in run["data"]["tags"]}["labworks.job.id"] == "4f0c2a9e81d3"
    reply = await lab(
        "GET",
        "mlflow/api/2.0/mlflow/metrics/get-history-bulk-interval"
        f"?run_ids={alpha}&run_ids={beta}&metric_key=loss&max_results=100",
    )
    history = answer_of(reply)["metrics"]
    assert sorted((m["run_id"], m["step"]) for m in history) == sorted(
        (r, s) for r in (alpha, beta) for s in range(5)
    )
    listing = answer_of(
        await lab("GET", f"mlflow/api/2.0/mlflow/artifacts/list?run_id={alpha}&path=model")
    )
    assert listing["files"] == [{"path": "model/weights.bin", "is_dir": False, "file_size": 16384}]
    missing = await lab("GET", "mlflow/api/2.0/mlflow/runs/get?run_id=0123456789abcdef")
    assert missing.code == 404
    assert answer_of(missing)["error"] == "RESOURCE_DOES_NOT_EXIST"


async def test_only_mlflows_rest_api_is_forwarded(lab: Any) -> None:
    for path in ("mlflow/", "mlflow/health", "mlflow/api/2.0/mlflow-artifacts/artifacts/x"):
        assert (await lab("GET", path)).code == 404, path


async def test_the_lab_never_writes_runs_or_deletes_through_the_forward(
    lab: Any, logged: dict[str, Any]
) -> None:
    alpha = logged["runs"]["alpha"]
    for endpoint, body in (
        ("runs/delete", {"run_id": alpha}),
        ("runs/log-metric", {"run_id": alpha, "key": "x", "value": 1, "timestamp": 0}),
        ("experiments/delete", {"experiment_id": "0"}),
    ):
        reply = await lab("POST", f"mlflow/api/2.0/mlflow/{endpoint}", body)
        assert reply.code == 403, endpoint
        assert f"the lab does not send POST {endpoint} to MLflow" in answer_of(reply)["message"]
    run = answer_of(await lab("GET", f"mlflow/api/2.0/mlflow/runs/get?run_id={alpha}"))["run"]
    assert run["info"]["lifecycle_stage"] == "active"  # nothing reached MLflow
    assert "x" not in {m["key"] for m in run["data"].get("metrics", [])}


async def test_an_artifact_downloads_as_an_attachment(lab: Any, logged: dict[str, Any]) -> None:
    alpha = logged["runs"]["alpha"]
    reply = await lab("GET", f"experiments/runs/{alpha}/artifact?path=model/weights.bin")
    assert reply.code == 200
    assert reply.body == logged["weights"]
    assert reply.headers["Content-Type"] == "application/octet-stream"
    assert reply.headers["Content-Disposition"] == "attachment; filename*=UTF-8''weights.bin"
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    text = await lab("GET", f"experiments/runs/{alpha}/artifact?path=./notes.txt")
    assert text.body == b"hello from a run\n"


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("../../etc/passwd", 400, 'give the artifact\'s "path" inside the run'),
        ("", 400, 'give the artifact\'s "path" inside the run'),
        ("nothing-here.txt", 404, "has no artifact file nothing-here.txt"),
        ("model", 404, "has no artifact file model"),
    ],
)
async def test_a_wrong_artifact_path_is_a_clear_error(
    lab: Any, logged: dict[str, Any], path: str, status: int, message: str
) -> None:
    reply = await lab("GET", f"experiments/runs/{logged['runs']['alpha']}/artifact?path={path}")
    assert reply.code == status
    assert message in answer_of(reply)["message"]


async def test_an_artifact_over_the_limit_is_refused_before_any_byte(
    lab: Any, logged: dict[str, Any], jp_serverapp: Any
) -> None:
    # LabworksServerApp.artifact_download_limit, as the extension put it in the settings.
    settings = jp_serverapp.web_app.settings
    assert settings[experiments.ARTIFACT_LIMIT_SETTING] == experiments.MAX_ARTIFACT_BYTES
    settings[experiments.ARTIFACT_LIMIT_SETTING] = 10 * 1024
    alpha = logged["runs"]["alpha"]
    reply = await lab("GET", f"experiments/runs/{alpha}/artifact?path=model/weights.bin")
    assert reply.code == 413
    message = answer_of(reply)["message"]
    assert message.startswith(
        "model/weights.bin is too large to download through the lab (16 KiB, more than 10 KiB)"
    )
    assert (
        f"mlflow artifacts download --run-id {alpha} --artifact-path model/weights.bin" in message
    )
    small = await lab("GET", f"experiments/runs/{alpha}/artifact?path=notes.txt")
    assert small.code == 200


def test_a_stream_without_a_size_stops_at_the_limit() -> None:
    taken: list[bytes] = []
    sizes: list[int | None] = []
    stream = _Stream(taken.append, 10, sizes.append)
    for line in ("HTTP/1.1 200 OK\r\n", "Transfer-Encoding: chunked\r\n", "\r\n"):
        stream.header(line)
    stream.chunk(b"12345678")
    with pytest.raises(ArtifactTooLarge):
        stream.chunk(b"9abc")
    assert taken == [b"12345678"]
    assert sizes == [None]


async def test_export_writes_the_runs_as_csv(lab: Any, logged: dict[str, Any]) -> None:
    runs = logged["runs"]
    reply = await lab("POST", "experiments/runs/export", {"run_ids": [runs["beta"], runs["gamma"]]})
    assert reply.code == 200
    assert reply.headers["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(reply.body.decode())))
    assert [r["run_name"] for r in rows] == ["beta", "gamma"]
    beta, gamma = rows
    assert beta["params.lr"] == "0.01"
    assert beta["metrics.acc"] == "0.9"
    assert beta["metrics.loss"] == "0.2"  # the latest value
    assert beta["tags.labworks.job.id"] == "4f0c2a9e81d3"
    assert beta["status"] == "FINISHED"
    assert beta["start_time"].endswith("+00:00")
    assert gamma["params.lr"] == "'=cmd()"  # shown as text by a spreadsheet, never run
    assert gamma["tags.labworks.job.id"] == ""


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, '"run_ids" must be a list of run ids'),
        ({"run_ids": []}, '"run_ids" must be a list of run ids'),
        ({"run_ids": ["../x"]}, '"run_ids" must be a list of run ids'),
        ({"run_ids": ["a"] * 1001}, "export at most 1000 runs at once, not 1001"),
    ],
)
async def test_export_refuses_bad_input(lab: Any, body: Any, message: str) -> None:
    reply = await lab("POST", "experiments/runs/export", body)
    assert reply.code == 400
    assert answer_of(reply)["message"] == message


def test_csv_keeps_numbers_as_numbers_and_text_as_text() -> None:
    run = {
        "info": {"run_id": "r1", "run_name": "-1", "start_time": 0},
        "data": {
            "metrics": [{"key": "m", "value": -0.5}, {"key": "n", "value": "NaN"}],
            "params": [{"key": "p", "value": "-3"}, {"key": "q", "value": "@home"}],
        },
    }
    header, row = list(csv.reader(io.StringIO(runs_csv([run]))))
    values = dict(zip(header, row, strict=True))
    assert values["run_name"] == "-1"
    assert values["metrics.m"] == "-0.5"
    assert values["metrics.n"] == "NaN"
    assert values["params.p"] == "-3"
    assert values["params.q"] == "'@home"
    assert values["start_time"] == ""


async def test_only_the_owner_may_use_the_tracking_routes(
    lab: Any, logged: dict[str, Any], workspace_env: pytest.MonkeyPatch
) -> None:
    workspace_env.setenv("JUPYTERHUB_USER", "someone-else")
    alpha = logged["runs"]["alpha"]
    for method, path, body in (
        ("POST", SEARCH, {"experiment_ids": [logged["experiment"]]}),
        ("GET", f"mlflow/api/2.0/mlflow/runs/get?run_id={alpha}", None),
        ("GET", f"experiments/runs/{alpha}/artifact?path=notes.txt", None),
        ("POST", "experiments/runs/export", {"run_ids": [alpha]}),
    ):
        reply = await lab(method, path, body)
        assert reply.code == 403, path
        assert "only someone-else, who owns this workspace" in answer_of(reply)["message"]


@pytest.mark.parametrize(
    "platform_api_url", [f"http://127.0.0.1:{closed_port()}/api/v1"], ids=["closed-port"]
)
async def test_an_unreachable_tracking_server_is_a_502_without_the_token(
    lab: Any, hub_token: str, platform_api_url: str
) -> None:
    reply = await lab("POST", SEARCH, {"experiment_ids": ["1"]})
    assert reply.code == 502
    answer = answer_of(reply)
    assert answer["error"] == "tracking_unreachable"
    assert "tracking server unreachable at http://127.0.0.1:" in answer["message"]
    assert hub_token not in reply.body.decode()
