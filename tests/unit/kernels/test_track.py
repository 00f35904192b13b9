"""labworks.track: lineage tags from a git work tree, a workspace session and a job's variables,
landing on real runs in a local MLflow store."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import mlflow
import pytest
from mlflow.tracking import MlflowClient
from mlflow.tracking.context import registry

import labworks
from labworks import track

NOTEBOOK = json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        cwd=cwd, check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git work tree holding analysis/train.ipynb, committed on branch `main`."""
    root = tmp_path / "home"
    (root / "analysis").mkdir(parents=True)
    (root / "analysis" / "train.ipynb").write_text(NOTEBOOK)
    (root / "data.csv").write_text("a,b\n1,2\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "first")
    return root


def workspace_env(repo: Path) -> dict[str, str]:
    return {
        "HOME": str(repo),
        "JUPYTERHUB_USER": "alice",
        "JPY_SESSION_NAME": str(repo / "analysis" / "train.ipynb"),
        "LABWORKS_PROFILE": "cpu-small",
        "LABWORKS_IMAGE": "",
        "LABWORKS_IMAGE_DIGEST": "",
    }


def test_importing_labworks_does_not_import_mlflow() -> None:
    code = "import sys, labworks; print('mlflow' in sys.modules, 'labworks.track' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
    assert labworks.track is track  # loaded on first use


def test_lineage_in_a_workspace_git_repo_with_a_dirty_file(repo: Path) -> None:
    commit = git(repo, "rev-parse", "HEAD")
    tags = track.lineage(workspace_env(repo))
    assert tags["labworks.user"] == "alice"
    assert tags["labworks.notebook.path"] == "analysis/train.ipynb"
    assert tags["labworks.notebook.sha256"] == hashlib.sha256(NOTEBOOK.encode()).hexdigest()
    assert tags["mlflow.source.name"] == "analysis/train.ipynb"
    assert tags["labworks.git.commit"] == commit
    assert tags["labworks.git.branch"] == "main"
    assert tags["labworks.git.dirty"] == "false"
    assert tags["labworks.profile"] == "cpu-small"
    assert tags["labworks.env.hash"] == track.local_env_hash()
    assert tags["labworks.env.hash"].startswith("sha256:")
    assert not any(k.startswith("labworks.job.") for k in tags)

    (repo / "data.csv").write_text("a,b\n3,4\n")  # a tracked file changes
    assert track.lineage(workspace_env(repo))["labworks.git.dirty"] == "true"


def test_lineage_outside_git_and_with_a_relative_session_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "n.ipynb").write_text(NOTEBOOK)
    monkeypatch.chdir(tmp_path)
    env = {
        "HOME": str(tmp_path),
        "JPY_SESSION_NAME": "n.ipynb",
        "LABWORKS_IMAGE_DIGEST": "sha256:ab",
    }
    tags = track.lineage(env)
    assert tags["labworks.notebook.path"] == "n.ipynb"
    assert tags["labworks.image.digest"] == "sha256:ab"
    assert "labworks.env.hash" not in tags
    assert not any(k.startswith("labworks.git.") for k in tags)


def test_lineage_in_a_job_from_its_variables(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo / "analysis")  # a job runs in its notebook's folder
    env = {
        "HOME": str(repo),
        "JUPYTERHUB_USER": "bob",
        "LABWORKS_JOB_ID": "job-123",
        "LABWORKS_JOB_NAME": "nightly",
        "LABWORKS_JOB_ATTEMPT": "2",
        "LABWORKS_JOB_NOTEBOOK_PATH": "analysis/train.ipynb",
        "LABWORKS_JOB_NOTEBOOK_SHA256": "f" * 64,
        "LABWORKS_JOB_PARAMETERS": json.dumps({"lr": 0.1, "name": "x", "layers": [1, 2]}),
        "LABWORKS_RECORDED_IMAGE": "reg.example/ds:1",
        "LABWORKS_RECORDED_IMAGE_DIGEST": "sha256:" + "1" * 64,
    }
    tags = track.lineage(env)
    assert tags["labworks.user"] == "bob"
    assert tags["labworks.job.id"] == "job-123"
    assert tags["labworks.job.name"] == "nightly"
    assert tags["labworks.job.attempt"] == "2"
    assert tags["labworks.notebook.path"] == "analysis/train.ipynb"
    assert tags["labworks.notebook.sha256"] == "f" * 64
    assert tags["labworks.param.lr"] == "0.1"
    assert tags["labworks.param.name"] == "x"
    assert tags["labworks.param.layers"] == "[1, 2]"
    assert tags["labworks.image"] == "reg.example/ds:1"
    assert tags["labworks.image.digest"] == "sha256:" + "1" * 64
    assert tags["labworks.git.commit"] == git(repo, "rev-parse", "HEAD")
    local = {k: v for k, v in env.items() if "IMAGE" not in k}  # a local job: no image digest
    assert track.lineage(local)["labworks.env.hash"] == track.local_env_hash()
    recorded = {**local, "LABWORKS_ENV_HASH": "sha256:" + "2" * 64}  # what the platform recorded
    assert track.lineage(recorded)["labworks.env.hash"] == "sha256:" + "2" * 64


