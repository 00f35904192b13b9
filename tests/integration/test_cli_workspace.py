"""`labworks workspace start|status|gpus|stop` against the real platform, as a user types them."""

from __future__ import annotations

import json

from tests.platform import labworks


def test_start_status_gpus_stop_from_the_cli(platform):
    platform.add_user("cleo")
    env = {"LABWORKS_URL": platform.url, "LABWORKS_TOKEN": platform.token("cleo")}

    started = labworks("workspace", "start", "--profile", "cpu-small", home=platform.home, env=env)
    assert "Server ready" in started.stdout or "ready" in started.stdout.lower()
    assert f"Ready: {platform.url}/user/cleo/lab" in started.stdout

    status = json.loads(
        labworks("workspace", "status", "--json", home=platform.home, env=env).stdout
    )
    assert status["state"] == "ready"
    assert status["profile"] == "cpu-small"
    assert status["url"] == f"{platform.url}/user/cleo/lab"

    gpus = labworks("workspace", "gpus", home=platform.home, env=env)
    assert gpus.stdout.strip() == "No GPU in this workspace."  # no NVIDIA driver on this machine

    stopped = labworks("workspace", "stop", home=platform.home, env=env)
    assert "Stopped the workspace of cleo" in stopped.stdout
    status = json.loads(
        labworks("workspace", "status", "--json", home=platform.home, env=env).stdout
    )
    assert status["state"] == "stopped" and status["url"] is None


def test_bad_input_gets_one_clear_line(platform):
    platform.add_user("cass")
    env = {"LABWORKS_URL": platform.url, "LABWORKS_TOKEN": platform.token("cass")}

    unknown = labworks(
        "workspace", "start", "--profile", "huge", home=platform.home, env=env, check=False
    )
    assert unknown.returncode == 1
    assert "unknown profile 'huge'" in unknown.stderr
    assert "Traceback" not in unknown.stderr

    not_running = labworks("workspace", "gpus", home=platform.home, env=env, check=False)
    assert not_running.returncode == 1
    assert "your workspace is not running" in not_running.stderr

    bad_token = labworks(
        "workspace",
        "status",
        home=platform.home,
        env={**env, "LABWORKS_TOKEN": "nope"},
        check=False,
    )
    assert bad_token.returncode == 1
    assert "403" in bad_token.stderr or "401" in bad_token.stderr
    assert "nope" not in bad_token.stderr
