"""The job service with the LocalExecutor, running real papermill on small notebooks: success,
a cell that raises, timeout, cancel (the whole process tree), a kernel killed with SIGKILL, a
restart of the service mid-run (re-attach; a lost process retried), schedules on a fast
clock, webhooks to a real HTTP server, no secrets of the service in a job, a job running in its
notebook's workspace folder, and a job whose hub token cannot be had (no hub listening)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from traitlets.config import Config

from labworks_hub.isolation import NOBODY, Account, RunAs, become
from labworks_hub.processes import alive, proc_stat
from labworks_hub.service.access import Conflict, Invalid, NotFound, TooLarge
from labworks_hub.service.hubapi import HubTokens
from labworks_hub.service.jobs import models
from labworks_hub.service.jobs import operations as ops
from labworks_hub.service.jobs.artifacts import ArtifactStore
from labworks_hub.service.jobs.executors.base import RunSpec
from labworks_hub.service.jobs.executors.local import LocalExecutor
from labworks_hub.service.jobs.service import LOST
from tests.platform import free_port

from .conftest import ANA, BEN, CAL, PROFILES, FastClock, notebook, wait_until, wait_until_ended


def request(content: dict, **fields) -> models.JobRequest:
    return models.JobRequest(content=content, path="work/demo.ipynb", **fields)


async def test_a_job_runs_with_its_parameters_and_keeps_log_output_and_environment(make_service):
    service = await make_service()
    nb = notebook('print("x is", x * 2)', parameters="x = 1\nname = 'a'")
    job = await ops.submit(service, ANA, request(nb, parameters={"x": 21}, timeout=120))
    assert (job.status, job.name, job.profile, job.kernel_name) == (
        "queued", "demo.ipynb", "cpu-small", "python3",
    )  # fmt: skip
    assert job.environment["kind"] == "local"
    assert job.environment["env_hash"].startswith("sha256:")
    done = await wait_until_ended(service, ANA, job.id)
    assert (done.status, done.reason, done.attempt, done.has_output) == ("succeeded", "", 1, True)
    assert [e.kind for e in done.events] == ["queued", "running", "succeeded"]
    assert done.duration_seconds and done.duration_seconds > 0
    log = await ops.logs(service, ANA, job.id)
    assert "x is 42" in log.text and log.complete
    tail = await ops.logs(service, ANA, job.id, offset=log.next_offset)
    assert (tail.text, tail.complete) == ("", True)
    out = await ops.output(service, ANA, job.id)
    assert out.complete
    injected = [c for c in out.content["cells"] if "injected-parameters" in c["metadata"]["tags"]]
    assert "x = 21" in "".join(injected[0]["source"])
    with pytest.raises(NotFound):
        await ops.get_job(service, CAL, job.id)
    with pytest.raises(NotFound):
        await ops.logs(service, CAL, job.id)
    # The end is recorded first, then the scratch folder removed (a crash in between must not
    # look like a job that died): it goes within moments of the end.
    scratch = Path(service.executor.runs_dir) / job.id
    async with asyncio.timeout(10):
        while scratch.exists():
            await asyncio.sleep(0.05)


async def test_a_cell_that_raises_fails_the_job_and_keeps_the_partial_output(make_service):
    service = await make_service()
    nb = notebook("print('first')", "raise ValueError('bad input')", "print('never')")
    job = await ops.submit(service, ANA, request(nb))
    done = await wait_until_ended(service, ANA, job.id)
    assert done.status == "failed"
    assert done.reason == "cell 2 raised ValueError: bad input"
    cells = (await ops.output(service, ANA, job.id)).content["cells"]
    statuses = [c["metadata"].get("papermill", {}).get("status") for c in cells]
    assert "failed" in statuses and statuses[-1] == "pending"
    failing = statuses.index("failed")
    assert "papermill-error-cell-tag" in cells[failing - 1]["metadata"]["tags"]
    assert "print('first')" in cells[failing - 2]["source"]


async def test_a_job_past_its_timeout_is_stopped_and_marked_where_it_stopped(make_service):
    service = await make_service()
    nb = notebook("print('started', flush=True)", "import time\ntime.sleep(120)")
    job = await ops.submit(service, ANA, request(nb, timeout=10))  # the sleep surely started
    done = await wait_until_ended(service, ANA, job.id)
    assert (done.status, done.reason) == ("timed_out", "timed out after 10 s")
    cells = (await ops.output(service, ANA, job.id)).content["cells"]
    marker = next(i for i, c in enumerate(cells) if c["cell_type"] == "markdown")
    note = "The job stopped while running the next cell: timed out after 10 s"
    assert note in cells[marker]["source"]
    assert "time.sleep(120)" in cells[marker + 1]["source"]


async def test_cancel_kills_the_kernel_and_what_the_notebook_started(make_service, tmp_path):
    service = await make_service()
    pid_file = tmp_path / "child.pid"
    nb = notebook(
        "import subprocess, time\n"
        f"child = subprocess.Popen(['sleep', '300'], start_new_session=True)\n"
        f"open({str(pid_file)!r}, 'w').write(f'{{child.pid}} {{__import__(\"os\").getpid()}}')\n"
        "time.sleep(300)"
    )
    job = await ops.submit(service, ANA, request(nb))
    await wait_until(lambda: _exists(pid_file), what="child process")
    child, kernel = map(int, pid_file.read_text().split())
    ticks = {pid: proc_stat(pid)[2] for pid in (child, kernel)}
    cancelling = await ops.cancel(service, ANA, job.id)
    assert cancelling.cancel_requested
    done = await wait_until_ended(service, ANA, job.id)
    assert (done.status, done.reason) == ("cancelled", "cancelled by its owner")
    assert not alive(child, ticks[child]), "the notebook's own subprocess survived"
    assert not alive(kernel, ticks[kernel]), "the kernel survived"
    with pytest.raises(Conflict, match="already ended"):
        await ops.cancel(service, ANA, job.id)


async def test_a_kernel_killed_with_sigkill_fails_the_job_with_that_reason(make_service):
    service = await make_service()
    nb = notebook("print('before')", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")
    job = await ops.submit(service, ANA, request(nb))
    done = await wait_until_ended(service, ANA, job.id)
    assert done.status == "failed"
    assert "the kernel died" in done.reason
    assert done.has_output


async def test_a_restarted_service_reattaches_a_running_job(make_service):
    first = await make_service()
    nb = notebook("import time\ntime.sleep(4)\nprint('done')")
    job = await ops.submit(first, ANA, request(nb))
    await wait_until(lambda: _running(first, job.id), what="running job")
    await first.stop()  # the platform service goes away; the job process does not
    second = await make_service()
    done = await wait_until_ended(second, ANA, job.id)
    assert done.status == "succeeded"
    assert [e.kind for e in done.events] == ["queued", "running", "reattached", "succeeded"]
    assert "done" in (await ops.logs(second, ANA, job.id)).text


async def test_a_job_whose_process_died_with_the_service_is_retried(make_service):
    first = await make_service()
    nb = notebook(
        "import os, time\n"
        "print('attempt', os.environ['LABWORKS_JOB_ATTEMPT'])\n"
        "time.sleep(60 if os.environ['LABWORKS_JOB_ATTEMPT'] == '1' else 0)"
    )
    job = await ops.submit(first, ANA, request(nb, retries=1))
    await wait_until(lambda: _logged(first, job.id, "attempt 1"), what="first attempt running")
    state = dict(first._active[job.id])
    await first.stop()
    await first.executor.cancel(state)  # the machine lost the process while no service ran
    second = await make_service()
    done = await wait_until_ended(second, ANA, job.id)
    assert (done.status, done.attempt) == ("succeeded", 2)
    retry = next(e for e in done.events if e.kind == "queued" and e.attempt == 1)
    assert retry.message.startswith(LOST)
    assert "attempt 2" in (await ops.logs(second, ANA, job.id)).text
    assert "attempt 1" in (await ops.logs(second, ANA, job.id, attempt=1)).text


async def test_a_schedule_fires_twice_in_a_row_on_a_fast_clock(make_service):
    clock = FastClock()  # 10:00:30
    service = await make_service(clock=clock)
    nb = notebook("print('tick', n)", parameters="n = 0")
    body = models.ScheduleRequest(
        content=nb, path="tick.ipynb", cron="* * * * *", parameters={"n": 7}
    )
    schedule = await ops.create_schedule(service, ANA, body)
    assert schedule.next_run_at.isoformat() == "2026-11-23T10:01:00+00:00"
    assert await service.fire_schedules() == []
    for count in (1, 2):  # 10:01:30, then 10:02:30: the service's own loop fires each minute
        clock.advance(60)
        await wait_until(lambda n=count: _fired(service, schedule.id, n), what=f"firing {count}")
    fired = [job.id for job in (await ops.list_jobs(service, ANA, schedule_id=schedule.id)).jobs]
    assert len(fired) == 2
    for job_id in fired:
        done = await wait_until_ended(service, ANA, job_id)
        assert (done.status, done.trigger) == ("succeeded", "schedule")
        assert done.schedule_id == schedule.id
        assert "tick 7" in (await ops.logs(service, ANA, job_id)).text
    again = await ops.get_schedule(service, ANA, schedule.id)
    assert again.next_run_at.isoformat() == "2026-11-23T10:03:00+00:00"
    assert again.last_status == "succeeded"


async def test_a_paused_schedule_has_no_next_run_until_resumed(make_service):
    """Issue 15 #9: a paused schedule still listed its next run."""
    clock = FastClock()  # 10:00:30
    service = await make_service(clock=clock)
    body = models.ScheduleRequest(content=notebook("1"), path="p.ipynb", cron="*/5 * * * *")
    schedule = await ops.create_schedule(service, ANA, body)
    assert schedule.next_run_at.isoformat() == "2026-11-23T10:05:00+00:00"

    paused = await ops.update_schedule(
        service, ANA, schedule.id, models.ScheduleUpdate(paused=True)
    )
    assert (paused.paused, paused.next_run_at) == (True, None)
    listed = (await ops.list_schedules(service, ANA)).schedules
    assert [(s.id, s.next_run_at) for s in listed] == [(schedule.id, None)]
    clock.advance(600)  # 10:10:30: past two firing times
    assert await service.fire_schedules() == []

    resumed = await ops.update_schedule(
        service, ANA, schedule.id, models.ScheduleUpdate(paused=False)
    )
    assert (resumed.paused, resumed.next_run_at.isoformat()) == (
        False, "2026-11-23T10:15:00+00:00",
    )  # fmt: skip
    again = await ops.get_schedule(service, ANA, schedule.id)
    assert again.next_run_at == resumed.next_run_at


