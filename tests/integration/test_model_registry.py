"""The model registry through the real platform with the stock `mlflow` client, as three users:
a registered model is private to its creator (to others it does not exist: 404, hidden from
their searches), a version can only be registered from a run or logged model the caller may
read, and sharing a model with a group or everyone (REST and CLI) gives read, never write (a
reader's write is 403). Sharing follows a model through rename and delete."""

from __future__ import annotations

import httpx
import pytest

from tests.integration.test_tracking import TRACKING, api, as_user
from tests.platform import labworks

pytestmark = pytest.mark.e2e
MODEL = "rg-churn"


@pytest.fixture(scope="module")
def people(platform):
    platform.add_user("rgana", "--group", "rgteam")
    platform.add_user("rgben", "--group", "rgteam")
    platform.add_user("rgcal", "--group", "rgothers")
    return {name: platform.token(name) for name in ("rgana", "rgben", "rgcal")}


# Logs one sklearn model in a run of the caller's own experiment; defines X, run_id, model_id.
LOG_MODEL = """
import numpy as np
from sklearn.linear_model import LogisticRegression
mlflow.set_experiment({experiment!r})
X, y = np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([0, 0, 1, 1])
with mlflow.start_run() as run:
    info = mlflow.sklearn.log_model(LogisticRegression().fit(X, y), name="model")
    mlflow.log_text("not for model readers", "secret.txt")
run_id, model_id = run.info.run_id, info.model_id
"""


@pytest.fixture(scope="module")
def registered(platform, people) -> dict:
    """rgana's model rg-churn, version 1 from a run, with a version tag and an alias."""
    return as_user(
        platform,
        people["rgana"],
        LOG_MODEL.format(experiment="rg-ana-exp")
        + f"""
version = mlflow.register_model(f"runs:/{{run_id}}/model", {MODEL!r})
client.set_model_version_tag({MODEL!r}, version.version, "stage", "candidate")
client.set_registered_model_alias({MODEL!r}, "champion", version.version)
client.create_registered_model("rg-empty", description="nothing yet")
by_alias = mlflow.pyfunc.load_model(f"models:/{MODEL}@champion")
print(json.dumps({{
    "run_id": run_id,
    "model_id": model_id,
    "experiment_id": run.info.experiment_id,
    "version": version.version,
    "source": client.get_model_version({MODEL!r}, version.version).source,
    "listed": sorted(m.name for m in client.search_registered_models("name LIKE 'rg-%'")),
    "latest": [v.version for v in client.get_latest_versions({MODEL!r})],
    "tags": client.get_model_version({MODEL!r}, "1").tags,
    "alias": client.get_model_version_by_alias({MODEL!r}, "champion").version,
    "versions": [v.version for v in client.search_model_versions("name = '{MODEL}'")],
    "prediction": [int(v) for v in mlflow.pyfunc.load_model("models:/{MODEL}/1").predict(X)],
    "by_alias": [int(v) for v in by_alias.predict(X)],
}}))
""",
    )


# What another user can do with rg-churn: read it, and write to it.
READ_WRITE = f"""
run_id, model_id = {{run_id!r}}, {{model_id!r}}
print(json.dumps({{{{
    "get": deny(lambda: client.get_registered_model({MODEL!r}).name),
    "version": deny(lambda: client.get_model_version({MODEL!r}, "1").version),
    "load": deny(lambda: len(mlflow.pyfunc.load_model("models:/{MODEL}/1").predict([[0.0]]))),
    "listed": [m.name for m in client.search_registered_models()],
    "versions": deny(lambda: len(client.search_model_versions("name = '{MODEL}'"))),
    "tag": deny(lambda: client.set_registered_model_tag({MODEL!r}, "mine", "1")),
    "alias": deny(lambda: client.set_registered_model_alias({MODEL!r}, "prod", "1")),
    "new_version": deny(lambda: client.create_model_version(
        {MODEL!r}, f"models:/{{{{model_id}}}}", run_id=run_id, model_id=model_id).version),
    "rename": deny(lambda: client.rename_registered_model({MODEL!r}, "rg-stolen").name),
    "delete": deny(lambda: client.delete_model_version({MODEL!r}, "1")),
}}}}))
"""
WRITES = ("tag", "alias", "new_version", "rename", "delete")


def test_the_owner_registers_tags_aliases_and_loads_with_the_stock_client(registered):
    assert registered["version"] == "1"
    # MLflow 3 registers the run's logged model (the source names the logged model).
    assert registered["source"] == f"models:/{registered['model_id']}"
    assert registered["listed"] == [MODEL, "rg-empty"]
    assert registered["latest"] == ["1"]
    assert registered["tags"] == {"stage": "candidate"}
    assert registered["alias"] == "1"
    assert registered["versions"] == ["1"]
    assert registered["prediction"] == [0, 0, 1, 1]
    assert registered["by_alias"] == [0, 0, 1, 1]


