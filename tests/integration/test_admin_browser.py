"""The Admin panel in a real browser: an administrator sees the Admin tab and its launcher card,
creates a group, adds and removes a member, disables and enables an account and deletes one,
handing what it owned to someone else, all through the panel's own buttons; the platform's
REST API shows each change. Non-administrators never get the tab and are refused the routes
(test_sidebar_browser.py)."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser import open_panel, panel_tab
from tests.integration.test_browser import log_in, start_from_form
from tests.platform import API, auth

pytestmark = pytest.mark.e2e
ADMIN, MEMBER, LEAVER, GROUP = "adele", "bruno", "dora", "optics-adm"


def groups(platform, token: str) -> dict[str, list[str]]:
    listed = httpx.get(platform.url + API + "/admin/groups", headers=auth(token))
    assert listed.status_code == 200, listed.text
    return {g["name"]: g["members"] for g in listed.json()["groups"]}


def users(platform, token: str) -> dict[str, dict]:
    listed = httpx.get(platform.url + API + "/admin/users", headers=auth(token))
    assert listed.status_code == 200, listed.text
    return {u["name"]: u for u in listed.json()["users"]}


def test_an_admin_manages_groups_and_accounts_from_the_admin_tab(platform, page: Page, screenshots):
    password = platform.add_user(ADMIN, "--admin")
    platform.add_user(MEMBER)
    platform.add_user(LEAVER)
    token = platform.token(ADMIN)
    log_in(page, platform.url, ADMIN, password)
    start_from_form(page, ADMIN, "cpu-small")

    tab = panel_tab(page, "admin")
    expect(tab).to_have_attribute("title", "Users and groups of the platform")
    expect(
        page.locator('.jp-LauncherCard[data-category="Labworks"]', has_text="Admin")
    ).to_be_visible()
    panel = open_panel(page, "admin")
    member_row = panel.locator(f'[data-testid="labworks-admin-user-{MEMBER}"]')
    expect(member_row).to_contain_text("user · no group")
    expect(panel.locator(f'[data-testid="labworks-admin-user-{ADMIN}"]')).to_contain_text("admin")

    # Create a group with the form.
    panel.get_by_label("New group name").fill(GROUP)
    panel.get_by_role("button", name="Create group").click()
    status = panel.get_by_role("status")
    expect(status).to_have_text(f"Created group {GROUP}.")
    group = panel.locator(f'[data-testid="labworks-admin-group-{GROUP}"]')
    expect(group).to_contain_text("0 members")
    assert groups(platform, token)[GROUP] == []

    # A second group of the same name: the platform's refusal, shown as it says it.
    panel.get_by_label("New group name").fill(GROUP)
    panel.get_by_role("button", name="Create group").click()
    expect(panel.get_by_role("alert")).to_contain_text(GROUP)
    panel.get_by_label("New group name").fill("")

    # Add a member with the group's own choice and button.
    group.get_by_label(f"User to add to {GROUP}").select_option(MEMBER)
    group.get_by_role("button", name="Add member").click()
    expect(status).to_have_text(f"Added {MEMBER} to {GROUP}.")
    expect(group).to_contain_text("1 member")
    expect(member_row).to_contain_text(f"groups: {GROUP}")
    assert groups(platform, token)[GROUP] == [MEMBER]
    page.screenshot(path=screenshots / "55-admin-panel.png")

    # Disable, then enable, an account.
    member_row.get_by_role("button", name="Disable").click()
    expect(status).to_have_text(f"Disabled {MEMBER}.")
    expect(member_row).to_contain_text("disabled")
    assert users(platform, token)[MEMBER]["disabled"] is True
    member_row.get_by_role("button", name="Enable").click()
    expect(status).to_have_text(f"Enabled {MEMBER}.")
    assert users(platform, token)[MEMBER]["disabled"] is False

    # Remove the member again.
    group.get_by_role("button", name=f"Remove {MEMBER} from {GROUP}").click()
    expect(status).to_have_text(f"Removed {MEMBER} from {GROUP}.")
    assert groups(platform, token)[GROUP] == []

    # Delete an account, handing what it owns to another, through the confirmation dialog.
    panel.get_by_role("button", name=f"Delete {LEAVER}").click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text(f"Delete the account {LEAVER}?")
    dialog.get_by_label("Transfer what they own to").select_option(MEMBER)
    page.screenshot(path=screenshots / "56-admin-delete-user.png")
    dialog.get_by_role("button", name="Delete").click()
    expect(status).to_contain_text(f"Deleted {LEAVER}.")
    expect(panel.locator(f'[data-testid="labworks-admin-user-{LEAVER}"]')).to_have_count(0)
    assert LEAVER not in users(platform, token)

    # Delete the group, confirmed.
    group.get_by_role("button", name=f"Delete group {GROUP}").click()
    page.locator(".jp-Dialog").get_by_role("button", name="Delete").click()
    expect(status).to_have_text(f"Deleted group {GROUP}.")
    expect(group).to_have_count(0)
    assert GROUP not in groups(platform, token)
