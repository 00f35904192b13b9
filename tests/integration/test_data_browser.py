"""The Data panel in a real browser (Debian chromium): a person pushes a dataset of two files
with plain REST calls to the platform, opens the Data panel of their lab, opens the dataset to
version 1 and its files, copies the code that reads it and shares it with their hub group from
the Share dialog; a member of that group then finds it in their own Data panel, read-only."""

from __future__ import annotations

import hashlib

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser import TIMEOUT_MS, open_panel
from tests.integration.test_browser import log_in, start_from_form
from tests.platform import API

pytestmark = pytest.mark.e2e
OWNER, READER, GROUP = "dbia", "dbjo", "dbteam"
REF = f"{OWNER}/db-iris"
FILES = {"train.csv": b"sepal,petal\n5.1,1.4\n4.9,1.4\n", "eval/test.csv": b"sepal,petal\n6.3,6\n"}
CODE = f'from labworks import data\npath = data.get("{REF}", version=1)'


def push(platform, token: str) -> dict:
    """Version 1 of REF with FILES, as the contract's REST calls: blobs, then the manifest."""
    headers = {"Authorization": f"token {token}"}
    files = []
    with httpx.Client(base_url=platform.url + API, headers=headers, timeout=60) as client:
        for path, data in FILES.items():
            digest = hashlib.sha256(data).hexdigest()
            stored = client.put(
                f"/datasets/{REF}/blobs/{digest}", content=data,
                headers={"Content-Type": "application/octet-stream"},
            )  # fmt: skip
            assert stored.status_code == 201, stored.text
            files.append({"path": path, "sha256": digest, "size": len(data)})
        version = client.post(
            f"/datasets/{REF}/versions", json={"files": files, "message": "first cut"}
        )
        assert version.status_code == 201, version.text
        return version.json()


def readable(platform, token: str) -> list[str]:
    """The refs of the datasets the token's user may read."""
    listing = httpx.get(
        platform.url + API + "/datasets", headers={"Authorization": f"token {token}"}, timeout=30
    )
    assert listing.status_code == 200, listing.text
    return [d["ref"] for d in listing.json()["datasets"]]


def test_see_copy_and_share_a_dataset_from_the_data_panel(platform, page: Page, screenshots):
    password = platform.add_user(OWNER, "--group", GROUP)
    reader_password = platform.add_user(READER, "--group", GROUP)
    version = push(platform, platform.token(OWNER))
    assert version["number"] == 1
    assert REF not in readable(platform, platform.token(READER))  # private at first

    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    log_in(page, platform.url, OWNER, password)
    start_from_form(page, OWNER, "cpu-small")
    open_panel(page, "data")
    panel = page.locator('[data-testid="labworks-data-panel"]')
    item = panel.locator(f'[data-testid="labworks-dataset-{REF}"]')
    expect(item).to_contain_text("v1 · private · mine")
    item.click()

    detail = panel.locator('[data-testid="labworks-dataset-detail"]')
    v1 = detail.locator('[data-testid="labworks-dataset-version-1"]')
    expect(v1).to_contain_text("2 files")
    expect(v1).to_contain_text("first cut")
    expect(v1).to_contain_text(f"by {OWNER}")
    expect(v1).to_contain_text(version["digest"][:19])
    files = detail.locator('[data-testid="labworks-dataset-files"] li')
    expect(files).to_have_count(2)
    expect(files.nth(0)).to_contain_text("eval/test.csv")
    expect(files.nth(1)).to_contain_text("train.csv")
    expect(files.nth(1)).to_contain_text(f"{len(FILES['train.csv'])} B")
    expect(detail.locator('[data-testid="labworks-dataset-code"]')).to_have_text(CODE)

    detail.locator('[data-testid="labworks-dataset-copy"]').click()
    expect(detail.locator('[data-testid="labworks-dataset-copied"]')).to_have_text(
        "Copied to the clipboard"
    )
    assert page.evaluate("navigator.clipboard.readText()") == CODE
    page.screenshot(path=screenshots / "50-data-panel.png")

    panel.locator(f'[data-testid="labworks-dataset-share-{REF}"]').click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog.locator('[data-testid="labworks-share-now"]')).to_have_text(
        f"Owned by {OWNER}; only its owner sees it."
    )
    dialog.get_by_label("Who may read it").select_option(f"group:{GROUP}")
    page.screenshot(path=screenshots / "51-data-share-dialog.png")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_have_count(0)
    expect(item).to_contain_text(f"v1 · group {GROUP} · mine")
    assert REF in readable(platform, platform.token(READER))

    reader = page.context.browser.new_context(viewport={"width": 1500, "height": 1000})
    reader.set_default_timeout(TIMEOUT_MS)
    try:
        other = reader.new_page()
        log_in(other, platform.url, READER, reader_password)
        start_from_form(other, READER, "cpu-small")
        open_panel(other, "data")
        shared = other.locator(f'[data-testid="labworks-dataset-{REF}"]')
        expect(shared).to_contain_text(f"v1 · group {GROUP} · shared by {OWNER}")
        expect(other.locator(f'[data-testid="labworks-dataset-share-{REF}"]')).to_have_count(0)
        shared.click()
        expect(other.locator('[data-testid="labworks-dataset-detail"]')).to_contain_text(
            f"Read-only: only {OWNER} can push to it or share it."
        )
        expect(other.locator('[data-testid="labworks-dataset-files"] li')).to_have_count(2)
        other.screenshot(path=screenshots / "52-data-panel-reader.png")
    finally:
        reader.close()
