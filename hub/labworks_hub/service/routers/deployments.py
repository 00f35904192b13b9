"""Served models over REST: serve a registered model's version, list, show, split traffic
between a stable and a canary version, promote, share, take down.

The serving service (service/serving) does the work and the inference gateway answers the
Open Inference Protocol at `<prefix>models/v2/...` (serving/gateway.py); this module only
translates HTTP. Its lifespan starts the serving service after the job service (whose launcher
starts model servers) and stops it first.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI, Path, Request
from pydantic import BaseModel, Field

from ..access import Invalid, NotFound, Unavailable, Viewer
from ..cost.budgets import CostBudgets
from ..jobs.executors.kubernetes import KubernetesExecutor
from ..serving import models, versions
from ..serving import operations as ops
from ..serving.backend import ServingBackend
from ..serving.gateway import GatewayFirst, InferenceGateway
from ..serving.kserve import KServeError
from ..serving.kube_backend import KServeBackend
from ..serving.local import LocalServing
from ..serving.service import ServingService
from ..settings import ServiceSettings
from ..store import deployments as store
from .experiments import VisibilityRequest
from .jobs_common import service_of
from .tracking_common import in_mlflow, registry_store, tracking_viewer

EndpointName = Path(pattern=models.NAME, description="The deployment's endpoint name.")
MAX_BODY = 8 << 20  # an inference request's body (413 over it, before it is read)


def serving_of(app: FastAPI) -> ServingService:
    """The serving service, made on first use from the job service's executor and hub: local
    model servers beside the local executor, KServe InferenceServices beside the Kubernetes
    one (docs/admin/kubernetes-serving.md)."""
    serving = getattr(app.state, "serving", None)
    if serving is None:
        jobs = service_of(app)
        launcher = getattr(jobs.executor, "launcher", None)
        backend: ServingBackend
        if launcher is not None:
            backend = LocalServing(launcher, config=jobs.config)
        elif isinstance(jobs.executor, KubernetesExecutor):
            tracking = getattr(app.state, "tracking", None)
            try:
                backend = KServeBackend.beside(jobs.executor, tracking, config=jobs.config)
            except KServeError as e:
                raise Unavailable(f"model serving on Kubernetes is not configured: {e}") from None
        else:
            raise Unavailable(
                f"no model servers beside the {jobs.executor.name!r} executor: serving needs"
                " the local or the Kubernetes one (docs/admin/kubernetes-serving.md)"
            )
        serving = app.state.serving = ServingService(
            app.state.store, backend, jobs.hub, app.state.artifacts, jobs.api_url,
            jobs.public_url, config=jobs.config,
        )  # fmt: skip
        serving.token_revoked = app.state.identity.revoked
    return serving


def install_gateway(app: FastAPI, settings: ServiceSettings) -> InferenceGateway:
    """The inference gateway at `<prefix>models`, in front of the API's middleware (call it
    after the other middleware is added: the last added is the outermost)."""
    gateway = InferenceGateway(lambda: serving_of(app), app.state.identity, MAX_BODY)
    app.add_middleware(GatewayFirst, gateway=gateway, prefix=settings.prefix + "models")
    return gateway


def serving_service(request: Request) -> ServingService:
    return serving_of(request.app)


@asynccontextmanager
async def _run_serving(app: FastAPI) -> AsyncIterator[None]:
    try:
        serving = serving_of(app)
    except Unavailable:
        yield
        return
    await serving.start()
    try:
        yield
    finally:
        await serving.stop()


router = APIRouter(tags=["deployments"], lifespan=_run_serving)


class ReasonRequest(BaseModel):
    reason: str = Field("", max_length=1000, description="Why: kept with the change.")


def _public(request: Request) -> str:
    return service_of(request.app).public_url


async def _detail(request: Request, name: str, viewer: Viewer) -> models.DeploymentDetail:
    serving = serving_of(request.app)

    def work(session):
        return ops.detail(session, store.get(session, viewer, name), _public(request), serving)

    return await request.app.state.store.run(work)


@router.post("/deployments", response_model=models.DeploymentDetail, status_code=201)
async def serve(
    request: Request,
    body: models.ServeRequest,
    viewer: Viewer = Depends(tracking_viewer),
    serving: ServingService = Depends(serving_service),
) -> models.DeploymentDetail:
    """Serve a version of a registered model you can read at an endpoint of its name (or
    `name`). The task type is `task`, else the version's `labworks.task` tag, else what its
    MLmodel file's flavour and signature imply (400 when none of them tells). 404: no such
    model or version, or not yours to read; 409: the name is taken."""
    found = await in_mlflow(request, _version_task, registry_store(), viewer, body.model,
                            body.version)  # fmt: skip
    task = body.task or found
    if not task:
        raise Invalid(
            f"version {body.version} of {body.model} has no task type, and its signature and"
            " flavour do not tell: pass task (classification, regression, multilabel or"
            f" seq2seq), or set the version's (`labworks models task {body.model}"
            f" {body.version} <task>`)"
        )
    refuse = CostBudgets(config=serving.config).refuse
    deployment = await request.app.state.store.run(ops.create, viewer, body, task, refuse)
    serving.wake()
    return await _detail(request, deployment.name, viewer)


def _version_task(auth, registry, viewer: Viewer, model: str, version: str) -> str:
    """The version's task (its tag, else inferred; '' when neither tells), once the viewer
    may read the model and the version exists (NotFound otherwise)."""
    found = versions.readable_version(auth, registry, viewer, model, version)
    return versions.version_task(registry, found)[0] or ""


@router.get("/deployments", response_model=models.DeploymentList)
async def list_deployments(
    request: Request, viewer: Viewer = Depends(tracking_viewer)
) -> models.DeploymentList:
    """The deployments you can call: yours, your groups', public ones."""
    return await request.app.state.store.run(ops.listing, viewer, _public(request))


