"""Administration of people and groups on the real platform, over the REST API: admins only;
a new member shares with the group at once; disabling stops servers, tokens, jobs and logins
at once; a leaver's things are handed over; a deleted user leaves a tombstone; a deleted
group's shares become private. Every test makes its own users and groups."""

from __future__ import annotations

import hashlib
import re
import secrets

import httpx
import pytest

from tests.integration.test_jobs import call, notebook, submit, wait_job
from tests.integration.test_sharing import start_workspace
from tests.platform import labworks

pytestmark = pytest.mark.e2e
TRACKING = "/services/labworks/mlflow/api/2.0/mlflow"
RARE_CRON = "0 0 29 2 *"  # Feb 29: never fires while the tests run
SWEPT = notebook("import time; time.sleep(600)", parameters="x = 0.0")
BLOB = b"x,y\n1,2\n"
SHA = hashlib.sha256(BLOB).hexdigest()


def fresh(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(3)}"


@pytest.fixture(scope="module")
def admin(platform) -> str:
    name = fresh("adm")
    platform.add_user(name, "--admin")
    return platform.token(name)


def user(platform, *flags: str) -> tuple[str, str, str]:
    """A new user: (name, password, token)."""
    name = fresh("u")
    password = platform.add_user(name, *flags)
    return name, password, platform.token(name)


def ok(reply: httpx.Response, status: int = 200) -> dict:
    assert reply.status_code == status, reply.text
    return reply.json() if reply.content else {}


def login(platform, name: str, password: str) -> bool:
    """Whether the hub's login form lets `name` in."""
    with httpx.Client(base_url=platform.url, timeout=60) as client:
        client.get("/hub/login")
        form = {"username": name, "password": password, "_xsrf": client.cookies.get("_xsrf", "")}
        reply = client.post("/hub/login", data=form, follow_redirects=False)
    return reply.status_code == 302


def experiment(platform, token: str) -> str:
    headers = {"Authorization": f"token {token}"}
    url = platform.url + TRACKING + "/experiments/create"
    found = httpx.post(url, timeout=60, headers=headers, json={"name": fresh("exp")})
    return ok(found)["experiment_id"]


def dataset(platform, owner: str, token: str) -> str:
    name = fresh("ds")
    base = f"/datasets/{owner}/{name}"
    ok(call(platform, token, "PUT", f"{base}/blobs/{SHA}", content=BLOB,
            headers={"Content-Type": "application/octet-stream"}), 201)  # fmt: skip
    manifest = {"files": [{"path": "data.csv", "sha256": SHA, "size": len(BLOB)}]}
    ok(call(platform, token, "POST", f"{base}/versions", json=manifest), 201)
    return name


def test_only_admins_may_use_the_admin_routes(platform, admin):
    name, _, token = user(platform)
    routes = [("GET", "/admin/users"), ("POST", f"/admin/users/{name}/disable"),
              ("POST", f"/admin/users/{name}/enable"), ("DELETE", f"/admin/users/{name}"),
              ("POST", f"/admin/users/{name}/transfer"), ("GET", "/admin/groups"),
              ("POST", "/admin/groups"), ("DELETE", "/admin/groups/g"),
              ("PUT", f"/admin/groups/g/members/{name}"),
              ("DELETE", f"/admin/groups/g/members/{name}")]  # fmt: skip
    for method, path in routes:
        body = {"json": {"to": name, "name": "g"}} if method == "POST" else {}
        refused = call(platform, token, method, path, **body)
        assert refused.status_code == 403, (method, path, refused.text)
        assert refused.json() == {
            "error": "forbidden", "message": "only administrators may manage users and groups"
        }  # fmt: skip
        assert call(platform, None, method, path, **body).status_code == 401
    listed = ok(call(platform, admin, "GET", "/admin/users"))["users"]
    mine = next(u for u in listed if u["name"] == name)
    assert mine["admin"] is False and mine["groups"] == [] and mine["disabled"] is False
    assert mine["created_at"]


