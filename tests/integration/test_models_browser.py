"""A person in a real browser (Debian chromium) serves a registered model from the Models panel and
tries it: a small scikit-learn classifier logged with the stock `mlflow` client and registered
from the CLI (`labworks models register ... --task classification`); in the lab, the Models tab
lists it, "Serve" on version 1 opens the dialog (endpoint name from the model's, task from the
version's tag), the panel follows the deployment until it is ready, and "Try it" builds the form
from the endpoint's metadata, refuses data that does not fit the shape without sending it, sends
a row and shows the raw answer with `label` and `scores`. A second version becomes a canary with
half the requests, then is promoted. Serving the same name again is refused
inside the dialog; Undeploy, once confirmed, takes the endpoint down. Last, the model in detail:
its versions with their task types and a link to the run, and the owner sets then moves the
`production` alias with reasons, which its history shows."""

from __future__ import annotations

import json
import re

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser import open_panel
from tests.integration.test_browser import log_in, start_from_form
from tests.integration.test_jobs import cli
from tests.integration.test_register_model_browser import as_user
from tests.platform import API, auth

pytestmark = pytest.mark.e2e
MODEL, ENDPOINT = "MB-Iris", "mb-iris"
SERVE_TIMEOUT_MS = 300_000

LOG_RUN = """
import json, mlflow, numpy as np
from mlflow.models import infer_signature
from sklearn.linear_model import LogisticRegression
mlflow.set_experiment("mb-train")
X = np.array([[0.0, 0.1], [0.2, 0.0], [1.0, 0.9], [0.9, 1.1], [2.0, 2.1], [2.2, 1.9]])
y = np.array(["setosa", "setosa", "versicolor", "versicolor", "virginica", "virginica"])
model = LogisticRegression(max_iter=500).fit(X, y)
with mlflow.start_run() as run:
    mlflow.sklearn.log_model(model, name="model", signature=infer_signature(X, model.predict(X)))
print(json.dumps({"run_id": run.info.run_id}))
"""


