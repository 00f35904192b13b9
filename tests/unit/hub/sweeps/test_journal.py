"""Optuna's journal in the platform store: replayed exactly, shared by processes, no line lost."""

from __future__ import annotations

import multiprocessing
import signal
import time

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


def _endless_worker(url: str, sweep_id: str) -> None:
    """Asks and tells until killed, holding a trial open part of the time."""
    db = Store(url)
    study = optuna.load_study(study_name=sweep_id, storage=storage(db, sweep_id))
    while True:
        trial = study.ask()
        x = trial.suggest_float("x", 0, 1)
        time.sleep(0.01)
        study.tell(trial, x)


def test_a_killed_process_loses_none_of_the_others_trials_nor_its_own(store):
    """kill -9 of one of four processes on a study: the others finish theirs, every trial the
    killed one told stays told, and at most the one it held open is left running."""
    sweep_id = new_sweep(store)
    optuna.create_study(study_name=sweep_id, storage=storage(store, sweep_id))
    context = multiprocessing.get_context("spawn")
    victim = context.Process(target=_endless_worker, args=(store.url, sweep_id))
    victim.start()
    workers = [context.Process(target=_worker, args=(store.url, sweep_id, 25)) for _ in range(3)]
    for worker in workers:
        worker.start()
    study = optuna.load_study(study_name=sweep_id, storage=storage(store, sweep_id))
    deadline = time.monotonic() + 120
    while len(study.get_trials(deepcopy=False)) < 40:  # the victim is well into its trials
        assert time.monotonic() < deadline, "the processes made no progress"
        time.sleep(0.02)
    victim.kill()
    victim.join(30)
    assert victim.exitcode == -signal.SIGKILL
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0  # no "database is locked", no error of any kind
    study = optuna.load_study(study_name=sweep_id, storage=storage(store, sweep_id))
    trials = study.get_trials(deepcopy=False)
    assert sorted(t.number for t in trials) == list(range(len(trials)))  # none lost or doubled
    states = [t.state for t in trials]
    complete = states.count(optuna.trial.TrialState.COMPLETE)
    assert complete >= 75  # the three survivors' 75 trials, and the victim's told ones
    assert states.count(optuna.trial.TrialState.RUNNING) <= 1  # the one it held, if any
    assert complete + states.count(optuna.trial.TrialState.RUNNING) == len(trials)
    trial = study.ask()  # and the study goes on
    study.tell(trial, 0.5)
