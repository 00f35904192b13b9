"""Who may see which experiment and registered model, kept in MLflow's own auth store.

MLflow's auth app decides every tracking and registry request from grants: a user's own grants
(the creator of an experiment or registered model gets MANAGE) and the grants of the roles the
user holds. Labworks adds two kinds of role, in MLflow's `default` workspace:

- `group:<name>` — held by the members of hub group <name>;
- `public` — held by every user.

A role is named as the visibility it gives (access.Visibility).

Sharing an experiment or a registered model is one READ grant on it to one of those roles
(`set_visibility`, `set_model_visibility`), so its visibility is `private` (no such grant),
`group:<name>` or `public`. Role membership
follows the hub at each (cached) request (`sync_user`). The same rule answers our REST API:
`_permission` is MLflow's own resolution. Viewers and refusals are the platform's (access.py).

MLflow is imported inside the functions: its server modules read their configuration at import,
which must happen after the tracking server set it (tracking/server.py).
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..access import GROUP, PRIVATE, PUBLIC, Forbidden, NotFound, Viewer, Visibility

WORKSPACE = "default"  # MLflow's workspace when workspaces are off: where grants live
EXPERIMENT = "experiment"
REGISTERED_MODEL = "registered_model"
JOB_TAG = "labworks.job.id"  # set by the kernel on every run a job logs
COST_METRIC = "labworks.cost_usd"  # logged by the cost meter on a job's run when it ends
MAX_JOB_RUNS = 20


@dataclass(frozen=True)
class ExperimentInfo:
    id: str
    name: str
    owner: str | None
    visibility: str
    yours: bool  # the viewer is its owner
    lifecycle_stage: str
    creation_time: int | None
    last_update_time: int | None


@dataclass(frozen=True)
class ModelVersionInfo:
    version: str
    run_id: str | None
    source: str
    status: str
    creation_time: int | None


@dataclass(frozen=True)
class ModelInfo:
    name: str
    owner: str | None
    visibility: str
    yours: bool  # the viewer is its owner
    description: str
    latest_versions: list[ModelVersionInfo]
    aliases: dict[str, str]
    creation_time: int | None
    last_updated_time: int | None


def check_visibility(value: str) -> str:
    """`private`, `public` or `group:<name>` of a valid hub group name; Invalid otherwise."""
    return Visibility.parse(value).value


def sync_user(auth: Any, name: str, groups: Iterable[str], admin: bool = False) -> None:
    """Make `name` an MLflow user (with a random password nobody knows: only hub tokens log
    in) holding `public` and the `group:` roles of `groups`, and no other `group:` role; an
    MLflow admin exactly when `admin` (a hub admin), so MLflow's user, role and permission
    APIs answer hub admins only."""
    from mlflow.exceptions import MlflowException

    if not auth.has_user(name):
        try:
            auth.create_user(name, secrets.token_urlsafe(32), is_admin=admin)
        except MlflowException as e:
            if not auth.has_user(name, use_primary=True):  # not a concurrent first request
                raise e
    user = auth.get_user(name)
    if user.is_admin != admin:
        user = auth.update_user(name, is_admin=admin)
    held = {r.name: r.id for r in auth.list_user_roles(user.id) if _is_sharing_role(r.name)}
    wanted = {PUBLIC, *(GROUP + g for g in groups)}
    for role in wanted - held.keys():
        with contextlib.suppress(MlflowException):  # a concurrent request assigned it first
            auth.assign_role_to_user(user.id, _role_id(auth, role))
    for role in held.keys() - wanted:
        auth.unassign_role_from_user(user.id, held[role])


def get_experiment(auth: Any, tracking: Any, viewer: Viewer, experiment_id: str) -> ExperimentInfo:
    """One experiment the viewer may read; NotFound otherwise (its existence does not leak)."""
    experiment = readable_experiment(tracking, viewer, experiment_id)
    return _infos(auth, viewer, [experiment])[0]


def list_experiments(auth: Any, tracking: Any, viewer: Viewer) -> list[ExperimentInfo]:
    """The active experiments the viewer may read, as MLflow's search_experiments lists them."""
    from mlflow.entities import ViewType

    if not auth.has_user(viewer.name):
        return []
    can_read = _read_predicate(viewer)
    found, token = [], None
    while True:
        page = tracking.search_experiments(
            view_type=ViewType.ACTIVE_ONLY, max_results=1000, page_token=token
        )
        found += [e for e in page if can_read(e.experiment_id)]
        token = page.token
        if not token:
            break
    return _infos(auth, viewer, found)


