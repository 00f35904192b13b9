"""The embedded default shows what it has (issue 15, item 6): with no image registry, the spawn
page names the environment every workspace runs in, the platform's own Python environment, as
a catalog entry marked the default with its lock digest, and says how to offer more."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from labworks_hub.catalog import local_environment
from tests.integration.test_browser import log_in

pytestmark = pytest.mark.e2e


def test_the_spawn_page_shows_the_local_environment_as_the_default(platform, page, screenshots):
    password = platform.add_user("lou")
    page.set_default_timeout(120_000)
    log_in(page, platform.url, "lou", password)
    page.wait_for_url("**/hub/spawn**")
    local = page.get_by_test_id("lw-local-image")
    expect(local).to_be_visible()
    expect(local.locator("h3")).to_contain_text("Local environment")
    expect(local.locator("h3 .lw-badge")).to_have_text("default")
    expected = local_environment()  # the platform runs in this checkout's environment
    expect(local).to_contain_text(f"Python {expected.python}")
    expect(local).to_contain_text("The Python environment this platform runs in")
    expect(local.locator(f'span[title="{expected.digest}"]')).to_have_text(
        expected.digest[:19] + "…"
    )
    local.locator("summary").click()
    expect(local.locator("li").first).to_contain_text("==")
    expect(page.get_by_test_id("lw-no-registry")).to_contain_text("labworks up --registry URL")
    expect(page.locator('input[name="image"]')).to_have_count(0)  # nothing to choose
    page.screenshot(path=screenshots / "spawn-local-environment.png", full_page=True)
