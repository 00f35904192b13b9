"""Accounts: create people, check their passwords. Passwords are kept only as Argon2 hashes."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..access import Invalid, check_name
from .models import Account, utcnow

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
    validate_name(name)
    groups = sorted({validate_name(g, "group name") for g in groups or []})
    if get_account(session, name) is not None:
        raise AccountError(f"user {name!r} already exists")
    account = Account(name=name, password_hash=_hasher.hash(password), admin=admin, groups=groups)
    session.add(account)
    session.flush()
    return account


def set_password(session: Session, name: str, password: str) -> Account:
    account = get_account(session, name)
    if account is None:
        raise AccountError(f"no such user: {name!r}")
    account.password_hash = _hasher.hash(password)
    account.password_changed_at = utcnow()
    return account


def get_account(session: Session, name: str) -> Account | None:
    return session.scalar(select(Account).where(Account.name == name))


def list_accounts(session: Session) -> list[Account]:
    return list(session.scalars(select(Account).order_by(Account.name)))


def has_admin(session: Session) -> bool:
    return session.scalar(select(Account.id).where(Account.admin.is_(True)).limit(1)) is not None


def verify_password(session: Session, name: str, password: str) -> Account | None:
    """The account if the password matches, else None (same cost for unknown names)."""
    account = get_account(session, name)
    try:
        if account is None:
            _hasher.verify(_DUMMY_HASH, password)
            return None
        _hasher.verify(account.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if _hasher.check_needs_rehash(account.password_hash):
        account.password_hash = _hasher.hash(password)
    return account


_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))
