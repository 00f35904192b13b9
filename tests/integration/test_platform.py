"""The real platform end to end: `labworks up`, the hub, the platform service, a workspace,
the CLI client commands and every route refusing callers without a token."""

from __future__ import annotations

import re
import subprocess
import time

import httpx
import pytest

from tests.kernel_client import run_code
from tests.platform import API, Platform, labworks, wait_for_lab

pytestmark = pytest.mark.e2e


def test_first_start_prints_admin_password_at_that_start_only_and_stores_a_hash(platform):
    """Printed when the account is made, and again in a box once the hub runs, after
    JupyterHub's own start lines, so a person cannot miss it; never written to a file."""
    assert platform.admin_password and len(platform.admin_password) >= 20
    log = platform.log()
    assert log.count(platform.admin_password) == 2
    box = re.search(
        r"\n\+-+\+\n\|  Labworks is running at (\S+) +\|\n(?:\|.*\|\n)*?"
        r"\|    password: (\S+) ",
        log,
    )
    assert box, log[-3000:]
    assert (box.group(1), box.group(2)) == (platform.url + "/", platform.admin_password)
    assert log.index("JupyterHub is now running") < box.start()
    for path in platform.home.rglob("*"):
        if path.is_file() and path.suffix in (".sqlite", ".json", ".py", ".log"):
            assert platform.admin_password.encode() not in path.read_bytes(), path


def test_health_needs_no_token(platform):
    reply = httpx.get(platform.url + API + "/health")
    assert reply.status_code == 200
    assert reply.json()["status"] == "ok"


def test_every_route_refuses_requests_without_a_token(platform):
    token = platform.token("admin")
    spec = httpx.get(
        platform.url + API + "/openapi.json", headers={"Authorization": f"token {token}"}
    ).json()
    # Every method of every route. Path parameters stay as {name} (auth is checked first),
    # except those a route matches only in their shape (a blob's sha256).
    routes = [
        (method.upper(), path.replace("{sha256}", "0" * 64))
        for path, operations in spec["paths"].items()
        if not path.endswith("/health")
        for method in operations
    ]
    routes += [("GET", API + "/openapi.json"), ("GET", API + "/docs"), ("GET", API + "/metrics")]
    assert ("GET", API + "/me") in routes
    for method, path in routes:
        for headers in ({}, {"Authorization": "token not-a-real-token"}):
            reply = httpx.request(method, platform.url + path, headers=headers)
            assert reply.status_code in (401, 403), (method, path, headers, reply.status_code)
            assert reply.json()["error"] in ("unauthorized", "forbidden")
    assert httpx.get(platform.url + "/hub/api/users").status_code == 403


def test_me_reports_groups_and_role(platform):
    platform.add_user("mia", "--group", "ml", "--group", "vision")
    reply = httpx.get(
        platform.url + API + "/me", headers={"Authorization": f"token {platform.token('mia')}"}
    )
    assert reply.json() == {
        "name": "mia",
        "kind": "user",
        "groups": ["ml", "vision"],
        "admin": False,
    }


def test_metrics_are_for_admins_only(platform):
    platform.add_user("nico")
    as_user = httpx.get(
        platform.url + API + "/metrics",
        headers={"Authorization": f"token {platform.token('nico')}"},
    )
    assert as_user.status_code == 403
    as_admin = httpx.get(
        platform.url + API + "/metrics",
        headers={"Authorization": f"token {platform.token('admin')}"},
    )
    assert as_admin.status_code == 200
    assert "labworks_http_requests_total" in as_admin.text


def test_cli_client_commands(platform):
    platform.add_user("olga", "--admin")
    env = {"LABWORKS_URL": platform.url, "LABWORKS_TOKEN": platform.token("olga")}
    me = labworks("me", "--json", home=platform.home, env=env)
    assert '"name": "olga"' in me.stdout and '"admin": true' in me.stdout
    bad = labworks("me", home=platform.home, check=False,
                   env={**env, "LABWORKS_TOKEN": "expired-or-wrong"})  # fmt: skip
    assert bad.returncode == 1
    assert "401" in bad.stderr and "invalid or expired token" in bad.stderr
    assert "expired-or-wrong" not in bad.stderr


