"""A person in a real browser (Debian chromium) sweeps a small quadratic notebook: "Sweep" in the
notebook's toolbar, the dialog pre-filled from the parameters cell, a refusal of the platform
shown in the dialog, then the sweep followed in the Sweeps panel until its trials fill the
trials table and the plots; a trial's row opens its output notebook. Then "Register best model"
registers the model folder the best trial logged, and Delete, once confirmed, removes the sweep
and goes back to the list."""

from __future__ import annotations

import json

import httpx
import nbformat
import pytest
from playwright.sync_api import Page, expect

from tests.browser import open_panel
from tests.integration.test_browser import log_in, start_from_form
from tests.platform import API, auth

pytestmark = pytest.mark.e2e

TRIALS = 6
SWEEP_TIMEOUT_MS = 300_000


def quadratic_notebook(kernel: str) -> dict:
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("x = 0.0", metadata={"tags": ["parameters"]}),
            nbformat.v4.new_code_cell(
                "import mlflow; mlflow.log_metric('loss', (x - 0.5) ** 2)\n"
                "mlflow.log_text('flavors: {}\\n', 'model/MLmodel')  # a model folder, as saved"
            ),
        ]
    )
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"c{i}"
    nb.metadata["kernelspec"] = {"name": kernel, "display_name": "Python 3", "language": "python"}
    return json.loads(nbformat.writes(nb))


