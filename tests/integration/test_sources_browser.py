"""The Sources section of the Data panel in a real browser (Debian chromium): the admin registers
a real PostgreSQL database as a source for a person; in their lab, with a notebook open, the
person opens the Data panel's Sources, the source, its schema and a table, sees the table's
first rows, inserts the snippet that reads it into the notebook and runs it: the DataFrame's
rows are the cell's output, and the source's audit has both reads, from this workspace."""

from __future__ import annotations

import json
import os

import httpx
import nbformat
import psycopg
import pytest
from playwright.sync_api import Page, expect

from tests.browser import open_panel
from tests.integration.test_browser import log_in, start_from_form
from tests.platform import API, auth

pytestmark = pytest.mark.e2e
USER, SOURCE = "srcdora", "srcbrowse"
PASSWORD = f"srcbrowse-{os.getpid()}"


def database(postgres) -> dict:
    """A database with sales.orders (three rows) and a role that may only read it."""
    name, role = f"srcbrowse_{os.getpid()}", f"srcbview_{os.getpid()}"
    postgres.create_database(name)
    with psycopg.connect(postgres.url("postgres"), autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{PASSWORD}'")
    with psycopg.connect(postgres.url(name), autocommit=True) as conn:
        conn.execute("CREATE SCHEMA sales")
        conn.execute("CREATE TABLE sales.orders (id int primary key, customer text, total int)")
        conn.execute("INSERT INTO sales.orders VALUES (1, 'ada', 120), (2, 'bob', 75),"
                     " (3, 'cy', 300)")  # fmt: skip
        conn.execute(f"GRANT USAGE ON SCHEMA sales TO {role}")
        conn.execute(f"GRANT SELECT ON sales.orders TO {role}")
    return {"host": "127.0.0.1", "port": postgres.port, "dbname": name, "user": role}


def test_preview_a_table_and_run_its_snippet_in_a_notebook(
    platform, postgres, page: Page, screenshots
):
    password = platform.add_user(USER)
    body = {"name": SOURCE, "kind": "postgres", "owner": USER, "description": "the orders",
            "config": database(postgres), "credentials": {"password": PASSWORD}}  # fmt: skip
    made = httpx.post(
        platform.url + API + "/sources", json=body, headers=auth(platform.token("admin")),
        timeout=60,
    )  # fmt: skip
    assert made.status_code == 201, made.text

    log_in(page, platform.url, USER, password)
    start_from_form(page, USER, "cpu-small")
    token = platform.token(USER)
    lab_api = f"{platform.url}/user/{USER}/api"
    specs = httpx.get(f"{lab_api}/kernelspecs", headers=auth(token), timeout=30).json()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('ready')")])
    nb.cells[0]["id"] = "c0"
    nb.metadata["kernelspec"] = {"name": specs["default"], "display_name": "Python 3",
                                 "language": "python"}  # fmt: skip
    saved = httpx.put(
        f"{lab_api}/contents/orders.ipynb", headers=auth(token), timeout=30,
        json={"type": "notebook", "content": json.loads(nbformat.writes(nb))},
    )  # fmt: skip
    assert saved.status_code == 201, saved.text
    page.goto(f"{platform.url}/user/{USER}/lab/tree/orders.ipynb")
    notebook = page.locator(".jp-NotebookPanel")
    expect(notebook.locator(".jp-Cell")).to_have_count(1)

    panel = open_panel(page, "data")
    panel.locator('[data-testid="labworks-data-tab-sources"]').click()
    item = panel.locator(f'[data-testid="labworks-source-{SOURCE}"]')
    expect(item).to_contain_text(f"owner {USER} · yours")
    expect(item).to_contain_text("the orders")
    item.click()
    detail = panel.locator('[data-testid="labworks-source-detail"]')
    detail.locator('[data-testid="labworks-source-entry-sales"]').click()
    table = detail.locator('[data-testid="labworks-source-entry-sales.orders"]')
    table.click()
    preview = detail.locator('[data-testid="labworks-source-preview"]')
    rows = preview.locator("tbody tr")
    expect(rows).to_have_count(3)
    expect(preview.locator('[data-testid="labworks-source-rowcount"]')).to_contain_text("3 rows")
    expect(preview.locator("thead")).to_contain_text("customer")
    for text in ("ada", "bob", "cy", "300"):
        expect(preview.locator("tbody")).to_contain_text(text)
    code = preview.locator('[data-testid="labworks-source-code"]')
    expect(code).to_contain_text(f'sources.read_table("{SOURCE}", "sales.orders", limit=1000)')
    page.screenshot(path=screenshots / "60-sources-table-preview.png")

    preview.locator('[data-testid="labworks-source-insert"]').click()
    expect(preview.locator('[data-testid="labworks-source-status"]')).to_have_text(
        "Inserted in the notebook"
    )
    cells = notebook.locator(".jp-Cell")
    expect(cells).to_have_count(2)
    inserted = cells.nth(1)
    expect(inserted).to_contain_text("sources.read_table")
    # the snippet assigns df; show it, as a person would, and run the cell
    inserted.locator(".cm-content").click()
    page.keyboard.press("Control+End")
    page.keyboard.press("Enter")
    page.keyboard.type("df.sort_values('id')")
    page.keyboard.press("Shift+Enter")
    output = inserted.locator(".jp-OutputArea-output")
    expect(output).to_contain_text("ada", timeout=120_000)
    for text in ("customer", "bob", "cy", "120", "75", "300"):
        expect(output).to_contain_text(text)
    page.screenshot(path=screenshots / "61-sources-snippet-output.png")

    # The panel's preview (through the lab's server extension) and the kernel's query are
    # audited as coming from this workspace.
    audit = httpx.get(
        f"{platform.url}{API}/sources/{SOURCE}/audit", headers=auth(token), timeout=30
    ).json()
    seen = {(e["action"], e["object"], e["rows"], e["origin"]) for e in audit["entries"]}
    workspace = f"workspace:{USER}/"
    assert ("preview", "sales.orders", 3, workspace) in seen, seen
    assert ("query", "sales.orders", 3, workspace) in seen, seen
