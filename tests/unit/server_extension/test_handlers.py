"""``GET /labworks/workspace`` against a real jupyter_server with the extension loaded."""

from __future__ import annotations

import json
from typing import Any

import pytest
from jupyter_server.utils import url_path_join

DIGEST = "sha256:" + "ab" * 32


async def get_workspace(jp_fetch: Any) -> dict[str, Any]:
    response = await jp_fetch("labworks", "workspace")
    assert response.code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    return json.loads(response.body)


async def test_facts_come_from_the_environment(
    jp_fetch: Any, jp_serverapp: Any, workspace_env: pytest.MonkeyPatch, idp_user: str
) -> None:
    for key, value in {
        "LABWORKS_PROFILE": "gpu-large",
        "LABWORKS_PROFILE_DISPLAY_NAME": "GPU large",
        "CPU_LIMIT": "8.5",
        "MEM_LIMIT": "34359738368",
        "LABWORKS_GPU_COUNT": "2",
        "LABWORKS_IMAGE": "registry.local/labworks/pytorch-gpu:2026.11",
        "LABWORKS_IMAGE_DIGEST": DIGEST,
        "LABWORKS_CULL_IDLE_TIMEOUT": "3600",
        "JUPYTERHUB_BASE_URL": "/a b@c/",
    }.items():
        workspace_env.setenv(key, value)

    body = await get_workspace(jp_fetch)

    assert body["user"] == "alice"  # the owner ($JUPYTERHUB_USER), not who is asking
    assert body["viewer"] == {"name": idp_user, "is_owner": False, "access": "read-write"}
    assert body["profile"] == {
        "name": "gpu-large",
        "display_name": "GPU large",
        "cpu_limit": 8.5,
        "mem_limit": 34359738368,
        "gpu_count": 2,
    }
    assert body["image"] == {
        "name": "registry.local/labworks/pytorch-gpu:2026.11",
        "digest": DIGEST,
        "local": False,
    }
    assert body["idle_cull_timeout_seconds"] == 3600
    assert body["links"] == {
        "hub_control_panel": "/a b@c/hub/home",
        "api_docs": "/a b@c/services/labworks/api/v1/docs",
    }
    assert body["started_at"] == jp_serverapp.web_app.settings["started"].isoformat()
    assert body["uptime_seconds"] >= 0
    assert list(body) == [
        "user", "groups", "admin", "viewer", "profile", "image", "started_at",
        "uptime_seconds", "idle_cull_timeout_seconds", "links", "platform",
    ]  # fmt: skip


async def test_defaults_describe_a_local_unlimited_workspace(jp_fetch: Any) -> None:
    body = await get_workspace(jp_fetch)

    assert body["profile"] == {
        "name": None,
        "display_name": None,
        "cpu_limit": None,
        "mem_limit": None,
        "gpu_count": 0,
    }
    assert body["image"] == {"name": None, "digest": None, "local": True}
    assert body["idle_cull_timeout_seconds"] is None
    assert body["links"] == {
        "hub_control_panel": "/hub/home",
        "api_docs": "/services/labworks/api/v1/docs",
    }


async def test_garbage_environment_gives_null_not_500(
    jp_fetch: Any, workspace_env: pytest.MonkeyPatch
) -> None:
    for key, value in {
        "CPU_LIMIT": "two",
        "MEM_LIMIT": "abc",
        "LABWORKS_GPU_COUNT": "-1",
        "LABWORKS_IMAGE_DIGEST": "not a digest",
        "LABWORKS_CULL_IDLE_TIMEOUT": "1h",
    }.items():
        workspace_env.setenv(key, value)

    body = await get_workspace(jp_fetch)

    assert body["profile"]["cpu_limit"] is None
    assert body["profile"]["mem_limit"] is None
    assert body["profile"]["gpu_count"] is None
    assert body["image"]["digest"] is None
    assert body["idle_cull_timeout_seconds"] is None


async def test_unreachable_platform_still_answers_200(
    jp_fetch: Any, platform_api_url: str, hub_token: str, caplog: pytest.LogCaptureFixture
) -> None:
    body = await get_workspace(jp_fetch)

    assert body["groups"] == []
    assert body["admin"] is False
    platform = body["platform"]
    assert platform["reachable"] is False
    assert platform["version"] is None
    assert platform["error"].startswith(f"platform service unreachable at {platform_api_url}/me")
    assert hub_token not in json.dumps(body)
    assert hub_token not in caplog.text


async def test_unauthenticated_request_is_refused(
    http_server_client: Any, jp_base_url: str
) -> None:
    response = await http_server_client.fetch(
        url_path_join(jp_base_url, "labworks/workspace"), raise_error=False
    )

    assert response.code in (401, 403)
    assert json.loads(response.body)["error"] in ("unauthorized", "forbidden")