def test_a_private_model_is_not_there_to_others_and_hidden_from_their_searches(
    platform, people, registered
):
    for who in ("rgben", "rgcal"):
        seen = as_user(platform, people[who], READ_WRITE.format(**registered))
        for route in ("get", "version", "load", *WRITES):
            assert seen[route] == "RESOURCE_DOES_NOT_EXIST", (who, route, seen[route])
        assert MODEL not in seen["listed"] and "rg-empty" not in seen["listed"]
        assert seen["versions"] in ("RESOURCE_DOES_NOT_EXIST", 0), seen


def test_nobody_registers_a_version_from_a_run_they_cannot_read(platform, people, registered):
    run_id, model_id = registered["run_id"], registered["model_id"]
    seen = as_user(
        platform,
        people["rgben"],
        f"""
        import httpx, os
        client.create_registered_model("rg-ben-own")
        def rest(body):
            reply = httpx.post(
                os.environ["MLFLOW_TRACKING_URI"] + "/api/2.0/mlflow/model-versions/create",
                json={{"name": "rg-ben-own", **body}},
                headers={{"Authorization": "Bearer " + os.environ["MLFLOW_TRACKING_TOKEN"]}},
            )
            return [reply.status_code, reply.json().get("message", "")]
        run_uri = "runs:/{run_id}/model"
        print(json.dumps({{
            "register": deny(lambda: mlflow.register_model(run_uri, "rg-ben-own").version),
            "logged_model": deny(lambda: client.create_model_version(
                "rg-ben-own", "models:/{model_id}", run_id="{run_id}", model_id="{model_id}"
            ).version),
            "runs_uri": rest({{"source": run_uri, "run_id": "{run_id}"}}),
            "no_such_run": rest({{"source": "runs:/{"f" * 32}/model", "run_id": "{"f" * 32}"}}),
            "runs_uri_no_id": rest({{"source": run_uri}}),
            "model_uri_no_id": rest({{"source": "models:/{model_id}"}}),
            "storage_url": rest({{"source": "s3://labworks/mlflow/1/{run_id}/artifacts/model"}}),
            "file_path": rest({{"source": "file:///etc"}}),
            "versions": len(client.search_model_versions("name = 'rg-ben-own'")),
        }}))
        """,
    )
    # The client reads the run first, which to rgben does not exist; straight to
    # model-versions/create, his own model refuses it (403), as for a run that does not exist.
    assert seen["register"] == "RESOURCE_DOES_NOT_EXIST"
    assert seen["logged_model"] == "PERMISSION_DENIED"
    assert seen["runs_uri"][0] == 403 and seen["runs_uri"] == seen["no_such_run"]
    for unanchored in ("runs_uri_no_id", "model_uri_no_id", "storage_url", "file_path"):
        status, message = seen[unanchored]
        assert status in (400, 403), (unanchored, seen[unanchored])
        assert status == 403 or "Invalid model version source" in message, seen[unanchored]
    # A bare storage URL is refused by the source rule itself (not by where the files are).
    assert seen["storage_url"][0] == 400
    assert seen["versions"] == 0


