"""Experiments over REST: list what the caller can see, share one (owner, group, public),
and one page of the runs table.

Runs, metrics and artifacts are MLflow's own API at `/services/labworks/mlflow/` (the stock
client); this router adds what MLflow lacks: who owns an experiment and who else sees it, and
a runs page carrying only the columns the panel shows (tracking/runs_table.py). Who may see or
share what is decided in store/tracking.py, never here.
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, Field

from ..access import Viewer
from ..store import tracking as store
from ..tracking import runs_table
from .tracking_common import in_mlflow, tracking_store, tracking_viewer

router = APIRouter(tags=["experiments"])
ExperimentId = Path(description="MLflow experiment id.", max_length=32)


class Experiment(BaseModel):
    id: str
    name: str
    owner: str | None = Field(description="The hub user who created it.")
    visibility: str = Field(description="'private', 'group:<name>' or 'public' (read-only).")
    yours: bool = Field(description="You own it: you may share it.")
    lifecycle_stage: Literal["active", "deleted"]
    creation_time: int | None = Field(description="Milliseconds since the epoch.")
    last_update_time: int | None


class ExperimentList(BaseModel):
    experiments: list[Experiment]


class VisibilityRequest(BaseModel):
    visibility: str = Field(
        description="'private' (owner only), 'group:<name>' (members of one of your groups"
        " may read it) or 'public' (every user may read it).",
        examples=["group:ml"],
    )


class RunColumns(BaseModel):
    metrics: list[str] = Field(default=[], max_length=runs_table.MAX_COLUMNS)
    params: list[str] = Field(default=[], max_length=runs_table.MAX_COLUMNS)
    tags: list[str] = Field(default=[], max_length=runs_table.MAX_COLUMNS)


class RunsTableRequest(BaseModel):
    experiment_ids: list[str] = Field(min_length=1, max_length=100)
    filter: str = Field("", description="MLflow's search syntax, e.g. `metrics.acc > 0.9`.")
    order_by: list[str] = Field(
        default=[], description="MLflow's syntax, e.g. `metrics.acc DESC`.", max_length=10
    )
    max_results: int = Field(25, ge=1, le=runs_table.MAX_RESULTS)
    page_token: str | None = Field(None, max_length=1024)
    run_view_type: Literal["ACTIVE_ONLY", "DELETED_ONLY", "ALL"] = "ACTIVE_ONLY"
    columns: RunColumns = Field(
        default_factory=RunColumns, description="The keys whose values the page carries."
    )


class RunKeys(BaseModel):
    metrics: list[str]
    params: list[str]
    tags: list[str]


class RunsTablePage(BaseModel):
    runs: list[dict[str, Any]] = Field(
        description="As MLflow's runs/search writes them: `info`, and `data` with only the"
        " chosen `metrics` (latest values), `params` and `tags`."
    )
    next_page_token: str | None
    keys: RunKeys = Field(description="The keys of each kind the page's runs have.")


def _model(info: store.ExperimentInfo) -> Experiment:
    return Experiment.model_validate(info, from_attributes=True)


@router.get("/experiments", response_model=ExperimentList)
async def list_experiments(
    request: Request, viewer: Viewer = Depends(tracking_viewer)
) -> ExperimentList:
    """The active experiments you can read: yours, your groups', public ones."""
    found = await in_mlflow(request, store.list_experiments, tracking_store(), viewer)
    return ExperimentList(experiments=[_model(e) for e in found])


@router.get("/experiments/{experiment_id}", response_model=Experiment)
async def get_experiment(
    request: Request,
    experiment_id: str = ExperimentId,
    viewer: Viewer = Depends(tracking_viewer),
) -> Experiment:
    """One experiment; 404 when it does not exist or you cannot read it."""
    return _model(
        await in_mlflow(request, store.get_experiment, tracking_store(), viewer, experiment_id)
    )


@router.put("/experiments/{experiment_id}/visibility", response_model=Experiment)
async def set_visibility(
    request: Request,
    body: VisibilityRequest,
    experiment_id: str = ExperimentId,
    viewer: Viewer = Depends(tracking_viewer),
) -> Experiment:
    """Who besides you may read the experiment (its runs, metrics, artifacts, models):
    nobody, one of your groups, or every user. Owner only (403); 400: not a visibility."""
    return _model(
        await in_mlflow(
            request, store.set_visibility, tracking_store(), viewer, experiment_id, body.visibility
        )
    )


@router.post("/experiments/runs/table", response_model=RunsTablePage)
async def runs_table_page(
    body: RunsTableRequest, viewer: Viewer = Depends(tracking_viewer)
) -> RunsTablePage:
    """One page of runs of experiments you can read (404 for any other) with only the chosen
    columns' values; filter, order_by and page tokens as MLflow's runs/search takes them
    (400 with MLflow's message when they are not valid)."""
    columns = body.columns
    query = runs_table.RunsQuery(
        experiment_ids=tuple(body.experiment_ids),
        filter=body.filter,
        order_by=tuple(body.order_by),
        max_results=body.max_results,
        page_token=body.page_token or None,
        run_view_type=body.run_view_type,
        columns=runs_table.Columns(
            tuple(columns.metrics), tuple(columns.params), tuple(columns.tags)
        ),
    )
    page = await asyncio.to_thread(runs_table.visible_runs_page, tracking_store(), viewer, query)
    return RunsTablePage(
        runs=page.runs, next_page_token=page.next_page_token, keys=RunKeys(**page.keys)
    )
