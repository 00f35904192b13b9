"""Versioned datasets through the real platform's REST API, as three users: the owner uploads
blobs (checked against their sha256) and pushes versions (manifests of held blobs); a dataset
is private until shared, a group or everyone then reads it (versions and file contents) but
never writes; delete removes the versions and the stored blobs."""

from __future__ import annotations

import hashlib

import httpx
import pytest

from tests.platform import API

pytestmark = pytest.mark.e2e
TRAIN = b"sepal,petal\n5.1,1.4\n4.9,1.4\n"
TEST = b"sepal,petal\n6.3,6.0\n"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def people(platform):
    platform.add_user("dpana", "--group", "dpteam")
    platform.add_user("dpben", "--group", "dpteam")
    platform.add_user("dpcal", "--group", "dpothers")
    return {name: platform.token(name) for name in ("dpana", "dpben", "dpcal")}


@pytest.fixture(scope="module")
def client(platform):
    with httpx.Client(base_url=platform.url + API, timeout=60) as c:
        yield c


def call(client, token, method, path, **kwargs) -> httpx.Response:
    headers = {"Authorization": f"token {token}", **kwargs.pop("headers", {})}
    return client.request(method, path, headers=headers, **kwargs)


def upload(client, token, ref: str, data: bytes) -> httpx.Response:
    return call(
        client, token, "PUT", f"/datasets/{ref}/blobs/{sha(data)}", content=data,
        headers={"Content-Type": "application/octet-stream"},
    )  # fmt: skip


MANIFEST = {
    "files": [
        {"path": "train.csv", "sha256": sha(TRAIN), "size": len(TRAIN)},
        {"path": "eval/test.csv", "sha256": sha(TEST), "size": len(TEST)},
    ],
    "message": "first cut",
    "description": "Fisher's iris, split",
}


@pytest.fixture(scope="module")
def pushed(client, people) -> dict:
    """dpana's dataset dpana/ds-iris, version 1 with two files, private."""
    token = people["dpana"]
    missing = call(client, token, "POST", "/datasets/dpana/ds-iris/blobs/missing",
                   json={"sha256": [sha(TRAIN), sha(TEST)]})  # fmt: skip
    assert missing.status_code == 200, missing.text
    assert missing.json() == {"missing": [sha(TRAIN), sha(TEST)]}
    for data in (TRAIN, TEST):
        stored = upload(client, token, "dpana/ds-iris", data)
        assert stored.status_code == 201, stored.text
        assert stored.json() == {"sha256": sha(data), "size": len(data)}
    again = upload(client, token, "dpana/ds-iris", TRAIN)
    assert again.status_code == 200, again.text
    after = call(client, token, "POST", "/datasets/dpana/ds-iris/blobs/missing",
                 json={"sha256": [sha(TRAIN), sha(b"other")]})  # fmt: skip
    assert after.json() == {"missing": [sha(b"other")]}
    version = call(client, token, "POST", "/datasets/dpana/ds-iris/versions", json=MANIFEST)
    assert version.status_code == 201, version.text
    return version.json()


def test_every_route_needs_a_hub_token(client, pushed):
    for method, path in [
        ("GET", "/datasets"),
        ("GET", "/datasets/dpana/ds-iris"),
        ("GET", f"/datasets/dpana/ds-iris/blobs/{sha(TRAIN)}"),
        ("DELETE", "/datasets/dpana/ds-iris"),
    ]:
        answer = client.request(method, path)
        assert answer.status_code == 401, (method, path)
        assert answer.json()["error"] == "unauthorized"


def test_the_owner_pushes_a_version_and_reads_it_back(client, people, pushed):
    token = people["dpana"]
    text = f"eval/test.csv\t{sha(TEST)}\t{len(TEST)}\ntrain.csv\t{sha(TRAIN)}\t{len(TRAIN)}\n"
    assert pushed["ref"] == "dpana/ds-iris" and pushed["number"] == 1
    assert pushed["digest"] == "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    assert [f["path"] for f in pushed["files"]] == ["eval/test.csv", "train.csv"]
    assert (pushed["size"], pushed["file_count"]) == (len(TRAIN) + len(TEST), 2)
    assert (pushed["message"], pushed["created_by"]) == ("first cut", "dpana")
    dataset = call(client, token, "GET", "/datasets/dpana/ds-iris").json()
    assert dataset["description"] == "Fisher's iris, split"
    assert (dataset["visibility"], dataset["yours"], dataset["latest_version"]) == (
        "private", True, 1,
    )  # fmt: skip
    assert [v["number"] for v in dataset["versions"]] == [1]
    latest = call(client, token, "GET", "/datasets/dpana/ds-iris/versions/latest").json()
    assert latest == pushed
    blob = call(client, token, "GET", f"/datasets/dpana/ds-iris/blobs/{sha(TRAIN)}")
    assert blob.status_code == 200 and blob.content == TRAIN
    assert blob.headers["content-type"] == "application/octet-stream"
    assert blob.headers["content-length"] == str(len(TRAIN))
    missing = call(client, token, "GET", "/datasets/dpana/ds-iris/versions/2")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"


def test_the_same_manifest_again_is_the_same_version(client, people, pushed):
    token = people["dpana"]
    again = call(client, token, "POST", "/datasets/dpana/ds-iris/versions", json=MANIFEST)
    assert again.status_code == 200, again.text
    assert (again.json()["number"], again.json()["digest"]) == (1, pushed["digest"])


