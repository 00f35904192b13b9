"""Warm kernels (labworks_hub.kernel_pool): a job runs on a kernel started before it, in its
own environment and folder, each kernel used once; slots never outlive their launcher."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from labworks_hub.isolation import NOBODY, Account
from labworks_hub.kernel_pool import shared_env, warm_key
from labworks_hub.launcher import JobLauncher, Started, StartRequest
from labworks_hub.processes import descendants, proc_uid
from labworks_hub.service.jobs import runner

as_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (jobs as another account)")
REPORT = (  # the token only as a digest: the log must never hold it
    "import hashlib, json, os\n"
    "token = hashlib.sha256(os.environ['JUPYTERHUB_API_TOKEN'].encode()).hexdigest()\n"
    "print('REPORT', json.dumps({'pid': os.getpid(), 'cwd': os.getcwd(), 'x': x, 'token': token,\n"
    "    'env': {k: os.environ.get(k) for k in ('LABWORKS_JOB_ID', 'CUDA_VISIBLE_DEVICES',\n"
    "            'HOME', 'PROFILE_SETTING')}}), flush=True)\n"
)


def notebook(source: str = REPORT) -> str:
    cells = [
        {"cell_type": "code", "id": "p", "metadata": {"tags": ["parameters"]}, "outputs": [],
         "execution_count": None, "source": "x = 0"},
        {"cell_type": "code", "id": "r", "metadata": {}, "outputs": [],
         "execution_count": None, "source": source},
    ]  # fmt: skip
    kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return json.dumps({"cells": cells, "metadata": {"kernelspec": kernelspec},
                       "nbformat": 4, "nbformat_minor": 5})  # fmt: skip


def request(n: int, owner: str = "ana", path: str = "", **env: str) -> StartRequest:
    variables = {
        "PATH": os.environ["PATH"], "PROFILE_SETTING": "cpu", "LABWORKS_JOB_ID": f"job{n}",
        "JUPYTERHUB_API_TOKEN": f"secret-token-{n}", "CUDA_VISIBLE_DEVICES": str(n), **env,
    }  # fmt: skip
    return StartRequest(run_id=f"job{n}", attempt=1, owner=owner, notebook=notebook(),
                        parameters={"x": n}, kernel_name="python3", notebook_path=path,
                        env=variables)  # fmt: skip


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def until(condition, what: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def finish(started: Started) -> dict:
    """Wait for the attempt; its result and what the notebook reported."""
    assert started.process is not None
    started.process.wait(120)
    files = Path(started.files)
    result = json.loads((files / "result.json").read_text())
    log = (Path(started.dir) / "log.txt").read_text()
    lines = [line for line in log.splitlines() if "REPORT " in line]
    report = json.loads(lines[-1].split("REPORT ", 1)[1]) if lines else None
    return {"result": result, "report": report, "log": log}


def slots(launcher: JobLauncher) -> list:
    return [slot for key in list(launcher.pool._slots) for slot in launcher.pool._slots[key]]


def kernel_of(slot) -> int:
    """The pid of the slot's kernel, once its runner has started it."""
    return until(lambda: next(iter(descendants(slot.process.pid)), None), "the warm kernel")


@pytest.fixture
def make_launcher(tmp_path):
    made: list[JobLauncher] = []

    def make(warm: int = 1, idle: float = 120, base: Path = tmp_path, **kwargs) -> JobLauncher:
        (base / "users" / "ana" / "work").mkdir(parents=True, exist_ok=True)
        launcher = JobLauncher(str(base / "runs"), str(base / "users"), sys.executable, "off",
                               warm_kernels=warm, warm_idle=idle, **kwargs)  # fmt: skip
        made.append(launcher)
        return launcher

    yield make
    for launcher in made:
        launcher.close()