def set_visibility(
    auth: Any, tracking: Any, viewer: Viewer, experiment_id: str, visibility: str
) -> ExperimentInfo:
    """Share an experiment read-only with a group of the viewer or with everyone, or make it
    private again. Only who may manage it (its owner) may.

    Raises:
        Invalid: not a visibility.
        NotFound: no such experiment, or one the viewer may not read.
        Forbidden: the viewer may read it but not manage it, or is not in the group.
    """
    visibility = check_visibility(visibility)
    experiment = readable_experiment(tracking, viewer, experiment_id)
    if not _permission(viewer, experiment.experiment_id).can_manage:
        raise Forbidden(f"only the owner of experiment {experiment.name!r} may change who sees it")
    _share(auth, viewer, EXPERIMENT, experiment.experiment_id, visibility)
    return _infos(auth, viewer, [experiment])[0]


def get_model(auth: Any, registry: Any, viewer: Viewer, name: str) -> ModelInfo:
    """One registered model the viewer may read; NotFound otherwise (its existence does not
    leak)."""
    return _model_infos(auth, viewer, [_readable_model(registry, viewer, name)])[0]


def list_models(auth: Any, registry: Any, viewer: Viewer) -> list[ModelInfo]:
    """The registered models (not prompts) the viewer may read, most recently updated first."""
    if not auth.has_user(viewer.name):
        return []
    can_read = _model_read_predicate(viewer)
    found, token = [], None
    while True:
        page = registry.search_registered_models(
            max_results=1000, order_by=["last_updated_timestamp DESC"], page_token=token
        )
        found += [m for m in page if not m._is_prompt() and can_read(m.name)]
        token = page.token
        if not token:
            break
    return _model_infos(auth, viewer, found)


def set_model_visibility(
    auth: Any, registry: Any, viewer: Viewer, name: str, visibility: str
) -> ModelInfo:
    """Share a registered model (and so its versions and their artifacts) read-only with a
    group of the viewer or with everyone, or make it private again. Owner only.

    Raises:
        Invalid: not a visibility.
        NotFound: no such model, or one the viewer may not read.
        Forbidden: the viewer may read it but not manage it, or is not in the group.
    """
    visibility = check_visibility(visibility)
    model = _readable_model(registry, viewer, name)
    if not model_permission(viewer, model.name).can_manage:
        raise Forbidden(f"only the owner of model {model.name!r} may change who sees it")
    _share(auth, viewer, REGISTERED_MODEL, model.name, visibility)
    return _model_infos(auth, viewer, [model])[0]


def follow_model_lifecycle(auth: Any, action: str, name: str, new_name: str = "") -> None:
    """Keep sharing grants (keyed by model name) with their model: MLflow moves and deletes
    only its users' own grants. A new model drops any left on its name (so it starts private
    even where an earlier model of that name was shared), a deleted one drops its own, a
    renamed one takes them along."""
    from mlflow.server.auth.db.models import SqlRolePermission

    with auth.ManagedSessionMaker(read_only=False) as session:
        for grant in _sharing_grants(session, [name], REGISTERED_MODEL):
            row = session.get(SqlRolePermission, grant.id)
            if action == "rename" and new_name:
                row.resource_pattern = new_name
            else:
                session.delete(row)


def anchor_run_source(tracking: Any, registry: Any, name: str, version: str, source: str) -> None:
    """Record where the files of a version registered from `runs:/<run id>/<path>` are as its
    storage location, as MLflow itself does for `models:/` sources: the files of the logged
    model of that name from that run when there is one (MLflow 3 prefers them too), else the
    run's artifact folder. Loading the version then reads those files, which the model's
    readers may (tracking/model_files.py), instead of resolving the run, which they may not."""
    from mlflow.store.model_registry.dbmodels.models import SqlModelVersion

    run_id, _, path = source.removeprefix("runs:/").partition("/")
    path = path.strip("/")
    run = tracking.get_run(run_id)
    location = f"{run.info.artifact_uri.rstrip('/')}/{path}".rstrip("/")
    first, _, rest = path.partition("/")
    logged = (
        tracking.search_logged_models(
            experiment_ids=[run.info.experiment_id], filter_string=f"name = '{first}'"
        )
        if first and "'" not in first
        else []
    )
    if model := next((m for m in logged if m.source_run_id == run_id), None):
        location = f"{model.artifact_location.rstrip('/')}/{rest}".rstrip("/")
    with registry.ManagedSessionMaker() as session:
        session.query(SqlModelVersion).filter(
            SqlModelVersion.name == name, SqlModelVersion.version == int(version)
        ).update({SqlModelVersion.storage_location: location})


# --- helpers -------------------------------------------------------------------------------


