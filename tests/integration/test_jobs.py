"""Notebook jobs through the real platform: the REST API behind the hub's auth, the CLI, real
papermill runs (success, exception, timeout, cancel, a kernel killed with SIGKILL), a crash of
the platform service mid-run (the hub restarts it, the job is re-attached), schedules, and who
may see or cancel what."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import httpx
import nbformat
import pytest

from tests.platform import API, labworks

pytestmark = pytest.mark.e2e
ENDED = ("succeeded", "failed", "cancelled", "timed_out")


def notebook(*sources: str, parameters: str | None = None) -> dict:
    cells = [nbformat.v4.new_code_cell(s) for s in sources]
    if parameters is not None:
        cells.insert(0, nbformat.v4.new_code_cell(parameters, metadata={"tags": ["parameters"]}))
    nb = nbformat.v4.new_notebook(cells=cells)
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"c{i}"
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return json.loads(nbformat.writes(nb))


@pytest.fixture(scope="module")
def people(platform):
    platform.add_user("jana", "--group", "jobs-team")
    platform.add_user("jben", "--group", "jobs-team")
    platform.add_user("jcal")
    return {name: platform.token(name) for name in ("jana", "jben", "jcal")}


def call(platform, token: str | None, method: str, path: str, **kwargs) -> httpx.Response:
    headers = {"Authorization": f"token {token}"} if token else {}
    headers.update(kwargs.pop("headers", {}))
    return httpx.request(method, platform.url + API + path, headers=headers, timeout=60, **kwargs)


def submit(platform, token: str, content: dict, **fields) -> dict:
    reply = call(platform, token, "POST", "/jobs", json={"content": content, **fields})
    assert reply.status_code == 201, reply.text
    return reply.json()


def wait_job(platform, token: str, job_id: str, timeout: float = 120, until=ENDED) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        reply = call(platform, token, "GET", f"/jobs/{job_id}")
        if reply.status_code == 200 and reply.json()["status"] in until:
            return reply.json()
        assert time.monotonic() < deadline, f"job {job_id}: {reply.status_code} {reply.text}"
        time.sleep(0.2)


def wait_log(platform, token: str, job_id: str, text: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while text not in call(platform, token, "GET", f"/jobs/{job_id}/logs").json().get("text", ""):
        assert time.monotonic() < deadline, f"{text!r} never appeared in the log of {job_id}"
        time.sleep(0.2)


def cli(platform, token: str, *args: str):
    env = {"LABWORKS_URL": platform.url, "LABWORKS_TOKEN": token}
    return labworks(*args, home=platform.home, check=False, env=env)


def test_cli_run_wait_exit_codes_logs_and_output(platform, people, tmp_path):
    good = tmp_path / "good.ipynb"
    good.write_text(json.dumps(notebook("print('twice', x * 2)", parameters="x = 1")))
    done = cli(platform, people["jana"], "jobs", "run", str(good), "-p", "x=21", "--wait")
    assert done.returncode == 0, done.stderr
    job_id = done.stdout.strip()
    assert f"{job_id}: succeeded" in done.stderr
    logs = cli(platform, people["jana"], "jobs", "logs", job_id)
    assert "twice 42" in logs.stdout
    shown = json.loads(cli(platform, people["jana"], "jobs", "show", job_id, "--json").stdout)
    assert (shown["parameters"], shown["notebook_path"]) == ({"x": 21}, str(good))
    assert shown["environment"]["env_hash"].startswith("sha256:")
    listing = cli(platform, people["jana"], "jobs", "list")
    assert job_id in listing.stdout and "succeeded" in listing.stdout

    bad = tmp_path / "bad.ipynb"
    bad.write_text(json.dumps(notebook("print('ok')", "raise ValueError('no data')")))
    failed = cli(platform, people["jana"], "jobs", "run", str(bad), "--wait")
    assert failed.returncode == 1
    assert "failed: cell 2 raised ValueError: no data" in failed.stderr
    output = call(platform, people["jana"], "GET", f"/jobs/{failed.stdout.strip()}/output").json()
    tags = [c["metadata"].get("tags", []) for c in output["content"]["cells"]]
    assert ["papermill-error-cell-tag"] in tags  # the failing cell is marked
    saved = tmp_path / "out.ipynb"
    got = cli(platform, people["jana"], "jobs", "output", failed.stdout.strip(), "-o", str(saved))
    assert got.returncode == 0 and "raise ValueError" in saved.read_text()

    wrong = cli(platform, people["jana"], "jobs", "run", str(good), "-p", "x=many")
    assert wrong.returncode != 0 and "'x' must be an integer" in wrong.stderr


def test_timeout_cancel_and_a_killed_kernel(platform, people):
    token = people["jana"]
    slow = submit(platform, token, notebook("import time\ntime.sleep(300)"), timeout=4)
    killed = submit(
        platform, token, notebook("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")
    )
    cancelled = submit(platform, token, notebook("print('sleeping', flush=True)",
                                                 "import time\ntime.sleep(300)"))  # fmt: skip
    wait_log(platform, token, cancelled["id"], "sleeping", timeout=180)
    reply = call(platform, token, "POST", f"/jobs/{cancelled['id']}/cancel")
    assert reply.status_code == 200 and reply.json()["cancel_requested"]
    results = {j["id"]: wait_job(platform, token, j["id"]) for j in (slow, killed, cancelled)}
    assert (results[slow["id"]]["status"], results[slow["id"]]["reason"]) == (
        "timed_out", "timed out after 4 s",
    )  # fmt: skip
    assert results[killed["id"]]["status"] == "failed"
    assert "the kernel died" in results[killed["id"]]["reason"]
    assert results[cancelled["id"]]["status"] == "cancelled"
    again = call(platform, token, "POST", f"/jobs/{cancelled['id']}/cancel")
    assert again.status_code == 409 and again.json()["error"] == "conflict"


def test_bad_input_gets_clear_json_errors(platform, people):
    token = people["jana"]
    nb = notebook("print(x)", parameters="x = 1")
    cases = [
        ({"content": {"cells": []}}, 400, "not a Jupyter notebook"),
        ({"content": nb, "parameters": {"y": 1}}, 400, "unknown parameter 'y'"),
        ({"content": nb, "parameters": {"x": "1"}}, 400, "'x' must be an integer"),
        ({"content": notebook("1"), "parameters": {"x": 1}}, 400, "no cell tagged 'parameters'"),
        ({"content": nb, "profile": "nope"}, 400, "unknown profile 'nope'"),
        ({"content": nb, "timeout": 0}, 422, "timeout"),
        ({"parameters": {}}, 422, "content"),
    ]
    for body, status, message in cases:
        reply = call(platform, token, "POST", "/jobs", json=body)
        assert reply.status_code == status, reply.text
        assert message in reply.json()["message"]
        assert set(reply.json()) == {"error", "message"}
    huge = notebook("x = '" + "a" * (17 * 2**20) + "'")
    reply = call(platform, token, "POST", "/jobs", json={"content": huge})
    assert reply.status_code == 413 and reply.json()["error"] == "too_large"
    garbled = call(platform, token, "POST", "/jobs", content=b"{not json",
                   headers={"Content-Type": "application/json"})  # fmt: skip
    assert garbled.status_code == 422 and "not JSON" in garbled.json()["message"]
    assert call(platform, None, "GET", "/jobs").status_code == 401
    inspect = call(platform, token, "POST", "/jobs/inspect", json={"content": nb}).json()
    assert inspect["parameters"][0] == {
        "name": "x", "type": "int", "default": 1, "default_text": "1", "help": "",
    }  # fmt: skip


def test_other_users_cannot_see_or_cancel_a_job_and_group_members_only_see(platform, people):
    sleeper = notebook("import time\ntime.sleep(300)")
    private = submit(platform, people["jana"], sleeper)
    shared = submit(platform, people["jana"], sleeper, share_with_group="jobs-team")
    try:
        for path in ("", "/logs", "/output"):
            reply = call(platform, people["jcal"], "GET", f"/jobs/{private['id']}{path}")
            assert reply.status_code == 404, path
            assert "jana" not in reply.text
        for user in ("jcal", "jben"):
            reply = call(platform, people[user], "POST", f"/jobs/{private['id']}/cancel")
            assert reply.status_code == 404
        assert call(platform, people["jben"], "GET", f"/jobs/{shared['id']}").status_code == 200
        refused = call(platform, people["jben"], "POST", f"/jobs/{shared['id']}/cancel")
        assert refused.status_code == 403 and "only they can change it" in refused.text
        ids = {j["id"] for j in call(platform, people["jben"], "GET", "/jobs").json()["jobs"]}
        assert shared["id"] in ids and private["id"] not in ids
        assert call(platform, people["jcal"], "GET", "/jobs").json()["total"] == 0
    finally:
        for job in (private, shared):
            call(platform, people["jana"], "POST", f"/jobs/{job['id']}/cancel")
        for job in (private, shared):
            assert wait_job(platform, people["jana"], job["id"])["status"] == "cancelled"


def service_pid(platform) -> int:
    """The platform service process: a child of `labworks up` running labworks_hub.service."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        parent = int(stat[stat.rindex(")") + 2 :].split()[1])
        if parent == platform.proc.pid and b"labworks_hub.service" in cmdline:
            return int(entry.name)
    raise AssertionError("no platform service process found")