def test_the_next_job_runs_on_a_kernel_started_before_it(make_launcher, tmp_path):
    launcher = make_launcher()
    first = launcher.start(request(1, path="work/a.ipynb"))
    assert not first.warm
    (slot,) = slots(launcher)  # started beside the first job, for the next one
    kernel = kernel_of(slot)
    ran = finish(first)
    assert ran["result"]["status"] == "succeeded", ran["log"]

    second = launcher.start(request(2, path="work/a.ipynb"))
    assert second.warm and second.pid == slot.process.pid
    ran = finish(second)
    assert ran["result"]["status"] == "succeeded", ran["log"]
    report = ran["report"]
    assert report["pid"] == kernel  # the kernel that was up before the job came
    assert report["x"] == 2  # its parameters
    assert report["cwd"] == str(tmp_path / "users" / "ana" / "work")  # the notebook's folder
    assert report["token"] == digest("secret-token-2")
    assert report["env"] == {
        "LABWORKS_JOB_ID": "job2", "CUDA_VISIBLE_DEVICES": "2",
        "HOME": str(tmp_path / "users" / "ana"),
        "PROFILE_SETTING": "cpu",
    }  # fmt: skip
    assert Path(second.dir) == tmp_path / "runs" / "job2" / "1"  # the slot became the attempt
    assert json.loads((Path(second.files) / "output.ipynb").read_text())["cells"]
    until(lambda: not os.path.exists(f"/proc/{kernel}"), "the used kernel to end")
    (third,) = slots(launcher)  # the pool was topped up with a new runner and kernel
    assert third.process.pid not in (first.pid, second.pid)


def test_a_warm_kernel_serves_only_its_own_key(make_launcher):
    launcher = make_launcher()
    finish(launcher.start(request(1)))
    assert not launcher.start(request(2, owner="bob")).warm  # another person
    assert not launcher.start(request(3, PROFILE_SETTING="gpu")).warm  # another profile
    assert launcher.start(request(4)).warm  # per-job variables differ, the key does not
    assert warm_key("ana", "python3", request(5).env) == warm_key("ana", "python3", request(6).env)


def test_a_warm_runner_holds_no_secret_of_any_job(make_launcher):
    launcher = make_launcher()
    ran = finish(launcher.start(request(1)))
    (slot,) = slots(launcher)
    kernel = kernel_of(slot)
    for pid in (slot.process.pid, kernel):
        environ = Path(f"/proc/{pid}/environ").read_bytes().decode()
        assert "secret-token" not in environ and "LABWORKS_JOB_ID" not in environ
    second = finish(launcher.start(request(2)))
    assert second["report"]["token"] == digest("secret-token-2")
    assert "secret-token" not in ran["log"] + second["log"]  # nor in either log


def test_a_runner_that_died_is_passed_over(make_launcher):
    launcher = make_launcher()
    finish(launcher.start(request(1)))
    (slot,) = slots(launcher)
    slot.process.send_signal(signal.SIGKILL)
    slot.process.wait(30)
    started = launcher.start(request(2))
    assert not started.warm
    assert finish(started)["result"]["status"] == "succeeded"


def test_a_warm_kernel_that_died_gives_the_job_a_new_one(make_launcher):
    launcher = make_launcher()
    finish(launcher.start(request(1)))
    (slot,) = slots(launcher)
    os.kill(kernel_of(slot), signal.SIGKILL)
    ran = finish(launcher.start(request(2)))
    assert ran["result"]["status"] == "succeeded", ran["log"]
    assert "starting another" in ran["log"]
    assert ran["report"]["env"]["LABWORKS_JOB_ID"] == "job2"


def test_warm_kernels_end_when_idle_and_with_their_launcher(make_launcher):
    launcher = make_launcher(idle=1)
    finish(launcher.start(request(1)))
    (slot,) = slots(launcher)
    kernel = kernel_of(slot)
    assert slot.process.wait(60) == 0  # nobody came within a second: it shut down
    assert not os.path.exists(f"/proc/{kernel}")
    launcher.pool.prune()
    assert slots(launcher) == [] and not slot.directory.exists()

    launcher = make_launcher(idle=600)
    finish(launcher.start(request(2)))
    (slot,) = slots(launcher)
    kernel = kernel_of(slot)
    launcher.close()
    assert slot.process.wait(60) == 0  # the end of its input
    until(lambda: not os.path.exists(f"/proc/{kernel}"), "its kernel to end")


def test_no_warm_kernels_when_turned_off(make_launcher, tmp_path):
    launcher = make_launcher(warm=0)
    finish(launcher.start(request(1)))
    assert not launcher.start(request(2)).warm
    assert slots(launcher) == [] and not (tmp_path / "runs" / "warm").exists()


def test_the_shared_environment_leaves_out_what_each_job_has_of_its_own():
    env = request(1).env
    assert shared_env(env) == {"PATH": os.environ["PATH"], "PROFILE_SETTING": "cpu"}


