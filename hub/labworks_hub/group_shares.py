"""Make JupyterHub honour a server shared with a group when a member uses a token.

JupyterHub 6.1 (`jupyterhub.scopes.get_scopes_for`) adds a user's group shares to the user's
own permissions, but not to those of the user's tokens: it adds only shares made with the user
by name. Every request to a workspace is made with a token (an API token, or the OAuth token of
a browser session), so a workspace shared with a group stayed closed to its members.

`install()` wraps `get_scopes_for` so that a user's token also gets, within the token's own
limits, the scopes of the shares made with the user's groups, as the user already has them.
It is loaded by the hub configuration (hubconfig.configure). Remove it once JupyterHub does this.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from jupyterhub import orm, scopes
from jupyterhub.apihandlers import base as api_base

_MARK = "_labworks_group_shares"


def group_share_scopes(user: orm.User) -> frozenset[str]:
    """The expanded scopes granted to `user` by shares made with the user's groups."""
    granted: set[str] = set()
    for group in user.groups:
        for share in group.shared_with_me:
            granted |= scopes.expand_share_scopes(share)
    return frozenset(granted)


def with_group_shares(get_scopes_for: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`get_scopes_for`, adding group shares to the scopes of a user's token."""

    @functools.wraps(get_scopes_for)
    def wrapped(orm_object: Any) -> Any:
        found = get_scopes_for(orm_object)
        if not isinstance(orm_object, orm.APIToken) or orm_object.user is None:
            return found
        granted = group_share_scopes(orm_object.user)
        if not granted:
            return found
        if "inherit" in orm_object.scopes:  # the token has all its owner's permissions
            return set(found) | granted
        token_scopes = set(
            scopes.expand_scopes(
                orm_object.scopes, owner=orm_object.user, oauth_client=orm_object.oauth_client
            )
        )
        if orm_object.client_id != "jupyterhub":  # as JupyterHub does for OAuth tokens
            token_scopes |= scopes.access_scopes(orm_object.oauth_client)
        session = sa.inspect(orm_object).session
        allowed = scopes._intersect_expanded_scopes(token_scopes, granted, db=session)
        return set(found) | set(allowed)

    setattr(wrapped, _MARK, True)
    return wrapped


def install() -> None:
    """Wrap JupyterHub's `get_scopes_for` (idempotent; the hub process only)."""
    if getattr(scopes.get_scopes_for, _MARK, False):
        return
    fixed = with_group_shares(scopes.get_scopes_for)
    scopes.get_scopes_for = fixed
    api_base.get_scopes_for = fixed  # imported by name there
