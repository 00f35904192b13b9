"""Links shown to people outlive a restart (issue 15, item 3): a job whose notebook logs an MLflow
run prints MLflow's "View run ... at" and "View experiment at" links; every one starts with the
platform's public URL (what `labworks up` prints), not an internal port. Then `labworks up` stops
and starts again on the same home and public port while the old platform service port is
taken, so the platform's internal addresses change; every link still answers: the MLflow UI for
its owner, the hub's login for a browser with no session."""

from __future__ import annotations

import json
import re
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import nbformat
import pytest

from tests.platform import API, Platform, auth

pytestmark = pytest.mark.e2e
USER = "lina"
ENDED = ("succeeded", "failed", "cancelled", "timed_out")
LINK = re.compile(r"https?://[^\s'\"<>]+")
LOGS_A_RUN = (
    "import mlflow\n"
    "with mlflow.start_run(run_name='public-links'):\n"
    "    mlflow.log_metric('acc', 0.9)"
)


@pytest.fixture
def base() -> Iterator[Path]:
    """A 0711 folder outside /tmp/pytest-of-root: jobs run as system accounts that must pass
    through it to their homes."""
    path = Path(tempfile.mkdtemp(prefix="lw-links-", dir="/tmp"))
    path.chmod(0o711)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def run_job(platform: Platform, token: str, *sources: str) -> dict:
    """Submit a notebook of `sources` as a job and wait for it to end; its output notebook."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"c{i}"
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}  # fmt: skip
    body = {"content": json.loads(nbformat.writes(nb)), "timeout": 600}
    reply = httpx.post(platform.url + API + "/jobs", headers=auth(token), json=body, timeout=60)
    assert reply.status_code == 201, reply.text
    job_id = reply.json()["id"]
    deadline = time.monotonic() + 300
    while True:
        job = httpx.get(f"{platform.url}{API}/jobs/{job_id}", headers=auth(token), timeout=30)
        if job.json()["status"] in ENDED:
            break
        assert time.monotonic() < deadline, f"job {job_id} did not end in 300 s"
        time.sleep(0.5)
    assert job.json()["status"] == "succeeded", job.json()["reason"]
    output = httpx.get(f"{platform.url}{API}/jobs/{job_id}/output", headers=auth(token),
                       timeout=30)  # fmt: skip
    assert output.status_code == 200, output.text
    return output.json()["content"]


def printed_text(notebook: dict) -> str:
    """Everything the notebook's cells printed (streams and text results)."""
    parts = []
    for cell in notebook["cells"]:
        for out in cell.get("outputs", []):
            text = out.get("text") or out.get("data", {}).get("text/plain", "")
            parts.append("".join(text) if isinstance(text, list) else text)
    return "\n".join(parts)


def held(port: int) -> socket.socket:
    """A listening socket on 127.0.0.1:port, so nothing else can take it."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen()
    return sock


def test_mlflow_links_start_with_the_public_url_and_survive_a_restart(base):
    home = base / "lw"
    first = Platform(home)
    first.log_path.touch(mode=0o600)  # it holds the admin password
    first.start(timeout=300)
    second: Platform | None = None
    holder: socket.socket | None = None
    try:
        first.add_user(USER)
        token = first.token(USER)
        printed = printed_text(run_job(first, token, LOGS_A_RUN))
        assert "View run public-links at: " in printed and "View experiment at: " in printed
        links = LINK.findall(printed)
        assert len(links) >= 2, printed
        for link in links:
            assert link.startswith(f"{first.url}/services/labworks/mlflow/#/experiments/"), link
        old_port = first.internal_ports()["service_port"]
        assert f":{old_port}/" not in printed

        first.stop()
        holder = held(old_port)  # the next start must move the platform service elsewhere
        second = Platform(home, port=first.port).start(timeout=300)
        assert second.internal_ports()["service_port"] != old_port
        assert f"port {old_port} of" in second.log()  # the supervisor said it moved

        for link in links:
            page = httpx.get(link, headers=auth(token), timeout=60)
            assert page.status_code == 200, (link, page.status_code, page.text[:300])
            assert "text/html" in page.headers["content-type"]
            assert "<title>MLflow</title>" in page.text, page.text[:300]
            browser = httpx.get(link, headers={"Accept": "text/html"}, timeout=60)
            assert browser.status_code in (302, 303), (link, browser.status_code)
            assert "/hub/api/oauth2/authorize" in browser.headers["location"]
    finally:
        if holder is not None:
            holder.close()
        (second or first).stop()
