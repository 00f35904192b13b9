"""``/labworks/cost/...`` (the Cost panel's, the status-bar meter's and the price tags' routes)
against a real jupyter_server with the extension, relaying over real HTTP to a recording fake
platform service: only the known query arguments and body fields forwarded, the owner's token,
CSV passed through as a download, this workspace's id added to the summary, the platform's
refusals passed on with its message, visitors refused, polling not counted as activity."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl

import pytest
import tornado.web
from tornado.httpserver import HTTPServer
from tornado.testing import bind_unused_port

from labworks_server.cost import workspace_id

from .conftest import IDP_USER, JobsPlatform, Recorder, Sent, answer_of, call

CSV_BODY = "key,name,cost_usd\n4f2a9c81d3e7,train,0.42\n"
CSV_FILE = 'attachment; filename="labworks-cost-2026-12-by-job.csv"'
REPORT = {"month": "2026-12", "by": "job", "currency": "USD", "total_usd": 0.42,
          "rows": [{"key": "4f2a9c81d3e7", "name": "train", "cost_usd": 0.42}]}  # fmt: skip
SUMMARY = {"user": IDP_USER, "currency": "USD", "burn_per_hour": 0.12, "today_usd": 1.4,
           "month_usd": 23.1, "budgets": [],
           "running": [{"kind": "workspace", "id": IDP_USER, "name": "default",
                        "profile": "cpu", "burn_per_hour": 0.12, "cpu_percent": 3.0,
                        "memory_bytes": 1024, "gpu_utilization": None}]}  # fmt: skip
BUDGET = {"scope": "group", "name": "ml team", "monthly_usd": 100.0, "thresholds": [50, 100],
          "spent_usd": 0.0, "percent": 0.0, "updated_by": "root"}  # fmt: skip


class CostRecorder(Recorder):
    """The recording platform, answering ``GET /cost/report?format=csv`` as the real one
    does: CSV, an attachment."""

    def get(self, path: str) -> None:  # type: ignore[override]
        if path != "cost/report" or self.get_query_argument("format", "") != "csv":
            self._answer(path)
            return
        self.platform.sent.append(
            Sent("GET", "/" + path, parse_qsl(self.request.query), None,
                 self.request.headers.get("Authorization"))
        )  # fmt: skip
        self.set_header("Content-Type", "text/csv; charset=utf-8")
        self.set_header("Content-Disposition", CSV_FILE)
        self.finish(CSV_BODY)


@pytest.fixture
async def jobs_platform() -> AsyncIterator[JobsPlatform]:
    platform = JobsPlatform()
    sock, port = bind_unused_port()
    app = tornado.web.Application([(r"/api/v1/(.*)", CostRecorder, {"platform": platform})])
    server = HTTPServer(app)
    server.add_sockets([sock])
    platform.url = f"http://127.0.0.1:{port}/api/v1"
    yield platform
    server.stop()
    await server.close_all_connections()


@pytest.fixture
def platform_api_url(jobs_platform: JobsPlatform) -> str:
    return jobs_platform.url


@pytest.fixture(autouse=True)
def owner(workspace_env: pytest.MonkeyPatch) -> str:
    workspace_env.setenv("JUPYTERHUB_USER", IDP_USER)
    return IDP_USER


async def test_prices_and_budgets_are_the_platforms_with_the_owners_token(
    lab: Any, jobs_platform: JobsPlatform, hub_token: str
) -> None:
    prices = {"currency": "USD", "prices": {"cpu_core_hour": 0.035}, "profiles": []}
    jobs_platform.answer("GET", "/cost/prices", prices)
    jobs_platform.answer("GET", "/cost/budgets", {"month": "2026-12", "budgets": [BUDGET]})

    assert answer_of(await lab("GET", "cost/prices")) == prices
    assert answer_of(await lab("GET", "cost/budgets"))["budgets"] == [BUDGET]
    assert jobs_platform.only("GET", "/cost/prices").authorization == f"token {hub_token}"
    assert jobs_platform.only("GET", "/cost/budgets").authorization == f"token {hub_token}"


async def test_a_report_forwards_only_its_own_query_arguments(
    lab: Any, jobs_platform: JobsPlatform
) -> None:
    jobs_platform.answer("GET", "/cost/report", REPORT)

    reply = await lab("GET", "cost/report?by=job&month=2026-12&user=mallory&by=sweep")

    assert reply.code == 200
    assert answer_of(reply) == REPORT
    assert jobs_platform.only("GET", "/cost/report").query == [("by", "sweep"),
                                                                ("month", "2026-12")]  # fmt: skip


async def test_a_csv_report_comes_back_as_a_csv_download(
    lab: Any, jobs_platform: JobsPlatform
) -> None:
    reply = await lab("GET", "cost/report?by=job&format=csv")

    assert reply.code == 200
    assert reply.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert reply.headers["Content-Disposition"] == CSV_FILE
    assert reply.body.decode() == CSV_BODY
    assert jobs_platform.only("GET", "/cost/report").query == [("by", "job"), ("format", "csv")]


async def test_a_refused_report_keeps_the_platforms_status_and_message(
    lab: Any, jobs_platform: JobsPlatform
) -> None:
    refusal = {"error": "invalid", "message": "month: must be YYYY-MM"}
    jobs_platform.answer("GET", "/cost/report", refusal, status=422)

    reply = await lab("GET", "cost/report?month=13")

    assert reply.code == 422
    assert answer_of(reply) == refusal


@pytest.mark.parametrize(("server", "expected"), [("", IDP_USER), ("gpu", f"{IDP_USER}/gpu")])
async def test_the_summary_names_this_workspace(
    lab: Any, jobs_platform: JobsPlatform, workspace_env: pytest.MonkeyPatch, server: str,
    expected: str,
) -> None:  # fmt: skip
    workspace_env.setenv("JUPYTERHUB_SERVER_NAME", server)
    jobs_platform.answer("GET", "/cost/summary", SUMMARY)

    assert answer_of(await lab("GET", "cost/summary")) == {**SUMMARY, "workspace": expected}


def test_outside_jupyterhub_there_is_no_workspace_id() -> None:
    assert workspace_id({}) is None
    assert workspace_id({"JUPYTERHUB_USER": "bob", "JUPYTERHUB_SERVER_NAME": "big"}) == "bob/big"


async def test_setting_a_budget_sends_only_its_fields_to_the_named_budget(
    lab: Any, jobs_platform: JobsPlatform
) -> None:
    jobs_platform.answer("PUT", "/cost/budgets/group/ml team", BUDGET)

    reply = await lab(
        "PUT", "cost/budgets/group/ml%20team",
        {"monthly_usd": 100, "thresholds": [50, 100], "updated_by": "mallory"},
    )  # fmt: skip

    assert reply.code == 200
    assert answer_of(reply) == BUDGET
    sent = jobs_platform.only("PUT", "/cost/budgets/group/ml team")
    assert sent.body == {"monthly_usd": 100, "thresholds": [50, 100]}


async def test_removing_a_budget_answers_no_content(lab: Any, jobs_platform: JobsPlatform) -> None:
    jobs_platform.answer("DELETE", "/cost/budgets/user/bob", None, status=204)

    reply = await lab("DELETE", "cost/budgets/user/bob")

    assert reply.code == 204
    assert jobs_platform.only("DELETE", "/cost/budgets/user/bob")


async def test_the_platforms_refusal_of_a_budget_comes_through(
    lab: Any, jobs_platform: JobsPlatform
) -> None:
    message = "only administrators set budgets; ask one to set or raise yours"
    refusal = {"error": "forbidden", "message": message}
    jobs_platform.answer("PUT", "/cost/budgets/user/bob", refusal, status=403)
    jobs_platform.answer("DELETE", "/cost/budgets/user/bob", refusal, status=403)

    for method, body in (("PUT", {"monthly_usd": 5}), ("DELETE", None)):
        reply = await lab(method, "cost/budgets/user/bob", body)
        assert reply.code == 403
        assert answer_of(reply) == refusal


async def test_bad_budget_requests_are_refused_here(lab: Any, jobs_platform: JobsPlatform) -> None:
    reply = await lab("PUT", "cost/budgets/project/x", {"monthly_usd": 5})
    assert reply.code == 404

    reply = await lab("PUT", "cost/budgets/user/bob", [1, 2])
    assert reply.code == 400
    assert answer_of(reply)["message"] == "send a JSON object in the request body"
    assert jobs_platform.sent == []


async def test_polling_is_not_activity_and_strangers_are_refused(
    lab: Any, jobs_platform: JobsPlatform, jp_serverapp: Any, jp_http_port: int,
    jp_base_url: str,
) -> None:  # fmt: skip
    settings = jp_serverapp.web_app.settings
    jobs_platform.answer("GET", "/cost/summary", SUMMARY)
    settings.pop("api_last_activity", None)

    assert (await lab("GET", "cost/summary")).code == 200
    assert "api_last_activity" not in settings

    reply = await call(jp_http_port, jp_base_url, {}, "GET", "cost/summary")
    assert reply.code == 403
    assert json.loads(reply.body)["error"] == "forbidden"
    assert len(jobs_platform.sent) == 1
