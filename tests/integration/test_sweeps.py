"""Sweeps through the real platform: trials as real papermill jobs, Optuna's study in the
store, MLflow child runs, clear refusals, and who may see what."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time

import httpx
import pytest

from tests.integration.test_jobs import call, cli, notebook, service_pid, submit, wait_job
from tests.platform import LABWORKS

pytestmark = pytest.mark.e2e

QUADRATIC = notebook(
    "import mlflow\nmlflow.log_metric('loss', (x - 0.5) ** 2 + (0 if kind == 'a' else 0.25))",
    parameters="x = 0.0\nkind = 'a'\n",
)
SPACE = {
    "x": {"type": "float", "low": -2, "high": 2},
    "kind": {"type": "categorical", "choices": ["a", "b"]},
}


@pytest.fixture(scope="module")
def people(platform):
    platform.add_user("swan", "--group", "sweepers")
    platform.add_user("swen", "--group", "sweepers")
    platform.add_user("swop")
    return {name: platform.token(name) for name in ("swan", "swen", "swop")}


def create(platform, token: str, **fields) -> httpx.Response:
    body = {"content": QUADRATIC, "space": SPACE, "metric": "loss", **fields}
    return call(platform, token, "POST", "/sweeps", json=body)


def wait_sweep(platform, token: str, sweep_id: str, timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        sweep = call(platform, token, "GET", f"/sweeps/{sweep_id}").json()
        if sweep["status"] != "running":
            return sweep
        assert time.monotonic() < deadline, sweep
        time.sleep(0.5)


def test_a_random_sweep_runs_its_trials_as_jobs_and_finds_the_best(platform, people):
    token = people["swan"]
    reply = create(platform, token, sampler="random", trials=4, parallel=2, seed=7)
    assert reply.status_code == 201, reply.text
    sweep = wait_sweep(platform, token, reply.json()["id"])
    assert sweep["status"] == "succeeded", sweep
    assert sweep["counts"] == {"running": 0, "complete": 4, "pruned": 0, "fail": 0}
    trials = sweep["trial_list"]
    assert len({t["job_id"] for t in trials}) == 4
    values = [t["value"] for t in trials]
    for t in trials:  # each value is what the notebook computed from the trial's parameters
        expected = (t["params"]["x"] - 0.5) ** 2 + (0 if t["params"]["kind"] == "a" else 0.25)
        assert t["value"] == pytest.approx(expected)
    assert sweep["best_value"] == min(values)
    assert set(sweep["importance"]) == {"x", "kind"}  # Optuna's importance of each parameter
    assert sum(sweep["importance"].values()) == pytest.approx(1, abs=1e-3)
    best = next(t for t in trials if t["value"] == min(values))
    assert sweep["best_params"] == best["params"]
    assert sweep["best_run_id"] == best["mlflow_run_id"]
    # every trial is a job of the owner with the trial's parameters
    job = call(platform, token, "GET", f"/jobs/{best['job_id']}").json()
    assert job["status"] == "succeeded" and job["parameters"] == best["params"]
    # and its MLflow run is a child of the sweep's parent run
    run = httpx.get(
        platform.url + "/services/labworks/mlflow/api/2.0/mlflow/runs/get",
        params={"run_id": best["mlflow_run_id"]}, headers={"Authorization": f"token {token}"},
    )  # fmt: skip
    assert run.status_code == 200, run.text
    tags = {t["key"]: t["value"] for t in run.json()["run"]["data"]["tags"]}
    assert tags["mlflow.parentRunId"] == sweep["parent_run_id"]
    # the notebook SDK reads the same sweep, and its widget shows the finished progress
    sdk = submit(
        platform, token,
        notebook(
            "from labworks import sweeps\n"
            f"print(sweeps.summary(sweeps.show({sweep['id']!r})))\n"
            f"w = sweeps.watch({sweep['id']!r})\n"
            "print('widget', w.children[0].value, w.children[0].max, w.children[0].bar_style)"
        ),
    )  # fmt: skip
    assert wait_job(platform, token, sdk["id"])["status"] == "succeeded"
    log = call(platform, token, "GET", f"/jobs/{sdk['id']}/logs").json()["text"]
    assert "succeeded · 4/4 done" in log and "widget 4 4 success" in log


def test_bad_sweeps_are_refused_naming_the_field(platform, people):
    token = people["swan"]
    cases = [
        ({"space": {"y": {"type": "float", "low": 0, "high": 1}}}, "no parameter 'y'"),
        ({"space": {"x": {"type": "float", "low": 1, "high": 0}}}, "space.x: low"),
        ({"space": {}}, "give at least one parameter"),
        ({"space": {"kind": {"type": "int", "low": 0, "high": 3}}}, "space.kind"),
        ({"sampler": "grid"}, "sampler: grid needs every parameter finite"),
        ({"sampler": "cmaes"}, "sampler: cmaes searches numbers only"),
        ({"parallel": 64}, "parallel: 64 trials at once"),
        ({"parameters": {"x": 1.0}}, "parameters: x are searched"),
        ({"profile": "no-such-profile"}, "no-such-profile"),
    ]
    for fields, message in cases:
        reply = create(platform, token, **fields)
        assert reply.status_code == 400, (fields, reply.text)
        assert message in reply.json()["message"], (fields, reply.text)


def test_a_sweep_whose_notebook_never_logs_the_metric_fails_fast(platform, people):
    token = people["swan"]
    silent = notebook("print(x)", parameters="x = 0.0\n")
    reply = call(
        platform, token, "POST", "/sweeps",
        json={"content": silent, "space": {"x": SPACE["x"]}, "metric": "loss",
              "sampler": "random", "trials": 20, "parallel": 2},
    )  # fmt: skip
    assert reply.status_code == 201, reply.text
    sweep = wait_sweep(platform, token, reply.json()["id"])
    assert sweep["status"] == "failed"
    assert "'loss'" in sweep["reason"] and "mlflow.log_metric" in sweep["reason"]
    assert len(sweep["trial_list"]) < 20  # it did not run them all to find out


def test_a_grid_sweep_runs_every_combination_once_from_the_cli(platform, people, tmp_path):
    token = people["swen"]
    path = tmp_path / "quadratic.ipynb"
    path.write_text(__import__("json").dumps(QUADRATIC))
    space = tmp_path / "space.yaml"
    space.write_text("x: {type: float, low: 0, high: 1, step: 0.5}\nkind: {type: categorical,"
                     " choices: [a, b]}\n")  # fmt: skip
    done = cli(
        platform, token, "sweeps", "create", str(path), "--space", str(space), "--metric",
        "loss", "--sampler", "grid", "--trials", "50", "--parallel", "2", "--wait",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    sweep_id = done.stdout.strip()
    sweep = call(platform, token, "GET", f"/sweeps/{sweep_id}").json()
    points = sorted((t["params"]["x"], t["params"]["kind"]) for t in sweep["trial_list"])
    assert points == sorted((x, k) for x in (0.0, 0.5, 1.0) for k in ("a", "b"))
    assert sweep["best_params"] == {"x": 0.5, "kind": "a"} and sweep["best_value"] == 0
    shown = cli(platform, token, "sweeps", "show", sweep_id)
    assert "status: succeeded" in shown.stdout and "6/6 complete" in shown.stdout
    assert sweep["trials"] == 6  # 50 asked; the grid has 6 points
    again = call(platform, token, "POST", f"/sweeps/{sweep_id}/extend", json={"trials": 1})
    assert again.status_code == 409 and "every point of its grid" in again.json()["message"]
    assert "best_params: {'x': 0.5, 'kind': 'a'}" in shown.stdout


def test_sweeps_are_private_until_shared_with_a_group(platform, people):
    owner, member, outsider = people["swan"], people["swen"], people["swop"]
    reply = create(platform, owner, sampler="random", trials=1)
    assert reply.status_code == 201, reply.text
    sweep_id = reply.json()["id"]
    assert call(platform, member, "GET", f"/sweeps/{sweep_id}").status_code == 404
    assert sweep_id not in str(call(platform, member, "GET", "/sweeps").json())
    shared = call(
        platform, owner, "PUT", f"/sweeps/{sweep_id}/visibility",
        json={"visibility": "group:sweepers"},
    )  # fmt: skip
    assert shared.status_code == 200, shared.text
    assert call(platform, member, "GET", f"/sweeps/{sweep_id}").status_code == 200
    assert call(platform, outsider, "GET", f"/sweeps/{sweep_id}").status_code == 404
    # a member may look, not act
    assert call(platform, member, "POST", f"/sweeps/{sweep_id}/extend",
                json={"trials": 1}).status_code == 403  # fmt: skip
    assert call(platform, None, "GET", "/sweeps").status_code == 401


STEPPED = notebook(
    "import time\nimport mlflow\n"
    "for step in range(6):\n"
    "    mlflow.log_metric('loss', (x - 0.5) ** 2 + 1 / (step + 1), step=step)\n"
    "    time.sleep(1.5)",
    parameters="x = 0.0\n",
)


def test_the_median_pruner_stops_bad_trials_early(platform, people):
    token = people["swan"]
    reply = call(
        platform, token, "POST", "/sweeps",
        json={"content": STEPPED, "space": {"x": SPACE["x"]}, "metric": "loss",
              "sampler": "random", "seed": 3, "trials": 8, "parallel": 2, "pruner": "median"},
    )  # fmt: skip
    assert reply.status_code == 201, reply.text
    sweep = wait_sweep(platform, token, reply.json()["id"], timeout=600)
    assert sweep["status"] == "succeeded", sweep
    pruned = [t for t in sweep["trial_list"] if t["state"] == "pruned"]
    assert pruned, sweep["trial_list"]
    for trial in pruned:  # stopped before its last step, with the values it had reported
        assert trial["reason"].startswith("pruned at step")
        steps = [step for step, _ in trial["intermediate"]]
        assert steps and max(steps) < 5
        job = call(platform, token, "GET", f"/jobs/{trial['job_id']}").json()
        assert job["status"] in ("cancelled", "succeeded")
    assert sweep["counts"]["complete"] + sweep["counts"]["pruned"] == 8


def test_a_sweep_survives_a_crash_of_the_platform_service(platform, people):
    """kill -9 of the platform service mid-sweep: the hub restarts it and the sweep finishes
    with the trials it asked for, none lost and none run twice."""
    token = people["swen"]
    slow = notebook(
        "import time, mlflow\ntime.sleep(3)\nmlflow.log_metric('loss', (x - 0.5) ** 2)",
        parameters="x = 0.0\n",
    )
    reply = call(
        platform, token, "POST", "/sweeps",
        json={"content": slow, "space": {"x": SPACE["x"]}, "metric": "loss", "name": "crashy",
              "sampler": "tpe", "trials": 6, "parallel": 2},
    )  # fmt: skip
    assert reply.status_code == 201, reply.text
    sweep_id = reply.json()["id"]
    deadline = time.monotonic() + 300
    while call(platform, token, "GET", f"/sweeps/{sweep_id}").json()["counts"]["complete"] < 2:
        assert time.monotonic() < deadline, "no trial completed"
        time.sleep(0.5)
    old = service_pid(platform)
    os.kill(old, signal.SIGKILL)
    deadline = time.monotonic() + 120  # the hub notices and restarts it
    while True:
        try:
            if service_pid(platform) != old and (
                call(platform, token, "GET", "/health").status_code == 200
            ):
                break
        except (AssertionError, httpx.HTTPError):
            pass
        assert time.monotonic() < deadline, "the hub did not restart the platform service"
        time.sleep(0.5)
    sweep = wait_sweep(platform, token, sweep_id, timeout=600)
    assert sweep["status"] == "succeeded", sweep
    assert sweep["counts"] == {"running": 0, "complete": 6, "pruned": 0, "fail": 0}
    numbers = sorted(t["number"] for t in sweep["trial_list"])
    assert numbers == list(range(6))
    jobs = call(platform, token, "GET", "/jobs", params={"q": "crashy #", "limit": 100}).json()
    assert sorted(j["name"] for j in jobs["jobs"]) == [f"crashy #{n}" for n in range(6)]


def stored(platform, table: str, sweep_id: str) -> int:
    """Rows of `table` for the sweep in the platform's database, read-only."""
    url = json.loads((platform.home / "labworks.json").read_text())["db_url"]
    assert url.startswith("sqlite:///"), url  # what `labworks up` embeds
    with sqlite3.connect(f"file:{url.removeprefix('sqlite:///')}?mode=ro", uri=True) as db:
        query = f"SELECT count(*) FROM {table} WHERE sweep_id = ?"
        return db.execute(query, (sweep_id,)).fetchone()[0]