def test_sharing_a_model_gives_read_not_write_rest_and_cli(platform, people, registered):
    path = f"/models/{MODEL}"
    own = api(platform, people["rgana"], "GET", "/models").json()["models"]
    mine = {m["name"]: m for m in own}
    assert {MODEL, "rg-empty"} <= mine.keys()
    churn = mine[MODEL]
    assert (churn["owner"], churn["yours"], churn["visibility"]) == ("rgana", True, "private")
    assert [v["version"] for v in churn["latest_versions"]] == ["1"]
    assert churn["latest_versions"][0]["run_id"] == registered["run_id"]
    assert churn["aliases"] == {"champion": "1"}
    assert mine["rg-empty"]["description"] == "nothing yet"
    assert MODEL not in {
        m["name"] for m in api(platform, people["rgben"], "GET", "/models").json()["models"]
    }
    assert api(platform, people["rgben"], "GET", path).status_code == 404

    # Only the owner may share (to others a private model does not exist), only with their
    # own groups, only with a valid visibility.
    hidden = api(
        platform, people["rgben"], "PUT", path + "/visibility", json={"visibility": "public"}
    )
    assert hidden.status_code == 404 and hidden.json()["error"] == "not_found"
    foreign = api(platform, people["rgana"], "PUT", path + "/visibility",
                  json={"visibility": "group:rgothers"})  # fmt: skip
    assert foreign.status_code == 403 and "not a member of group 'rgothers'" in foreign.text
    bad = api(platform, people["rgana"], "PUT", path + "/visibility", json={"visibility": "all"})
    assert bad.status_code == 400 and "invalid visibility" in bad.json()["message"]

    shared = api(platform, people["rgana"], "PUT", path + "/visibility",
                 json={"visibility": "group:rgteam"})  # fmt: skip
    assert shared.status_code == 200 and shared.json()["visibility"] == "group:rgteam"
    again = api(platform, people["rgana"], "PUT", path + "/visibility",
                json={"visibility": "group:rgteam"})  # fmt: skip
    assert (again.status_code, again.json()) == (200, shared.json())  # already so: no change
    seen = api(platform, people["rgben"], "GET", path).json()
    assert (seen["owner"], seen["yours"], seen["visibility"]) == ("rgana", False, "group:rgteam")
    denied = api(
        platform, people["rgben"], "PUT", path + "/visibility", json={"visibility": "private"}
    )
    assert denied.status_code == 403 and "only the owner" in denied.json()["message"]

    ben = as_user(platform, people["rgben"], READ_WRITE.format(**registered))
    assert (ben["get"], ben["version"], ben["load"], ben["versions"]) == (MODEL, "1", 1, 1)
    # Reading the model's files does not open the rest of the run's artifacts.
    artifacts = platform.url + TRACKING + "/api/2.0/mlflow-artifacts/artifacts"
    run_files = f"{registered['experiment_id']}/{registered['run_id']}/artifacts"
    for url, params in (
        (f"{artifacts}/{run_files}/secret.txt", {}),
        (artifacts, {"path": run_files}),
        (artifacts, {"path": f"{registered['experiment_id']}/models"}),
    ):
        reply = httpx.get(
            url, params=params, headers={"Authorization": f"Bearer {people['rgben']}"}
        )
        assert reply.status_code == 404, (url, params, reply.text)
        assert reply.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert MODEL in ben["listed"] and "rg-empty" not in ben["listed"]
    for write in WRITES:  # a reader is refused, plainly
        assert ben[write] == "PERMISSION_DENIED", (write, ben[write])
    cal = as_user(platform, people["rgcal"], READ_WRITE.format(**registered))
    assert cal["get"] == "RESOURCE_DOES_NOT_EXIST" and MODEL not in cal["listed"]

    # Public through the CLI: every user reads, nobody but the owner writes.
    env = {"LABWORKS_URL": platform.url, "LABWORKS_TOKEN": people["rgana"]}
    done = labworks("models", "share", MODEL, "--public", home=platform.home, env=env)
    assert f"Model {MODEL} is now public." in done.stdout
    twice = labworks("models", "share", MODEL, "--public", home=platform.home, env=env)
    assert twice.returncode == 0 and "is now public" in twice.stdout  # already so: no change
    cal = as_user(platform, people["rgcal"], READ_WRITE.format(**registered))
    assert (cal["get"], cal["load"]) == (MODEL, 1)
    for write in WRITES:
        assert cal[write] == "PERMISSION_DENIED", (write, cal[write])
    listing = labworks("models", "list", home=platform.home,
                       env={**env, "LABWORKS_TOKEN": people["rgcal"]})  # fmt: skip
    assert f"{MODEL}\trgana\tpublic\t1\t" in listing.stdout
    assert "rg-empty" not in listing.stdout

    private = labworks("models", "share", MODEL, "--private", home=platform.home, env=env)
    assert "is now private" in private.stdout
    assert as_user(platform, people["rgcal"], READ_WRITE.format(**registered))["get"] == (
        "RESOURCE_DOES_NOT_EXIST"
    )
    usage = labworks("models", "share", MODEL, home=platform.home, env=env, check=False)
    assert usage.returncode != 0 and "exactly one of" in usage.stderr


