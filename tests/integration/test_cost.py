"""Costs on the real platform: a job that burns CPU for a few seconds is metered while it runs
(1 s samples, tests/integration/conftest.py), its MLflow run gets `labworks.cost_usd`, the
report by job and by run lists it, the CLI's CSV has a header and a cost_usd column; a user
sees only their own usage and cannot set budgets, an administrator can; a group budget alerts
the admin webhook (a loopback receiver) once at 80% and at 100% refuses new jobs, and GPU
workspaces, with a message naming the budget and who can raise it."""

from __future__ import annotations

import csv
import io
import json
import re
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from tests.integration.conftest import COST_HOOK
from tests.integration.test_jobs import call, cli, notebook, submit, wait_job

pytestmark = pytest.mark.e2e
TRACKING = "/services/labworks/mlflow/api/2.0/mlflow"
BURN = """
import time, mlflow
with mlflow.start_run() as run:
    start = time.process_time()
    while time.process_time() - start < 4:
        pass
print("run-id:", run.info.run_id, flush=True)
"""


@pytest.fixture(scope="module")
def people(platform):
    platform.add_user("coral", "--group", "costers")
    platform.add_user("cobus", "--group", "costers")
    platform.add_user("cozy")
    platform.add_user("coadm", "--admin")
    return {name: platform.token(name) for name in ("coral", "cobus", "cozy", "coadm")}


def cost_metric(platform, token: str, run_id: str) -> float | None:
    reply = httpx.get(platform.url + TRACKING + "/runs/get", params={"run_id": run_id},
                      headers={"Authorization": f"Bearer {token}"}, timeout=60)  # fmt: skip
    assert reply.status_code == 200, reply.text
    metrics = {m["key"]: m["value"] for m in reply.json()["run"]["data"].get("metrics", [])}
    return metrics.get("labworks.cost_usd")


def report(platform, token: str, by: str) -> dict[str, dict]:
    reply = call(platform, token, "GET", "/cost/report", params={"by": by})
    assert reply.status_code == 200, reply.text
    return {row["key"]: row for row in reply.json()["rows"]}


@pytest.fixture(scope="module")
def billed(platform, people) -> tuple[str, str, float]:
    """(job id, its MLflow run id, the cost on the run) of coral's CPU-burning job."""
    token = people["coral"]
    job = submit(platform, token, notebook(BURN), profile="cpu-small")
    done = wait_job(platform, token, job["id"], timeout=180)
    assert done["status"] == "succeeded", done
    logs = call(platform, token, "GET", f"/jobs/{job['id']}/logs").json()["text"]
    run_id = re.search(r"run-id: (\w+)", logs).group(1)
    deadline = time.monotonic() + 30
    while (cost := cost_metric(platform, token, run_id)) is None:
        assert time.monotonic() < deadline, "no labworks.cost_usd on the job's run"
        time.sleep(0.5)
    return job["id"], run_id, cost


def test_a_cpu_burning_job_is_billed_on_its_run_and_in_the_report(platform, people, billed):
    job_id, run_id, cost = billed
    token = people["coral"]
    assert cost > 0
    jobs = report(platform, token, "job")
    assert jobs[job_id]["cost_usd"] == pytest.approx(cost, rel=1e-3)
    assert jobs[job_id]["cpu_used_hours"] * 3600 >= 2  # most of the 4 s busy loop, measured
    assert jobs[job_id]["cpu_hours"] > 0  # the profile's 2 cores, reserved
    assert report(platform, token, "run")[run_id]["cost_usd"] == pytest.approx(cost, rel=1e-3)
    assert report(platform, token, "user")["coral"]["cost_usd"] >= cost * 0.999

    shown = cli(platform, token, "cost", "report", "--by", "job", "--csv")
    assert shown.returncode == 0, shown.stderr
    rows = list(csv.DictReader(io.StringIO(shown.stdout)))
    assert "cost_usd" in (rows[0].keys() if rows else ())
    assert float({r["key"]: r for r in rows}[job_id]["cost_usd"]) == pytest.approx(cost, rel=1e-3)
    csv_api = call(platform, token, "GET", "/cost/report", params={"by": "job"},
                   headers={"Accept": "text/csv"})  # fmt: skip
    assert csv_api.headers["content-type"].startswith("text/csv")
    assert csv_api.text.splitlines()[0].startswith("key,name,cost_usd")


def test_the_runs_table_shows_a_finished_jobs_cost(platform, people, billed):
    """The Experiments panel's Cost column: the runs table route lists the job's run with its
    `labworks.cost_usd`, sorts and filters on it, and names it among the metric keys."""
    _job_id, run_id, cost = billed
    token = people["coral"]
    got = httpx.get(platform.url + TRACKING + "/runs/get", params={"run_id": run_id},
                    headers={"Authorization": f"Bearer {token}"}, timeout=60)  # fmt: skip
    experiment_id = got.json()["run"]["info"]["experiment_id"]
    body = {
        "experiment_ids": [experiment_id], "max_results": 25,
        "filter": "metrics.`labworks.cost_usd` > 0",
        "order_by": ["metrics.`labworks.cost_usd` DESC"],
        "columns": {"metrics": ["labworks.cost_usd"], "params": [], "tags": []},
    }  # fmt: skip
    reply = call(platform, token, "POST", "/experiments/runs/table", json=body)
    assert reply.status_code == 200, reply.text
    page = reply.json()
    listed = {r["info"]["run_id"]: r for r in page["runs"]}
    assert run_id in listed
    metrics = listed[run_id]["data"]["metrics"]
    assert [m["key"] for m in metrics] == ["labworks.cost_usd"]
    assert metrics[0]["value"] == pytest.approx(cost)
    assert "labworks.cost_usd" in page["keys"]["metrics"]
    # Another user does not see coral's run, nor its cost.
    other = call(platform, people["cozy"], "POST", "/experiments/runs/table", json=body)
    assert other.status_code in (403, 404) or run_id not in {
        r["info"]["run_id"] for r in other.json()["runs"]
    }


