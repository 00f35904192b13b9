"""Costs over REST: the price table and each profile's price, usage reports (JSON or CSV), the
caller's live summary, and monthly budgets (administrators set them).

The meter (service/cost) records usage; report.py decides who sees what; this module only
translates HTTP. Its lifespan starts the meter after the job service and stops it first.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Literal

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request, Response

from ...prices import CostPrices
from ..access import NAME_RE, Forbidden, Viewer
from ..auth import viewer
from ..cost import report as reports
from ..cost.budgets import CostBudgets, budget_check
from ..cost.meter import CostMeter
from ..cost.models import (
    MONTH_PATTERN,
    Budget,
    BudgetCheck,
    BudgetList,
    BudgetRequest,
    By,
    CheckKind,
    PriceList,
    ProfilePrice,
    Report,
    Scope,
    Summary,
    report_csv,
)
from ..cost.runs import MLflowRunLog
from ..cost.subjects import HubWorkspaces
from ..metrics import CostMetrics
from .jobs_common import service_of

BudgetName = Path(pattern=NAME_RE.pattern, description="The user or group the budget is for.")


def meter_of(app: FastAPI) -> CostMeter:
    """The meter, made on first use with the job service's config and profiles."""
    meter = getattr(app.state, "cost_meter", None)
    if meter is None:
        jobs = service_of(app)
        settings = app.state.settings
        token = settings.api_token
        tracking = getattr(app.state, "tracking", None)
        budgets = CostBudgets(config=jobs.config)
        meter = app.state.cost_meter = CostMeter(
            app.state.store, CostPrices(config=jobs.config), jobs.profiles,
            workspaces=HubWorkspaces(settings.hub_api_url, token) if token else None,
            run_log=MLflowRunLog(tracking) if tracking is not None else None,
            observer=CostMetrics(app.state.registry).observe,
            budgets=budgets, notifiers=budgets.notifiers(jobs.notifiers), config=jobs.config,
        )  # fmt: skip
        if jobs.gpu_allocator is not None and "gpu_host" not in jobs.config.CostMeter:
            meter.gpu_host = jobs.gpu_allocator.host  # the leases' host name
    return meter


def cost_meter(request: Request) -> CostMeter:
    return meter_of(request.app)


@asynccontextmanager
async def _run_meter(app: FastAPI) -> AsyncIterator[None]:
    meter = meter_of(app)
    await meter.start()
    try:
        yield
    finally:
        await meter.stop()


router = APIRouter(prefix="/cost", tags=["cost"], lifespan=_run_meter)


@router.get("/prices", response_model=PriceList)
async def prices(
    _who: Viewer = Depends(viewer), meter: CostMeter = Depends(cost_meter)
) -> PriceList:
    """The price table, and what an hour on each profile costs (its own price where it sets
    one, else what it reserves at the table's prices)."""
    table: CostPrices = meter.prices
    listed = [
        ProfilePrice(
            name=p.name,
            display_name=p.display_name,
            per_hour=round(table.profile_price(p), 6),
            computed=not p.price_per_hour > 0,
        )
        for p in meter.profiles.values()
    ]
    return PriceList(currency=table.currency, prices=table.table(), profiles=listed)


@router.get(
    "/report",
    response_model=Report,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def report(
    request: Request,
    by: By = Query("user", description="What each row is."),
    month: str | None = Query(None, pattern=MONTH_PATTERN, description="YYYY-MM; default now."),
    format: Literal["json", "csv"] | None = Query(None, description="csv: a CSV file."),
    who: Viewer = Depends(viewer),
    meter: CostMeter = Depends(cost_meter),
):
    """A month's cost by user, group, project, workspace, job, sweep, MLflow run, deployment
    or day: your own (for groups: the totals of your groups); administrators see everyone's.
    `format=csv` (or `Accept: text/csv`) answers CSV with a header row."""
    found = await request.app.state.store.run(reports.report, who, by, month, meter.clock())
    found["currency"] = meter.prices.currency
    wants_csv = format == "csv" or (
        format is None and "text/csv" in request.headers.get("accept", "")
    )
    if wants_csv:
        name = f"labworks-cost-{found['month']}-by-{by}.csv"
        return Response(
            report_csv(found),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return Report.model_validate(found)


@router.get("/summary", response_model=Summary)
async def summary(
    request: Request, who: Viewer = Depends(viewer), meter: CostMeter = Depends(cost_meter)
) -> Summary:
    """Your burn rate per hour now, your spend today and this month, what of yours runs (with
    its burn rate, CPU, memory and GPU use at the last sample) and your budgets' use."""
    found = await request.app.state.store.run(reports.summary, who, meter.clock())
    return Summary.model_validate({**found, "currency": meter.prices.currency})


@router.get("/budgets", response_model=BudgetList)
async def list_budgets(
    request: Request, who: Viewer = Depends(viewer), meter: CostMeter = Depends(cost_meter)
) -> BudgetList:
    """Your budget and your groups', each with what was spent this month (administrators:
    every budget)."""
    found = await request.app.state.store.run(reports.list_budgets, who, meter.clock())
    return BudgetList.model_validate(found)


@router.put("/budgets/{scope}/{name}", response_model=Budget)
async def set_budget(
    request: Request,
    body: BudgetRequest,
    scope: Scope,
    name: str = BudgetName,
    who: Viewer = Depends(viewer),
    meter: CostMeter = Depends(cost_meter),
) -> Budget:
    """Set a user's or a group's monthly budget and its alert thresholds. Administrators only;
    404 for an unknown user or group."""
    found = await request.app.state.store.run(
        reports.set_budget, who, scope, name, body.monthly_usd, body.thresholds, meter.clock(),
        body.override_until,
    )  # fmt: skip
    return Budget.model_validate(found)


@router.get("/check", response_model=BudgetCheck)
async def check(
    request: Request,
    kind: CheckKind = Query(description="What would start."),
    gpu: bool = Query(False, description="Whether it would hold a GPU."),
    who: Viewer = Depends(viewer),
    meter: CostMeter = Depends(cost_meter),
) -> BudgetCheck:
    """Whether your budgets let you start a new `kind` now (the spawner asks before a GPU
    workspace starts); when not, the message names the budget and who can raise it."""
    rule = meter.budgets.refuse if meter.budgets is not None else "all"
    try:
        await request.app.state.store.run(budget_check, who, kind, gpu, rule, meter.clock())
    except Forbidden as e:
        return BudgetCheck(allowed=False, message=e.message)
    return BudgetCheck(allowed=True, message="")


@router.delete("/budgets/{scope}/{name}", status_code=204)
async def delete_budget(
    request: Request, scope: Scope, name: str = BudgetName, who: Viewer = Depends(viewer)
) -> Response:
    """Remove a budget. Administrators only."""
    await request.app.state.store.run(reports.delete_budget, who, scope, name)
    return Response(status_code=204)