def mlflow_run(platform, token: str, run_id: str) -> httpx.Response:
    return httpx.get(
        platform.url + "/services/labworks/mlflow/api/2.0/mlflow/runs/get",
        params={"run_id": run_id}, headers={"Authorization": f"token {token}"},
    )  # fmt: skip


def test_deleting_a_finished_sweep_keeps_its_jobs_and_runs(platform, people):
    owner, member, outsider = people["swan"], people["swen"], people["swop"]
    reply = create(platform, owner, sampler="random", trials=1, share_with_group="sweepers")
    assert reply.status_code == 201, reply.text
    sweep = wait_sweep(platform, owner, reply.json()["id"])
    assert sweep["status"] == "succeeded", sweep
    sweep_id, (trial,) = sweep["id"], sweep["trial_list"]
    assert stored(platform, "lw_sweep_journal", sweep_id) > 0
    # a member who sees it may not delete it; to anyone else it is not there
    refused = call(platform, member, "DELETE", f"/sweeps/{sweep_id}")
    assert refused.status_code == 403 and "only swan can delete" in refused.json()["message"]
    assert call(platform, outsider, "DELETE", f"/sweeps/{sweep_id}").status_code == 404
    assert call(platform, owner, "GET", f"/sweeps/{sweep_id}").status_code == 200

    assert call(platform, owner, "DELETE", f"/sweeps/{sweep_id}").status_code == 204
    assert call(platform, owner, "GET", f"/sweeps/{sweep_id}").status_code == 404
    assert sweep_id not in str(call(platform, owner, "GET", "/sweeps").json())
    assert stored(platform, "lw_sweep_journal", sweep_id) == 0
    assert stored(platform, "lw_sweep_trials", sweep_id) == 0
    # the trial's job, with its history, and the MLflow runs stay
    job = call(platform, owner, "GET", f"/jobs/{trial['job_id']}")
    assert job.status_code == 200 and job.json()["status"] == "succeeded"
    assert mlflow_run(platform, owner, trial["mlflow_run_id"]).status_code == 200
    assert mlflow_run(platform, owner, sweep["parent_run_id"]).status_code == 200
    assert call(platform, owner, "DELETE", f"/sweeps/{sweep_id}").status_code == 404


