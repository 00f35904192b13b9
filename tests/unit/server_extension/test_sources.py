"""``/labworks/sources/...`` (the Sources section of the Data panel) against a real
jupyter_server with the extension, relaying over real HTTP to a recording fake platform service:
the owner's token and this workspace's origin on every call, only the known query arguments and
body fields, the audit's CSV passed through as a download, the platform's refusals passed on
with its message, no route to object bytes or presigned URLs, visitors refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import pytest
import tornado.web
from tornado.httpserver import HTTPServer
from tornado.testing import bind_unused_port

from labworks_server.sources import workspace_origin

from .conftest import IDP_USER, JobsPlatform, Recorder, Sent, answer_of

AUDIT_CSV = "at,user,action,object,bytes,rows,allowed,reason,origin\n"
AUDIT_FILE = 'attachment; filename="labworks-audit-raw.csv"'
SOURCE = {"name": "raw", "kind": "s3", "owner": "bob", "description": "landing zone",
          "tags": ["raw"], "config": {"bucket": "b", "prefix": "", "endpoint_url": None,
                                      "region": None},
          "has_credentials": True, "access": "read", "created_at": "2026-12-01T10:00:00Z",
          "updated_at": "2026-12-01T10:00:00Z"}  # fmt: skip
REFUSED = {"error": "forbidden",
           "message": "you may not read source raw (owner: bob); ask for access: "
                      "labworks sources request raw"}  # fmt: skip


@dataclass
class SourcesPlatform(JobsPlatform):
    """The recording platform, with the ``X-Labworks-Origin`` of every request."""

    origins: list[str | None] = field(default_factory=list)


class SourcesRecorder(Recorder):
    """Records the origin header; answers ``GET /sources/raw/audit?format=csv`` as CSV."""

    platform: SourcesPlatform

    def prepare(self) -> None:
        self.platform.origins.append(self.request.headers.get("X-Labworks-Origin"))

    def get(self, path: str) -> None:  # type: ignore[override]
        if path != "sources/raw/audit" or self.get_query_argument("format", "") != "csv":
            self._answer(path)
            return
        self.platform.sent.append(
            Sent("GET", "/" + path, parse_qsl(self.request.query), None,
                 self.request.headers.get("Authorization"))
        )  # fmt: skip
        self.set_header("Content-Type", "text/csv; charset=utf-8")
        self.set_header("Content-Disposition", AUDIT_FILE)
        self.finish(AUDIT_CSV)


@pytest.fixture
async def jobs_platform() -> AsyncIterator[SourcesPlatform]:
    platform = SourcesPlatform()
    sock, port = bind_unused_port()
    app = tornado.web.Application([(r"/api/v1/(.*)", SourcesRecorder, {"platform": platform})])
    server = HTTPServer(app)
    server.add_sockets([sock])
    platform.url = f"http://127.0.0.1:{port}/api/v1"
    yield platform
    server.stop()
    await server.close_all_connections()


@pytest.fixture
def platform_api_url(jobs_platform: SourcesPlatform) -> str:
    return jobs_platform.url


@pytest.fixture(autouse=True)
def owner(workspace_env: pytest.MonkeyPatch) -> str:
    """The test token's user owns the workspace, a named server ``gpu``."""
    workspace_env.setenv("JUPYTERHUB_USER", IDP_USER)
    workspace_env.setenv("JUPYTERHUB_SERVER_NAME", "gpu")
    return IDP_USER


def test_the_origin_names_the_user_and_the_server() -> None:
    assert workspace_origin({"JUPYTERHUB_USER": "ana", "JUPYTERHUB_SERVER_NAME": "gpu"}) == (
        "workspace:ana/gpu"
    )
    assert workspace_origin({"JUPYTERHUB_USER": "ana"}) == "workspace:ana/"
    assert workspace_origin({"JUPYTERHUB_USER": "zoë x"}) == "workspace:zo%C3%AB%20x/"
    assert workspace_origin({}) is None


