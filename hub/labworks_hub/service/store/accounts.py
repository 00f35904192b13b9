"""Accounts: create people, check their passwords, disable, enable and delete them.
Passwords are kept only as Argon2 hashes; a deleted account stays as a tombstone."""

from __future__ import annotations

import functools
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..access import Conflict, Invalid, NotFound, check_name
from .models import Account, Group, utcnow

_hasher = PasswordHasher()


class AccountError(ValueError):
    """Invalid account input (bad name, duplicate, unknown user); the message is user-facing."""


def validate_name(name: str, what: str = "user name") -> str:
    try:
        return check_name(name, what)
    except Invalid as e:
        raise AccountError(e.message) from None


def generate_password() -> str:
    return secrets.token_urlsafe(18)


def create_account(
    session: Session,
    name: str,
    password: str,
    *,
    admin: bool = False,
    groups: list[str] | None = None,
) -> Account:
    """A new account, in `groups` (created when missing). AccountError if the name is taken,
    also by a deleted account (its things must not pass to a newcomer of the same name)."""
    validate_name(name)
    names = sorted({validate_name(g, "group name") for g in groups or []})
    found = get_account(session, name)
    if found is not None and found.deleted:
        raise AccountError(f"user {name!r} was deleted; a deleted user's name cannot be used again")
    if found is not None:
        raise AccountError(f"user {name!r} already exists")
    account = Account(name=name, password_hash=_hasher.hash(password), admin=admin)
    account.group_rows = ensure_groups(session, names)
    session.add(account)
    session.flush()
    return account


def ensure_groups(session: Session, names: list[str]) -> list[Group]:
    """The groups of these (valid) names, created when missing."""
    found = {g.name: g for g in session.scalars(select(Group).where(Group.name.in_(names)))}
    for name in names:
        if name not in found:
            found[name] = Group(name=name)
            session.add(found[name])
    session.flush()
    return [found[name] for name in sorted(found)]


def set_password(session: Session, name: str, password: str) -> Account:
    account = get_account(session, name)
    if account is None or account.deleted:
        raise AccountError(f"no such user: {name!r}")
    account.password_hash = _hasher.hash(password)
    account.password_changed_at = utcnow()
    return account


def get_account(session: Session, name: str) -> Account | None:
    """The account of that name, a deleted one's tombstone included."""
    return session.scalar(select(Account).where(Account.name == name))


def live_account(session: Session, name: str) -> Account:
    """The account of that name unless there is none or it was deleted (NotFound)."""
    account = get_account(session, name)
    if account is None or account.deleted:
        raise NotFound(f"no user {name!r}")
    return account


def list_accounts(session: Session, *, deleted: bool = False) -> list[Account]:
    """The accounts by name; tombstones only when `deleted`."""
    query = select(Account).order_by(Account.name)
    if not deleted:
        query = query.where(Account.deleted_at.is_(None))
    return list(session.scalars(query))


def has_admin(session: Session) -> bool:
    query = select(Account.id).where(Account.admin.is_(True), Account.deleted_at.is_(None))
    return session.scalar(query.limit(1)) is not None


def first_admin(session: Session) -> Account | None:
    """The first administrator (by name) who may log in, or None."""
    query = select(Account).where(
        Account.admin.is_(True), Account.disabled.is_(False), Account.deleted_at.is_(None)
    )
    return session.scalar(query.order_by(Account.name).limit(1))


def set_disabled(session: Session, name: str, disabled: bool) -> Account:
    """Disable or enable a live account (idempotent); NotFound for none or a deleted one."""
    account = live_account(session, name)
    account.disabled = disabled
    session.flush()
    return account


def delete_account(session: Session, name: str) -> Account:
    """Leave a tombstone: disabled, no admin flag, no groups, no password that verifies. What
    the account owned stays in its name (an admin hands it over: `handover.transfer`).
    Deleting a deleted account again is fine; NotFound for a name never registered."""
    account = get_account(session, name)
    if account is None:
        raise NotFound(f"no user {name!r}")
    if account.deleted:
        return account
    account.deleted_at = utcnow()
    account.disabled = True
    account.admin = False
    account.group_rows = []
    account.password_hash = _DELETED
    session.flush()
    return account


def check_other_admin(session: Session, name: str) -> None:
    """Conflict when `name` is the last administrator who may log in: nobody could manage the
    platform afterwards."""
    rest = select(Account.id).where(
        Account.admin.is_(True), Account.disabled.is_(False), Account.deleted_at.is_(None),
        Account.name != name,
    )  # fmt: skip
    if session.scalar(rest.limit(1)) is None:
        raise Conflict(f"{name!r} is the last administrator; make another one first")


def verify_password(session: Session, name: str, password: str) -> Account | None:
    """The account if the password matches and it may log in (not disabled or deleted), else
    None (same cost for unknown names)."""
    account = get_account(session, name)
    try:
        if account is None or account.deleted:
            _hasher.verify(_dummy_hash(), password)
            return None
        _hasher.verify(account.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if not account.can_log_in:
        return None
    if _hasher.check_needs_rehash(account.password_hash):
        account.password_hash = _hasher.hash(password)
    return account


@functools.cache
def _dummy_hash() -> str:
    """What an unknown name's password is checked against; made once, when first needed (a
    hash costs 0.16 s, which every command that imports this module would pay)."""
    return _hasher.hash(secrets.token_hex(16))


_DELETED = "!deleted"  # not an Argon2 hash: nothing verifies against it
