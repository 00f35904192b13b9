"""Does a sweep find good parameters? Seeded sweeps through the real platform: TPE against
random trials on a quadratic, and TPE tuning a tiny scikit-learn model (issue 16, "Tests").

Every value is checked against the function the notebook computes, so a sweep that reads the
wrong metric or runs the wrong parameters fails here as well as one whose sampler ignores the
objective."""

from __future__ import annotations

import inspect
import statistics

import optuna
import pytest

from tests.integration.test_jobs import call, notebook
from tests.integration.test_sweeps import wait_sweep

pytestmark = pytest.mark.e2e

# The sweeps are seeded: what varies from run to run is only the order in which trials end,
# which changes what TPE has seen when it draws. With this seed (Optuna 4.9) TPE passes the
# test below in each of 120 orders replayed offline, and a TPE told a constant or the wrong
# direction fails it in 198 of 200. Across seeds, TPE's best beats random's best at 14 trials
# under half the time, so a new Optuna may need a new seed.
SEED = 12
PARALLEL = 2  # the local executor's job slots

# (x - 1)^2 + (y + 2)^2 on [-5, 5]^2: 0 at (1, -2), about 22 on average.
BOWL = notebook(
    "from labworks import track\ntrack.log_metric('loss', (x - 1) ** 2 + (y + 2) ** 2)",
    parameters="x = 0.0\ny = 0.0\n",
)
PLANE = {name: {"type": "float", "low": -5, "high": 5} for name in ("x", "y")}
BOWL_TRIALS = 14
# TPE's first trials are drawn at random, as the random sampler draws them; it uses the
# objective from then on.
STARTUP = inspect.signature(optuna.samplers.TPESampler).parameters["n_startup_trials"].default

# A ridge regression on fixed synthetic data with an intercept of 50: the notebook as written
# (no intercept) fits badly. FIT is run both in the trials and here, to check their values.
FIT = """\
from sklearn.datasets import make_regression
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import train_test_split

X, y = make_regression(n_samples=200, n_features=8, noise=10.0, bias=50.0, random_state=0)
X_fit, X_val, y_fit, y_val = train_test_split(X, y, test_size=0.25, random_state=0)
model = Ridge(alpha=alpha, fit_intercept=fit_intercept).fit(X_fit, y_fit)
val_mse = mean_squared_error(y_val, model.predict(X_val))
"""
RIDGE = notebook(
    "from labworks import track\n" + FIT + "track.log_metric('val_mse', val_mse)",
    parameters="alpha = 1.0\nfit_intercept = False\n",
)
RIDGE_SPACE = {
    "alpha": {"type": "log-float", "low": 1e-3, "high": 1e3},
    "fit_intercept": {"type": "categorical", "choices": [True, False]},
}
RIDGE_TRIALS = 4


def bowl(x: float, y: float) -> float:
    return (x - 1) ** 2 + (y + 2) ** 2


def val_mse(**params) -> float:
    scope = dict(params)
    exec(FIT, scope)  # noqa: S102 - the module's own constant
    return scope["val_mse"]


@pytest.fixture(scope="module")
def token(platform):
    platform.add_user("quill")
    return platform.token("quill")


def start(platform, token: str, content: dict, space: dict, metric: str, **fields) -> str:
    body = {"content": content, "space": space, "metric": metric, "parallel": PARALLEL,
            "seed": SEED, **fields}  # fmt: skip
    reply = call(platform, token, "POST", "/sweeps", json=body)
    assert reply.status_code == 201, reply.text
    return reply.json()["id"]


def finished(platform, token: str, sweep_id: str, trials: int) -> dict:
    """The sweep once it ended, checked: `trials` complete trials, each its own job, and the
    best one the lowest."""
    sweep = wait_sweep(platform, token, sweep_id)
    assert sweep["status"] == "succeeded", sweep
    assert sweep["counts"] == {"running": 0, "complete": trials, "pruned": 0, "fail": 0}
    done = sweep["trial_list"]
    assert len(done) == trials and len({t["job_id"] for t in done}) == trials
    best = min(done, key=lambda t: t["value"])
    assert sweep["best_value"] == best["value"]
    assert sweep["best_params"] == best["params"]
    return sweep


def test_a_tpe_sweep_of_a_quadratic_beats_random_trials(platform, token):
    # Both at once: they share the job slots, so neither waits for the other to end.
    ids = [
        start(platform, token, BOWL, PLANE, "loss", sampler=sampler, trials=BOWL_TRIALS)
        for sampler in ("tpe", "random")
    ]
    tpe, rnd = (finished(platform, token, sweep_id, BOWL_TRIALS) for sweep_id in ids)
    for trial in tpe["trial_list"] + rnd["trial_list"]:
        assert trial["value"] == pytest.approx(bowl(**trial["params"]))
    random_values = [t["value"] for t in rnd["trial_list"]]
    assert tpe["best_value"] < statistics.mean(random_values)
    assert tpe["best_value"] < rnd["best_value"]
    # Once past its random start, TPE searches where the objective was low: its trials
    # average well under random ones (a sampler ignoring the objective would not).
    guided = [t["value"] for t in tpe["trial_list"] if t["number"] >= STARTUP]
    assert guided and statistics.mean(guided) < statistics.mean(random_values) / 2, (
        guided, random_values,
    )  # fmt: skip


def test_a_tpe_sweep_tunes_a_small_scikit_learn_model(platform, token):
    sweep_id = start(platform, token, RIDGE, RIDGE_SPACE, "val_mse", trials=RIDGE_TRIALS)
    sweep = finished(platform, token, sweep_id, RIDGE_TRIALS)
    trials = sweep["trial_list"]
    for trial in trials:  # each value is the validation error of the trial's own model
        assert trial["value"] == pytest.approx(val_mse(**trial["params"]), rel=1e-9)
    assert len({t["value"] for t in trials}) > 1, trials  # the parameters reached the model
    assert sweep["best_value"] < statistics.mean(t["value"] for t in trials)
    assert sweep["best_params"] in [t["params"] for t in trials]
    assert sweep["best_params"]["fit_intercept"] is True, sweep["best_params"]
    # and the sweep improved on the notebook as written
    assert sweep["best_value"] < val_mse(alpha=1.0, fit_intercept=False)
