"""``PlatformClient`` and the extension's error mapper, without a Jupyter server."""

from __future__ import annotations

from typing import Any

import pytest
import tornado.web
from tornado.httpserver import HTTPServer
from tornado.testing import bind_unused_port

from labworks_server.client import PlatformClient, PlatformError
from labworks_server.handlers import error_body

from .conftest import closed_port


class Answer(tornado.web.RequestHandler):
    """Answers with the status and raw body given in the route's kwargs, and says what
    authorization and body it got in headers."""

    def initialize(self, status: int, body: bytes) -> None:
        self.status, self.body = status, body

    def get(self) -> None:
        self.set_status(self.status)
        self.set_header("X-Authorization", self.request.headers.get("Authorization", ""))
        self.set_header("X-Body", self.request.body.decode())
        self.finish(self.body)

    post = get


MLFLOW_MISSING = b'{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "no run 7"}'


@pytest.fixture
async def server_url() -> Any:
    sock, port = bind_unused_port()
    routes = [
        (r"/ok", Answer, {"status": 200, "body": b'{"a": 1}'}),
        (r"/html", Answer, {"status": 200, "body": b"<html>"}),
        (r"/fastapi", Answer, {"status": 404, "body": b'{"detail": "Not Found"}'}),
        (r"/ours", Answer, {"status": 409, "body": b'{"error": "conflict", "message": "busy"}'}),
        (r"/plain", Answer, {"status": 503, "body": b"down"}),
        (r"/mlflow", Answer, {"status": 404, "body": MLFLOW_MISSING}),
        (r"/moved", Answer, {"status": 302, "body": b""}),
    ]
    server = HTTPServer(tornado.web.Application(routes))
    server.add_sockets([sock])
    yield f"http://127.0.0.1:{port}/"
    server.stop()
    await server.close_all_connections()


async def test_get_parses_json(server_url: str) -> None:
    assert await PlatformClient(server_url, token="t").get("/ok") == {"a": 1}


@pytest.mark.parametrize(
    ("path", "status", "code", "message"),
    [
        ("/ours", 409, "conflict", "busy"),
        ("/fastapi", 404, "platform_error", "Not Found"),
        ("/plain", 503, "platform_error", "platform service answered 503 Service Unavailable"),
        ("/html", 502, "platform_bad_response", None),
    ],
)
async def test_errors_carry_status_code_and_message(
    server_url: str, path: str, status: int, code: str, message: str | None
) -> None:
    with pytest.raises(PlatformError) as info:
        await PlatformClient(server_url, token="t").get(path)
    assert (info.value.status, info.value.code) == (status, code)
    if message is not None:
        assert info.value.message == message


async def test_not_configured() -> None:
    with pytest.raises(PlatformError, match="not configured"):
        await PlatformClient("", token="secret-token").get("/me")


async def test_forward_passes_the_bytes_through_with_the_token(server_url: str) -> None:
    client = PlatformClient(server_url, token="t")
    assert await client.forward("POST", "/ok", b'{"q": 1}') == b'{"a": 1}'
    response = await client.fetch("POST", "/ok", b'{"q": 1}')
    assert response.headers["X-Authorization"] == "token t"
    assert response.headers["X-Body"] == '{"q": 1}'


@pytest.mark.parametrize(
    ("path", "status", "code", "message"),
    [
        ("/mlflow", 404, "RESOURCE_DOES_NOT_EXIST", "no run 7"),
        ("/moved", 302, "tracking_error", "tracking server answered 302 Found"),
    ],
)
async def test_a_server_beside_keeps_the_token_and_names_itself_in_errors(
    server_url: str, path: str, status: int, code: str, message: str
) -> None:
    tracking = PlatformClient("", token="t", timeout=3).beside(
        server_url, service="tracking server", code="tracking"
    )
    assert (tracking.timeout, tracking.service) == (3, "tracking server")
    response = await tracking.fetch("GET", "/ok")
    assert response.headers["X-Authorization"] == "token t"
    with pytest.raises(PlatformError) as info:
        await tracking.forward("GET", path)
    assert (info.value.status, info.value.code, info.value.message) == (status, code, message)


async def test_an_unreachable_server_is_named_without_the_token() -> None:
    port = closed_port()
    tracking = PlatformClient(f"http://127.0.0.1:{port}", token="secret-token").beside(
        f"http://127.0.0.1:{port}/mlflow", service="tracking server", code="tracking"
    )
    with pytest.raises(PlatformError) as info:
        await tracking.forward("GET", "api/2.0/mlflow/runs/get")
    assert (info.value.status, info.value.code) == (502, "tracking_unreachable")
    assert info.value.message.startswith(
        f"tracking server unreachable at http://127.0.0.1:{port}/mlflow/api/2.0/mlflow/runs/get"
    )
    assert "secret-token" not in info.value.message


async def test_a_server_that_never_answers_is_a_502_not_a_crash() -> None:
    """A listening socket that accepts and says nothing: tornado raises its timeout (599)."""
    sock, port = bind_unused_port()
    sock.listen(1)
    try:
        client = PlatformClient(f"http://127.0.0.1:{port}", token="t", timeout=0.5)
        with pytest.raises(PlatformError) as info:
            await client.fetch("GET", "me")
    finally:
        sock.close()
    assert info.value.status == 502
    assert "unreachable" in info.value.message and "Timeout" in info.value.message


def test_error_mapper() -> None:
    missing = PlatformError(404, "missing", "no run 7")
    assert error_body(500, missing) == (404, "missing", "no run 7")
    bad = tornado.web.HTTPError(400, "bad %s", "x")
    assert error_body(500, bad) == (400, "bad_request", "bad x")
    assert error_body(403, None) == (403, "forbidden", "Forbidden")
    assert error_body(500, RuntimeError("secret-token")) == (
        500,
        "internal_error",
        "internal server error; see the server log",
    )
