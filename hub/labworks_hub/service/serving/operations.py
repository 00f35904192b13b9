"""What users ask of deployments: serve a version, list, show, split traffic, share, take down.

A deployment's owner is who served it; its model must be readable by them (store/tracking.py
decides) and stays so for the deployment's readers: a reader may call the endpoint, only the
owner changes it. Every change is recorded with who and why (store.deployments.record), then
the serving service is woken to make the servers match.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ...public_url import service_url
from ..access import Conflict, Forbidden, Invalid, NotFound, Viewer, Visibility
from ..store import deployments as store
from ..store.deployments import LIVE, STARTING, Deployment, DeploymentKey
from ..store.models import utcnow
from . import models
from .service import KEY_PREFIX, ServingService, key_digest
from .spec import CANARY, STABLE

TASK_TAG = "labworks.task"


def endpoint_url(public_url: str, name: str) -> str:
    return service_url(public_url, "labworks", f"models/v2/models/{name}/infer")


def default_name(model: str) -> str:
    """The model's name as an endpoint name: lower case, other characters as dashes."""
    name = "".join(c if c.isalnum() else "-" for c in model.lower()).strip("-")
    return name[:63].strip("-") or "model"


def create(
    session: Session, viewer: Viewer, body: models.ServeRequest, task: str, refuse: str = "all"
) -> Deployment:
    """A new deployment row; Forbidden when a spent budget refuses it (`refuse`: the
    `CostBudgets.refuse` rule; model servers hold no GPU here)."""
    from ..cost.budgets import budget_check  # here: the cost package imports tracking's, and
    # tracking imports this module

    budget_check(session, viewer, "deployment", False, refuse, utcnow())
    name = body.name or default_name(body.model)
    if session.scalar(select(Deployment.id).where(Deployment.name == name)) is not None:
        raise Conflict(f"an endpoint named {name!r} exists; choose another with --name")
    deployment = Deployment(
        name=name, owner=viewer.name, model_name=body.model, version=body.version, task=task,
        payload_sample=body.payload_sample, status=STARTING,
    )  # fmt: skip
    session.add(deployment)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(f"an endpoint named {name!r} exists; choose another with --name") from None
    store.record(session, deployment, viewer.name, "serve", version=body.version, task=task)
    return deployment


def owned(session: Session, viewer: Viewer, name: str) -> Deployment:
    deployment = store.get(session, viewer, name)
    if not viewer.owns(deployment.owner):
        raise Forbidden(f"only {deployment.owner} may change deployment {name!r}")
    return deployment


def set_traffic(
    session: Session, viewer: Viewer, name: str, body: models.TrafficRequest
) -> Deployment:
    deployment = owned(session, viewer, name)
    if deployment.status not in LIVE:
        raise Conflict(f"deployment {name!r} is {deployment.status}; serve it again first")
    canary = body.canary_version
    if canary == deployment.version:
        raise Invalid(f"version {canary} is the stable version already")
    if canary is None and body.percent:
        raise Invalid("a percent needs a canary version")
    deployment.canary_version = canary
    deployment.canary_percent = body.percent if canary else 0
    store.record(session, deployment, viewer.name, "traffic", body.reason,
                 canary_version=canary, percent=deployment.canary_percent)  # fmt: skip
    return deployment


def promote(session: Session, viewer: Viewer, name: str, reason: str) -> Deployment:
    """The canary becomes the stable version and takes all the requests."""
    deployment = owned(session, viewer, name)
    if not deployment.canary_version:
        raise Invalid(f"deployment {name!r} has no canary to promote")
    previous = deployment.version
    deployment.version, deployment.canary_version = deployment.canary_version, None
    deployment.canary_percent = 0
    store.record(session, deployment, viewer.name, "promote", reason,
                 version=deployment.version, previous=previous)  # fmt: skip
    return deployment


def set_payloads(session: Session, viewer: Viewer, name: str, sample: float) -> Deployment:
    deployment = owned(session, viewer, name)
    deployment.payload_sample = sample
    store.record(session, deployment, viewer.name, "payloads", sample=sample)
    return deployment


