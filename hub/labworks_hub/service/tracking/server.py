"""The stock MLflow tracking server inside the platform service, with MLflow's own auth app.

`start()` does what `mlflow server --serve-artifacts --app-name basic-auth` does for its
workers: it sets MLflow's server environment variables, imports `mlflow.server`, and wraps its
Flask app with `mlflow.server.auth.create_app` (permissions per experiment and registered model,
enforced on every route, search endpoints filtered). Two things differ:

- the auth app's `authorization_function` is Labworks' (tracking/identity.py): it accepts the
  hub user the gate authenticated from a hub token, never a password;
- `default_permission` is NO_PERMISSIONS: an experiment is private to the people holding a grant
  on it (its creator gets MANAGE), plus what sharing adds (store/tracking.py).

MLflow keeps its stores and config in module globals, read once at import, so there is one
tracking server per process and `start()` must run before anything imports `mlflow.server`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import posixpath
import secrets
import sys
import tempfile
import time
from typing import Any
from urllib.parse import unquote, urlsplit

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from traitlets import Dict, Unicode, default
from traitlets.config import Config, LoggingConfigurable

from ..access import Unavailable, Viewer
from ..jobs.artifacts import ArtifactStore
from ..settings import USER_CACHE_SECONDS, ServiceSettings
from ..store import tracking as store
from ..store.db import Store, normalize_url, redact_url
from .decisions import flask_routes_skip_fastapi_checks, remember_decisions, tell_readers_apart
from .env import PERSONAL_PREFIX, personal_experiment
from .history import follow_registry
from .identity import current_user
from .model_files import share_model_files
from .runs_table import ensure_indexes

ADMIN = "_labworks"  # MLflow's bootstrap admin; hub names cannot start with "_"
AUTHORIZATION_FUNCTION = "labworks_hub.service.tracking.identity:authorization"
SCHEMAS = {"tracking": "mlflow", "auth": "mlflow_auth"}  # PostgreSQL: one schema each
USER_TAG = "mlflow.user"  # MLflow's tag of who started a run
SQLITE_FILES = {"tracking": "mlflow.sqlite", "auth": "mlflow-auth.sqlite"}
# Model version sources: a run's or logged model's (checked by MLflow's auth), or the
# placeholders MLflow gives prompt versions.
VERSION_SOURCES = (
    r"^(runs:/[^/]|models:/[^/]|mlflow-artifacts:/[^/]|dummy-source$|prompt-template$)"
)
VERSION_CREATE = "/mlflow/model-versions/create"
EXPERIMENT_CREATE = "/mlflow/experiments/create"
ARTIFACTS_ROOT = "mlflow-artifacts:/"  # where MLflow's served-artifacts proxy keeps them
RESOLVED_SCHEMES = ("mlflow-artifacts", "runs", "models")
log = logging.getLogger("labworks.service")
REGISTRY_LIFECYCLE = {
    "/mlflow/registered-models/create": "create",
    "/mlflow/registered-models/rename": "rename",
    "/mlflow/registered-models/delete": "delete",
}


class TrackingError(Unavailable):
    """The tracking server cannot start; the message says why (no passwords)."""


class TrackingServer(LoggingConfigurable):
    """MLflow behind hub auth, keeping artifacts in the platform's artifact store (`artifacts`).
    Not restartable: `start()` once per process (blocking; call it off the event loop), then
    `app` is the ASGI app and `auth_store` MLflow's auth store."""

    backend_store_uri = Unicode(
        help="SQLAlchemy URL of MLflow's tracking database (experiments, runs, models). Default:"
        " <state dir>/mlflow.sqlite with a SQLite platform store; schema `mlflow` of the"
        " platform database with PostgreSQL."
    ).tag(config=True)
    auth_db_uri = Unicode(
        help="SQLAlchemy URL of MLflow's auth database (users, roles, grants). Default:"
        " <state dir>/mlflow-auth.sqlite, or schema `mlflow_auth` of the platform database."
    ).tag(config=True)
    artifacts_destination = Unicode(
        help="Where run artifacts and models are kept; clients upload and download them through"
        " the tracking server and never need storage credentials. Default: <artifact store"
        " url>/mlflow (the platform's artifact store, where job outputs go)."
    ).tag(config=True)
    s3_environment = Dict(
        value_trait=Unicode(),
        help="Extra variables for MLflow's S3 client when artifacts_destination is s3://..."
        " (AWS_*, MLFLOW_S3_ENDPOINT_URL); by default the artifact store's storage_options.",
    ).tag(config=True)

    state_dir = Unicode(".", help="The platform's state directory.")
    platform_db_url = Unicode("", help="The platform store's URL (picks the default backends).")

    app: Any = None
    auth_store: Any = None
    platform_store: Store | None = None  # where registry changes are recorded (history.py)

    @default("backend_store_uri")
    def _default_backend_store_uri(self) -> str:
        return self._default_db("tracking")

    @default("auth_db_uri")
    def _default_auth_db_uri(self) -> str:
        return self._default_db("auth")

    @default("artifacts_destination")
    def _default_artifacts_destination(self) -> str:
        return self.artifacts.url.rstrip("/") + "/mlflow"

    @default("s3_environment")
    def _default_s3_environment(self) -> dict[str, str]:
        return s3_environment(self.artifacts.storage_options)

    def __init__(self, artifacts: ArtifactStore, **kwargs: Any) -> None:
        self.artifacts = artifacts
        super().__init__(**kwargs)
        self._ready: asyncio.Future[None] | None = None
        self._synced: dict[Viewer, float] = {}

    def _default_db(self, which: str) -> str:
        if _is_postgresql(self.platform_db_url):
            return in_schema(self.platform_db_url, SCHEMAS[which])
        return f"sqlite:///{os.path.join(self.state_dir, SQLITE_FILES[which])}"

    def environment(self) -> dict[str, str]:
        """The variables `mlflow server --serve-artifacts` hands its workers, for this config."""
        env = {
            "_MLFLOW_SERVER_FILE_STORE": self.backend_store_uri,
            "_MLFLOW_SERVER_REGISTRY_STORE": self.backend_store_uri,
            "_MLFLOW_SERVER_ARTIFACT_ROOT": ARTIFACTS_ROOT,
            "_MLFLOW_SERVER_SERVE_ARTIFACTS": "true",
            "_MLFLOW_SERVER_ARTIFACT_DESTINATION": self.artifacts_destination,
            "_MLFLOW_SGI_NAME": "uvicorn",  # auth.create_app returns the FastAPI app
            "MLFLOW_ENABLE_WORKSPACES": "false",
            "MLFLOW_BASIC_AUTH_FAIL_CLOSED": "true",  # a route without a validator is denied
            # The hub's proxy chooses which hosts reach us; kernels use the service's own
            # address. Cross-origin writes stay blocked (MLflow's CORS check).
            "MLFLOW_SERVER_ALLOWED_HOSTS": "*",
            "MLFLOW_DISABLE_TELEMETRY": "true",
            # A model version's files are read through it with the server's own storage access,
            # so its source must be anchored to something the caller may read (MLflow's auth
            # checks runs:/ and models:/ sources and run_id, model_id), never a bare storage URL.
            "MLFLOW_CREATE_MODEL_VERSION_SOURCE_VALIDATION_REGEX": VERSION_SOURCES,
        }
        if self.artifacts_destination.startswith("s3://"):
            env.update(self.s3_environment)
        return env

    def auth_config(self) -> str:
        """MLflow's basic_auth.ini for this server (it holds the auth database URL)."""
        return (
            "[mlflow]\n"
            "default_permission = NO_PERMISSIONS\n"
            f"database_uri = {self.auth_db_uri.replace('%', '%%')}\n"
            f"admin_username = {ADMIN}\n"
            f"authorization_function = {AUTHORIZATION_FUNCTION}\n"
        )

    # --- start -------------------------------------------------------------------------------

    def start(self) -> None:
        """Configure and import MLflow, create or upgrade its databases, build the app."""
        if "mlflow.server" in sys.modules:
            raise TrackingError(
                "mlflow.server was imported before the tracking server was configured"
            )
        try:
            for uri in (self.backend_store_uri, self.auth_db_uri):
                _prepare_database(uri)
        except TrackingError as e:
            raise TrackingError(f"cannot start the tracking server: {e}") from None
        fd, config_path = tempfile.mkstemp(prefix="labworks-mlflow-auth-", suffix=".ini")
        with os.fdopen(fd, "w") as f:  # 0600; removed once MLflow has read it at import
            f.write(self.auth_config())
        os.environ.update(self.environment())
        os.environ["MLFLOW_AUTH_CONFIG_PATH"] = config_path
        # Never used to log in (only hub tokens are accepted); MLflow needs one to bootstrap.
        os.environ["MLFLOW_AUTH_ADMIN_PASSWORD"] = secrets.token_urlsafe(32)
        os.environ.setdefault("MLFLOW_FLASK_SERVER_SECRET_KEY", secrets.token_hex(32))
        try:
            _upgrade_tracking_schema(self.backend_store_uri)
            from mlflow.server import app as flask_app
            from mlflow.server import auth
            from mlflow.server.handlers import _get_tracking_store, initialize_backend_stores

            initialize_backend_stores(
                self.backend_store_uri, self.backend_store_uri, ARTIFACTS_ROOT
            )
            ensure_indexes(_get_tracking_store())
            self.app = auth.create_app(flask_app)
            self.auth_store = auth.store
            flask_routes_skip_fastapi_checks(self.app, auth)
            confine_artifact_repositories(self.artifacts_destination)
            flask_app.before_request(_refuse_artifact_locations)
            flask_app.before_request(_reserve_personal_names)
            flask_app.before_request(_runs_belong_to_caller)
            flask_app.after_request(_follow_model_lifecycle)
            flask_app.after_request(_anchor_run_sources)
            if self.platform_store is not None:
                follow_registry(flask_app, self.platform_store)
            remember_decisions(auth)
            share_model_files(auth)
            tell_readers_apart(auth)  # last: it wraps the checks the two above wrap
        except Exception as e:
            raise TrackingError(f"cannot start the tracking server: {_first_line(e)}") from e
        finally:
            os.unlink(config_path)
            for name in ("MLFLOW_AUTH_CONFIG_PATH", "MLFLOW_AUTH_ADMIN_PASSWORD"):
                os.environ.pop(name, None)
        self.log.info(
            "Tracking: MLflow at %s, auth %s, artifacts at %s",
            redact_url(self.backend_store_uri),
            redact_url(self.auth_db_uri),
            self.artifacts_destination,
        )

    def _start_in_background(self) -> None:
        if self._ready is None:
            self._ready = asyncio.ensure_future(asyncio.to_thread(self.start))
            self._ready.add_done_callback(self._report)

    def _report(self, future: asyncio.Future[None]) -> None:
        if not future.cancelled() and future.exception() is not None:
            self.log.error("%s", future.exception())

    async def ready(self) -> None:
        """Return once the server is started, starting it (in a thread) on the first call.

        Raises:
            Unavailable: it could not start (the message says why).
        """
        self._start_in_background()
        assert self._ready is not None
        try:
            await asyncio.shield(self._ready)
        except TrackingError as e:
            raise Unavailable(f"the tracking server is not available: {e}") from None

    async def sync_user(self, viewer: Viewer) -> None:
        """Make a user an MLflow user holding the roles of their hub groups, and an MLflow
        admin if a hub admin; the hub's answer is trusted for USER_CACHE_SECONDS, like
        everywhere in the service."""
        now = time.monotonic()
        if self._synced.get(viewer, 0) > now:
            return
        groups = sorted(viewer.groups)
        await asyncio.to_thread(store.sync_user, self.auth_store, viewer.name, groups, viewer.admin)
        if len(self._synced) > 10_000:
            self._synced = {k: v for k, v in self._synced.items() if v > now}
        self._synced[viewer] = now + USER_CACHE_SECONDS


