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


async def test_the_owner_looking_at_their_workspace(
    jp_fetch: Any, fake_platform: Any, workspace_env: pytest.MonkeyPatch, idp_user: str
) -> None:
    workspace_env.setenv("JUPYTERHUB_USER", idp_user)

    body = json.loads((await jp_fetch("labworks", "workspace")).body)

    assert body["user"] == idp_user
    assert body["viewer"] == {"name": idp_user, "is_owner": True, "access": "owner"}


async def test_a_visitor_sees_the_owner_facts_and_themself_as_viewer(
    jp_fetch: Any, fake_platform: Any, workspace_env: pytest.MonkeyPatch, idp_user: str
) -> None:
    """Issue 15 #5: the visitor's name was shown as the user beside the owner's groups/role."""
    workspace_env.setenv("JUPYTERHUB_USER", "owner-ann")
    fake_platform.me = {"name": "owner-ann", "groups": ["ops"], "admin": True}

    body = json.loads((await jp_fetch("labworks", "workspace")).body)

    assert (body["user"], body["groups"], body["admin"]) == ("owner-ann", ["ops"], True)
    assert body["viewer"] == {"name": idp_user, "is_owner": False, "access": "read-write"}


async def test_a_visitor_the_server_lets_only_read_is_read_only(
    jp_fetch: Any, jp_serverapp: Any, fake_platform: Any, workspace_env: pytest.MonkeyPatch
) -> None:
    workspace_env.setenv("JUPYTERHUB_USER", "owner-ann")
    asked: list[tuple[str, str]] = []

    def is_authorized(handler: Any, user: Any, action: str, resource: str) -> bool:
        asked.append((action, resource))
        return action == "read"

    workspace_env.setattr(jp_serverapp.authorizer, "is_authorized", is_authorized)

    body = json.loads((await jp_fetch("labworks", "workspace")).body)

    assert body["viewer"]["access"] == "read-only"
    assert ("write", "contents") in asked
