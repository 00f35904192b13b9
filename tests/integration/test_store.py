"""The store suite: runs on SQLite and on a real PostgreSQL server (see tests/conftest.py)."""

from __future__ import annotations

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from labworks_hub.service.store import Store, StoreError, redact_url
from labworks_hub.service.store.accounts import (
    AccountError,
    create_account,
    get_account,
    has_admin,
    list_accounts,
    set_password,
    verify_password,
)
from labworks_hub.service.store.db import MIGRATIONS, VERSION_TABLE

HEAD = ScriptDirectory(str(MIGRATIONS)).get_current_head()


def test_migrate_reaches_head_and_is_idempotent(store):
    assert store.revision() == HEAD
    store.migrate()  # a second start must not fail or change anything
    assert store.revision() == HEAD
    with store.engine.connect() as conn:
        rows = conn.execute(text(f"SELECT count(*) FROM {VERSION_TABLE}")).scalar_one()
    assert rows == 1


def test_account_roundtrip_keeps_only_a_hash(store):
    with store.session() as s:
        create_account(s, "alice", "s3cret-pass", admin=False, groups=["ml", "ml", "data"])
    with store.engine.connect() as conn:
        stored = conn.execute(text("SELECT password_hash FROM lw_accounts")).scalar_one()
    assert "s3cret-pass" not in stored
    assert stored.startswith("$argon2")
    with store.session() as s:
        alice = get_account(s, "alice")
        assert alice.groups == ["data", "ml"]
        assert alice.admin is False


def test_verify_password(store):
    with store.session() as s:
        create_account(s, "bob", "right-password")
    with store.session() as s:
        assert verify_password(s, "bob", "right-password").name == "bob"
        assert verify_password(s, "bob", "wrong-password") is None
        assert verify_password(s, "nobody", "right-password") is None


def test_set_password_replaces_old_one(store):
    with store.session() as s:
        create_account(s, "carol", "old-password")
    with store.session() as s:
        set_password(s, "carol", "new-password")
    with store.session() as s:
        assert verify_password(s, "carol", "old-password") is None
        assert verify_password(s, "carol", "new-password") is not None
    with pytest.raises(AccountError, match="no such user"), store.session() as s:
        set_password(s, "ghost", "x")


def test_duplicate_and_invalid_names_are_refused(store):
    with store.session() as s:
        create_account(s, "dave", "pw")
    with pytest.raises(AccountError, match="already exists"), store.session() as s:
        create_account(s, "dave", "pw2")
    for bad in ["", "Dave", "a b", "../x", "-lead", "x" * 64]:
        with pytest.raises(AccountError, match="invalid user name"), store.session() as s:
            create_account(s, bad, "pw")
    with pytest.raises(AccountError, match="invalid group name"), store.session() as s:
        create_account(s, "erin", "pw", groups=["Bad Group"])
    with store.session() as s:
        assert [a.name for a in list_accounts(s)] == ["dave"]


def test_has_admin(store):
    with store.session() as s:
        assert not has_admin(s)
        create_account(s, "root-like", "pw", admin=True)
    with store.session() as s:
        assert has_admin(s)


def test_failed_session_rolls_back(store):
    with pytest.raises(RuntimeError), store.session() as s:
        create_account(s, "frank", "pw")
        raise RuntimeError("boom")
    with store.session() as s:
        assert get_account(s, "frank") is None


def test_unreachable_database_error_hides_password(postgres):
    url = f"postgresql://labworks:hunter2@127.0.0.1:{postgres.port}/no_such_db"
    with pytest.raises(StoreError) as info:
        Store(url).migrate()
    message = str(info.value)
    assert "hunter2" not in message
    assert "no_such_db" in message
    assert message.startswith("cannot connect to database postgresql+psycopg://labworks:***@")


def test_invalid_url_is_a_store_error():
    with pytest.raises(StoreError, match=r"invalid database URL|cannot use database"):
        Store("not a url")
    assert redact_url("postgresql://u:pw@h/db") == "postgresql://u:***@h/db"
    with pytest.raises(StoreError, match="invalid database URL") as info:
        Store("postgresql://u:hunter2@h:notaport/db")
    assert "hunter2" not in str(info.value)
