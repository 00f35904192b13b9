"""A registered model's versions as the platform shows them: each with its task type (its
`labworks.task` tag, else inferred from its MLmodel file: serving/tasks.py), its aliases and
its lineage (the run it came from: notebook, job, parameters, dataset versions, image); and the
changes people make to them (task, aliases), each recorded in the model's history
(store/model_events.py).

Every function takes MLflow's stores of the running tracking server (routers/tracking_common)
and a `Viewer`; who may read or change a model is MLflow's decision, as everywhere
(store/tracking.py): readers read, the owner changes. MLflow is imported inside
the functions (tracking/server.py).
"""

from __future__ import annotations

import logging
import os
import posixpath
import re
import tempfile
from dataclasses import dataclass, field
from typing import Any

from ..access import Forbidden, Invalid, NotFound, Viewer
from ..store import tracking as tracking_store
from ..store.tracking import COST_METRIC, model_permission
from .operations import TASK_TAG
from .tasks import TASKS, infer_task

log = logging.getLogger("labworks.service")
ARTIFACTS_SCHEME = "mlflow-artifacts:"
MLMODEL = "MLmodel"
MAX_MLMODEL = 1 << 20  # bytes: an MLmodel file is a few KiB
ALIAS_RE = re.compile(r"^[\w-]{1,255}\Z", re.ASCII)  # MLflow's rule, without `latest`, v<n>
RESERVED_ALIAS = re.compile(r"^(latest|v\d+)\Z", re.IGNORECASE)
PREFIX = "labworks."
MAX_VERSIONS = 200


@dataclass(frozen=True)
class Lineage:
    """Where a version came from: its run's `labworks.*` tags (kernels/labworks/track.py).
    `readable` is False when the viewer may not read the run (only its id is shown then)."""

    run_id: str
    readable: bool
    experiment_id: str | None = None
    run_name: str | None = None
    user: str | None = None
    notebook: str | None = None
    notebook_sha256: str | None = None
    job_id: str | None = None
    job_name: str | None = None
    parameters: dict[str, str] = field(default_factory=dict)
    datasets: list[dict[str, str]] = field(default_factory=list)
    image: str | None = None
    image_digest: str | None = None
    env_hash: str | None = None
    git_commit: str | None = None
    cost_usd: float | None = None  # what the run's job cost (its labworks.cost_usd metric)


@dataclass(frozen=True)
class VersionSummary:
    version: str
    run_id: str | None
    status: str
    creation_time: int | None
    aliases: list[str]
    task: str | None  # its tag


@dataclass(frozen=True)
class VersionInfo:
    name: str
    version: str
    run_id: str | None
    source: str
    status: str
    description: str
    creation_time: int | None
    aliases: list[str]
    task: str | None
    task_inferred: bool  # no tag: the task is the MLmodel file's (or None: unknown)
    editable: bool  # the viewer may change its task and the model's aliases
    lineage: Lineage | None


def lineage_of(
    run_id: str,
    experiment_id: str,
    run_name: str | None,
    tags: dict[str, str],
    inputs: list[tuple[str, str | None]],
    cost_usd: float | None = None,
) -> Lineage:
    """The lineage in a run's tags and its dataset inputs ((name, Labworks version) pairs);
    `cost_usd`, the cost the meter logged on the run when its job ended."""
    datasets = {
        key.removeprefix(PREFIX + "dataset."): value
        for key, value in tags.items()
        if key.startswith(PREFIX + "dataset.")
    }
    for name, version in inputs:
        if version or name not in datasets:
            datasets[name] = version or datasets.get(name, "")
    return Lineage(
        run_id=run_id,
        readable=True,
        experiment_id=experiment_id,
        run_name=run_name,
        user=tags.get(PREFIX + "user"),
        notebook=tags.get(PREFIX + "notebook.path"),
        notebook_sha256=tags.get(PREFIX + "notebook.sha256"),
        job_id=tags.get(PREFIX + "job.id"),
        job_name=tags.get(PREFIX + "job.name"),
        parameters={
            key.removeprefix(PREFIX + "param."): value
            for key, value in sorted(tags.items())
            if key.startswith(PREFIX + "param.")
        },
        datasets=[{"name": n, "version": v} for n, v in sorted(datasets.items())],
        image=tags.get(PREFIX + "image"),
        image_digest=tags.get(PREFIX + "image.digest"),
        env_hash=tags.get(PREFIX + "env.hash"),
        git_commit=tags.get(PREFIX + "git.commit"),
        cost_usd=cost_usd,
    )