@as_root
def test_a_warm_kernel_runs_as_the_jobs_account_and_root_writes_nothing_there(open_base):
    """As root with the platform's account (jobs run as `nobody` here): the runner and its
    kernel run as the account; the job folder is the account's from the start, so the claim
    travels over the pipe, and a link the account plants there leads root nowhere."""
    secret = open_base / "root-only"
    secret.write_text("root only")
    secret.chmod(0o600)
    platform = Account("nobody", NOBODY, NOBODY, ())
    launcher = JobLauncher(str(open_base / "runs"), str(open_base / "users"), sys.executable,
                           "off", platform=platform, warm_kernels=1)  # fmt: skip
    try:
        first = launcher.start(request(1))
        (slot,) = slots(launcher)
        kernel = kernel_of(slot)
        assert proc_uid(slot.process.pid) == NOBODY and proc_uid(kernel) == NOBODY
        job = slot.directory / "job"
        assert job.stat().st_uid == NOBODY
        os.symlink(secret, job / "spec.json")  # what the account could do: links in its folder
        os.lchown(job / "spec.json", NOBODY, NOBODY)
        until(lambda: first.process.poll() is not None, "the first job")
        second = launcher.start(request(2))
        assert second.warm
        until(lambda: second.process.poll() is not None, "the second job")
        assert secret.read_text() == "root only"
    finally:
        launcher.close()


def test_a_kernel_ends_as_kernels_do_cold_or_warm(make_launcher, tmp_path):
    """Its exit handlers run and what it left open is flushed (MLflow ends a run the
    notebook left open at exit): the kernel is asked to shut down, not killed at once."""
    launcher = make_launcher()
    folder = tmp_path / "users" / "ana" / "work"
    source = (
        "import atexit, os\n"
        "name = os.environ['LABWORKS_JOB_ID']\n"
        "atexit.register(lambda: open(f'{name}-atexit.txt', 'w').write('ran'))\n"
        "left_open = open(f'{name}-open.txt', 'w')\n"
        "left_open.write('flushed')\n"
    )
    for n, warm in ((1, False), (2, True)):
        job = replace(request(n, path="work/a.ipynb"), notebook=notebook(source))
        started = launcher.start(job)
        assert started.warm is warm
        assert finish(started)["result"]["status"] == "succeeded"
        assert (folder / f"job{n}-atexit.txt").read_text() == "ran"
        assert (folder / f"job{n}-open.txt").read_text() == "flushed"


def test_a_slot_near_its_idle_end_is_let_go_not_claimed(make_launcher):
    """A claim must not race the runner's own idle timeout (it would read no job and exit):
    a slot past `idle` less the margin (half of a 2 s idle here) is let go, the job starts
    cold, and the pool gets a fresh slot."""
    launcher = make_launcher(idle=2)
    finish(launcher.start(request(1)))
    (old,) = slots(launcher)
    until(lambda: time.monotonic() - old.started > 1.05, "the slot to near its idle end")
    started = launcher.start(request(2))
    assert not started.warm
    assert old.process.wait(30) == 0  # let go: the end of its input
    (fresh,) = slots(launcher)
    assert fresh is not old
    assert finish(started)["result"]["status"] == "succeeded"


def test_a_runner_loads_papermill_without_the_sdks_it_never_uses():
    """papermill imports pyarrow (and numpy) for HDFS paths when they are installed, 0.15 s of
    CPU a job; the runner reads and writes local files only, the kernel imports what it likes."""
    probe = (
        "import runpy, sys\n"
        f"runpy.run_path({str(runner.__file__)!r})['skip_slow_imports']()\n"
        "import nbformat, papermill\n"
        "print(sorted(m for m in ('pyarrow', 'numpy', 'rfc3987_syntax') if sys.modules.get(m)))"
    )
    done = subprocess.run(
        [sys.executable, "-P", "-c", probe], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


def test_a_jobs_kernel_starts_without_the_debugger_and_imports_from_its_folder(
    make_launcher, tmp_path
):
    """debugpy is 80 ms of each job's kernel start, and a batch job has no debugger client;
    the notebook's folder stays importable, as in ipykernel's own launcher."""
    launcher = make_launcher()
    (tmp_path / "users" / "ana" / "work" / "helper.py").write_text("ANSWER = 42\n")
    source = (
        "import json, sys, helper\n"
        "print('REPORT', json.dumps({'answer': helper.ANSWER,\n"
        "    'debugpy': sys.modules.get('debugpy') is not None}), flush=True)\n"
    )
    for n, warm in ((1, False), (2, True)):
        started = launcher.start(
            replace(request(n, path="work/a.ipynb"), notebook=notebook(source))
        )
        assert started.warm is warm
        done = finish(started)
        assert done["result"]["status"] == "succeeded", done["log"]
        assert done["report"] == {"answer": 42, "debugpy": False}
