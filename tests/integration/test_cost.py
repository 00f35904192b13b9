"""Costs on the real platform: a job that burns CPU for a few seconds is metered while it runs
(1 s samples, tests/integration/conftest.py), its MLflow run gets `labworks.cost_usd`, the
report by job and by run lists it, the CLI's CSV has a header and a cost_usd column; a user
sees only their own usage and cannot set budgets, an administrator can."""

from __future__ import annotations

import csv
import io
import re
import time

import httpx
import pytest

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
