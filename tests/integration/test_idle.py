"""Idle culling end to end: a silent long cell is never culled; an open but untouched lab warns
with "Keep running", and then stops; files are kept (the platform's "blink" and "nap" profiles)."""

from __future__ import annotations

import json
import time

import httpx
from playwright.sync_api import expect

from tests.integration.test_browser import log_in
from tests.kernel_client import run_code
from tests.platform import labworks, wait_for_lab


def spawn(platform, user: str, profile: str) -> dict[str, str]:
    headers = {"Authorization": f"token {platform.token(user)}"}
    reply = httpx.post(
        f"{platform.url}/hub/api/users/{user}/server",
        headers=headers, json={"profile": profile}, timeout=60,
    )  # fmt: skip
    assert reply.status_code in (201, 202), reply.text
    wait_for_lab(platform.url, user, headers["Authorization"].split()[1])
    return headers


def server_running(platform, user: str, headers: dict[str, str]) -> bool:
    reply = httpx.get(f"{platform.url}/hub/api/users/{user}", headers=headers, timeout=10)
    return bool(reply.json()["servers"])


def wait_until_stopped(platform, user: str, headers: dict[str, str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while server_running(platform, user, headers):
        assert time.monotonic() < deadline, f"the idle server of {user} was not stopped"
        time.sleep(1)


def test_a_long_silent_cell_is_never_culled(platform):
    """Profile "blink" stops a server after 2 s idle; a 12 s cell with no output must finish."""
    platform.add_user("silas")
    headers = spawn(platform, "silas", "blink")
    base = f"{platform.url}/user/silas"
    kernel = httpx.post(f"{base}/api/kernels", headers=headers, timeout=60).json()
    ws = f"ws://127.0.0.1:{platform.port}/user/silas/api/kernels/{kernel['id']}/channels"
    token = headers["Authorization"].split()[1]

    started = time.monotonic()
    out = run_code(ws, token, "import time\ntime.sleep(12)\nprint('trained')", timeout=60)

    assert out.strip() == "trained"
    assert time.monotonic() - started >= 12
    assert server_running(platform, "silas", headers)
    # Once the cell is done the kernel is idle: kernel culled, then the server stops.
    wait_until_stopped(platform, "silas", headers, timeout=60)


def test_an_untouched_lab_warns_keeps_running_on_request_then_stops(platform, page, screenshots):
    """Profile "nap": 40 s idle. The lab's own polling is not activity; a person is."""
    password = platform.add_user("nadia")
    headers = spawn(platform, "nadia", "nap")
    log_in(page, platform.url, "nadia", password)
    page.goto(f"{platform.url}/user/nadia/lab")
    expect(page.locator("#jp-main-dock-panel")).to_be_visible()

    warning = page.get_by_text("This workspace is idle and stops in about")
    expect(warning).to_be_visible(timeout=60_000)
    keep_running = page.get_by_role("button", name="Keep running")
    expect(keep_running).to_be_in_viewport(ratio=1)  # the toast has finished sliding in
    page.screenshot(path=screenshots / "idle-warning.png")
    idle_url = f"{platform.url}/user/nadia/labworks/workspace/idle"
    before = httpx.get(idle_url, headers=headers, timeout=10).json()
    assert before["seconds_left"] <= before["warn_before"] == 10

    keep_running.click()
    expect(warning).to_be_hidden()
    after = httpx.get(idle_url, headers=headers, timeout=10).json()
    assert after["seconds_left"] > 30, after
    assert server_running(platform, "nadia", headers)

    # Nobody comes back: the server stops although the lab tab is still open and polling.
    wait_until_stopped(platform, "nadia", headers, timeout=90)
    expect(page.get_by_text("This workspace stopped because it was idle")).to_be_visible()
    page.screenshot(path=screenshots / "idle-stopped.png")


def test_the_hub_knows_at_once_that_an_idle_workspace_stopped(platform):
    """Issue 15 #9: `labworks workspace status` said `ready` until the hub's next poll (30 s by
    default) after a server stopped itself. It now stops through the hub: never is the server
    gone while the hub still calls it ready, and the first status read after says so."""
    platform.add_user("ivo")
    headers = spawn(platform, "ivo", "blink")  # 2 s idle
    idle = f"{platform.url}/user/ivo/labworks/workspace/idle"  # polling it is not activity
    deadline = time.monotonic() + 60
    while True:
        answered = httpx.get(idle, headers=headers, timeout=10).status_code == 200
        model = httpx.get(f"{platform.url}/hub/api/users/ivo", headers=headers, timeout=10)
        server = model.json()["servers"].get("")
        if not answered:
            assert not (server and server["ready"]), f"gone, but the hub says ready: {server}"
            break
        if not server or not server["ready"]:
            break  # the hub knew before the server went away
        assert time.monotonic() < deadline, "the blink workspace did not stop for idleness"
        time.sleep(0.1)

    env = {"LABWORKS_URL": platform.url, "LABWORKS_TOKEN": headers["Authorization"].split()[1]}
    status = json.loads(
        labworks("workspace", "status", "--json", home=platform.home, env=env).stdout
    )
    assert status["state"] in ("stopping", "stopped") and status["url"] is None
    wait_until_stopped(platform, "ivo", headers, timeout=30)
    log = platform.log()
    assert "stopping through the hub" in log
    assert "could not ask the hub" not in log and "the hub did not stop" not in log
