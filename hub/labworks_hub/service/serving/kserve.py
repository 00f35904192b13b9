"""A deployment on Kubernetes: one KServe `InferenceService` per served version, built by pure
functions (no Kubernetes client) from `ServerSpec`s, as `make_job` builds a notebook job.
`KServeBackend` (kube_backend.py) holds the settings and creates them in the cluster.

Each version runs the Labworks serving image (runtime/, an Open Inference Protocol v2 server)
through a namespaced KServe `ServingRuntime` (`serving_runtime`, installed by the Helm chart):
the runtime holds the image pinned by digest and the arguments every server shares; each
InferenceService names it (`runtime`, `protocolVersion: v2`), points `storageUri` at the
version's files in the artifact store (KServe's storage initializer copies them to
/mnt/models before the server starts) and adds the version's own arguments, the profile's
resources and placement (`Placement`, as for workspaces and jobs) and the hardening of every
Labworks pod (placement.py: non-root, no capabilities, seccomp RuntimeDefault, no
service-account token).

Traffic: a deployment serving "stable V1, canary V2 at P%" is two InferenceServices, one per
version, each fully described by its manifest, and the platform's router (the same one that
splits traffic between local model-server processes) sends P% of requests to V2's predictor
and the rest to V1's (`Rollout.routes`). A version's manifest is the same whether it is the
stable or the canary one, so promoting or rolling back is switching the routes and deleting
the version left behind (`Rollout.stale`); the version kept is not restarted. KServe's own
canaries are not used: `canaryTrafficPercent` (Knative mode) splits between the latest and
the previously rolled out *revision*, a history the manifest does not state, and `spec.canary`
(Standard mode, KServe 0.20) splits by replica counts, so 10% on one stable replica is 50%
(docs/admin/kubernetes-serving.md).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from ...placement import (
    PodPlacement,
    container_security_context,
    label_value,
    pod_security_context,
)
from .spec import CANARY, STABLE, TASKS, ServerSpec

API_VERSION = "serving.kserve.io/v1beta1"
RUNTIME_API_VERSION = "serving.kserve.io/v1alpha1"
MODEL_FORMAT = "labworks"  # the format the Labworks ServingRuntime serves (an MLflow model)
MODEL_DIR = "/mnt/models"  # where KServe's storage initializer puts storageUri's files
PORT = 8080
DEPLOYMENT_MODE = "serving.kserve.io/deploymentMode"
VISIBILITY = "networking.kserve.io/visibility"  # cluster-local: no Ingress, the router only
COMPONENT = "model-server"
DEPLOYMENT_LABEL = "labworks.io/deployment-id"
MAX_NAME = 45  # an InferenceService name; Knative adds "-predictor-00001" (63 in all)
STORAGE_SCHEMES = ("s3://", "gs://", "https://", "hdfs://", "webhdfs://", "pvc://")
_NAME = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")  # KServe's IsvcNameFmt (DNS-1035 label)
_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
__all__ = ["KServeError", "KServeSettings", "Predictor", "Rollout", "Route", "inference_service",
           "isvc_name", "rollout", "serving_runtime"]  # fmt: skip


class KServeError(ValueError):
    """A deployment that cannot become InferenceServices; the message says why."""


@dataclass(frozen=True)
class KServeSettings:
    """What every InferenceService and the ServingRuntime of an installation share."""

    namespace: str
    image: str  # the serving image, registry/name[:tag]@sha256:<digest>
    runtime_name: str = "labworks"
    deployment_mode: str = "Standard"  # KServe's Standard (a Deployment) or Knative
    service_account: str = ""  # whose secrets hold the storage credentials; "": default
    name_prefix: str = "lw-"
    min_replicas: int = 1
    max_replicas: int = 1
    uid: int = 1000
    gid: int = 100


@dataclass(frozen=True)
class Predictor:
    """One version's server as KServe runs it: its spec, resources and placement, and the
    Secret its environment comes from (`env_secret`; none in golden manifests)."""

    spec: ServerSpec
    resources: dict[str, dict[str, str]] = field(hash=False)
    placement: PodPlacement = field(default_factory=lambda: PodPlacement({}, ()), hash=False)
    env_secret: str = ""


@dataclass(frozen=True)
class Route:
    """Where the router sends `weight` percent of an endpoint's requests."""

    version: str
    role: str
    weight: int
    name: str  # the InferenceService
    url: str  # its predictor inside the cluster (OIP v2 paths under it)


