"""A person in a real browser (Debian chromium): shares the workspace from the Workspace panel
and revokes it; publishes a notebook from its toolbar and finds it in the Gallery panel, opens
a version read-only and compares two versions with nbdime."""

from __future__ import annotations

import json

import httpx
import nbformat
import pytest
from playwright.sync_api import expect

from tests.browser import open_panel
from tests.integration.test_browser import log_in, start_from_form
from tests.platform import API, auth

pytestmark = pytest.mark.e2e


def notebook(*sources: str) -> dict:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"c{i}"
    return json.loads(nbformat.writes(nb))


def test_share_the_workspace_from_the_panel_and_revoke_it(platform, page, screenshots):
    password = platform.add_user("bria")
    platform.add_user("bert")
    log_in(page, platform.url, "bria", password)
    start_from_form(page, "bria", "cpu-small")
    expect(page.locator(".jp-Launcher")).to_be_visible()
    open_panel(page, "workspace")
    sharing = page.locator('[data-testid="labworks-sharing"]')
    expect(sharing).to_contain_text("Not shared with anyone.")

    sharing.get_by_role("button", name="Share workspace").click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("They can open this workspace and run code in it")
    dialog.get_by_label("User or group name").fill("bert")
    page.screenshot(path=screenshots / "10-share-dialog.png")
    dialog.get_by_role("button", name="Share").click()

    row = sharing.locator('[data-testid="labworks-share-user-bert"]')
    expect(row).to_be_visible()
    expect(sharing.locator('[data-testid="labworks-shared-url"]')).to_contain_text(
        f"{platform.url}/user/bria/lab"
    )
    row.scroll_into_view_if_needed()
    page.screenshot(path=screenshots / "11-shared-with-bert.png")
    token = platform.token("bria")
    listed = httpx.get(platform.url + API + "/shares", headers=auth(token)).json()
    assert [(s["kind"], s["name"]) for s in listed["shares"]] == [("user", "bert")]

    # An unknown name is refused with the platform's message, and nothing is added.
    sharing.get_by_role("button", name="Share workspace").click()
    dialog.get_by_label("User or group name").fill("nobody-here")
    dialog.get_by_role("button", name="Share").click()
    expect(sharing.get_by_role("alert")).to_have_text("no such user: 'nobody-here'")

    row.get_by_role("button", name="Revoke access of user bert").click()
    expect(row).to_have_count(0)
    expect(sharing).to_contain_text("Not shared with anyone.")
    page.screenshot(path=screenshots / "12-share-revoked.png")
    assert httpx.get(platform.url + API + "/shares", headers=auth(token)).json()["shares"] == []


def test_publish_from_the_toolbar_then_open_and_compare_in_the_gallery(platform, page, screenshots):
    password = platform.add_user("gemma", "--group", "optics-b")
    log_in(page, platform.url, "gemma", password)
    start_from_form(page, "gemma", "cpu-small")
    token = platform.token("gemma")
    # With the server's default kernel, so the lab asks no question on opening it.
    specs = httpx.get(f"{platform.url}/user/gemma/api/kernelspecs", headers=auth(token)).json()
    first = notebook("import math", "f = 50")
    first["metadata"]["kernelspec"] = {"name": specs["default"], "display_name": "Python 3",
                                       "language": "python"}  # fmt: skip
    saved = httpx.put(
        f"{platform.url}/user/gemma/api/contents/lens.ipynb", headers=auth(token), timeout=30,
        json={"type": "notebook", "content": first},
    )  # fmt: skip
    assert saved.status_code == 201, saved.text

    page.goto(f"{platform.url}/user/gemma/lab/tree/lens.ipynb")
    panel = page.locator(".jp-NotebookPanel")
    expect(panel.locator(".jp-Cell")).to_have_count(2)
    panel.locator(".jp-Toolbar-item").get_by_text("Publish", exact=True).click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("Publish a read-only copy of lens.ipynb")
    dialog.get_by_label("Group").select_option("optics-b")
    dialog.get_by_label("What changed").fill("first focus")
    page.screenshot(path=screenshots / "13-publish-dialog.png")
    dialog.get_by_role("button", name="Publish").click()

    gallery = page.locator('[data-testid="labworks-gallery-panel"]')
    entry = gallery.locator('[data-testid^="labworks-gallery-entry-"]')
    expect(entry).to_contain_text("lens.ipynb")
    expect(entry).to_contain_text("optics-b · by gemma · v1")
    page.screenshot(path=screenshots / "14-gallery-panel.png")

    # A second version (from the API, as the CLI does), then compare and open in the lab.
    content = notebook("import math", "f = 85")
    v2 = httpx.post(
        platform.url + API + "/gallery", headers=auth(token), timeout=30,
        json={"group": "optics-b", "name": "lens.ipynb", "content": content,
              "message": "longer focus"},
    )  # fmt: skip
    assert v2.status_code == 201, v2.text
    gallery.get_by_role("button", name="Refresh the gallery").click()
    expect(entry).to_contain_text("v2")
    # The entry just published is open, now with both versions.
    expect(entry.locator(".jp-Labworks-galleryEntryHeader")).to_have_attribute(
        "aria-expanded", "true"
    )
    expect(entry.locator('[data-testid="labworks-gallery-version-2"]')).to_contain_text(
        "longer focus"
    )

    # nbdime's own diff page, in a new browser tab (JupyterHub forbids framing it).
    with page.context.expect_page() as opened:
        gallery.get_by_role("button", name="Show diff").click()
    nbdime = opened.value
    nbdime.wait_for_url("**/user/gemma/nbdime/difftool?base=*")
    expect(nbdime.locator(".cm-line", has_text="f = 50")).to_have_count(1)
    expect(nbdime.locator(".cm-line", has_text="f = 85")).to_have_count(1)
    nbdime.screenshot(path=screenshots / "15-gallery-diff-nbdime.png")
    nbdime.close()

    entry.get_by_role("button", name="Open version 1 read-only").click()
    expect(page.locator(".lm-TabBar-tab", has_text="lens (v1).ipynb")).to_be_visible()
    version_tab = page.locator(".jp-NotebookPanel:visible")
    expect(version_tab.locator(".jp-Cell")).to_have_count(2)
    expect(version_tab).to_contain_text("notebook is read-only")
    expect(version_tab.locator(".jp-Cell").nth(1)).to_contain_text("f = 50")
    page.screenshot(path=screenshots / "16-gallery-version-read-only.png")
