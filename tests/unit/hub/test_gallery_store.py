"""The gallery's store layer on SQLite and on a real PostgreSQL server: publishing versions,
who may see and publish what, validation, size limit and nbdime diffs."""

from __future__ import annotations

import json

import nbformat
import pytest
from sqlalchemy import func, inspect, select

from labworks_hub.service.store import gallery as g
from labworks_hub.service.store.models import GalleryVersion

ANA = g.Viewer("ana", frozenset({"ml", "vision"}))
BEN = g.Viewer("ben", frozenset({"ml"}))
CAL = g.Viewer("cal", frozenset({"finance"}))


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


def test_publishing_again_adds_numbered_versions(store):
    entry_id, first = publish(store, message="first cut")
    same_entry, second = publish(store, content=notebook("x = 2"), message="  tuned  ")
    assert (first, second) == (1, 2)
    assert same_entry == entry_id
    with store.session() as s:
        entry = g.get_entry(s, BEN, entry_id)
        assert (entry.owner, entry.group_name, entry.name) == ("ana", "ml", "analysis.ipynb")
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
    with pytest.raises(g.Conflict, match=r"version 1 .* already has this exact content"):
        publish(store)
    with store.session() as s:
        assert [v.number for v in g.get_entry(s, ANA, entry_id).versions] == [1]


def test_only_members_may_publish_to_a_group(store):
    with pytest.raises(g.Forbidden, match="not a member of group 'finance'"):
        publish(store, group="finance")
    with store.session() as s:
        assert g.list_entries(s, CAL) == []


def test_entries_are_visible_to_group_members_and_the_owner_only(store):
    entry_id, _ = publish(store, group="vision")
    with store.session() as s:
        assert [e.id for e in g.list_entries(s, ANA)] == [entry_id]
        assert g.list_entries(s, BEN) == []  # ben is not in vision
        assert g.list_entries(s, CAL) == []
        assert g.list_entries(s, g.Viewer("", frozenset({"vision"}))) == []
        for viewer in (BEN, CAL):
            with pytest.raises(g.NotFound, match=f"no gallery entry {entry_id}"):
                g.get_entry(s, viewer, entry_id)
            with pytest.raises(g.NotFound):
                g.get_version(s, viewer, entry_id, 1)
            with pytest.raises(g.NotFound):
                g.diff_versions(s, viewer, entry_id, 1, 1)
        # The owner keeps seeing what she published after leaving the group.
        assert [e.id for e in g.list_entries(s, g.Viewer("ana"))] == [entry_id]


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
    with store.session() as s, pytest.raises(g.NotFound, match="has no version 7"):
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
    with pytest.raises(g.InvalidInput, match=message):
        publish(store, content=content)
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(GalleryVersion)) == 0


@pytest.mark.parametrize("name", ["../up.ipynb", "dir/a.ipynb", "notes.txt", ".hidden.ipynb", ""])
def test_bad_notebook_names_are_refused(store, name):
    with pytest.raises(g.InvalidInput, match="invalid notebook name"):
        publish(store, name=name)


def test_bad_group_and_long_message_are_refused(store):
    with pytest.raises(g.InvalidInput, match="invalid group name 'ML Team'"):
        publish(store, group="ML Team")
    with pytest.raises(g.InvalidInput, match="longer than 2000"):
        publish(store, message="x" * 2001)


def test_notebooks_over_the_limit_are_too_large(store, monkeypatch):
    monkeypatch.setattr(g, "MAX_NOTEBOOK_BYTES", 4096)
    with pytest.raises(g.TooLarge, match="the gallery takes notebooks of at most 0 MiB"):
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
    with store.session() as s, pytest.raises(g.Forbidden, match="only 'ana'"):
        g.delete_entry(s, BEN, entry_id)
    with store.session() as s:
        g.delete_entry(s, ANA, entry_id)
    with store.session() as s:
        assert g.list_entries(s, ANA) == []
        assert s.scalar(select(func.count()).select_from(GalleryVersion)) == 0
