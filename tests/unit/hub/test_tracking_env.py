"""What makes the stock mlflow client log to Labworks with no setup (workspace and pod env),
and the MLflow server settings the tracking server derives from the platform's config."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from types import SimpleNamespace

import pytest
from starlette.applications import Starlette
from traitlets.config import Config

from labworks_hub.service.access import Invalid, Unavailable
from labworks_hub.service.jobs.artifacts import ArtifactStore
from labworks_hub.service.settings import ServiceSettings
from labworks_hub.service.store.tracking import check_visibility
from labworks_hub.service.tracking.env import tracking_env, tracking_uri
from labworks_hub.service.tracking.gate import install_tracking
from labworks_hub.service.tracking.server import (
    TrackingError,
    TrackingServer,
    in_schema,
    s3_environment,
)
from tests.platform import free_port
from tests.unit.hub.test_kube_spawner import env_of, no_cluster, pod_of  # noqa: F401 (fixture)
from tests.unit.hub.test_kube_spawner import make_spawner as make_kube_spawner
from tests.unit.hub.test_spawner import apply, make_spawner, no_gpus  # noqa: F401 (fixture)


def local_artifacts(state_dir) -> ArtifactStore:
    """The embedded default artifact store of a platform with this state directory."""
    return ArtifactStore(state_dir=str(state_dir))


def test_tracking_keeps_artifacts_in_the_apps_artifact_store(tmp_path):
    class OperatorsStore(ArtifactStore):
        """A configured artifact store class: tracking must use the object, not rebuild it."""

    app = Starlette()
    app.state.identity = SimpleNamespace()  # the gate only keeps it
    app.state.artifacts = OperatorsStore(url=str(tmp_path / "objects"))
    server = install_tracking(app, ServiceSettings.from_env({"LABWORKS_STATE_DIR": str(tmp_path)}))
    assert app.state.tracking is server and server.artifacts is app.state.artifacts
    env = server.environment()
    assert env["_MLFLOW_SERVER_ARTIFACT_DESTINATION"] == f"{tmp_path}/objects/mlflow"
    assert [route.path for route in app.routes] == ["/services/labworks/mlflow"]


def test_identity_and_model_files_import_neither_fastapi_nor_mlflow():
    """MLflow reads its configuration at import (tracking/server.py); no FastAPI below the
    routers (shared/ARCHITECTURE.md)."""
    code = (
        "import sys, labworks_hub.service.tracking.identity,"
        " labworks_hub.service.tracking.model_files;"
        " print(sorted(m for m in ('fastapi', 'mlflow') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_tracking_uri_replaces_the_api_root():
    api = "http://127.0.0.1:8010/services/labworks/api/v1"
    assert tracking_uri(api) == "http://127.0.0.1:8010/services/labworks/mlflow"
    assert tracking_uri(api + "/") == "http://127.0.0.1:8010/services/labworks/mlflow"
    assert tracking_env(api, "alice", "t0k") == {
        "MLFLOW_TRACKING_URI": "http://127.0.0.1:8010/services/labworks/mlflow",
        "MLFLOW_TRACKING_TOKEN": "t0k",
        "MLFLOW_EXPERIMENT_NAME": "users/alice",
    }
    assert tracking_env("", "alice", "t0k") == {}  # no platform: nothing to point at


@pytest.mark.usefixtures("no_gpus")
async def test_local_workspace_kernels_get_the_users_tracking_env(tmp_path):
    spawner = make_spawner(tmp_path)
    spawner.platform_api_url = "http://127.0.0.1:41377/services/labworks/api/v1"
    spawner.api_token = "server-token"
    await apply(spawner, {})
    env = spawner.workspace_env()
    assert env["MLFLOW_TRACKING_URI"] == "http://127.0.0.1:41377/services/labworks/mlflow"
    assert env["MLFLOW_TRACKING_TOKEN"] == "server-token"  # = JUPYTERHUB_API_TOKEN
    assert env["MLFLOW_EXPERIMENT_NAME"] == "users/alice"


async def test_kubernetes_pods_get_the_tracking_env():
    spawner = make_kube_spawner("cpu-small")
    env = env_of(await pod_of(spawner))
    assert env["MLFLOW_TRACKING_URI"] == "http://labworks:8000/services/labworks/mlflow"
    assert env["MLFLOW_TRACKING_TOKEN"] == env["JUPYTERHUB_API_TOKEN"] == spawner.api_token
    assert env["MLFLOW_EXPERIMENT_NAME"] == "users/alice"


def test_embedded_default_keeps_mlflow_in_its_own_sqlite_files_and_serves_artifacts(tmp_path):
    server = TrackingServer(
        local_artifacts(tmp_path),
        state_dir=str(tmp_path),
        platform_db_url=f"sqlite:///{tmp_path}/labworks.sqlite",
    )
    env = server.environment()
    assert env["_MLFLOW_SERVER_FILE_STORE"] == f"sqlite:///{tmp_path}/mlflow.sqlite"
    assert server.auth_db_uri == f"sqlite:///{tmp_path}/mlflow-auth.sqlite"
    assert env["_MLFLOW_SERVER_SERVE_ARTIFACTS"] == "true"
    assert env["_MLFLOW_SERVER_ARTIFACT_ROOT"] == "mlflow-artifacts:/"  # clients go through us
    assert env["_MLFLOW_SERVER_ARTIFACT_DESTINATION"] == f"{tmp_path}/jobs/artifacts/mlflow"
    assert env["MLFLOW_BASIC_AUTH_FAIL_CLOSED"] == "true"
    config = server.auth_config()
    assert "default_permission = NO_PERMISSIONS" in config
    assert "authorization_function = labworks_hub.service.tracking.identity:authorization" in config
    assert "password" not in config


def test_postgresql_platform_gets_two_schemas_and_s3_artifacts_get_credentials(tmp_path):
    config = Config(
        {
            "ArtifactStore": {
                "url": "s3://lw-artifacts/jobs",
                "storage_options": {
                    "key": "AKIA1",
                    "secret": "s3cr3t",
                    "client_kwargs": {"endpoint_url": "http://seaweed:8333"},
                },
            }
        }
    )
    server = TrackingServer(
        ArtifactStore(config=config),
        config=config,
        state_dir=str(tmp_path),
        platform_db_url="postgresql://lw:pw@db/labworks",
    )
    env = server.environment()
    assert env["_MLFLOW_SERVER_FILE_STORE"] == (
        "postgresql+psycopg://lw:pw@db/labworks?options=-csearch_path%3Dmlflow"
    )
    assert server.auth_db_uri.endswith("?options=-csearch_path%3Dmlflow_auth")
    assert env["_MLFLOW_SERVER_ARTIFACT_DESTINATION"] == "s3://lw-artifacts/jobs/mlflow"
    assert env["MLFLOW_S3_ENDPOINT_URL"] == "http://seaweed:8333"
    assert (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]) == ("AKIA1", "s3cr3t")
    # %-signs in a password survive configparser's interpolation in basic_auth.ini
    server.auth_db_uri = "postgresql://lw:p%25w@db/labworks"
    assert "database_uri = postgresql://lw:p%%25w@db/labworks" in server.auth_config()


def test_explicit_settings_win(tmp_path):
    server = TrackingServer(
        local_artifacts(tmp_path),
        config=Config(
            {
                "TrackingServer": {
                    "backend_store_uri": "postgresql://mlflow@tracking-db/mlflow",
                    "artifacts_destination": "/data/mlflow",
                }
            }
        ),
        state_dir=str(tmp_path),
    )
    env = server.environment()
    assert env["_MLFLOW_SERVER_FILE_STORE"] == "postgresql://mlflow@tracking-db/mlflow"
    assert env["_MLFLOW_SERVER_ARTIFACT_DESTINATION"] == "/data/mlflow"
    assert "AWS_ACCESS_KEY_ID" not in env


def test_helpers():
    assert in_schema("postgresql://u@h/d", "mlflow").endswith("/d?options=-csearch_path%3Dmlflow")
    assert s3_environment({"endpoint_url": "http://s3:9000"}) == {
        "MLFLOW_S3_ENDPOINT_URL": "http://s3:9000"
    }
    assert check_visibility(" group:ml ") == "group:ml"
    for bad in ("group:", "friends", ""):
        with pytest.raises(Invalid, match="invalid visibility"):
            check_visibility(bad)
    with pytest.raises(Invalid, match="invalid group name 'ML Team'"):
        check_visibility("group:ML Team")


def test_a_database_that_cannot_be_prepared_stops_the_start_with_the_reason(tmp_path):
    url = f"postgresql://lw:secret-pw@127.0.0.1:{free_port()}/labworks"
    server = TrackingServer(local_artifacts(tmp_path), state_dir=str(tmp_path), platform_db_url=url)
    with pytest.raises(TrackingError) as failed:
        server.start()  # fails before MLflow is imported
    message = str(failed.value)
    assert message.startswith("cannot start the tracking server: cannot create schema 'mlflow'")
    assert "lw:***@127.0.0.1" in message and "secret-pw" not in message
    # What the gate and the routers answer (503): the same reason.
    with pytest.raises(Unavailable, match=r"^the tracking server is not available: cannot start"):
        asyncio.run(server.ready())