def test_sharing_follows_a_model_through_rename_and_delete(platform, people):
    def share(name: str, visibility: str) -> None:
        reply = api(platform, people["rgana"], "PUT", f"/models/{name}/visibility",
                    json={"visibility": visibility})  # fmt: skip
        assert reply.status_code == 200, reply.text

    as_user(platform, people["rgana"], """
        client.create_registered_model("rg-old")
        client.create_registered_model("rg-gone")
        print("{}")
    """)  # fmt: skip
    share("rg-old", "group:rgteam")
    share("rg-gone", "public")
    as_user(platform, people["rgana"], """
        client.rename_registered_model("rg-old", "rg-new")
        client.delete_registered_model("rg-gone")
        print("{}")
    """)  # fmt: skip
    renamed = api(platform, people["rgben"], "GET", "/models/rg-new")
    assert renamed.status_code == 200 and renamed.json()["visibility"] == "group:rgteam"
    # Someone else takes the deleted model's name: theirs starts private, not public.
    seen = as_user(platform, people["rgcal"], """
        client.create_registered_model("rg-gone")
        print(json.dumps({"created": True}))
    """)  # fmt: skip
    assert seen == {"created": True}
    taken = api(platform, people["rgcal"], "GET", "/models/rg-gone").json()
    assert (taken["owner"], taken["visibility"]) == ("rgcal", "private")
    assert api(platform, people["rgben"], "GET", "/models/rg-gone").status_code == 404


def test_a_version_registered_from_a_runs_uri_loads_for_the_models_readers(
    platform, people, registered
):
    """A raw REST `runs:/` source (the client itself stores `models:/`) is anchored to the
    logged model's files, so a reader loads it without reading the run."""
    owner = as_user(
        platform,
        people["rgana"],
        f"""
        import httpx, os
        client.create_registered_model("rg-raw")
        reply = httpx.post(
            os.environ["MLFLOW_TRACKING_URI"] + "/api/2.0/mlflow/model-versions/create",
            json={{"name": "rg-raw", "source": "runs:/{registered["run_id"]}/model",
                  "run_id": "{registered["run_id"]}"}},
            headers={{"Authorization": "Bearer " + os.environ["MLFLOW_TRACKING_TOKEN"]}},
        )
        assert reply.status_code == 200, reply.text
        print(json.dumps({{
            "uri": client.get_model_version_download_uri("rg-raw", "1"),
            "load": len(mlflow.pyfunc.load_model("models:/rg-raw/1").predict([[0.0]])),
        }}))
        """,
    )
    assert owner["uri"].startswith("mlflow-artifacts:/"), owner
    assert owner["uri"].endswith(f"/models/{registered['model_id']}/artifacts"), owner
    assert owner["load"] == 1
    shared = api(platform, people["rgana"], "PUT", "/models/rg-raw/visibility",
                 json={"visibility": "group:rgteam"})  # fmt: skip
    assert shared.status_code == 200
    ben = as_user(
        platform,
        people["rgben"],
        f"""
        print(json.dumps({{
            "load": deny(lambda: len(mlflow.pyfunc.load_model("models:/rg-raw/1").predict([[0]]))),
            "run": deny(lambda: client.get_run("{registered["run_id"]}").info.run_id),
        }}))
        """,
    )
    assert ben == {"load": 1, "run": "RESOURCE_DOES_NOT_EXIST"}