@router.get("/deployments/{name}", response_model=models.DeploymentDetail)
async def show(
    request: Request, name: str = EndpointName, viewer: Viewer = Depends(tracking_viewer)
) -> models.DeploymentDetail:
    """A deployment: its servers with their live request rate, latency and errors, and
    every change with who made it and why."""
    return await _detail(request, name, viewer)


@router.put("/deployments/{name}/traffic", response_model=models.DeploymentDetail)
async def traffic(
    request: Request,
    body: models.TrafficRequest,
    name: str = EndpointName,
    viewer: Viewer = Depends(tracking_viewer),
    serving: ServingService = Depends(serving_service),
) -> models.DeploymentDetail:
    """Send `percent` of the requests to `canary_version` (started if it is not served yet);
    no canary: every request to the stable version. Owner only."""
    if body.canary_version:  # a version of the deployment's model that the owner can read
        row = await request.app.state.store.run(lambda s: store.get(s, viewer, name))
        await in_mlflow(request, _version_task, registry_store(), viewer, row.model_name,
                        body.canary_version)  # fmt: skip
    row = await request.app.state.store.run(ops.set_traffic, viewer, name, body)
    if body.canary_version:
        serving.reset(row.id, body.canary_version)  # judged on what it answers from now on
    serving.wake()
    return await _detail(request, name, viewer)


@router.post("/deployments/{name}/promote", response_model=models.DeploymentDetail)
async def promote(
    request: Request,
    body: ReasonRequest,
    name: str = EndpointName,
    viewer: Viewer = Depends(tracking_viewer),
    serving: ServingService = Depends(serving_service),
) -> models.DeploymentDetail:
    """The canary becomes the stable version, with every request. Owner only."""
    await request.app.state.store.run(ops.promote, viewer, name, body.reason)
    serving.wake()
    return await _detail(request, name, viewer)


@router.put("/deployments/{name}/visibility", response_model=models.DeploymentDetail)
async def set_visibility(
    request: Request,
    body: VisibilityRequest,
    name: str = EndpointName,
    viewer: Viewer = Depends(tracking_viewer),
    serving: ServingService = Depends(serving_service),
) -> models.DeploymentDetail:
    """Who besides you may call the endpoint: nobody, one of your groups, every user."""
    await request.app.state.store.run(ops.set_visibility, viewer, name, body.visibility)
    await serving.refresh_routes()
    return await _detail(request, name, viewer)


