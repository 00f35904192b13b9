"""What work costs, on the user's own server: ``/labworks/cost/...``, relayed to the platform's
cost API (``/api/v1/cost/...``) with the owner's token, for the Cost panel, the status-bar meter
and the price shown beside jobs, sweeps and runs.

The answers pass through unparsed, except the summary, which gains ``workspace``: the id this
workspace has among the running subjects (``alice`` or ``alice/<server>``), so that the meter
shows this workspace's burn rate. A report asked as CSV passes through as CSV, with the
platform's file name, for a download. Setting and removing budgets is the platform's decision
(administrators only); its refusal comes through with its message. A GET is not activity (the
meter polls).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import tornado.web

from .handlers import LabworksHandler
from .jobs import _query
from .sweeps import SweepsBaseHandler

# The query arguments of the platform's GET /cost/report the lab may send.
REPORT_ARGS = ("by", "month", "format")
# The fields of the platform's PUT /cost/budgets/{scope}/{name}.
BUDGET_FIELDS = ("monthly_usd", "thresholds", "override_until")


def workspace_id(env: Mapping[str, str]) -> str | None:
    """This workspace's id as the meter names it: the user for the default server,
    ``user/server`` for a named one; ``None`` outside JupyterHub."""
    user = env.get("JUPYTERHUB_USER") or ""
    server = env.get("JUPYTERHUB_SERVER_NAME") or ""
    if not user:
        return None
    return f"{user}/{server}" if server else user


class CostBaseHandler(SweepsBaseHandler):
    """The owner's routes (the token is the owner's), relayed as the sweeps routes are."""

    owner_may = "see costs from it; open your own workspace to see yours"


class PricesHandler(CostBaseHandler):
    """``GET /labworks/cost/prices``: the price table and each profile's price per hour."""

    @tornado.web.authenticated
    async def get(self) -> None:
        await self.relay("GET", "/cost/prices")


class ReportHandler(CostBaseHandler):
    """``GET /labworks/cost/report?by=B&month=YYYY-MM[&format=csv]``: a month's cost, one row
    per key; other query arguments are dropped. CSV comes back as CSV, an attachment."""

    @tornado.web.authenticated
    async def get(self) -> None:
        await self.relay_report("/cost/report" + _query(self, REPORT_ARGS))


class SummaryHandler(CostBaseHandler):
    """``GET /labworks/cost/summary``: the owner's burn rate, spend today and this month,
    running work and budgets, with ``workspace``: this workspace's id among ``running``."""

    @tornado.web.authenticated
    async def get(self) -> None:
        summary = await self.platform.get("/cost/summary")
        if not isinstance(summary, dict):
            raise tornado.web.HTTPError(502, "the platform's cost summary is not an object")
        self.finish({**summary, "workspace": workspace_id(os.environ)})


class BudgetsHandler(CostBaseHandler):
    """``GET /labworks/cost/budgets``: the owner's budget and their groups' (administrators:
    every budget), each with this month's use."""

    @tornado.web.authenticated
    async def get(self) -> None:
        await self.relay("GET", "/cost/budgets")


class BudgetHandler(CostBaseHandler):
    """``PUT /labworks/cost/budgets/<user|group>/<name>`` with ``{"monthly_usd",
    "thresholds", "override_until"}`` sets a budget; ``DELETE`` removes it. The platform lets
    administrators only."""

    @tornado.web.authenticated
    async def put(self, scope: str, name: str) -> None:
        body = self.json_object()
        await self.relay("PUT", _budget_path(scope, name), _fields(body))

    @tornado.web.authenticated
    async def delete(self, scope: str, name: str) -> None:
        await self.platform.delete(_budget_path(scope, name))
        self.set_status(204)
        self.finish()


def _budget_path(scope: str, name: str) -> str:
    return f"/cost/budgets/{scope}/{quote(name, safe='')}"


def _fields(body: dict[str, Any]) -> dict[str, Any]:
    return {key: body[key] for key in BUDGET_FIELDS if key in body}


cost_handlers: list[tuple[str, type[LabworksHandler]]] = [
    (r"/labworks/cost/prices", PricesHandler),
    (r"/labworks/cost/report", ReportHandler),
    (r"/labworks/cost/summary", SummaryHandler),
    (r"/labworks/cost/budgets", BudgetsHandler),
    (r"/labworks/cost/budgets/(user|group)/([^/]+)", BudgetHandler),
]