@dataclass(frozen=True)
class Rollout:
    """A deployment's InferenceServices and how its traffic is split between them."""

    manifests: tuple[dict[str, Any], ...]
    routes: tuple[Route, ...]
    selector: str  # label selector of all of the deployment's InferenceServices

    def stale(self, existing: list[str]) -> list[str]:
        """Of the deployment's `existing` InferenceServices, those this rollout no longer has:
        delete them once the routes are switched (the version promoted away or rolled back)."""
        kept = {route.name for route in self.routes}
        return sorted(name for name in existing if name not in kept)


def check_image(image: str) -> str:
    """`image`, when it is pinned by digest (else KServeError)."""
    if not image:
        raise KServeError("no serving image: configure c.KServeBackend.image")
    if not _DIGEST.search(image):
        raise KServeError(f"serving image {image!r} is not pinned by digest (@sha256:<64 hex>)")
    return image


def _slug(text: str) -> str:
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9]", "-", text.lower())).strip("-")


def isvc_name(spec: ServerSpec, settings: KServeSettings) -> str:
    """The InferenceService of `spec`'s version: `<prefix><endpoint>-<hash>-v<version>`, the
    endpoint shortened to fit; the hash (of the deployment id) keeps two endpoints that read
    alike apart. Stable: the same spec always gives the same name."""
    version = _slug(spec.version)
    if not version:
        raise KServeError(f"version {spec.version!r} has no letter or digit to name a server by")
    digest = hashlib.sha256(spec.deployment_id.encode()).hexdigest()[:6]
    tail = f"-{digest}-v{version}"
    room = MAX_NAME - len(settings.name_prefix) - len(tail)
    if room < 1:
        raise KServeError(f"version {spec.version!r} is too long for a Kubernetes name")
    endpoint = _slug(spec.endpoint)[:room].rstrip("-") or "model"
    name = f"{settings.name_prefix}{endpoint}{tail}"
    if not _NAME.match(name):
        raise KServeError(f"{name!r} is not a valid InferenceService name (DNS-1035 label)")
    return name


def labels(spec: ServerSpec) -> dict[str, str]:
    """The labels of a version's InferenceService and of its pods. Not its role: KServe
    copies them into the pods' template, and promoting a canary must not restart it."""
    return {
        "app.kubernetes.io/name": "labworks",
        "app.kubernetes.io/component": COMPONENT,
        DEPLOYMENT_LABEL: label_value(spec.deployment_id),
        "labworks.io/endpoint": label_value(spec.endpoint),
        "labworks.io/model-version": label_value(spec.version),
        "labworks.io/owner": label_value(spec.owner),
    }


def predictor_url(name: str, settings: KServeSettings) -> str:
    """The predictor's Service inside the cluster (KServe names it `<name>-predictor` in both
    modes; in Knative mode it is Knative's route to the revision)."""
    return f"http://{name}-predictor.{settings.namespace}.svc.cluster.local"


def _check(spec: ServerSpec) -> None:
    if spec.task not in TASKS:
        raise KServeError(f"task {spec.task!r} is not one of {', '.join(TASKS)}")
    if not spec.storage_uri.startswith(STORAGE_SCHEMES):
        raise KServeError(
            f"storage URI {spec.storage_uri!r} is not one KServe's storage initializer can"
            f" read from a pod ({', '.join(STORAGE_SCHEMES)}): use an object store"
        )


