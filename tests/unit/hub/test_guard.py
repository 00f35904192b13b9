"""The platform service's request guard in-process (real app, real SQLite store, real job
service) with a stand-in for the hub's token check: browser writes need the XSRF token and the
service's own origin, JSON routes refuse other types, bodies are limited and never read for an
anonymous caller, every answer refuses framing, and logs hide OAuth secrets."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Iterator

import anyio
import pytest
from fastapi.testclient import TestClient
from uvicorn.logging import AccessFormatter

from labworks_hub.redaction import RedactSecrets, redact
from labworks_hub.service.__main__ import NoPlainSuccesses, log_config
from labworks_hub.service.app import create_app
from labworks_hub.service.auth import Caller, HubIdentity, xsrf_token
from labworks_hub.service.errors import APIError
from labworks_hub.service.settings import ServiceSettings
from tests.platform import free_port

API = "/services/labworks/api/v1"
ORIGIN = "http://testserver"  # where TestClient's requests go, as a browser would name it
NOTEBOOK = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
INSPECT = json.dumps({"content": NOTEBOOK}).encode()
VERSIONS = API + "/datasets/ana/d/versions"
MISSING = API + "/datasets/ana/d/blobs/missing"
MAX_NOTEBOOK = 4096  # the job service's notebook limit here: a notebook route takes 4 KiB + 64 KiB


class CountingIdentity(HubIdentity):
    """The hub's token check for one user token, counting how often the hub would be asked."""

    asked = 0

    async def caller_for_token(self, token: str) -> Caller:
        self.asked += 1
        if token != "ana-token":
            raise APIError(401, "invalid or expired token")
        return Caller(name="ana", kind="user", groups=("ml",))


@pytest.fixture
def client(tmp_path) -> Iterator[TestClient]:
    settings = ServiceSettings.from_env(
        {
            "LABWORKS_DB_URL": f"sqlite:///{tmp_path / 'store.sqlite'}",
            "LABWORKS_STATE_DIR": str(tmp_path),
            "LABWORKS_JOBS_CONFIG": json.dumps(
                {"JobService": {"max_notebook_bytes": MAX_NOTEBOOK}}
            ),
            "JUPYTERHUB_API_URL": f"http://127.0.0.1:{free_port()}/hub/api",
            "JUPYTERHUB_API_TOKEN": "service-token",
        }
    )
    app = create_app(settings)
    app.state.identity = CountingIdentity(settings)
    with TestClient(app) as c:
        yield c


def log_in(client: TestClient) -> str:
    """The login cookie a browser holds after the hub OAuth round trip, and the XSRF cookie the
    docs page gives it; returns the XSRF token."""
    client.cookies.set("labworks-token", "ana-token", path="/services/labworks/")
    docs = client.get(API + "/docs", headers={"Accept": "text/html"})
    assert docs.status_code == 200
    return docs.cookies["_xsrf"]


def inspect(client: TestClient, **headers: str):
    return client.post(
        API + "/jobs/inspect",
        content=INSPECT,
        headers={"Content-Type": "application/json", **headers},
    )


def test_a_cross_site_form_post_with_the_login_cookie_is_refused(client):
    log_in(client)
    # What an HTML form on another site sends: text/plain, its own origin, no XSRF header.
    reply = client.post(
        API + "/jobs",
        content=b'{"path": "x.ipynb", "content": {}, "ignore": "=',
        headers={"Content-Type": "text/plain", "Origin": "https://evil.example"},
    )
    assert reply.status_code == 403
    assert reply.json() == {
        "error": "forbidden",
        "message": "a write with the login cookie must come from a page of http://testserver,"
        " not from https://evil.example",
    }


def test_a_same_origin_write_with_the_cookie_needs_the_xsrf_header(client):
    xsrf = log_in(client)
    missing = inspect(client, Origin=ORIGIN)
    assert missing.status_code == 403
    assert "needs the X-XSRFToken header" in missing.json()["message"]
    wrong = inspect(client, Origin=ORIGIN, **{"X-XSRFToken": "0" * len(xsrf)})
    assert wrong.status_code == 403
    # A cookie planted by another page of the same site matches a header it chose, but not the
    # login: the token is derived from the login cookie.
    client.cookies.set("_xsrf", "planted", path="/services/labworks/")
    planted = inspect(client, Origin=ORIGIN, **{"X-XSRFToken": "planted"})
    assert planted.status_code == 403