def build_tracking_server(settings: ServiceSettings, artifacts: ArtifactStore) -> TrackingServer:
    """The tracking server of the platform service (`c.TrackingServer` as `labworks up` hands
    it over with the job config sections), keeping artifacts in `artifacts`."""
    return TrackingServer(
        artifacts,
        config=Config(settings.jobs_config),
        state_dir=settings.state_dir,
        platform_db_url=settings.db_url,
    )


def in_schema(url: str, schema: str) -> str:
    """A PostgreSQL URL whose connections use `schema` (search_path), with psycopg 3."""
    parsed = make_url(normalize_url(url))
    parsed = parsed.update_query_dict({"options": f"-csearch_path={schema}"})
    return parsed.render_as_string(hide_password=False)


def s3_environment(storage_options: dict[str, Any]) -> dict[str, str]:
    """MLflow's S3 client (boto3) settings from fsspec/s3fs storage options."""
    endpoint = storage_options.get("endpoint_url") or (
        storage_options.get("client_kwargs") or {}
    ).get("endpoint_url")
    names = {
        "MLFLOW_S3_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": storage_options.get("key"),
        "AWS_SECRET_ACCESS_KEY": storage_options.get("secret"),
        "AWS_SESSION_TOKEN": storage_options.get("token"),
    }
    return {name: str(value) for name, value in names.items() if value}