def _is_sharing_role(name: str) -> bool:
    return name == PUBLIC or name.startswith(GROUP)


def _role_id(auth: Any, name: str) -> int:
    """The id of sharing role `name`, created on first use."""
    from mlflow.exceptions import MlflowException

    try:
        return auth.get_role_by_name(WORKSPACE, name).id
    except MlflowException:
        pass
    try:
        return auth.create_role(name, WORKSPACE, description="Labworks sharing").id
    except MlflowException:  # created concurrently
        return auth.get_role_by_name(WORKSPACE, name).id


def _share(auth: Any, viewer: Viewer, resource_type: str, key: str, visibility: str) -> None:
    """Replace the sharing grant on one resource: none (private) or READ to one role; the
    visibility it already has is left as it is."""
    from mlflow.server.auth.db.models import SqlRolePermission

    Visibility(visibility).settable_by(viewer)
    role_id = _role_id(auth, visibility) if visibility != PRIVATE else None
    with auth.ManagedSessionMaker(read_only=False) as session:
        held = _sharing_grants(session, [key], resource_type)
        if [grant.name for grant in held] == ([visibility] if role_id is not None else []):
            return
        for grant in held:
            session.delete(session.get(SqlRolePermission, grant.id))
        session.flush()  # deletes first: one grant per (role, resource) is unique
        if role_id is not None:
            session.add(
                SqlRolePermission(
                    role_id=role_id,
                    resource_type=resource_type,
                    resource_pattern=key,
                    permission="READ",
                )
            )


def _permission(viewer: Viewer, experiment_id: str) -> Any:
    """MLflow's own answer: the viewer's permission on the experiment."""
    from mlflow.server import auth as mlflow_auth

    if not mlflow_auth.store.has_user(viewer.name):
        from mlflow.server.auth.permissions import NO_PERMISSIONS

        return NO_PERMISSIONS
    return mlflow_auth._get_experiment_permission(experiment_id, viewer.name)


def _read_predicate(viewer: Viewer):
    """MLflow's filter for search_experiments: experiment id -> may the viewer read it."""
    from mlflow.server import auth as mlflow_auth

    return mlflow_auth._role_based_read_predicate(viewer.name, EXPERIMENT)


def model_permission(viewer: Viewer, name: str) -> Any:
    """MLflow's own answer: the viewer's permission on the registered model."""
    from mlflow.server import auth as mlflow_auth
    from mlflow.server.auth.permissions import NO_PERMISSIONS

    if not mlflow_auth.store.has_user(viewer.name):
        return NO_PERMISSIONS
    return mlflow_auth._get_role_permission_or_default(
        mlflow_auth._role_permission_for_known_workspace(viewer.name, REGISTERED_MODEL, name, None)
    )


def _model_read_predicate(viewer: Viewer):
    """MLflow's filter for search_registered_models: model name -> may the viewer read it."""
    from mlflow.server import auth as mlflow_auth

    return mlflow_auth._role_based_read_predicate(viewer.name, REGISTERED_MODEL)


def _readable_model(registry: Any, viewer: Viewer, name: str) -> Any:
    from mlflow.exceptions import MlflowException

    missing = NotFound(f"no registered model {name!r} that you can see")
    try:
        model = registry.get_registered_model(name)
    except MlflowException:
        raise missing from None
    if model._is_prompt() or not model_permission(viewer, model.name).can_read:
        raise missing
    return model


def job_run_ids(tracking: Any, job_id: str, limit: int = 1) -> list[tuple[str, str]]:
    """(run id, experiment id) of the live runs a job logged (the kernel tags each with
    `JOB_TAG`), newest first: one query, whatever the number of experiments."""
    from mlflow.store.tracking.dbmodels.models import SqlRun, SqlTag

    with tracking.ManagedSessionMaker() as session:
        rows = (
            session.query(SqlRun.run_uuid, SqlRun.experiment_id)
            .join(SqlTag, SqlTag.run_uuid == SqlRun.run_uuid)
            .filter(SqlTag.key == JOB_TAG, SqlTag.value == job_id)
            .filter(SqlRun.lifecycle_stage == "active")
            .order_by(SqlRun.start_time.desc())
            .limit(limit)
            .all()
        )
    return [(run_id, str(experiment_id)) for run_id, experiment_id in rows]


def readable_job_runs(auth: Any, tracking: Any, viewer: Viewer, job_id: str) -> list[str]:
    """The ids of the runs the job logged that the viewer may read, newest first (at most
    `MAX_JOB_RUNS`)."""
    found = job_run_ids(tracking, job_id, MAX_JOB_RUNS)
    return [run for run, experiment in found if _permission(viewer, experiment).can_read]