async def test_a_jobs_and_a_schedules_parameters_are_read_where_they_are_visible(make_service):
    service = await make_service()
    nb = notebook("print(n, name)", parameters="n = 1\nname = 'a'")
    expected = await ops.inspect(service, models.InspectRequest(content=nb, kernel_name="python3"))
    assert [p.name for p in expected.parameters] == ["n", "name"]
    job = await ops.submit(service, ANA, request(nb, share_with_group="ml"))
    body = models.ScheduleRequest(content=nb, path="p.ipynb", cron="0 0 29 2 *")  # private
    schedule = await ops.create_schedule(service, ANA, body)
    assert await ops.job_parameters(service, BEN, job.id) == expected  # shared with ml
    assert await ops.schedule_parameters(service, ANA, schedule.id) == expected
    with pytest.raises(NotFound):
        await ops.job_parameters(service, CAL, job.id)
    with pytest.raises(NotFound):
        await ops.schedule_parameters(service, BEN, schedule.id)
    await wait_until_ended(service, ANA, job.id)


async def test_rerun_with_edited_parameters_is_a_new_job(make_service):
    service = await make_service()
    nb = notebook("print('n is', n)", parameters="n = 1")
    first = await ops.submit(service, ANA, request(nb, parameters={"n": 2}))
    await wait_until_ended(service, ANA, first.id)
    with pytest.raises(Invalid, match="'n' must be an integer"):
        await ops.rerun(service, ANA, first.id, models.RerunRequest(parameters={"n": "3"}))
    second = await ops.rerun(service, ANA, first.id, models.RerunRequest(parameters={"n": 3}))
    assert (second.rerun_of, second.trigger, second.parameters) == (first.id, "rerun", {"n": 3})
    await wait_until_ended(service, ANA, second.id)
    assert "n is 3" in (await ops.logs(service, ANA, second.id)).text


