"""A person in a real browser (Debian chromium): log in on the hub page, get a lab, open the
Labworks sidebar and read the Workspace panel, in the light and the dark theme."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser import open_panel

pytestmark = pytest.mark.e2e
# The first non-transparent background colour from an element up to the page.
EFFECTIVE_BACKGROUND = """el => {
  for (let e = el; e; e = e.parentElement) {
    const c = getComputedStyle(e).backgroundColor;
    if (c && c !== 'transparent' && !/rgba\\(.*, 0\\)$/.test(c)) return c;
  }
  return 'rgb(255, 255, 255)';
}"""


def log_in(page: Page, url: str, name: str, password: str) -> None:
    page.goto(f"{url}/hub/login")
    page.fill("#username_input", name)
    page.fill("#password_input", password)
    page.click("#login_submit")


def start_from_form(page: Page, user: str, profile: str, screenshot=None) -> None:
    """On the hub's spawn page: pick a profile card and press Start; wait for the lab."""
    page.wait_for_url("**/hub/spawn**")
    card = page.locator(f'label.lw-profile[data-profile="{profile}"]')
    card.click()
    expect(card.locator("input")).to_be_checked()
    if screenshot:
        page.screenshot(path=screenshot)
    page.get_by_role("button", name="Start").click()
    page.wait_for_url(f"**/user/{user}/lab**")


def test_wrong_password_is_refused_on_the_login_page(platform, page, screenshots):
    platform.add_user("victor")
    log_in(page, platform.url, "victor", "not-his-password")
    expect(page.get_by_text("Invalid username or password")).to_be_visible()
    page.screenshot(path=screenshots / "login-refused.png")
    assert "/hub/login" in page.url


def test_login_spawn_and_workspace_panel(platform, page, screenshots):
    password = platform.add_user("wendy", "--group", "research")
    page.goto(f"{platform.url}/hub/login")
    page.screenshot(path=screenshots / "01-login.png")
    log_in(page, platform.url, "wendy", password)

    # The spawn page: this machine has no GPU, so the GPU profile is greyed out with why.
    page.wait_for_url("**/hub/spawn**")
    gpu = page.locator('label.lw-profile[data-profile="gpu-1"]')
    expect(gpu.locator("input")).to_be_disabled()
    expect(gpu).to_contain_text("Unavailable: no NVIDIA GPU on this machine")
    expect(page.locator('label.lw-profile[data-profile="cpu-small"]')).to_contain_text("$0.10/h")
    start_from_form(page, "wendy", "cpu-small", screenshots / "01b-spawn-form.png")
    panel = open_panel(page, "workspace")

    def fact(key: str):
        return panel.locator(f'[data-testid="labworks-fact-{key}"]')

    expect(fact("owner")).to_have_text("wendy (you)")
    expect(fact("groups")).to_contain_text("research")
    expect(fact("role")).to_contain_text("user")
    expect(fact("profile")).to_contain_text("CPU small")
    expect(fact("cpu")).to_contain_text("2 cores")
    expect(fact("memory")).to_contain_text("4.0 GiB")
    expect(fact("gpus")).to_contain_text("none")
    expect(fact("image")).to_contain_text("local environment")
    expect(fact("idle")).to_contain_text("1 h")
    expect(fact("platform")).to_contain_text("connected")
    expect(panel.get_by_role("link", name="Hub control panel")).to_have_attribute(
        "href", "/hub/home"
    )
    expect(panel.get_by_role("link", name="API docs")).to_have_attribute(
        "href", "/services/labworks/api/v1/docs"
    )
    expect(page.locator(".jp-Launcher")).to_be_visible()  # the lab finished its first layout
    page.screenshot(path=screenshots / "02-workspace-panel.png")

    # The uptime ticks in the page, without a reload.
    first = fact("uptime").inner_text()
    expect(fact("uptime")).not_to_have_text(first, timeout=5_000)

    # The refresh button asks the server again and keeps the facts on screen.
    panel.get_by_role("button", name="Refresh workspace facts").click()
    expect(fact("owner")).to_have_text("wendy (you)")

    # Dark theme through the real menu: the panel must follow the theme.
    page.click('.lm-MenuBar-itemLabel:text("Settings")')
    page.click('.lm-Menu-itemLabel:text("Theme")')
    page.click('.lm-Menu-itemLabel:text("JupyterLab Dark")')
    expect(page.locator("body")).to_have_attribute("data-jp-theme-light", "false")
    expect(fact("owner")).to_have_text("wendy (you)")
    background = panel.evaluate(EFFECTIVE_BACKGROUND)
    color = fact("owner").evaluate("el => getComputedStyle(el).color")
    assert _luminance(background) < 0.3 < _luminance(color), (background, color)
    page.screenshot(path=screenshots / "03-workspace-panel-dark.png")


def test_second_user_starts_another_profile_and_docs_open_after_hub_oauth(
    platform, page, screenshots
):
    password = platform.add_user("xena")
    log_in(page, platform.url, "xena", password)
    start_from_form(page, "xena", "cpu-large")
    panel = open_panel(page, "workspace")
    expect(panel.locator('[data-testid="labworks-fact-profile"]')).to_contain_text("CPU large")
    expect(panel.locator('[data-testid="labworks-fact-memory"]')).to_contain_text("32.0 GiB")

    page.goto(f"{platform.url}/services/labworks/api/v1/docs")
    expect(page.locator(".swagger-ui")).to_be_visible()
    expect(page.locator(".swagger-ui")).to_contain_text("/services/labworks/api/v1/me")
    page.screenshot(path=screenshots / "04-api-docs.png")


def _luminance(css_color: str) -> float:
    """Relative luminance (0 dark .. 1 light) of an `rgb(...)`/`rgba(...)` colour."""
    parts = css_color[css_color.index("(") + 1 : -1].split(",")
    r, g, b = (int(float(v)) / 255 for v in parts[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b
