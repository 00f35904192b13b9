"""`labworks.track.log_metric`: MLflow's REST API without importing mlflow, against a real
MLflow tracking server (MLflow's own app on a SQLite store, served over HTTP in a thread)."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient
from werkzeug.serving import make_server

SCRIPT = """
import sys
from labworks import track
run = track.log_metric("loss", 0.5, step=1)
track.log_metric("loss", 0.25, step=2)
assert track.log_metric("acc", 0.9) == run  # one run per process
assert "mlflow" not in sys.modules, "log_metric imported mlflow"
print(run)
"""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    from mlflow.server import app
    from mlflow.server.handlers import initialize_backend_stores

    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    initialize_backend_stores(store, store, str(tmp_path / "artifacts"))
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()


def test_a_process_logs_steps_on_one_run_without_importing_mlflow(server, tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "MLFLOW_TRACKING_URI": server,
           "MLFLOW_EXPERIMENT_NAME": "trials", "LABWORKS_JOB_ID": "job7",
           "PYTHONPATH": str(Path(__file__).resolve().parents[3] / "kernels")}  # fmt: skip
    for _ in range(2):  # the experiment is made by the first process, found by the second
        done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True,
                              text=True, timeout=120)  # fmt: skip
        assert done.returncode == 0, done.stderr
        client = MlflowClient(server)
        run = client.get_run(done.stdout.strip())
        experiment = client.get_experiment_by_name("trials")
        assert experiment is not None and run.info.experiment_id == experiment.experiment_id
        assert run.info.status == "FINISHED"  # ended at exit
        assert run.data.tags["labworks.job.id"] == "job7"  # the lineage tags: sweeps find it
        history = client.get_metric_history(run.info.run_id, "loss")
        assert [(m.step, m.value) for m in history] == [(1, 0.5), (2, 0.25)]
        assert run.data.metrics["acc"] == 0.9
    runs = client.search_runs([experiment.experiment_id])
    assert len(runs) == 2