async def test_a_job_gets_the_workspace_environment_and_none_of_the_services_secrets(
    make_service, monkeypatch
):
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "service-secret-token-123")
    monkeypatch.setenv("LABWORKS_DB_URL", "postgresql://u:db-password-456@db/x")
    service = await make_service()
    nb = notebook("import os\nfor k in sorted(os.environ): print(k, '=', os.environ[k])")
    job = await ops.submit(service, ANA, request(nb, profile="cpu-large"))
    done = await wait_until_ended(service, ANA, job.id)
    assert done.status == "succeeded"
    log = (await ops.logs(service, ANA, job.id)).text
    output = json.dumps((await ops.output(service, ANA, job.id)).content)
    for secret in ("service-secret-token-123", "db-password-456"):
        assert secret not in log and secret not in output
    assert "JUPYTERHUB_API_TOKEN" not in log
    expected = ["JUPYTERHUB_USER = ana", "LABWORKS_PROFILE = cpu-large", "CPU_LIMIT = 8"]
    for line in [*expected, f"LABWORKS_JOB_ID = {job.id}", "CUDA_VISIBLE_DEVICES = "]:
        assert line in log


async def test_a_job_runs_in_its_notebook_folder_of_the_workspace_else_in_an_empty_one(
    make_service, tmp_path
):
    users = tmp_path / "users"
    (users / "ana" / "proj").mkdir(parents=True)
    (users / "ana" / "proj" / "data.csv").write_text("a,b\n1,2\n")
    (users / "ben").mkdir()
    config = Config({"LocalExecutor": {"workspaces_dir": str(users)}})
    service = await make_service(config=config)
    nb = notebook(
        "import os\nprint('cwd', os.getcwd(), 'home', os.environ['HOME'])",
        "print('rows', open('data.csv').read().split())",
    )
    paths = ["proj/report.ipynb", "gone/report.ipynb", "../ben/report.ipynb"]
    jobs = [await ops.submit(service, ANA, models.JobRequest(content=nb, path=p)) for p in paths]
    done = [await wait_until_ended(service, ANA, job.id) for job in jobs]
    folder = users.resolve() / "ana" / "proj"
    assert done[0].status == "succeeded", done[0].reason
    log = (await ops.logs(service, ANA, jobs[0].id)).text
    assert f"cwd {folder} home {folder.parent}" in log and "rows ['a,b', '1,2']" in log
    assert done[0].events[1].message == "attempt 1 started in the workspace folder proj/"
    assert sorted(p.name for p in folder.iterdir()) == ["data.csv"]  # output stays in the run
    assert done[0].has_output
    for job, where in zip(done[1:], ("gone", "../ben"), strict=True):
        assert (job.status, job.reason) == (
            "failed",
            "cell 2 raised FileNotFoundError: [Errno 2] No such file or directory: 'data.csv'",
        )
        assert job.events[1].message == (
            f"attempt 1 started in a new empty folder ({where} is not a folder of ana's workspace)"
        )  # fmt: skip
        assert "/jobs/runs/" in (await ops.logs(service, ANA, job.id)).text