def test_a_new_member_shares_with_the_group_at_once(platform, admin):
    name, _, token = user(platform)
    reader, _, reader_token = user(platform)
    group = fresh("team")
    exp = experiment(platform, token)
    share = {"visibility": f"group:{group}"}
    assert ok(call(platform, token, "GET", "/me"))["groups"] == []  # what the service now knows
    refused = call(platform, token, "PUT", f"/experiments/{exp}/visibility", json=share)
    assert refused.status_code == 403, refused.text

    assert ok(call(platform, admin, "POST", "/admin/groups", json={"name": group}), 201) == {
        "name": group, "members": []
    }  # fmt: skip
    again = call(platform, admin, "POST", "/admin/groups", json={"name": group})
    assert again.status_code == 409 and group in again.json()["message"]
    bad = call(platform, admin, "POST", "/admin/groups", json={"name": "Not Valid"})
    assert bad.status_code == 400 and "invalid group name" in bad.json()["message"]
    for member in (name, name, reader):  # adding twice is fine
        added = ok(call(platform, admin, "PUT", f"/admin/groups/{group}/members/{member}"))
    assert added == {"name": group, "members": sorted([name, reader])}

    assert ok(call(platform, token, "GET", "/me"))["groups"] == [group]  # no new login
    shared = ok(call(platform, token, "PUT", f"/experiments/{exp}/visibility", json=share))
    assert shared["visibility"] == f"group:{group}"
    assert ok(call(platform, reader_token, "GET", f"/experiments/{exp}"))["owner"] == name
    hub = httpx.get(f"{platform.url}/hub/api/groups/{group}", timeout=30,
                    headers={"Authorization": f"token {admin}"})  # fmt: skip
    assert sorted(ok(hub)["users"]) == sorted([name, reader])  # mirrored into the hub

    for _ in range(2):
        gone = ok(call(platform, admin, "DELETE", f"/admin/groups/{group}/members/{reader}"))
    assert gone["members"] == [name]
    assert ok(call(platform, reader_token, "GET", "/me"))["groups"] == []
    assert call(platform, reader_token, "GET", f"/experiments/{exp}").status_code == 404
    listed = ok(call(platform, admin, "GET", "/admin/groups"))["groups"]
    assert {"name": group, "members": [name]} in listed


def test_disabling_stops_servers_tokens_jobs_and_logins_at_once(platform, admin):
    name, password, token = user(platform)
    assert login(platform, name, password)
    start_workspace(platform, name)
    job = submit(platform, token, notebook("import time; time.sleep(600)"), timeout=900)
    schedule = ok(call(platform, token, "POST", "/schedules",
                       json={"content": notebook("1"), "cron": RARE_CRON}), 201)  # fmt: skip
    sweep = ok(call(platform, token, "POST", "/sweeps", json={
        "content": SWEPT, "space": {"x": {"type": "float", "low": 0, "high": 1}},
        "metric": "m", "sampler": "random", "trials": 50,
    }), 201)  # fmt: skip
    assert ok(call(platform, token, "GET", "/me"))["name"] == name  # the service knows the token

    disabled = ok(call(platform, admin, "POST", f"/admin/users/{name}/disable"))
    assert disabled["disabled"] is True and disabled["name"] == name
    assert call(platform, token, "GET", "/me").status_code in (401, 403)
    lab = httpx.get(f"{platform.url}/user/{name}/api/contents", timeout=30,
                    headers={"Authorization": f"token {token}"})  # fmt: skip
    assert lab.status_code != 200
    hub = httpx.get(f"{platform.url}/hub/api/users/{name}", timeout=30,
                    headers={"Authorization": f"token {admin}"})  # fmt: skip
    assert hub.status_code == 404  # no server, no token, no login session left in the hub
    assert not login(platform, name, password)
    listed = labworks("users", "list", home=platform.home).stdout
    assert re.search(rf"^{name}\tuser\t-\tdisabled$", listed, re.M), listed

    ok(call(platform, admin, "POST", f"/admin/users/{name}/enable"))
    assert login(platform, name, password)
    token = platform.token(name)
    assert wait_job(platform, token, job["id"])["status"] == "cancelled"
    paused = ok(call(platform, token, "GET", f"/schedules/{schedule['id']}"))
    assert paused["paused"] is True and paused["next_run_at"] is None
    stopped = ok(call(platform, token, "GET", f"/sweeps/{sweep['id']}"))
    assert stopped["status"] == "stopped" and "account was shut" in stopped["reason"]


