"""Group shares reach a member's tokens (JupyterHub 6.1 honours them for the user only): real
JupyterHub ORM and scope code on an in-memory database."""

from __future__ import annotations

import pytest
from jupyterhub import orm, roles, scopes
from jupyterhub.apihandlers import base as api_base

from labworks_hub import group_shares

ACCESS = "access:servers!server=sonia/"


@pytest.fixture
def hub():
    db = orm.new_session_factory("sqlite://")()
    db.add(orm.OAuthClient(identifier="jupyterhub"))
    for role in roles.get_default_roles():
        roles.create_role(db, role)
    users = {name: orm.User(name=name) for name in ("sonia", "stan", "sky", "sol")}
    db.add_all(users.values())
    db.commit()
    for user in users.values():
        roles.assign_default_roles(db, user)
    group = orm.Group(name="acoustics", users=[users["stan"], users["sol"]])
    spawner = orm.Spawner(user=users["sonia"], name="")
    db.add_all([group, spawner])
    db.commit()
    spawner.oauth_client = orm.OAuthClient(identifier="jupyterhub-user-sonia")
    db.commit()
    yield db, users, group, spawner
    db.close()


def token(db, user, scopes_=("inherit",)):
    return orm.APIToken.find(db, user.new_api_token(scopes=list(scopes_)))


upstream = getattr(scopes.get_scopes_for, "__wrapped__", scopes.get_scopes_for)
fixed = group_shares.with_group_shares(upstream)


def test_upstream_leaves_group_shares_out_of_tokens(hub):
    db, users, group, spawner = hub
    orm.Share.grant(db, spawner, group, scopes=[ACCESS])
    assert ACCESS in upstream(users["stan"])  # the user has it ...
    assert ACCESS not in upstream(token(db, users["stan"]))  # ... the token not


def test_members_tokens_get_the_group_share_within_their_limits(hub):
    db, users, group, spawner = hub
    orm.Share.grant(db, spawner, group, scopes=[ACCESS])
    assert ACCESS in fixed(token(db, users["stan"]))
    assert ACCESS in fixed(token(db, users["sol"], [ACCESS]))
    # A token limited to something else stays limited; a non-member gets nothing.
    limited = fixed(token(db, users["stan"], ["read:users:name!user=stan"]))
    assert ACCESS not in limited
    assert ACCESS not in fixed(token(db, users["sky"]))
    # An OAuth token issued to sonia's server for stan (a browser session) gets access too.
    oauth = orm.APIToken.new(user=users["stan"], oauth_client=spawner.oauth_client, scopes=[ACCESS])
    assert ACCESS in fixed(orm.APIToken.find(db, oauth))


def test_revoking_the_group_share_takes_it_away(hub):
    db, users, group, spawner = hub
    orm.Share.grant(db, spawner, group, scopes=[ACCESS])
    stan = token(db, users["stan"])
    assert ACCESS in fixed(stan)
    orm.Share.revoke(db, spawner, group)
    db.expire_all()
    assert ACCESS not in fixed(stan)


def test_user_shares_and_services_are_unchanged(hub):
    db, users, _group, spawner = hub
    orm.Share.grant(db, spawner, users["sky"], scopes=[ACCESS])
    sky = token(db, users["sky"])
    assert fixed(sky) == upstream(sky)
    assert ACCESS in fixed(sky)
    assert fixed(users["sky"]) == upstream(users["sky"])


def test_install_is_idempotent_and_patches_both_names(monkeypatch):
    monkeypatch.setattr(scopes, "get_scopes_for", scopes.get_scopes_for)
    monkeypatch.setattr(api_base, "get_scopes_for", api_base.get_scopes_for)
    group_shares.install()
    first = scopes.get_scopes_for
    group_shares.install()
    assert scopes.get_scopes_for is first is api_base.get_scopes_for
    assert first.__wrapped__ is not first and first._labworks_group_shares is True
