"""The Experiments panel's runs table at 10,000 runs with 200 metrics each.

The real platform (`labworks up` in a temporary home: the hub, the platform service with its
tracking server on a SQLite file) holds one experiment of --runs runs, each with --metrics
metrics, 10 parameters and 2 tags. The bench user creates the experiment through the tracking
server (so they own it); its first run is logged through MLflow's own store
(`SqlAlchemyStore.log_batch`), the rest are bulk copies of the rows log_batch writes (runs,
metrics, latest_metrics, params, tags) into the platform's MLflow database, since only the
query is measured. A Jupyter server with the Labworks extension forwards to the platform
service's own address with the user's token, as a workspace does. The query is the one the
panel sends for a page of the table (labextension/src/common/experiments/client.ts
`searchRuns`, page size `RUNS_PAGE` in runs.ts, 6 metric and 4 parameter columns):
`experiments/runs/table` through the extension, --queries times after a warm-up. Goal: p95 <
100 ms. The same page sorted by a metric, and what the panel asked before (MLflow's own
`runs/search`, every metric of every run, through the lab; --mlflow-queries times) are printed
too.

Run with `make bench`, or `python tests/benchmarks/bench_runs_table.py --runs 2000` for a
quicker look.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.platform import API, Platform, free_port, stop_group

PREFIX = "/services/labworks"
PAGE = 25  # RUNS_PAGE of labextension/src/panels/experiments/runs.ts
PARAMS = 10
GOAL_MS = 100.0
ENV = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"}


def fill_store(db: Path, experiment: str, runs: int, metrics: int) -> None:
    """`runs` runs in `experiment` of MLflow's SQLite database `db`."""
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.store.tracking.dbmodels.models import (
        SqlLatestMetric,
        SqlMetric,
        SqlParam,
        SqlRun,
        SqlTag,
    )
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    store = SqlAlchemyStore(f"sqlite:///{db}", "mlflow-artifacts:/")
    now = int(time.time() * 1000)
    rng = random.Random(7)
    first = store.create_run(experiment, "bench", now, [RunTag("team", "a")], "run-0")
    store.log_batch(
        first.info.run_id,
        metrics=[Metric(f"m{j:03d}", rng.random(), now, 0) for j in range(metrics)],
        params=[Param(f"p{k}", str(rng.randint(0, 100))) for k in range(PARAMS)],
        tags=[],
    )
    rows: dict[type, list[tuple]] = {
        SqlRun: [], SqlMetric: [], SqlLatestMetric: [], SqlParam: [], SqlTag: []
    }  # fmt: skip
    for i in range(1, runs):
        run_id = uuid.uuid4().hex
        rows[SqlRun].append(
            (run_id, f"run-{i}", "LOCAL", "", "", "bench", "FINISHED", now + i, now + i + 1000,
             "", "active", f"mlflow-artifacts:/{experiment}/{run_id}/artifacts", int(experiment))
        )  # fmt: skip
        for j in range(metrics):
            metric = (f"m{j:03d}", rng.random(), now, 0, False, run_id)
            rows[SqlMetric].append(metric)
            rows[SqlLatestMetric].append(metric)
        rows[SqlParam].extend((f"p{k}", str(rng.randint(0, 100)), run_id) for k in range(PARAMS))
        rows[SqlTag].extend(
            [("mlflow.runName", f"run-{i}", run_id), ("team", rng.choice("abc"), run_id)]
        )
    columns = {
        SqlRun: ("run_uuid", "name", "source_type", "source_name", "entry_point_name",
                 "user_id", "status", "start_time", "end_time", "source_version",
                 "lifecycle_stage", "artifact_uri", "experiment_id"),
        SqlMetric: ("key", "value", "timestamp", "step", "is_nan", "run_uuid"),
        SqlLatestMetric: ("key", "value", "timestamp", "step", "is_nan", "run_uuid"),
        SqlParam: ("key", "value", "run_uuid"),
        SqlTag: ("key", "value", "run_uuid"),
    }  # fmt: skip
    raw = store.engine.raw_connection()
    try:
        cursor = raw.cursor()
        for model, names in columns.items():
            marks = ", ".join("?" * len(names))
            cursor.executemany(
                f"INSERT INTO {model.__tablename__} ({', '.join(names)}) VALUES ({marks})",
                rows[model],
            )
        raw.commit()
    finally:
        raw.close()
    copied = store.get_run(store.search_runs([experiment], "", 1, 1)[0].info.run_id)
    logged = store.get_run(first.info.run_id)
    assert len(copied.data.metrics) == len(logged.data.metrics) == metrics
    assert len(copied.data.params) == len(logged.data.params) == PARAMS
    store.engine.dispose()