def test_transfer_hands_a_leavers_things_to_another_user(platform, admin):
    leaver, _, leaver_token = user(platform)
    heir, _, heir_token = user(platform)
    name = dataset(platform, leaver, leaver_token)
    exp = experiment(platform, leaver_token)
    assert call(platform, heir_token, "GET", f"/experiments/{exp}").status_code == 404
    ok(call(platform, admin, "DELETE", f"/admin/users/{leaver}"), 204)

    moved = ok(call(platform, admin, "POST", f"/admin/users/{leaver}/transfer",
                    json={"to": heir}))["moved"]  # fmt: skip
    assert moved["datasets"] == 1 and moved["experiments"] == 1
    assert set(moved) >= {"experiments", "models", "datasets", "gallery", "jobs", "schedules"}
    found = ok(call(platform, heir_token, "GET", f"/experiments/{exp}"))
    assert found["owner"] == heir and found["yours"] is True
    assert ok(call(platform, heir_token, "GET", f"/datasets/{heir}/{name}"))["owner"] == heir
    blob = call(platform, heir_token, "GET", f"/datasets/{heir}/{name}/blobs/{SHA}")
    assert blob.status_code == 200 and blob.content == BLOB  # the files moved too
    assert call(platform, heir_token, "GET", f"/datasets/{leaver}/{name}").status_code == 404

    to_self = call(platform, admin, "POST", f"/admin/users/{heir}/transfer", json={"to": heir})
    assert to_self.status_code == 400
    nobody = call(platform, admin, "POST", f"/admin/users/{heir}/transfer", json={"to": "zz-no"})
    assert nobody.status_code == 404 and nobody.json()["message"] == "no user 'zz-no'"


def test_a_deleted_user_leaves_a_tombstone(platform, admin):
    name, password, _ = user(platform)
    for _ in range(2):
        ok(call(platform, admin, "DELETE", f"/admin/users/{name}"), 204)
    assert name not in {
        u["name"] for u in ok(call(platform, admin, "GET", "/admin/users"))["users"]
    }
    assert not login(platform, name, password)
    again = labworks("users", "add", name, home=platform.home, check=False)
    assert again.returncode == 1
    assert "was deleted; a deleted user's name cannot be used again" in again.stderr
    me = ok(call(platform, admin, "GET", "/me"))["name"]
    yourself = call(platform, admin, "DELETE", f"/admin/users/{me}")
    assert yourself.status_code == 409 and "yourself" in yourself.json()["message"]
    missing = call(platform, admin, "DELETE", "/admin/users/zz-never")
    assert missing.status_code == 404


def test_deleting_a_group_makes_what_was_shared_with_it_private(platform, admin):
    group = fresh("gone")
    ok(call(platform, admin, "POST", "/admin/groups", json={"name": group}), 201)
    owner, _, owner_token = user(platform, "--group", group)
    _, _, member_token = user(platform, "--group", group)
    share = {"visibility": f"group:{group}"}
    name = dataset(platform, owner, owner_token)
    exp = experiment(platform, owner_token)
    ok(call(platform, owner_token, "PUT", f"/datasets/{owner}/{name}/visibility", json=share))
    ok(call(platform, owner_token, "PUT", f"/experiments/{exp}/visibility", json=share))
    ok(call(platform, member_token, "GET", f"/datasets/{owner}/{name}"))
    ok(call(platform, member_token, "GET", f"/experiments/{exp}"))

    ok(call(platform, admin, "DELETE", f"/admin/groups/{group}"), 204)
    assert call(platform, member_token, "GET", f"/datasets/{owner}/{name}").status_code == 404
    assert call(platform, member_token, "GET", f"/experiments/{exp}").status_code == 404
    kept = ok(call(platform, owner_token, "GET", f"/datasets/{owner}/{name}"))
    assert kept["visibility"] == "private"
    assert ok(call(platform, owner_token, "GET", f"/experiments/{exp}"))["visibility"] == "private"
    assert call(platform, admin, "DELETE", f"/admin/groups/{group}").status_code == 404
