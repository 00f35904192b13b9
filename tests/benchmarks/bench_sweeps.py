"""Sweeps: the study's storage and the sampler, against Optuna on its own (same run).

1. Study storage: 1,000 random trials with no work in them through Labworks' storage (Optuna's
   journal in the platform store, SQLite) against Optuna's in-memory storage. Goal: ratio <= 5
   (Optuna's plain RDB storage on SQLite is about 50x, optuna#3921); the same through
   `RDBStorage` is printed for comparison.
2. Sampler overhead: TPE's time to suggest a trial's parameters (3 dimensions) once 200 trials
   are in the study. Goal: < 50 ms per trial.
3. Trials: a random sweep of 32 trials of a one-cell notebook (it logs its objective with
   `labworks.track.log_metric`, MLflow's REST API), parallelism 2 on a platform with 2 job
   slots, from its creation to `succeeded`, against 16 bare `papermill` runs of the same
   notebook one after the other, logging to the same tracking server. Trials after the first
   run on warm kernels (docs/admin-guide.md#warm-kernels). Goal: ratio <= 0.5.

Run with `make bench`.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import nbformat
import optuna

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from labworks_hub.service.access import Viewer
from labworks_hub.service.store import Store
from labworks_hub.service.store import jobs as job_store
from labworks_hub.service.store.sweeps import Sweep
from labworks_hub.service.sweeps.journal import StoreJournal
from labworks_hub.service.tracking.env import tracking_env
from tests.benchmarks.bench_jobs import LOCAL_CONFIG, PAPERMILL, SLOTS
from tests.platform import API, Platform

optuna.logging.set_verbosity(optuna.logging.WARNING)
TRIALS = 1000
STORAGE_GOAL = 5.0
TPE_TRIALS = 200
TPE_GOAL_MS = 50.0
SWEEP_TRIALS, BARE_RUNS, TRIALS_GOAL = 32, 16, 0.5


def new_sweep(db: Store) -> str:
    with db.session() as session:
        sha = job_store.save_notebook(session, '{"cells": []}')
        definition = job_store.create_definition(
            session, Viewer("bench"), None, name="nb", notebook_sha256=sha, profile="cpu",
            timeout=60,
        )  # fmt: skip
        sweep = Sweep(
            owner="bench", name="bench", definition_id=definition.id, metric="loss",
            direction="minimize", sampler="random", n_trials=TRIALS,
        )  # fmt: skip
        session.add(sweep)
        session.flush()
        return sweep.id


def random_trials(storage, name: str) -> float:
    """Seconds for TRIALS ask/tell rounds of a random sampler, nothing else in them."""
    study = optuna.create_study(
        study_name=name, storage=storage, sampler=optuna.samplers.RandomSampler(seed=1)
    )
    start = time.perf_counter()
    for _ in range(TRIALS):
        trial = study.ask()
        study.tell(trial, trial.suggest_float("x", -1, 1) ** 2)
    return time.perf_counter() - start


def tpe_overhead_ms(storage, name: str) -> float:
    """Median ms TPE takes to suggest a trial's three parameters, past TPE_TRIALS trials."""
    study = optuna.create_study(
        study_name=name, storage=storage, sampler=optuna.samplers.TPESampler(seed=1)
    )
    samples = []
    for n in range(TPE_TRIALS + 20):
        start = time.perf_counter()
        trial = study.ask()
        x = trial.suggest_float("x", -2, 2)
        lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
        kind = trial.suggest_categorical("kind", ["a", "b", "c"])
        if n >= TPE_TRIALS:
            samples.append(time.perf_counter() - start)
        study.tell(trial, (x - 0.5) ** 2 + lr + (kind == "b"))
    return statistics.median(samples) * 1000


def trial_notebook() -> dict:
    cells = [
        nbformat.v4.new_code_cell("x = 0.0"),
        nbformat.v4.new_code_cell(
            "from labworks import track\ntrack.log_metric('loss', (x - 1) ** 2)"
        ),
    ]
    cells[0].metadata["tags"] = ["parameters"]
    nb = nbformat.v4.new_notebook(cells=cells)
    for n, cell in enumerate(nb.cells):
        cell["id"] = f"c{n}"
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}  # fmt: skip
    return json.loads(nbformat.writes(nb))


