"""The gallery's store layer on SQLite and on a real PostgreSQL server: publishing versions,
who may see and publish what, validation, size limit and nbdime diffs; and the migration that
moved the gallery's, jobs' and datasets' sharing into the one visibility column, both ways."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import nbformat
import pytest
from sqlalchemy import MetaData, func, insert, inspect, select

from labworks_hub.service.access import Conflict, Forbidden, Invalid, NotFound, TooLarge, Viewer
from labworks_hub.service.store import Store
from labworks_hub.service.store import gallery as g
from labworks_hub.service.store.models import GalleryVersion

ANA = Viewer("ana", frozenset({"ml", "vision"}))
BEN = Viewer("ben", frozenset({"ml"}))
CAL = Viewer("cal", frozenset({"finance"}))


def notebook(*sources: str) -> dict:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(src) for src in sources])
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"
    return json.loads(nbformat.writes(nb))


def publish(store, viewer=ANA, group="ml", name="analysis.ipynb", content=None, message=""):
    with store.session() as s:
        version = g.publish(
            s, viewer, group=group, name=name, content=content or notebook("x = 1"),
            message=message,
        )  # fmt: skip
        return version.entry_id, version.number


def test_migration_creates_the_gallery_tables(store):
    tables = set(inspect(store.engine).get_table_names())
    assert {"lw_gallery_entries", "lw_gallery_versions"} <= tables
    store.migrate()  # idempotent


def _rows(store: Store, table: str, *columns: str) -> list[tuple]:
    tables = MetaData()
    tables.reflect(store.engine, only=[table])
    chosen = [tables.tables[table].c[c] for c in columns]
    with store.engine.connect() as conn:
        return sorted(tuple(row) for row in conn.execute(select(*chosen)))


def _fill_at_0005(store: Store) -> None:
    """Rows of every shared kind as revision 0005 kept them, and rows that refer to them."""
    tables = MetaData()
    tables.reflect(store.engine)
    t = tables.tables
    at = datetime(2026, 12, 1, tzinfo=UTC)
    times = {"created_at": at, "updated_at": at}
    spec = {
        "name": "nb", "notebook_path": "nb.ipynb", "notebook_sha256": "0" * 64, "parameters": {},
        "profile": "small", "kernel_name": "python3", "image": "", "timeout": 60,
        "max_retries": 0, "priority": 0, "owner": "ana", "created_at": at,
    }  # fmt: skip
    run = {
        "trigger": "api", "resources": {}, "environment": {}, "executor": "local",
        "executor_state": {}, "status": "succeeded", "reason": "", "attempt": 1,
        "cancel_requested": False, "has_output": False, "updated_at": at, "not_before": at,
    }  # fmt: skip
    rows = {
        "lw_gallery_entries": [
            {"id": 1, "owner": "ana", "group_name": "ml", "name": "a.ipynb", **times},
            {"id": 2, "owner": "ben", "group_name": "vision", "name": "a.ipynb", **times},
        ],
        "lw_gallery_versions": [
            {"entry_id": 1, "number": 1, "content": "{}", "sha256": "1" * 64, "size": 2,
             "message": "", "published_at": at},
        ],
        "lw_job_notebooks": [{"sha256": "0" * 64, "content": "{}", "size": 2, "created_at": at}],
        "lw_job_definitions": [
            {"id": "d-shared", "share_group": "ml", **spec},
            {"id": "d-private", "share_group": None, **spec},
        ],
        "lw_job_runs": [
            {"id": "r-shared", "definition_id": "d-shared", "share_group": "ml", **spec, **run},
            {"id": "r-private", "definition_id": "d-private", "share_group": None, **spec, **run},
        ],
        "lw_job_run_events": [
            {"run_id": "r-shared", "at": at, "attempt": 1, "kind": "queued", "message": ""},
        ],
        "lw_job_schedules": [
            {"id": "s-1", "definition_id": "d-shared", "cron": "0 * * * *", "timezone": "UTC",
             "paused": False, **times},
        ],
        "lw_datasets": [
            {"owner": "ana", "name": "iris", "description": "", "visibility": "public", **times},
        ],
    }  # fmt: skip
    with store.engine.begin() as conn:
        for table, values in rows.items():
            conn.execute(insert(t[table]), values)


def test_migration_0006_moves_sharing_into_the_visibility_column_and_back(db_url):
    store = Store(db_url)
    try:
        store.migrate("0005")
        _fill_at_0005(store)
        store.migrate()
        assert _rows(store, "lw_gallery_entries", "id", "visibility") == [
            (1, "group:ml"), (2, "group:vision")
        ]  # fmt: skip
        for table in ("lw_job_definitions", "lw_job_runs"):
            assert [v for _, v in _rows(store, table, "id", "visibility")] == [
                "private", "group:ml"
            ]  # fmt: skip
        assert _rows(store, "lw_datasets", "name", "visibility") == [("iris", "public")]
        # rebuilding a table (SQLite) kept the rows that refer to it
        assert _rows(store, "lw_gallery_versions", "entry_id") == [(1,)]
        assert _rows(store, "lw_job_run_events", "run_id") == [("r-shared",)]
        assert _rows(store, "lw_job_schedules", "id") == [("s-1",)]
        with store.session() as s:  # the store reads them through the one predicate
            assert [e.group for e in g.list_entries(s, Viewer("dan", frozenset({"ml"})))] == ["ml"]

        store.downgrade("0005")
        assert _rows(store, "lw_gallery_entries", "id", "group_name") == [(1, "ml"), (2, "vision")]
        for table in ("lw_job_definitions", "lw_job_runs"):
            assert [v for _, v in _rows(store, table, "id", "share_group")] == [None, "ml"]
        assert _rows(store, "lw_gallery_versions", "entry_id") == [(1,)]
        assert _rows(store, "lw_job_run_events", "run_id") == [("r-shared",)]
        store.migrate("0006")
        assert store.revision() == "0006"
        if store.url.startswith("sqlite"):  # the migration's connection enforces them again
            with store.engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        store.dispose()


def test_publishing_again_adds_numbered_versions(store):
    entry_id, first = publish(store, message="first cut")
    same_entry, second = publish(store, content=notebook("x = 2"), message="  tuned  ")
    assert (first, second) == (1, 2)
    assert same_entry == entry_id
    with store.session() as s:
        entry = g.get_entry(s, BEN, entry_id)
        assert (entry.owner, entry.visibility, entry.name) == ("ana", "group:ml", "analysis.ipynb")
        assert entry.group == "ml"
        assert [(v.number, v.message) for v in entry.versions] == [(1, "first cut"), (2, "tuned")]
        assert g.latest_numbers(s, [entry_id]) == {entry_id: 2}
        v1 = g.get_version(s, BEN, entry_id, 1)
        assert json.loads(v1.content)["cells"][0]["source"] == ["x = 1"]
        assert len(v1.sha256) == 64 and v1.size == len(v1.content.encode())


def test_same_notebook_name_in_another_group_is_another_entry(store):
    ml, _ = publish(store, group="ml")
    vision, number = publish(store, group="vision")
    assert ml != vision and number == 1


def test_unchanged_content_is_a_conflict_and_adds_nothing(store):
    entry_id, _ = publish(store)
    with pytest.raises(Conflict, match=r"version 1 .* already has this exact content"):
        publish(store)
    with store.session() as s:
        assert [v.number for v in g.get_entry(s, ANA, entry_id).versions] == [1]


def test_only_members_may_publish_to_a_group(store):
    with pytest.raises(Forbidden, match="not a member of group 'finance'"):
        publish(store, group="finance")
    with store.session() as s:
        assert g.list_entries(s, CAL) == []


def test_entries_are_visible_to_group_members_and_the_owner_only(store):
    entry_id, _ = publish(store, group="vision")
    with store.session() as s:
        assert [e.id for e in g.list_entries(s, ANA)] == [entry_id]
        assert g.list_entries(s, BEN) == []  # ben is not in vision
        assert g.list_entries(s, CAL) == []
        assert g.list_entries(s, Viewer("", frozenset({"vision"}))) == []
        for viewer in (BEN, CAL):
            with pytest.raises(NotFound, match=f"no gallery entry {entry_id}"):
                g.get_entry(s, viewer, entry_id)
            with pytest.raises(NotFound):
                g.get_version(s, viewer, entry_id, 1)
            with pytest.raises(NotFound):
                g.diff_versions(s, viewer, entry_id, 1, 1)
        # The owner keeps seeing what she published after leaving the group.
        assert [e.id for e in g.list_entries(s, Viewer("ana"))] == [entry_id]


def test_list_is_newest_first_and_filters_by_group(store):
    older, _ = publish(store, group="ml", name="a.ipynb")
    newer, _ = publish(store, group="vision", name="b.ipynb")
    publish(store, viewer=BEN, group="ml", name="c.ipynb")
    with store.session() as s:
        names = [e.name for e in g.list_entries(s, ANA)]
        assert names == ["c.ipynb", "b.ipynb", "a.ipynb"]
        assert [e.id for e in g.list_entries(s, ANA, group="vision")] == [newer]
        assert older in [e.id for e in g.list_entries(s, BEN)]


def test_missing_version_is_not_found(store):
    entry_id, _ = publish(store)
    with store.session() as s, pytest.raises(NotFound, match="has no version 7"):
        g.get_version(s, ANA, entry_id, 7)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json at all", "not a Jupyter notebook: the content is not JSON"),
        ({"cells": []}, "expected a JSON object with \"nbformat\": 4"),
        (
            {"nbformat": 4, "nbformat_minor": 5, "metadata": {},
             "cells": [{"cell_type": "code", "id": "a", "metadata": {}, "source": 3,
                        "outputs": [], "execution_count": None}]},
            "invalid notebook at cells/0",
        ),
    ],
)  # fmt: skip
def test_malformed_notebooks_are_refused_with_the_reason(store, content, message):
    with pytest.raises(Invalid, match=message):
        publish(store, content=content)
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(GalleryVersion)) == 0


@pytest.mark.parametrize("name", ["../up.ipynb", "dir/a.ipynb", "notes.txt", ".hidden.ipynb", ""])
def test_bad_notebook_names_are_refused(store, name):
    with pytest.raises(Invalid, match="invalid notebook name"):
        publish(store, name=name)


def test_bad_group_and_long_message_are_refused(store):
    with pytest.raises(Invalid, match="invalid group name 'ML Team'"):
        publish(store, group="ML Team")
    with pytest.raises(Invalid, match="longer than 2000"):
        publish(store, message="x" * 2001)


def test_notebooks_over_the_limit_are_too_large(store, monkeypatch):
    monkeypatch.setattr(g, "MAX_NOTEBOOK_BYTES", 4096)
    with pytest.raises(TooLarge, match="the gallery takes notebooks of at most 0 MiB"):
        publish(store, content=notebook("x = '" + "a" * 5000 + "'"))
    publish(store, content=notebook("x = 1"))  # a small one still goes in


def test_diff_shows_the_changed_cell(store):
    entry_id, _ = publish(store, content=notebook("import math", "x = 1"))
    publish(store, content=notebook("import math", "x = 2"))
    with store.session() as s:
        result = g.diff_versions(s, BEN, entry_id, 1, 2)
    assert (result["base"], result["remote"]) == (1, 2)
    [cells] = result["diff"]
    assert cells["key"] == "cells"
    [changed] = cells["diff"]
    assert changed["key"] == 1  # the second cell only
    assert result["text"] == "## modified /cells/1/source:\n-  x = 1\n+  x = 2\n\n"
    with store.session() as s:
        assert g.diff_versions(s, ANA, entry_id, 2, 2)["diff"] == []


def test_only_the_owner_deletes_an_entry_and_its_versions(store):
    entry_id, _ = publish(store)
    publish(store, content=notebook("x = 3"))
    with store.session() as s, pytest.raises(Forbidden, match="only 'ana'"):
        g.delete_entry(s, BEN, entry_id)
    with store.session() as s:
        g.delete_entry(s, ANA, entry_id)
    with store.session() as s:
        assert g.list_entries(s, ANA) == []
        assert s.scalar(select(func.count()).select_from(GalleryVersion)) == 0
