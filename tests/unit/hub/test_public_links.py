"""Links shown to people start with the platform's public URL (issue 15): MLflow prints its run
links from the tracking URI that workspaces and jobs get, so that URI is the public one; mails
link to the lab under it; `labworks up` hands it to the spawners and the platform service, and
an operator's `c.JupyterHub.public_url` wins."""

from __future__ import annotations

import json
import socket
from types import SimpleNamespace

import pytest
from traitlets.config import Config

from labworks_hub.hubconfig import HubSettings, render
from labworks_hub.profiles import DEFAULT_PROFILES
from labworks_hub.public_url import from_environment, listening_url, service_url
from labworks_hub.service.jobs.notify import EmailNotifier
from labworks_hub.service.jobs.service import JobService
from labworks_hub.service.tracking.env import tracking_env, tracking_uri
from tests.unit.hub.test_spawner import apply, make_spawner, no_gpus  # noqa: F401 (fixture)

API = "http://127.0.0.1:41377/services/labworks/api/v1"  # the service's internal address
PUBLIC = "http://127.0.0.1:8000/"


def test_the_public_url_comes_from_labworks_then_jupyterhub():
    assert from_environment({}) == ""
    assert from_environment({"LABWORKS_PUBLIC_URL": "https://lab.example.org"}) == (
        "https://lab.example.org/"
    )
    hub = {"JUPYTERHUB_PUBLIC_HUB_URL": "https://lab.example.org/prefix/hub/"}
    assert from_environment(hub) == "https://lab.example.org/prefix/"
    both = {**hub, "LABWORKS_PUBLIC_URL": "https://other.example.org/"}
    assert from_environment(both) == "https://other.example.org/"
    assert service_url("https://lab.example.org", "labworks", "mlflow") == (
        "https://lab.example.org/services/labworks/mlflow"
    )
    assert service_url("", "labworks", "mlflow") == ""


def test_the_listening_url_is_what_labworks_up_prints():
    assert listening_url("127.0.0.1", 8000) == PUBLIC
    assert listening_url("::1", 8000, "/lw/") == "http://[::1]:8000/lw/"
    assert listening_url("0.0.0.0", 8000) == f"http://{socket.getfqdn()}:8000/"  # noqa: S104


def test_the_tracking_uri_is_public_when_the_public_url_is_known():
    assert tracking_uri(API, PUBLIC) == "http://127.0.0.1:8000/services/labworks/mlflow"
    assert tracking_uri(API) == "http://127.0.0.1:41377/services/labworks/mlflow"
    env = tracking_env(API, "alice", "t0k", "https://lab.example.org/")
    assert env["MLFLOW_TRACKING_URI"] == "https://lab.example.org/services/labworks/mlflow"
    assert tracking_env("", "alice", "t0k", PUBLIC) == {}


def hub_config(tmp_path, local: dict | None = None) -> Config:
    """The config `labworks up --port 8000` writes, run as the hub runs it, with what
    jupyterhub_config.local.py sets."""
    settings = HubSettings(home=str(tmp_path), ip="127.0.0.1", port=8000, hub_port=1,
                           proxy_api_port=2, service_port=3, db_url="sqlite://")  # fmt: skip
    (tmp_path / "jupyterhub_config.local.py").write_text("# the operator's\n")
    config = Config()

    def load_subconfig(path: str) -> None:
        for section, values in (local or {}).items():
            config[section].update(values)

    namespace = {"get_config": lambda: config, "load_subconfig": load_subconfig}
    exec(render(settings), namespace)  # noqa: S102
    return config


def service_env(config: Config) -> dict:
    [service] = [s for s in config.JupyterHub.services if s["name"] == "labworks"]
    return service["environment"]


def test_labworks_up_hands_its_public_url_to_spawners_and_the_service(tmp_path):
    config = hub_config(tmp_path)
    assert service_env(config)["LABWORKS_PUBLIC_URL"] == PUBLIC
    assert config.WorkspaceSpawnerMixin.platform_public_url == PUBLIC
    assert "public_url" not in config.JupyterHub  # the hub itself is left as it was

    behind_a_proxy = hub_config(tmp_path, {"JupyterHub": {"public_url": "https://lab.example.org"}})
    assert service_env(behind_a_proxy)["LABWORKS_PUBLIC_URL"] == "https://lab.example.org/"
    assert behind_a_proxy.WorkspaceSpawnerMixin.platform_public_url == "https://lab.example.org/"
    assert json.loads(json.dumps(service_env(behind_a_proxy)))  # plain strings only