class JobApi(BaseHTTPRequestHandler):
    """The platform's ``GET /api/v1/jobs/<id>`` (a stand-in HTTP server: the platform service
    itself is exercised in the integration tests); other tokens get 401."""

    def do_GET(self) -> None:
        ok = self.path == "/api/v1/jobs/job-9" and self.headers["Authorization"] == "token tk"
        body = {"notebook_path": "w/n.ipynb", "notebook_sha256": "a" * 64, "parameters": {"k": 3}}
        self.send_response(200 if ok else 401)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps(body if ok else {"error": "unauthorized"}).encode())

    def log_message(self, *args: object) -> None:
        pass


def test_lineage_in_a_job_asks_the_platform_when_its_variables_lack_the_notebook(
    tmp_path: Path,
) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), JobApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        api = f"http://127.0.0.1:{server.server_address[1]}/api/v1"
        env = {"HOME": str(tmp_path), "LABWORKS_JOB_ID": "job-9", "LABWORKS_API_URL": api}
        tags = track.lineage({**env, "JUPYTERHUB_API_TOKEN": "tk"})
        assert tags["labworks.notebook.path"] == "w/n.ipynb"
        assert tags["labworks.notebook.sha256"] == "a" * 64
        assert tags["labworks.param.k"] == "3"
        refused = track.lineage({**env, "JUPYTERHUB_API_TOKEN": "wrong"})
        assert refused["labworks.job.id"] == "job-9"
        assert "labworks.notebook.path" not in refused
    finally:
        server.shutdown()
        server.server_close()


def test_lineage_in_a_job_without_an_answering_platform(tmp_path: Path) -> None:
    """The job's own variables still land when the platform API cannot be asked."""
    env = {"HOME": str(tmp_path), "LABWORKS_JOB_ID": "j1", "LABWORKS_API_URL": "http://127.0.0.1:9/api/v1",
           "LABWORKS_API_TOKEN": "t"}  # fmt: skip
    tags = track.lineage(env)
    assert tags["labworks.job.id"] == "j1"
    assert "labworks.notebook.path" not in tags


def test_run_tags_a_real_run(
    repo: Path, tracking: MlflowClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in workspace_env(repo).items():
        monkeypatch.setenv(name, value)
    with track.run("first", experiment="lineage-test", tags={"team": "vision"}) as active:
        mlflow.log_metric("loss", 0.5)
    stored = tracking.get_run(active.info.run_id)
    experiment = tracking.get_experiment_by_name("lineage-test")
    assert experiment is not None and stored.info.experiment_id == experiment.experiment_id
    assert stored.info.run_name == "first"
    assert stored.info.status == "FINISHED"
    assert stored.data.metrics["loss"] == 0.5
    assert stored.data.tags["team"] == "vision"
    assert stored.data.tags["labworks.user"] == "alice"
    assert stored.data.tags["labworks.notebook.path"] == "analysis/train.ipynb"
    assert stored.data.tags["labworks.git.commit"] == git(repo, "rev-parse", "HEAD")
    with track.run(experiment="lineage-test") as second:  # the experiment exists now
        pass
    assert tracking.get_run(second.info.run_id).info.experiment_id == experiment.experiment_id


def test_plain_start_run_gets_lineage_through_the_context_provider(
    repo: Path, tracking: MlflowClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the `mlflow.run_context_provider` entry point does, registered in-process."""
    for name, value in workspace_env(repo).items():
        monkeypatch.setenv(name, value)
    providers = registry._run_context_provider_registry._registry
    monkeypatch.setattr(
        registry._run_context_provider_registry,
        "_registry",
        [*providers, track.LineageRunContext()],
    )
    with mlflow.start_run() as active:
        pass
    tags = tracking.get_run(active.info.run_id).data.tags
    assert tags["labworks.notebook.path"] == "analysis/train.ipynb"
    assert tags["mlflow.source.name"] == "analysis/train.ipynb"
    assert tags["labworks.git.dirty"] == "false"

    monkeypatch.delenv("JPY_SESSION_NAME")  # not a Labworks kernel: no lineage
    assert not track.LineageRunContext().in_context()