def inference_service(server: Predictor, settings: KServeSettings) -> dict[str, Any]:
    """The serving.kserve.io/v1beta1 InferenceService of one version (pure)."""
    spec = server.spec
    _check(spec)
    name = isvc_name(spec, settings)
    pod_labels = labels(spec)
    model: dict[str, Any] = {
        "modelFormat": {"name": MODEL_FORMAT},
        "runtime": settings.runtime_name,
        "protocolVersion": "v2",
        "storageUri": spec.storage_uri,
        # appended to the ServingRuntime's own arguments (--port, --model-uri)
        "args": ["--name", spec.endpoint, "--version", spec.version, "--task", spec.task],
        "env": [{"name": "HOME", "value": "/tmp"}],  # noqa: S108 (an emptyDir in the pod)
        "resources": server.resources,
        "securityContext": container_security_context(),
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],  # noqa: S108
    }
    predictor: dict[str, Any] = {
        "minReplicas": settings.min_replicas,
        "maxReplicas": settings.max_replicas,
        "labels": pod_labels,
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": pod_security_context(settings.uid, settings.gid, settings.gid),
        "volumes": [{"name": "tmp", "emptyDir": {}}],
        "model": model,
    }
    if server.env_secret:  # the deployment's variables (its hub token), never in the manifest
        model["envFrom"] = [{"secretRef": {"name": server.env_secret}}]
    if settings.service_account:
        predictor["serviceAccountName"] = settings.service_account
    if server.placement.node_selector:
        predictor["nodeSelector"] = dict(server.placement.node_selector)
    if server.placement.tolerations:
        predictor["tolerations"] = [dict(t) for t in server.placement.tolerations]
    return {
        "apiVersion": API_VERSION,
        "kind": "InferenceService",
        "metadata": {
            "name": name,
            "namespace": settings.namespace,
            "labels": {**pod_labels, VISIBILITY: "cluster-local"},
            "annotations": {
                DEPLOYMENT_MODE: settings.deployment_mode,
                "labworks.io/owner": spec.owner,
                "labworks.io/model": spec.model_name,
                "labworks.io/model-uri": spec.model_uri,
            },
        },
        "spec": {"predictor": predictor},
    }


def serving_runtime(settings: KServeSettings) -> dict[str, Any]:
    """The serving.kserve.io/v1alpha1 ServingRuntime every version's InferenceService names:
    the serving image, pinned, speaking OIP v2 on PORT (the Helm chart installs the same one)."""
    return {
        "apiVersion": RUNTIME_API_VERSION,
        "kind": "ServingRuntime",
        "metadata": {
            "name": settings.runtime_name,
            "namespace": settings.namespace,
            "labels": {
                "app.kubernetes.io/name": "labworks",
                "app.kubernetes.io/component": COMPONENT,
            },
        },
        "spec": {
            "supportedModelFormats": [{"name": MODEL_FORMAT, "version": "1", "autoSelect": False}],
            "protocolVersions": ["v2"],
            "multiModel": False,
            "containers": [
                {
                    "name": "kserve-container",
                    "image": check_image(settings.image),
                    "args": ["--port", str(PORT), "--model-uri", MODEL_DIR],
                    "ports": [{"containerPort": PORT, "name": "http1", "protocol": "TCP"}],
                    # ready once the model is loaded: no request reaches a loading server
                    "readinessProbe": {
                        "httpGet": {"path": "/v2/health/ready", "port": PORT},
                        "periodSeconds": 5,
                    },
                    "securityContext": container_security_context(),
                }
            ],
        },
    }


def rollout(
    stable: Predictor, canary: Predictor | None, percent: int, settings: KServeSettings
) -> Rollout:
    """The InferenceServices of a deployment serving `stable`, and `canary` with `percent` of
    the traffic (0-100; 0 without a canary)."""
    if type(percent) is not int or not 0 <= percent <= 100:
        raise KServeError(
            f"the canary's share must be a whole percent from 0 to 100, not {percent!r}"
        )
    if stable.spec.role != STABLE:
        raise KServeError(
            f"version {stable.spec.version} is not the stable one ({stable.spec.role})"
        )
    servers = [(stable, 100 - percent)]
    if canary is None:
        if percent:
            raise KServeError(f"{percent}% of the traffic for a canary, but there is no canary")
    else:
        if canary.spec.role != CANARY:
            raise KServeError(f"version {canary.spec.version} is not a canary ({canary.spec.role})")
        if (canary.spec.deployment_id, canary.spec.endpoint) != (
            stable.spec.deployment_id, stable.spec.endpoint,
        ):  # fmt: skip
            raise KServeError("the canary belongs to another deployment than the stable version")
        if canary.spec.version == stable.spec.version:
            raise KServeError(f"version {canary.spec.version} cannot be its own canary")
        servers.append((canary, percent))
    manifests, routes = [], []
    for server, weight in servers:
        manifest = inference_service(server, settings)
        name = manifest["metadata"]["name"]
        manifests.append(manifest)
        routes.append(Route(server.spec.version, server.spec.role, weight, name,
                            predictor_url(name, settings)))  # fmt: skip
    selector = f"{DEPLOYMENT_LABEL}={label_value(stable.spec.deployment_id)}"
    return Rollout(tuple(manifests), tuple(routes), selector)
