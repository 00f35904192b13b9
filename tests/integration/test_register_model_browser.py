"""A person in a real browser (Debian chromium) registers a run's model from the run page: a run
logged with the stock `mlflow` client holds a logged model (`mlflow.sklearn.log_model`) and a
model saved as an artifact folder (`sk/`, with its MLmodel file). In the Experiments panel they
open the run, press "Register model", register the logged model under a new name (version 1),
then the folder as version 2 of that same model; the stock client then finds both versions and
loads version 2.

Then the notebook -> job -> model -> endpoint path, all in the lab: a notebook job that trained a
classifier succeeded; its entry in the Jobs panel offers "Register and serve", which registers
the model its run logged and serves it; the dialog follows the endpoint until it is ready and
shows its URL, which answers; "Open in Models panel" shows it there. "Serve" on the run page
opens the same dialog, which shows the platform's refusal of a taken endpoint name."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser import TIMEOUT_MS, open_panel
from tests.integration.test_browser import log_in, start_from_form
from tests.integration.test_jobs import call, submit, wait_job
from tests.integration.test_serving import TRAIN, gateway, infer_body

pytestmark = pytest.mark.e2e
TRACKING = "/services/labworks/mlflow"
EXPERIMENT = "rmb-train"
MODEL = "rmb-churn"
SERVED = "rmb-iris"  # the job's name: the registered model and its endpoint

LOG_RUN = f"""
import json, tempfile, mlflow, numpy as np
from sklearn.linear_model import LogisticRegression
mlflow.set_experiment({EXPERIMENT!r})
X, y = np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([0, 0, 1, 1])
fitted = LogisticRegression().fit(X, y)
with mlflow.start_run(run_name="fit") as run:
    mlflow.log_metric("acc", 1.0)
    info = mlflow.sklearn.log_model(fitted, name="model")
    folder = tempfile.mkdtemp() + "/sk"
    mlflow.sklearn.save_model(fitted, folder)
    mlflow.log_artifacts(folder, "sk")
print(json.dumps({{"run_id": run.info.run_id, "model_id": info.model_id}}))
"""

CHECK = f"""
import json, mlflow, numpy as np
from mlflow import MlflowClient
client = MlflowClient()
versions = {{v.version: v for v in client.search_model_versions("name = '{MODEL}'")}}
print(json.dumps({{
    "versions": sorted(versions),
    "runs": sorted({{v.run_id for v in versions.values()}}),
    "sources": [versions[v].source for v in sorted(versions)],
    "prediction": [int(p) for p in mlflow.pyfunc.load_model("models:/{MODEL}/2").predict(
        np.array([[0.0], [3.0]]))],
}}))
"""


def as_user(platform, token: str, code: str) -> dict:
    """Run `code` with the stock client as the token's user; the JSON it printed last."""
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": platform.url + TRACKING,
        "MLFLOW_TRACKING_TOKEN": token,
        "MLFLOW_DISABLE_TELEMETRY": "true",
    }
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.timeout(900)  # a lab, a training job, and a model server that starts
def test_register_a_runs_model_from_the_run_page(platform, page: Page, screenshots):
    password = platform.add_user("rmb", "--group", "rmbteam")
    token = platform.token("rmb")
    job = submit(platform, token, TRAIN, name=SERVED)  # trains while the lab starts
    logged = as_user(platform, token, LOG_RUN)
    log_in(page, platform.url, "rmb", password)
    start_from_form(page, "rmb", "cpu-small")

    open_panel(page, "experiments").get_by_role("button", name=EXPERIMENT).click()
    runs = page.locator('[data-testid="labworks-runs"]')
    runs.locator(".jp-Labworks-runLink", has_text="fit").click()
    run_page = page.locator('[data-testid="labworks-run-page"]:visible')
    expect(run_page.locator(".jp-Labworks-runTitle")).to_have_text("fit")

    # The dialog offers the logged model and the artifact folder with an MLmodel file.
    run_page.get_by_role("button", name="Register model").click()
    dialog = run_page.get_by_role("dialog", name="Register model")
    chooser = dialog.get_by_role("combobox", name="Model", exact=True)
    expect(chooser.locator("option")).to_have_count(2)
    expect(chooser.locator("option").first).to_have_text(f"model ({logged['model_id']})")
    expect(chooser.locator("option").nth(1)).to_have_text("sk/ (artifact folder)")
    register = dialog.get_by_role("button", name="Register", exact=True)
    expect(register).to_be_disabled()  # no name yet
    name = dialog.get_by_role("combobox", name="Registered model name")
    name.fill(MODEL)
    expect(dialog).to_contain_text("A new registered model, private to you.")
    page.screenshot(path=screenshots / "46-register-model-dialog.png")
    register.click()
    expect(dialog.get_by_role("status")).to_have_text(f"Registered {MODEL} version 1")
    page.screenshot(path=screenshots / "47-register-model-done.png")

    # The folder, as a new version of the same model (now an existing name).
    chooser.select_option(label="sk/ (artifact folder)")
    expect(dialog).to_contain_text(f"A new version of {MODEL}.")
    register.click()
    expect(dialog.get_by_role("status")).to_have_text(f"Registered {MODEL} version 2")
    expect(dialog.get_by_role("alert")).to_have_count(0)

    # A name MLflow refuses: its message, in the dialog.
    name.fill("bad/name")
    register.click()
    expect(dialog.get_by_role("alert")).to_contain_text("Names cannot contain '/'")
    expect(dialog.get_by_role("status")).to_have_count(0)
    page.screenshot(path=screenshots / "48-register-model-refused.png")
    dialog.get_by_role("button", name="Cancel").click()
    expect(run_page.get_by_role("dialog")).to_have_count(0)

    seen = as_user(platform, token, CHECK)
    assert seen["versions"] == ["1", "2"]
    assert seen["runs"] == [logged["run_id"]]
    assert seen["sources"][0] == f"models:/{logged['model_id']}"
    assert seen["sources"][1].endswith(f"/{logged['run_id']}/artifacts/sk")
    assert seen["prediction"] == [0, 1]

    try:
        _register_and_serve_from_the_jobs_panel(platform, page, screenshots, token, job["id"])
    finally:  # no model server outlives the test
        call(platform, token, "DELETE", f"/deployments/{SERVED}")


