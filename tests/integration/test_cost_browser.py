"""Costs in a real browser (Debian chromium): the status-bar meter of a running workspace shows
its burn rate (the workspace itself is metered, 1 s samples in tests), today's and this month's
spend; clicking it opens the Cost panel, whose chart and table show what a short CPU job
cost, and whose CSV button downloads the table."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.integration.test_browser import log_in, start_from_form
from tests.integration.test_jobs import call, notebook, submit, wait_job

pytestmark = pytest.mark.e2e
BURN = "import time\nstart = time.process_time()\nwhile time.process_time() - start < 2:\n    pass"
# "$0.12/h · today $1.40 · month $23.10": a burn rate that is not zero.
METER = re.compile(r"^\$(?!0\.00/h)\d+\.\d+/h · today \$\d+\.\d+ · month \$[\d,]+\.\d+$")
NOT_ZERO = re.compile(r"\$(?!0\.00\b)\d[\d,]*\.\d+")


def billed_job(platform, token: str, job_id: str, timeout: float = 60) -> float:
    """The job's cost in this month's report, once the meter has billed it."""
    deadline = time.monotonic() + timeout
    while True:
        rows = call(platform, token, "GET", "/cost/report", params={"by": "job"}).json()["rows"]
        cost = next((r["cost_usd"] for r in rows if r["key"] == job_id), 0.0)
        if cost > 0:
            return cost
        assert time.monotonic() < deadline, f"job {job_id} was not billed: {rows}"
        time.sleep(0.5)


def test_the_meter_shows_the_burn_rate_and_opens_the_cost_panel(platform, page: Page, screenshots):
    password = platform.add_user("cosima")
    token = platform.token("cosima")
    job = submit(platform, token, notebook(BURN), profile="cpu-small")  # runs while we log in
    log_in(page, platform.url, "cosima", password)
    start_from_form(page, "cosima", "cpu-small")

    # The meter: this workspace's burn rate (not zero: it is metered while it runs).
    meter = page.get_by_test_id("labworks-cost-meter")
    expect(meter).to_have_text(METER)
    expect(meter).to_have_attribute("title", re.compile("This workspace costs"))
    page.screenshot(path=screenshots / "80-cost-status-bar-meter.png")

    done = wait_job(platform, token, job["id"], timeout=120)
    assert done["status"] == "succeeded", done
    cost = billed_job(platform, token, job["id"])  # the platform billed it: the panel shows it

    # A click on the meter opens the Cost panel: spend now, the chart by day, the table.
    meter.click()
    panel = page.get_by_test_id("labworks-cost-panel")
    expect(panel).to_be_visible()
    expect(panel.get_by_test_id("labworks-cost-now-workspace")).to_contain_text(NOT_ZERO)
    chart = panel.get_by_test_id("labworks-cost-chart")
    expect(chart).to_have_attribute("aria-label", re.compile(r"in all$"))
    expect(chart).to_have_attribute("aria-label", NOT_ZERO)
    expect(chart.locator("canvas")).to_have_count(1)
    panel.get_by_label("Show the spend by").select_option("job")
    row = panel.get_by_test_id("labworks-cost-table").locator(f'tr[data-key="{job["id"]}"]')
    expect(row.locator(".jp-Labworks-costAmount")).to_have_text(NOT_ZERO)
    assert cost > 0
    page.screenshot(path=screenshots / "81-cost-panel.png")

    # CSV: the table as shown, the platform's file.
    with page.expect_download() as download:
        panel.get_by_title("Download the table below as CSV").click()
    saved = download.value
    assert re.fullmatch(r"labworks-cost-\d{4}-\d{2}-by-job\.csv", saved.suggested_filename)
    lines = Path(saved.path()).read_text().splitlines()
    assert lines[0].startswith("key,name,cost_usd,")
    assert any(line.startswith(job["id"] + ",") for line in lines[1:])