def test_a_job_survives_a_crash_of_the_platform_service(platform, people):
    token = people["jana"]
    nb = notebook("print('started', flush=True)", "import time\ntime.sleep(8)", "print('ended')")
    job = submit(platform, token, nb)
    wait_log(platform, token, job["id"], "started", timeout=180)
    old = service_pid(platform)
    os.kill(old, signal.SIGKILL)
    deadline = time.monotonic() + 120  # the hub notices and restarts it (its poll: 30 s)
    while True:
        try:
            pid = service_pid(platform)
            if pid != old and call(platform, token, "GET", "/health").status_code == 200:
                break
        except (AssertionError, httpx.HTTPError):
            pass
        assert time.monotonic() < deadline, "the hub did not restart the platform service"
        time.sleep(0.5)
    done = wait_job(platform, token, job["id"], timeout=120)
    assert done["status"] == "succeeded", done["reason"]
    kinds = [e["kind"] for e in done["events"]]
    assert kinds == ["queued", "running", "reattached", "succeeded"]
    assert "ended" in call(platform, token, "GET", f"/jobs/{job['id']}/logs").json()["text"]


def test_schedules_with_the_cli_and_the_api(platform, people, tmp_path):
    token = people["jana"]
    nb = tmp_path / "nightly.ipynb"
    nb.write_text(json.dumps(notebook("print(day)", parameters="day = 'mon'")))
    preview = call(platform, token, "POST", "/schedules/preview",
                   json={"cron": "30 2 * * *", "timezone": "Europe/Berlin"}).json()  # fmt: skip
    assert len(preview["next_runs"]) == 3
    assert all(t.endswith(("+01:00", "+02:00")) and "T02:30:00" in t for t in preview["next_runs"])
    bad = call(platform, token, "POST", "/schedules/preview", json={"cron": "every day"})
    assert bad.status_code == 400 and "five fields" in bad.json()["message"]

    created = cli(platform, token, "schedules", "create", str(nb), "--cron", "30 2 * * *",
                  "--tz", "Europe/Berlin", "-p", "day=tue")  # fmt: skip
    assert created.returncode == 0, created.stderr
    schedule_id = created.stdout.strip()
    assert "next runs:" in created.stderr
    shown = call(platform, token, "GET", f"/schedules/{schedule_id}").json()
    assert (shown["parameters"], shown["timezone"], shown["paused"]) == (
        {"day": "tue"}, "Europe/Berlin", False,
    )  # fmt: skip
    declared = call(platform, token, "GET", f"/schedules/{schedule_id}/parameters")
    assert declared.status_code == 200, declared.text
    assert [(p["name"], p["default"]) for p in declared.json()["parameters"]] == [("day", "mon")]
    hidden = call(platform, people["jcal"], "GET", f"/schedules/{schedule_id}/parameters")
    assert hidden.status_code == 404
    assert "paused" in cli(platform, token, "schedules", "pause", schedule_id).stdout
    paused = call(platform, token, "GET", f"/schedules/{schedule_id}").json()
    assert (paused["paused"], paused["next_run_at"]) == (True, None)  # no next run while paused
    row = next(r for r in cli(platform, token, "schedules", "list").stdout.splitlines()
               if r.startswith(schedule_id))  # fmt: skip
    assert row.split("\t")[4:6] == ["paused", "paused"]  # STATE, NEXT RUN
    resumed = cli(platform, token, "schedules", "resume", schedule_id)
    assert resumed.returncode == 0 and "next run 20" in resumed.stdout
    assert call(platform, token, "GET", f"/schedules/{schedule_id}").json()["next_run_at"]
    listing = cli(platform, token, "schedules", "list")
    assert schedule_id in listing.stdout and "active" in listing.stdout
    other = call(platform, people["jcal"], "POST", f"/schedules/{schedule_id}/pause")
    assert other.status_code == 404
    assert call(platform, token, "GET", f"/schedules/{schedule_id}/runs").json()["jobs"] == []
    assert cli(platform, token, "schedules", "delete", schedule_id).returncode == 0
    assert call(platform, token, "GET", f"/schedules/{schedule_id}").status_code == 404