def test_serve_a_version_and_try_it_from_the_models_panel(platform, page: Page, screenshots):
    password = platform.add_user("mbuser")
    token = platform.token("mbuser")
    run_id = as_user(platform, token, LOG_RUN)["run_id"]
    registered = cli(platform, token, "models", "register", f"runs:/{run_id}/model",
                     "--name", MODEL, "--task", "classification")  # fmt: skip
    assert registered.returncode == 0, registered.stderr
    log_in(page, platform.url, "mbuser", password)
    start_from_form(page, "mbuser", "cpu-small")

    # The Models tab lists the registered model with its version and a Serve button.
    panel = open_panel(page, "models")
    card = panel.locator(f'[data-testid="labworks-model-{MODEL}"]')
    expect(card).to_contain_text(MODEL)
    expect(panel).to_contain_text("Nothing served yet")
    version = card.locator(f'[data-testid="labworks-model-{MODEL}-v1"]')
    expect(version).to_contain_text("Version 1")
    page.screenshot(path=screenshots / "70-models-panel.png")
    version.get_by_role("button", name="Serve").click()

    # The dialog: the endpoint name is the model's, lower-cased; the task from the tag.
    dialog = page.locator(".jp-Dialog")
    form = dialog.locator('[data-testid="labworks-serve-form"]')
    expect(form.get_by_label("Endpoint name")).to_have_value(ENDPOINT)
    expect(form.get_by_label("Task type")).to_have_value("")
    expect(form.get_by_label("Task type").locator("option:checked")).to_have_text(
        "From the version (its tag or signature)"
    )
    page.screenshot(path=screenshots / "71-serve-dialog.png")
    dialog.get_by_role("button", name="Serve", exact=True).click()
    expect(dialog).to_have_count(0)

    # The panel shows the new deployment and follows it until it is ready.
    detail = panel.locator('[data-testid="labworks-deployment-detail"]')
    expect(detail).to_contain_text(ENDPOINT)
    expect(detail.locator('[data-testid="labworks-deployment-stable"]')).to_contain_text(
        "version 1"
    )
    expect(detail.locator('[data-testid="labworks-deployment-url"]')).to_contain_text(
        f"/services/labworks/models/v2/models/{ENDPOINT}/infer"
    )
    status = detail.locator(".jp-Labworks-deploymentHeader .jp-Labworks-deploymentStatus")
    try:
        expect(status).to_have_text("ready", timeout=SERVE_TIMEOUT_MS)
    finally:
        page.screenshot(path=screenshots / "72-deployment.png", full_page=True)
    expect(detail.locator('[data-testid="labworks-deployment-history"]')).to_contain_text(
        "mbuser serve"
    )

    # Try it: the form from the metadata (shape [1, 2], any rows made 1).
    detail.get_by_role("button", name="Try it").click()
    try_it = detail.locator('[data-testid="labworks-try-it"]')
    shape = try_it.get_by_label("Shape of", exact=False).first
    expect(shape).to_have_value("[1,2]")
    data = try_it.get_by_label("Data of", exact=False).first
    data.fill("[2.1]")  # one value for a [1, 2] shape: refused here, nothing sent
    try_it.get_by_role("button", name="Send").click()
    error = try_it.locator('[data-testid="labworks-try-it-error"]')
    expect(error).to_contain_text("takes 2 values, the data has 1")
    data.fill("[2.1, 2.0]")
    try_it.get_by_role("button", name="Send").click()
    response = try_it.locator('[data-testid="labworks-try-it-response"]')
    expect(response).to_contain_text('"label"')
    expect(response).to_contain_text('"scores"')
    expect(response).to_contain_text("virginica")
    expect(error).to_have_count(0)
    answer = json.loads(response.inner_text())
    outputs = {o["name"]: o for o in answer["outputs"]}
    assert outputs["label"]["data"] == ["virginica"]
    assert sum(outputs["scores"]["data"]) == pytest.approx(1.0)
    response.scroll_into_view_if_needed()
    page.screenshot(path=screenshots / "73-try-it.png", full_page=True)

    # The request shows up in the server's live figures (polled while the panel is shown).
    server = detail.locator('[data-testid="labworks-server-1"]')
    expect(server).to_contain_text("v1 stable ready")
    errors = server.locator('[data-testid="labworks-server-errors"]')
    expect(errors).to_have_text(re.compile(r"^0 errors of [12] requests$"))  # metadata, infer
    page.screenshot(path=screenshots / "73b-deployment-traffic.png", full_page=True)

    # A canary: version 2 gets half the requests, with a reason; then Promote makes it stable.
    second = cli(platform, token, "models", "register", f"runs:/{run_id}/model",
                 "--name", MODEL, "--task", "classification")  # fmt: skip
    assert second.returncode == 0, second.stderr
    canary = detail.get_by_role("form", name="Canary")
    canary.get_by_label("Version").fill("2")
    canary.get_by_label("Percent").fill("50")
    canary.get_by_label("Reason").fill("try v2")
    canary.get_by_role("button", name="Set traffic").click()
    expect(detail.locator('[data-testid="labworks-deployment-canary"]')).to_have_text(
        "version 2 (50%)"
    )
    expect(detail.locator('[data-testid="labworks-deployment-stable"]')).to_have_text(
        "version 1 (50%)"
    )
    expect(detail.locator('[data-testid="labworks-server-2"]')).to_contain_text(
        "v2 canary ready", timeout=SERVE_TIMEOUT_MS
    )
    page.screenshot(path=screenshots / "73c-canary.png", full_page=True)
    canary.get_by_role("button", name="Promote").click()
    expect(detail.locator('[data-testid="labworks-deployment-stable"]')).to_have_text(
        "version 2 (100%)"
    )
    expect(detail.locator('[data-testid="labworks-deployment-canary"]')).to_have_text("none")
    history = detail.locator('[data-testid="labworks-deployment-history"]')
    expect(history).to_contain_text("try v2")
    expect(history.locator("li").first).to_contain_text("mbuser promote")
    shown = httpx.get(f"{platform.url}{API}/deployments/{ENDPOINT}", headers=auth(token)).json()
    assert (shown["version"], shown["canary_version"]) == ("2", None), shown
    page.screenshot(path=screenshots / "73d-promoted.png", full_page=True)

    # Serving the same endpoint name again: the platform's refusal, inside the dialog.
    detail.get_by_role("button", name="← Models").click()
    expect(panel.locator(f'[data-testid="labworks-deployment-{ENDPOINT}"]')).to_contain_text(
        "ready"
    )
    version.get_by_role("button", name="Serve").click()
    dialog.get_by_role("button", name="Serve", exact=True).click()
    refusal = dialog.locator(".jp-Labworks-errorText[role=alert]")
    expect(refusal).to_contain_text(ENDPOINT)
    page.screenshot(path=screenshots / "74-serve-dialog-refused.png")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)

    # Undeploy, once confirmed: back to the lists, without it; the platform has it no more.
    panel.locator(f'[data-testid="labworks-deployment-{ENDPOINT}"]').click()
    detail.get_by_role("button", name="Undeploy…").click()
    confirm = page.locator(".jp-Dialog")
    expect(confirm).to_contain_text(f"Undeploy {ENDPOINT}")
    page.screenshot(path=screenshots / "75-undeploy-confirm.png")
    confirm.get_by_role("button", name="Undeploy", exact=True).click()
    expect(detail).to_have_count(0)
    row = panel.locator(f'[data-testid="labworks-deployment-{ENDPOINT}"]')
    expect(row.filter(has_text="ready")).to_have_count(0)  # gone, or stopped on its way out
    listed = httpx.get(f"{platform.url}{API}/deployments", headers=auth(token)).json()
    assert [d["name"] for d in listed["deployments"] if d["status"] != "stopped"] == []

    # The model in detail: its versions with their tasks; the owner points an alias at a
    # version and moves it, each with a reason, and the history says who moved what.
    card.get_by_role("button", name="Details").click()
    registry = panel.locator('[data-testid="labworks-registry-detail"]')
    expect(registry.locator('[data-testid="labworks-registry-v2"]')).to_contain_text(
        "classification"
    )
    shown = registry.locator('[data-testid="labworks-registry-version"]')
    expect(shown).to_contain_text("Version 2")
    expect(shown.locator('[data-testid="labworks-registry-task"]')).to_have_text("classification")
    expect(shown.get_by_title("Open the run in the Experiments panel")).to_be_visible()
    aliases = registry.get_by_role("form", name="Alias")
    aliases.get_by_label("Alias").fill("production")
    aliases.get_by_label("Reason").fill("ship it")
    aliases.get_by_role("button", name="Set alias on v2").click()
    expect(shown.locator('[data-testid="labworks-registry-aliases"]')).to_contain_text(
        "@production"
    )
    registry.get_by_role("button", name="Version 1", exact=True).click()
    expect(shown).to_contain_text("Version 1")
    aliases.get_by_label("Alias").fill("production")
    aliases.get_by_label("Reason").fill("roll back")
    aliases.get_by_role("button", name="Set alias on v1").click()
    history = registry.locator('[data-testid="labworks-registry-history"]')
    expect(history.locator("li").first).to_contain_text(
        "mbuser moved @production from v2 to v1 — roll back"
    )
    expect(history).to_contain_text("mbuser set @production to v2 — ship it")
    expect(history).to_contain_text("mbuser registered v1")
    page.screenshot(path=screenshots / "76-model-registry.png", full_page=True)
    # The lineage's run link opens the run page in the Experiments panel's main-area view.
    shown.get_by_title("Open the run in the Experiments panel").click()
    expect(page.locator('[data-testid="labworks-run-page"]')).to_contain_text(run_id)
    found = httpx.get(f"{platform.url}{API}/models/{MODEL}/history", headers=auth(token)).json()
    assert [e["action"] for e in found["events"][:2]] == ["alias.set", "alias.set"], found