def _is_postgresql(url: str) -> bool:
    try:
        return make_url(url).get_backend_name() == "postgresql"
    except Exception:  # an unparseable URL is reported by the platform store itself
        return False


def _prepare_database(uri: str) -> None:
    """SQLite: the file's directory exists. PostgreSQL with a search_path: the schema exists."""
    url = make_url(uri)
    if url.get_backend_name() == "sqlite" and url.database:
        os.makedirs(os.path.dirname(os.path.abspath(url.database)), exist_ok=True)
        return
    options = str(url.query.get("options", ""))
    if url.get_backend_name() != "postgresql" or "search_path=" not in options:
        return
    schema = options.split("search_path=", 1)[1].split()[0].split(",")[0]
    engine = create_engine(url.difference_update_query(["options"]))
    try:
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    except Exception as e:
        raise TrackingError(
            f"cannot create schema {schema!r} in {redact_url(uri)}: {_first_line(e)}"
        ) from None
    finally:
        engine.dispose()


def _upgrade_tracking_schema(uri: str) -> None:
    """Migrate an existing tracking database made by an older MLflow (a new one is created
    at the newest revision by MLflow itself)."""
    from mlflow.store.db import utils

    engine = utils.create_sqlalchemy_engine_with_retry(uri)
    try:
        if (
            utils._all_tables_exist(engine)
            and utils._get_schema_version(engine) != utils._get_latest_schema_revision()
        ):
            utils._upgrade_db(engine)
    finally:
        engine.dispose()


