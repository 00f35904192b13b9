"""Workspace sharing and the notebook gallery against the real platform: a real hub, real
workspace servers and kernels, the platform API, the server extension and the CLI."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import httpx
import nbformat
import pytest

from tests.kernel_client import run_code
from tests.platform import API, auth, labworks, wait_for_lab

pytestmark = pytest.mark.e2e
# Workspace servers re-check a visitor's token with the hub every 10 s (hub_auth_cache_seconds).
PROPAGATION = 45


def start_workspace(platform, user: str) -> str:
    token = platform.token(user)
    url = f"{platform.url}/hub/api/users/{user}/server"
    reply = httpx.post(url, headers=auth(token), timeout=60)
    assert reply.status_code in (201, 202), reply.text
    wait_for_lab(platform.url, user, token)
    return token


def eventually(check: Callable[[], int], wanted: set[int], timeout: float = PROPAGATION) -> int:
    """Poll `check()` (an HTTP status) until it is in `wanted`; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        status = check()
        if status in wanted:
            return status
        assert time.monotonic() < deadline, f"status stayed {status}, wanted {wanted}"
        time.sleep(0.5)


def contents_status(platform, owner: str, token: str) -> int:
    url = f"{platform.url}/user/{owner}/api/contents"
    return httpx.get(url, headers=auth(token), timeout=30, follow_redirects=False).status_code


def notebook(*sources: str) -> dict:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"c{i}"
    return json.loads(nbformat.writes(nb))


# --- sharing -------------------------------------------------------------------------------


def test_shared_user_opens_and_runs_code_until_revoked_and_sees_nothing_else(platform):
    platform.add_user("sara", "--group", "optics")
    platform.add_user("sven")
    platform.add_user("sid")
    sara = start_workspace(platform, "sara")
    sven, sid = platform.token("sven"), platform.token("sid")
    api = platform.url + API

    assert contents_status(platform, "sara", sven) == 403
    assert httpx.get(api + "/shares", headers=auth(sara)).json() == {
        "owner": "sara", "url": "/user/sara/lab", "shares": [],
    }  # fmt: skip

    shared = httpx.post(api + "/shares", headers=auth(sara), json={"user": "sven"})
    assert shared.status_code == 201, shared.text
    assert shared.json()["kind"] == "user" and shared.json()["name"] == "sven"
    assert shared.json()["url"] == "/user/sara/lab"
    listed = httpx.get(api + "/shares", headers=auth(sara)).json()["shares"]
    assert [(s["kind"], s["name"]) for s in listed] == [("user", "sven")]

    # sven opens sara's workspace and runs code in it; sid still cannot.
    eventually(lambda: contents_status(platform, "sara", sven), {200})
    kernel = httpx.post(f"{platform.url}/user/sara/api/kernels", headers=auth(sven), timeout=60)
    assert kernel.status_code == 201, kernel.text
    kernel_url = f"{platform.url}/user/sara/api/kernels/{kernel.json()['id']}"
    out = run_code(
        kernel_url.replace("http://", "ws://") + "/channels", sven,
        "import os; print(os.environ['JUPYTERHUB_USER'], 6 * 7)",
    )  # fmt: skip
    assert out.split() == ["sara", "42"]
    assert contents_status(platform, "sara", sid) == 403

    # ... and nothing else of sara's: not her shares, not her Labworks routes.
    hub_shares = httpx.get(f"{platform.url}/hub/api/shares/sara/", headers=auth(sven))
    assert hub_shares.status_code in (403, 404)
    own = httpx.get(api + "/shares", headers=auth(sven)).json()
    assert own["owner"] == "sven" and own["shares"] == []
    for method, path in (("GET", "shares"), ("GET", "gallery")):
        reply = httpx.request(
            method, f"{platform.url}/user/sara/labworks/{path}", headers=auth(sven), timeout=30
        )
        assert reply.status_code == 403, (path, reply.text)
        assert "only sara, who owns this workspace" in reply.json()["message"]
    stolen = httpx.post(
        f"{platform.url}/user/sara/labworks/shares", headers=auth(sven), json={"user": "sid"}
    )
    assert stolen.status_code == 403

    # Revoke: gone from the list, and sven's access ends within seconds.
    revoked = httpx.delete(api + "/shares/user/sven", headers=auth(sara))
    assert revoked.status_code == 204
    assert httpx.get(api + "/shares", headers=auth(sara)).json()["shares"] == []
    eventually(lambda: contents_status(platform, "sara", sven), {403})
    again = httpx.delete(api + "/shares/user/sven", headers=auth(sara))
    assert again.status_code == 404
    assert again.json()["message"] == "your workspace is not shared with user 'sven'"
    httpx.delete(kernel_url, headers=auth(sara), timeout=60)


