"""An idle server stops through the hub (issue 15 #9), so the hub, and `labworks workspace
status`, know at once, not at the hub's next poll; it stops itself when the hub cannot be asked."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
import tornado.web
from tornado.httpserver import HTTPServer
from tornado.testing import bind_unused_port

from labworks_server.idle import ask_hub_to_stop, hub_server_url, stop_idle_server

TOKEN = "server-token-7c1e"


@dataclass
class FakeHub:
    url: str = ""
    answer: int = 204
    deleted: list[tuple[str, str | None]] = field(default_factory=list)


class ServerHandler(tornado.web.RequestHandler):
    def initialize(self, hub: FakeHub) -> None:
        self.hub = hub

    def delete(self, path: str) -> None:
        self.hub.deleted.append((path, self.request.headers.get("Authorization")))
        self.set_status(self.hub.answer)


@pytest.fixture
async def hub() -> AsyncIterator[FakeHub]:
    fake = FakeHub()
    sock, port = bind_unused_port()
    server = HTTPServer(tornado.web.Application([(r"/hub/api(/.*)", ServerHandler, {"hub": fake})]))
    server.add_sockets([sock])
    fake.url = f"http://127.0.0.1:{port}/hub/api"
    yield fake
    server.stop()


def env_of(hub: FakeHub, **more: str) -> dict[str, str]:
    return {"JUPYTERHUB_API_URL": hub.url, "JUPYTERHUB_USER": "ann b@x",
            "JUPYTERHUB_API_TOKEN": TOKEN, **more}  # fmt: skip


def test_the_servers_address_in_the_hub_api() -> None:
    env = {"JUPYTERHUB_API_URL": "http://hub:8081/hub/api/", "JUPYTERHUB_USER": "ann b@x"}
    assert hub_server_url(env) == "http://hub:8081/hub/api/users/ann%20b%40x/server"
    named = hub_server_url({**env, "JUPYTERHUB_SERVER_NAME": "gpu/1"})
    assert named == "http://hub:8081/hub/api/users/ann%20b%40x/servers/gpu%2F1"
    assert hub_server_url({"JUPYTERHUB_USER": "ann"}) is None


async def test_the_hub_is_asked_with_the_servers_token_and_the_server_waits(
    hub: FakeHub,
) -> None:
    stops: list[int] = []
    task = stop_idle_server(lambda: stops.append(1), env_of(hub), grace=0.5)
    await asyncio.sleep(0.2)
    assert hub.deleted == [("/users/ann b@x/server", f"token {TOKEN}")]  # decoded
    assert stops == []  # the hub stops this process; the server does not race it
    await task
    assert stops == [1]  # ... and stops itself if the hub has not, as a backstop


@pytest.mark.parametrize("answer", [403, 404, 500])
async def test_a_refusing_hub_means_the_server_stops_itself_at_once(
    hub: FakeHub, answer: int
) -> None:
    hub.answer = answer
    assert await ask_hub_to_stop(env_of(hub)) is False
    stops: list[int] = []
    await asyncio.wait_for(stop_idle_server(lambda: stops.append(1), env_of(hub), grace=60), 5)
    assert stops == [1]


async def test_without_a_hub_the_server_stops_itself(hub: FakeHub) -> None:
    stops: list[int] = []
    unreachable = {**env_of(hub), "JUPYTERHUB_API_URL": "http://127.0.0.1:1/hub/api"}
    for env in ({}, unreachable):
        await asyncio.wait_for(stop_idle_server(lambda: stops.append(1), env, grace=60), 15)
    assert stops == [1, 1]
    assert hub.deleted == []
