"""``/labworks/admin/...`` (the Admin panel's routes) against a real jupyter_server with the
extension, relaying over real HTTP to a recording fake platform service: the owner's token,
each name quoted, the platform's refusals passed on with its message, bad bodies refused here."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import IDP_USER, JobsPlatform, answer_of


@pytest.fixture
def platform_api_url(jobs_platform: JobsPlatform) -> str:
    return jobs_platform.url


@pytest.fixture(autouse=True)
def owner(workspace_env: pytest.MonkeyPatch) -> str:
    """The test token's user owns the workspace (these routes are the owner's)."""
    workspace_env.setenv("JUPYTERHUB_USER", IDP_USER)
    return IDP_USER


USERS = {"users": [{"name": "bob b", "admin": False, "groups": [], "disabled": False}]}


async def test_every_route_reaches_the_platform_with_the_owners_token(
    lab: Any, jobs_platform: JobsPlatform, hub_token: str
) -> None:
    jobs_platform.answer("GET", "/admin/users", USERS)
    jobs_platform.answer("GET", "/admin/groups", {"groups": []})
    jobs_platform.answer("POST", "/admin/groups", {"name": "ml", "members": []}, status=201)
    jobs_platform.answer("DELETE", "/admin/groups/ml", None, status=204)
    jobs_platform.answer("PUT", "/admin/groups/ml/members/bob b", {"name": "ml"})
    jobs_platform.answer("DELETE", "/admin/groups/ml/members/bob b", None, status=204)
    jobs_platform.answer("POST", "/admin/users/bob b/disable", {"name": "bob b"})
    jobs_platform.answer("POST", "/admin/users/bob b/enable", {"name": "bob b"})
    jobs_platform.answer("POST", "/admin/users/bob b/transfer", {"moved": {"jobs": 2}})
    jobs_platform.answer("DELETE", "/admin/users/bob b", None, status=204)

    calls = [
        ("GET", "admin/users", None, 200),
        ("GET", "admin/groups", None, 200),
        ("POST", "admin/groups", {"name": "ml", "extra": 1}, 201),
        ("PUT", "admin/groups/ml/members/bob%20b", None, 200),
        ("DELETE", "admin/groups/ml/members/bob%20b", None, 204),
        ("DELETE", "admin/groups/ml", None, 204),
        ("POST", "admin/users/bob%20b/disable", {}, 200),
        ("POST", "admin/users/bob%20b/enable", {}, 200),
        ("POST", "admin/users/bob%20b/transfer", {"to": "ada"}, 200),
        ("DELETE", "admin/users/bob%20b", None, 204),
    ]
    for method, path, body, status in calls:
        reply = await lab(method, path, body)
        assert reply.code == status, (method, path, reply.body)

    assert answer_of(await lab("GET", "admin/users")) == USERS
    assert jobs_platform.only("POST", "/admin/groups").body == {"name": "ml"}
    assert jobs_platform.only("POST", "/admin/users/bob b/transfer").body == {"to": "ada"}
    assert {s.authorization for s in jobs_platform.sent} == {f"token {hub_token}"}


async def test_the_platforms_refusal_is_passed_on_with_its_message(
    lab: Any, jobs_platform: JobsPlatform
) -> None:
    jobs_platform.answer(
        "GET", "/admin/users", {"error": "forbidden", "message": "administrators only"}, 403
    )
    reply = await lab("GET", "admin/users")
    assert reply.code == 403
    assert answer_of(reply) == {"error": "forbidden", "message": "administrators only"}


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("admin/groups", {"name": ""}, 'send {"name": "<name>"}'),
        ("admin/groups", {"name": 3}, 'send {"name": "<name>"}'),
        ("admin/users/bob/transfer", {}, 'send {"to": "<name>"}'),
    ],
)
async def test_a_body_without_the_name_is_refused_here(
    lab: Any, jobs_platform: JobsPlatform, path: str, body: Any, message: str
) -> None:
    reply = await lab("POST", path, body)
    assert reply.code == 400
    assert answer_of(reply)["message"] == message
    assert jobs_platform.sent == []


async def test_a_visitor_cannot_administer_from_someone_elses_workspace(
    lab: Any, jobs_platform: JobsPlatform, workspace_env: pytest.MonkeyPatch
) -> None:
    workspace_env.setenv("JUPYTERHUB_USER", "the-owner")
    reply = await lab("PUT", "admin/groups/ml/members/eve", {})
    assert reply.code == 403
    assert answer_of(reply)["message"] == (
        "only the-owner, who owns this workspace, can administer the platform from it; "
        "open your own workspace to do so"
    )
    assert jobs_platform.sent == []
