"""TensorBoard in the lab: real ``tensorboard`` processes behind the server's proxy route, for a
workspace folder and for a run's artifacts in a real (SQLite) MLflow store."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import mlflow
import pytest
from tensorboard.summary import Writer
from tornado.httpclient import AsyncHTTPClient, HTTPResponse
from traitlets.config import Config

from labworks_server.tensorboard import MANAGER_SETTING, TensorBoardManager

from .conftest import IDP_USER


def write_events(folder: Path, tag: str = "loss") -> None:
    """A real TensorBoard event file with three scalar points."""
    writer = Writer(str(folder))
    for step in range(3):
        writer.add_scalar(tag, 1.0 / (step + 1), step)
    writer.close()


@pytest.fixture
def tracking_uri(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'mlflow.db'}"


@pytest.fixture
def jp_server_config(jp_server_config: Config, tmp_path: Path, tracking_uri: str) -> Config:
    config = Config(jp_server_config)
    config["TensorBoardManager"] = Config(
        {
            "cache_dir": str(tmp_path / "tb-cache"),
            "tracking_uri": tracking_uri,
        }
    )
    return config


@pytest.fixture(autouse=True)
def owner(workspace_env: pytest.MonkeyPatch) -> str:
    workspace_env.setenv("JUPYTERHUB_USER", IDP_USER)
    return IDP_USER


@pytest.fixture
async def boards(jp_serverapp: Any) -> Any:
    """The server's manager; every TensorBoard is stopped after the test."""
    yield None
    manager: TensorBoardManager | None = jp_serverapp.web_app.settings.get(MANAGER_SETTING)
    if manager is not None:
        await manager.stop_all()


@pytest.fixture
def lab(http_server: Any, jp_http_port: int, jp_auth_header: dict[str, str]):
    """``await lab(method, path, body)``: an authenticated request to the server (absolute path)."""

    async def fetch(method: str, path: str, body: Any = None) -> HTTPResponse:
        return await AsyncHTTPClient().fetch(
            f"http://127.0.0.1:{jp_http_port}{path}",
            method=method,
            headers=jp_auth_header,
            body=None if body is None else json.dumps(body),
            raise_error=False,
            request_timeout=120,
        )

    return fetch


async def open_board(lab: Any, base_url: str, body: dict[str, str]) -> dict[str, Any]:
    response = await lab("POST", f"{base_url}labworks/tensorboard", body)
    assert response.code == 200, response.body
    return json.loads(response.body)


async def test_a_workspace_folder_opens_in_tensorboard_through_the_proxy(
    lab: Any, boards: None, jp_base_url: str, jp_root_dir: Path
) -> None:
    write_events(jp_root_dir / "logs" / "exp1")
    board = await open_board(lab, jp_base_url, {"logdir": "logs"})
    assert board["url"] == f"{jp_base_url}labworks/tensorboard/{board['id']}/"
    assert board["logdir"] == "logs"

    runs = await lab("GET", board["url"] + "data/runs")
    assert runs.code == 200, runs.body
    assert json.loads(runs.body) == ["exp1"]
    page = await lab("GET", board["url"])
    assert page.code == 200
    assert b"<tb-webapp>" in page.body

    again = await open_board(lab, jp_base_url, {"logdir": "logs/"})  # one process per logdir
    assert again["id"] == board["id"]
    listed = json.loads((await lab("GET", f"{jp_base_url}labworks/tensorboard")).body)
    assert [b["id"] for b in listed["tensorboards"]] == [board["id"]]

    stopped = await lab("DELETE", f"{jp_base_url}labworks/tensorboard/{board['id']}")
    assert stopped.code == 204
    gone = await lab("GET", board["url"] + "data/runs")
    assert gone.code == 404
    listed = json.loads((await lab("GET", f"{jp_base_url}labworks/tensorboard")).body)
    assert listed["tensorboards"] == []


