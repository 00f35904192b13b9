"""The privilege split (docs/admin/security.md, "Who runs as whom"): with `labworks up` as
root, the platform service and MLflow run as the platform's own account, which cannot read the hub's
secrets; jobs still run as their owners, through the root launcher, and survive a restart."""

from __future__ import annotations

import json
import os
import pwd
import stat
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from labworks_hub.isolation import RunAs, become
from tests.integration.test_jobs import call, notebook, submit, wait_job, wait_log

pytestmark = pytest.mark.usefixtures("isolated")
PLATFORM_USER = "labworks"
READ = "import sys\ntry:\n    open(sys.argv[1], 'rb').read(1)\nexcept OSError as e:\n" \
       "    print(type(e).__name__)\nelse:\n    print('READ')\n"  # fmt: skip


@pytest.fixture(scope="module")
def owner(platform) -> str:
    platform.add_user("spana")
    return platform.token("spana")


def service_process(platform) -> psutil.Process:
    """The platform service of the test platform: a child of its hub (`labworks up` itself,
    with no wrapper in between) whose cmdline names the module."""
    for proc in psutil.Process(platform.proc.pid).children():
        if "labworks_hub.service" in proc.cmdline():
            return proc
    raise AssertionError("no platform service process")


def platform_run_as() -> RunAs:
    entry = pwd.getpwnam(PLATFORM_USER)
    return RunAs(entry.pw_uid, entry.pw_gid, ())


def read_as_platform(path: Path) -> str:
    """What the platform account gets when it opens `path`: READ or the error's name."""
    done = subprocess.run(
        [sys.executable, "-c", READ, str(path)], capture_output=True, text=True, timeout=60,
        preexec_fn=lambda: become(platform_run_as()), check=True,
    )  # fmt: skip
    return done.stdout.strip()


def test_the_service_runs_as_the_platform_account_and_cannot_read_the_hubs_secrets(platform):
    proc = service_process(platform)
    uid = pwd.getpwnam(PLATFORM_USER).pw_uid
    assert uid != 0 and proc.uids().real == proc.uids().effective == uid
    home = platform.home
    for secret in (home / "secrets" / "cookie_secret", home / "jupyterhub.sqlite"):
        info = secret.stat()
        assert (info.st_uid, stat.S_IMODE(info.st_mode) & 0o077) == (0, 0), secret
        assert read_as_platform(secret) == "PermissionError", secret
    store = home / "platform" / "labworks.sqlite"
    assert store.stat().st_uid == uid and read_as_platform(store) == "READ"
    socket = home / "launcher" / "launcher.sock"
    assert (socket.stat().st_uid, stat.S_IMODE(socket.stat().st_mode)) == (uid, 0o600)
    assert home.joinpath("launcher").stat().st_uid == 0


def test_only_the_processes_that_switch_users_keep_root(platform):
    """The proxy (the only one facing the network) and the idle culler run as the platform
    account too; the hub, the job launcher and the preload server start processes as other
    users, so they alone keep root."""
    uid = pwd.getpwnam(PLATFORM_USER).pw_uid
    hub = psutil.Process(platform.proc.pid)
    roles = {
        "configurable-http-proxy": "proxy", "jupyterhub_idle_culler": "culler",
        "labworks_hub.launcher_socket": "launcher", "labworks_hub.spawners.preload": "preload",
        "labworks_hub.service": "service",
    }  # fmt: skip
    found = {}
    for proc in hub.children():
        cmdline = " ".join(proc.cmdline())
        role = next((r for marker, r in roles.items() if marker in cmdline), None)
        if role:
            found[role] = proc.uids().effective
    assert hub.uids().effective == 0
    assert found == {"proxy": uid, "culler": uid, "service": uid, "launcher": 0, "preload": 0}
    proxy = next(p for p in hub.children() if "configurable-http-proxy" in " ".join(p.cmdline()))
    status = Path(f"/proc/{proxy.pid}/status").read_text()
    assert "NoNewPrivs:\t1" in status and "CapEff:\t0000000000000400" in status, status