def confine_artifact_repositories(destination: str) -> None:
    """Let this process build MLflow artifact repositories only for the platform's artifacts
    destination and what lies below it (and `mlflow-artifacts:`, `runs:`, `models:` URIs,
    which resolve to those). MLflow builds every repository it reads, writes or lists through
    one registry, so an experiment or trace whose stored location points anywhere else (made
    before locations were refused, or by an admin) cannot have the server touch that place:
    its artifact routes answer 400 INVALID_PARAMETER_VALUE instead."""
    from mlflow.exceptions import MlflowException
    from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE
    from mlflow.store.artifact import artifact_repository_registry

    registry = artifact_repository_registry._artifact_repository_registry
    build = registry.get_artifact_repository

    def confined(artifact_uri: str, *args: Any, **kwargs: Any) -> Any:
        if not within_artifacts(artifact_uri, destination):
            raise MlflowException(
                f"artifacts at {artifact_uri!r} are outside the platform's artifact store; the"
                f" tracking server keeps and serves artifacts only under {ARTIFACTS_ROOT}",
                INVALID_PARAMETER_VALUE,
            )
        return build(artifact_uri, *args, **kwargs)

    registry.get_artifact_repository = confined  # type: ignore[method-assign]


def within_artifacts(uri: str, destination: str) -> bool:
    """Whether `uri` names the platform's artifacts: `destination` or below it (no `..`
    escapes), or a location MLflow resolves to those (mlflow-artifacts:/, runs:/, models:/)."""
    parsed = urlsplit(uri)
    if parsed.scheme in RESOLVED_SCHEMES:
        return not parsed.netloc  # mlflow-artifacts://host/... would be another server
    root = urlsplit(destination)
    if (parsed.scheme or "file") != (root.scheme or "file") or parsed.netloc != root.netloc:
        return False
    path, base = posixpath.normpath(unquote(parsed.path)), posixpath.normpath(unquote(root.path))
    return path == base or path.startswith(base.rstrip("/") + "/")


