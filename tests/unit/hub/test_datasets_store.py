"""The datasets store layer on SQLite and on a real PostgreSQL server: manifests and their
digest, numbered and idempotent versions, `latest`, who may read and write what, delete."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import func, inspect, select

from labworks_hub.service.access import Forbidden, Invalid, NotFound, Viewer
from labworks_hub.service.store import datasets as d
from labworks_hub.service.store.models import DatasetVersion

ANA = Viewer("ana", frozenset({"ml", "vision"}))
BEN = Viewer("ben", frozenset({"ml"}))
CAL = Viewer("cal", frozenset({"finance"}))
SERVICE = Viewer("")


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


TRAIN = d.FileEntry("train.csv", sha("a,b\n1,2\n"), 8)
TEST = d.FileEntry("data/test.csv", sha("a,b\n3,4\n"), 8)
HELD = {TRAIN.sha256: TRAIN.size, TEST.sha256: TEST.size}


def push(store, files=(TRAIN, TEST), viewer=ANA, name="iris", held=None, **kwargs):
    with store.session() as s:
        version, new = d.create_version(
            s, viewer, viewer.name, name, files, HELD if held is None else held, **kwargs
        )
        return version.number, new


def test_migration_creates_the_dataset_tables(store):
    tables = set(inspect(store.engine).get_table_names())
    assert {"lw_datasets", "lw_dataset_versions"} <= tables
    store.migrate()  # idempotent


def test_the_digest_is_sha256_over_the_manifest_sorted_by_path():
    text = f"data/test.csv\t{TEST.sha256}\t8\ntrain.csv\t{TRAIN.sha256}\t8\n"
    expected = "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    assert d.manifest_digest([TRAIN, TEST]) == d.manifest_digest([TEST, TRAIN]) == expected
    assert d.manifest_digest([TRAIN]) != expected


def test_versions_are_numbered_and_keep_the_sorted_manifest(store):
    assert push(store, message="  first  ", description="Fisher's iris") == (1, True)
    assert push(store, files=[TRAIN], message="only train") == (2, True)
    with store.session() as s:
        dataset = d.get_dataset(s, ANA, "ana", "iris")
        assert (dataset.description, dataset.visibility) == ("Fisher's iris", "private")
        assert [(v.number, v.message) for v in dataset.versions] == [
            (2, "only train"),
            (1, "first"),
        ]
        first = d.get_version(s, ANA, "ana", "iris", 1)
        assert [f["path"] for f in first.files] == ["data/test.csv", "train.csv"]
        assert (first.size, first.file_count, first.created_by) == (16, 2, "ana")
        assert first.digest == d.manifest_digest([TRAIN, TEST])
        assert d.get_version(s, ANA, "ana", "iris", "latest").number == 2
        assert d.latest_numbers(s, [dataset.id]) == {dataset.id: 2}


def test_pushing_the_latest_manifest_again_returns_that_version(store):
    push(store)
    assert push(store, files=[TEST, TRAIN], description="new words") == (1, False)
    push(store, files=[TRAIN])
    assert push(store) == (3, True)  # equal to an older version, not the latest: a new one
    with store.session() as s:
        assert d.get_dataset(s, ANA, "ana", "iris").description == "new words"
        assert s.scalar(select(func.count()).select_from(DatasetVersion)) == 3


def test_every_blob_must_be_held_with_its_size(store):
    with pytest.raises(d.MissingBlobs, match="1 file") as refused:
        push(store, held={TRAIN.sha256: 8, TEST.sha256: 7})
    assert "data/test.csv" in str(refused.value) and refused.value.code == "missing_blobs"
    with store.session() as s:
        assert d.list_datasets(s, ANA) == []


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/etc/passwd", "relative"),
        ("a/../b", "'..'"),
        ("..", "'..'"),
        ("a//b", "empty"),
        ("a/", "empty"),
        ("a\tb", "control"),
        ("a\\b", "backslash"),
        ("x" * 1025, "1-1024"),
    ],
)
def test_bad_paths_are_refused(store, path, reason):
    with pytest.raises(Invalid, match=reason):
        push(store, files=[d.FileEntry(path, TRAIN.sha256, 8)])


def test_bad_manifests_and_names_are_refused(store):
    with pytest.raises(Invalid, match="listed twice"):
        push(store, files=[TRAIN, d.FileEntry("train.csv", TEST.sha256, 8)])
    with pytest.raises(Invalid, match="1 to 10000 files"):
        push(store, files=[])
    with pytest.raises(Invalid, match="sha256"):
        push(store, files=[d.FileEntry("x", "ABC", 8)])
    with pytest.raises(Invalid, match="dataset name"):
        push(store, name=".hidden")
    with pytest.raises(Invalid, match="message"):
        push(store, message="m" * 2001)


def test_private_datasets_are_their_owners_only(store):
    push(store)
    with store.session() as s:
        for viewer in (BEN, CAL, SERVICE):
            assert d.list_datasets(s, viewer) == []
            with pytest.raises(NotFound):
                d.get_dataset(s, viewer, "ana", "iris")
            with pytest.raises(NotFound):
                d.listed_blob(s, viewer, "ana", "iris", TRAIN.sha256)
        d.listed_blob(s, ANA, "ana", "iris", TRAIN.sha256)
        with pytest.raises(NotFound, match="lists no file"):
            d.listed_blob(s, ANA, "ana", "iris", sha("not in it"))


def test_sharing_gives_read_to_the_group_or_everyone_never_write(store):
    push(store)
    with store.session() as s:
        shared = d.set_visibility(s, ANA, "ana", "iris", "group:ml")
        assert shared.visibility == "group:ml"
    with store.session() as s:
        assert [x.name for x in d.list_datasets(s, BEN, owner="ana")] == ["iris"]
        assert d.list_datasets(s, CAL) == []
        d.listed_blob(s, BEN, "ana", "iris", TEST.sha256)
        with pytest.raises(Forbidden, match="only 'ana'"):
            d.set_visibility(s, BEN, "ana", "iris", "public")
        with pytest.raises(Forbidden):
            d.delete_dataset(s, BEN, "ana", "iris")
        with pytest.raises(NotFound):  # a reader of nothing: as if absent
            d.delete_dataset(s, CAL, "ana", "iris")
    with pytest.raises(Forbidden, match="only 'ana' can push"), store.session() as s:
        d.create_version(s, BEN, "ana", "iris", [TRAIN], HELD)
    with store.session() as s:
        d.set_visibility(s, ANA, "ana", "iris", "public")
    with store.session() as s:
        assert [x.owner for x in d.list_datasets(s, CAL)] == ["ana"]
        assert d.list_datasets(s, SERVICE) == []


def test_setting_the_visibility_it_has_changes_nothing(store):
    push(store)
    with store.session() as s:
        before = d.set_visibility(s, ANA, "ana", "iris", "group:ml").updated_at
    with store.session() as s:
        again = d.set_visibility(s, ANA, "ana", "iris", " group:ml ")
        assert (again.visibility, again.updated_at) == ("group:ml", before)
        assert before.tzinfo is not None  # aware UTC on every backend (store/models.UTCDateTime)
        assert d.set_visibility(s, ANA, "ana", "iris", "public").updated_at > before


def test_visibility_must_be_valid_and_one_of_the_owners_groups(store):
    push(store)
    with store.session() as s:
        with pytest.raises(Forbidden, match="not a member of group 'finance'"):
            d.set_visibility(s, ANA, "ana", "iris", "group:finance")
        with pytest.raises(Invalid, match="invalid visibility"):
            d.set_visibility(s, ANA, "ana", "iris", "friends")
        with pytest.raises(NotFound):
            d.set_visibility(s, ANA, "ana", "nothing", "public")


def test_list_is_most_recently_updated_first(store):
    push(store, name="old")
    push(store, name="new")
    push(store, name="old", files=[TRAIN])
    with store.session() as s:
        assert [x.name for x in d.list_datasets(s, ANA)] == ["old", "new"]


def test_missing_versions_are_not_found(store):
    with store.session() as s, pytest.raises(NotFound):
        d.get_version(s, ANA, "ana", "iris", "latest")
    push(store)
    with store.session() as s, pytest.raises(NotFound, match="no version 2"):
        d.get_version(s, ANA, "ana", "iris", 2)


def test_delete_removes_the_dataset_and_its_versions(store):
    push(store)
    push(store, files=[TRAIN])
    with store.session() as s:
        d.delete_dataset(s, ANA, "ana", "iris")
    with store.session() as s:
        assert d.list_datasets(s, ANA) == []
        assert s.scalar(select(func.count()).select_from(DatasetVersion)) == 0
    assert push(store) == (1, True)  # the name is free again