def test_workspace_spawns_with_profile_facts(platform):
    platform.add_user("pat", "--group", "ml")
    token = platform.token("pat")
    headers = {"Authorization": f"token {token}"}
    spawn = httpx.post(f"{platform.url}/hub/api/users/pat/server", headers=headers, timeout=60)
    assert spawn.status_code in (201, 202), spawn.text
    wait_for_lab(platform.url, "pat", token)
    facts = httpx.get(f"{platform.url}/user/pat/labworks/workspace", headers=headers).json()
    assert facts["user"] == "pat"
    assert facts["groups"] == ["ml"]
    assert facts["profile"]["name"] == "cpu-small"
    assert facts["image"]["local"] is True
    assert facts["platform"]["reachable"] is True
    assert facts["idle_cull_timeout_seconds"] == 3600
    # The server was forked by the preload server; its kernels run with the user's environment
    # (not the preload service's own) in the user's home.
    assert "from the preload server" in platform.log()
    kernel = httpx.post(f"{platform.url}/user/pat/api/kernels", headers=headers, timeout=60)
    assert kernel.status_code == 201, kernel.text
    kernel_url = f"{platform.url}/user/pat/api/kernels/{kernel.json()['id']}"
    printed = run_code(
        kernel_url.replace("http://", "ws://") + "/channels",
        token,
        "import os; print(os.environ['LABWORKS_PROFILE'], os.environ['JUPYTERHUB_USER'],"
        " os.getcwd() == os.environ['HOME'], 'JUPYTERHUB_SERVICE_NAME' in os.environ)",
    )
    assert printed.split() == ["cpu-small", "pat", "True", "False"]
    assert httpx.delete(kernel_url, headers=headers, timeout=60).status_code == 204
    # Someone else's server is out of reach with this token.
    other = httpx.get(f"{platform.url}/user/olga/api/status", headers=headers)
    assert other.status_code in (302, 403, 404)


def test_unknown_profile_is_a_clear_error(platform):
    platform.add_user("quinn")
    headers = {"Authorization": f"token {platform.token('quinn')}"}
    reply = httpx.post(
        f"{platform.url}/hub/api/users/quinn/server", headers=headers,
        json={"profile": "gpu-huge"}, timeout=60,
    )  # fmt: skip
    assert reply.status_code >= 400
    assert "unknown profile 'gpu-huge'" in reply.text


def test_idle_server_stops_itself_and_files_survive(platform):
    platform.add_user("ruth")
    headers = {"Authorization": f"token {platform.token('ruth')}"}
    server = f"{platform.url}/hub/api/users/ruth/server"
    spawn = httpx.post(server, headers=headers, json={"profile": "blink"}, timeout=60)
    assert spawn.status_code in (201, 202), spawn.text
    contents = f"{platform.url}/user/ruth/api/contents/notes.txt"
    saved = httpx.put(contents, headers=headers, timeout=30,
                      json={"type": "file", "format": "text", "content": "keep me"})  # fmt: skip
    assert saved.status_code == 201, saved.text
    # The server's IdleMonitor stops it ~2 s after this last activity; the hub polls every 2 s.
    deadline = time.monotonic() + 150
    while httpx.get(f"{platform.url}/hub/api/users/ruth", headers=headers).json()["servers"]:
        assert time.monotonic() < deadline, "idle server was not stopped"
        time.sleep(1)
    # Back with a profile that does not idle out within the check (files are the user's).
    assert httpx.post(server, headers=headers, json={"profile": "nap"}, timeout=60).is_success
    wait_for_lab(platform.url, "ruth", platform.token("ruth"))
    again = httpx.get(contents, headers=headers, timeout=30)
    assert again.json()["content"] == "keep me"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["up", "--bogus"], "No such option '--bogus'"),
        (["up", "--home", "/proc/labworks"], "is not writable"),
        (["up", "--port", "70000"], "70000 is not in the range"),
    ],
)
def test_up_refuses_bad_input_with_one_line(args, message, tmp_path):
    result = labworks(*args, home=tmp_path, check=False)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_up_refuses_a_busy_port(platform, tmp_path):
    result = labworks("up", "--home", str(tmp_path / "h"), "--port", str(platform.port),
                      home=tmp_path, check=False)  # fmt: skip
    assert result.returncode == 1
    assert f"port {platform.port} on 127.0.0.1 is already in use" in result.stderr


def test_up_refuses_a_wrong_database_url(tmp_path, postgres):
    url = f"postgresql://labworks:wrong-secret@127.0.0.1:{postgres.port}/missing"
    result = labworks("up", "--home", str(tmp_path / "h"), "--db-url", url,
                      home=tmp_path, check=False)  # fmt: skip
    assert result.returncode == 1
    assert "cannot connect to database" in result.stderr
    assert "wrong-secret" not in result.stderr
    assert "Traceback" not in result.stderr


def test_token_for_unknown_user_is_refused(platform):
    result = labworks("token", "ghost", home=platform.home, check=False)
    assert result.returncode == 1
    assert "no such user: 'ghost'" in result.stderr


def test_second_up_reuses_state_and_ctrl_c_stops_everything(tmp_path):
    home = tmp_path / "lw"
    first = Platform(home).start()
    password = first.admin_password
    assert password
    assert first.stop() == 0
    second = Platform(home).start()
    try:
        assert "password:" not in second.log()  # the admin exists: no new password
        token = second.token("admin")
        me = httpx.get(second.url + API + "/me", headers={"Authorization": f"token {token}"})
        assert me.json()["admin"] is True
    finally:
        code = second.stop()
    assert code == 0
    leftovers = subprocess.run(
        ["pgrep", "-f", f"--home {home}|{home}/"], capture_output=True, text=True
    ).stdout.split()
    assert leftovers == []