def test_a_body_that_is_not_its_sha256_is_refused(client, people, pushed):
    token = people["dpana"]
    answer = call(
        client, token, "PUT", f"/datasets/dpana/ds-iris/blobs/{sha(b'expected')}",
        content=b"something else",
        headers={"Content-Type": "application/octet-stream"},
    )  # fmt: skip
    assert answer.status_code == 400
    assert answer.json()["error"] == "digest_mismatch"
    listed = call(client, token, "POST", "/datasets/dpana/ds-iris/blobs/missing",
                  json={"sha256": [sha(b"expected")]})  # fmt: skip
    assert listed.json() == {"missing": [sha(b"expected")]}


def test_a_version_needs_every_blob_uploaded(client, people, pushed):
    manifest = {"files": [{"path": "new.csv", "sha256": sha(b"never sent"), "size": 10}]}
    answer = call(client, people["dpana"], "POST", "/datasets/dpana/ds-iris/versions",
                  json=manifest)  # fmt: skip
    assert answer.status_code == 400
    assert answer.json()["error"] == "missing_blobs"
    assert "new.csv" in answer.json()["message"]
    bad = {"files": [{"path": "../up.csv", "sha256": sha(TRAIN), "size": len(TRAIN)}]}
    refused = call(client, people["dpana"], "POST", "/datasets/dpana/ds-iris/versions", json=bad)
    assert refused.status_code == 400 and "'..'" in refused.json()["message"]


def test_others_cannot_see_a_private_dataset(client, people, pushed):
    token = people["dpben"]
    assert call(client, token, "GET", "/datasets/dpana/ds-iris").status_code == 404
    assert call(client, token, "GET", "/datasets/dpana/ds-iris/versions/1").status_code == 404
    blob = call(client, token, "GET", f"/datasets/dpana/ds-iris/blobs/{sha(TRAIN)}")
    assert blob.status_code == 404
    refs = [x["ref"] for x in call(client, token, "GET", "/datasets").json()["datasets"]]
    assert "dpana/ds-iris" not in refs
    push = call(client, token, "POST", "/datasets/dpana/ds-iris/versions", json=MANIFEST)
    assert push.status_code == 403
    assert upload(client, token, "dpana/ds-iris", TEST).status_code == 403


def test_sharing_with_a_group_gives_read_never_write(client, people, pushed):
    owner, ben, cal = people["dpana"], people["dpben"], people["dpcal"]
    not_mine = call(client, owner, "PUT", "/datasets/dpana/ds-iris/visibility",
                    json={"visibility": "group:dpothers"})  # fmt: skip
    assert not_mine.status_code == 403 and "not a member of group" in not_mine.json()["message"]
    shared = call(client, owner, "PUT", "/datasets/dpana/ds-iris/visibility",
                  json={"visibility": "group:dpteam"})  # fmt: skip
    assert shared.status_code == 200 and shared.json()["visibility"] == "group:dpteam"
    try:
        listed = call(client, ben, "GET", "/datasets", params={"owner": "dpana"}).json()
        assert [(x["ref"], x["yours"], x["versions"]) for x in listed["datasets"]] == [
            ("dpana/ds-iris", False, []),
        ]
        version = call(client, ben, "GET", "/datasets/dpana/ds-iris/versions/1")
        assert version.status_code == 200 and version.json()["digest"] == pushed["digest"]
        blob = call(client, ben, "GET", f"/datasets/dpana/ds-iris/blobs/{sha(TEST)}")
        assert blob.status_code == 200 and blob.content == TEST
        assert call(client, cal, "GET", "/datasets/dpana/ds-iris").status_code == 404
        for method, path, body in [
            ("POST", "/datasets/dpana/ds-iris/versions", MANIFEST),
            ("PUT", "/datasets/dpana/ds-iris/visibility", {"visibility": "public"}),
            ("POST", "/datasets/dpana/ds-iris/blobs/missing", {"sha256": [sha(TRAIN)]}),
            ("DELETE", "/datasets/dpana/ds-iris", None),
        ]:
            answer = call(client, ben, method, path, json=body)
            assert answer.status_code == 403, (method, path, answer.text)
            assert answer.json()["error"] == "forbidden"
        public = call(client, owner, "PUT", "/datasets/dpana/ds-iris/visibility",
                      json={"visibility": "public"})  # fmt: skip
        assert public.json()["visibility"] == "public"
        seen = call(client, cal, "GET", "/datasets/dpana/ds-iris")
        assert seen.status_code == 200 and seen.json()["yours"] is False
    finally:
        call(client, owner, "PUT", "/datasets/dpana/ds-iris/visibility",
             json={"visibility": "private"})  # fmt: skip


def test_only_listed_blobs_can_be_downloaded(client, people, pushed):
    token = people["dpana"]
    loose = b"uploaded, in no version"
    assert upload(client, token, "dpana/ds-iris", loose).status_code == 201
    answer = call(client, token, "GET", f"/datasets/dpana/ds-iris/blobs/{sha(loose)}")
    assert answer.status_code == 404


def test_delete_removes_versions_and_blobs(client, people):
    token = people["dpana"]
    data = b"short-lived\n"
    assert upload(client, token, "dpana/ds-gone", data).status_code == 201
    manifest = {"files": [{"path": "x.txt", "sha256": sha(data), "size": len(data)}]}
    made = call(client, token, "POST", "/datasets/dpana/ds-gone/versions", json=manifest)
    assert made.status_code == 201
    assert call(client, token, "DELETE", "/datasets/dpana/ds-gone").status_code == 204
    assert call(client, token, "GET", "/datasets/dpana/ds-gone").status_code == 404
    missing = call(client, token, "POST", "/datasets/dpana/ds-gone/blobs/missing",
                   json={"sha256": [sha(data)]})  # fmt: skip
    assert missing.json() == {"missing": [sha(data)]}
    assert call(client, token, "DELETE", "/datasets/dpana/ds-gone").status_code == 404
