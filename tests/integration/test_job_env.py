"""What a notebook job runs with, on the real platform: its notebook's folder of the owner's
workspace as working directory, and a hub token of its owner, made by the platform service
through the hub's REST API, revoked when the job ends and kept out of logs and the store."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime

import httpx
import nbformat
import pytest

from tests.platform import API, wait_for_lab

pytestmark = pytest.mark.e2e
USER = "jenv"
ENDED = ("succeeded", "failed", "cancelled", "timed_out")

CELLS = [
    # (a) data next to the notebook, opened by a relative path
    "import csv, json, os, urllib.request\n"
    "rows = list(csv.reader(open('data.csv')))\n"
    "print('rows', len(rows), rows[1])",
    # (b) the platform, called with the job's own token
    "token = os.environ['LABWORKS_API_TOKEN']\n"
    "same = {os.environ['JUPYTERHUB_API_TOKEN'], os.environ['MLFLOW_TRACKING_TOKEN'], token}\n"
    "request = urllib.request.Request(os.environ['LABWORKS_API_URL'] + '/me',\n"
    "                                 headers={'Authorization': 'token ' + token})\n"
    "print('me', json.load(urllib.request.urlopen(request))['name'], len(same))\n"
    "print('mlflow', os.environ['MLFLOW_TRACKING_URI'])",
    # for the test's check that the token dies with the job (a file in the owner's workspace)
    "open(f\"token-{os.environ['LABWORKS_JOB_ID']}.txt\", 'w').write(token)",
    # when this kernel started (a warm one: before the job was submitted), to 10 ms
    "import time\n"
    "ticks = int(open('/proc/self/stat').read().rsplit(')', 1)[1].split()[19])\n"
    "age = float(open('/proc/uptime').read().split()[0]) - ticks / os.sysconf('SC_CLK_TCK')\n"
    "print('kernel started', time.time() - age)",
]


def notebook() -> dict:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"c{i}"
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}  # fmt: skip
    return json.loads(nbformat.writes(nb))


def test_a_job_runs_in_its_workspace_folder_with_a_token_of_its_owner_revoked_at_the_end(
    platform,
):
    """Twice: the first job starts its kernel, the second runs on a warm kernel started
    before it was submitted (docs/admin-guide.md#warm-kernels), with the same facts."""
    platform.add_user(USER)
    token = platform.token(USER)
    headers = {"Authorization": f"token {token}"}
    server = f"{platform.url}/hub/api/users/{USER}/server"
    assert httpx.post(server, headers=headers, timeout=60).status_code in (201, 202)
    try:
        wait_for_lab(platform.url, USER, token)
        contents = f"{platform.url}/user/{USER}/api/contents/proj"
        made = httpx.put(contents, headers=headers, json={"type": "directory"}, timeout=30)
        assert made.status_code == 201, made.text
        data = {"type": "file", "format": "text", "content": "a,b\n1,2\n3,4\n"}
        saved = httpx.put(f"{contents}/data.csv", headers=headers, json=data, timeout=30)
        assert saved.status_code == 201, saved.text

        kernels = [check_one_job(platform, headers, token) for _ in range(2)]
        (_, cold), (submitted, warm) = kernels
        assert cold > kernels[0][0]  # the first job's kernel started for it
        assert warm < submitted  # the second's was waiting for it
    finally:
        httpx.delete(server, headers=headers, timeout=120)


def check_one_job(platform, headers: dict, token: str) -> tuple[float, float]:
    """Run the notebook as a job and check what it ran with; (when the job was submitted,
    when its kernel started), in seconds since the epoch."""
    contents = f"{platform.url}/user/{USER}/api/contents/proj"
    body = {"content": notebook(), "path": "proj/report.ipynb", "timeout": 300}
    reply = httpx.post(platform.url + API + "/jobs", headers=headers, json=body, timeout=60)
    assert reply.status_code == 201, reply.text
    job = wait_job(platform, headers, reply.json()["id"])

    assert job["status"] == "succeeded", job["reason"]
    assert job["events"][1]["message"] == "attempt 1 started in the workspace folder proj/"
    log = httpx.get(f"{platform.url}{API}/jobs/{job['id']}/logs", headers=headers).json()
    assert "rows 3 ['1', '2']" in log["text"]
    assert f"me {USER} 1" in log["text"]  # the owner, one token under three names
    assert re.search(r"mlflow http://\S+/services/labworks/mlflow\n", log["text"])

    saved = httpx.get(f"{contents}/token-{job['id']}.txt", headers=headers)
    job_token = saved.json()["content"]
    assert job_token and job_token != token
    me = httpx.get(platform.url + API + "/me", headers={"Authorization": f"token {job_token}"})
    assert me.status_code in (401, 403), me.text  # revoked when the job ended
    listed = httpx.get(f"{platform.url}/hub/api/users/{USER}/tokens", headers=headers).json()
    assert not [t for t in listed["api_tokens"] if job["id"] in (t.get("note") or "")]

    output = httpx.get(f"{platform.url}{API}/jobs/{job['id']}/output", headers=headers)
    stores = sorted((platform.home / "platform").glob("labworks.sqlite*"))
    assert stores, "the platform store is not where the test looks"
    for place, text in [("job log", log["text"]), ("output notebook", output.text),
                        ("platform log", platform.log())] + [
        (str(p), p.read_bytes().decode("latin-1")) for p in stores
    ]:  # fmt: skip
        assert job_token not in text, f"the job's token is in the {place}"
    return (
        datetime.fromisoformat(job["created_at"]).replace(tzinfo=UTC).timestamp(),
        float(re.search(r"kernel started ([0-9.]+)", log["text"])[1]),
    )


def wait_job(platform, headers: dict, job_id: str, timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        reply = httpx.get(f"{platform.url}{API}/jobs/{job_id}", headers=headers, timeout=30)
        if reply.status_code == 200 and reply.json()["status"] in ENDED:
            return reply.json()
        assert time.monotonic() < deadline, f"job {job_id}: {reply.status_code} {reply.text}"
        time.sleep(0.2)
