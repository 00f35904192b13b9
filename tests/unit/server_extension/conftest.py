"""Fixtures for the server extension tests: a configured jupyter_server and a real fake platform."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import pytest
import tornado.web
from jupyter_server.auth.identity import IdentityProvider, User
from tornado.httpclient import AsyncHTTPClient, HTTPResponse
from tornado.httpserver import HTTPServer
from tornado.testing import bind_unused_port
from traitlets.config import Config

HUB_TOKEN = "hub-token-never-leak-7f3a9c"
SERVER_TOKEN = "server-token-for-jp-fetch"
IDP_USER = "alice-idp"

# Every variable the extension reads: cleared before each test so the host cannot leak in.
WORKSPACE_ENV = (
    "JUPYTERHUB_USER",
    "JUPYTERHUB_BASE_URL",
    "JUPYTERHUB_API_TOKEN",
    "JUPYTERHUB_SERVER_NAME",
    "CPU_LIMIT",
    "MEM_LIMIT",
    "LABWORKS_PROFILE",
    "LABWORKS_PROFILE_DISPLAY_NAME",
    "LABWORKS_GPU_COUNT",
    "LABWORKS_IMAGE",
    "LABWORKS_IMAGE_DIGEST",
    "LABWORKS_CULL_IDLE_TIMEOUT",
    "LABWORKS_API_URL",
)


class NamedTokenIdentityProvider(IdentityProvider):
    """Token auth as usual, but the token's user has a fixed name, as under JupyterHub."""

    def generate_anonymous_user(self, handler: tornado.web.RequestHandler) -> User:
        return User(username=IDP_USER, name="Alice")


@dataclass
class FakePlatform:
    """What the fake platform service answers on ``GET /me`` and what it was sent."""

    url: str = ""
    expected_token: str = HUB_TOKEN
    me: dict[str, Any] = field(
        default_factory=lambda: {"name": "alice", "groups": ["ml", "vision"], "admin": True}
    )
    seen_authorization: list[str | None] = field(default_factory=list)


class MeHandler(tornado.web.RequestHandler):
    """The platform's ``/me``, checking ``Authorization: token <hub token>`` like the real one."""

    def initialize(self, platform: FakePlatform) -> None:
        self.platform = platform

    def get(self) -> None:
        auth = self.request.headers.get("Authorization")
        self.platform.seen_authorization.append(auth)
        if auth != f"token {self.platform.expected_token}":
            self.set_status(401)
            self.finish({"error": "unauthorized", "message": "hub token rejected by platform"})
            return
        self.finish(self.platform.me)


class HealthHandler(tornado.web.RequestHandler):
    """The platform's ``/health``: no token needed, carries the version."""

    def get(self) -> None:
        self.finish({"status": "ok", "version": "0.1.0"})


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def hub_token() -> str:
    """The ``JUPYTERHUB_API_TOKEN`` the server runs with; must never appear in output."""
    return HUB_TOKEN


@pytest.fixture
def idp_user() -> str:
    """The user name the identity provider gives the test token."""
    return IDP_USER


@pytest.fixture
def workspace_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """A clean workspace environment with only the hub token and user set."""
    for key in WORKSPACE_ENV:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", HUB_TOKEN)
    monkeypatch.setenv("JUPYTERHUB_USER", "alice")
    return monkeypatch


@pytest.fixture
def platform_api_url() -> str:
    """Where the extension forwards to: by default a closed loopback port (unreachable)."""
    return f"http://127.0.0.1:{closed_port()}/services/labworks/api/v1"


@pytest.fixture
async def fake_platform() -> AsyncIterator[FakePlatform]:
    """A real tornado HTTP server on a free loopback port serving ``/api/v1/me`` and ``/health``."""
    platform = FakePlatform()
    sock, port = bind_unused_port()
    server = HTTPServer(
        tornado.web.Application(
            [
                (r"/api/v1/me", MeHandler, {"platform": platform}),
                (r"/api/v1/health", HealthHandler),
            ]
        )
    )
    server.add_sockets([sock])
    platform.url = f"http://127.0.0.1:{port}/api/v1"
    yield platform
    server.stop()
    await server.close_all_connections()


@pytest.fixture
async def _test_loop() -> asyncio.AbstractEventLoop:
    """The loop pytest-asyncio runs this test on (async fixtures share it)."""
    return asyncio.get_running_loop()


