"""Model-file sharing: a registered model's readers may read its versions' files.

MLflow's auth decides reads of artifacts by their experiment alone; `share_model_files` widens
its two artifact-proxy read checks to the files of a live model version whose registered model
the caller may read. MLflow is imported inside the functions (tracking/server.py).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, or_, select

from .identity import current_user

ARTIFACTS_SCHEME = "mlflow-artifacts:"


def share_model_files(auth: Any) -> None:
    """Let the readers of a registered model read its versions' files.

    The stock client loads `models:/<name>/<version>` from where the version's files are (the
    logged model's or run's artifacts, `mlflow-artifacts:/<experiment>/...`), and MLflow's auth
    decides those reads by the experiment alone. So a model shared with a group could not be
    loaded by its members unless its whole experiment was shared too. This wraps MLflow's two
    artifact-proxy read checks (downloads, served by FastAPI; listings, by Flask): what MLflow
    denies is allowed when the path lies inside the files of a live model version whose
    registered model the user may read. Writes and deletes are never widened.

    Raises:
        RuntimeError: this MLflow does not have the checks this function knows.
    """
    fastapi_check = getattr(auth, "_authorize_fastapi_artifact_proxy", None)
    flask_check = getattr(auth, "_authorize_flask_artifact_proxy", None)
    if fastapi_check is None or flask_check is None:
        raise RuntimeError("mlflow.server.auth has no artifact proxy checks where expected")

    def fastapi(path: str, username: str, query_path: str | None, action: str) -> bool:
        if fastapi_check(path, username, query_path, action):
            return True
        wanted = auth._artifact_proxy_path_from_request_path(path, query_path)
        return action == "read" and model_files_readable(auth, username, wanted)

    def flask(action: str) -> bool:
        if flask_check(action):
            return True
        user = current_user()
        wanted = auth._artifact_proxy_path()
        return action == "read" and user is not None and model_files_readable(auth, user, wanted)

    auth._authorize_fastapi_artifact_proxy = fastapi
    auth._authorize_flask_artifact_proxy = flask


def model_files_readable(auth: Any, username: str, path: str | None) -> bool:
    """Whether `path` (below the artifact root) is inside the files of a live model version
    of a registered model `username` may read."""
    from mlflow.entities.model_registry.model_version_stages import STAGE_DELETED_INTERNAL
    from mlflow.server.handlers import _get_model_registry_store
    from mlflow.store.model_registry.dbmodels.models import SqlModelVersion

    canonical = auth._canonical_artifact_proxy_path(path) if path else None
    parts = [p for p in (canonical or "").split("/") if p]
    if len(parts) < 2:  # an experiment's root: never a model's files
        return False
    places = set()
    for end in range(2, len(parts) + 1):
        prefix = "/".join(parts[:end])
        places |= {f"{ARTIFACTS_SCHEME}/{prefix}", f"{ARTIFACTS_SCHEME}/{prefix}/"}
    query: Any = select(SqlModelVersion.name).where(
        SqlModelVersion.current_stage != STAGE_DELETED_INTERNAL,
        or_(
            SqlModelVersion.storage_location.in_(places),
            and_(SqlModelVersion.storage_location.is_(None), SqlModelVersion.source.in_(places)),
        ),
    )
    with _get_model_registry_store().ManagedSessionMaker() as session:
        names = {row[0] for row in session.execute(query)}
    return any(
        auth._get_role_permission_or_default(
            auth._role_permission_for_known_workspace(username, "registered_model", name, None)
        ).can_read
        for name in sorted(names)
    )
