"""A person in a real browser (Debian chromium) looks at their tracked runs: two runs logged
with the stock `mlflow` client through the platform's tracking server (hub token), a third
logged by a notebook job. In the Experiments panel they open the experiment's runs table, try a
bad filter (MLflow's message inline) and a good one, select two runs and compare them (curves
with both runs in the legend, the parameter diff, the bars), export the comparison as CSV, open
a run's page with its artifacts (an image and a text file open in the lab), and from the job's
run (which read a dataset version through `labworks.data`) see that dataset on its page and open
the job's output notebook."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import time

import httpx
import nbformat
import pytest
from playwright.sync_api import Page, expect

from tests.browser import open_panel
from tests.integration.test_browser import log_in, start_from_form
from tests.platform import API, auth, labworks

pytestmark = pytest.mark.e2e
TRACKING = "/services/labworks/mlflow"
EXPERIMENT = "exa-sweep"

LOG_TWO_RUNS = f"""
import json, mlflow, numpy as np
mlflow.set_experiment({EXPERIMENT!r})
ids = {{}}
for name, lr, acc, start in (("base", "0.1", 0.71, 1.0), ("tuned", "0.01", 0.93, 0.8)):
    with mlflow.start_run(run_name=name) as run:
        mlflow.log_params({{"lr": lr, "epochs": "10", "optimizer": "adam"}})
        for step in range(20):
            mlflow.log_metric("loss", start / (step + 1), step=step)
        mlflow.log_metric("acc", acc)
        mlflow.log_text("notes for " + name, "notes.txt")
        image = np.zeros((32, 48, 3), dtype=np.uint8)
        image[:, :, 0] = 200
        mlflow.log_image(image, "plots/preview.png")
        ids[name] = run.info.run_id
print(json.dumps(ids))
"""

DATASET = "exa-labels"
JOB_CELL = f"""
import os, mlflow
from labworks import data
mlflow.set_experiment({EXPERIMENT!r})
job = {{"labworks.job.id": os.environ["LABWORKS_JOB_ID"]}}
with mlflow.start_run(run_name="from-job", tags=job):
    labels = (data.get({DATASET!r}) / "labels.csv").read_text()
    mlflow.log_param("lr", "0.05")
    mlflow.log_metric("acc", 0.8)