async def test_a_job_that_cannot_get_a_hub_token_fails_saying_so_and_is_retried(make_service):
    hub_url = f"http://127.0.0.1:{free_port()}/hub/api"  # nothing listens there
    service = await make_service(hub=HubTokens(hub_url, "service-token"))
    job = await ops.submit(service, ANA, request(notebook("1"), retries=1))
    done = await wait_until_ended(service, ANA, job.id)
    reason = f"cannot give the job a hub token: cannot reach JupyterHub at {hub_url}"
    assert (done.status, done.attempt) == ("failed", 2)
    assert done.reason.startswith(reason)
    retry = next(e for e in done.events if e.kind == "queued" and e.attempt == 1)
    assert retry.message.startswith(reason)


class _Hook(BaseHTTPRequestHandler):
    received: ClassVar[list] = []

    def do_POST(self):
        length = int(self.headers["Content-Length"])
        _Hook.received.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook():
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Hook.received = []
    yield f"http://127.0.0.1:{server.server_port}/hooks/secret-path", _Hook.received
    server.shutdown()
    server.server_close()


async def test_a_failed_job_is_posted_to_its_owners_webhook(make_service, webhook):
    url, received = webhook
    config = Config({"WebhookNotifier": {"allow_private_addresses": True}})
    service = await make_service(config=config)
    saved = await ops.put_notify(service, ANA, models.NotifySettingsModel(webhook_url=url))
    assert saved.events == "failed"
    ok = await ops.submit(service, ANA, request(notebook("1 + 1")))
    bad = await ops.submit(service, ANA, request(notebook("1 / 0")))
    for job in (ok, bad):
        await wait_until_ended(service, ANA, job.id)
    await wait_until(lambda: _true(len(received) >= 1), what="webhook call")
    await asyncio.sleep(0.5)  # the succeeded job must not be posted: give it the chance
    assert [(r["event"], r["job"]["id"], r["job"]["status"]) for r in received] == [
        ("job.ended", bad.id, "failed")
    ]
    assert "ZeroDivisionError" in received[0]["job"]["reason"]


