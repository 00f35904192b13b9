"""Groups and their members. A group is a row (it may have no members) and a hub group of the
same name; things are shared with it as `group:<name>` (access.Visibility). Refusals are
access kinds: Invalid names, NotFound groups or users, Conflict for a group that exists."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..access import Conflict, NotFound, check_name
from .accounts import live_account
from .models import Group


def list_groups(session: Session) -> list[Group]:
    return list(session.scalars(select(Group).order_by(Group.name)))


def get_group(session: Session, name: str) -> Group:
    group = session.scalar(select(Group).where(Group.name == name))
    if group is None:
        raise NotFound(f"no group {name!r}")
    return group


def create_group(session: Session, name: str) -> Group:
    """A new empty group; Invalid for a bad name, Conflict if it exists."""
    check_name(name, "group name")
    if session.scalar(select(Group.id).where(Group.name == name)) is not None:
        raise Conflict(f"group {name!r} exists already")
    group = Group(name=name)
    session.add(group)
    session.flush()
    return group


def delete_group(session: Session, name: str) -> None:
    """Remove the group and its memberships (what was shared with it: handover.unshare_group)."""
    session.delete(get_group(session, name))
    session.flush()


def add_member(session: Session, name: str, user: str) -> Group:
    """Put a live user in the group; a member already is fine."""
    group = get_group(session, name)
    account = live_account(session, user)
    if account not in group.members:
        group.members.append(account)
        session.flush()
    return group


def remove_member(session: Session, name: str, user: str) -> Group:
    """Take a user out of the group; one who is not in it is fine."""
    group = get_group(session, name)
    account = live_account(session, user)
    if account in group.members:
        group.members.remove(account)
        session.flush()
    return group
