"""``/labworks/(experiments|models)/<id>/visibility`` against a real jupyter_server with the
extension, forwarding over real HTTP to a recording fake platform service."""

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


SHARED = {"id": "7", "name": "sweep", "owner": "alice-idp", "visibility": "private", "yours": True}


@pytest.mark.parametrize(("kind", "key", "path"), [
    ("experiments", "7", "/experiments/7"),
    ("models", "churn%20model", "/models/churn model"),  # the platform gets the name quoted
])  # fmt: skip
async def test_reads_and_changes_who_sees_it_through_the_platform(
    lab: Any, jobs_platform: JobsPlatform, hub_token: str, kind: str, key: str, path: str
) -> None:
    jobs_platform.answer("GET", path, SHARED)
    jobs_platform.answer("PUT", path + "/visibility", {**SHARED, "visibility": "group:ml"})
    read = await lab("GET", f"{kind}/{key}/visibility")
    changed = await lab("PUT", f"{kind}/{key}/visibility",
                        {"visibility": "group:ml", "owner": "mallory"})  # fmt: skip

    assert answer_of(read) == SHARED
    assert answer_of(changed)["visibility"] == "group:ml"
    sent = jobs_platform.only("PUT", path + "/visibility")
    assert sent.body == {"visibility": "group:ml"}  # nothing else is passed on
    assert sent.authorization == f"token {hub_token}"


async def test_a_refusal_of_the_platform_keeps_its_status_and_message(
    lab: Any, jobs_platform: JobsPlatform
) -> None:
    message = "only the owner of experiment 'sweep' may change who sees it"
    jobs_platform.answer(
        "PUT", "/experiments/7/visibility", {"error": "forbidden", "message": message}, 403
    )
    reply = await lab("PUT", "experiments/7/visibility", {"visibility": "public"})
    assert reply.code == 403
    assert answer_of(reply)["message"] == message


@pytest.mark.parametrize("body", [{}, {"visibility": 3}, ["public"]])
async def test_a_body_without_a_visibility_is_a_400_that_never_reaches_the_platform(
    lab: Any, jobs_platform: JobsPlatform, body: Any
) -> None:
    reply = await lab("PUT", "experiments/7/visibility", body)
    assert reply.code == 400
    assert jobs_platform.sent == []


async def test_only_the_workspace_owner_may(
    lab: Any, jobs_platform: JobsPlatform, workspace_env: pytest.MonkeyPatch
) -> None:
    workspace_env.setenv("JUPYTERHUB_USER", "someone-else")
    reply = await lab("GET", "experiments/7/visibility")
    assert reply.code == 403
    assert "only someone-else, who owns this workspace" in answer_of(reply)["message"]
    assert jobs_platform.sent == []


async def test_the_models_list_is_the_platforms(lab: Any, jobs_platform: JobsPlatform) -> None:
    listing = {"models": [{**SHARED, "name": "churn", "yours": True}]}
    jobs_platform.answer("GET", "/models", listing)
    reply = await lab("GET", "models")
    assert reply.code == 200
    assert answer_of(reply) == listing
