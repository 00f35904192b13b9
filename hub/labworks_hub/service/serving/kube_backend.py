"""Served models on Kubernetes: `KServeBackend`, the serving backend (backend.py) that runs
each served version as a KServe InferenceService (the manifest from kserve.py), through the one
seam to the cluster, `KubeAPI` (jobs/executors/kubernetes.py; the job executor's client).

- `start`: the version's files are located in the object store (its registry source; an
  `mlflow-artifacts:/` URI is mapped onto the tracking server's artifacts destination) for the
  InferenceService's `storageUri`; the server's variables, its hub token among them, go into a
  Secret `<isvc>-env-<generation>` read through `envFrom` (never in the manifest); then the
  InferenceService is created and made the Secret's owner, so Kubernetes deletes the Secret
  with it. The state kept holds names, the generation, the predictor's URL and the manifest:
  no secret.
- `probe`: ready once KServe's `Ready` condition is True; dead when KServe or Knative report a
  failure (the model failed to load, a crash loop, an image that cannot be pulled, an invalid
  spec; `failure`), the message becoming the log tail; dead too when the InferenceService was
  deleted outside Labworks.
- `client`: a kept client (client.py) of the predictor's Service inside the cluster
  (`predictor_url`).
- `stop`: deletes the InferenceService and the Secret.

Restarts: the serving service stops a dead server and starts the next generation at once,
while KServe's finalizer still holds the previous InferenceService (same name): creating the
new one is then left to `probe`, which does it once the name is free. An InferenceService of
the same generation that exists already is adopted, never created twice, and a restarted
platform re-attaches from the stored state alone.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any, cast

from mlflow.exceptions import MlflowException
from traitlets import Enum, Float, Integer, TraitError, Type, Unicode, validate
from traitlets.config import LoggingConfigurable

from ...placement import Placement, resource_quantities
from ...profiles import ProfileError, parse_size
from ..jobs.executors.kubernetes import KubeAPI, KubeError, KubernetesAPI, KubernetesExecutor
from .client import ModelClient
from .kserve import (
    API_VERSION,
    STORAGE_SCHEMES,
    KServeError,
    KServeSettings,
    Predictor,
    Rollout,
    check_image,
    inference_service,
    isvc_name,
    labels,
    predictor_url,
    rollout,
)
from .local import DEAD, READY, STARTING, ServingError
from .spec import ServerSpec

GENERATION = "labworks.io/generation"  # annotation: which start made an InferenceService
ARTIFACTS_SCHEME = "mlflow-artifacts:"
# model status (KServe) and condition reasons (KServe, Knative, kubelet) of a server that
# will not become ready without a new start
FAILED_TRANSITIONS = ("BlockedByFailedLoad", "InvalidSpec")
FAILED_REASONS = (
    "ErrImagePull", "ImagePullBackOff", "InvalidImageName", "CrashLoopBackOff",
    "CreateContainerConfigError", "RevisionFailed", "ContainerMissing", "ModelLoadFailed",
)  # fmt: skip
__all__ = ["KServeBackend", "failure", "registry_locator", "storage_uri"]


def storage_uri(source: str, destination: str) -> str:
    """The object-store URI of a version's files from its registry `source`: an
    `mlflow-artifacts:/<path>` one lies under the tracking server's `destination`."""
    if source.startswith(ARTIFACTS_SCHEME):
        path = source[len(ARTIFACTS_SCHEME) :]
        if path.startswith("//"):
            raise KServeError(f"the version's files are on another server ({source})")
        if not destination.startswith(STORAGE_SCHEMES):
            raise KServeError(
                f"the tracking server keeps files in {destination or '(nowhere)'!r}, which a"
                " pod cannot read: set c.TrackingServer.artifacts_destination to an object store"
            )
        return f"{destination.rstrip('/')}/{path.lstrip('/')}"
    if source.startswith(STORAGE_SCHEMES):
        return source
    raise KServeError(f"the version's files ({source}) are not in an object store a pod can read")


def registry_locator(destination: str) -> Callable[[str, str], str]:
    """`locate(model, version)`: the storage URI of a registered version's files, from the
    tracking server's registry (in this process) and its artifacts `destination`."""

    def locate(model: str, version: str) -> str:
        from mlflow.server.handlers import _get_model_registry_store

        source = _get_model_registry_store().get_model_version_download_uri(model, version)
        return storage_uri(source, destination)

    return locate


