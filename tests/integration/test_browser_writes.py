"""Browser writes and limits before work on the real platform: a person logged in to the API
docs through the hub's OAuth (as a browser does: hub login form, redirects, cookies) cannot be
made to write by another site; JSON routes refuse other types; huge bodies are refused without
the service holding them; the service log keeps no OAuth code or state; no page can be framed."""

from __future__ import annotations

import html
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import pytest
from playwright.sync_api import Page, expect

from tests.platform import API, Platform, auth

NOTEBOOK = {
    "cells": [{"cell_type": "code", "execution_count": None, "id": "c1", "metadata": {},
               "outputs": [], "source": "1 + 1"}],
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                "language": "python"}},
    "nbformat": 4, "nbformat_minor": 5,
}  # fmt: skip
JOB = {"content": NOTEBOOK, "path": "cross-site.ipynb"}
BIG = 300 * 2**20  # the anonymous POST that once grew the service by 600 MB
SERVICE_LINE = re.compile(r"(INFO|WARNING|ERROR|DEBUG|CRITICAL):|\[\w [-\d :,.]+ labworks\] ")
ACCESS_LINE = re.compile(r'"GET /services/labworks/oauth_callback\?\S* HTTP/1\.1" 302')


@dataclass
class Browser:
    client: httpx.Client  # holds the login cookie and the XSRF cookie, as the browser would
    name: str
    token: str  # the same user's hub token, to look from outside the browser
    code: str  # the OAuth code and state the login went through
    state: str

    @property
    def xsrf(self) -> str:
        value = self.client.cookies.get("_xsrf", path="/services/labworks/")
        assert value, "the docs page set no XSRF cookie"
        return value


def log_in(platform: Platform, name: str, password: str) -> tuple[httpx.Client, httpx.URL]:
    """Open the API docs as a browser: the hub's login form, then the OAuth round trip.
    The client (with its cookies) and the OAuth callback URL it went through."""
    client = httpx.Client(
        base_url=platform.url, follow_redirects=True, timeout=60,
        headers={"Accept": "text/html,application/xhtml+xml"},
    )  # fmt: skip
    login = client.get(API + "/docs")
    action = re.search(r'<form action="([^"]+)"', login.text)
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', login.text)
    assert action and xsrf, login.text[:2000]
    docs = client.post(
        html.unescape(action.group(1)),
        data={"username": name, "password": password, "_xsrf": xsrf.group(1)},
    )
    assert docs.status_code == 200 and "SwaggerUIBundle" in docs.text, docs.text[:2000]
    callback = next(
        r.request.url for r in docs.history if r.request.url.path.endswith("oauth_callback")
    )
    return client, callback


@pytest.fixture(scope="module")
def browser(platform) -> Iterator[Browser]:
    password = platform.add_user("brianna")
    client, callback = log_in(platform, "brianna", password)
    yield Browser(
        client, "brianna", platform.token("brianna"),
        code=callback.params["code"], state=callback.params["state"],
    )  # fmt: skip
    client.close()


def job_count(platform: Platform, browser: Browser) -> int:
    reply = httpx.get(platform.url + API + "/jobs", headers=auth(browser.token), timeout=30)
    assert reply.status_code == 200, reply.text
    return len(reply.json()["jobs"])


def test_a_cross_site_write_with_the_login_cookie_is_refused(platform, browser):
    before = job_count(platform, browser)
    # What a form on another site posts: its own origin, text/plain JSON, no XSRF header.
    form = browser.client.post(
        API + "/jobs",
        content=json.dumps(JOB).encode(),
        headers={"Content-Type": "text/plain", "Origin": "http://evil.example"},
    )
    assert form.status_code == 403, form.text
    assert form.json()["message"] == (
        f"a write with the login cookie must come from a page of {platform.url}, not from"
        " http://evil.example"
    )
    # A script on another site that somehow knew the XSRF token: still not its origin.
    scripted = browser.client.post(
        API + "/jobs",
        json=JOB,
        headers={"Origin": "http://evil.example", "X-XSRFToken": browser.xsrf},
    )
    assert scripted.status_code == 403
    same_site_no_token = browser.client.post(
        API + "/jobs", json=JOB, headers={"Origin": platform.url}
    )
    assert same_site_no_token.status_code == 403
    assert "X-XSRFToken" in same_site_no_token.json()["message"]
    assert job_count(platform, browser) == before


def test_a_text_plain_body_is_a_415(platform, browser):
    before = job_count(platform, browser)
    reply = browser.client.post(
        API + "/jobs",
        content=json.dumps(JOB).encode(),
        headers={"Content-Type": "text/plain", "Origin": platform.url, "X-XSRFToken": browser.xsrf},
    )
    assert reply.status_code == 415, reply.text
    assert reply.json()["error"] == "unsupported_media_type"
    token = httpx.post(
        platform.url + API + "/schedules", content=b"{}", timeout=30,
        headers={**auth(browser.token), "Content-Type": "text/plain"},
    )  # fmt: skip
    assert token.status_code == 415
    assert job_count(platform, browser) == before