def test_a_same_origin_write_with_the_xsrf_header_is_served(client):
    xsrf = log_in(client)
    assert xsrf == xsrf_token(client.app.state.settings, "ana-token")
    assert inspect(client, Origin=ORIGIN, **{"X-XSRFToken": xsrf}).status_code == 200
    # No Origin (older browsers on same-origin requests): the Referer names the page.
    referred = inspect(client, Referer=f"{ORIGIN}{API}/docs", **{"X-XSRFToken": xsrf})
    assert referred.status_code == 200
    neither = inspect(client, **{"X-XSRFToken": xsrf})
    assert neither.status_code == 403
    assert "a page that sent no Origin or Referer" in neither.json()["message"]


def test_the_origin_is_the_one_the_hub_proxy_was_addressed_by(client):
    xsrf = log_in(client)
    proxied = {"X-Forwarded-Host": "lab.example.org", "X-Forwarded-Proto": "https"}
    seen = inspect(client, Origin="https://lab.example.org", **proxied, **{"X-XSRFToken": xsrf})
    assert seen.status_code == 200
    inner = inspect(client, Origin=ORIGIN, **proxied, **{"X-XSRFToken": xsrf})
    assert inner.status_code == 403


def test_token_clients_need_neither_origin_nor_xsrf(client):
    client.cookies.set("labworks-token", "someone-elses", path="/services/labworks/")
    reply = inspect(client, Authorization="token ana-token")
    assert reply.status_code == 200
    assert reply.json()["parameters"] == []


def test_json_routes_refuse_other_content_types(client):
    headers = {"Authorization": "token ana-token"}
    for route in (API + "/jobs", API + "/schedules", VERSIONS):
        reply = client.post(route, content=b"{}", headers={**headers, "Content-Type": "text/plain"})
        assert reply.status_code == 415, route
        assert reply.json() == {
            "error": "unsupported_media_type",
            "message": "this route takes JSON: send 'Content-Type: application/json', not"
            " text/plain",
        }
    typed = inspect(client, Authorization="token ana-token", **{"Content-Type": "x/y+json"})
    assert typed.status_code == 415
    structured = client.post(
        API + "/jobs/inspect",
        content=INSPECT,
        headers={**headers, "Content-Type": "application/vnd.labworks+json; charset=utf-8"},
    )
    assert structured.status_code == 200


def test_a_post_without_a_body_needs_no_content_type(client):
    reply = client.post(API + "/jobs/999/rerun", headers={"Authorization": "token ana-token"})
    assert reply.status_code == 404, reply.text  # past the guard: the route says no such job


def test_raw_upload_routes_keep_their_type(client):
    blob = API + "/datasets/ana/d/blobs/" + hashlib.sha256(b"bytes").hexdigest()
    reply = client.put(
        blob,
        content=b"bytes",
        headers={"Authorization": "token ana-token", "Content-Type": "application/octet-stream"},
    )
    assert reply.status_code == 201, reply.text
    assert reply.json()["size"] == 5


def test_a_declared_length_over_the_limit_is_a_413_naming_it(client):
    headers = {"Authorization": "token ana-token", "Content-Type": "application/json"}
    versions = client.post(VERSIONS, content=b" " * (20 * 2**20 + 1), headers=headers)
    assert versions.status_code == 413
    assert "limit of 19.53 MiB (20480000 bytes)" in versions.json()["message"]
    missing = client.post(MISSING, content=b" " * (2**20 + 1), headers=headers)
    assert missing.status_code == 413
    assert "limit of 1 MiB (1048576 bytes)" in missing.json()["message"]
    notebook = client.post(API + "/jobs/inspect", content=b" " * 70_000, headers=headers)
    assert notebook.status_code == 413
    assert notebook.json()["message"] == (
        "the request body is over this route's limit of 68 KiB (69632 bytes)"
    )


def test_the_hub_is_asked_once_per_request(client):
    identity: CountingIdentity = client.app.state.identity
    assert inspect(client, Authorization="token ana-token").status_code == 200
    assert identity.asked == 1  # the guard asked before the body; the route reused its answer


def asgi(client: TestClient, method: str, path: str, headers: dict[str, str], chunks: int):
    """The request sent straight to the ASGI app, its body as `chunks` chunks of 64 KiB pulled
    one by one: the status and how many chunks the app pulled."""
    pulled = 0
    answer: dict = {}

    async def receive():
        nonlocal pulled
        if pulled == chunks:
            await asyncio.sleep(3600)  # the client waits for the answer
        pulled += 1
        return {"type": "http.request", "body": b" " * 65536, "more_body": pulled < chunks}

    async def send(message):
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]

    async def call():
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
            "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
            "root_path": "", "client": ("127.0.0.1", 1), "server": ("testserver", 80),
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
            "state": {},
        }  # fmt: skip
        await client.app(scope, receive, send)

    async def within_a_minute():
        with anyio.fail_after(60):
            await call()

    assert client.portal is not None
    client.portal.call(within_a_minute)
    return answer["status"], pulled


