"""Offline operations on the hub's own database for operators holding the state directory:
mirror an account into the hub (user, admin flag, groups) and mint API tokens."""

from __future__ import annotations

from jupyterhub import orm, roles

from .service.store.models import Account

DEFAULT_TOKEN_DAYS = 30


def _session(url: str):
    return orm.new_session_factory(url)()


def sync_user(hub_db_url: str, account: Account) -> None:
    """Create or update the hub user for `account`, with its admin flag and groups."""
    db = _session(hub_db_url)
    try:
        _sync(db, account)
    finally:
        db.close()


def _sync(db, account: Account) -> orm.User:
    user = orm.User.find(db, account.name)
    if user is None:
        user = orm.User(name=account.name)
        db.add(user)
    user.admin = account.admin
    wanted = set(account.groups)
    for group in list(user.groups):
        if group.name not in wanted:
            user.groups.remove(group)
    have = {g.name for g in user.groups}
    for name in sorted(wanted - have):
        group = orm.Group.find(db, name) or orm.Group(name=name)
        user.groups.append(group)
    db.commit()
    if orm.Role.find(db, "user") is not None:
        # The hub has started before and created its roles; otherwise it assigns them at start.
        roles.assign_default_roles(db, user)
        db.commit()
    return user


def new_token(
    hub_db_url: str,
    account: Account,
    *,
    scopes: list[str] | None = None,
    expires_in: int | None = DEFAULT_TOKEN_DAYS * 86400,
    note: str = "labworks token (command line)",
) -> str:
    """A new hub API token for `account`; it inherits the user's permissions unless scoped."""
    db = _session(hub_db_url)
    try:
        user = _sync(db, account)
        return user.new_api_token(
            scopes=scopes or ["inherit"], expires_in=expires_in or None, note=note
        )
    finally:
        db.close()


def token_id(hub_db_url: str, value: str) -> str | None:
    """The hub's id of a token (`a42`), to revoke it through the hub's API: deleting its row
    here would leave a running hub's session with a stale object that breaks its next commit."""
    db = _session(hub_db_url)
    try:
        found = orm.APIToken.find(db, value)
        return found.api_id if found is not None else None
    finally:
        db.close()