async def test_a_runs_tensorboard_artifacts_open(
    lab: Any, boards: None, jp_base_url: str, tmp_path: Path, tracking_uri: str
) -> None:
    logs = tmp_path / "training"
    write_events(logs / "train", tag="accuracy")
    mlflow.set_tracking_uri(tracking_uri)
    try:
        experiment = mlflow.create_experiment("tb", artifact_location=(tmp_path / "art").as_uri())
        with mlflow.start_run(experiment_id=experiment) as run:
            mlflow.log_artifacts(str(logs), artifact_path="tensorboard")
        with mlflow.start_run(experiment_id=experiment) as bare:
            pass
    finally:
        mlflow.set_tracking_uri(None)

    board = await open_board(lab, jp_base_url, {"run_id": run.info.run_id})
    assert board["run_id"] == run.info.run_id
    tags = await lab("GET", board["url"] + "data/plugin/scalars/tags")
    assert tags.code == 200, tags.body
    assert "accuracy" in json.loads(tags.body)["train"]

    missing = await lab("POST", f"{jp_base_url}labworks/tensorboard", {"run_id": bare.info.run_id})
    assert missing.code in (404, 502)
    assert "tensorboard/" in json.loads(missing.body)["message"]


async def test_an_idle_tensorboard_stops(
    lab: Any, boards: None, jp_base_url: str, jp_root_dir: Path, jp_serverapp: Any
) -> None:
    write_events(jp_root_dir / "idle")
    board = await open_board(lab, jp_base_url, {"logdir": "idle"})
    manager: TensorBoardManager = jp_serverapp.web_app.settings[MANAGER_SETTING]
    process = manager.boards[board["id"]].process
    manager.idle_timeout = 0.5
    manager._idle_check = None  # re-arm the check at the new, tiny period
    manager._watch_idle()
    deadline = time.monotonic() + 30
    while (manager.boards or process.returncode is None) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    assert manager.boards == {}
    assert process.returncode is not None
    assert (await lab("GET", board["url"] + "data/runs")).code == 404


async def test_bad_requests_get_clear_errors(
    lab: Any, boards: None, jp_base_url: str, jp_root_dir: Path
) -> None:
    url = f"{jp_base_url}labworks/tensorboard"
    cases = [
        ({}, 400, 'either "logdir" or "run_id"'),
        ({"logdir": "../../etc"}, 400, "outside the workspace"),
        ({"logdir": "nope"}, 404, "no folder"),
        ({"logdir": 5}, 400, "are strings"),
        ({"run_id": "../x"}, 400, "not an MLflow run id"),
    ]
    for body, status, text in cases:
        response = await lab("POST", url, body)
        assert response.code == status, (body, response.body)
        answer = json.loads(response.body)
        assert text in answer["message"] and answer["error"]
    assert (await lab("DELETE", f"{url}/0123456789ab")).code == 404


async def test_only_the_owner_may_use_tensorboard(
    lab: Any,
    boards: None,
    jp_base_url: str,
    jp_root_dir: Path,
    jp_http_port: int,
    workspace_env: pytest.MonkeyPatch,
) -> None:
    write_events(jp_root_dir / "mine")
    board = await open_board(lab, jp_base_url, {"logdir": "mine"})
    workspace_env.setenv("JUPYTERHUB_USER", "someone-else")  # the caller is not the owner now
    for method, path in [
        ("GET", f"{jp_base_url}labworks/tensorboard"),
        ("POST", f"{jp_base_url}labworks/tensorboard"),
        ("DELETE", f"{jp_base_url}labworks/tensorboard/{board['id']}"),
        ("GET", board["url"] + "data/runs"),
    ]:
        response = await lab(method, path, {"logdir": "mine"} if method == "POST" else None)
        assert response.code == 403, (method, path, response.body)
    anonymous = await AsyncHTTPClient().fetch(
        f"http://127.0.0.1:{jp_http_port}{board['url']}data/runs",
        raise_error=False, follow_redirects=False,
    )  # fmt: skip
    assert anonymous.code in (302, 401, 403)


def test_a_tensorboard_does_not_outlive_a_killed_server(tmp_path: Path) -> None:
    """What the server starts TensorBoard with: a SIGKILL of the server still ends it."""
    script = (
        "import subprocess, sys, time\n"
        "from labworks_server.tensorboard import _die_with_parent\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'],"
        " preexec_fn=_die_with_parent)\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(120)\n"
    )
    server = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    child = int(server.stdout.readline())
    assert alive(child)
    server.kill()
    server.wait()
    deadline = time.monotonic() + 30
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(child)


def alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie nobody reaps does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat[stat.rindex(")") + 2] not in "ZX"