def test_sweep_a_notebook_from_its_toolbar_and_watch_the_panel_fill(
    platform, page: Page, screenshots
):
    password = platform.add_user("sweeney")
    log_in(page, platform.url, "sweeney", password)
    start_from_form(page, "sweeney", "cpu-small")
    token = platform.token("sweeney")
    lab_api = f"{platform.url}/user/sweeney/api"
    specs = httpx.get(f"{lab_api}/kernelspecs", headers=auth(token)).json()
    saved = httpx.put(
        f"{lab_api}/contents/quad.ipynb", headers=auth(token), timeout=30,
        json={"type": "notebook", "content": quadratic_notebook(specs["default"])},
    )  # fmt: skip
    assert saved.status_code == 201, saved.text

    page.goto(f"{platform.url}/user/sweeney/lab/tree/quad.ipynb")
    notebook = page.locator(".jp-NotebookPanel")
    expect(notebook.locator(".jp-Cell")).to_have_count(2)
    toolbar = notebook.locator(".jp-Toolbar-item")
    expect(toolbar.get_by_text("Run as job", exact=True)).to_be_visible()
    toolbar.get_by_text("Sweep", exact=True).click()

    # The dialog proposes a range from the parameters cell: x = 0.0 is a float, ±1 around it.
    dialog = page.locator(".jp-Dialog")
    row = dialog.locator('[data-testid="labworks-sweep-param-x"]')
    expect(row.get_by_label("Type of x")).to_have_value("float")
    expect(row.get_by_label("low of x")).to_have_value("-1")
    expect(row.get_by_label("high of x")).to_have_value("1")
    start = dialog.get_by_role("button", name="Start sweep")
    expect(start).to_be_disabled()  # no metric yet
    dialog.locator("#jp-Labworks-jobField-sweep-metric").fill("loss")
    dialog.locator("#jp-Labworks-jobField-sweep-trials").fill(str(TRIALS))

    # The platform's refusal (a grid over a continuous space) is shown in the dialog, which
    # stays open; nothing was created.
    dialog.locator("#jp-Labworks-jobField-sweep-sampler").select_option("grid")
    start.click()
    refusal = dialog.locator(".jp-Labworks-errorText[role=alert]")
    expect(refusal).to_contain_text("grid")
    page.screenshot(path=screenshots / "60-sweep-dialog-refused.png")
    listed = httpx.get(f"{platform.url}{API}/sweeps", headers=auth(token)).json()
    assert listed["sweeps"] == []

    dialog.locator("#jp-Labworks-jobField-sweep-sampler").select_option("tpe")
    dialog.locator("#jp-Labworks-jobField-sweep-parallel").fill("2")
    page.screenshot(path=screenshots / "61-sweep-dialog.png")
    start.click()
    expect(dialog).to_have_count(0)

    # The Sweeps panel opens on the new sweep and fills as its trials end.
    panel = page.locator('[data-testid="labworks-sweeps-panel"]')
    expect(panel).to_be_visible()
    detail = panel.locator('[data-testid="labworks-sweep-detail"]')
    expect(detail).to_contain_text("quad.ipynb")
    expect(detail.locator(".jp-Labworks-sweepStatus")).to_have_text(
        "succeeded", timeout=SWEEP_TIMEOUT_MS
    )
    expect(detail.locator('[data-testid^="labworks-sweep-trial-"]')).to_have_count(TRIALS)
    expect(detail.locator(".jp-Labworks-trialState.jp-mod-complete")).to_have_count(TRIALS)
    counts = detail.locator('[data-testid="labworks-sweep-counts"]')
    expect(counts).to_contain_text(f"{TRIALS}/{TRIALS}")
    objective = detail.locator('[data-testid="labworks-sweep-objective-plot"]')
    expect(objective.locator("circle.jp-Labworks-plotPoint")).to_have_count(TRIALS)
    parallel = detail.locator('[data-testid="labworks-sweep-parallel-plot"]')
    expect(parallel.locator("polyline.jp-Labworks-plotLine")).to_have_count(TRIALS)
    expect(parallel.locator("polyline.jp-mod-best")).to_have_count(1)
    best = detail.locator('[data-testid="labworks-sweep-best"]')
    expect(best).to_contain_text("Best: loss =")
    importance = detail.locator('[data-testid="labworks-sweep-importance"]')
    expect(importance).to_contain_text("Parameter importance")
    expect(importance).to_contain_text("x")  # the one parameter: all of it
    expect(importance).to_contain_text("100%")
    detail.scroll_into_view_if_needed()
    page.screenshot(path=screenshots / "62-sweeps-panel-detail.png", full_page=True)

    # What the panel shows is what the platform holds.
    sweeps = httpx.get(f"{platform.url}{API}/sweeps", headers=auth(token)).json()["sweeps"]
    assert len(sweeps) == 1
    sweep = httpx.get(f"{platform.url}{API}/sweeps/{sweeps[0]['id']}", headers=auth(token)).json()
    assert sweep["counts"]["complete"] == TRIALS
    assert sweep["sampler"] == "tpe" and sweep["parallel"] == 2
    assert sweep["space"] == {"x": {"type": "float", "low": -1, "high": 1}}
    expect(best).to_contain_text(f"(trial {sweep['best_trial']})")

    # A trial's row opens its output notebook, where the sampled value was injected.
    first = next(t for t in sweep["trial_list"] if t["number"] == 0)
    detail.locator('[data-testid="labworks-sweep-trial-0"]').click()
    expect(
        page.locator(".lm-TabBar-tab", has_text=f"(job {first['job_id']}).ipynb")
    ).to_be_visible()
    output = page.locator(".jp-NotebookPanel:visible")
    expect(output).to_contain_text("notebook is read-only")
    expect(output.locator(".jp-Cell").nth(1)).to_contain_text("x = ")
    page.screenshot(path=screenshots / "63-sweep-trial-output.png")

    # Back to the list: the sweep with its progress and best value.
    panel = open_panel(page, "sweeps")
    panel.get_by_role("button", name="← Sweeps").click()
    listed_row = panel.locator(f'[data-testid="labworks-sweep-{sweep["id"]}"]')
    expect(listed_row).to_contain_text(f"{TRIALS}/{TRIALS}")
    expect(listed_row).to_contain_text("succeeded")
    page.screenshot(path=screenshots / "64-sweeps-panel-list.png")

    # "Register best model": the Experiments panel's dialog on the best trial's run, which
    # offers the model folder that run logged.
    listed_row.click()
    detail = panel.locator('[data-testid="labworks-sweep-detail"]')
    detail.get_by_role("button", name="Register best model").click()
    dialog = detail.get_by_role("dialog", name="Register model")
    chooser = dialog.get_by_role("combobox", name="Model", exact=True)
    expect(chooser.locator("option")).to_have_text(["model/ (artifact folder)"])
    expect(dialog).to_contain_text(f"/{sweep['best_run_id']}/artifacts/model")
    dialog.get_by_role("combobox", name="Registered model name").fill("quad-best")
    dialog.get_by_role("button", name="Register", exact=True).click()
    expect(dialog.get_by_role("status")).to_have_text("Registered quad-best version 1")
    page.screenshot(path=screenshots / "65-sweep-register-best.png")
    dialog.get_by_role("button", name="Close").click()
    expect(detail.get_by_role("dialog")).to_have_count(0)
    version = httpx.get(
        f"{platform.url}/services/labworks/mlflow/api/2.0/mlflow/model-versions/get",
        params={"name": "quad-best", "version": "1"}, headers=auth(token),
    )  # fmt: skip
    assert version.status_code == 200, version.text
    assert version.json()["model_version"]["run_id"] == sweep["best_run_id"]

    # Delete: asked first, then back to the list, without the sweep; the platform has it no more.
    detail.get_by_role("button", name="Delete…").click()
    confirm = page.locator(".jp-Dialog")
    expect(confirm).to_contain_text("Delete sweep quad.ipynb")
    page.screenshot(path=screenshots / "66-sweep-delete-confirm.png")
    confirm.get_by_role("button", name="Delete", exact=True).click()
    expect(detail).to_have_count(0)
    expect(listed_row).to_have_count(0)
    expect(panel).to_contain_text("No sweeps yet")
    gone = httpx.get(f"{platform.url}{API}/sweeps/{sweep['id']}", headers=auth(token))
    assert gone.status_code == 404
    page.screenshot(path=screenshots / "67-sweeps-panel-after-delete.png")
