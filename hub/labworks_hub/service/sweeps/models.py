"""Wire types of the sweeps API (pydantic; they make the OpenAPI schema)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from ..jobs.models import Settings

Sampler = Literal["grid", "random", "tpe", "cmaes"]
Pruner = Literal["none", "median", "halving"]
SweepStatus = Literal["running", "stopped", "succeeded", "failed"]
TrialState = Literal["running", "complete", "pruned", "fail"]
MAX_TRIALS = 10_000


class SweepRequest(Settings):
    """POST /sweeps: search a notebook's parameters; each trial is a job of this notebook."""

    space: dict[str, Any] = Field(
        description="Per parameter: {type: int|float|log-float|categorical, low, high, step}"
        " or {type: categorical, choices: [...]}."
    )
    metric: str = Field(
        min_length=1, max_length=250, description="The MLflow metric the notebook logs."
    )
    direction: Literal["minimize", "maximize"] = "minimize"
    sampler: Sampler = "tpe"
    pruner: Pruner = "none"
    trials: int = Field(20, ge=1, le=MAX_TRIALS, description="Trials to complete.")
    parallel: int = Field(1, ge=1, le=256, description="Trials running at once.")
    budget_seconds: int | None = Field(
        None, ge=1, description="Stop the sweep after this long (its running trials too)."
    )
    max_cost_usd: float | None = Field(
        None, gt=0, le=1e9,
        description="The sweep's cost cap: once its trials cost this much, it stops (its"
        " running trials too) and starts no more.",
    )  # fmt: skip
    seed: int | None = Field(None, ge=0, le=2**31 - 1, description="Sampler seed.")


class SweepExtend(BaseModel):
    """POST /sweeps/{id}/extend: ask for more trials (and run a finished sweep again)."""

    trials: int = Field(ge=1, le=MAX_TRIALS, description="Trials to add.")


class TrialModel(BaseModel):
    number: int
    state: TrialState
    params: dict[str, Any]
    value: float | None
    intermediate: list[tuple[int, float]] = Field(
        default_factory=list, description="(step, value) the trial reported."
    )
    job_id: str
    mlflow_run_id: str
    reason: str
    created_at: datetime
    finished_at: datetime | None


class Counts(BaseModel):
    running: int = 0
    complete: int = 0
    pruned: int = 0
    fail: int = 0


class SweepModel(BaseModel):
    id: str
    name: str
    owner: str
    visibility: str
    status: SweepStatus
    reason: str
    metric: str
    direction: str
    sampler: Sampler
    pruner: Pruner
    space: dict[str, Any]
    trials: int = Field(description="Trials to complete (completed and pruned count).")
    parallel: int
    budget_seconds: int | None
    max_cost_usd: float | None = None
    counts: Counts
    best_value: float | None
    best_params: dict[str, Any] | None
    best_trial: int | None
    best_run_id: str | None = Field(description="The MLflow run of the best trial.")
    parent_run_id: str
    experiment_id: str
    eta_seconds: float | None = Field(description="Estimated seconds left, from trial times.")
    created_at: datetime
    finished_at: datetime | None


class SweepDetail(SweepModel):
    trial_list: list[TrialModel]
    importance: dict[str, float] = Field(
        default_factory=dict,
        description="Each parameter's share of the objective's variation (Optuna's PED-ANOVA),"
        " from 4 complete trials on; the shares add up to 1.",
    )


class SweepList(BaseModel):
    sweeps: list[SweepModel]