@pytest.mark.usefixtures("no_gpus")
async def test_workspace_kernels_track_through_the_public_url(tmp_path):
    spawner = make_spawner(tmp_path)
    spawner.platform_api_url = API
    spawner.platform_public_url = PUBLIC
    spawner.api_token = "server-token"
    await apply(spawner, {})
    env = spawner.workspace_env()
    assert env["MLFLOW_TRACKING_URI"] == "http://127.0.0.1:8000/services/labworks/mlflow"
    assert env["LABWORKS_PUBLIC_URL"] == PUBLIC
    assert env["LABWORKS_API_URL"] == API  # the platform API itself stays internal

    hubs = make_spawner(tmp_path)  # no Labworks setting: JupyterHub's public URL
    hubs.platform_api_url = API
    hubs.public_hub_url = "https://lab.example.org/hub/"
    await apply(hubs, {})
    assert hubs.workspace_env()["MLFLOW_TRACKING_URI"] == (
        "https://lab.example.org/services/labworks/mlflow"
    )


def job_run() -> SimpleNamespace:
    return SimpleNamespace(
        image="", owner="alice", id="j1", name="nb.ipynb", notebook_path="nb.ipynb",
        notebook_sha256="0" * 64, parameters={},
        environment={"kind": "local", "env_hash": "sha256:" + "e" * 64},
    )  # fmt: skip


def test_jobs_track_through_the_public_url(tmp_path, monkeypatch):
    monkeypatch.setenv("LABWORKS_PUBLIC_URL", PUBLIC)
    service = JobService(None, list(DEFAULT_PROFILES), state_dir=str(tmp_path), api_url=API)
    env = service.job_env(job_run(), DEFAULT_PROFILES[0], 1)
    assert env["MLFLOW_TRACKING_URI"] == "http://127.0.0.1:8000/services/labworks/mlflow"
    assert env["LABWORKS_PUBLIC_URL"] == PUBLIC
    assert env["LABWORKS_API_URL"] == API
    assert env["LABWORKS_ENV_HASH"] == "sha256:" + "e" * 64  # as the job's record shows
    assert service.notifiers["email"].lab_url() == "http://127.0.0.1:8000/hub/user-redirect/lab"

    monkeypatch.delenv("LABWORKS_PUBLIC_URL")
    internal = JobService(None, list(DEFAULT_PROFILES), state_dir=str(tmp_path), api_url=API)
    assert internal.job_env(job_run(), DEFAULT_PROFILES[0], 1)["MLFLOW_TRACKING_URI"] == (
        "http://127.0.0.1:41377/services/labworks/mlflow"
    )
    assert EmailNotifier().lab_url() == ""  # no public URL: no link rather than a dead one


def test_the_cli_in_a_workspace_prints_links_at_the_public_url(monkeypatch):
    """Inside a workspace the CLI talks to the hub's internal API, but a person opens what it
    prints: the workspace's and the share's addresses start with the public URL."""
    from labworks_hub.cli.sharing import _full_url
    from labworks_hub.cli.workspace import Hub

    monkeypatch.delenv("LABWORKS_URL", raising=False)
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "t0k")
    monkeypatch.setenv("JUPYTERHUB_API_URL", "http://127.0.0.1:41081/hub/api")
    monkeypatch.setenv("LABWORKS_PUBLIC_URL", "https://lab.example.org/lw/")
    hub = Hub.from_env()
    assert hub.api == "http://127.0.0.1:41081/hub/api"
    ready = {"servers": {"": {"ready": True, "url": "/lw/user/alice/"}}}
    assert hub.server_url(ready) == "https://lab.example.org/lw/user/alice/"
    assert _full_url("/lw/user/alice/lab") == "https://lab.example.org/lw/user/alice/lab"