def test_others_see_only_their_own_usage_and_groups_their_totals(platform, people, billed):
    job_id = billed[0]
    assert job_id not in report(platform, people["cozy"], "job")
    assert "coral" not in report(platform, people["cozy"], "user")
    assert "costers" not in report(platform, people["cozy"], "group")
    assert report(platform, people["cobus"], "group")["costers"]["cost_usd"] > 0  # a member
    assert job_id in report(platform, people["coadm"], "job")  # an administrator


def test_only_administrators_set_budgets_and_each_sees_their_own(platform, people, billed):
    body = {"monthly_usd": 100, "thresholds": [50, 80, 100]}
    refused = call(platform, people["coral"], "PUT", "/cost/budgets/user/coral", json=body)
    assert refused.status_code == 403 and "only administrators" in refused.json()["message"]
    assert call(platform, people["coral"], "DELETE", "/cost/budgets/user/cozy").status_code == 403
    made = call(platform, people["coadm"], "PUT", "/cost/budgets/user/coral", json=body)
    assert made.status_code == 200, made.text
    assert made.json()["spent_usd"] >= billed[2] * 0.999
    assert cli(platform, people["coadm"], "cost", "budgets", "set", "group", "costers",
               "--monthly", "500").returncode == 0  # fmt: skip
    mine = call(platform, people["coral"], "GET", "/cost/budgets").json()["budgets"]
    assert {(b["scope"], b["name"]) for b in mine} == {("user", "coral"), ("group", "costers")}
    assert call(platform, people["cozy"], "GET", "/cost/budgets").json()["budgets"] == []
    summary = call(platform, people["coral"], "GET", "/cost/summary").json()
    assert summary["month_usd"] >= billed[2] * 0.999 and len(summary["budgets"]) == 2
    unknown = call(platform, people["coadm"], "PUT", "/cost/budgets/group/nope-team", json=body)
    assert unknown.status_code == 404


# --- budgets at work ---------------------------------------------------------------------------


@pytest.fixture
def admin_hook():
    """The admin webhook of budget alerts (conftest's CostBudgets.admin_webhook): what it got."""
    received: list[dict] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(COST_HOOK.getsockname(), Receiver, bind_and_activate=False)
    server.socket.close()
    server.socket = COST_HOOK  # bound and listening since the platform was configured
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield received
    server.shutdown()


def received(hook: list[dict], count: int, timeout: float = 30) -> list[dict]:
    deadline = time.monotonic() + timeout
    while len(hook) < count:
        assert time.monotonic() < deadline, f"{len(hook)} budget alert(s), not {count}: {hook}"
        time.sleep(0.2)
    return hook


def test_a_group_budget_alerts_once_at_80_and_refuses_new_work_at_100(
    platform, people, billed, admin_hook
):
    admin, coral = people["coadm"], people["coral"]
    path = "/cost/budgets/group/costers"
    body: dict = {"monthly_usd": 1e6, "thresholds": [80, 100]}
    made = call(platform, admin, "PUT", path, json=body)
    assert made.status_code == 200, made.text
    spent = made.json()["spent_usd"]
    assert spent > 0  # coral's billed job
    body["monthly_usd"] = spent / 0.9  # 90% used
    assert call(platform, admin, "PUT", path, json=body).status_code == 200
    alert = received(admin_hook, 1)[0]
    time.sleep(3)  # three more samples of the meter (1 s): none alerts again
    assert len(admin_hook) == 1
    assert (alert["event"], alert["threshold"]) == ("cost.budget_alert", 80)
    assert alert["budget"]["scope"] == "group" and alert["budget"]["name"] == "costers"
    assert alert["spent_usd"] >= spent * 0.999 and alert["percent"] >= 80
    assert "coadm" in alert["raise_by"] and "costers's budget" in alert["message"]

    body["monthly_usd"] = spent / 1.5  # spent: 150%
    assert call(platform, admin, "PUT", path, json=body).status_code == 200
    assert received(admin_hook, 2)[1]["threshold"] == 100
    job = {"content": notebook("print(1)"), "profile": "cpu-small"}
    refused = call(platform, coral, "POST", "/jobs", json=job)
    assert refused.status_code == 403, refused.text
    message = refused.json()["message"]
    assert "group 'costers''s budget for" in message and "is spent" in message
    assert "new jobs are refused" in message and "coadm" in message
    gpu = {"kind": "workspace", "gpu": "true"}
    check = call(platform, coral, "GET", "/cost/check", params=gpu).json()
    assert not check["allowed"] and "new GPU workspaces are refused" in check["message"]
    cpu = call(platform, coral, "GET", "/cost/check", params={"kind": "workspace"}).json()
    assert cpu["allowed"]  # a workspace without a GPU is never refused
    assert call(platform, admin, "GET", "/cost/check", params=gpu).json()["allowed"]  # admins

    body["override_until"] = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert call(platform, admin, "PUT", path, json=body).status_code == 200  # an override
    assert call(platform, coral, "GET", "/cost/check", params={"kind": "job"}).json()["allowed"]
    assert call(platform, admin, "DELETE", path).status_code == 204
    assert len(admin_hook) == 2