@router.delete("/deployments/{name}", status_code=202, response_model=models.Deployment)
async def undeploy(
    request: Request,
    name: str = EndpointName,
    viewer: Viewer = Depends(tracking_viewer),
    serving: ServingService = Depends(serving_service),
) -> models.Deployment:
    """Stop serving: the endpoint stops answering and its servers stop, then it is gone."""
    deployment = await request.app.state.store.run(ops.undeploy, viewer, name)
    await serving.settle_now(deployment.id)
    return models.Deployment.model_validate(ops.summary(deployment, _public(request)))


@router.post("/deployments/{name}/keys", response_model=models.NewKey, status_code=201)
async def add_key(
    request: Request,
    body: models.KeyRequest,
    name: str = EndpointName,
    viewer: Viewer = Depends(tracking_viewer),
    serving: ServingService = Depends(serving_service),
) -> models.NewKey:
    """An API key that calls this endpoint (and nothing else) without a hub account: send it
    as `Authorization: Bearer <key>`. Shown once. Owner only."""
    made = await request.app.state.store.run(ops.add_key, viewer, name, body.name)
    await serving.refresh_routes()
    return models.NewKey.model_validate(made)


@router.get("/deployments/{name}/keys", response_model=models.KeyList)
async def list_keys(
    request: Request, name: str = EndpointName, viewer: Viewer = Depends(tracking_viewer)
) -> models.KeyList:
    """The endpoint's API keys (never the keys themselves). Owner only."""
    found = await request.app.state.store.run(ops.list_keys, viewer, name)
    return models.KeyList.model_validate({"keys": found})


@router.delete("/deployments/{name}/keys/{key_id}", status_code=204)
async def revoke_key(
    request: Request,
    name: str = EndpointName,
    key_id: str = Path(pattern=r"^[0-9a-f]{12}$"),
    viewer: Viewer = Depends(tracking_viewer),
    serving: ServingService = Depends(serving_service),
) -> None:
    """The key stops working now. Owner only."""
    await request.app.state.store.run(ops.revoke_key, viewer, name, key_id)
    await serving.refresh_routes()


@router.put("/deployments/{name}/payloads", response_model=models.DeploymentDetail)
async def set_payloads(
    request: Request,
    body: models.PayloadsRequest,
    name: str = EndpointName,
    viewer: Viewer = Depends(tracking_viewer),
    serving: ServingService = Depends(serving_service),
) -> models.DeploymentDetail:
    """Log the requests and answers of this share of the calls (0: none, 1: all). Owner only."""
    await request.app.state.store.run(ops.set_payloads, viewer, name, body.sample)
    await serving.refresh_routes()
    return await _detail(request, name, viewer)


@router.get("/deployments/{name}/payloads", response_model=models.PayloadBatches)
async def payload_batches(
    request: Request,
    name: str = EndpointName,
    viewer: Viewer = Depends(tracking_viewer),
    serving: ServingService = Depends(serving_service),
) -> models.PayloadBatches:
    """The payload log's batches (Parquet files in the artifact store). Owner only: they hold
    what callers sent."""
    row = await request.app.state.store.run(ops.owned, viewer, name)
    found = await asyncio.to_thread(serving.payloads.batches, row.id)
    batches = [models.PayloadBatch(batch=key, bytes=size) for key, size in found.items()]
    return models.PayloadBatches(sample=row.payload_sample, batches=batches)


@router.get("/deployments/{name}/payloads/{batch}", response_model=models.PayloadRecords)
async def payload_records(
    request: Request,
    name: str = EndpointName,
    batch: str = Path(pattern=r"^[0-9]{8}T[0-9]{12}Z-[0-9]{1,9}\.parquet$"),
    viewer: Viewer = Depends(tracking_viewer),
    serving: ServingService = Depends(serving_service),
) -> models.PayloadRecords:
    """The records of one batch. Owner only."""
    row = await request.app.state.store.run(ops.owned, viewer, name)
    records = await asyncio.to_thread(serving.payloads.read, row.id, batch)
    if records is None:
        raise NotFound(f"deployment {name!r} has no payload batch {batch}")
    return models.PayloadRecords(batch=batch, records=records)