def test_deleting_a_running_sweep_from_the_cli_cancels_its_trials(platform, people):
    token = people["swen"]
    slow = notebook(
        "import time, mlflow\ntime.sleep(300)\nmlflow.log_metric('loss', x)",
        parameters="x = 0.0\n",
    )
    reply = call(
        platform, token, "POST", "/sweeps",
        json={"content": slow, "space": {"x": SPACE["x"]}, "metric": "loss", "name": "doomed",
              "sampler": "random", "trials": 4, "parallel": 2},
    )  # fmt: skip
    assert reply.status_code == 201, reply.text
    sweep_id = reply.json()["id"]
    deadline = time.monotonic() + 120
    while True:  # both first trials' jobs run
        trials = call(platform, token, "GET", f"/sweeps/{sweep_id}").json()["trial_list"]
        jobs = [t["job_id"] for t in trials]
        statuses = [call(platform, token, "GET", f"/jobs/{j}").json()["status"] for j in jobs]
        if statuses == ["running", "running"]:
            break
        assert time.monotonic() < deadline, statuses
        time.sleep(0.5)
    env = {**os.environ, "LABWORKS_URL": platform.url, "LABWORKS_TOKEN": token}
    kept = subprocess.run(
        [*LABWORKS, "sweeps", "delete", sweep_id], input="n\n", capture_output=True,
        text=True, timeout=60, env=env,
    )  # fmt: skip
    assert kept.returncode == 1 and "Aborted" in kept.stderr, kept
    assert call(platform, token, "GET", f"/sweeps/{sweep_id}").status_code == 200

    deleted = cli(platform, token, "sweeps", "delete", sweep_id, "--yes")
    assert deleted.returncode == 0, deleted.stderr
    assert deleted.stdout.strip() == f"Deleted sweep {sweep_id}."
    assert call(platform, token, "GET", f"/sweeps/{sweep_id}").status_code == 404
    assert stored(platform, "lw_sweep_journal", sweep_id) == 0
    assert stored(platform, "lw_sweep_trials", sweep_id) == 0
    # Every job the sweep queued ends cancelled, and stays listed with its history.
    listed = call(platform, token, "GET", "/jobs", params={"q": "doomed #"}).json()["jobs"]
    assert {j["id"] for j in listed} == set(jobs)
    for job_id in jobs:
        assert wait_job(platform, token, job_id, timeout=60)["status"] == "cancelled"
