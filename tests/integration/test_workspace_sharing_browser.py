"""A person opens a workspace shared with them, in a real browser (Debian chromium): the
Workspace panel names the owner as the owner, with the owner's groups and role, and the visitor
as the one looking (issue 15 #5: it showed the visitor's name beside the owner's facts). A lab
load leaves no server error in the log (#9: jupyterlab-git's `git/show_prefix`)."""

from __future__ import annotations

import re
import shutil
import subprocess

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.integration.test_browser import log_in, start_from_form
from tests.integration.test_sharing import start_workspace
from tests.platform import API, auth

pytestmark = pytest.mark.e2e
OWNER, VISITOR, GROUP = "odile", "viggo", "optics-w"
# The Workspace tab: its own tab, or the one Labworks sidebar holding it.
WORKSPACE_TAB = (
    '.jp-SideBar .lm-TabBar-tab[data-id="labworks-workspace"], '
    '.jp-SideBar .lm-TabBar-tab[data-id="labworks-sidebar"]'
)

# A GET as the lab makes it: with the token of its page config.
FETCH_AS_THE_LAB = """async (url) => {
  const config = JSON.parse(document.getElementById('jupyter-config-data').textContent);
  const reply = await fetch(url, {headers: {Authorization: 'token ' + config.token}});
  return {status: reply.status, ...(await reply.json())};
}"""


def open_workspace_panel(page: Page):
    expect(page.locator(".jp-Launcher")).to_be_visible()
    tab = page.locator(WORKSPACE_TAB).first
    if tab.get_attribute("aria-selected") != "true":  # the restored layout may show it already
        tab.click()
    panel = page.locator('[data-testid="labworks-workspace-panel"]')
    expect(panel).to_be_visible()
    return panel


def server_errors(log: str, user: str) -> list[str]:
    """The lines of `log` where a server of `user` answered 5xx."""
    line = re.compile(rf"\b5\d\d (GET|POST|PUT|PATCH|DELETE) /user/{user}/")
    return [entry for entry in log.splitlines() if line.search(entry)]


@pytest.fixture
def workspaces_in_a_clone(platform):
    """The workspaces inside a git repository of another account, as `make run` puts them
    (`./.labworks` in the clone): git refuses it to the workspace ("dubious ownership")."""
    folder = platform.home / "users"
    subprocess.run(["git", "init", "-q", str(folder)], check=True)
    yield
    shutil.rmtree(folder / ".git")


def test_a_visitor_sees_whose_workspace_it_is_and_who_they_are(
    platform, workspaces_in_a_clone, page, screenshots
):
    owner_password = platform.add_user(OWNER, "--group", GROUP)
    visitor_password = platform.add_user(VISITOR)
    owner_token = start_workspace(platform, OWNER)
    shared = httpx.post(
        platform.url + API + "/shares", headers=auth(owner_token), json={"user": VISITOR}
    )
    assert shared.status_code == 201, shared.text

    # The owner's own view: the owner is "you", and no visitor line.
    log_in(page, platform.url, OWNER, owner_password)
    page.goto(f"{platform.url}/user/{OWNER}/lab")
    panel = open_workspace_panel(page)
    expect(panel.locator('[data-testid="labworks-fact-owner"]')).to_have_text(f"{OWNER} (you)")
    expect(panel.locator('[data-testid="labworks-fact-groups"]')).to_have_text(GROUP)
    expect(panel.locator('[data-testid="labworks-workspace-visitor"]')).to_have_count(0)
    page.screenshot(path=screenshots / "workspace-owner-view.png")

    # The visitor, in a browser of their own, opens the owner's workspace.
    visitor = page.context.browser.new_context(viewport={"width": 1500, "height": 950})
    try:
        other = visitor.new_page()
        log_in(other, platform.url, VISITOR, visitor_password)
        start_from_form(other, VISITOR, "cpu-small")  # their own lab first, as people do
        other.goto(f"{platform.url}/user/{OWNER}/lab")
        authorize = other.get_by_role("button", name="Authorize")
        other.wait_for_url(re.compile(r"/(hub/api/oauth2/authorize|user/[^/]+/lab)"))
        if "/oauth2/authorize" in other.url:  # the hub asks once before a shared server opens
            authorize.click()
        other.wait_for_url(f"**/user/{OWNER}/lab**")
        seen = open_workspace_panel(other)

        note = seen.locator('[data-testid="labworks-workspace-visitor"]')
        expect(note).to_have_text(
            f"You are viewing {OWNER}'s shared workspace as {VISITOR} (read-write)"
        )
        expect(seen.locator('[data-testid="labworks-fact-owner"]')).to_have_text(OWNER)
        expect(seen.locator('[data-testid="labworks-fact-groups"]')).to_have_text(GROUP)
        expect(seen.locator('[data-testid="labworks-fact-role"]')).to_have_text("user")
        expect(seen.get_by_text("Owner's groups", exact=True)).to_be_visible()
        expect(seen.locator('[data-testid="labworks-sharing-owner-only"]')).to_have_text(
            f"Only {OWNER}, who owns this workspace, can see and change whom it is shared with."
        )
        expect(seen.get_by_role("button", name="Share workspace")).to_have_count(0)
        other.screenshot(path=screenshots / "workspace-visitor-view.png")

        # The facts themselves, as the visitor's browser gets them.
        facts = other.evaluate(FETCH_AS_THE_LAB, f"/user/{OWNER}/labworks/workspace")
        assert facts["status"] == 200, facts
        assert (facts["user"], facts["groups"], facts["admin"]) == (OWNER, [GROUP], False)
        assert facts["viewer"] == {"name": VISITOR, "is_owner": False, "access": "read-write"}
    finally:
        visitor.close()

    # Three lab loads (the owner's, the visitor's own, the visitor's of the owner's): no 5xx.
    assert server_errors(platform.log(), OWNER) == []
    assert server_errors(platform.log(), VISITOR) == []