async def test_the_catalog_is_relayed_with_my_token_and_this_workspaces_origin(
    lab: Any, jobs_platform: SourcesPlatform, hub_token: str
) -> None:
    jobs_platform.answer("GET", "/sources", {"sources": [SOURCE]})
    jobs_platform.answer("GET", "/sources/raw", SOURCE)
    jobs_platform.answer("GET", "/sources/requests", {"requests": []})

    listing = await lab("GET", "sources")
    one = await lab("GET", "sources/raw")
    requests = await lab("GET", "sources/requests")

    assert listing.code == one.code == requests.code == 200
    assert answer_of(listing) == {"sources": [SOURCE]}
    assert answer_of(one) == SOURCE
    assert answer_of(requests) == {"requests": []}
    assert {s.authorization for s in jobs_platform.sent} == {f"token {hub_token}"}
    assert jobs_platform.origins == [f"workspace:{IDP_USER}/gpu"] * 3


async def test_browse_and_preview_forward_only_their_query_arguments(
    lab: Any, jobs_platform: SourcesPlatform
) -> None:
    entry = {"path": "a b/x.csv", "kind": "file", "size": 3, "modified": None, "rows": None}
    entries = {"entries": [entry], "truncated": False}
    preview = {"path": "a b/x.csv", "format": "csv", "columns": [{"name": "a", "type": "int64"}],
               "rows": [[1]], "row_count": None, "truncated": False, "text": None,
               "image": None, "size": 3}  # fmt: skip
    jobs_platform.answer("GET", "/sources/raw/list", entries)
    jobs_platform.answer("GET", "/sources/raw/stat", entry)
    jobs_platform.answer("GET", "/sources/raw/preview", preview)

    listed = await lab("GET", "sources/raw/list?prefix=a%20b%2F&page=2")
    stat = await lab("GET", "sources/raw/stat?path=a%20b%2Fx.csv")
    shown = await lab("GET", "sources/raw/preview?path=a%20b%2Fx.csv&limit=20&sql=drop")

    assert (answer_of(listed), answer_of(stat), answer_of(shown)) == (
        entries,
        entry,
        preview,
    )
    assert jobs_platform.only("GET", "/sources/raw/list").query == [("prefix", "a b/")]
    assert jobs_platform.only("GET", "/sources/raw/stat").query == [("path", "a b/x.csv")]
    assert jobs_platform.only("GET", "/sources/raw/preview").query == [
        ("path", "a b/x.csv"),
        ("limit", "20"),
    ]


async def test_writes_forward_only_the_known_fields(
    lab: Any, jobs_platform: SourcesPlatform
) -> None:
    grant = {"principal": "group:ml team", "access": "read", "granted_by": IDP_USER,
             "granted_at": "2026-12-05T10:00:00Z"}  # fmt: skip
    request = {"id": 7, "source": "raw", "user": IDP_USER, "access": "write", "reason": "training",
               "status": "pending", "created_at": "2026-12-05T10:00:00Z"}  # fmt: skip
    jobs_platform.answer("POST", "/sources", SOURCE, status=201)
    jobs_platform.answer("PATCH", "/sources/raw", SOURCE)
    jobs_platform.answer("PUT", "/sources/raw/grants", grant)
    jobs_platform.answer("POST", "/sources/raw/requests", request, status=201)
    rows = {"columns": [], "rows": [], "row_count": 0, "truncated": False}
    jobs_platform.answer("POST", "/sources/raw/query", rows)

    new = {"name": "raw", "kind": "s3", "config": {}, "credentials": {"password": "p"}}
    registered = await lab("POST", "sources", {**new, "admin": True})
    patched = await lab("PATCH", "sources/raw", {"description": "d", "owner": "mallory"})
    granted = await lab("PUT", "sources/raw/grants", {**grant, "granted_by": "mallory"})
    asked = await lab("POST", "sources/raw/requests", {"reason": "training", "access": "write",
                                                       "user": "mallory"})  # fmt: skip
    queried = await lab("POST", "sources/raw/query", {"table": "sales.orders", "limit": 5,
                                                      "user": "x"})  # fmt: skip

    assert (registered.code, patched.code, granted.code, asked.code, queried.code) == (
        201, 200, 200, 201, 200,
    )  # fmt: skip
    assert answer_of(granted) == grant
    assert answer_of(asked) == request
    assert jobs_platform.only("POST", "/sources").body == new
    assert jobs_platform.only("PATCH", "/sources/raw").body == {"description": "d"}
    assert jobs_platform.only("PUT", "/sources/raw/grants").body == {
        "principal": "group:ml team",
        "access": "read",
    }
    assert jobs_platform.only("POST", "/sources/raw/requests").body == {
        "reason": "training",
        "access": "write",
    }
    assert jobs_platform.only("POST", "/sources/raw/query").body == {
        "table": "sales.orders",
        "limit": 5,
    }


