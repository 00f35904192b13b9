"""Optuna's journal in the platform store: replayed exactly, shared by processes, no line lost."""

from __future__ import annotations

import multiprocessing

import optuna
import pytest

from labworks_hub.service.access import Viewer
from labworks_hub.service.store import Store
from labworks_hub.service.store import jobs as job_store
from labworks_hub.service.store import sweeps as store
from labworks_hub.service.store.sweeps import Sweep
from labworks_hub.service.sweeps.journal import GoneError, StoreJournal

optuna.logging.set_verbosity(optuna.logging.WARNING)


def new_sweep(db: Store) -> str:
    with db.session() as session:
        sha = job_store.save_notebook(session, '{"cells": []}')
        definition = job_store.create_definition(
            session, Viewer("ann"), None, name="nb", notebook_sha256=sha, profile="cpu",
            timeout=60,
        )  # fmt: skip
        sweep = Sweep(
            owner="ann", name="s", definition_id=definition.id, metric="loss",
            direction="minimize", sampler="random", n_trials=10,
        )  # fmt: skip
        session.add(sweep)
        session.flush()
        return sweep.id


def storage(db: Store, sweep_id: str) -> optuna.storages.JournalStorage:
    return optuna.storages.JournalStorage(StoreJournal(db, sweep_id))


def test_a_study_replays_from_the_store(store):
    sweep_id = new_sweep(store)
    study = optuna.create_study(study_name=sweep_id, storage=storage(store, sweep_id))
    study.optimize(lambda t: (t.suggest_float("x", -1, 1) - 0.5) ** 2, n_trials=20)
    again = optuna.load_study(study_name=sweep_id, storage=storage(store, sweep_id))
    assert len(again.trials) == 20
    assert again.best_params == study.best_params
    assert again.best_value == study.best_value
    with store.session() as session:
        assert store_length(session, sweep_id) > 20


def store_length(session, sweep_id: str) -> int:
    return store.journal_length(session, sweep_id)


def test_appending_for_a_sweep_that_is_gone_fails_at_once(store):
    journal = StoreJournal(store, "0123456789ab")
    with pytest.raises(GoneError, match="sweep 0123456789ab is gone"):
        journal.append_logs([{"op_code": 0}])


def test_a_lost_connection_is_opened_again(store):
    sweep_id = new_sweep(store)
    journal = StoreJournal(store, sweep_id)
    journal.append_logs([{"n": 0}])
    assert list(journal.read_logs(0)) == [{"n": 0}]
    assert journal._connection is not None
    journal._connection.invalidate()  # as when the database restarts
    assert list(journal.read_logs(1)) == []
    journal.append_logs([{"n": 1}])
    journal._connection.invalidate()
    journal.append_logs([{"n": 2}])
    assert list(journal.read_logs(0)) == [{"n": 0}, {"n": 1}, {"n": 2}]
    journal.close()


def test_lines_another_process_wrote_are_read(store):
    """What another writer appended is seen, though this journal's own lines come from
    memory (SQLite's data_version says someone else committed)."""
    sweep_id = new_sweep(store)
    mine, theirs = StoreJournal(store, sweep_id), StoreJournal(Store(store.url), sweep_id)
    mine.append_logs([{"n": 0}])
    assert list(mine.read_logs(0)) == [{"n": 0}]
    theirs.append_logs([{"n": 1}])
    mine.append_logs([{"n": 2}])
    assert list(mine.read_logs(1)) == [{"n": 1}, {"n": 2}]
    assert list(theirs.read_logs(0)) == [{"n": 0}, {"n": 1}, {"n": 2}]
    mine.close()
    theirs.close()


def _worker(url: str, sweep_id: str, trials: int) -> None:
    db = Store(url)
    study = optuna.load_study(
        study_name=sweep_id,
        storage=storage(db, sweep_id),
        sampler=optuna.samplers.RandomSampler(),
    )
    for _ in range(trials):
        trial = study.ask()
        study.tell(trial, trial.suggest_float("x", 0, 1))
    db.dispose()


def test_four_processes_share_a_study_without_losing_a_trial(store):
    sweep_id = new_sweep(store)
    optuna.create_study(study_name=sweep_id, storage=storage(store, sweep_id))
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_worker, args=(store.url, sweep_id, 25)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    study = optuna.load_study(study_name=sweep_id, storage=storage(store, sweep_id))
    numbers = sorted(t.number for t in study.trials)
    assert numbers == list(range(100))  # every trial once, none lost, none doubled
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)