def _register_and_serve_from_the_jobs_panel(platform, page: Page, screenshots, token, job_id):
    assert wait_job(platform, token, job_id, 300)["status"] == "succeeded"
    run_page = page.locator('[data-testid="labworks-run-page"]:visible')
    jobs = open_panel(page, "jobs")
    item = jobs.locator(f'[data-testid="labworks-job-{job_id}"]')
    expect(item).to_have_attribute("data-status", "succeeded", timeout=TIMEOUT_MS)
    item.locator(".jp-Labworks-jobHeader").click()
    detail = item.locator('[data-testid="labworks-job-detail"]')
    detail.get_by_role("button", name="Register and serve").click()
    dialog = detail.get_by_role("dialog", name="Register and serve")
    # The model the job's run logged, named after the job, served at an endpoint of that name.
    expect(dialog.get_by_role("combobox", name="Model", exact=True)).to_contain_text("model (m-")
    expect(dialog.get_by_role("combobox", name="Registered model name")).to_have_value(SERVED)
    expect(dialog.get_by_role("checkbox", name="Serve it")).to_be_checked()
    expect(dialog.get_by_role("textbox", name="Endpoint name")).to_have_value(SERVED)
    task = dialog.get_by_role("combobox", name="Task type")
    expect(task.locator("option:checked")).to_have_text("Detect from the model")
    page.screenshot(path=screenshots / "49-register-and-serve-dialog.png")
    dialog.get_by_role("button", name="Register and serve").click()  # the one click
    expect(dialog.get_by_test_id("labworks-registered")).to_have_text(
        f"Registered {SERVED} version 1"
    )
    ready = dialog.get_by_test_id("labworks-serve-ready")
    expect(ready).to_contain_text(
        f"Serving {SERVED} version 1 at endpoint {SERVED}, ready:", timeout=TIMEOUT_MS
    )
    url = f"{platform.url}/services/labworks/models/v2/models/{SERVED}/infer"
    expect(dialog.get_by_test_id("labworks-serve-url")).to_have_text(url)
    expect(dialog.get_by_role("alert")).to_have_count(0)
    expect(dialog.get_by_role("button", name="Serve", exact=True)).to_be_disabled()
    page.screenshot(path=screenshots / "50-register-and-serve-ready.png")

    # What the dialog shows is real: the endpoint answers as the classifier the model's
    # signature says it is (no task type was chosen).
    shown = call(platform, token, "GET", f"/deployments/{SERVED}").json()
    assert (shown["task"], shown["status"], shown["url"]) == ("classification", "ready", url)
    answer = gateway(platform, token, "POST", f"/{SERVED}/infer", json=infer_body())
    assert answer.status_code == 200, answer.text
    labels = {o["name"]: o for o in answer.json()["outputs"]}["label"]["data"]
    assert labels == ["setosa", "virginica"]

    dialog.get_by_role("button", name="Open in Models panel").click()
    models = page.locator('[data-testid="labworks-models-panel"]')
    expect(models.locator(f'[data-testid="labworks-deployment-{SERVED}"]')).to_contain_text("ready")
    page.screenshot(path=screenshots / "51-register-and-serve-models-panel.png")

    # "Serve" on the run page: the same dialog. Its refusals stay in it: the run's model has no
    # signature, so no task type can be detected (400, after the version is registered); then
    # the endpoint name is taken (409). Pressing again serves that version, registers no other.
    run_page.get_by_role("button", name="Serve", exact=True).click()
    serve = run_page.get_by_role("dialog", name="Register and serve")
    serve.get_by_role("combobox", name="Registered model name").fill(MODEL)
    expect(serve.get_by_role("textbox", name="Endpoint name")).to_have_value(MODEL)
    serve.get_by_role("button", name="Register and serve").click()
    expect(serve.get_by_test_id("labworks-registered")).to_have_text(
        f"Registered {MODEL} version 3"
    )
    expect(serve.get_by_role("alert")).to_contain_text(f"version 3 of {MODEL} has no task type")
    page.screenshot(path=screenshots / "52-serve-refused-no-task.png")
    serve.get_by_role("combobox", name="Task type").select_option("classification")
    serve.get_by_role("textbox", name="Endpoint name").fill(SERVED)
    serve.get_by_role("button", name="Serve", exact=True).click()
    expect(serve.get_by_role("alert")).to_contain_text(f"an endpoint named '{SERVED}' exists")
    expect(serve.get_by_test_id("labworks-registered")).to_have_text(
        f"Registered {MODEL} version 3"
    )
    expect(serve.get_by_test_id("labworks-serve-ready")).to_have_count(0)
    page.screenshot(path=screenshots / "53-serve-refused-taken.png")
    serve.get_by_role("button", name="Close").click()
    expect(run_page.get_by_role("dialog")).to_have_count(0)
    fourth = httpx.get(
        f"{platform.url}{TRACKING}/api/2.0/mlflow/model-versions/get",
        params={"name": MODEL, "version": "4"}, headers={"Authorization": f"token {token}"},
    )  # fmt: skip
    assert fourth.status_code == 404, fourth.text
