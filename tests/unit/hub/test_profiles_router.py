"""GET /profiles of the platform service in-process (real app, real SQLite store, real job
service), with the hub's token check answered over HTTP by a small stand-in for JupyterHub's
REST API. GPUs cannot exist here: the job executor's GPU list is set through its config."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from labworks_hub.service.app import create_app
from labworks_hub.service.settings import ServiceSettings
from tests.fake_hub import ACCESS, SERVICE_TOKEN, Owner, fake_hub_api

API = "/services/labworks/api/v1"
TOKENS = {"ana-token": Owner("ana", groups=("ml",)), "cal-token": Owner("cal")}
PROFILES = [
    {"name": "cpu-small", "display_name": "CPU small", "description": "2 cores, 4 GiB",
     "cpu_limit": 2, "mem_limit": "4Gi"},
    {"name": "ml-only", "display_name": "ML team", "cpu_limit": 1, "groups": ["ml"]},
    {"name": "gpu-1", "display_name": "1 GPU", "cpu_limit": 4, "mem_limit": "16Gi",
     "gpu_count": 1, "gpu_model": "H100"},
    {"name": "huge", "display_name": "Huge", "cpu_limit": 64},
    {"name": "free", "display_name": "Unlimited"},
]  # fmt: skip


@pytest.fixture(scope="module")
def hub_api() -> Iterator[str]:
    with fake_hub_api(TOKENS) as url:
        yield url


@pytest.fixture(autouse=True)
def service_scopes(monkeypatch: pytest.MonkeyPatch) -> None:
    """What JupyterHub sets for its managed service: tokens need access to it."""
    monkeypatch.setenv("JUPYTERHUB_OAUTH_ACCESS_SCOPES", json.dumps([ACCESS]))


def platform(tmp_path, hub_api: str, gpus: list[int]) -> TestClient:
    settings = ServiceSettings.from_env(
        {
            "LABWORKS_DB_URL": f"sqlite:///{tmp_path / 'store.sqlite'}",
            "LABWORKS_STATE_DIR": str(tmp_path / "state"),
            "JUPYTERHUB_SERVICE_PREFIX": "/services/labworks/",
            "JUPYTERHUB_API_URL": hub_api,
            "JUPYTERHUB_API_TOKEN": SERVICE_TOKEN,
            "LABWORKS_PROFILES": json.dumps({"profiles": PROFILES}),
            "LABWORKS_JOBS_CONFIG": json.dumps(
                {"LocalExecutor": {"gpus": gpus, "cpu_capacity": 8.0, "isolation": "off"}}
            ),
        }
    )
    return TestClient(create_app(settings))


def listed(client: TestClient, token: str) -> dict[str, dict]:
    reply = client.get(API + "/profiles", headers={"Authorization": f"token {token}"})
    assert reply.status_code == 200, reply.text
    return {p["name"]: p for p in reply.json()["profiles"]}


def test_profiles_list_what_each_gives_and_whether_jobs_can_run_on_it(tmp_path, hub_api):
    with platform(tmp_path, hub_api, gpus=[]) as client:
        profiles = listed(client, "ana-token")

    assert list(profiles) == ["cpu-small", "ml-only", "gpu-1", "huge", "free"]
    assert profiles["cpu-small"] == {
        "name": "cpu-small", "display_name": "CPU small", "description": "2 cores, 4 GiB",
        "cpu_limit": 2.0, "mem_limit": 4 * 2**30, "gpu_count": 0, "gpu_model": "",
        "default": True, "available": True, "reason": None,
    }  # fmt: skip
    assert [p["default"] for p in profiles.values()] == [True, False, False, False, False]
    assert profiles["ml-only"]["available"] is True  # ana is in ml
    assert profiles["gpu-1"]["available"] is False
    gpu_reason = "cannot run jobs here: needs 1 GPU(s); jobs here have no GPU"
    assert profiles["gpu-1"]["reason"] == gpu_reason
    assert profiles["gpu-1"]["gpu_model"] == "H100"
    assert profiles["huge"]["reason"] == "cannot run jobs here: needs 64 CPUs; jobs here have 8"
    assert profiles["free"] == {**profiles["free"], "cpu_limit": None, "mem_limit": None,
                                "available": True}  # fmt: skip


def test_a_profile_of_other_groups_is_listed_as_unavailable_with_the_reason(tmp_path, hub_api):
    with platform(tmp_path, hub_api, gpus=[]) as client:
        profiles = listed(client, "cal-token")

    assert profiles["ml-only"]["available"] is False
    assert profiles["ml-only"]["reason"] == "limited to groups ml"
    assert profiles["cpu-small"]["available"] is True


def test_a_gpu_profile_is_available_where_jobs_have_a_gpu(tmp_path, hub_api):
    with platform(tmp_path, hub_api, gpus=[0]) as client:
        profiles = listed(client, "ana-token")

    assert profiles["gpu-1"]["available"] is True
    assert profiles["gpu-1"]["reason"] is None


def test_profiles_need_a_valid_token(tmp_path, hub_api):
    with platform(tmp_path, hub_api, gpus=[]) as client:
        missing = client.get(API + "/profiles")
        wrong = client.get(API + "/profiles", headers={"Authorization": "token nope"})

    assert missing.status_code == 401
    assert missing.json()["error"] == "unauthorized"
    assert wrong.status_code == 401
    assert wrong.json() == {"error": "unauthorized", "message": "invalid or expired token"}
    assert "nope" not in wrong.text