def test_the_openapi_schema_documents_jobs_and_schedules(platform, people):
    schema = call(platform, people["jana"], "GET", "/openapi.json").json()
    for path in ("/jobs", "/jobs/{job_id}/logs", "/jobs/inspect", "/schedules/preview"):
        assert API + path in schema["paths"]
    submit_body = schema["paths"][API + "/jobs"]["post"]["requestBody"]
    assert "parameters" in json.dumps(submit_body)


@pytest.mark.usefixtures("isolated")
def test_a_job_runs_as_its_owners_account_and_cannot_read_others(platform, people):
    """The service runs as root here, so jobs run as lw-<owner> (labworks_hub.isolation)."""
    jcal_home = platform.home / "users" / "jcal"
    jcal_home.mkdir(parents=True, exist_ok=True)  # as a spawn would; root-owned 0700 here
    jcal_home.chmod(0o700)
    code = (
        "import os, pwd\n"
        "print('account', pwd.getpwuid(os.getuid()).pw_name, os.getuid() != 0)\n"
        f"try:\n    os.listdir({str(jcal_home)!r})\n    print('read others: yes')\n"
        "except PermissionError:\n    print('read others: no')\n"
        f"try:\n    open({str(platform.home / 'secrets' / 'cookie_secret')!r}).read()\n"
        "    print('read secrets: yes')\nexcept PermissionError:\n    print('read secrets: no')"
    )
    job = submit(platform, people["jana"], notebook(code), name="whoami")
    done = wait_job(platform, people["jana"], job["id"])
    assert done["status"] == "succeeded", done
    output = call(platform, people["jana"], "GET", f"/jobs/{job['id']}/output").json()
    cells = output["content"]["cells"]
    text = "".join(
        "".join(o.get("text", "")) for c in cells for o in c.get("outputs", [])
    )  # nbformat JSON keeps multi-line text as a list of lines
    assert "account lw-jana True" in text
    assert "read others: no" in text
    assert "read secrets: no" in text


