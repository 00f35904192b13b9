"""Wire types of the deployments API (pydantic; they make the OpenAPI schema)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

Task = Literal["classification", "regression", "multilabel", "seq2seq"]
Status = Literal["starting", "ready", "failed", "stopped"]
NAME = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"


class ServeRequest(BaseModel):
    """POST /deployments: serve a registered model's version at an endpoint."""

    model: str = Field(min_length=1, max_length=256, description="The registered model.")
    version: str = Field(pattern=r"^[0-9]{1,9}$", description="Its version, e.g. '3'.")
    name: str | None = Field(
        None, pattern=NAME, description="The endpoint name (default: the model's, lower-cased)."
    )
    task: Task | None = Field(
        None, description="The shape of the outputs; default: the version's `labworks.task` tag."
    )
    payload_sample: float = Field(
        0.0, ge=0, le=1, description="Share of requests whose payloads are logged (1: all)."
    )


class TrafficRequest(BaseModel):
    """PUT /deployments/{name}/traffic: send a share of the requests to a canary version."""

    canary_version: str | None = Field(
        None, pattern=r"^[0-9]{1,9}$", description="None: no canary (all to the stable one)."
    )
    percent: int = Field(0, ge=0, le=100, description="Share of requests for the canary.")
    reason: str = Field("", max_length=1000, description="Why: kept with the change.")


class Server(BaseModel):
    version: str
    role: Literal["stable", "canary"]
    status: str
    reason: str
    restarts: int
    started_at: datetime | None
    ready_at: datetime | None
    traffic: dict[str, Any] = Field(
        description="requests, errors, rate_per_second, error_rate, p50_ms, p99_ms (last minute)"
    )


class Event(BaseModel):
    at: datetime
    actor: str
    action: str
    detail: dict[str, Any]
    reason: str


class Deployment(BaseModel):
    name: str
    owner: str
    visibility: str
    model: str
    version: str
    canary_version: str | None
    canary_percent: int
    task: Task
    payload_sample: float
    status: Status
    reason: str
    url: str = Field(description="The OIP v2 inference URL of the endpoint.")
    created_at: datetime
    updated_at: datetime


class DeploymentDetail(Deployment):
    servers: list[Server]
    events: list[Event]


class DeploymentList(BaseModel):
    deployments: list[Deployment]


class KeyRequest(BaseModel):
    """POST /deployments/{name}/keys: an API key for an application outside the hub."""

    name: str = Field(min_length=1, max_length=255, description="What it is for.")


class Key(BaseModel):
    id: str
    name: str
    created_by: str
    created_at: datetime


class NewKey(Key):
    key: str = Field(description="The key (`lwk_...`), shown this once: only a hash is kept.")


class KeyList(BaseModel):
    keys: list[Key]


class PayloadsRequest(BaseModel):
    """PUT /deployments/{name}/payloads: log this share of the requests (0: none, 1: all)."""

    sample: float = Field(ge=0, le=1)


class PayloadBatch(BaseModel):
    batch: str = Field(description="Its name: <UTC time>-<n>.parquet")
    bytes: int


class PayloadBatches(BaseModel):
    sample: float
    batches: list[PayloadBatch] = Field(description="Oldest first.")


class PayloadRecords(BaseModel):
    batch: str
    records: list[dict[str, Any]] = Field(
        description="at, deployment_id, version, caller, status, latency_ms, request, response"
    )
