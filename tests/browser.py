"""Debian's chromium driven by Playwright (no browser download): launch options that work on a
machine with no outside network, as root, headless."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager

from playwright.sync_api import Locator, Page, expect, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# How long a step may wait for the lab (the first lab start builds nothing, but kernels and
# workspaces start on a loaded 2-core machine).
TIMEOUT_MS = 120_000
# How long an `expect(...)` waits for what a person would see (Playwright's default, 5 s, is
# shorter than a lab request through the platform can take there; a CI run saw it time out).
EXPECT_MS = 30_000
expect.set_options(timeout=EXPECT_MS)


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        raise RuntimeError("Debian's chromium is missing; run scripts/system-deps.sh")
    return found


def launch(playwright):
    return playwright.chromium.launch(
        executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
    )


@contextmanager
def open_page(width: int = 1500, height: int = 1000) -> Iterator[Page]:
    """A fresh browser (no cookies) with one page that accepts downloads."""
    with sync_playwright() as p:
        browser = launch(p)
        context = browser.new_context(
            viewport={"width": width, "height": height}, accept_downloads=True
        )
        context.set_default_timeout(TIMEOUT_MS)
        yield context.new_page()
        browser.close()


def panel_tab(page: Page, panel: str) -> Locator:
    """The side-bar tab of a Labworks panel (``workspace``, ``jobs``, ``experiments``, ``data``,
    ``gallery``, ``admin``)."""
    return page.locator(f'.jp-SideBar .lm-TabBar-tab[data-id="labworks-{panel}"]')


def open_panel(page: Page, panel: str) -> Locator:
    """Show a Labworks panel by clicking its side-bar tab, as a person does, unless it is the
    open tab already (a click on it would close the side bar); returns the panel's content.

    It waits for the lab to finish restoring its layout first (the splash screen gone), so the
    restored layout cannot switch to another tab after the click."""
    tab = panel_tab(page, panel)
    expect(tab).to_be_visible()
    expect(page.locator("#jupyterlab-splash")).to_have_count(0)
    content = page.locator(f'[data-testid="labworks-{panel}-panel"]')
    # After a reload the side-bar settings may still move the tab where they say, which
    # collapses it again: look, and click once more while the tab is not the open one.
    for _ in range(3):
        if tab.get_attribute("aria-selected") != "true":
            tab.click()
        try:
            content.wait_for(state="visible", timeout=10_000)
            break
        except PlaywrightTimeoutError:
            continue
    expect(content).to_be_visible()
    return content
