"""A person in a real browser (Debian chromium) opens TensorBoard on a folder of event files from
the file browser's context menu and sees TensorBoard's own UI, with the folder's run and scalar,
in a tab of the lab; a second user cannot reach it."""

from __future__ import annotations

import base64
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect
from tensorboard.summary import Writer

from tests.browser import TIMEOUT_MS as TIMEOUT
from tests.integration.test_browser import log_in, start_from_form
from tests.platform import auth

pytestmark = pytest.mark.e2e


def event_file(folder: Path) -> Path:
    """A real TensorBoard event file with a `train/loss` scalar over five steps."""
    writer = Writer(str(folder))
    for step in range(5):
        writer.add_scalar("train/loss", 1.0 / (step + 1), step)
    writer.close()
    return next(folder.glob("events.out.tfevents.*"))


def test_open_tensorboard_on_a_folder_from_the_file_browser(
    platform, page: Page, screenshots: Path, tmp_path: Path
):
    password = platform.add_user("tessa")
    log_in(page, platform.url, "tessa", password)
    start_from_form(page, "tessa", "cpu-small")
    token = platform.token("tessa")
    contents = f"{platform.url}/user/tessa/api/contents"
    events = event_file(tmp_path / "exp1")
    for folder in ("tblogs", "tblogs/exp1"):
        made = httpx.put(f"{contents}/{folder}", headers=auth(token), json={"type": "directory"})
        assert made.status_code in (200, 201), made.text
    uploaded = httpx.put(
        f"{contents}/tblogs/exp1/{events.name}", headers=auth(token), timeout=30,
        json={"type": "file", "format": "base64",
              "content": base64.b64encode(events.read_bytes()).decode()},
    )  # fmt: skip
    assert uploaded.status_code == 201, uploaded.text

    page.goto(f"{platform.url}/user/tessa/lab")
    folder = page.locator('.jp-DirListing-item[data-isdir="true"]', has_text="tblogs")
    folder.click(button="right")
    page.locator(".lm-Menu-item", has_text="Open TensorBoard").click()

    tab = page.locator(".lm-TabBar-tab", has_text="TensorBoard: tblogs")
    expect(tab).to_be_visible()
    frame = page.frame_locator('[id^="labworks-tensorboard-"] iframe')
    expect(frame.get_by_text("train/loss").first).to_be_visible(timeout=TIMEOUT)
    expect(frame.get_by_text("exp1").first).to_be_visible()
    page.screenshot(path=screenshots / "60-tensorboard-in-lab.png")

    listed = httpx.get(
        f"{platform.url}/user/tessa/labworks/tensorboard", headers=auth(token)
    ).json()["tensorboards"]
    assert [b["logdir"] for b in listed] == ["tblogs"]
    # Another user's token does not reach tessa's TensorBoard.
    platform.add_user("intruder")
    other = platform.token("intruder")
    refused = httpx.get(
        f"{platform.url}{listed[0]['url']}data/runs", headers=auth(other), follow_redirects=False
    )
    assert refused.status_code in (302, 403, 404), refused.text
    assert "exp1" not in refused.text