def test_webhooks_to_private_addresses_are_refused_by_default():
    from labworks_hub.service.jobs.notify import NotifyError, WebhookNotifier

    notifier = WebhookNotifier()
    for url, message in (
        ("http://127.0.0.1:8081/hub/api", "private or loopback"),
        ("http://localhost/x", "private or loopback"),
        ("ftp://example.org/x", "http:// or https://"),
        ("https://user:pw@example.org/x", "no credentials"),
    ):
        with pytest.raises(NotifyError, match=message):
            notifier.check(url)
    notifier.check("https://hooks.example.org/labworks")


async def test_bad_submissions_get_clear_messages(make_service):
    service = await make_service()
    nb = notebook("print(x)", parameters="x = 1")
    cases = [
        (request({"cells": []}), Invalid, "not a Jupyter notebook"),
        (request(nb, parameters={"y": 1}), Invalid, "unknown parameter 'y'"),
        (request(nb, parameters={"x": "one"}), Invalid, "'x' must be an integer"),
        (request(notebook("1"), parameters={"x": 1}), Invalid, "no cell tagged"),
        (request(nb, profile="huge"), Invalid, "unknown profile 'huge'; choose one of"),
        (request(nb, profile="gpu-1"), Invalid, "cannot run jobs here: needs 1 GPU"),
        (request(nb, kernel_name="julia-9"), Invalid, "no kernel named 'julia-9'"),
        (request(nb, image="labworks/minimal:ci-1"), Invalid, "leave out image"),
        (request(nb, share_with_group="finance"), Exception, "not a member of group"),
    ]
    if service.executor.capacity().gpus:
        cases = [c for c in cases if "GPU" not in c[2]]
    for body, error, message in cases:
        with pytest.raises(error, match=message):
            await ops.submit(service, ANA, body)
    service.max_notebook_bytes = 1000
    with pytest.raises(TooLarge, match="jobs take notebooks of at most"):
        await ops.submit(service, ANA, request(notebook("x = '" + "a" * 2000 + "'")))
    assert (await ops.list_jobs(service, ANA)).total == 0


async def _exists(path: Path) -> bool:
    return path.exists() and bool(path.read_text().strip())


async def _running(service, job_id: str) -> bool:
    return job_id in service._active and "pid" in service._active[job_id]


async def _logged(service, job_id: str, text: str) -> bool:
    return text in (await ops.logs(service, ANA, job_id)).text


async def _fired(service, schedule_id: str, count: int) -> bool:
    listing = await ops.list_jobs(service, ANA, schedule_id=schedule_id)
    assert listing.total <= count, "a schedule fired more often than its cron says"
    return listing.total == count


async def _true(value: bool) -> bool:
    return value


# --- files a job can write, read by the platform (root) --------------------------------------

SECRET = "root-only-marker-5d1e"
NOBODY_ACCOUNT = Account("nobody", NOBODY, NOBODY, (NOBODY,))
NOBODY_RUN_AS = RunAs(NOBODY, NOBODY, (NOBODY,))
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (files of another account)")


def run_spec(notebook_path: str) -> RunSpec:
    return RunSpec(
        run_id="r1", attempt=1, owner="ana", name="demo", notebook="{}", parameters={},
        kernel_name="python3", profile=PROFILES[0], timeout=60, notebook_path=notebook_path,
    )  # fmt: skip


@pytest.fixture
def job_files():
    """A LocalExecutor, a root-only 0600 file holding SECRET, and the directory of an attempt
    as an earlier version left it (the job's account, here nobody, owns it and all in it);
    its state records a process that has ended."""
    base = Path(tempfile.mkdtemp(prefix="lw-jobfiles-", dir="/tmp"))
    base.chmod(0o711)
    secret = base / "secret"
    secret.write_text(json.dumps({"status": "succeeded", "reason": SECRET, "cells": []}))
    secret.chmod(0o600)
    executor = LocalExecutor(runs_dir=str(base / "runs"), isolation="off")
    directory = base / "runs" / "r1" / "1"
    directory.mkdir(parents=True)
    os.chown(directory, NOBODY, NOBODY)
    state = {"run_id": "r1", "attempt": 1, "dir": str(directory), "pid": 1, "start_ticks": -1}
    yield executor, state, directory, secret
    shutil.rmtree(base)