@pytest.fixture(autouse=True)
def jp_asyncio_loop(_test_loop: asyncio.AbstractEventLoop) -> asyncio.AbstractEventLoop:
    """Run pytest-jupyter's server on pytest-asyncio's loop, so ``jp_fetch`` reaches it.

    pytest-jupyter otherwise makes its own loop, and auto-mode tests would wait on another.
    """
    return _test_loop


@pytest.fixture
def jp_server_config(
    jp_server_config: Config, workspace_env: pytest.MonkeyPatch, platform_api_url: str
) -> Config:
    """The server under test: our extension on, no unauthenticated access, token auth."""
    return Config(
        {
            "ServerApp": {
                "jpserver_extensions": {"labworks_server": True, "jupyter_server_terminals": False},
                "allow_unauthenticated_access": False,
                "identity_provider_class": NamedTokenIdentityProvider,
            },
            "IdentityProvider": {"token": SERVER_TOKEN},
            "LabworksServerApp": {"api_url": platform_api_url, "request_timeout": 5.0},
        }
    )


# A recording platform service for the forwarding routes (jobs, sharing of experiments...):
# point the server at it by overriding `platform_api_url` with `jobs_platform.url`.


@dataclass
class Sent:
    method: str
    path: str
    query: list[tuple[str, str]]
    body: Any
    authorization: str | None


@dataclass
class JobsPlatform:
    """Canned answers by ``(method, path)`` and every request it got."""

    url: str = ""
    answers: dict[tuple[str, str], tuple[int, Any]] = field(default_factory=dict)
    sent: list[Sent] = field(default_factory=list)

    def answer(self, method: str, path: str, body: Any, status: int = 200) -> None:
        self.answers[(method, path)] = (status, body)

    def only(self, method: str, path: str) -> Sent:
        found = [s for s in self.sent if (s.method, s.path) == (method, path)]
        assert len(found) == 1, f"{method} {path}: {self.sent}"
        return found[0]


class Recorder(tornado.web.RequestHandler):
    def initialize(self, platform: JobsPlatform) -> None:
        self.platform = platform

    def _answer(self, path: str) -> None:
        body = json.loads(self.request.body) if self.request.body else None
        self.platform.sent.append(
            Sent(
                self.request.method or "",
                "/" + path,
                parse_qsl(self.request.query),
                body,
                self.request.headers.get("Authorization"),
            )
        )
        status, answer = self.platform.answers.get(
            (self.request.method or "", "/" + path),
            (404, {"error": "not_found", "message": f"no route {path}"}),
        )
        self.set_status(status)
        if status == 204:
            self.finish()
        else:
            self.finish(json.dumps(answer))

    get = post = put = patch = delete = _answer  # type: ignore[assignment]


@pytest.fixture
async def jobs_platform() -> AsyncIterator[JobsPlatform]:
    platform = JobsPlatform()
    sock, port = bind_unused_port()
    app = tornado.web.Application([(r"/api/v1/(.*)", Recorder, {"platform": platform})])
    server = HTTPServer(app)
    server.add_sockets([sock])
    platform.url = f"http://127.0.0.1:{port}/api/v1"
    yield platform
    server.stop()
    await server.close_all_connections()


async def call(
    port: int, base_url: str, auth: dict[str, str], method: str, path: str, body: Any = None
) -> HTTPResponse:
    """One request to the server under test; errors are answers, not exceptions."""
    return await AsyncHTTPClient().fetch(
        f"http://127.0.0.1:{port}{base_url}labworks/{path}",
        method=method,
        headers=auth,
        body=None if body is None else json.dumps(body),
        allow_nonstandard_methods=True,
        raise_error=False,
    )


@pytest.fixture
def lab(http_server: Any, jp_http_port: int, jp_base_url: str, jp_auth_header: dict[str, str]):
    """``await lab(method, path, body)``: a request from the lab to its own server."""

    async def fetch(method: str, path: str, body: Any = None) -> HTTPResponse:
        return await call(jp_http_port, jp_base_url, jp_auth_header, method, path, body)

    return fetch


def answer_of(response: HTTPResponse) -> Any:
    assert response.headers["Content-Type"].startswith("application/json")
    return json.loads(response.body)
