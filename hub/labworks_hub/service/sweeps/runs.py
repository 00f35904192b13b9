"""A sweep in MLflow: its parent run, its trials' runs as children, their metric histories.

The parent run is created in the owner's personal experiment (created with the owner's MANAGE
grant when it does not exist yet, as the stock client would), so the owner sees the sweep in
the Experiments panel and the MLflow UI. A trial's own run is the one its job logged: found by
the `labworks.job.id` tag the kernel sets on every run, then made a child of the parent
(`mlflow.parentRunId`), so it nests under the sweep.

MLflow is imported inside the methods: the tracking server configures it first.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from ..store.tracking import job_run_ids
from ..tracking.env import personal_experiment
from ..tracking.server import TrackingServer

PARENT_RUN_TAG = "mlflow.parentRunId"
SWEEP_TAG = "labworks.sweep.id"
USER_TAG = "mlflow.user"


@dataclass(frozen=True)
class History:
    """A metric of the run a job logged: its (step, value) pairs by step, and the last value."""

    run_id: str = ""
    steps: list[tuple[int, float]] = field(default_factory=list)

    @property
    def last(self) -> float | None:
        return self.steps[-1][1] if self.steps else None


class SweepRuns:
    """MLflow reads and writes of the sweep engine, on the tracking server's stores."""

    def __init__(self, server: TrackingServer) -> None:
        self.server = server

    async def ready(self) -> None:
        """Wait for the tracking server (it starts on first use)."""
        await self.server.ready()

    def tracking(self) -> Any:
        from mlflow.server.handlers import _get_tracking_store

        return _get_tracking_store()

    def auth(self) -> Any:
        return self.server.auth_store

    def parent(self, owner: str, sweep_id: str, name: str) -> tuple[str, str]:
        """(experiment id, run id) of a new parent run for the sweep."""
        from mlflow.entities import RunTag

        tracking = self.tracking()
        experiment_name = personal_experiment(owner)
        experiment = tracking.get_experiment_by_name(experiment_name)
        if experiment is None:
            experiment_id = tracking.create_experiment(experiment_name)
            self.auth().create_experiment_permission(experiment_id, owner, "MANAGE")
        else:
            experiment_id = experiment.experiment_id
        run = tracking.create_run(
            experiment_id=experiment_id,
            user_id=owner,
            start_time=int(time.time() * 1000),
            tags=[RunTag(SWEEP_TAG, sweep_id), RunTag(USER_TAG, owner)],
            run_name=name,
        )
        return experiment_id, run.info.run_id

    def end_parent(self, run_id: str, status: str) -> None:
        """Close the parent run: FINISHED when the sweep succeeded, else FAILED or KILLED."""
        from mlflow.entities import RunStatus

        name = {"succeeded": "FINISHED", "failed": "FAILED"}.get(status, "KILLED")
        self.tracking().update_run_info(
            run_id, RunStatus.from_string(name), int(time.time() * 1000), run_name=None
        )

    def log_best(self, run_id: str, metric: str, value: float, step: int) -> None:
        """The best value so far as the parent run's `best_<metric>`, stepped by trial."""
        from mlflow.entities import Metric

        best = Metric(f"best_{metric}", value, int(time.time() * 1000), step)
        self.tracking().log_batch(run_id, metrics=[best], params=[], tags=[])

    def history(self, job_run_id: str, metric: str) -> History:
        """The metric's history in the (newest) run the job logged; empty when none yet."""
        run_id = self._run_of_job(job_run_id)
        if not run_id:
            return History()
        points = self.tracking().get_metric_history(run_id, metric)
        by_step: dict[int, float] = {}
        for point in sorted(points, key=lambda m: (m.step, m.timestamp)):
            by_step[int(point.step)] = float(point.value)
        return History(run_id, sorted(by_step.items()))

    def adopt(self, run_id: str, parent_run_id: str) -> None:
        """Make a trial's run a child of the sweep's parent run."""
        from mlflow.entities import RunTag

        if parent_run_id:
            self.tracking().set_tag(run_id, RunTag(PARENT_RUN_TAG, parent_run_id))

    def _run_of_job(self, job_run_id: str) -> str:
        found = job_run_ids(self.tracking(), job_run_id)
        return found[0][0] if found else ""