def start(
    argv: list[str], env: dict[str, str], url: str, log: Path, headers=None
) -> subprocess.Popen:
    """Start a server (its output in `log`) and wait until `url` answers 200."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            argv, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, headers=headers, timeout=5).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{argv[:3]} exited with {proc.returncode}:\n{tail}")
        time.sleep(0.25)
    stop_group(proc)
    raise RuntimeError(f"{url} did not answer in 240 s")


def timed(client: httpx.Client, url: str, body: dict, count: int, warmup: int = 5) -> list[float]:
    """Milliseconds of `count` POSTs of `body`, after `warmup` more; each must list a page,
    with only the asked columns when it asks for some."""
    times = []
    for i in range(warmup + count):
        begin = time.perf_counter()
        reply = client.post(url, json=body)
        elapsed = (time.perf_counter() - begin) * 1000
        reply.raise_for_status()
        runs = reply.json()["runs"]
        assert len(runs) == body["max_results"], reply.text[:300]
        if "columns" in body:
            asked = set(body["columns"]["metrics"])
            assert {m["key"] for m in runs[0]["data"]["metrics"]} == asked, runs[0]
        if i >= warmup:
            times.append(elapsed)
    return times


def p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--metrics", type=int, default=200, help="metrics per run")
    parser.add_argument("--queries", type=int, default=50, help="timed queries of each kind")
    parser.add_argument(
        "--mlflow-queries", type=int, default=10, help="timed runs/search queries of each kind"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="labworks-bench-runs-") as tmp:
        root = Path(tmp)
        (root / "lw").mkdir()
        platform = Platform(root / "lw")
        lab = None
        try:
            platform.start()
            platform.add_user("bench")
            token = platform.token("bench")
            service = platform.service_url
            auth = {"Authorization": f"token {token}"}
            created = httpx.post(
                f"{service}{PREFIX}/mlflow/api/2.0/mlflow/experiments/create",
                json={"name": "bench-runs-table"}, headers=auth, timeout=120,
            )  # fmt: skip
            created.raise_for_status()
            experiment = created.json()["experiment_id"]
            began = time.monotonic()
            tracking_db = platform.home / "platform" / "mlflow.sqlite"
            fill_store(tracking_db, experiment, args.runs, args.metrics)
            print(
                f"{args.runs} runs x {args.metrics} metrics stored in"
                f" {time.monotonic() - began:.0f} s"
            )
            lab_port, lab_token = free_port(), secrets.token_hex(16)
            lab_env = {**ENV, "JUPYTERHUB_API_TOKEN": token}
            lab_env.pop("JUPYTERHUB_USER", None)
            lab_auth = {"Authorization": f"token {lab_token}"}
            lab = start(
                [sys.executable, "-m", "jupyter_server", "--no-browser", "--allow-root",
                 "--ip", "127.0.0.1",
                 f"--port={lab_port}", f"--ServerApp.root_dir={root}",
                 f"--IdentityProvider.token={lab_token}",
                 f"--LabworksServerApp.api_url={service}{API}",
                 "--LabworksServerApp.request_timeout=60"],
                lab_env, f"http://127.0.0.1:{lab_port}/api/status", root / "lab.log", lab_auth,
            )  # fmt: skip
            columns = {"metrics": [f"m{j:03d}" for j in range(6)],
                       "params": [f"p{k}" for k in range(4)], "tags": []}  # fmt: skip
            body = {"experiment_ids": [experiment], "filter": "", "max_results": PAGE,
                    "order_by": [], "columns": columns}  # fmt: skip
            by_metric = {**body, "order_by": ["metrics.m042 DESC"]}
            mlflow_body = {"experiment_ids": [experiment], "filter": "",
                           "run_view_type": "ACTIVE_ONLY", "max_results": PAGE,
                           "order_by": []}  # fmt: skip
            table = f"http://127.0.0.1:{lab_port}/labworks/experiments/runs/table"
            search = f"http://127.0.0.1:{lab_port}/labworks/mlflow/api/2.0/mlflow/runs/search"
            with httpx.Client(timeout=300, headers=lab_auth) as client:
                page = timed(client, table, body, args.queries)
                sorted_page = timed(client, table, by_metric, args.queries)
                mlflow_page = timed(client, search, mlflow_body, args.mlflow_queries, 1)
                mlflow_sorted = timed(
                    client, search, {**mlflow_body, "order_by": by_metric["order_by"]},
                    max(1, args.mlflow_queries // 3), 1,
                )  # fmt: skip
        finally:
            if lab is not None:
                stop_group(lab)
            platform.stop()

    def line(label: str, times: list[float]) -> str:
        ordered = sorted(times)
        return f"{label}: p50 {ordered[len(ordered) // 2]:.0f} ms, p95 {p95(times):.0f} ms"

    print(line(f"MLflow's runs/search, one page ({PAGE} runs, every column), through the lab",
               mlflow_page))  # fmt: skip
    print(line("MLflow's runs/search, the same sorted by a metric", mlflow_sorted))
    print(line(f"one page ({PAGE} runs, 10 columns) sorted by a metric, through the lab",
               sorted_page))  # fmt: skip
    print(line(f"one page ({PAGE} runs, 10 columns) through the lab", page))
    ratio = p95(page) / GOAL_MS
    verdict = "OK" if ratio <= 1.0 else "OVER GOAL"
    print(
        f"bench_runs_table page p95 ratio: {ratio:.2f} (goal <= 1.0, i.e. p95 < 100 ms) {verdict}"
    )


if __name__ == "__main__":
    main()
