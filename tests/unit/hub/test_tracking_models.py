"""Registered-model sharing on MLflow's real stores (in a subprocess: MLflow's server modules
read their configuration once per process): owner, group and public read as MLflow resolves
them; sharing follows a rename and is dropped with a delete; a model's readers may read its
versions' files and nothing else of the run; model version sources must be anchored."""

from __future__ import annotations

import json
import subprocess
import sys

from labworks_hub.service.jobs.artifacts import ArtifactStore
from labworks_hub.service.tracking.server import VERSION_SOURCES, TrackingServer
from tests.unit.hub.test_tracking_auth import NOT_HER_GROUP

RULES = """
import json, sys
from labworks_hub.service.access import Refused, Viewer
from labworks_hub.service.jobs.artifacts import ArtifactStore
from labworks_hub.service.store import tracking as store
from labworks_hub.service.tracking.model_files import model_files_readable
from labworks_hub.service.tracking.server import TrackingServer

artifacts = ArtifactStore(state_dir=sys.argv[1])
server = TrackingServer(artifacts, state_dir=sys.argv[1], platform_db_url=sys.argv[2])
server.start()
from mlflow.server import auth as mlflow_auth
from mlflow.server.handlers import _get_model_registry_store, _get_tracking_store

auth, tracking, registry = server.auth_store, _get_tracking_store(), _get_model_registry_store()
people = {"ana": ("ml",), "ben": ("ml",), "cal": ()}
for name, groups in people.items():
    store.sync_user(auth, name, groups)
viewer = {name: Viewer(name, frozenset(groups)) for name, groups in people.items()}
exp = tracking.create_experiment("ana-exp")
auth.create_experiment_permission(exp, "ana", "MANAGE")
run = tracking.create_run(exp, "ana", 0, [], "fit").info.run_id
# What MLflow's auth app does when ana registers: she gets MANAGE on the model.
registry.create_registered_model("churn")
auth.create_registered_model_permission("churn", "ana", "MANAGE")
root = f"mlflow-artifacts:/{exp}/{run}/artifacts"
registry.create_model_version("churn", root + "/sk", run_id=run)
registry.create_registered_model("empty")
auth.create_registered_model_permission("empty", "ana", "MANAGE")

def outcome(f):
    try:
        info = f()
        return [info.visibility, info.owner, info.yours]
    except Refused as e:
        return [type(e).__name__, str(e)]

def listed(name):
    return [m.name for m in store.list_models(auth, registry, viewer[name])]

def share(name, visibility, model="churn"):
    who = viewer[name]
    return outcome(lambda: store.set_model_visibility(auth, registry, who, model, visibility))

def files(name):
    return [model_files_readable(mlflow_auth, name, f"{exp}/{run}/artifacts/{p}")
            for p in ("sk/MLmodel", "sk", "secret.txt", "")]

out = {"private": {n: [outcome(lambda: store.get_model(auth, registry, viewer[n], "churn")),
                       listed(n), files(n)] for n in people}}
out["ben shares"] = share("ben", "public")
out["ana: not her group"] = share("ana", "group:vision")
out["ana: ml"] = share("ana", "group:ml")
out["group"] = {n: [listed(n), files(n)] for n in people}
out["ben: public"] = share("ben", "public")
out["info"] = store.get_model(auth, registry, viewer["ben"], "churn").latest_versions[0].source
# Renamed: sharing goes along (MLflow moves ana's own grant itself).
registry.rename_registered_model("churn", "churn2")
auth.rename_grants_for_resource("registered_model", "churn", "churn2", workspace_scoped=True)
store.follow_model_lifecycle(auth, "rename", "churn", "churn2")
out["renamed"] = [outcome(lambda: store.get_model(auth, registry, viewer["ben"], "churn2")),
                  files("ben")]
# Deleted, then the name taken by cal: cal's model starts private.
out["ana: public"] = share("ana", "public", "empty")
registry.delete_registered_model("empty")
auth.delete_grants_for_resource("registered_model", "empty", workspace_scoped=True)  # MLflow's
store.follow_model_lifecycle(auth, "delete", "empty")
registry.create_registered_model("empty")
auth.create_registered_model_permission("empty", "cal", "MANAGE")
store.follow_model_lifecycle(auth, "create", "empty")
out["taken"] = [outcome(lambda: store.get_model(auth, registry, viewer["cal"], "empty")),
                outcome(lambda: store.get_model(auth, registry, viewer["ben"], "empty"))]
print(json.dumps(out))
"""


def test_model_sharing_rules_on_mlflows_own_stores(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", RULES, str(tmp_path), f"sqlite:///{tmp_path / 'labworks.sqlite'}"],
        capture_output=True, text=True, timeout=300,
        env={"PATH": "/usr/bin:/bin", "MLFLOW_DISABLE_TELEMETRY": "true"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    nowhere = ["NotFound", "no registered model 'churn' that you can see"]
    assert out["private"] == {
        "ana": [["private", "ana", True], ["empty", "churn"], [True, True, False, False]],
        "ben": [nowhere, [], [False, False, False, False]],
        "cal": [nowhere, [], [False, False, False, False]],
    }
    assert out["ben shares"] == nowhere
    assert out["ana: not her group"] == ["Forbidden", NOT_HER_GROUP]
    assert out["ana: ml"] == ["group:ml", "ana", True]
    # Read the model and its version's files, nothing else of the run.
    assert out["group"] == {
        "ana": [["empty", "churn"], [True, True, False, False]],
        "ben": [["churn"], [True, True, False, False]],
        "cal": [[], [False, False, False, False]],
    }
    assert out["ben: public"] == [
        "Forbidden",
        "only the owner of model 'churn' may change who sees it",
    ]
    assert out["info"].endswith("/artifacts/sk")
    assert out["renamed"] == [["group:ml", "ana", False], [True, True, False, False]]
    assert out["ana: public"] == ["public", "ana", True]
    assert out["taken"] == [
        ["private", "cal", True],
        ["NotFound", "no registered model 'empty' that you can see"],
    ]


def test_model_version_sources_must_be_anchored():
    import re

    assert (
        TrackingServer(ArtifactStore()).environment()[
            "MLFLOW_CREATE_MODEL_VERSION_SOURCE_VALIDATION_REGEX"
        ]
        == VERSION_SOURCES
    )
    allowed = ["runs:/abc/model", "models:/m-1", "models:/churn/2", "dummy-source",
               "mlflow-artifacts:/1/abc/artifacts/sk", "prompt-template"]  # fmt: skip
    refused = ["s3://bucket/mlflow/1/abc/artifacts/model", "file:///etc", "/etc/passwd",
               "http://x/api/2.0/mlflow-artifacts/artifacts/1", "runs://host/x",
               "mlflow-artifacts://host/1", "dummy-source-x", "gs://b/x"]  # fmt: skip
    assert [s for s in allowed if not re.search(VERSION_SOURCES, s)] == []
    assert [s for s in refused if re.search(VERSION_SOURCES, s)] == []
