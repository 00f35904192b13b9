"""`labworks groups ...` and `labworks users disable|enable|delete|transfer` against the real
platform: as an operator on the machine (the state directory, no token) and as an admin with
LABWORKS_URL and LABWORKS_TOKEN; every command may be repeated."""

from __future__ import annotations

import json
import secrets

import pytest

from tests.integration.test_jobs import call
from tests.platform import labworks

pytestmark = pytest.mark.e2e
NO_TOKEN = {"LABWORKS_TOKEN": "", "LABWORKS_URL": ""}


def fresh(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(3)}"


def operator(platform, *args: str, check: bool = True):
    """A command as the operator types it on the machine: --home, no token."""
    return labworks(*args, "--home", str(platform.home), home=platform.home, check=check,
                    env=NO_TOKEN)  # fmt: skip


def test_groups_from_the_command_line_on_the_machine(platform):
    group, ana, ben = fresh("cli"), fresh("ana"), fresh("ben")
    platform.add_user(ana)
    platform.add_user(ben)
    token = platform.token(ana)

    assert operator(platform, "groups", "create", group).stdout == f"Created group {group!r}\n"
    assert operator(platform, "groups", "create", group).stdout == (
        f"Group {group!r} exists already\n"
    )
    assert f"{group}\t-" in operator(platform, "groups", "list").stdout.splitlines()
    added = operator(platform, "groups", "add", group, ana, ben)
    assert added.stdout == f"{group}\t{','.join(sorted([ana, ben]))}\n"
    assert operator(platform, "groups", "add", group, ana).returncode == 0  # again: fine
    assert call(platform, token, "GET", "/me").json()["groups"] == [group]  # at once
    listed = json.loads(operator(platform, "groups", "list", "--json").stdout)
    assert {"name": group, "members": sorted([ana, ben])} in listed["groups"]

    removed = operator(platform, "groups", "remove", group, ben)
    assert removed.stdout == f"{group}\t{ana}\n"
    assert operator(platform, "groups", "remove", group, ben).returncode == 0

    unknown = operator(platform, "groups", "add", group, "zz-nobody", check=False)
    assert unknown.returncode == 1
    assert unknown.stderr.strip().endswith("failed (404): no user 'zz-nobody'")
    bad = operator(platform, "groups", "create", "Bad Name", check=False)
    assert bad.returncode == 1 and "invalid group name 'Bad Name'" in bad.stderr

    deleted = operator(platform, "groups", "delete", group)
    assert deleted.stdout.startswith(f"Deleted group {group!r}")
    assert operator(platform, "groups", "delete", group).stdout == (
        f"No group {group!r}; nothing to delete\n"
    )
    assert call(platform, token, "GET", "/me").json()["groups"] == []


def test_groups_with_an_admin_token_and_refused_to_others(platform):
    admin, other, group = fresh("adm"), fresh("oth"), fresh("tok")
    platform.add_user(admin, "--admin")
    platform.add_user(other)
    env = {"LABWORKS_URL": platform.url, "LABWORKS_TOKEN": platform.token(admin)}
    made = labworks("groups", "create", group, home=platform.home, env=env)
    assert made.stdout == f"Created group {group!r}\n"
    env["LABWORKS_TOKEN"] = platform.token(other)
    refused = labworks("groups", "list", home=platform.home, env=env, check=False)
    assert refused.returncode == 1
    assert "(403): only administrators may manage users and groups" in refused.stderr


def test_the_account_lifecycle_from_the_command_line(platform):
    leaver, heir = fresh("lv"), fresh("hr")
    platform.add_user(leaver)
    platform.add_user(heir)
    token = platform.token(leaver)
    assert call(platform, token, "GET", "/me").status_code == 200

    for _ in range(2):
        out = labworks("users", "disable", leaver, home=platform.home, env=NO_TOKEN)
        assert out.stdout.startswith(f"Disabled {leaver!r}")
    assert call(platform, token, "GET", "/me").status_code in (401, 403)
    assert f"{leaver}\tuser\t-\tdisabled" in labworks("users", "list", home=platform.home).stdout
    refused = labworks("token", leaver, home=platform.home, check=False)
    assert refused.returncode == 1 and "is disabled" in refused.stderr
    labworks("users", "enable", leaver, home=platform.home, env=NO_TOKEN)
    assert f"{leaver}\tuser\t-\n" in labworks("users", "list", home=platform.home).stdout

    moved = labworks("users", "transfer", leaver, "--to", heir, "--json", home=platform.home,
                     env=NO_TOKEN)  # fmt: skip
    assert set(json.loads(moved.stdout)["moved"]) >= {"datasets", "experiments", "jobs"}
    deleted = labworks("users", "delete", leaver, "--yes", home=platform.home, env=NO_TOKEN)
    assert deleted.stdout.startswith(f"Deleted {leaver!r}")
    assert leaver not in labworks("users", "list", home=platform.home).stdout