def set_visibility(session: Session, viewer: Viewer, name: str, visibility: str) -> Deployment:
    deployment = owned(session, viewer, name)
    deployment.visibility = str(Visibility.parse(visibility).settable_by(viewer))
    store.record(session, deployment, viewer.name, "share", visibility=deployment.visibility)
    return deployment


def undeploy(session: Session, viewer: Viewer, name: str, reason: str = "") -> Deployment:
    """Stop serving: the servers are stopped by the serving service, then the row goes."""
    deployment = owned(session, viewer, name)
    deployment.status, deployment.reason = store.STOPPED, reason or f"taken down by {viewer.name}"
    store.record(session, deployment, viewer.name, "undeploy", reason)
    return deployment


def add_key(session: Session, viewer: Viewer, name: str, key_name: str) -> dict[str, Any]:
    """A new API key of the deployment; the key itself is in this answer only."""
    deployment = owned(session, viewer, name)
    secret = secrets.token_urlsafe(32)
    key = DeploymentKey(deployment_id=deployment.id, name=key_name, sha256=key_digest(secret),
                        created_by=viewer.name)  # fmt: skip
    session.add(key)
    session.flush()
    store.record(session, deployment, viewer.name, "key", key_id=key.id, key_name=key_name)
    return {**_key(key), "key": f"{KEY_PREFIX}{key.id}_{secret}"}


def list_keys(session: Session, viewer: Viewer, name: str) -> list[dict[str, Any]]:
    return [_key(k) for k in store.keys(session, owned(session, viewer, name).id)]


def revoke_key(session: Session, viewer: Viewer, name: str, key_id: str) -> None:
    deployment = owned(session, viewer, name)
    key = session.get(DeploymentKey, key_id)
    if key is None or key.deployment_id != deployment.id:
        raise NotFound(f"deployment {name!r} has no API key {key_id!r}")
    session.delete(key)
    store.record(session, deployment, viewer.name, "revoke-key", key_id=key_id)


def _key(key: DeploymentKey) -> dict[str, Any]:
    return {"id": key.id, "name": key.name, "created_by": key.created_by,
            "created_at": key.created_at}  # fmt: skip


def summary(deployment: Deployment, public_url: str) -> dict[str, Any]:
    return {
        "name": deployment.name, "owner": deployment.owner, "visibility": deployment.visibility,
        "model": deployment.model_name, "version": deployment.version,
        "canary_version": deployment.canary_version,
        "canary_percent": deployment.canary_percent, "task": deployment.task,
        "payload_sample": deployment.payload_sample,
        "status": deployment.status, "reason": deployment.reason,
        "url": endpoint_url(public_url, deployment.name),
        "created_at": deployment.created_at, "updated_at": deployment.updated_at,
    }  # fmt: skip


def detail(
    session: Session, deployment: Deployment, public_url: str, serving: ServingService
) -> models.DeploymentDetail:
    servers = []
    for server in store.servers(session, deployment.id):
        role = CANARY if server.version == deployment.canary_version else STABLE
        servers.append({
            "version": server.version, "role": role, "status": server.status,
            "reason": server.reason, "restarts": server.restarts,
            "started_at": server.started_at, "ready_at": server.ready_at,
            "traffic": serving.figures(deployment.id, server.version),
        })  # fmt: skip
    events = [
        {"at": e.at, "actor": e.actor, "action": e.action, "detail": e.detail, "reason": e.reason}
        for e in store.events(session, deployment.id)
    ]
    fields = {**summary(deployment, public_url), "servers": servers, "events": events}
    return models.DeploymentDetail.model_validate(fields)


def listing(session: Session, viewer: Viewer, public_url: str) -> models.DeploymentList:
    query = select(Deployment).where(Deployment.visible_to(viewer)).order_by(Deployment.name)
    found = session.scalars(query)
    return models.DeploymentList(
        deployments=[models.Deployment.model_validate(summary(d, public_url)) for d in found]
    )
