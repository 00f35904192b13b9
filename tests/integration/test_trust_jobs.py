"""A job's files reach the platform without the platform (root here) following them: a job that
swaps its log and output notebook for links to a root-only file, or its output for a FIFO,
reads nothing through the logs API, the output API or the permanent log, and still gets a
clear log of its own (issue 13, "Nothing privileged follows a path that a user can write")."""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path

import pytest

from tests.integration.test_jobs import call, notebook, submit, wait_job

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("isolated")]

MARKER = f"root-only-marker-{secrets.token_hex(4)}"

# Runs in the attempt's empty work/ folder (the job names no notebook path), so `..` is the
# attempt directory; the job's own files are in `../job/` (in `..` before the fix).
SWAP = """
import os, time
SECRET, GO = {secret!r}, {go!r}

def swap(path, hard=False):
    try:
        if os.path.lexists(path):
            os.unlink(path)
        if hard:
            try:
                os.link(SECRET, path)
                return 'hard-linked'
            except PermissionError:
                pass  # protected_hardlinks: no link to a file the job does not own
        os.symlink(SECRET, path)
        return 'linked'
    except OSError as e:
        return 'refused ' + type(e).__name__

folder = '../job' if os.path.isdir('../job') else '..'
print('log:', swap('../log.txt'), flush=True)
print('output:', swap(folder + '/output.ipynb', hard=True), flush=True)
deadline = time.time() + 90
while not os.path.exists(GO) and time.time() < deadline:
    time.sleep(0.1)
"""

FIFO = """
import os, time
GO = {go!r}
folder = '../job' if os.path.isdir('../job') else '..'
os.unlink(folder + '/output.ipynb')
os.mkfifo(folder + '/output.ipynb')
print('fifo in place', flush=True)
deadline = time.time() + 90
while not os.path.exists(GO) and time.time() < deadline:
    time.sleep(0.1)
os.unlink(folder + '/output.ipynb')  # papermill saves the output here next
"""


@pytest.fixture(scope="module")
def attacker(platform) -> str:
    platform.add_user("trusty")
    return platform.token("trusty")


@pytest.fixture
def secret(platform):
    """A root-only 0600 file holding MARKER, shaped like a notebook so the output API would
    show it; and the name of a file whose creation lets the job's waiting cell end."""
    base = platform.home.parent  # 0711: the job may look for a name in it, not list it
    path = base / f"secret-{secrets.token_hex(4)}"
    path.write_text(json.dumps({"cells": [], "metadata": {"marker": MARKER}, "nbformat": 4,
                                "nbformat_minor": 5}))  # fmt: skip
    path.chmod(0o600)
    go = base / f"go-{secrets.token_hex(4)}"
    yield path, go
    path.unlink()
    go.unlink(missing_ok=True)


def wait_log(platform, token: str, job_id: str, text: str, timeout: float = 120) -> str:
    """The live log once it holds `text`; fails at once when it shows MARKER."""
    deadline = time.monotonic() + timeout
    while True:
        log = call(platform, token, "GET", f"/jobs/{job_id}/logs").json().get("text", "")
        assert MARKER not in log, "the logs API read the root-only file"
        if text in log:
            return log
        assert time.monotonic() < deadline, f"{text!r} never appeared in the log: {log[-2000:]}"
        time.sleep(0.2)


def test_a_job_that_links_its_log_and_output_to_a_root_only_file_reads_nothing(
    platform, attacker, secret
):
    path, go = secret
    job = submit(platform, attacker, notebook(SWAP.format(secret=str(path), go=str(go))))
    live = wait_log(platform, attacker, job["id"], "output: ")
    assert "log: refused PermissionError" in live  # the log is the platform's file
    output = call(platform, attacker, "GET", f"/jobs/{job['id']}/output")
    assert MARKER not in output.text
    assert output.status_code == 404, output.text
    go.touch()
    done = wait_job(platform, attacker, job["id"])
    assert MARKER not in json.dumps(done)
    log = call(platform, attacker, "GET", f"/jobs/{job['id']}/logs").json()
    assert log["complete"] and MARKER not in log["text"]
    assert "log: refused PermissionError" in log["text"]
    assert "output.ipynb was not kept" in log["text"], log["text"]
    output = call(platform, attacker, "GET", f"/jobs/{job['id']}/output")
    assert output.status_code == 404 and MARKER not in output.text
    assert path.stat().st_uid == 0 and path.stat().st_nlink == 1  # neither given away nor linked
    kept = Path(platform.home / "jobs" / "artifacts" / "runs" / job["id"])
    assert all(MARKER not in f.read_text() for f in kept.rglob("*") if f.is_file())


def test_a_job_whose_output_is_a_fifo_does_not_hang_the_output_api(platform, attacker, secret):
    _, go = secret
    job = submit(platform, attacker, notebook(FIFO.format(go=str(go))))
    wait_log(platform, attacker, job["id"], "fifo in place")
    started = time.monotonic()
    output = call(platform, attacker, "GET", f"/jobs/{job['id']}/output")
    assert output.status_code == 404 and time.monotonic() - started < 10
    go.touch()
    done = wait_job(platform, attacker, job["id"])
    assert done["status"] == "succeeded", done
    assert call(platform, attacker, "GET", f"/jobs/{job['id']}/output").status_code == 200
