"""A job's cost on its MLflow run: the `labworks.cost_usd` metric, logged when the job ends on
the run the job logged (found by its `labworks.job.id` tag, as sweeps find their trials'), and
the run's `labworks.project` tag, which reports group by as the project."""

from __future__ import annotations

import time
from typing import Protocol

from ..store.tracking import COST_METRIC
from ..sweeps.runs import SweepRuns
from ..tracking.server import TrackingServer

PROJECT_TAG = "labworks.project"


class RunLog(Protocol):
    async def ready(self) -> None: ...

    def log_cost(self, job_id: str, cost_usd: float) -> tuple[str, str] | None: ...


class MLflowRunLog:
    """The tracking server's stores (MLflow is imported inside: the server configures it)."""

    def __init__(self, server: TrackingServer) -> None:
        self.runs = SweepRuns(server)

    async def ready(self) -> None:
        await self.runs.ready()

    def log_cost(self, job_id: str, cost_usd: float) -> tuple[str, str] | None:
        """Log the job's cost on its run; (run id, project tag), or None when it logged none."""
        from mlflow.entities import Metric

        run_id = self.runs.history(job_id, COST_METRIC).run_id
        if not run_id:
            return None
        tracking = self.runs.tracking()
        metric = Metric(COST_METRIC, cost_usd, int(time.time() * 1000), 0)
        tracking.log_batch(run_id, metrics=[metric], params=[], tags=[])
        project = tracking.get_run(run_id).data.tags.get(PROJECT_TAG, "")
        return run_id, project[:255]