def test_an_anonymous_body_is_never_read(client):
    status, pulled = asgi(client, "POST", VERSIONS, {"Content-Type": "application/json"}, 4800)
    assert (status, pulled) == (401, 0)


def test_a_chunked_body_is_cut_at_the_limit(client):
    headers = {"Authorization": "token ana-token", "Content-Type": "application/json"}
    status, pulled = asgi(client, "POST", MISSING, headers, 4800)  # 300 MiB, 1 MiB allowed
    assert (status, pulled) == (413, 17)
    status, pulled = asgi(client, "POST", API + "/jobs", headers, 4800)  # 68 KiB allowed
    assert (status, pulled) == (413, 2)


@pytest.mark.parametrize("url", ["/jobs?q=%00", "/datasets?owner=a%00b", "/gallery?group=%00"])
def test_a_nul_character_in_the_query_is_a_400(client, url):
    reply = client.get(API + url, headers={"Authorization": "token ana-token"})
    assert reply.status_code == 400, reply.text
    assert reply.json()["error"] == "bad_request" and "NUL" in reply.json()["message"]


def test_every_answer_refuses_framing_and_sniffing(client):
    log_in(client)
    for reply in (
        client.get(API + "/docs", headers={"Accept": "text/html"}),
        client.get(API + "/health"),
        client.get(API + "/nope"),
        client.get("/services/labworks/mlflow/api/2.0/mlflow/experiments/search",
                   headers={"Authorization": ""}, cookies={"labworks-token": ""}),
    ):  # fmt: skip
        assert reply.headers["content-security-policy"] == "frame-ancestors 'none'", reply.url
        assert reply.headers["x-frame-options"] == "DENY"
        assert reply.headers["x-content-type-options"] == "nosniff"


def test_the_docs_page_sends_the_xsrf_cookie_in_the_header(client):
    log_in(client)
    page = client.get(API + "/docs", headers={"Accept": "text/html"})
    assert "requestInterceptor" in page.text
    assert 'request.headers["X-XSRFToken"]' in page.text
    cookie = page.headers["set-cookie"]
    assert "_xsrf=" in cookie and "Path=/services/labworks/" in cookie
    assert "httponly" not in cookie.lower()  # the page's script reads it
    token_client = client.get(
        API + "/docs", headers={"Accept": "text/html", "Authorization": "token ana-token"},
        cookies={"labworks-token": ""},
    )  # fmt: skip
    assert "set-cookie" not in token_client.headers


def test_the_access_log_hides_oauth_codes_states_and_tokens():
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET",
         "/services/labworks/oauth_callback?code=c0de1&state=st4te&next=%2Fdocs", "1.1", 302),
        None,
    )  # fmt: skip
    assert RedactSecrets().filter(record)
    line = AccessFormatter("%(request_line)s %(status_code)s", use_colors=False).format(record)
    assert line == (
        "GET /services/labworks/oauth_callback?code=[secret]&state=[secret]&next=%2Fdocs"
        " HTTP/1.1 302 Found"
    )
    config = log_config()
    assert config["handlers"]["default"]["filters"] == ["secrets"]
    assert config["handlers"]["access"]["filters"] == ["successes", "secrets"]
    assert config["filters"]["secrets"]["()"] is RedactSecrets


@pytest.mark.parametrize(("status", "kept"), [(200, False), (204, False), (304, False),
                                               (302, True), (404, True), (500, True)])  # fmt: skip
def test_the_access_log_leaves_out_plain_successes(status, kept):
    """As jupyter_server does: 2xx and 304 are not worth a line (MLflow logging makes
    thousands); redirects, refusals and failures are kept."""
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "POST", "/services/labworks/mlflow/api/2.0/mlflow/runs/log-metric",
         "1.1", status),
        None,
    )  # fmt: skip
    assert NoPlainSuccesses().filter(record) is kept


def test_the_hub_log_hides_oauth_states_inside_a_next_url():
    line = (
        "200 GET /hub/login?next=%2Fhub%2Fapi%2Foauth2%2Fauthorize%3Fclient_id%3Dservice-labworks"
        "%26code_challenge%3DP3CiXJr9%26code_challenge_method%3DS256%26state%3DK3aTq6veb"
        " (@127.0.0.1) 1.45ms"
    )
    assert redact(line) == (
        "200 GET /hub/login?next=%2Fhub%2Fapi%2Foauth2%2Fauthorize%3Fclient_id%3Dservice-labworks"
        "%26code_challenge%3D[secret]%26code_challenge_method%3D[secret]%26state%3D[secret]"
        " (@127.0.0.1) 1.45ms"
    )
    assert redact("GET /hub/login?next=%2Fhub%2Fhome") == "GET /hub/login?next=%2Fhub%2Fhome"
