"""Registered models over REST: list what the caller can see, share one (owner, group,
public) like experiments, and the platform's view of their versions: each version's task type
(tagged or inferred) and lineage, its aliases, and the model's history of who registered,
moved or changed what (and why).

Registering, versions and tags are also MLflow's own registry API at
`/services/labworks/mlflow/` (the stock client; its alias changes are recorded in the history
too, tracking/history.py). Who may see, share or change what is decided in store/tracking.py
and serving/versions.py, never here.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field

from ..access import Viewer
from ..serving import versions
from ..serving.models import Task
from ..store import model_events as events
from ..store import tracking as store
from .tracking_common import in_mlflow, registry_store, tracking_store, tracking_viewer

router = APIRouter(tags=["models"])
ModelName = Path(description="Registered model name.", min_length=1, max_length=256)
VersionNumber = Path(pattern=r"^[0-9]{1,9}$", description="A version number, e.g. '3'.")
AliasName = Path(min_length=1, max_length=255, description="An alias, e.g. 'production'.")
Reason = Field("", max_length=events.MAX_REASON, description="Why: kept in the history.")


class ModelVersion(BaseModel):
    version: str
    run_id: str | None = Field(description="The run it was registered from.")
    source: str = Field(description="Where its files are: runs:/, models:/ or mlflow-artifacts:/.")
    status: str = Field(description="MLflow's status, READY once registered.")
    creation_time: int | None = Field(description="Milliseconds since the epoch.")


class Model(BaseModel):
    name: str
    owner: str | None = Field(description="The hub user who registered it.")
    visibility: str = Field(description="'private', 'group:<name>' or 'public' (read-only).")
    yours: bool = Field(description="You own it: you may share it.")
    description: str
    latest_versions: list[ModelVersion] = Field(description="The newest version first.")
    aliases: dict[str, str] = Field(description="Alias -> version.")
    creation_time: int | None = Field(description="Milliseconds since the epoch.")
    last_updated_time: int | None


class ModelList(BaseModel):
    models: list[Model]


class VisibilityRequest(BaseModel):
    visibility: str = Field(
        description="'private' (owner only), 'group:<name>' (members of one of your groups"
        " may read it and load its versions) or 'public' (every user may).",
        examples=["group:ml"],
    )


class VersionSummary(BaseModel):
    version: str
    run_id: str | None
    status: str
    creation_time: int | None = Field(description="Milliseconds since the epoch.")
    aliases: list[str] = Field(description="The model's aliases that point at it.")
    task: Task | None = Field(description="Its `labworks.task` tag (None: none; see the version).")


class VersionList(BaseModel):
    versions: list[VersionSummary] = Field(description="The newest first.")


class Lineage(BaseModel):
    run_id: str
    readable: bool = Field(description="You may open the run (else only its id is shown).")
    experiment_id: str | None = None
    run_name: str | None = None
    user: str | None = None
    notebook: str | None = Field(None, description="The notebook the run came from.")
    notebook_sha256: str | None = None
    job_id: str | None = Field(None, description="The job that ran the notebook.")
    job_name: str | None = None
    parameters: dict[str, str] = Field({}, description="The job's notebook parameters.")
    datasets: list[dict[str, str]] = Field([], description="{name, version} of each read.")
    image: str | None = None
    image_digest: str | None = None
    env_hash: str | None = None
    git_commit: str | None = None
    cost_usd: float | None = Field(None, description="What the run's job cost.")


class VersionDetail(BaseModel):
    name: str
    version: str
    run_id: str | None
    source: str
    status: str
    description: str
    creation_time: int | None
    aliases: list[str]
    task: Task | None = Field(description="The task type: its tag, else inferred (None: unknown).")
    task_inferred: bool = Field(description="No tag: inferred from the MLmodel file.")
    editable: bool = Field(description="You may change its task and the model's aliases.")
    lineage: Lineage | None = Field(description="The run it came from (None: no run).")


class TaskRequest(BaseModel):
    task: Task
    reason: str = Reason


class AliasRequest(BaseModel):
    version: str = Field(pattern=r"^[0-9]{1,9}$", description="The version it points at.")
    reason: str = Reason


class ModelEvent(BaseModel):
    at: datetime
    actor: str
    action: str = Field(description="register, alias.set, alias.delete or task.")
    alias: str | None
    from_version: str | None = Field(description="Where the alias pointed before (None: new).")
    to_version: str | None = Field(description="Where it points now, or the version changed.")
    detail: dict[str, str]
    reason: str


class ModelHistory(BaseModel):
    name: str
    events: list[ModelEvent] = Field(description="The newest first.")


def _model(info: store.ModelInfo) -> Model:
    return Model.model_validate(info, from_attributes=True)


@router.get("/models", response_model=ModelList)
async def list_models(request: Request, viewer: Viewer = Depends(tracking_viewer)) -> ModelList:
    """The registered models you can read: yours, your groups', public ones; the most recently
    updated first."""
    found = await in_mlflow(request, store.list_models, registry_store(), viewer)
    return ModelList(models=[_model(m) for m in found])


# Routes below a model's name come before `/models/{name:path}`, which would take them all.


@router.get("/models/{name:path}/versions", response_model=VersionList)
async def list_versions(
    request: Request, name: str = ModelName, viewer: Viewer = Depends(tracking_viewer)
) -> VersionList:
    """A model's versions, the newest first, with their aliases and task tags. 404: no such
    model, or one you cannot read."""
    found = await in_mlflow(request, versions.list_versions, registry_store(), viewer, name)
    return VersionList(versions=[VersionSummary.model_validate(asdict(v)) for v in found])


@router.get("/models/{name:path}/versions/{version}", response_model=VersionDetail)
async def get_version(
    request: Request,
    name: str = ModelName,
    version: str = VersionNumber,
    viewer: Viewer = Depends(tracking_viewer),
) -> VersionDetail:
    """One version: its task type (its `labworks.task` tag, else inferred from its MLmodel
    file's flavour and signature), its aliases, and its lineage (run, notebook, job,
    parameters, dataset versions, image). 404: no such model or version you can read."""
    return await _version(request, viewer, name, version)


@router.put("/models/{name:path}/versions/{version}/task", response_model=VersionDetail)
async def set_task(
    request: Request,
    body: TaskRequest,
    name: str = ModelName,
    version: str = VersionNumber,
    viewer: Viewer = Depends(tracking_viewer),
) -> VersionDetail:
    """Set the version's task type (its `labworks.task` tag, what serving shapes outputs by);
    recorded in the model's history. Owner only (403); 404 as reading it."""
    before = await in_mlflow(
        request, versions.set_task, registry_store(), viewer, name, version, body.task
    )
    await _record(request, name, events.TASK, viewer, body.reason, to_version=version,
                  detail={"from": before or "", "to": body.task})  # fmt: skip
    return await _version(request, viewer, name, version)


