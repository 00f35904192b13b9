"""Served models in the store: a deployment (an endpoint name serving a registered model's
version, perhaps with a canary), its model servers, and the record of every change.

A deployment's state changes are rows first (store rule of the house); the serving service
(serving/service.py) then starts or stops model servers to match and writes what it found back
onto the server rows, so a restarted platform re-attaches to the servers that still run.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from ..access import NotFound, Shareable, Viewer
from .jobs import new_id
from .models import Base, UTCDateTime, utcnow

# deployment statuses: servers starting, all answering, one failed for good, taken down
STARTING, READY, FAILED, STOPPED = "starting", "ready", "failed", "stopped"
# server statuses: as a deployment's, plus RETIRED: a version no longer served (its files gone)
RETIRED = "retired"
LIVE = (STARTING, READY)


class Deployment(Shareable, Base):
    """An endpoint: `/services/labworks/models/v2/models/<name>/...` serving `model_name`."""

    __tablename__ = "lw_deployments"

    id: Mapped[str] = mapped_column(String(12), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(63), unique=True)  # DNS-1123 label
    model_name: Mapped[str] = mapped_column(String(256))
    version: Mapped[str] = mapped_column(String(32))  # the stable version
    canary_version: Mapped[str | None] = mapped_column(String(32), default=None)
    canary_percent: Mapped[int] = mapped_column(Integer, default=0)
    task: Mapped[str] = mapped_column(String(16))
    payload_sample: Mapped[float] = mapped_column(Float, default=0.0)  # share of requests logged
    status: Mapped[str] = mapped_column(String(16), index=True, default=STARTING)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def versions(self) -> list[str]:
        """The versions it serves: the stable one, then the canary."""
        return [self.version] + ([self.canary_version] if self.canary_version else [])


class ModelServer(Base):
    """One model server process (or InferenceService predictor) of a deployment's version;
    `generation` counts its starts, `state` is the backend's (pid, socket, ...)."""

    __tablename__ = "lw_model_servers"

    deployment_id: Mapped[str] = mapped_column(
        ForeignKey("lw_deployments.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default=STARTING)
    reason: Mapped[str] = mapped_column(Text, default="")
    generation: Mapped[int] = mapped_column(Integer, default=0)
    restarts: Mapped[int] = mapped_column(Integer, default=0)  # since it was last ready
    state: Mapped[dict] = mapped_column(default=dict)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class DeploymentEvent(Base):
    """A change to a deployment: who did what, and why."""

    __tablename__ = "lw_deployment_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    deployment_id: Mapped[str] = mapped_column(
        ForeignKey("lw_deployments.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(255))  # a user, or "labworks" for the platform
    action: Mapped[str] = mapped_column(String(32))  # serve, traffic, promote, rollback, ...
    detail: Mapped[dict] = mapped_column(default=dict)
    reason: Mapped[str] = mapped_column(Text, default="")


class DeploymentKey(Base):
    """An API key of a deployment, for applications outside the hub: only its sha256 is kept;
    the key (`lwk_<id>_<secret>`) is shown once, when it is made."""

    __tablename__ = "lw_deployment_keys"

    id: Mapped[str] = mapped_column(String(12), primary_key=True, default=new_id)
    deployment_id: Mapped[str] = mapped_column(
        ForeignKey("lw_deployments.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


def get(session: Session, viewer: Viewer, name: str) -> Deployment:
    """The deployment named `name` if the viewer may see it; NotFound otherwise."""
    found = session.scalar(
        select(Deployment).where(Deployment.name == name, Deployment.visible_to(viewer))
    )
    if found is None:
        raise NotFound(f"no deployment named {name!r}")
    return found


def servers(session: Session, deployment_id: str) -> list[ModelServer]:
    query = select(ModelServer).where(ModelServer.deployment_id == deployment_id)
    return list(session.scalars(query.order_by(ModelServer.version)))


def record(
    session: Session, deployment: Deployment, actor: str, action: str, reason: str = "",
    **detail: Any,
) -> DeploymentEvent:  # fmt: skip
    event = DeploymentEvent(
        deployment_id=deployment.id, actor=actor, action=action, detail=detail, reason=reason
    )
    session.add(event)
    deployment.updated_at = utcnow()
    return event


def keys(session: Session, deployment_id: str) -> list[DeploymentKey]:
    query = select(DeploymentKey).where(DeploymentKey.deployment_id == deployment_id)
    return list(session.scalars(query.order_by(DeploymentKey.created_at)))


def events(session: Session, deployment_id: str, limit: int = 200) -> list[DeploymentEvent]:
    query = select(DeploymentEvent).where(DeploymentEvent.deployment_id == deployment_id)
    return list(session.scalars(query.order_by(DeploymentEvent.id.desc()).limit(limit)))