def test_a_same_origin_write_with_the_xsrf_header_is_accepted(platform, browser):
    before = job_count(platform, browser)
    headers = {"Origin": platform.url, "X-XSRFToken": browser.xsrf}
    reply = browser.client.post(API + "/jobs", json=JOB, headers=headers)
    assert reply.status_code == 201, reply.text
    assert reply.json()["owner"] == browser.name
    assert job_count(platform, browser) == before + 1


def test_token_clients_are_unchanged(platform, browser):
    reply = httpx.post(
        platform.url + API + "/jobs/inspect", json={"content": NOTEBOOK},
        headers=auth(browser.token), timeout=30,
    )  # fmt: skip
    assert reply.status_code == 200, reply.text
    assert reply.json()["kernel_name"] == "python3"


def service_process(platform: Platform) -> psutil.Process:
    port = int(platform.service_url.rsplit(":", 1)[1])
    for conn in psutil.net_connections(kind="tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.laddr.port == port and conn.pid:
            return psutil.Process(conn.pid)
    raise AssertionError(f"no process listens on the service port {port}")


def peak_rss(pid: int) -> int:
    """The process's peak resident memory (VmHWM), in bytes."""
    status = Path(f"/proc/{pid}/status").read_text()
    found = re.search(r"VmHWM:\s+(\d+) kB", status)
    assert found, status
    return int(found.group(1)) * 1024


@pytest.mark.parametrize("who", ["anonymous", "user"])
def test_a_300_mb_post_is_refused_without_the_service_holding_it(platform, browser, who):
    process = service_process(platform)
    Path(f"/proc/{process.pid}/clear_refs").write_text("5")  # the peak starts again from now
    start_rss = process.memory_info().rss
    sent = 0

    def body() -> Iterator[bytes]:
        nonlocal sent
        chunk = b" " * 2**20
        while sent < BIG:
            sent += len(chunk)
            yield chunk

    headers = {"Content-Type": "application/json", **(auth(browser.token) if who == "user" else {})}
    started = time.monotonic()
    try:  # straight to the service: no proxy between the body and the process measured
        reply = httpx.post(
            f"{platform.service_url}{API}/datasets/{browser.name}/big/versions",
            content=body(), headers=headers, timeout=120,
        )  # fmt: skip
        assert reply.status_code == (401 if who == "anonymous" else 413), reply.text
    except (httpx.WriteError, httpx.RemoteProtocolError, httpx.ReadError):
        assert sent < BIG  # the service answered and hung up before the upload finished
    assert time.monotonic() - started < 60
    grown = peak_rss(process.pid) - start_rss
    assert grown < 64 * 2**20, f"the service grew by {grown / 2**20:.0f} MiB"


def service_logs(platform: Platform) -> str:
    """The platform service's lines of everything the platform logged (`labworks up`'s output
    and any log in its home): uvicorn's (`INFO:     ...`) and its own (`[I ... labworks]`)."""
    files = [p.read_text(errors="replace") for p in platform.home.rglob("*.log") if p.is_file()]
    lines = "\n".join([platform.log(), *files]).splitlines()
    return "\n".join(line for line in lines if SERVICE_LINE.match(line))


def test_the_service_log_keeps_no_oauth_code_or_state(platform, browser):
    deadline = time.monotonic() + 30
    while not ACCESS_LINE.search(service_logs(platform)):
        assert time.monotonic() < deadline, "no access log line of the OAuth callback"
        time.sleep(0.25)
    logs = service_logs(platform)
    assert browser.code not in logs
    assert browser.state not in logs
    assert "oauth_callback?code=[secret]&state=[secret]" in logs


def test_no_page_of_the_service_can_be_framed(platform, browser):
    docs = browser.client.get(API + "/docs")
    refused = httpx.get(platform.url + API + "/me", timeout=30)
    assert docs.status_code == 200 and refused.status_code == 401
    for reply in (docs, refused):
        assert reply.headers["content-security-policy"] == "frame-ancestors 'none'"
        assert reply.headers["x-frame-options"] == "DENY"
        assert reply.headers["x-content-type-options"] == "nosniff"


@pytest.mark.e2e
def test_try_it_out_on_a_post_works_in_the_docs(platform, page: Page):
    password = platform.add_user("bastien")
    page.goto(f"{platform.url}{API}/docs")
    page.fill("#username_input", "bastien")
    page.fill("#password_input", password)
    page.click("#login_submit")
    operation = page.locator(".opblock-post", has_text="/jobs/inspect").first
    expect(operation).to_be_visible()
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.locator("textarea.body-param__text").fill(json.dumps({"content": NOTEBOOK}))
    operation.get_by_role("button", name="Execute").click()
    status = operation.locator(".live-responses-table tr.response .response-col_status")
    expect(status).to_have_text("200")
