"""``labworks_server.workspace`` alone: parsing the spawner's environment, merging ``/me``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from labworks_server.workspace import (
    image_facts,
    link_facts,
    local_facts,
    profile_facts,
    viewer_facts,
    workspace_document,
)

STARTED = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("cpu", "expected"),
    [("2.0", 2.0), ("0.5", 0.5), ("0", None), ("-1", None), ("abc", None), ("nan", None),
     ("inf", None), ("", None), ("  4 ", 4.0)],
)  # fmt: skip
def test_cpu_limit(cpu: str, expected: float | None) -> None:
    assert profile_facts({"CPU_LIMIT": cpu})["cpu_limit"] == expected


@pytest.mark.parametrize(
    ("mem", "expected"),
    [("4294967296", 4294967296), ("4294967296.0", 4294967296), ("abc", None), ("4G", None),
     ("0", None), ("-5", None), ("1.5", None), ("", None)],
)  # fmt: skip
def test_mem_limit_is_whole_bytes_or_null(mem: str, expected: int | None) -> None:
    assert profile_facts({"MEM_LIMIT": mem})["mem_limit"] == expected


@pytest.mark.parametrize(
    ("gpus", "expected"), [(None, 0), ("0", 0), ("2", 2), ("-1", None), ("two", None)]
)
def test_gpu_count_absent_is_zero_garbage_is_null(gpus: str | None, expected: int | None) -> None:
    env = {} if gpus is None else {"LABWORKS_GPU_COUNT": gpus}
    assert profile_facts(env)["gpu_count"] == expected


def test_display_name_falls_back_to_slug() -> None:
    assert profile_facts({"LABWORKS_PROFILE": "cpu-small"})["display_name"] == "cpu-small"
    assert profile_facts({})["name"] is None


def test_image_local_when_empty_and_digest_validated() -> None:
    digest = "sha256:" + "0f" * 32
    assert image_facts({"LABWORKS_IMAGE": "", "LABWORKS_IMAGE_DIGEST": ""}) == {
        "name": None,
        "digest": None,
        "local": True,
    }
    assert image_facts({"LABWORKS_IMAGE": "r/i:1", "LABWORKS_IMAGE_DIGEST": digest}) == {
        "name": "r/i:1",
        "digest": digest,
        "local": False,
    }
    assert image_facts({"LABWORKS_IMAGE_DIGEST": "sha256:zz"})["digest"] is None


@pytest.mark.parametrize(
    ("base", "prefix"),
    [(None, "/"), ("/", "/"), ("/jh", "/jh/"), ("jh/", "/jh/"), ("/a b@c/", "/a b@c/")],
)
def test_links_follow_the_hub_base_url(base: str | None, prefix: str) -> None:
    env = {} if base is None else {"JUPYTERHUB_BASE_URL": base}
    assert link_facts(env) == {
        "hub_control_panel": f"{prefix}hub/home",
        "api_docs": f"{prefix}services/labworks/api/v1/docs",
    }


@pytest.mark.parametrize(("value", "expected"), [("3600", 3600), ("0", 0), ("x", None)])
def test_cull_timeout(value: str, expected: int | None) -> None:
    facts = local_facts({"LABWORKS_CULL_IDLE_TIMEOUT": value}, STARTED, STARTED)
    assert facts["idle_cull_timeout_seconds"] == expected


def test_started_at_and_uptime() -> None:
    facts = local_facts({}, STARTED, STARTED + timedelta(seconds=12.5))
    assert facts["started_at"] == "2026-11-23T09:00:00+00:00"
    assert facts["uptime_seconds"] == 12.5
    assert local_facts({}, STARTED, STARTED - timedelta(seconds=1))["uptime_seconds"] == 0


def test_naive_start_is_utc_and_other_zones_kept() -> None:
    naive = local_facts({}, STARTED.replace(tzinfo=None), STARTED)
    assert naive["started_at"] == "2026-11-23T09:00:00+00:00"
    cet = STARTED.astimezone(timezone(timedelta(hours=1)))
    assert local_facts({}, cet, STARTED)["uptime_seconds"] == 0


OWNER = viewer_facts("alice", "alice", may_write=True)


def test_document_with_platform_me() -> None:
    me = {"name": "alice", "groups": ["ml", 3], "admin": True, "version": "0.1.0"}
    doc = workspace_document("alice", OWNER, {"links": {}}, me=me)
    assert doc == {
        "user": "alice",
        "groups": ["ml"],
        "admin": True,
        "viewer": {"name": "alice", "is_owner": True, "access": "owner"},
        "links": {},
        "platform": {"reachable": True, "version": "0.1.0", "error": None},
    }


def test_document_when_platform_failed() -> None:
    doc = workspace_document("alice", OWNER, {}, me={"admin": True}, error="down")
    assert doc["user"] == "alice"
    assert doc["groups"] == []
    assert doc["admin"] is False
    assert doc["platform"] == {"reachable": False, "version": None, "error": "down"}


def test_document_admin_must_be_true_not_truthy() -> None:
    assert workspace_document("a", OWNER, {}, me={"admin": "yes", "groups": "ml"})["admin"] is False
    doc = workspace_document("a", OWNER, {}, me=["not", "a", "dict"])
    assert doc["platform"]["reachable"] is False


def test_a_visitor_sees_the_owner_as_user_and_themself_as_viewer() -> None:
    """Issue 15 #5: bob looking at admin's workspace got "User bob" with admin's groups/role."""
    visitor = viewer_facts("admin", "bob", may_write=True)
    me = {"name": "admin", "groups": ["ops"], "admin": True}
    doc = workspace_document("admin", visitor, {}, me=me)
    assert (doc["user"], doc["groups"], doc["admin"]) == ("admin", ["ops"], True)
    assert doc["viewer"] == {"name": "bob", "is_owner": False, "access": "read-write"}


@pytest.mark.parametrize(
    ("owner", "viewer", "may_write", "expected"),
    [("alice", "alice", True, ("alice", True, "owner")),
     ("alice", "alice", False, ("alice", True, "owner")),
     ("alice", "bob", True, ("bob", False, "read-write")),
     ("alice", "bob", False, ("bob", False, "read-only")),
     (None, "carol", True, ("carol", True, "owner"))],
)  # fmt: skip
def test_viewer_facts(
    owner: str | None, viewer: str, may_write: bool, expected: tuple[str, bool, str]
) -> None:
    facts = viewer_facts(owner, viewer, may_write)
    assert (facts["name"], facts["is_owner"], facts["access"]) == expected


def test_owner_name_falls_back_to_me_then_viewer() -> None:
    outside = viewer_facts(None, "carol", may_write=True)
    assert workspace_document(None, outside, {}, me={"name": "carol-hub"})["user"] == "carol-hub"
    assert workspace_document(None, outside, {}, error="down")["user"] == "carol"
