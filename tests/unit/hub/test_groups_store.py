"""Groups, memberships and the account lifecycle in the store, on SQLite and on a real PostgreSQL
server: the migration that made groups rows (both ways), tombstones, disabled logins, handing a
user's things to another and unsharing a deleted group's."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import MetaData, insert, select

from labworks_hub.service.access import Conflict, Invalid, NotFound, Viewer
from labworks_hub.service.store import Store, handover
from labworks_hub.service.store import accounts as a
from labworks_hub.service.store import groups as g
from labworks_hub.service.store.jobs import JobDefinition, JobNotebook, JobRun, JobSchedule
from labworks_hub.service.store.models import Dataset, GalleryEntry

AT = datetime(2026, 12, 1, tzinfo=UTC)


def _table_rows(store: Store, table: str, *columns: str) -> list[tuple]:
    tables = MetaData()
    tables.reflect(store.engine, only=[table])
    chosen = [tables.tables[table].c[c] for c in columns]
    with store.engine.connect() as conn:
        return sorted(tuple(row) for row in conn.execute(select(*chosen)))


def test_migration_0007_makes_groups_rows_and_back(db_url):
    store = Store(db_url)
    try:
        store.migrate("0006")
        tables = MetaData()
        tables.reflect(store.engine, only=["lw_accounts"])
        account = {"password_hash": "x", "admin": False, "created_at": AT,
                   "password_changed_at": AT}  # fmt: skip
        with store.engine.begin() as conn:
            conn.execute(insert(tables.tables["lw_accounts"]), [
                {"id": 1, "name": "ana", "groups": ["ml", "vision"], **account},
                {"id": 2, "name": "ben", "groups": ["ml"], **account},
                {"id": 3, "name": "cal", "groups": [], **account},
            ])  # fmt: skip
        store.migrate("0007")
        with store.session() as s:
            assert [(x.name, x.member_names) for x in g.list_groups(s)] == [
                ("ml", ["ana", "ben"]), ("vision", ["ana"])
            ]  # fmt: skip
            assert a.get_account(s, "ana").groups == ["ml", "vision"]
            assert a.get_account(s, "cal").groups == []
            assert not a.get_account(s, "cal").disabled
        store.downgrade("0006")
        rows = _table_rows(store, "lw_accounts", "name", "groups")
        assert rows == [("ana", ["ml", "vision"]), ("ben", ["ml"]), ("cal", [])]
        store.migrate("0007")
        assert store.revision() == "0007"
    finally:
        store.dispose()


def test_users_add_creates_the_groups_it_names(store):
    with store.session() as s:
        a.create_account(s, "ana", "pw-ana-123", groups=["ml", "ml", "data"])
        a.create_account(s, "ben", "pw-ben-123", groups=["ml"])
    with store.session() as s:
        assert [(x.name, x.member_names) for x in g.list_groups(s)] == [
            ("data", ["ana"]), ("ml", ["ana", "ben"])
        ]  # fmt: skip


def test_groups_are_created_named_and_refused_clearly(store):
    with store.session() as s:
        assert g.create_group(s, "empty").member_names == []
    with store.session() as s, pytest.raises(Conflict, match="group 'empty' exists already"):
        g.create_group(s, "empty")
    with store.session() as s, pytest.raises(Invalid, match="invalid group name 'Bad Name'"):
        g.create_group(s, "Bad Name")
    with store.session() as s, pytest.raises(NotFound, match="no group 'ghost'"):
        g.delete_group(s, "ghost")


def test_membership_changes_are_idempotent_and_need_a_live_user(store):
    with store.session() as s:
        a.create_account(s, "ana", "pw-ana-123")
        a.create_account(s, "gone", "pw-gone-123")
        a.delete_account(s, "gone")
        g.create_group(s, "ml")
    for _ in range(2):
        with store.session() as s:
            assert g.add_member(s, "ml", "ana").member_names == ["ana"]
    with store.session() as s:
        assert a.get_account(s, "ana").groups == ["ml"]
    for _ in range(2):
        with store.session() as s:
            assert g.remove_member(s, "ml", "ana").member_names == []
    with store.session() as s, pytest.raises(NotFound, match="no user 'gone'"):
        g.add_member(s, "ml", "gone")
    with store.session() as s, pytest.raises(NotFound, match="no group 'nope'"):
        g.add_member(s, "nope", "ana")
    with store.session() as s:
        g.add_member(s, "ml", "ana")
        g.delete_group(s, "ml")
    with store.session() as s:
        assert a.get_account(s, "ana").groups == []


def test_disabled_accounts_cannot_log_in_until_enabled(store):
    with store.session() as s:
        a.create_account(s, "ana", "right-password")
        a.set_disabled(s, "ana", True)
    with store.session() as s:
        assert a.verify_password(s, "ana", "right-password") is None
        assert a.list_accounts(s)[0].disabled is True
        a.set_disabled(s, "ana", False)
    with store.session() as s:
        assert a.verify_password(s, "ana", "right-password").name == "ana"


def test_a_deleted_account_is_a_tombstone_whose_name_is_never_reused(store):
    with store.session() as s:
        a.create_account(s, "ana", "right-password", admin=True, groups=["ml"])
        a.create_account(s, "root", "root-password", admin=True)
    with store.session() as s:
        tomb = a.delete_account(s, "ana")
        assert (tomb.deleted, tomb.disabled, tomb.admin, tomb.groups) == (True, True, False, [])
        a.delete_account(s, "ana")  # again: fine
    with store.session() as s:
        assert a.verify_password(s, "ana", "right-password") is None
        assert [x.name for x in a.list_accounts(s)] == ["root"]
        assert [x.name for x in a.list_accounts(s, deleted=True)] == ["ana", "root"]
        assert g.get_group(s, "ml").member_names == []
        with pytest.raises(NotFound):
            a.set_disabled(s, "ana", False)
    with store.session() as s, pytest.raises(a.AccountError, match="cannot be used again"):
        a.create_account(s, "ana", "new-password")
    with store.session() as s, pytest.raises(Conflict, match="last administrator"):
        a.check_other_admin(s, "root")


def _things(store: Store, owner: str, group: str = "ml") -> None:
    with store.session() as s:
        if s.get(JobNotebook, "0" * 64) is None:
            s.add(JobNotebook(sha256="0" * 64, content="{}", size=2))
            s.flush()
        spec = {"name": "nb", "notebook_sha256": "0" * 64, "profile": "small", "timeout": 60}
        s.add(JobDefinition(id=f"d-{owner}", owner=owner, visibility=f"group:{group}", **spec))
        s.flush()
        s.add(JobSchedule(id=f"s-{owner}", definition_id=f"d-{owner}", cron="0 * * * *"))
        shared = {"owner": owner, "visibility": f"group:{group}"}
        s.add(JobRun(id=f"r-{owner}", definition_id=f"d-{owner}", **shared, **spec))
        s.add(Dataset(owner=owner, name="iris", visibility=f"group:{group}"))
        s.add(GalleryEntry(owner=owner, name="a.ipynb", visibility=f"group:{group}"))


def test_transfer_hands_every_owned_kind_over(store):
    _things(store, "ana")
    with store.session() as s:
        moved = handover.transfer(s, "ana", "ben")
    made = {"schedules": 1, "datasets": 1, "gallery": 1, "jobs": 1}
    assert {kind: n for kind, n in moved.items() if n} == made  # and any newer kind: none
    with store.session() as s:
        for model in handover.shareable_models():  # kinds with no rows here too
            assert set(s.scalars(select(model.owner))) <= {"ben"}, model
        assert s.get(Dataset, 1).visibility == "group:ml"  # the sharing is kept
        assert handover.transfer(s, "ana", "ben")["datasets"] == 0


def test_transfer_refuses_clashing_names_and_moves_nothing(store):
    _things(store, "ana")
    with store.session() as s:
        s.add(Dataset(owner="ben", name="iris"))
    with store.session() as s, pytest.raises(Conflict, match="'ben' already has dataset ben/iris"):
        handover.transfer(s, "ana", "ben")
    with store.session() as s:
        assert s.scalar(select(JobRun.owner)) == "ana"


def test_deleting_a_group_makes_what_was_shared_with_it_private(store):
    _things(store, "ana")
    with store.session() as s:
        s.add(GalleryEntry(owner="ana", name="a.ipynb", visibility="private"))
        s.add(Dataset(owner="ana", name="other", visibility="group:vision"))
    with store.session() as s:
        assert handover.unshare_group(s, "ml") == 4
    with store.session() as s:
        seen = Viewer("ben", frozenset({"ml"}))
        for model in handover.shareable_models():
            assert s.scalars(select(model).where(model.visible_to(seen))).all() == [], model
        names = sorted(s.scalars(select(GalleryEntry.name)))
        assert names == ["a.ipynb", "a.ipynb (ml)"]
        assert s.scalar(select(Dataset.visibility).where(Dataset.name == "other")) == (
            "group:vision"
        )
