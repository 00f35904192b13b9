"""A crashed `labworks up` comes back whole: `kill -9` of its process group while a workspace
and a job run, then `labworks up` again on the same home and port. The platform service left
behind stops by itself, the next start stops the rest (proxy, preload server, culler), keeps the
internal ports, and leaves the workspace and the job running: the job's API and MLflow calls
after the restart work, and so does the workspace. A job that ended while nothing ran has its
hub token revoked. A second `labworks up` on the same home is refused, naming the first."""

from __future__ import annotations

import json
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import nbformat
import pytest

from labworks_hub.supervisor import start_time
from tests.platform import API, Platform, auth, free_port, labworks, wait_for_lab

pytestmark = pytest.mark.e2e
USER = "rita"
ENDED = ("succeeded", "failed", "cancelled", "timed_out")


def wait_until(condition: Callable[[], object], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout}s: {what}"
        time.sleep(0.2)


def waits_for(marker: Path, *after: str) -> dict:
    """A notebook that waits (10 minutes at most) for `marker` to exist, then runs `after`."""
    cells = [
        "import json, os, pathlib, time, urllib.request\n"
        f"marker, deadline = pathlib.Path({str(marker)!r}), time.monotonic() + 600\n"
        "while not marker.exists():\n"
        "    assert time.monotonic() < deadline, 'the test never said go'\n"
        "    time.sleep(0.2)",
        *after,
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"c{i}"
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}  # fmt: skip
    return json.loads(nbformat.writes(nb))


AFTER_RESTART = (
    "request = urllib.request.Request(os.environ['LABWORKS_API_URL'] + '/me',\n"
    "    headers={'Authorization': 'token ' + os.environ['LABWORKS_API_TOKEN']})\n"
    "print('me', json.load(urllib.request.urlopen(request, timeout=30))['name'])",
    "import mlflow\nwith mlflow.start_run():\n    mlflow.log_metric('after_restart', 1.0)",
)


def platform_processes(hub_pid: int) -> dict[int, tuple[int, str]]:
    """pid -> (start time, command line) of what the hub started, workspaces left out."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(fields[1]) == hub_pid and "singleuser" not in cmdline:
            found[int(stat.parent.name)] = (int(fields[19]), cmdline)
    return found


def job_process(home: Path, job_id: str) -> tuple[int, int]:
    with sqlite3.connect(home / "platform" / "labworks.sqlite") as db:
        (state,) = db.execute(
            "SELECT executor_state FROM lw_job_runs WHERE id = ?", (job_id,)
        ).fetchone()
    state = json.loads(state)
    return int(state["pid"]), int(state["start_ticks"])


def job_tokens(url: str, token: str) -> list[str]:
    listed = httpx.get(f"{url}/hub/api/users/{USER}/tokens", headers=auth(token), timeout=30)
    assert listed.status_code == 200, listed.text
    return [t["note"] for t in listed.json()["api_tokens"] if "labworks job" in (t["note"] or "")]


@pytest.fixture
def base() -> Iterator[Path]:
    """A 0711 folder outside /tmp/pytest-of-root: workspaces and jobs run as system accounts
    that must pass through it (to their homes, and to the test's go markers)."""
    path = Path(tempfile.mkdtemp(prefix="lw-restart-", dir="/tmp"))
    path.chmod(0o711)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_a_crashed_platform_comes_back_whole(base):
    home = base / "lw"
    first = Platform(home)
    first.log_path.touch(mode=0o600)
    first.start(timeout=300)
    second: Platform | None = None
    try:
        first.add_user(USER)
        token = first.token(USER)
        server = httpx.post(f"{first.url}/hub/api/users/{USER}/server", headers=auth(token),
                            timeout=120)  # fmt: skip
        assert server.status_code in (201, 202), server.text
        wait_for_lab(first.url, USER, token)

        def submit(content: dict) -> str:
            body = {"content": content, "timeout": 1800}
            reply = httpx.post(first.url + API + "/jobs", headers=auth(token), json=body,
                               timeout=60)  # fmt: skip
            assert reply.status_code == 201, reply.text
            return reply.json()["id"]

        def job(job_id: str) -> dict:
            return httpx.get(f"{first.url}{API}/jobs/{job_id}", headers=auth(token),
                             timeout=30).json()  # fmt: skip

        survivor = submit(waits_for(base / "go-after-restart", *AFTER_RESTART))
        ends_while_down = submit(waits_for(base / "go-while-down", "print('done')"))
        for job_id in (survivor, ends_while_down):
            wait_until(lambda j=job_id: job(j)["status"] == "running", f"{job_id} running", 180)
        assert len(job_tokens(first.url, token)) == 2
        ports = first.internal_ports()
        left = platform_processes(first.proc.pid)
        roles = " ".join(cmd for _, cmd in left.values())
        for part in ("configurable-http-proxy", "labworks_hub.service", "preload", "culler"):
            assert part in roles

        first.kill9()

        # The orphaned platform service stops at once: no queued job or schedule is taken.
        service = next(pid for pid, (_, cmd) in left.items() if "labworks_hub.service " in cmd)
        wait_until(lambda: start_time(service) != left[service][0], "orphan service exits", 20)
        # The second job ends while nothing of the platform runs.
        (base / "go-while-down").touch()
        pid, ticks = job_process(home, ends_while_down)
        wait_until(lambda: start_time(pid) != ticks, "the job process ends", 180)

        second = Platform(home, port=first.port).start(timeout=300)

        assert "already in use" not in second.log()
        assert second.internal_ports() == ports
        for pid, (started, cmd) in left.items():
            assert start_time(pid) != started, f"still running after the restart: {cmd}"
        proxy = next(pid for pid, (_, cmd) in left.items() if "configurable-http-proxy" in cmd)
        assert f"Stopped proxy (pid {proxy})" in second.log()

        status = httpx.get(f"{second.url}/user/{USER}/api/status", headers=auth(token),
                           timeout=30)  # fmt: skip
        assert status.status_code == 200, status.text  # the workspace outlived the crash

        wait_until(lambda: job(ends_while_down)["status"] in ENDED, "the ended job is seen", 120)
        (base / "go-after-restart").touch()
        wait_until(lambda: job(survivor)["status"] in ENDED, "the survivor ends", 300)
        finished = job(survivor)
        assert finished["status"] == "succeeded", finished["reason"]
        log = httpx.get(f"{second.url}{API}/jobs/{survivor}/logs", headers=auth(token)).json()
        assert f"me {USER}" in log["text"]
        assert [e["kind"] for e in finished["events"]].count("reattached") == 1
        wait_until(lambda: job_tokens(second.url, token) == [], "both job tokens revoked", 30)

        refused = labworks("up", "--home", str(home), "--port", str(free_port()),
                           home=home, check=False)  # fmt: skip
        assert refused.returncode == 1
        assert f"already running on {home} (labworks up, pid {second.proc.pid})" in (refused.stderr)
        assert "Traceback" not in refused.stderr
    finally:
        if second is None and first.proc is not None and first.proc.poll() is not None:
            # failed between the crash and the restart: a clean start, then a clean stop
            second = Platform(home, port=first.port).start(timeout=300)
        (second or first).stop()