def failure(isvc: dict[str, Any]) -> str | None:
    """Why an InferenceService will not become ready, or None while it still may."""
    status = isvc.get("status") or {}
    model = status.get("modelStatus") or {}
    states = model.get("states") or {}
    if (
        model.get("transitionStatus") in FAILED_TRANSITIONS
        or states.get("activeModelState") == "FailedToLoad"
    ):
        last = model.get("lastFailureInfo") or {}
        said = ": ".join(str(last[k]) for k in ("reason", "message") if last.get(k))
        return said or f"KServe: {model.get('transitionStatus') or 'FailedToLoad'}"
    for condition in status.get("conditions") or []:
        if condition.get("status") == "False" and condition.get("reason") in FAILED_REASONS:
            return f"{condition['reason']}: {condition.get('message', '')}".rstrip(": ")
    return None


def is_ready(isvc: dict[str, Any]) -> bool:
    conditions = (isvc.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def generation_of(isvc: dict[str, Any]) -> int | None:
    value = ((isvc.get("metadata") or {}).get("annotations") or {}).get(GENERATION, "")
    return int(value) if str(value).isdigit() else None


def env_secret(name: str, namespace: str, spec: ServerSpec, env: dict[str, str]) -> dict:
    """The v1 Secret holding a server's variables (read by its container through envFrom)."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {"name": name, "namespace": namespace, "labels": labels(spec)},
        "stringData": dict(env),
    }


def owned_by(isvc: dict[str, Any]) -> dict[str, Any]:
    """A metadata patch making an object a dependent of `isvc` (deleted with it)."""
    meta = isvc["metadata"]
    owner = {"apiVersion": API_VERSION, "kind": "InferenceService", "name": meta["name"],
             "uid": meta["uid"]}  # fmt: skip
    return {"metadata": {"ownerReferences": [owner]}}


class KServeBackend(Placement, LoggingConfigurable):
    """The serving backend on Kubernetes (see the module docstring and backend.py), with the
    settings of its InferenceServices (`c.KServeBackend.*`), placed like workspaces and jobs
    (`Placement`: requests, node selectors, GPU and spot tolerations).

    `api` is the cluster (a KubeAPI: the job executor's, or one of `api_class`); `locate` gives
    the storage URI of a registered version's files (`registry_locator`)."""

    api_class = Type(
        KubernetesAPI, klass=object, help="The Kubernetes API client, a KubeAPI (the one seam)."
    ).tag(config=True)
    request_timeout = Float(60.0, help="Seconds a request to a model server may take.").tag(
        config=True
    )

    namespace = Unicode("", help="Namespace of the InferenceServices (the ServingRuntime's).").tag(
        config=True
    )
    image = Unicode(
        "", help="Serving image (images/serving): registry/name[:tag]@sha256:<digest>, pinned."
    ).tag(config=True)
    runtime_name = Unicode("labworks", help="The ServingRuntime the chart installs.").tag(
        config=True
    )
    deployment_mode = Enum(
        ["Standard", "Knative"], "Standard",
        help="KServe deployment mode: Standard (a Deployment; no Knative) or Knative.",
    ).tag(config=True)  # fmt: skip
    service_account = Unicode(
        "", help="Service account of model-server pods whose secrets hold the artifact store's"
        " credentials (KServe's storage initializer reads them); its token is not mounted.",
    ).tag(config=True)  # fmt: skip
    name_prefix = Unicode("lw-", help="Prefix of the InferenceServices' names.").tag(config=True)
    min_replicas = Integer(1, help="Replicas of each version's server (at least).").tag(config=True)
    max_replicas = Integer(1, help="Most replicas (above min_replicas: KServe autoscales).").tag(
        config=True
    )
    uid = Integer(1000, help="User id of the model servers (non-root).").tag(config=True)
    gid = Integer(100, help="Group id of the model servers.").tag(config=True)
    default_cpu = Float(1.0, help="CPU limit of a deployment with no profile.").tag(config=True)
    default_memory = Unicode("2Gi", help="Memory limit of a deployment with no profile.").tag(
        config=True
    )

    def __init__(
        self, api: KubeAPI | None = None, locate: Callable[[str, str], str] | None = None,
        **kwargs: Any,
    ) -> None:  # fmt: skip
        super().__init__(**kwargs)
        self._api = api
        self.locate = locate
        self._clients: dict[str, ModelClient] = {}

    @classmethod
    def beside(cls, executor: KubernetesExecutor, tracking: Any, **kwargs: Any) -> KServeBackend:
        """The backend of a platform whose jobs run on Kubernetes: the executor's client and
        namespace (unless `namespace` is configured), the files of versions found through the
        `tracking` server's registry. Raises KServeError when a setting is missing."""
        destination = getattr(tracking, "artifacts_destination", "")
        backend = cls(api=executor.api, locate=registry_locator(destination), **kwargs)
        if not backend.namespace:
            backend.namespace = executor.namespace
        backend.settings()
        return backend

    @property
    def api(self) -> KubeAPI:
        if self._api is None:
            self._api = cast(KubeAPI, self.api_class())
        return self._api

    @validate("image")
    def _validate_image(self, proposal: Any) -> str:
        if proposal.value:
            try:
                check_image(proposal.value)
            except KServeError as e:
                raise TraitError(str(e)) from None
        return str(proposal.value)

    @validate("name_prefix")
    def _validate_name_prefix(self, proposal: Any) -> str:
        if proposal.value and not re.fullmatch(r"[a-z][-a-z0-9]{0,15}", proposal.value):
            raise TraitError("name_prefix must be up to 16 of [a-z0-9-], starting with a letter")
        return str(proposal.value)

    @validate("min_replicas", "max_replicas")
    def _validate_replicas(self, proposal: Any) -> int:
        if proposal.value < 0:
            raise TraitError(f"{proposal.trait.name} must be >= 0")
        return int(proposal.value)

    def default_resources(self) -> dict[str, dict[str, str]]:
        try:
            memory = parse_size(self.default_memory, "default_memory")
        except ProfileError as e:
            raise KServeError(str(e)) from None
        return resource_quantities(self.default_cpu, memory, None, 0, self.guarantee_fraction)

    def settings(self) -> KServeSettings:
        if not self.namespace:
            raise KServeError("no namespace for model servers: configure c.KServeBackend.namespace")
        if self.max_replicas and self.max_replicas < self.min_replicas:
            raise KServeError("c.KServeBackend.max_replicas is below min_replicas")
        return KServeSettings(
            namespace=self.namespace, image=check_image(self.image),
            runtime_name=self.runtime_name, deployment_mode=self.deployment_mode,
            service_account=self.service_account, name_prefix=self.name_prefix,
            min_replicas=self.min_replicas, max_replicas=self.max_replicas, uid=self.uid,
            gid=self.gid,
        )  # fmt: skip

    def predictor(self, spec: ServerSpec) -> Predictor:
        """`spec` with its profile's resources and placement (the defaults without one)."""
        if spec.profile is None:
            return Predictor(spec, self.default_resources())
        return Predictor(spec, self.resources(spec.profile), self.place(spec.profile))

    def rollout(self, stable: ServerSpec, canary: ServerSpec | None, percent: int) -> Rollout:
        """The deployment's InferenceServices and routes (see `rollout`)."""
        placed = self.predictor(canary) if canary is not None else None
        return rollout(self.predictor(stable), placed, percent, self.settings())

    # --- the serving backend (backend.py) ------------------------------------------------------

    async def start(self, spec: ServerSpec, generation: int, env: dict[str, str]) -> dict[str, Any]:
        try:
            settings = self.settings()
            if not spec.storage_uri:
                spec = replace(spec, storage_uri=await self._locate(spec))
            name = isvc_name(spec, settings)
            secret = f"{name}-env-{generation}" if env else ""
            manifest = inference_service(replace(self.predictor(spec), env_secret=secret),
                                         settings)  # fmt: skip
        except KServeError as e:
            raise ServingError(f"cannot serve version {spec.version} on Kubernetes: {e}") from None
        manifest["metadata"]["annotations"][GENERATION] = str(generation)
        namespace = settings.namespace
        state: dict[str, Any] = {
            "name": name, "namespace": namespace, "generation": generation, "secret": secret,
            "url": predictor_url(name, settings), "manifest": manifest,
        }  # fmt: skip
        try:
            if secret:
                await self._put_secret(namespace, env_secret(secret, namespace, spec, env))
            existing = await self.api.read_inference_service(namespace, name)
            made = await self._settle(state, existing)
        except KubeError as e:
            await self._delete_secret(state)
            raise ServingError(f"Kubernetes refused the model server {name}: {e}") from None
        state["created"] = made is not None  # else probe creates it once the name is free
        return state

    async def _locate(self, spec: ServerSpec) -> str:
        if self.locate is None:
            raise KServeError("no registry to find the version's files in")
        try:
            return await asyncio.to_thread(self.locate, spec.model_name, spec.version)
        except MlflowException as e:
            raise KServeError(f"the registry has no files for it: {e.message}") from None

    async def _put_secret(self, namespace: str, manifest: dict[str, Any]) -> None:
        try:
            await self.api.create_secret(namespace, manifest)
        except KubeError as e:
            if e.status != 409:
                raise
            # left by a start of this generation that was cut short: its values are ours
            await self.api.patch_secret(namespace, manifest["metadata"]["name"],
                                        {"stringData": manifest["stringData"]})  # fmt: skip

    async def _settle(self, state: dict[str, Any], existing: dict | None) -> dict | None:
        """The state's InferenceService: `existing` when it is of the state's generation
        (adopted), a new one when the name is free, None while another generation's holds the
        name (it is deleted)."""
        namespace, name = state["namespace"], state["name"]
        if existing is not None and generation_of(existing) == state["generation"]:
            await self._own_secret(state, existing)
            return existing
        if existing is not None:
            if not (existing.get("metadata") or {}).get("deletionTimestamp"):
                await self.api.delete_inference_service(namespace, name)
            return None
        try:
            made = await self.api.create_inference_service(namespace, state["manifest"])
        except KubeError as e:
            if e.status == 409:  # made meanwhile, or still being deleted: the next probe looks
                return None
            raise
        await self._own_secret(state, made)
        return made

    async def _own_secret(self, state: dict[str, Any], isvc: dict[str, Any]) -> None:
        if not state["secret"]:
            return
        try:  # Kubernetes deletes the Secret with its InferenceService
            await self.api.patch_secret(state["namespace"], state["secret"], owned_by(isvc))
        except (KubeError, KeyError) as e:
            self.log.warning("Secret %s not tied to its InferenceService: %s", state["secret"], e)

    async def probe(self, state: dict[str, Any]) -> str:
        try:
            isvc = await self.api.read_inference_service(state["namespace"], state["name"])
            if isvc is None and state.get("created"):
                return DEAD  # deleted outside Labworks
            if isvc is None or generation_of(isvc) != state["generation"]:
                isvc = await self._settle(state, isvc)
        except KubeError as e:
            self.log.warning("InferenceService %s not read: %s", state["name"], e)
            return STARTING
        if isvc is None:
            return STARTING
        if failure(isvc):
            return DEAD
        return READY if is_ready(isvc) else STARTING

    def client(self, state: dict[str, Any]) -> ModelClient:
        """A kept client of the version's predictor inside the cluster."""
        url = state["url"]
        client = self._clients.get(url)
        if client is None:
            client = self._clients[url] = ModelClient(url, timeout=self.request_timeout)
        return client

    async def log_tail(self, state: dict[str, Any]) -> str:
        """What KServe says of the server: the failure, else the conditions not yet met."""
        try:
            isvc = await self.api.read_inference_service(state["namespace"], state["name"])
        except KubeError as e:
            return f"the InferenceService {state['name']} could not be read: {e}"
        if isvc is None:
            return f"the InferenceService {state['name']} is gone (deleted outside Labworks)"
        said = failure(isvc)
        if said:
            return said
        pending = [
            f"{c.get('type')}: {c.get('reason') or ''} {c.get('message') or ''}".strip()
            for c in (isvc.get("status") or {}).get("conditions") or []
            if c.get("status") != "True"
        ]  # fmt: skip
        return "\n".join(pending)

    async def stop(self, state: dict[str, Any]) -> None:
        client = self._clients.pop(state["url"], None)
        if client is not None:
            await client.aclose()
        try:
            await self.api.delete_inference_service(state["namespace"], state["name"])
        except KubeError as e:
            self.log.warning("InferenceService %s not deleted: %s", state["name"], e)
        await self._delete_secret(state)

    async def _delete_secret(self, state: dict[str, Any]) -> None:
        if state.get("secret"):
            try:
                await self.api.delete_secret(state["namespace"], state["secret"])
            except KubeError as e:
                self.log.warning("Secret %s not deleted: %s", state["secret"], e)

    async def close(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()
