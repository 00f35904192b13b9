"""``/labworks/datasets/...`` (the Data panel's routes) against a real jupyter_server with the
extension, forwarding over real HTTP to a recording fake platform service."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import IDP_USER, JobsPlatform, answer_of


@pytest.fixture
def platform_api_url(jobs_platform: JobsPlatform) -> str:
    return jobs_platform.url


@pytest.fixture(autouse=True)
def owner(workspace_env: pytest.MonkeyPatch) -> str:
    """The test token's user owns the workspace (these routes are the owner's)."""
    workspace_env.setenv("JUPYTERHUB_USER", IDP_USER)
    return IDP_USER


VERSION = {
    "number": 2,
    "digest": "sha256:" + "a" * 64,
    "size": 30,
    "file_count": 2,
    "message": "more rows",
    "created_by": "alice-idp",
    "created_at": "2026-11-23T20:00:00Z",
}
DATASET = {
    "ref": "alice-idp/iris",
    "owner": "alice-idp",
    "name": "iris",
    "description": "",
    "visibility": "private",
    "yours": True,
    "latest_version": 2,
    "created_at": "2026-11-23T19:00:00Z",
    "updated_at": "2026-11-23T20:00:00Z",
    "versions": [],
}
FILES = [
    {"path": "test.csv", "sha256": "b" * 64, "size": 10},
    {"path": "train.csv", "sha256": "c" * 64, "size": 20},
]


async def test_lists_the_datasets_i_may_read_with_my_token(
    lab: Any, jobs_platform: JobsPlatform, hub_token: str
) -> None:
    listing = {"datasets": [DATASET]}
    jobs_platform.answer("GET", "/datasets", listing)
    reply = await lab("GET", "datasets")
    narrowed = await lab("GET", "datasets?owner=bob%20b")

    assert reply.code == 200
    assert answer_of(reply) == listing
    assert answer_of(narrowed) == listing
    first, second = jobs_platform.sent
    assert first.query == []
    assert second.query == [("owner", "bob b")]
    assert first.authorization == f"token {hub_token}"


async def test_a_dataset_comes_with_its_versions_and_a_version_with_its_files(
    lab: Any, jobs_platform: JobsPlatform
) -> None:
    detail = {**DATASET, "versions": [VERSION]}
    version = {**VERSION, "ref": "alice-idp/iris", "files": FILES}
    jobs_platform.answer("GET", "/datasets/alice-idp/iris", detail)
    jobs_platform.answer("GET", "/datasets/alice-idp/iris/versions/2", version)
    jobs_platform.answer("GET", "/datasets/alice-idp/iris/versions/latest", version)

    assert answer_of(await lab("GET", "datasets/alice-idp/iris")) == detail
    assert answer_of(await lab("GET", "datasets/alice-idp/iris/versions/2")) == version
    assert answer_of(await lab("GET", "datasets/alice-idp/iris/versions/latest")) == version


@pytest.mark.parametrize(
    "path", ["datasets/alice-idp/iris/versions/0", "datasets/alice-idp/.hidden", "datasets/a/b/c"]
)
async def test_a_malformed_name_or_version_never_reaches_the_platform(
    lab: Any, jobs_platform: JobsPlatform, path: str
) -> None:
    reply = await lab("GET", path)
    assert reply.code == 404
    assert jobs_platform.sent == []


async def test_a_dataset_i_may_not_read_is_the_platforms_404(
    lab: Any, jobs_platform: JobsPlatform
) -> None:
    message = "no dataset bob/secret"
    jobs_platform.answer(
        "GET", "/datasets/bob/secret", {"error": "not_found", "message": message}, 404
    )
    reply = await lab("GET", "datasets/bob/secret")
    assert reply.code == 404
    assert answer_of(reply) == {"error": "not_found", "message": message}


async def test_reads_and_changes_who_sees_a_dataset(
    lab: Any, jobs_platform: JobsPlatform, hub_token: str
) -> None:
    jobs_platform.answer("GET", "/datasets/alice-idp/iris", DATASET)
    jobs_platform.answer(
        "PUT", "/datasets/alice-idp/iris/visibility", {**DATASET, "visibility": "group:ml"}
    )
    read = await lab("GET", "datasets/alice-idp/iris/visibility")
    changed = await lab("PUT", "datasets/alice-idp/iris/visibility", {"visibility": "group:ml"})

    assert {k: answer_of(read)[k] for k in ("owner", "visibility", "yours")} == {
        "owner": "alice-idp",
        "visibility": "private",
        "yours": True,
    }
    assert answer_of(changed)["visibility"] == "group:ml"
    sent = jobs_platform.only("PUT", "/datasets/alice-idp/iris/visibility")
    assert sent.body == {"visibility": "group:ml"}
    assert sent.authorization == f"token {hub_token}"


async def test_only_the_workspace_owner_may_see_datasets(
    lab: Any, jobs_platform: JobsPlatform, workspace_env: pytest.MonkeyPatch
) -> None:
    workspace_env.setenv("JUPYTERHUB_USER", "someone-else")
    for path in ("datasets", "datasets/alice-idp/iris", "datasets/alice-idp/iris/versions/1"):
        reply = await lab("GET", path)
        assert reply.code == 403
        assert "only someone-else, who owns this workspace" in answer_of(reply)["message"]
    assert jobs_platform.sent == []
