"""Sweeps: the study's storage and the sampler, against Optuna on its own (same run).

1. Study storage: 1,000 random trials with no work in them through Labworks' storage (Optuna's
   journal in the platform store, SQLite) against Optuna's in-memory storage. Goal: ratio <= 5
   (Optuna's plain RDB storage on SQLite is about 50x, optuna#3921); the same through
   `RDBStorage` is printed for comparison.
2. Sampler overhead: TPE's time to suggest a trial's parameters (3 dimensions) once 200 trials
   are in the study. Goal: < 50 ms per trial.

Not measured here yet: trials from warm kernels (the pool is not built). Run with `make bench`.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import optuna

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from labworks_hub.service.access import Viewer
from labworks_hub.service.store import Store
from labworks_hub.service.store import jobs as job_store
from labworks_hub.service.store.sweeps import Sweep
from labworks_hub.service.sweeps.journal import StoreJournal

optuna.logging.set_verbosity(optuna.logging.WARNING)
TRIALS = 1000
STORAGE_GOAL = 5.0
TPE_TRIALS = 200
TPE_GOAL_MS = 50.0


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


def main() -> None:
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