print("logged from the job")
"""


def log_as_user(platform, token: str) -> dict[str, str]:
    """Log two runs with the stock client, as the user would from a terminal."""
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": platform.url + TRACKING,
        "MLFLOW_TRACKING_TOKEN": token,
        "MLFLOW_DISABLE_TELEMETRY": "true",
    }
    done = subprocess.run(
        [sys.executable, "-c", LOG_TWO_RUNS], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_logging_job(platform, token: str, tmp_path) -> str:
    """A notebook job that reads a dataset (pushed here with the CLI) and logs a run tagged
    with its job id; returns the job id."""
    (tmp_path / "labels.csv").write_text("id,label\n1,cat\n")
    env = {"LABWORKS_URL": platform.url, "LABWORKS_TOKEN": token}
    labworks("datasets", "push", DATASET, str(tmp_path / "labels.csv"), home=platform.home, env=env)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(JOB_CELL)])
    nb.cells[0]["id"] = "c0"
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    reply = httpx.post(
        platform.url + API + "/jobs", headers=auth(token), timeout=60,
        json={"content": json.loads(nbformat.writes(nb)), "path": "log-run.ipynb"},
    )  # fmt: skip
    assert reply.status_code == 201, reply.text
    job_id = reply.json()["id"]
    deadline = time.monotonic() + 180
    while True:
        job = httpx.get(f"{platform.url}{API}/jobs/{job_id}", headers=auth(token), timeout=60)
        status = job.json()["status"]
        if status in ("succeeded", "failed", "cancelled", "timed_out"):
            break
        assert time.monotonic() < deadline, f"job {job_id} still {status}"
        time.sleep(0.5)
    if status != "succeeded":
        log = httpx.get(f"{platform.url}{API}/jobs/{job_id}/logs", headers=auth(token)).json()
        pytest.fail(f"the logging job {status}: {job.json().get('reason')}\n{log.get('text')}")
    return job_id


def test_compare_two_runs_and_open_a_runs_artifacts(platform, page: Page, screenshots, tmp_path):
    password = platform.add_user("exa", "--group", "trackers")
    token = platform.token("exa")
    ids = log_as_user(platform, token)
    job_id = run_logging_job(platform, token, tmp_path)
    log_in(page, platform.url, "exa", password)
    start_from_form(page, "exa", "cpu-small")

    panel = open_panel(page, "experiments")
    panel.get_by_role("button", name=EXPERIMENT).click()

    # The runs table: one row per run, the metrics and parameters as columns.
    runs = page.locator('[data-testid="labworks-runs"]')
    table = runs.locator('[data-testid="labworks-runs-table"]')
    rows = table.locator('[data-testid^="labworks-run-row-"]')
    expect(rows).to_have_count(3)
    header = table.locator('[role="columnheader"]')
    for column in ("acc", "loss", "epochs", "lr", "optimizer"):
        expect(header.filter(has_text=column)).to_have_count(1)
    expect(runs.locator('[data-testid="labworks-runs-count"]')).to_have_text("3 runs")

    # A wrong filter: MLflow's own message, inline; a right one narrows the table.
    search = runs.get_by_label("Filter runs with MLflow search syntax")
    search.fill("metrics.acc >>> 0.8")
    search.press("Enter")
    expect(runs.locator('[data-testid="labworks-runs-error"]')).to_contain_text(
        "Invalid comparator '>>>'"
    )
    page.screenshot(path=screenshots / "40-experiments-bad-filter.png")
    search.fill("metrics.acc > 0.75")
    search.press("Enter")
    expect(rows).to_have_count(2)
    expect(runs.locator('[data-testid="labworks-runs-error"]')).to_have_count(0)
    expect(rows.filter(has_text="base")).to_have_count(0)
    search.fill("")
    search.press("Enter")
    expect(rows).to_have_count(3)

    # Sorting is done by the tracking server: acc ascending puts base first.
    acc = header.filter(has_text="acc").get_by_role("button")
    acc.click()  # descending
    expect(rows.first).to_contain_text("tuned")
    acc.click()  # ascending
    expect(rows.first).to_contain_text("base")
    page.screenshot(path=screenshots / "41-experiments-runs-table.png")

    # Compare base and tuned.
    table.locator(f'[data-testid="labworks-run-row-{ids["base"]}"] input[type=checkbox]').check()
    table.locator(f'[data-testid="labworks-run-row-{ids["tuned"]}"] input[type=checkbox]').check()
    runs.get_by_role("button", name="Compare (2)").click()
    compare = page.locator('[data-testid="labworks-compare"]')
    curves = compare.locator('[data-testid="labworks-compare-curves"]')
    expect(curves.locator("canvas")).to_have_count(1)
    legend = curves.locator(".u-legend")
    expect(legend).to_contain_text("base")
    expect(legend).to_contain_text("tuned")
    expect(compare.get_by_label("Metric").first).to_have_value("acc")
    compare.get_by_label("Metric").first.select_option("loss")
    expect(curves.locator(".u-legend .u-series")).to_have_count(3)  # step, base, tuned
    compare.locator("#jp-Labworks-compare-smoothing").fill("0.6")
    expect(compare).to_contain_text("Smoothing 0.60")
    compare.get_by_label("Log scale").check()
    expect(curves.locator("canvas")).to_have_count(1)
    bars = compare.locator('[data-testid="labworks-compare-bars"]')
    expect(bars.locator("canvas")).to_have_count(1)
    expect(bars.locator(".u-legend")).to_contain_text("tuned")
    diff = compare.locator('[data-testid="labworks-param-diff"]')
    expect(diff.locator('tr[data-differs="true"]')).to_have_count(1)
    expect(diff.locator('tr[data-differs="true"]')).to_contain_text("lr")
    expect(diff.locator("tr", has_text="optimizer")).to_have_attribute("data-differs", "false")
    page.screenshot(path=screenshots / "42-experiments-compare.png")

    with page.expect_download() as download:
        compare.get_by_role("button", name="Export CSV").click()
    saved = tmp_path / "comparison.csv"
    download.value.save_as(saved)
    exported = list(csv.DictReader(io.StringIO(saved.read_text())))
    assert sorted((r["run_name"], r["params.lr"], r["metrics.acc"]) for r in exported) == [
        ("base", "0.1", "0.71"),
        ("tuned", "0.01", "0.93"),
    ]

    # A run's page: its values and artifacts; an image and a text open in the lab.
    compare.get_by_role("button", name="base").click()
    run_page = page.locator('[data-testid="labworks-run-page"]:visible')
    expect(run_page.locator(".jp-Labworks-runTitle")).to_have_text("base")
    expect(run_page.locator('[data-testid="labworks-run-metrics"]')).to_contain_text("acc")
    artifacts = run_page.locator('[data-testid="labworks-artifacts"]')
    artifacts.get_by_role("button", name="plots/").click()
    expect(artifacts).to_contain_text("notes.txt")
    page.screenshot(path=screenshots / "44-experiments-run-page.png")
    artifacts.get_by_role("button", name="preview.png").click()
    image = page.locator(".jp-ImageViewer:visible img")
    expect(image).to_be_visible()
    assert image.evaluate("img => img.naturalWidth") == 48
    page.screenshot(path=screenshots / "43-experiments-artifact-image.png")
    page.locator(".lm-TabBar-tab", has_text="Run: base").click()
    artifacts.get_by_role("button", name="notes.txt").click()
    expect(page.locator(".jp-FileEditor:visible .cm-content")).to_contain_text("notes for base")

    # The job's run links to the job's output notebook.
    page.locator(".lm-TabBar-tab", has_text=f"Runs: {EXPERIMENT}").click()
    runs.locator(".jp-Labworks-runLink", has_text="from-job").click()
    job_run = page.locator('[data-testid="labworks-run-page"]:visible')
    expect(job_run).to_contain_text(job_id)
    read = job_run.locator('[data-testid="labworks-run-datasets"] tbody tr')
    expect(read).to_have_count(1)
    expect(read.locator("th")).to_have_text(f"exa/{DATASET}")
    expect(read.locator("td").first).to_have_text("1")  # the version the job read
    page.screenshot(path=screenshots / "45-experiments-run-datasets.png")
    job_run.get_by_role("button", name="Open job output").click()
    output = page.locator(".jp-NotebookPanel:visible")
    expect(output.locator(".jp-OutputArea-output", has_text="logged from the job")).to_be_visible()

    # Nothing of this is reachable without the owner's session.
    anonymous = httpx.post(
        f"{platform.url}/user/exa/labworks/mlflow/api/2.0/mlflow/runs/search", json={}, timeout=30
    )
    assert anonymous.status_code in (302, 401, 403)
