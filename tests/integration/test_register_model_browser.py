"""A person in a real browser (Debian chromium) registers a run's model from the run page: a run
logged with the stock `mlflow` client holds a logged model (`mlflow.sklearn.log_model`) and a
model saved as an artifact folder (`sk/`, with its MLmodel file). In the Experiments panel they
open the run, press "Register model", register the logged model under a new name (version 1),
then the folder as version 2 of that same model; the stock client then finds both versions and
loads version 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from playwright.sync_api import Page, expect

from tests.browser import open_panel
from tests.integration.test_browser import log_in, start_from_form

pytestmark = pytest.mark.e2e
TRACKING = "/services/labworks/mlflow"
EXPERIMENT = "rmb-train"
MODEL = "rmb-churn"

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


def test_register_a_runs_model_from_the_run_page(platform, page: Page, screenshots):
    password = platform.add_user("rmb", "--group", "rmbteam")
    token = platform.token("rmb")
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
