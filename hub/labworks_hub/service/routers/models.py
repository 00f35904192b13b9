"""Registered models over REST: list what the caller can see, and share one (owner, group,
public), like experiments.

Registering, versions, tags and aliases are MLflow's own registry API at
`/services/labworks/mlflow/` (the stock client); this router adds who owns a registered model
and who else sees it. Who may see or share what is decided in store/tracking.py, never here.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, Field

from ..access import Viewer
from ..store import tracking as store
from .tracking_common import in_mlflow, registry_store, tracking_viewer

router = APIRouter(tags=["models"])
ModelName = Path(description="Registered model name.", min_length=1, max_length=256)


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


def _model(info: store.ModelInfo) -> Model:
    return Model.model_validate(info, from_attributes=True)


@router.get("/models", response_model=ModelList)
async def list_models(request: Request, viewer: Viewer = Depends(tracking_viewer)) -> ModelList:
    """The registered models you can read: yours, your groups', public ones; the most recently
    updated first."""
    found = await in_mlflow(request, store.list_models, registry_store(), viewer)
    return ModelList(models=[_model(m) for m in found])


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
