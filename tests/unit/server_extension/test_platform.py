"""The workspace route against a real (fake) platform service on a loopback port."""

from __future__ import annotations

import json
from typing import Any

import pytest


@pytest.fixture
def platform_api_url(fake_platform: Any) -> str:
    """Point the extension at the fake platform instead of a closed port."""
    return fake_platform.url


async def test_groups_admin_and_version_flow_through(
    jp_fetch: Any, fake_platform: Any, hub_token: str
) -> None:
    response = await jp_fetch("labworks", "workspace")
    body = json.loads(response.body)

    assert fake_platform.seen_authorization == [f"token {hub_token}"]
    assert body["groups"] == ["ml", "vision"]
    assert body["admin"] is True
    assert body["platform"] == {"reachable": True, "version": "0.1.0", "error": None}


async def test_platform_401_surfaces_as_unreachable_with_its_message(
    jp_fetch: Any, fake_platform: Any
) -> None:
    fake_platform.expected_token = "some-other-token"

    response = await jp_fetch("labworks", "workspace")
    body = json.loads(response.body)

    assert response.code == 200
    assert body["groups"] == []
    assert body["admin"] is False
    assert body["platform"] == {
        "reachable": False,
        "version": None,
        "error": "hub token rejected by platform",
    }