def _nobodys_link(link: Path, target: Path) -> None:
    link.symlink_to(target)
    os.chown(link, NOBODY, NOBODY, follow_symlinks=False)


@as_root
async def test_log_and_output_swapped_for_links_are_not_read_or_kept(job_files, tmp_path):
    executor, state, directory, secret = job_files
    for name in ("log.txt", "output.ipynb"):
        _nobodys_link(directory / name, secret)
    assert await executor.read_log(state, 0, 1 << 20) is None
    assert await executor.read_output(state) is None
    artifacts = ArtifactStore(url=str(tmp_path / "artifacts"))
    assert await executor.collect(state, artifacts, "runs/r1/1") is False
    assert artifacts.sizes("runs/r1/1") == {}


@as_root
async def test_a_plain_log_of_the_job_is_read_and_kept(job_files, tmp_path):
    executor, state, directory, _ = job_files
    (directory / "log.txt").write_text("hello from the job\n")
    os.chown(directory / "log.txt", NOBODY, NOBODY)
    assert await executor.read_log(state, 6, 4) == b"from"
    artifacts = ArtifactStore(url=str(tmp_path / "artifacts"))
    assert await executor.collect(state, artifacts, "runs/r1/1") is False  # no output notebook
    assert artifacts.get("runs/r1/1/log.txt") == b"hello from the job\n"


async def test_an_output_that_is_a_fifo_does_not_hang_the_service(job_files):
    executor, state, directory, _ = job_files
    os.mkfifo(directory / "output.ipynb")
    try:
        assert await asyncio.wait_for(executor.read_output(state), 10) is None
    finally:  # a reader blocked on the FIFO (the bug) is released, so the test run can end
        with contextlib.suppress(OSError):
            os.close(os.open(directory / "output.ipynb", os.O_WRONLY | os.O_NONBLOCK))


@as_root
async def test_a_result_that_is_a_link_is_not_believed(job_files):
    executor, state, directory, secret = job_files
    _nobodys_link(directory / "result.json", secret)
    outcome = await executor.poll(state)
    assert outcome is not None and SECRET not in outcome.reason
    assert outcome.status == "failed"
    assert await executor.reattach(state) is False


@as_root
async def test_a_pid_file_naming_another_accounts_process_is_never_signalled(job_files):
    executor, state, directory, _ = job_files
    del state["pid"], state["start_ticks"]  # the service stopped before recording the process
    roots = subprocess.Popen(["sleep", "300"])
    nobodys = subprocess.Popen(["sleep", "300"], preexec_fn=lambda: become(NOBODY_RUN_AS))
    try:
        for proc, killed in ((roots, False), (nobodys, True)):
            ticks = proc_stat(proc.pid)[2]
            pid_file = directory / "pid"
            pid_file.unlink(missing_ok=True)
            pid_file.write_text(f"{proc.pid} {ticks}")
            os.chown(pid_file, NOBODY, NOBODY)
            await executor.cancel(state)  # returns once what it killed is gone (10 s at most)
            assert alive(proc.pid, ticks) is not killed, f"{proc.args}: killed {not killed}"
    finally:
        for proc in (roots, nobodys):
            proc.kill()
            proc.wait()


async def test_a_workspace_folder_is_found_without_following_links(tmp_path):
    """A link in the workspace must not tell the job's owner whether a root-only path exists
    (the start note said 'in the workspace folder proj/' exactly when it did)."""
    users = tmp_path / "users"
    (users / "ana" / "real").mkdir(parents=True)
    hidden = tmp_path / "root-only"
    (hidden / "exists").mkdir(parents=True)
    hidden.chmod(0o700)
    executor = LocalExecutor(workspaces_dir=str(users), isolation="off")
    notes = []
    for probe in ("exists", "missing"):
        link = users / "ana" / "proj"
        link.unlink(missing_ok=True)
        link.symlink_to(hidden / probe / ".." / ".." / "users" / "ana" / "real")
        notes.append(executor.start_note(run_spec("proj/report.ipynb")))
    expected = "in a new empty folder (proj is not a folder of ana's workspace)"
    assert notes == [expected, expected]
    assert executor.start_note(run_spec("real/report.ipynb")) == "in the workspace folder real/"