def test_group_share_admits_members_until_revoked(platform):
    platform.add_user("sonia")
    platform.add_user("stan", "--group", "acoustics")
    platform.add_user("sky")
    sonia = start_workspace(platform, "sonia")
    stan, sky = platform.token("stan"), platform.token("sky")
    api = platform.url + API

    reply = httpx.post(api + "/shares", headers=auth(sonia), json={"group": "acoustics"})
    assert reply.status_code == 201, reply.text
    listed = httpx.get(api + "/shares", headers=auth(sonia)).json()["shares"]
    assert [(s["kind"], s["name"]) for s in listed] == [("group", "acoustics")]
    eventually(lambda: contents_status(platform, "sonia", stan), {200})
    assert contents_status(platform, "sonia", sky) == 403

    assert httpx.delete(api + "/shares/group/acoustics", headers=auth(sonia)).status_code == 204
    eventually(lambda: contents_status(platform, "sonia", stan), {403})


def test_sharing_refuses_bad_requests_clearly(platform):
    platform.add_user("saul")
    platform.add_user("selma")
    api = platform.url + API
    selma = platform.token("selma")

    # A workspace that never ran can be shared already: it opens to saul once it runs.
    early = httpx.post(api + "/shares", headers=auth(selma), json={"user": "saul"})
    assert early.status_code == 201, early.text
    assert [
        s["name"] for s in httpx.get(api + "/shares", headers=auth(selma)).json()["shares"]
    ] == ["saul"]
    assert httpx.delete(api + "/shares/user/saul", headers=auth(selma)).status_code == 204

    saul = start_workspace(platform, "saul")
    cases = [
        ({"user": "ghost"}, 404, "no such user: 'ghost'"),
        ({"group": "phantoms"}, 404, "no such group: 'phantoms'"),
        ({"user": "saul"}, 400, "you cannot share your workspace with yourself"),
        ({"user": "Not A Name"}, 400, "invalid user name 'Not A Name'"),
        ({"user": "selma", "group": "x"}, 422, 'give exactly one of "user" or "group"'),
        ({}, 422, 'give exactly one of "user" or "group"'),
    ]
    for body, status, message in cases:
        reply = httpx.post(api + "/shares", headers=auth(saul), json=body)
        assert reply.status_code == status, (body, reply.text)
        assert message in reply.json()["message"], (body, reply.text)
    assert httpx.get(api + "/shares", headers=auth(saul)).json()["shares"] == []
    assert httpx.post(api + "/shares", json={"user": "selma"}).status_code == 401


def test_sharing_from_the_lab_and_from_the_cli(platform):
    platform.add_user("sam")
    platform.add_user("seth")
    sam = start_workspace(platform, "sam")
    lab = f"{platform.url}/user/sam/labworks/shares"

    # The lab's route uses the workspace server's own token (shares!server).
    created = httpx.post(lab, headers=auth(sam), json={"user": "seth"}, timeout=30)
    assert created.status_code == 201, created.text
    assert created.json()["url"] == "/user/sam/lab"
    listed = httpx.get(lab, headers=auth(sam), timeout=30).json()
    assert [(s["kind"], s["name"]) for s in listed["shares"]] == [("user", "seth")]
    unknown = httpx.post(lab, headers=auth(sam), json={"user": "nobody"}, timeout=30)
    assert unknown.status_code == 404 and unknown.json()["message"] == "no such user: 'nobody'"
    gone = httpx.delete(f"{lab}/user/seth", headers=auth(sam), timeout=30)
    assert gone.status_code == 204
    assert httpx.get(lab, headers=auth(sam), timeout=30).json()["shares"] == []

    env = {"LABWORKS_URL": platform.url, "LABWORKS_TOKEN": sam}
    added = labworks("share", "add", "seth", home=platform.home, env=env)
    assert "Shared your workspace with user 'seth'" in added.stdout
    assert f"They open it at {platform.url}/user/sam/lab" in added.stdout
    listing = json.loads(labworks("share", "list", "--json", home=platform.home, env=env).stdout)
    assert [s["name"] for s in listing["shares"]] == ["seth"]
    revoked = labworks("share", "revoke", "seth", home=platform.home, env=env)
    assert "no longer shared with user 'seth'" in revoked.stdout
    empty = labworks("share", "list", home=platform.home, env=env)
    assert "not shared with anyone" in empty.stdout
    bad = labworks("share", "revoke", "seth", home=platform.home, env=env, check=False)
    assert bad.returncode == 1 and "not shared with user 'seth'" in bad.stderr
    both = labworks("share", "add", "seth", "--group", "g",
                    home=platform.home, env=env, check=False)  # fmt: skip
    assert both.returncode == 2 and "name one USER or one --group G" in both.stderr