@router.put("/models/{name:path}/aliases/{alias}", response_model=VersionDetail)
async def set_alias(
    request: Request,
    body: AliasRequest,
    name: str = ModelName,
    alias: str = AliasName,
    viewer: Viewer = Depends(tracking_viewer),
) -> VersionDetail:
    """Point an alias (`staging`, `production`, any name) at a version, moving it if it
    pointed elsewhere; recorded with who and why. Owner only (403); 400: not an alias name;
    404: no such model or version you can read. Answers the version it now points at."""
    before = await in_mlflow(
        request, versions.set_alias, registry_store(), viewer, name, alias, body.version
    )
    if before != body.version:
        await _record(request, name, events.ALIAS_SET, viewer, body.reason, alias=alias,
                      from_version=before, to_version=body.version)  # fmt: skip
    return await _version(request, viewer, name, body.version)


@router.delete("/models/{name:path}/aliases/{alias}", response_model=ModelHistory)
async def delete_alias(
    request: Request,
    name: str = ModelName,
    alias: str = AliasName,
    reason: str = Query("", max_length=events.MAX_REASON, description="Why: kept."),
    viewer: Viewer = Depends(tracking_viewer),
) -> ModelHistory:
    """Remove an alias; recorded with who and why. Owner only (403); 404: no such alias, or
    a model you cannot read. Answers the model's history."""
    before = await in_mlflow(request, versions.delete_alias, registry_store(), viewer, name,
                             alias)  # fmt: skip
    await _record(request, name, events.ALIAS_DELETE, viewer, reason, alias=alias,
                  from_version=before)  # fmt: skip
    return await _history(request, name)


@router.get("/models/{name:path}/history", response_model=ModelHistory)
async def history(
    request: Request, name: str = ModelName, viewer: Viewer = Depends(tracking_viewer)
) -> ModelHistory:
    """Who registered versions, set, moved or deleted aliases and changed task types, when and
    why, the newest first. 404: no such model, or one you cannot read."""
    await in_mlflow(request, store.get_model, registry_store(), viewer, name)
    return await _history(request, name)


async def _version(request: Request, viewer: Viewer, name: str, version: str) -> VersionDetail:
    found = await in_mlflow(request, versions.describe, registry_store(), tracking_store(),
                            viewer, name, version)  # fmt: skip
    return VersionDetail.model_validate(asdict(found))


async def _record(
    request: Request, name: str, action: str, viewer: Viewer, reason: str, **kwargs
) -> None:
    def work(session) -> None:
        events.record(session, name, action, viewer.name, reason=reason, **kwargs)

    await request.app.state.store.run(work)


async def _history(request: Request, name: str) -> ModelHistory:
    def work(session) -> list[ModelEvent]:
        return [
            ModelEvent.model_validate(e, from_attributes=True)
            for e in events.history(session, name)
        ]

    return ModelHistory(name=name, events=await request.app.state.store.run(work))


@router.get("/models/{name:path}", response_model=Model)
async def get_model(
    request: Request, name: str = ModelName, viewer: Viewer = Depends(tracking_viewer)
) -> Model:
    """One registered model; 404 when it does not exist or you cannot read it."""
    return _model(await in_mlflow(request, store.get_model, registry_store(), viewer, name))


@router.put("/models/{name:path}/visibility", response_model=Model)
async def set_visibility(
    request: Request,
    body: VisibilityRequest,
    name: str = ModelName,
    viewer: Viewer = Depends(tracking_viewer),
) -> Model:
    """Who besides you may read the registered model (its versions, tags, aliases and files):
    nobody, one of your groups, or every user. Nobody but you may change it. Owner only
    (403); 400: not a visibility."""
    return _model(
        await in_mlflow(
            request, store.set_model_visibility, registry_store(), viewer, name, body.visibility
        )
    )