def sweep_seconds(platform: Platform, token: str, content: dict) -> float:
    """From creating a 32-trial sweep to the API saying it succeeded."""
    client = httpx.Client(base_url=platform.url + API, timeout=60,
                          headers={"Authorization": f"token {token}"})  # fmt: skip
    body = {"content": content, "space": {"x": {"type": "float", "low": -2, "high": 2}},
            "metric": "loss", "sampler": "random", "seed": 1, "trials": SWEEP_TRIALS,
            "parallel": SLOTS}  # fmt: skip
    start = time.monotonic()
    reply = client.post("/sweeps", json=body)
    reply.raise_for_status()
    while (sweep := client.get(f"/sweeps/{reply.json()['id']}").json())["status"] == "running":
        time.sleep(0.1)
    seconds = time.monotonic() - start
    if sweep["status"] != "succeeded":
        raise RuntimeError(f"the benchmark sweep {sweep['status']}: {sweep.get('reason')}")
    return seconds


def bare_seconds(platform: Platform, token: str, folder: Path, source: Path) -> float:
    """BARE_RUNS bare papermill runs of the notebook, logging to the same tracking server."""
    env = {**os.environ, **tracking_env(platform.url + API, "bench", token)}
    start = time.monotonic()
    for n in range(BARE_RUNS):
        subprocess.run([*PAPERMILL, str(source), str(folder / f"bare-{n}.ipynb"), "-p", "x",
                        str(n / BARE_RUNS)], check=True, capture_output=True, env=env)  # fmt: skip
    return time.monotonic() - start


def trials_ratio() -> None:
    content = trial_notebook()
    with tempfile.TemporaryDirectory(prefix="labworks-bench-sweeps-") as tmp:
        folder = Path(tmp)
        source = folder / "trial.ipynb"
        source.write_text(json.dumps(content))
        (folder / "lw").mkdir()
        (folder / "lw" / "jupyterhub_config.local.py").write_text(LOCAL_CONFIG)
        platform = Platform(folder / "lw").start()
        try:
            platform.add_user("bench")
            token = platform.token("bench")
            bare = bare_seconds(platform, token, folder, source)
            ours = sweep_seconds(platform, token, content)
        finally:
            platform.stop()
    ratio = ours / bare
    verdict = "OK" if ratio <= TRIALS_GOAL else "MISSED"
    print(f"{SWEEP_TRIALS} trials, parallelism {SLOTS}: {ours:.1f} s;"
          f" {BARE_RUNS} bare papermill runs: {bare:.1f} s")  # fmt: skip
    print(f"  ratio = {ratio:.2f} (goal <= {TRIALS_GOAL:g}) {verdict}")


def main() -> None:
    trials_ratio()
    with tempfile.TemporaryDirectory() as folder:
        db = Store(f"sqlite:///{folder}/store.sqlite")
        db.migrate()
        memory = min(random_trials(None, f"m{n}") for n in range(3))
        ours = min(random_trials(optuna.storages.JournalStorage(StoreJournal(db, s)), s)
                   for s in (new_sweep(db) for _ in range(3)))  # fmt: skip
        rdb = random_trials(f"sqlite:///{folder}/optuna.sqlite", "rdb")
        ratio = ours / memory
        print(f"study storage, {TRIALS} random trials: in-memory {memory:.2f} s,"
              f" Labworks {ours:.2f} s, Optuna RDB on SQLite {rdb:.2f} s")  # fmt: skip
        verdict = "OK" if ratio <= STORAGE_GOAL else "MISSED"
        print(f"  ratio Labworks / in-memory = {ratio:.1f} (goal <= {STORAGE_GOAL:g};"
              f" RDB: {rdb / memory:.1f}) {verdict}")  # fmt: skip
        sweep_id = new_sweep(db)
        tpe = tpe_overhead_ms(optuna.storages.JournalStorage(StoreJournal(db, sweep_id)), sweep_id)
        verdict = "OK" if tpe < TPE_GOAL_MS else "MISSED"
        print(f"TPE overhead per trial at {TPE_TRIALS} trials: {tpe:.1f} ms"
              f" (goal < {TPE_GOAL_MS:g} ms) {verdict}")  # fmt: skip
        db.dispose()


if __name__ == "__main__":
    main()