async def test_revoking_a_grant_and_removing_a_source_answer_204(
    lab: Any, jobs_platform: SourcesPlatform
) -> None:
    jobs_platform.answer("DELETE", "/sources/raw/grants/user:ana", None, status=204)
    jobs_platform.answer("DELETE", "/sources/raw", None, status=204)

    revoked = await lab("DELETE", "sources/raw/grants/user:ana")
    removed = await lab("DELETE", "sources/raw")

    assert (revoked.code, removed.code) == (204, 204)
    assert jobs_platform.only("DELETE", "/sources/raw/grants/user:ana").body is None
    assert len(jobs_platform.origins) == 2


async def test_the_audit_comes_as_json_or_as_a_csv_download(
    lab: Any, jobs_platform: SourcesPlatform
) -> None:
    audit: dict[str, list[Any]] = {"entries": [], "by_user": [], "by_object": []}
    jobs_platform.answer("GET", "/sources/raw/audit", audit)

    report = await lab("GET", "sources/raw/audit?since=2026-12-01T00%3A00%3A00Z&who=x")
    csv = await lab("GET", "sources/raw/audit?format=csv")

    assert answer_of(report) == audit
    assert jobs_platform.sent[0].query == [("since", "2026-12-01T00:00:00Z")]
    assert csv.code == 200
    assert csv.headers["Content-Type"].startswith("text/csv")
    assert csv.headers["Content-Disposition"] == AUDIT_FILE
    assert csv.headers["X-Content-Type-Options"] == "nosniff"
    assert csv.body.decode() == AUDIT_CSV


async def test_the_platforms_refusal_comes_through_with_its_message(
    lab: Any, jobs_platform: SourcesPlatform
) -> None:
    jobs_platform.answer("GET", "/sources/raw/preview", REFUSED, status=403)
    jobs_platform.answer("GET", "/sources/raw/audit", REFUSED, status=403)

    preview = await lab("GET", "sources/raw/preview?path=x.csv")
    audit = await lab("GET", "sources/raw/audit")
    unknown = await lab("GET", "sources/nope/list")

    assert (preview.code, audit.code) == (403, 403)
    assert answer_of(preview) == REFUSED
    assert answer_of(audit) == REFUSED
    assert unknown.code == 404
    assert answer_of(unknown)["error"] == "not_found"


@pytest.mark.parametrize(
    "path",
    ["sources/raw/objects/x.csv", "sources/raw/url?path=x.csv", "sources/Raw", "sources/raw/x"],
)
async def test_object_bytes_urls_and_bad_names_are_not_relayed(
    lab: Any, jobs_platform: SourcesPlatform, path: str
) -> None:
    reply = await lab("GET", path)

    assert reply.code == 404
    assert jobs_platform.sent == []


async def test_a_visitor_is_refused_before_anything_is_relayed(
    lab: Any, jobs_platform: SourcesPlatform, workspace_env: pytest.MonkeyPatch
) -> None:
    workspace_env.setenv("JUPYTERHUB_USER", "bob")

    reply = await lab("GET", "sources")

    assert reply.code == 403
    assert "only bob" in answer_of(reply)["message"]
    assert jobs_platform.sent == []