# --- reading ---------------------------------------------------------------------------------


def describe(auth: Any, registry: Any, tracking: Any, viewer: Viewer, name: str, version: str
             ) -> VersionInfo:  # fmt: skip
    """One version of a model the viewer may read, with its task and lineage.

    Raises:
        NotFound: no such model or version, or a model the viewer may not read.
    """
    found = readable_version(auth, registry, viewer, name, version)
    task, inferred = version_task(registry, found)
    model = registry.get_registered_model(name)
    return VersionInfo(
        name=name,
        version=str(found.version),
        run_id=found.run_id or None,
        source=found.source,
        status=found.status,
        description=found.description or "",
        creation_time=found.creation_timestamp,
        aliases=sorted(a for a, v in (model.aliases or {}).items() if str(v) == str(version)),
        task=task,
        task_inferred=inferred,
        editable=may_change(viewer, name),
        lineage=_lineage(tracking, viewer, found.run_id) if found.run_id else None,
    )


def list_versions(auth: Any, registry: Any, viewer: Viewer, name: str) -> list[VersionSummary]:
    """The live versions of a model the viewer may read, the newest first (at most
    MAX_VERSIONS), each with its aliases and its task tag (not inferred: that reads a file per
    version; `describe` infers).

    Raises:
        NotFound: no such model, or one the viewer may not read.
    """
    from mlflow.entities.model_registry.model_version_stages import STAGE_DELETED_INTERNAL
    from mlflow.store.model_registry.dbmodels.models import SqlModelVersion

    tracking_store.get_model(auth, registry, viewer, name)
    aliases: dict[str, list[str]] = {}
    for alias, version in (registry.get_registered_model(name).aliases or {}).items():
        aliases.setdefault(str(version), []).append(alias)
    with registry.ManagedSessionMaker() as session:
        rows = (
            session.query(SqlModelVersion)
            .filter(
                SqlModelVersion.name == name,
                SqlModelVersion.current_stage != STAGE_DELETED_INTERNAL,
            )
            .order_by(SqlModelVersion.version.desc())
            .limit(MAX_VERSIONS)
            .all()
        )
        found = [row.to_mlflow_entity() for row in rows]
    return [
        VersionSummary(
            version=str(v.version),
            run_id=v.run_id or None,
            status=v.status,
            creation_time=v.creation_timestamp,
            aliases=sorted(aliases.get(str(v.version), [])),
            task=(v.tags or {}).get(TASK_TAG) or None,
        )
        for v in found
    ]


def readable_version(auth: Any, registry: Any, viewer: Viewer, name: str, version: str) -> Any:
    """MLflow's model version, once the viewer may read its model.

    Raises:
        NotFound: no such model or version, or a model the viewer may not read.
    """
    from mlflow.exceptions import MlflowException

    tracking_store.get_model(auth, registry, viewer, name)
    if not version.isdigit():
        raise NotFound(f"model {name!r} has no version {version}")
    try:
        return registry.get_model_version(name, version)
    except MlflowException:
        raise NotFound(f"model {name!r} has no version {version}") from None


def version_task(registry: Any, version: Any) -> tuple[str | None, bool]:
    """(task, inferred): the version's task tag, else what its MLmodel file implies (None
    when it implies nothing or cannot be read)."""
    tagged = (version.tags or {}).get(TASK_TAG, "")
    if tagged:
        return tagged, False
    text = read_mlmodel(registry, version.name, str(version.version))
    return (infer_task(text) if text else None), True


def read_mlmodel(registry: Any, name: str, version: str) -> str | None:
    """The text of a version's MLmodel file, read from the tracking server's artifacts
    destination (where the platform keeps every version's files); None when there is none."""
    from mlflow.exceptions import MlflowException
    from mlflow.server.handlers import _get_artifact_repo_mlflow_artifacts

    try:
        location = registry.get_model_version_download_uri(name, version)
    except MlflowException:
        return None
    if not str(location).startswith(ARTIFACTS_SCHEME):
        return None
    relative = posixpath.normpath(str(location)[len(ARTIFACTS_SCHEME) :].strip("/"))
    if relative.startswith("..") or relative in (".", ""):
        return None
    with tempfile.TemporaryDirectory(prefix="labworks-mlmodel-") as folder:
        try:
            path = _get_artifact_repo_mlflow_artifacts().download_artifacts(
                f"{relative}/{MLMODEL}", dst_path=folder
            )
        except (MlflowException, OSError):  # no such file: nothing to infer from
            return None
        except Exception as e:  # the storage client's own: no file to infer from either
            log.warning("cannot read the MLmodel file of %s version %s: %s", name, version, e)
            return None
        if not os.path.isfile(path) or os.path.getsize(path) > MAX_MLMODEL:
            return None
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()


