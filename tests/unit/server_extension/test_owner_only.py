"""Every route of the extension, from its handler table: a visitor of a shared workspace is
refused before anything reaches the platform, except on the few routes about the workspace
itself."""

from __future__ import annotations

import re
from typing import Any

import pytest
import tornado.web

from labworks_server.handlers import (
    GpuHandler,
    LabworksHandler,
    WorkspaceHandler,
    refuse_visitor,
)
from labworks_server.idle import ActivityHandler, IdleHandler

from .conftest import IDP_USER, JobsPlatform, answer_of

VISITOR_ROUTES = {WorkspaceHandler, GpuHandler, IdleHandler, ActivityHandler}
METHODS = ("get", "post", "put", "patch", "delete")
# One value for each kind of path argument the routes take; the first that fits is used.
SAMPLES = ("0123456789ab", "1", "user", "pause", "models", "datasets",
           "api/2.0/mlflow/runs/search", "/x")  # fmt: skip


@pytest.fixture
def platform_api_url(jobs_platform: JobsPlatform) -> str:
    return jobs_platform.url


@pytest.fixture
def routes(jp_serverapp: Any) -> list[tuple[str, type[tornado.web.RequestHandler]]]:
    """The extension's handler table, as jupyter_server got it."""
    (app,) = jp_serverapp.extension_manager.extension_apps["labworks_server"]
    return [(route[0], route[1]) for route in app.handlers]


def example_path(pattern: str) -> str:
    """A path the route ``pattern`` matches, each of its groups filled from ``SAMPLES``."""

    def fill(group: re.Match[str]) -> str:
        found = [s for s in SAMPLES if re.fullmatch(group[0], s)]
        assert found, f"no sample for {group[0]} in {pattern}"
        return found[0]

    path = re.sub(r"\((?:[^()]|\([^()]*\))*\)", fill, pattern)
    assert re.fullmatch(pattern, path), (pattern, path)
    return path.removeprefix("/labworks/")


def served_methods(handler: type[tornado.web.RequestHandler]) -> list[str]:
    return [m for m in METHODS if getattr(handler, m) is not getattr(tornado.web.RequestHandler, m)]


def test_only_the_routes_about_the_workspace_let_visitors_in(routes: list[Any]) -> None:
    labworks = {h for _, h in routes if issubclass(h, LabworksHandler)}
    assert {h for h in labworks if h.visitors_allowed} == VISITOR_ROUTES


async def test_a_visitor_is_refused_on_every_other_route(
    lab: Any, routes: list[Any], jobs_platform: JobsPlatform, workspace_env: pytest.MonkeyPatch
) -> None:
    workspace_env.setenv("JUPYTERHUB_USER", "the-owner")
    tried = 0
    for pattern, handler in routes:
        if handler in VISITOR_ROUTES:
            continue
        for method in served_methods(handler):
            reply = await lab(
                method.upper(), example_path(pattern), None if method == "get" else {}
            )
            assert reply.code == 403, (method, pattern, reply.body)
            if issubclass(handler, LabworksHandler):
                message = answer_of(reply)["message"]
                assert message.startswith("only the-owner, who owns this workspace, can ")
            tried += 1
    assert tried > 40
    assert jobs_platform.sent == []


async def test_the_owner_passes_the_check_and_a_visitor_uses_the_workspace_routes(
    lab: Any, jobs_platform: JobsPlatform, workspace_env: pytest.MonkeyPatch
) -> None:
    jobs_platform.answer("GET", "/shares", {"shares": []})
    workspace_env.setenv("JUPYTERHUB_USER", IDP_USER)
    assert (await lab("GET", "shares")).code == 200

    workspace_env.setenv("JUPYTERHUB_USER", "the-owner")
    assert (await lab("GET", "workspace/idle")).code == 200
    assert (await lab("GET", "gpus")).code == 200
    assert (await lab("GET", "shares")).code == 403


def test_the_refusal_says_what_only_the_owner_may_do(workspace_env: pytest.MonkeyPatch) -> None:
    workspace_env.setenv("JUPYTERHUB_USER", "bob")
    refuse_visitor("bob", "see it")
    with pytest.raises(tornado.web.HTTPError) as refused:
        refuse_visitor("eve", "see it")
    assert (refused.value.status_code, refused.value.log_message) == (
        403,
        "only bob, who owns this workspace, can see it",
    )
    workspace_env.delenv("JUPYTERHUB_USER")
    refuse_visitor("eve", "see it")  # outside JupyterHub there is no owner to protect