# --- gallery -------------------------------------------------------------------------------


def test_gallery_versions_are_read_by_group_members_only(platform):
    platform.add_user("gia", "--group", "lens")
    platform.add_user("gus", "--group", "lens")
    platform.add_user("gil", "--group", "prism")
    gia, gus, gil = (platform.token(n) for n in ("gia", "gus", "gil"))
    api = platform.url + API

    def publish(token: str, content, group: str = "lens", message: str = "") -> httpx.Response:
        body = {"group": group, "name": "focus.ipynb", "content": content, "message": message}
        return httpx.post(api + "/gallery", headers=auth(token), json=body, timeout=60)

    first = publish(gia, notebook("import numpy as np", "f = 50"), message="first")
    assert first.status_code == 201, first.text
    entry_id = first.json()["entry"]["id"]
    assert first.json()["version"]["number"] == 1
    second = publish(gia, notebook("import numpy as np", "f = 85"), message="longer lens")
    assert second.json()["entry"]["id"] == entry_id
    assert second.json()["version"]["number"] == 2

    # gus, in the group, lists and reads both versions and their diff.
    entries = httpx.get(api + "/gallery", headers=auth(gus)).json()["entries"]
    assert [(e["id"], e["owner"], e["latest_version"]) for e in entries] == [(entry_id, "gia", 2)]
    shown = httpx.get(f"{api}/gallery/{entry_id}", headers=auth(gus)).json()
    assert [(v["number"], v["message"]) for v in shown["versions"]] == [
        (1, "first"), (2, "longer lens"),
    ]  # fmt: skip
    v1 = httpx.get(f"{api}/gallery/{entry_id}/versions/1", headers=auth(gus)).json()
    assert v1["content"]["cells"][1]["source"] == ["f = 50"]
    diff = httpx.get(
        f"{api}/gallery/{entry_id}/diff", params={"base": 1, "remote": 2}, headers=auth(gus)
    ).json()
    assert diff["text"] == "## modified /cells/1/source:\n-  f = 50\n+  f = 85\n\n"
    [cells] = diff["diff"]
    assert [d["key"] for d in cells["diff"]] == [1]

    # gil, not in the group, sees nothing and cannot publish there.
    assert httpx.get(api + "/gallery", headers=auth(gil)).json() == {"entries": []}
    for path in (f"/gallery/{entry_id}", f"/gallery/{entry_id}/versions/1",
                 f"/gallery/{entry_id}/diff?base=1&remote=2"):  # fmt: skip
        reply = httpx.get(api + path, headers=auth(gil))
        assert reply.status_code == 404, (path, reply.text)
        assert "no gallery entry" in reply.json()["message"]
    intruder = publish(gil, notebook("x = 1"))
    assert intruder.status_code == 403
    assert "not a member of group 'lens'" in intruder.json()["message"]
    assert httpx.delete(f"{api}/gallery/{entry_id}", headers=auth(gus)).status_code == 403

    # Bad input is a clear error and adds no version.
    malformed = publish(gia, {"nbformat": 4, "cells": "nope"})
    assert malformed.status_code == 400 and "notebook" in malformed.json()["message"]
    not_json = httpx.post(
        api + "/gallery", headers={**auth(gia), "Content-Type": "application/json"},
        content=b"{not json",
    )  # fmt: skip
    assert not_json.status_code == 400 and "not JSON" in not_json.json()["message"]
    same = publish(gia, notebook("import numpy as np", "f = 85"))
    assert same.status_code == 409 and "already has this exact content" in same.text
    huge = publish(gia, notebook("x = '" + "a" * (17 * 2**20) + "'"))
    assert huge.status_code == 413 and huge.json()["error"] == "too_large"
    assert "limit of 16.06 MiB" in huge.json()["message"]  # the notebook cap + 64 KiB envelope
    shown = httpx.get(f"{api}/gallery/{entry_id}", headers=auth(gia)).json()
    assert shown["latest_version"] == 2