def _lineage(tracking: Any, viewer: Viewer, run_id: str) -> Lineage:
    """The run's lineage when the viewer may read its experiment; else only its id."""
    from mlflow.exceptions import MlflowException

    try:
        run = tracking.get_run(run_id)
        tracking_store.readable_experiment(tracking, viewer, run.info.experiment_id)
    except (MlflowException, NotFound):
        return Lineage(run_id=run_id, readable=False)
    inputs = [
        (d.dataset.name, {t.key: t.value for t in d.tags or []}.get(PREFIX + "dataset.version"))
        for d in (run.inputs.dataset_inputs if run.inputs else [])
    ]
    cost = run.data.metrics.get(COST_METRIC)
    return lineage_of(run_id, run.info.experiment_id, run.info.run_name, run.data.tags, inputs,
                      cost)  # fmt: skip


# --- changing --------------------------------------------------------------------------------


def may_change(viewer: Viewer, name: str) -> bool:
    """Whether the viewer may change the model's versions and aliases: MLflow's update
    permission on it (its owner's; sharing gives readers none)."""
    return bool(model_permission(viewer, name).can_update)


def _changeable(auth: Any, registry: Any, viewer: Viewer, name: str) -> None:
    tracking_store.get_model(auth, registry, viewer, name)  # NotFound unless readable
    if not may_change(viewer, name):
        raise Forbidden(f"only the owner of model {name!r} may change its versions and aliases")


def set_task(auth: Any, registry: Any, viewer: Viewer, name: str, version: str, task: str
             ) -> str | None:  # fmt: skip
    """Tag the version with `task`; the task it had before (tagged or inferred).

    Raises:
        Invalid: not a task type. NotFound: no such model or version that the viewer may read.
        Forbidden: a reader who is not its owner.
    """
    if task not in TASKS:
        raise Invalid(f"task is one of {', '.join(TASKS)}, not {task!r}")
    found = readable_version(auth, registry, viewer, name, version)
    _changeable(auth, registry, viewer, name)
    before, _ = version_task(registry, found)
    registry.set_model_version_tag(name, version, _tag(task))
    return before


def set_alias(auth: Any, registry: Any, viewer: Viewer, name: str, alias: str, version: str
              ) -> str | None:  # fmt: skip
    """Point `alias` at `version`; the version it pointed at before (None: it is new).

    Raises:
        Invalid: not an alias name. NotFound: no such model or version that the viewer may
        read. Forbidden: a reader who is not its owner.
    """
    check_alias(alias)
    readable_version(auth, registry, viewer, name, version)
    _changeable(auth, registry, viewer, name)
    before = alias_version(registry, name, alias)
    registry.set_registered_model_alias(name, alias, version)
    return before


def delete_alias(auth: Any, registry: Any, viewer: Viewer, name: str, alias: str) -> str:
    """Remove `alias`; the version it pointed at.

    Raises:
        NotFound: no such alias, model, or a model the viewer may not read.
        Forbidden: a reader who is not its owner.
    """
    check_alias(alias)
    tracking_store.get_model(auth, registry, viewer, name)
    _changeable(auth, registry, viewer, name)
    before = alias_version(registry, name, alias)
    if before is None:
        raise NotFound(f"model {name!r} has no alias {alias!r}")
    registry.delete_registered_model_alias(name, alias)
    return before


def check_alias(alias: str) -> str:
    """MLflow's rule for alias names, checked before anything is read.

    Raises:
        Invalid: not one (`latest` and `v<number>` are reserved by MLflow).
    """
    if not ALIAS_RE.match(alias) or RESERVED_ALIAS.match(alias):
        raise Invalid(
            f"{alias!r} is not an alias: up to 255 letters, digits, '_' and '-' (not 'latest'"
            " or v<number>, which MLflow reserves)"
        )
    return alias


def alias_version(registry: Any, name: str, alias: str) -> str | None:
    """The version `alias` of model `name` points at now (None: no such alias or model)."""
    from mlflow.exceptions import MlflowException

    try:
        return str(registry.get_model_version_by_alias(name, alias).version)
    except MlflowException:
        return None


def _tag(task: str) -> Any:
    from mlflow.entities.model_registry import ModelVersionTag

    return ModelVersionTag(TASK_TAG, task)