def readable_experiment(tracking: Any, viewer: Viewer, experiment_id: str) -> Any:
    """MLflow's experiment `experiment_id` if the viewer may read it; NotFound otherwise (for
    the REST API and the runs table alike: its existence does not leak)."""
    from mlflow.exceptions import MlflowException

    missing = NotFound(f"no experiment {experiment_id!r} that you can see")
    if not experiment_id.isdigit():
        raise missing
    try:
        experiment = tracking.get_experiment(experiment_id)
    except MlflowException:
        raise missing from None
    if not _permission(viewer, experiment.experiment_id).can_read:
        raise missing
    return experiment


def _sharing_grants(session: Any, keys: list[str], resource_type: str = EXPERIMENT) -> list[Any]:
    """(id, role name, key) of the READ grants of sharing roles on these resources."""
    from mlflow.server.auth.db.models import SqlRole, SqlRolePermission
    from sqlalchemy import or_, select

    query: Any = (
        select(SqlRolePermission.id, SqlRole.name, SqlRolePermission.resource_pattern)
        .join(SqlRole, SqlRole.id == SqlRolePermission.role_id)
        .where(
            SqlRole.workspace == WORKSPACE,
            or_(SqlRole.name == PUBLIC, SqlRole.name.startswith(GROUP)),
            SqlRolePermission.resource_type == resource_type,
            SqlRolePermission.resource_pattern.in_(keys),
        )
    )
    return list(session.execute(query))


def _owners(
    auth: Any, session: Any, keys: list[str], resource_type: str = EXPERIMENT
) -> dict[str, str]:
    """Resource key -> the first user given MANAGE on it (its creator)."""
    from mlflow.server.auth.db.models import (
        SqlRole,
        SqlRolePermission,
        SqlUser,
        SqlUserRoleAssignment,
    )
    from sqlalchemy import select

    query: Any = (
        select(SqlRolePermission.resource_pattern, SqlUser.username)
        .join(SqlRole, SqlRole.id == SqlRolePermission.role_id)
        .join(SqlUserRoleAssignment, SqlUserRoleAssignment.role_id == SqlRole.id)
        .join(SqlUser, SqlUser.id == SqlUserRoleAssignment.user_id)
        .where(
            SqlRolePermission.resource_type == resource_type,
            SqlRolePermission.resource_pattern.in_(keys),
            SqlRolePermission.permission == "MANAGE",
            SqlRole.name.startswith(auth._SYNTHETIC_ROLE_PREFIX),  # a user's own grants
        )
        .order_by(SqlRolePermission.id)
    )
    owners: dict[str, str] = {}
    for key, username in session.execute(query):
        owners.setdefault(key, username)
    return owners


def _infos(auth: Any, viewer: Viewer, experiments: list[Any]) -> list[ExperimentInfo]:
    ids = [e.experiment_id for e in experiments]
    with auth.ManagedSessionMaker() as session:
        owners = _owners(auth, session, ids)
        shared = {row[2]: row[1] for row in _sharing_grants(session, ids)}
    return [
        ExperimentInfo(
            id=e.experiment_id,
            name=e.name,
            owner=owners.get(e.experiment_id),
            visibility=shared.get(e.experiment_id, PRIVATE),
            yours=owners.get(e.experiment_id) == viewer.name,
            lifecycle_stage=e.lifecycle_stage,
            creation_time=e.creation_time,
            last_update_time=e.last_update_time,
        )
        for e in experiments
    ]


def _model_infos(auth: Any, viewer: Viewer, models: list[Any]) -> list[ModelInfo]:
    names = [m.name for m in models]
    with auth.ManagedSessionMaker() as session:
        owners = _owners(auth, session, names, REGISTERED_MODEL)
        shared = {row[2]: row[1] for row in _sharing_grants(session, names, REGISTERED_MODEL)}
    return [
        ModelInfo(
            name=m.name,
            owner=owners.get(m.name),
            visibility=shared.get(m.name, PRIVATE),
            yours=owners.get(m.name) == viewer.name,
            description=m.description or "",
            latest_versions=[
                ModelVersionInfo(
                    version=str(v.version),
                    run_id=v.run_id or None,
                    source=v.source,
                    status=v.status,
                    creation_time=v.creation_timestamp,
                )
                for v in sorted(m.latest_versions or [], key=lambda v: -int(v.version))
            ],
            aliases={alias: str(v) for alias, v in (m.aliases or {}).items()},
            creation_time=m.creation_timestamp,
            last_updated_time=m.last_updated_timestamp,
        )
        for m in models
    ]
