"""What a serving backend is asked to run: one model server for one version of a deployment."""

from __future__ import annotations

from dataclasses import dataclass

from ...profiles import Profile

TASKS = ("classification", "regression", "multilabel", "seq2seq")
STABLE, CANARY = "stable", "canary"


@dataclass(frozen=True)
class ServerSpec:
    """One model server: a deployment's version, as a backend starts it."""

    deployment_id: str
    endpoint: str  # the deployment's name in URLs: /services/labworks/models/v2/models/<endpoint>
    owner: str  # the account the server runs as (the deployer)
    model_name: str  # the registered model
    version: str  # its version, as MLflow numbers them ("3")
    model_uri: str  # "models:/<model_name>/<version>", loaded through the tracking server
    storage_uri: str  # where the version's files are (s3://... or file://...), for KServe
    task: str  # one of TASKS: the shape of the outputs (docs/user-guide/models.md)
    role: str = STABLE  # STABLE or CANARY
    profile: Profile | None = None  # resources; None: the backend's default
