"""Experiment tracking through the real platform: the stock `mlflow` client, run as a user
would (a process with MLFLOW_TRACKING_URI and MLFLOW_TRACKING_TOKEN), logs params, metrics,
batches, an artifact and a model through the hub-token auth layer; private experiments stay
private on every route (search included); sharing with a group or everyone gives read, never
write; a workspace kernel and a notebook job log with no setup."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time

import httpx
import nbformat
import pytest

from tests.kernel_client import run_code
from tests.platform import API, labworks, wait_for_lab

pytestmark = pytest.mark.e2e
TRACKING = "/services/labworks/mlflow"

# Runs in a fresh process as the user; prints one JSON line with what it found. `deny(f)`
# is MLflow's error code when f raised a 403 or 404, else what f returned: not yours and not
# there are one answer (RESOURCE_DOES_NOT_EXIST); a write refused to a reader is
# PERMISSION_DENIED.
PRELUDE = """
import json, mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
client = MlflowClient()

def deny(f):
    try:
        return f()
    except MlflowException as e:
        return e.error_code if e.get_http_status_code() in (403, 404) else f"{e.error_code}: {e}"
"""


@pytest.fixture(scope="module")
def people(platform):
    platform.add_user("tana", "--group", "trackers")
    platform.add_user("tben", "--group", "trackers")
    platform.add_user("tcal", "--group", "others")
    return {name: platform.token(name) for name in ("tana", "tben", "tcal")}


def as_user(platform, token: str, code: str, tmp_path=None) -> dict:
    """Run `code` with the stock client as the token's user; the JSON it printed last."""
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": platform.url + TRACKING,
        "MLFLOW_TRACKING_TOKEN": token,
        "MLFLOW_DISABLE_TELEMETRY": "true",
    }
    done = subprocess.run(
        [sys.executable, "-c", PRELUDE + textwrap.dedent(code)],
        env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def api(platform, token: str | None, method: str, path: str, **kwargs) -> httpx.Response:
    headers = {"Authorization": f"token {token}"} if token else {}
    return httpx.request(method, platform.url + API + path, headers=headers, timeout=60, **kwargs)


@pytest.fixture(scope="module")
def logged(platform, people, tmp_path_factory) -> dict:
    """tana's private experiment with one run holding everything the client can log."""
    work = tmp_path_factory.mktemp("tana")
    return as_user(
        platform,
        people["tana"],
        """
        import numpy as np
        from pathlib import Path
        from sklearn.linear_model import LogisticRegression
        from mlflow.entities import Metric, Param, RunTag

        experiment_id = mlflow.create_experiment("tana-private")
        with mlflow.start_run(experiment_id=experiment_id) as run:
            mlflow.log_param("lr", 0.1)
            for step in range(3):
                mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
            client.log_batch(
                run.info.run_id,
                metrics=[Metric("acc", 0.9, 0, 1), Metric("acc", 0.95, 0, 2)],
                params=[Param("layers", "3")],
                tags=[RunTag("team", "trackers")],
            )
            Path("notes.txt").write_text("hello from tana")
            mlflow.log_artifact("notes.txt", artifact_path="docs")
            X, y = np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([0, 0, 1, 1])
            info = mlflow.sklearn.log_model(LogisticRegression().fit(X, y), name="model")
        run_id = run.info.run_id
        fetched = client.get_run(run_id)
        model = mlflow.pyfunc.load_model(info.model_uri)
        print(json.dumps({
            "experiment_id": experiment_id,
            "run_id": run_id,
            "model_uri": info.model_uri,
            "params": fetched.data.params,
            "metrics": fetched.data.metrics,
            "tags": {k: v for k, v in fetched.data.tags.items() if k == "team"},
            "user": [fetched.info.user_id, fetched.data.tags["mlflow.user"]],
            "loss_steps": [m.step for m in client.get_metric_history(run_id, "loss")],
            "acc_history": [m.value for m in client.get_metric_history(run_id, "acc")],
            "artifact_uri": fetched.info.artifact_uri,
            "artifacts": [a.path for a in client.list_artifacts(run_id, "docs")],
            "notes": Path(client.download_artifacts(run_id, "docs/notes.txt")).read_text(),
            "prediction": [int(v) for v in model.predict(np.array([[0.0], [3.0]]))],
        }))
        """,
        work,
    )


def test_no_token_or_a_bad_token_is_a_401(platform):
    for headers in ({}, {"Authorization": "Bearer not-a-real-token"}):
        reply = httpx.get(
            platform.url + TRACKING + "/api/2.0/mlflow/experiments/search",
            params={"max_results": 10},
            headers=headers,
        )
        assert reply.status_code == 401, reply.text
        assert reply.json()["error"] == "unauthorized"
        assert reply.json()["error_code"] == "UNAUTHENTICATED"
    # The stock client without a token is refused the same way, with MLflow's error code.
    env = {**os.environ, "MLFLOW_TRACKING_URI": platform.url + TRACKING}
    env.pop("MLFLOW_TRACKING_TOKEN", None)
    done = subprocess.run(
        [sys.executable, "-c", "import mlflow; mlflow.search_experiments()"],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode != 0 and "UNAUTHENTICATED" in done.stderr


def test_stock_client_logs_everything_through_the_auth_layer(platform, logged):
    assert logged["params"] == {"lr": "0.1", "layers": "3"}
    assert logged["metrics"] == {"loss": pytest.approx(1 / 3), "acc": 0.95}
    assert logged["tags"] == {"team": "trackers"}
    assert logged["user"] == ["tana", "tana"]  # the hub user, not the client's OS account
    assert logged["loss_steps"] == [0, 1, 2]
    assert logged["acc_history"] == [0.9, 0.95]
    # Artifacts go through the server (no storage credentials in the client) into the
    # platform's artifact store.
    assert logged["artifact_uri"].startswith("mlflow-artifacts:")
    assert logged["artifacts"] == ["docs/notes.txt"]
    assert logged["notes"] == "hello from tana"
    root = platform.home / "jobs" / "artifacts" / "mlflow"
    stored = [p for p in root.rglob("notes.txt") if logged["run_id"] in p.parts]
    assert [p.read_text() for p in stored] == ["hello from tana"]
    assert logged["prediction"] == [0, 1]


def test_private_experiment_is_not_there_on_every_route_and_hidden_from_search(
    platform, people, logged
):
    for who in ("tben", "tcal"):
        seen = as_user(
            platform,
            people[who],
            f"""
            exp, run = {logged["experiment_id"]!r}, {logged["run_id"]!r}
            print(json.dumps({{
                "experiment": deny(lambda: client.get_experiment(exp).name),
                "by_name": deny(lambda: client.get_experiment_by_name("tana-private")),
                "no_such_name": deny(lambda: client.get_experiment_by_name("tana-nothing")),
                "run": deny(lambda: client.get_run(run).info.run_id),
                "search_runs": deny(lambda: len(client.search_runs([exp]))),
                "history": deny(lambda: len(client.get_metric_history(run, "loss"))),
                "artifacts": deny(lambda: len(client.list_artifacts(run))),
                "download": deny(lambda: client.download_artifacts(run, "docs/notes.txt")),
                "model": deny(lambda: mlflow.pyfunc.load_model({logged["model_uri"]!r}) and 1),
                "log": deny(lambda: client.log_metric(run, "hijack", 1.0)),
                "listed": [e.name for e in client.search_experiments()],
                "all_runs": len(mlflow.search_runs(search_all_experiments=True)),
            }}))
            """,
        )
        for route in ("experiment", "run", "history", "download", "model", "log"):
            assert seen[route] == "RESOURCE_DOES_NOT_EXIST", (who, route, seen[route])
        assert seen["by_name"] is None and seen["no_such_name"] is None  # no existence oracle
        assert seen["search_runs"] in ("RESOURCE_DOES_NOT_EXIST", 0), seen
        assert seen["artifacts"] in ("RESOURCE_DOES_NOT_EXIST", 0), seen
        assert "tana-private" not in seen["listed"]
        assert seen["all_runs"] == 0


def test_group_share_gives_read_not_write_and_public_reaches_everyone(platform, people, logged):
    exp = logged["experiment_id"]
    # Only the owner may share (to others a private experiment does not exist), only with
    # their own groups, only with a valid visibility.
    hidden = api(platform, people["tben"], "PUT", f"/experiments/{exp}/visibility",
                 json={"visibility": "group:trackers"})  # fmt: skip
    assert hidden.status_code == 404 and hidden.json()["error"] == "not_found"
    assert api(platform, people["tcal"], "GET", f"/experiments/{exp}").status_code == 404
    foreign = api(platform, people["tana"], "PUT", f"/experiments/{exp}/visibility",
                  json={"visibility": "group:others"})  # fmt: skip
    assert foreign.status_code == 403 and "not a member of group 'others'" in foreign.text
    bad = api(platform, people["tana"], "PUT", f"/experiments/{exp}/visibility",
              json={"visibility": "friends"})  # fmt: skip
    assert bad.status_code == 400 and "invalid visibility" in bad.json()["message"]

    shared = api(platform, people["tana"], "PUT", f"/experiments/{exp}/visibility",
                 json={"visibility": "group:trackers"})  # fmt: skip
    assert shared.status_code == 200, shared.text
    assert shared.json()["visibility"] == "group:trackers"
    again = api(platform, people["tana"], "PUT", f"/experiments/{exp}/visibility",
                json={"visibility": "group:trackers"})  # fmt: skip
    assert (again.status_code, again.json()) == (200, shared.json())  # already so: no change
    assert (shared.json()["owner"], shared.json()["yours"]) == ("tana", True)
    denied = api(platform, people["tben"], "PUT", f"/experiments/{exp}/visibility",
                 json={"visibility": "public"})  # fmt: skip
    assert denied.status_code == 403 and "only the owner" in denied.json()["message"]
    seen = api(platform, people["tben"], "GET", f"/experiments/{exp}").json()
    assert (seen["owner"], seen["yours"], seen["visibility"]) == ("tana", False, "group:trackers")

    read_write = f"""
        exp, run = {exp!r}, {logged["run_id"]!r}
        print(json.dumps({{
            "experiment": deny(lambda: client.get_experiment(exp).name),
            "runs": deny(lambda: [r.info.run_id for r in client.search_runs([exp])]),
            "history": deny(lambda: [m.value for m in client.get_metric_history(run, "acc")]),
            "notes": deny(lambda: open(client.download_artifacts(run, "docs/notes.txt")).read()),
            "listed": [e.name for e in client.search_experiments()],
            "log": deny(lambda: client.log_metric(run, "hijack", 1.0)),
            "new_run": deny(lambda: client.create_run(exp).info.run_id),
            "rename": deny(lambda: client.rename_experiment(exp, "mine-now")),
            "delete": deny(lambda: client.delete_run(run)),
        }}))
    """
    ben = as_user(platform, people["tben"], read_write)
    assert ben["experiment"] == "tana-private"
    assert ben["runs"] == [logged["run_id"]]
    assert ben["history"] == [0.9, 0.95]
    assert ben["notes"] == "hello from tana"
    assert "tana-private" in ben["listed"]
    for write in ("log", "new_run", "rename", "delete"):  # a reader is refused, plainly
        assert ben[write] == "PERMISSION_DENIED", (write, ben[write])
    cal = as_user(platform, people["tcal"], read_write)
    assert cal["experiment"] == "RESOURCE_DOES_NOT_EXIST" and "tana-private" not in cal["listed"]
    for write in ("log", "new_run", "rename", "delete"):  # to a stranger it is not there
        assert cal[write] == "RESOURCE_DOES_NOT_EXIST", (write, cal[write])

    # Public: every user reads, nobody but the owner writes. The CLI does the same as REST.
    env = {"LABWORKS_URL": platform.url, "LABWORKS_TOKEN": people["tana"]}
    done = labworks("experiments", "share", exp, "--public", home=platform.home, env=env)
    assert f"Experiment {exp} (tana-private) is now public." in done.stdout
    twice = labworks("experiments", "share", exp, "--public", home=platform.home, env=env)
    assert twice.returncode == 0 and "is now public" in twice.stdout  # already so: no change
    cal = as_user(platform, people["tcal"], read_write)
    assert cal["experiment"] == "tana-private" and cal["runs"] == [logged["run_id"]]
    for write in ("log", "new_run", "rename", "delete"):
        assert cal[write] == "PERMISSION_DENIED", (write, cal[write])
    listing = labworks("experiments", "list", home=platform.home,
                       env={**env, "LABWORKS_TOKEN": people["tcal"]})  # fmt: skip
    assert f"{exp}\ttana-private\ttana\tpublic" in listing.stdout

    private = labworks("experiments", "share", exp, "--private", home=platform.home, env=env)
    assert "is now private" in private.stdout
    assert as_user(platform, people["tcal"], read_write)["experiment"] == "RESOURCE_DOES_NOT_EXIST"
    usage = labworks("experiments", "share", exp, home=platform.home, env=env, check=False)
    assert usage.returncode != 0 and "exactly one of" in usage.stderr


def test_personal_experiment_names_cannot_be_taken(platform, people):
    seen = as_user(
        platform,
        people["tben"],
        """
        print(json.dumps({
            "theirs": deny(lambda: client.create_experiment("users/tana")),
            "below": deny(lambda: client.create_experiment("users/tana/mnist")),
            "own": deny(lambda: bool(client.create_experiment("users/tben/mnist"))),
        }))
        """,
    )
    assert seen == {"theirs": "PERMISSION_DENIED", "below": "PERMISSION_DENIED", "own": True}


def test_workspace_kernel_logs_with_no_setup(platform, people):
    token = people["tana"]
    headers = {"Authorization": f"token {token}"}
    spawn = httpx.post(f"{platform.url}/hub/api/users/tana/server", headers=headers, timeout=60)
    assert spawn.status_code in (201, 202), spawn.text
    wait_for_lab(platform.url, "tana", token)
    kernel = httpx.post(f"{platform.url}/user/tana/api/kernels", headers=headers, timeout=60)
    assert kernel.status_code == 201, kernel.text
    kernel_url = f"{platform.url}/user/tana/api/kernels/{kernel.json()['id']}"
    try:
        printed = run_code(
            kernel_url.replace("http://", "ws://") + "/channels",
            token,
            "import mlflow\nmlflow.log_metric('from_kernel', 7.0)\n"
            "print(mlflow.active_run().info.run_id)",
            timeout=240,
        )
    finally:
        httpx.delete(kernel_url, headers=headers, timeout=60)
        httpx.delete(f"{platform.url}/hub/api/users/tana/server", headers=headers, timeout=60)
    run_id = printed.strip().splitlines()[-1]
    run = httpx.get(
        platform.url + TRACKING + "/api/2.0/mlflow/runs/get",
        params={"run_id": run_id},
        headers={"Authorization": f"Bearer {token}"},
    ).json()["run"]
    assert {"key": "from_kernel", "value": 7.0} in [
        {"key": m["key"], "value": m["value"]} for m in run["data"]["metrics"]
    ]
    mine = api(platform, token, "GET", f"/experiments/{run['info']['experiment_id']}").json()
    assert (mine["name"], mine["owner"], mine["visibility"]) == ("users/tana", "tana", "private")


def test_notebook_job_logs_with_no_setup(platform, people):
    cells = [nbformat.v4.new_code_cell("import mlflow\nmlflow.log_metric('from_job', 5.0)")]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.cells[0]["id"] = "c0"
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    content = json.loads(nbformat.writes(nb))
    job = api(platform, people["tben"], "POST", "/jobs", json={"content": content})
    assert job.status_code == 201, job.text
    deadline = time.monotonic() + 300
    while (shown := api(platform, people["tben"], "GET", f"/jobs/{job.json()['id']}").json())[
        "status"
    ] in ("queued", "running"):
        assert time.monotonic() < deadline, shown
        time.sleep(0.5)
    assert shown["status"] == "succeeded", shown
    found = as_user(
        platform,
        people["tben"],
        """
        runs = mlflow.search_runs(experiment_names=["users/tben"], output_format="list")
        print(json.dumps([r.data.metrics.get("from_job") for r in runs]))
        """,
    )
    assert found == [5.0]


def test_the_cli_lists_a_page_of_runs_with_chosen_columns(platform, people, logged):
    env = {"LABWORKS_URL": platform.url, "LABWORKS_TOKEN": people["tana"]}
    exp = logged["experiment_id"]
    chosen = labworks("experiments", "runs", exp, "--metric", "acc", "--param", "lr",
                      "--filter", "metrics.acc > 0.5", home=platform.home, env=env)  # fmt: skip
    lines = chosen.stdout.strip().splitlines()
    assert lines[0] == "RUN_ID\tNAME\tSTATUS\tSTARTED\tmetrics.acc\tparams.lr"
    assert len(lines) == 2 and lines[1].startswith(logged["run_id"] + "\t")
    assert lines[1].split("\t")[-2:] == ["0.95", "0.1"]
    # No columns chosen: the page's own metrics and parameters.
    default = labworks("experiments", "runs", exp, home=platform.home, env=env)
    assert default.stdout.splitlines()[0].split("\t")[4:] == [
        "metrics.acc", "metrics.loss", "params.layers", "params.lr"
    ]  # fmt: skip
    none = labworks("experiments", "runs", exp, "--filter", "metrics.acc > 2",
                    home=platform.home, env=env)  # fmt: skip
    assert none.stdout.strip() == "No runs match."
    bad = labworks("experiments", "runs", exp, "--filter", "metrics.acc >>> 1",
                   home=platform.home, env=env, check=False)  # fmt: skip
    assert bad.returncode != 0 and "Invalid comparator '>>>'" in bad.stderr
    # Another user's private experiment is not there for them.
    other = labworks("experiments", "runs", exp, home=platform.home, check=False,
                     env={**env, "LABWORKS_TOKEN": people["tcal"]})  # fmt: skip
    assert other.returncode != 0 and "no experiment" in other.stderr
