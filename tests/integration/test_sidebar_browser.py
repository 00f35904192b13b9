"""The Labworks panels in a real browser: each one its own side-bar tab with an icon and a
tooltip, as the file browser and Git are, and a card in the launcher's Labworks section."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.browser import open_panel, panel_tab
from tests.integration.test_browser import log_in, start_from_form

pytestmark = pytest.mark.e2e
# Each panel's tab tooltip (its caption), in the default order of the tabs.
PANELS = {
    "workspace": "Facts about this workspace",
    "jobs": "Notebook jobs and schedules",
    "sweeps": "Hyperparameter sweeps of notebook parameters",
    "experiments": "Tracked experiments and their runs",
    "models": "Registered models and their served endpoints",
    "data": "Versioned datasets and data sources you can read",
    "cost": "What your work costs, and budgets",
    "gallery": "Notebooks published to your groups",
}
LABELS = ["Workspace", "Jobs", "Sweeps", "Experiments", "Models", "Data", "Cost", "Gallery"]


def shown_panels(page: Page) -> list[str]:
    """The Labworks panels a person sees now."""
    return [
        name
        for name in [*PANELS, "admin"]
        if page.locator(f'[data-testid="labworks-{name}-panel"]').is_visible()
    ]


def test_each_panel_is_its_own_tab_and_a_launcher_card(platform, page: Page, screenshots):
    password = platform.add_user("tabitha", "--group", "tabs")
    log_in(page, platform.url, "tabitha", password)
    start_from_form(page, "tabitha", "cpu-small")

    # One tab per panel in the left side bar, in order, each with its icon and its tooltip.
    left = page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab[data-id^='labworks-']")
    expect(left).to_have_count(len(PANELS))
    assert [t.get_attribute("data-id") for t in left.all()] == [f"labworks-{n}" for n in PANELS]
    for name, caption in PANELS.items():
        tab = panel_tab(page, name)
        expect(tab).to_have_attribute("title", caption)
        expect(tab.locator("svg")).to_have_count(1)
        expect(tab.locator(".lm-TabBar-tabLabel")).to_be_hidden()  # the icon only

    # Clicking a tab shows that panel and no other.
    for name in PANELS:
        open_panel(page, name)
        assert shown_panels(page) == [name]
        expect(panel_tab(page, name)).to_have_attribute("aria-selected", "true")
    page.screenshot(path=screenshots / "50-sidebar-tabs-gallery.png")
    open_panel(page, "jobs")
    page.screenshot(path=screenshots / "51-sidebar-tabs-jobs.png")

    # Not an administrator: no Admin tab (decided once the workspace facts arrived).
    workspace = open_panel(page, "workspace")
    expect(workspace.locator('[data-testid="labworks-fact-role"]')).to_contain_text("user")
    expect(panel_tab(page, "admin")).to_have_count(0)
    refused = page.request.get(f"{platform.url}/user/tabitha/labworks/admin/users")
    assert refused.status == 403
    assert refused.json()["message"] == "only administrators may manage users and groups"

    # The launcher's Labworks section: a card per panel, no Admin card; each opens its panel.
    cards = page.locator('.jp-Launcher:visible .jp-LauncherCard[data-category="Labworks"]')
    expect(cards).to_have_count(len(LABELS))
    assert [c.inner_text().strip() for c in cards.all()] == LABELS
    launcher = page.locator(".jp-Launcher:visible")
    expect(launcher.get_by_role("heading", name="Labworks", level=2)).to_be_visible()
    page.screenshot(path=screenshots / "52-launcher-labworks-section.png")
    for name, label in zip(PANELS, LABELS, strict=True):
        cards.filter(has_text=label).click()
        expect(page.locator(f'[data-testid="labworks-{name}-panel"]')).to_be_visible()
        assert shown_panels(page) == [name]
        expect(page.locator(".jp-Launcher:visible")).to_be_visible()  # the launcher stays
    cards.filter(has_text="Workspace").click()
    expect(page.locator('[data-testid="labworks-workspace-panel"]')).to_contain_text("tabitha")
    page.screenshot(path=screenshots / "54-workspace-tab-and-launcher.png")

    # The settings move a tab: the Jobs tab to the right side bar, at once and after a reload.
    page.click('.lm-MenuBar-itemLabel:text("Settings")')
    page.click('.lm-Menu-itemLabel:text("Settings Editor")')
    page.locator(".jp-PluginList-entry", has_text="Labworks sidebar").click()
    side = page.locator('select[id$="_labworks-jobs_area"]')
    right_jobs = page.locator('.jp-SideBar.jp-mod-right .lm-TabBar-tab[data-id="labworks-jobs"]')
    # The form may still be loading its own first save, which resets a choice made meanwhile:
    # choose again until the choice holds (it moves the tab at once when it does).
    for _ in range(3):
        side.select_option(label="Right")
        try:
            right_jobs.wait_for(state="visible", timeout=10_000)
            break
        except PlaywrightTimeoutError:
            continue
    expect(right_jobs).to_be_visible()
    expect(page.locator('.jp-SideBar.jp-mod-left [data-id="labworks-jobs"]')).to_have_count(0)
    page.screenshot(path=screenshots / "53-sidebar-settings-jobs-right.png")
    page.reload()
    expect(right_jobs).to_be_visible()
    open_panel(page, "jobs")
    page.screenshot(path=screenshots / "55-sidebar-jobs-right-after-reload.png")
