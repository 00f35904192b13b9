"""Parameter importance is computed again only when a trial has completed since: the panel
and `sweeps.watch` ask every few seconds, and each computation costs the trials CPU."""

from __future__ import annotations

import optuna

from labworks_hub.service.sweeps import operations as ops
from labworks_hub.service.sweeps.engine import SweepEngine

from .test_delete import engine  # noqa: F401 (fixture)


def test_importance_is_remembered_until_a_trial_completes(engine: SweepEngine):  # noqa: F811
    computed: list[int] = []

    def compute(n: int):
        return lambda: computed.append(n) or {"x": float(n)}

    assert engine.remembered_importance("s1", 4, compute(4)) == {"x": 4.0}
    assert engine.remembered_importance("s1", 4, compute(99)) == {"x": 4.0}
    assert engine.remembered_importance("s1", 5, compute(5)) == {"x": 5.0}
    assert engine.remembered_importance("s2", 5, compute(7)) == {"x": 7.0}  # per sweep
    assert computed == [4, 5, 7]
    engine.forget("s1")
    assert engine.remembered_importance("s1", 5, compute(8)) == {"x": 8.0}


def test_importance_names_the_parameter_that_matters():
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=3))
    study.optimize(lambda t: t.suggest_float("x", -1, 1) ** 2 + 0 * t.suggest_float("y", 0, 1), 30)
    importance = ops._importance(study)
    assert set(importance) == {"x", "y"} and importance["x"] > importance["y"]
