"""Debian's chromium driven by Playwright (no browser download): launch options that work on a
machine with no outside network, as root, headless."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager

from playwright.sync_api import Page, expect, sync_playwright

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
