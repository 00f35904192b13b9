"""A person shares an experiment from the Experiments panel in a real browser (Debian chromium):
the Share button beside the experiment shows who sees it now, they choose one of their hub
groups and save; a member of that group then reads it with the stock `mlflow` client (and may
not write to it), and the dialog shows the new visibility when opened again."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser import open_panel
from tests.integration.test_browser import log_in, start_from_form
from tests.integration.test_tracking import as_user

pytestmark = pytest.mark.e2e
EXPERIMENT = "vera-shared"

SEES = """
found = [e.name for e in client.search_experiments(filter_string="name = 'vera-shared'")]
print(json.dumps({"found": found}))
"""


def test_share_an_experiment_with_a_group_from_the_panel(platform, page: Page, screenshots):
    password = platform.add_user("vera", "--group", "vgroup")
    platform.add_user("vince", "--group", "vgroup")
    vera, vince = platform.token("vera"), platform.token("vince")
    logged = as_user(
        platform,
        vera,
        f"""
        experiment_id = mlflow.create_experiment({EXPERIMENT!r})
        with mlflow.start_run(experiment_id=experiment_id) as run:
            mlflow.log_metric("acc", 0.9)
        print(json.dumps({{"experiment_id": experiment_id, "run_id": run.info.run_id}}))
        """,
    )
    assert as_user(platform, vince, SEES) == {"found": []}  # private to vera at first

    log_in(page, platform.url, "vera", password)
    start_from_form(page, "vera", "cpu-small")
    open_panel(page, "experiments")
    share = page.locator(f'[data-testid="labworks-experiment-share-{logged["experiment_id"]}"]')
    share.click()

    dialog = page.locator(".jp-Dialog")
    now = dialog.locator('[data-testid="labworks-share-now"]')
    expect(now).to_have_text("Owned by vera; only its owner sees it.")
    save = dialog.get_by_role("button", name="Save")
    expect(save).to_be_disabled()  # nothing changed yet
    dialog.get_by_label("Who may read it").select_option("group:vgroup")
    page.screenshot(path=screenshots / "45-experiment-share-dialog.png")
    save.click()
    expect(dialog).to_have_count(0)

    assert as_user(platform, vince, SEES) == {"found": [EXPERIMENT]}
    denied = as_user(
        platform,
        vince,
        f"""
        print(json.dumps({{
            "metric": client.get_run({logged["run_id"]!r}).data.metrics["acc"],
            "write": deny(lambda: client.log_metric({logged["run_id"]!r}, "acc", 0.1)),
        }}))
        """,
    )
    assert denied == {"metric": 0.9, "write": "PERMISSION_DENIED"}

    share.click()
    expect(now).to_have_text("Owned by vera; members of vgroup may read it.")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)