def test_the_service_still_writes_its_store_after_the_hub_did(platform, owner):
    """The hub (root) opens the platform store too (logins, `labworks users`): the files
    SQLite makes then keep the platform account's ownership, and the service still writes."""
    platform.add_user("spbob")  # a write as root
    uid = pwd.getpwnam(PLATFORM_USER).pw_uid
    files = sorted((platform.home / "platform").glob("labworks.sqlite*"))
    assert {f.stat().st_uid for f in files} == {uid}, files
    job = submit(platform, owner, notebook("print('written')"))  # a write by the service
    assert wait_job(platform, owner, job["id"])["status"] == "succeeded"


def test_a_job_runs_as_its_owner_with_logs_output_and_cancel(platform, owner):
    job = submit(platform, owner, notebook("import os\nprint('uid', os.getuid(), flush=True)"))
    done = wait_job(platform, owner, job["id"])
    assert done["status"] == "succeeded", done
    log = call(platform, owner, "GET", f"/jobs/{job['id']}/logs").json()["text"]
    assert f"uid {pwd.getpwnam('lw-spana').pw_uid}" in log
    output = call(platform, owner, "GET", f"/jobs/{job['id']}/output")
    assert output.status_code == 200 and "uid" in output.text

    sleeper = submit(platform, owner, notebook("print('asleep', flush=True)",
                                               "import time\ntime.sleep(300)"))  # fmt: skip
    wait_log(platform, owner, sleeper["id"], "asleep")
    assert call(platform, owner, "POST", f"/jobs/{sleeper['id']}/cancel").status_code == 200
    assert wait_job(platform, owner, sleeper["id"])["status"] == "cancelled"


def test_a_job_process_killed_by_a_signal_says_so(platform, owner):
    """The root launcher, not the service, is the job process's parent: it writes down how the
    process ended (`exit.json`, the platform account's), so a SIGKILL is named, not guessed."""
    runner = "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)"  # the kernel's parent
    job = submit(platform, owner, notebook(runner))
    done = wait_job(platform, owner, job["id"])
    assert (done["status"], done["reason"]) == (
        "failed", "the job process was killed by SIGKILL",
    ), done  # fmt: skip


def test_mlflow_logging_works_as_the_platform_account(platform, owner):
    script = (
        "import mlflow, os\n"
        "mlflow.set_tracking_uri(os.environ['URL'])\n"
        "mlflow.set_experiment('split')\n"
        "with mlflow.start_run() as run:\n"
        "    mlflow.log_metric('loss', 0.5)\n"
        "    mlflow.log_text('hello', 'notes.txt')\n"
        "print(mlflow.get_run(run.info.run_id).data.metrics['loss'])\n"
    )
    env = {**os.environ, "URL": f"{platform.url}/services/labworks/mlflow",
           "MLFLOW_TRACKING_TOKEN": owner}  # fmt: skip
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, timeout=120)  # fmt: skip
    assert done.returncode == 0 and done.stdout.splitlines()[-1] == "0.5", done.stderr
    uid = pwd.getpwnam(PLATFORM_USER).pw_uid
    stored = list((platform.home / "jobs" / "artifacts" / "mlflow").rglob("notes.txt"))
    assert stored and all(p.stat().st_uid == uid for p in stored)


def test_a_running_job_is_reattached_after_a_restart(platform, owner):
    slow = notebook("print('before', flush=True)", "import time\ntime.sleep(20)\nprint('after')")
    job = submit(platform, owner, slow)
    wait_log(platform, owner, job["id"], "before")
    platform.stop()
    platform.start()
    done = wait_job(platform, owner, job["id"], timeout=180)
    assert done["status"] == "succeeded", done
    log = call(platform, owner, "GET", f"/jobs/{job['id']}/logs").json()["text"]
    assert "after" in log
    assert service_process(platform).uids().real == pwd.getpwnam(PLATFORM_USER).pw_uid
    assert json.loads((platform.home / "labworks.json").read_text())["db_url"].endswith(
        "/platform/labworks.sqlite"
    )