def test_the_exact_input_notebook_is_kept_and_private(platform, people):
    source = notebook("print(lr * 2)", parameters="lr = 0.5")
    job = submit(platform, people["jana"], source, name="keep-input", parameters={"lr": 4})
    got = call(platform, people["jana"], "GET", f"/jobs/{job['id']}/notebook")
    assert got.status_code == 200, got.text
    cells = got.json()["content"]["cells"]
    assert ["".join(c["source"]) for c in cells] == ["lr = 0.5", "print(lr * 2)"]  # no injection
    assert len(got.json()["sha256"]) == 64
    other = call(platform, people["jcal"], "GET", f"/jobs/{job['id']}/notebook")
    assert other.status_code == 404
    # its parameters without the notebook making a round trip: as POST /jobs/inspect says
    declared = call(platform, people["jana"], "GET", f"/jobs/{job['id']}/parameters")
    inspected = call(platform, people["jana"], "POST", "/jobs/inspect",
                     json={"content": source, "kernel_name": "python3"})  # fmt: skip
    assert declared.status_code == 200 and declared.json() == inspected.json()
    assert [p["name"] for p in declared.json()["parameters"]] == ["lr"]
    other = call(platform, people["jcal"], "GET", f"/jobs/{job['id']}/parameters")
    assert other.status_code == 404
    wait_job(platform, people["jana"], job["id"])