def _refuse_artifact_locations() -> Any:
    """Flask before_request, after MLflow's auth: an experiment's artifact location is always
    the platform's (mlflow-artifacts:/<experiment id>, which MLflow chooses when none is
    given), so a client's `artifact_location` is refused, whatever its value: the id a default
    would name is not known before the experiment exists."""
    from flask import jsonify, request

    if request.method != "POST" or not request.path.endswith(EXPERIMENT_CREATE):
        return None
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict) or not body.get("artifact_location"):
        return None
    message = (
        "artifact_location is chosen by the platform: leave it out and the experiment's"
        f" artifacts are kept under {ARTIFACTS_ROOT}<experiment id>, uploaded and downloaded"
        " through the tracking server"
    )
    return jsonify(error_code="INVALID_PARAMETER_VALUE", message=message), 400


def _reserve_personal_names():
    """Flask before_request, after MLflow's auth: names under `users/<name>/` are <name>'s."""
    from flask import jsonify, request

    if request.method != "POST" or not request.path.endswith(
        ("/mlflow/experiments/create", "/mlflow/experiments/update")
    ):
        return None
    body = request.get_json(silent=True) or {}
    name = body.get("name") if request.path.endswith("create") else body.get("new_name")
    user = current_user()
    if not isinstance(name, str) or not name.startswith(PERSONAL_PREFIX) or user is None:
        return None
    own = personal_experiment(user)
    if name == own or name.startswith(own + "/"):
        return None
    message = (
        f"experiment names under {PERSONAL_PREFIX}<name>/ belong to that user; yours are"
        f" {own} and {own}/..."
    )
    return jsonify(error="forbidden", error_code="PERMISSION_DENIED", message=message), 403


def _runs_belong_to_caller() -> None:
    """Flask before_request: a new run's user is the hub user who sent it. The stock client
    sends its OS user (`user_id` and the `mlflow.user` tag), which in a workspace or a job is
    a system account, and any client could send any name."""
    from flask import request

    user = current_user()
    if user is None or request.method != "POST" or not request.path.endswith("/runs/create"):
        return
    # MLflow's handler reads this same cached body (get_json(force=True, silent=True)).
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict) or not isinstance(tags := body.get("tags") or [], list):
        return  # MLflow answers what is wrong with it
    body["user_id"] = user
    body["tags"] = [
        *(t for t in tags if not isinstance(t, dict) or t.get("key") != USER_TAG),
        {"key": USER_TAG, "value": user},
    ]


def _follow_model_lifecycle(response: Any) -> Any:
    """Flask after_request: sharing grants follow a registered model's create, rename and
    delete (store/tracking.py)."""
    from flask import request
    from mlflow.server import auth

    if request.method not in ("POST", "PATCH", "DELETE") or response.status_code != 200:
        return response
    action = next(
        (a for suffix, a in REGISTRY_LIFECYCLE.items() if request.path.endswith(suffix)), None
    )
    if action is None:
        return response
    body = request.get_json(silent=True) or {}
    name = body.get("name") or request.args.get("name")
    if isinstance(name, str) and name:
        store.follow_model_lifecycle(auth.store, action, name, str(body.get("new_name") or ""))
    return response


def _anchor_run_sources(response: Any) -> Any:
    """Flask after_request: a version registered from a `runs:/` source keeps where its files
    are, so the people its model is shared with can load it (store.anchor_run_source)."""
    from flask import request
    from mlflow.exceptions import MlflowException
    from mlflow.server.handlers import _get_model_registry_store, _get_tracking_store

    if (
        request.method != "POST"
        or response.status_code != 200
        or not request.path.endswith(VERSION_CREATE)
    ):
        return response
    version = (response.get_json(silent=True) or {}).get("model_version") or {}
    source = str(version.get("source") or "")
    if source.startswith("runs:/"):
        try:
            store.anchor_run_source(
                _get_tracking_store(),
                _get_model_registry_store(),
                str(version.get("name")),
                str(version.get("version")),
                source,
            )
        except MlflowException as e:  # the version stands; only its readers cannot load it
            log.warning("cannot anchor model version source %s: %s", source, e.message)
    return response


def _first_line(e: BaseException) -> str:
    text_ = str(e).strip()
    return text_.splitlines()[0] if text_ else type(e).__name__