def test_task_inferred_at_register_lineage_and_the_history_of_alias_moves(
    platform, people, registered
):
    """`labworks models register` without --task: the platform infers it from the signature;
    the version shows its lineage; alias moves (REST, CLI and the stock client) and task edits
    are recorded with who and why; a reader may look but not move; others see nothing."""
    model, env = "rg-tasks", {"LABWORKS_URL": platform.url, "LABWORKS_TOKEN": people["rgana"]}
    logged = as_user(platform, people["rgana"], """
        import numpy as np
        from mlflow.models import infer_signature
        from sklearn.linear_model import LogisticRegression
        mlflow.set_experiment("rg-ana-exp")
        X, y = np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([0, 0, 1, 1])
        with mlflow.start_run() as run:
            mlflow.set_tags({"labworks.notebook.path": "work/train.ipynb",
                             "labworks.job.id": "0123456789ab", "labworks.param.C": "1.0",
                             "labworks.dataset.rgana/iris": "2",
                             "labworks.image.digest": "sha256:" + "b" * 64})
            mlflow.sklearn.log_model(LogisticRegression().fit(X, y), name="model",
                                     signature=infer_signature(X, y))
        print(json.dumps({"run_id": run.info.run_id}))
    """)  # fmt: skip
    source = f"runs:/{logged['run_id']}/model"

    def cli(*args: str, token: str = people["rgana"], check: bool = True):
        return labworks("models", *args, home=platform.home, check=check,
                        env={**env, "LABWORKS_TOKEN": token})  # fmt: skip

    done = cli("register", source, "--name", model)
    assert f"Registered {model} version 1 (classification) from {source}." in done.stdout
    assert "inferred from its signature and flavour" in done.stdout
    path = f"/models/{model}"
    first = api(platform, people["rgana"], "GET", path + "/versions/1").json()
    assert (first["task"], first["task_inferred"], first["editable"]) == (
        "classification", True, True,
    )  # fmt: skip
    lineage = first["lineage"]
    assert (lineage["run_id"], lineage["readable"]) == (logged["run_id"], True)
    assert (lineage["notebook"], lineage["job_id"]) == ("work/train.ipynb", "0123456789ab")
    assert lineage["parameters"] == {"C": "1.0"}
    assert lineage["datasets"] == [{"name": "rgana/iris", "version": "2"}]
    assert lineage["image_digest"] == "sha256:" + "b" * 64
    # A version whose file tells no task: serving it without one is a 400 that says what to do.
    unknown = api(platform, people["rgana"], "POST", "/deployments",
                  json={"model": MODEL, "version": "1"})  # fmt: skip
    assert unknown.status_code == 400, unknown.text
    assert f"labworks models task {MODEL} 1" in unknown.json()["message"]

    # Aliases: set, moved (CLI and REST, with reasons), and set and deleted with the stock
    # client; a task edit.
    cli("register", source, "--name", model, "--task", "regression")
    assert "production is now version 1" in cli("alias", model, "production", "1",
                                                "--reason", "first").stdout  # fmt: skip
    moved = api(platform, people["rgana"], "PUT", path + "/aliases/production",
                json={"version": "2", "reason": "better AUC"})  # fmt: skip
    assert moved.status_code == 200 and moved.json()["aliases"] == ["production"]
    as_user(platform, people["rgana"], f"""
        client.set_registered_model_alias({model!r}, "staging", "1")
        client.set_registered_model_alias({model!r}, "staging", "2")
        client.delete_registered_model_alias({model!r}, "staging")
        print("{{}}")
    """)  # fmt: skip
    edited = api(platform, people["rgana"], "PUT", path + "/versions/1/task",
                 json={"task": "multilabel", "reason": "it is"})  # fmt: skip
    assert (edited.json()["task"], edited.json()["task_inferred"]) == ("multilabel", False)
    bad = api(platform, people["rgana"], "PUT", path + "/aliases/latest", json={"version": "1"})
    assert bad.status_code == 400 and "not an alias" in bad.json()["message"]
    missing = api(platform, people["rgana"], "PUT", path + "/aliases/x", json={"version": "9"})
    assert missing.status_code == 404

    history = api(platform, people["rgana"], "GET", path + "/history").json()["events"]
    assert [(e["action"], e["alias"], e["from_version"], e["to_version"], e["reason"])
            for e in history] == [
        ("task", None, None, "1", "it is"),
        ("alias.delete", "staging", "2", None, ""),
        ("alias.set", "staging", "1", "2", ""),
        ("alias.set", "staging", None, "1", ""),
        ("alias.set", "production", "1", "2", "better AUC"),
        ("alias.set", "production", None, "1", "first"),
        ("register", None, None, "2", ""),
        ("register", None, None, "1", ""),
    ]  # fmt: skip
    assert {e["actor"] for e in history} == {"rgana"}
    assert history[0]["detail"] == {"from": "classification", "to": "multilabel"}
    shown = cli("history", model).stdout
    assert "production: 1 -> 2" in shown and "staging: removed (was 2)" in shown

    # A reader sees the history and the version, not the run behind it, and moves nothing.
    api(platform, people["rgana"], "PUT", path + "/visibility", json={"visibility": "group:rgteam"})
    ben = api(platform, people["rgben"], "GET", path + "/versions/1").json()
    assert (ben["editable"], ben["lineage"]) == (False, {**ben["lineage"], "readable": False})
    assert ben["lineage"]["notebook"] is None and ben["lineage"]["run_id"] == logged["run_id"]
    assert len(api(platform, people["rgben"], "GET", path + "/history").json()["events"]) == 8
    refused = cli("alias", model, "production", "1", token=people["rgben"], check=False)
    assert refused.returncode != 0 and "only the owner" in refused.stderr
    for method, where, body in (
        ("PUT", "/aliases/production", {"version": "1"}),
        ("DELETE", "/aliases/production", None),
        ("PUT", "/versions/1/task", {"task": "regression"}),
    ):
        reply = api(platform, people["rgben"], method, path + where, json=body)
        assert reply.status_code == 403, (method, where, reply.text)
        hidden = api(platform, people["rgcal"], method, path + where, json=body)
        assert hidden.status_code == 404, (method, where, hidden.text)
    assert api(platform, people["rgcal"], "GET", path + "/history").status_code == 404
    assert api(platform, people["rgcal"], "GET", path + "/versions/1").status_code == 404