def test_gallery_from_the_lab_and_the_cli(platform, tmp_path):
    platform.add_user("gwen", "--group", "optics-lab")
    platform.add_user("gabe", "--group", "optics-lab")
    gwen = start_workspace(platform, "gwen")
    server = f"{platform.url}/user/gwen"
    saved = httpx.put(
        f"{server}/api/contents/beam.ipynb", headers=auth(gwen), timeout=30,
        json={"type": "notebook", "content": notebook("w = 1")},
    )  # fmt: skip
    assert saved.status_code == 201, saved.text

    # Publish from the lab: the server extension reads the notebook by its path.
    lab = f"{server}/labworks/gallery"
    body = {"path": "beam.ipynb", "group": "optics-lab", "message": "from the lab"}
    published = httpx.post(lab, headers=auth(gwen), json=body, timeout=60)
    assert published.status_code == 201, published.text
    entry_id = published.json()["entry"]["id"]
    missing = httpx.post(lab, headers=auth(gwen), json={**body, "path": "nope.ipynb"}, timeout=30)
    assert missing.status_code == 404 and "no notebook at nope.ipynb" in missing.text
    not_nb = httpx.post(lab, headers=auth(gwen), json={**body, "path": "a.txt"}, timeout=30)
    assert not_nb.status_code == 400

    # A second version from the CLI, then list/show/diff/download as another member.
    local = tmp_path / "beam.ipynb"
    local.write_text(json.dumps(notebook("w = 2")))
    env = {"LABWORKS_URL": platform.url, "LABWORKS_TOKEN": gwen}
    out = labworks("gallery", "publish", str(local), "--group", "optics-lab", "-m", "wider",
                   home=platform.home, env=env).stdout  # fmt: skip
    assert f"Published beam.ipynb to optics-lab as version 2 (entry {entry_id})" in out
    gabe = {"LABWORKS_URL": platform.url, "LABWORKS_TOKEN": platform.token("gabe")}
    listing = labworks("gallery", "list", home=platform.home, env=gabe).stdout
    assert f"{entry_id}\toptics-lab\tbeam.ipynb\tgwen\tv2" in listing
    shown = labworks("gallery", "show", str(entry_id), home=platform.home, env=gabe).stdout
    assert "v1\t" in shown and "from the lab" in shown and "wider" in shown
    diff = labworks("gallery", "diff", str(entry_id), "1", "2", home=platform.home, env=gabe)
    assert "-  w = 1" in diff.stdout and "+  w = 2" in diff.stdout
    target = tmp_path / "copy.ipynb"
    labworks("gallery", "download", str(entry_id), "1", "-o", str(target),
             home=platform.home, env=gabe)  # fmt: skip
    assert nbformat.read(target, as_version=4).cells[0].source == "w = 1"
    broken = tmp_path / "broken.ipynb"
    broken.write_text('{"nbformat": 4, "cells": 7}')
    bad = labworks("gallery", "publish", str(broken), "--group", "optics-lab",
                   home=platform.home, env=env, check=False)  # fmt: skip
    assert bad.returncode == 1 and "(400)" in bad.stderr

    # Lab routes for reading, nbdime's files, and an editable copy in the workspace.
    entry = httpx.get(f"{lab}/{entry_id}", headers=auth(gwen), timeout=30).json()
    assert [v["number"] for v in entry["versions"]] == [1, 2]
    files = httpx.post(f"{lab}/{entry_id}/diff-files?base=1&remote=2", headers=auth(gwen))
    assert files.json() == {
        "base": f".labworks/gallery/{entry_id}/v1.ipynb",
        "remote": f".labworks/gallery/{entry_id}/v2.ipynb",
    }
    nbdime = httpx.post(
        f"{server}/nbdime/api/diff", headers=auth(gwen), json=files.json(), timeout=30
    )
    assert nbdime.status_code == 200, nbdime.text
    assert nbdime.json()["diff"][0]["key"] == "cells"
    copy = httpx.post(f"{lab}/{entry_id}/versions/1/copy", headers=auth(gwen), timeout=30)
    assert copy.status_code == 201 and copy.json()["path"] == "Gallery/optics-lab/beam-v1.ipynb"
    opened = httpx.get(f"{server}/api/contents/Gallery/optics-lab/beam-v1.ipynb",
                       headers=auth(gwen), timeout=30).json()  # fmt: skip
    assert opened["content"]["cells"][0]["source"] == "w = 1" and opened["writable"] is True
    again = httpx.post(f"{lab}/{entry_id}/versions/1/copy", headers=auth(gwen), timeout=30)
    assert again.status_code == 200 and again.json()["created"] is False

    deleted = labworks("gallery", "delete", str(entry_id), home=platform.home, env=env)
    assert f"Deleted gallery entry {entry_id}" in deleted.stdout
    assert "No notebooks" in labworks("gallery", "list", home=platform.home, env=gabe).stdout
