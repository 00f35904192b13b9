"""KubernetesExecutor: one Kubernetes Job per attempt, queued by Kueue.

`make_job(JobManifest)` builds the Job as a plain dict (pure, tested against golden files):
the run's image pinned by digest, the profile's resources, GPUs, node selector and tolerations
(`Placement`, labworks_hub/placement.py, as for workspaces), the `kueue.x-k8s.io/queue-name`
label (the Job is created suspended and Kueue admits it under its quotas and fair share), and a
hardened non-root pod like the workspaces' (spawners/kube.py). The pod runs papermill from the
input notebook in the artifact store to the output notebook there (the image needs
`papermill` and the store's fsspec/boto3 driver); the store's credentials come from a Secret
(`artifact_secret`). The job's hub token (`spec.secret_env`) goes into a Secret of its own
(`make_secret`, `<job>-token`), created before the Job, owned by it (ownerReferences, so
Kubernetes deletes it with the Job) and read by the container through `secretKeyRef`: the token
is never in the Job's manifest.

Everything the executor asks of the cluster goes through `KubeAPI` (`api_class`), the one
seam; `KubernetesAPI` is the real one (kubernetes_asyncio), tests use a fake. The serving
backend on Kubernetes (serving/kube_backend.py) goes through the same seam for its KServe
InferenceServices and their Secrets.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol, cast

from traitlets import Bool, Dict, Integer, Type, Unicode, default

from ....placement import (
    Placement,
    container_security_context,
    label_value,
    pod_security_context,
    resource_quantities,
)
from ....profiles import Profile
from ..artifacts import ArtifactStore, run_key
from .base import FAILED, SUCCEEDED, TIMED_OUT, Executor, ExecutorError, Outcome, RunSpec

QUEUE_LABEL = "kueue.x-k8s.io/queue-name"
PRIORITY_LABEL = "kueue.x-k8s.io/priority-class"
WORK = "/work"
_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
_START_FAILURES = (
    "ErrImagePull",
    "ImagePullBackOff",
    "InvalidImageName",
    "CreateContainerConfigError",
)
ISVC = ("serving.kserve.io", "v1beta1", "inferenceservices")  # group, version, plural
SERVICE_ACCOUNT_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
__all__ = ["JobManifest", "KubeAPI", "KubeError", "KubernetesAPI",
           "KubernetesExecutor", "label_value", "make_job", "make_secret"]  # fmt: skip


class KubeError(Exception):
    """The Kubernetes API refused or failed a request."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class KubeAPI(Protocol):
    """What the executor and the serving backend need from the cluster. Objects are plain dicts
    (camelCase keys); reads answer None for an object that is not there."""

    async def create_job(self, namespace: str, manifest: dict) -> dict: ...  # the Job made
    async def read_job(self, namespace: str, name: str) -> dict | None: ...
    async def delete_job(self, namespace: str, name: str) -> None: ...
    async def create_secret(self, namespace: str, manifest: dict) -> None: ...
    async def patch_secret(self, namespace: str, name: str, patch: dict) -> None: ...
    async def delete_secret(self, namespace: str, name: str) -> None: ...
    async def list_pods(self, namespace: str, job_name: str) -> list[dict]: ...
    async def read_log(self, namespace: str, pod: str) -> str: ...
    async def create_inference_service(self, namespace: str, manifest: dict) -> dict: ...
    async def read_inference_service(self, namespace: str, name: str) -> dict | None: ...
    async def delete_inference_service(self, namespace: str, name: str) -> None: ...


@dataclass(frozen=True)
class JobManifest:
    """The inputs of one attempt's Job."""

    name: str
    namespace: str
    run_id: str
    attempt: int
    owner: str
    image: str
    command: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    cpu: float | None = None
    memory: int | None = None
    disk: int | None = None
    gpus: int = 0
    guarantee_fraction: float = 1.0
    queue_name: str = ""
    priority_class: str = ""
    node_selector: dict[str, str] = field(default_factory=dict)
    tolerations: tuple[dict, ...] = ()
    deadline_seconds: int | None = None
    ttl_seconds_after_finished: int = 3600
    uid: int = 1000
    gid: int = 100
    fs_gid: int = 100
    service_account: str = ""
    env_from_secret: str = ""
    secret_env: tuple[str, ...] = ()  # variables read from the token Secret (secretKeyRef)

    @property
    def token_secret(self) -> str:
        """Name of the attempt's Secret holding `secret_env`."""
        return f"{self.name}-token"

    @property
    def labels(self) -> dict[str, str]:
        return {
            "app.kubernetes.io/name": "labworks",
            "app.kubernetes.io/component": "notebook-job",
            "labworks.io/run-id": self.run_id,
            "labworks.io/attempt": str(self.attempt),
            "labworks.io/owner": label_value(self.owner),
        }


def make_job(spec: JobManifest) -> dict[str, Any]:
    """The batch/v1 Job of one attempt (pure: same input, same dict)."""
    labels = spec.labels
    job_labels = dict(labels)
    if spec.queue_name:
        job_labels[QUEUE_LABEL] = spec.queue_name
    if spec.priority_class:
        job_labels[PRIORITY_LABEL] = spec.priority_class
    env: list[dict[str, Any]] = [
        {"name": k, "value": v} for k, v in {**spec.env, "HOME": WORK}.items()
    ]
    env += [
        {"name": k, "valueFrom": {"secretKeyRef": {"name": spec.token_secret, "key": k}}}
        for k in spec.secret_env
    ]
    env.sort(key=lambda item: item["name"])
    container: dict[str, Any] = {
        "name": "notebook",
        "image": spec.image,
        "command": list(spec.command),
        "workingDir": WORK,
        "env": env,
        "resources": resource_quantities(
            spec.cpu, spec.memory, spec.disk, spec.gpus, spec.guarantee_fraction
        ),
        "securityContext": container_security_context(),
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "volumeMounts": [
            {"name": "work", "mountPath": WORK},
            {"name": "tmp", "mountPath": "/tmp"},  # noqa: S108 (an emptyDir in the pod)
        ],
    }
    if spec.env_from_secret:
        container["envFrom"] = [{"secretRef": {"name": spec.env_from_secret}}]
    pod_spec: dict[str, Any] = {
        "restartPolicy": "Never",
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": pod_security_context(spec.uid, spec.gid, spec.fs_gid),
        "containers": [container],
        "volumes": [{"name": "work", "emptyDir": {}}, {"name": "tmp", "emptyDir": {}}],
    }
    if spec.service_account:
        pod_spec["serviceAccountName"] = spec.service_account
    if spec.node_selector:
        pod_spec["nodeSelector"] = dict(spec.node_selector)
    if spec.tolerations:
        pod_spec["tolerations"] = [dict(t) for t in spec.tolerations]
    job_spec: dict[str, Any] = {
        "backoffLimit": 0,  # retries are the job service's, with its backoff and history
        "ttlSecondsAfterFinished": spec.ttl_seconds_after_finished,
        "template": {"metadata": {"labels": labels}, "spec": pod_spec},
    }
    if spec.deadline_seconds:
        job_spec["activeDeadlineSeconds"] = spec.deadline_seconds
    if spec.queue_name:
        job_spec["suspend"] = True  # Kueue admits (unsuspends) it when quota allows
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": spec.name,
            "namespace": spec.namespace,
            "labels": job_labels,
            "annotations": {"labworks.io/owner": spec.owner},
        },
        "spec": job_spec,
    }


def make_secret(spec: JobManifest, values: dict[str, str]) -> dict[str, Any]:
    """The v1 Secret holding an attempt's `secret_env` values (its hub token)."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {"name": spec.token_secret, "namespace": spec.namespace,
                     "labels": spec.labels},
        "stringData": dict(values),
    }  # fmt: skip


def owned_by(job: dict[str, Any]) -> dict[str, Any]:
    """A metadata patch making an object a dependent of `job` (deleted with it)."""
    meta = job["metadata"]
    owner = {"apiVersion": "batch/v1", "kind": "Job", "name": meta["name"], "uid": meta["uid"]}
    return {"metadata": {"ownerReferences": [owner]}}


def papermill_command(input_uri: str, output_uri: str, spec: RunSpec) -> tuple[str, ...]:
    parameters = base64.b64encode(json.dumps(spec.parameters).encode()).decode()
    return (
        "papermill", input_uri, output_uri, "--kernel", spec.kernel_name, "--cwd", WORK,
        "--log-output", "--no-progress-bar", "--request-save-on-cell-execute",
        "--autosave-cell-every", "10", "--parameters_base64", parameters,
    )  # fmt: skip


class KubernetesAPI:
    """The real cluster, through kubernetes_asyncio (in-cluster config, else kubeconfig)."""

    def __init__(self) -> None:
        self._client: Any = None

    async def _api(self) -> Any:
        if self._client is None:
            from kubernetes_asyncio import client, config

            try:
                config.load_incluster_config()
            except config.ConfigException:
                await config.load_kube_config()
            self._client = client.ApiClient()
        return self._client

    async def _call(self, group: str, method: str, *args: Any, **kwargs: Any) -> Any:
        from kubernetes_asyncio import client
        from kubernetes_asyncio.client.exceptions import ApiException

        api = await self._api()
        try:
            result = await getattr(getattr(client, group)(api), method)(*args, **kwargs)
        except ApiException as e:
            raise KubeError(e.status or 0, f"{e.reason}: {_api_message(e.body)}") from None
        return result

    async def create_job(self, namespace: str, manifest: dict) -> dict:
        job = await self._call("BatchV1Api", "create_namespaced_job", namespace, manifest)
        return (await self._api()).sanitize_for_serialization(job)

    async def create_secret(self, namespace: str, manifest: dict) -> None:
        await self._call("CoreV1Api", "create_namespaced_secret", namespace, manifest)

    async def patch_secret(self, namespace: str, name: str, patch: dict) -> None:
        await self._call("CoreV1Api", "patch_namespaced_secret", name, namespace, patch)

    async def delete_secret(self, namespace: str, name: str) -> None:
        try:
            await self._call("CoreV1Api", "delete_namespaced_secret", name, namespace)
        except KubeError as e:
            if e.status != 404:
                raise

    async def read_job(self, namespace: str, name: str) -> dict | None:
        try:
            job = await self._call("BatchV1Api", "read_namespaced_job", name, namespace)
        except KubeError as e:
            if e.status == 404:
                return None
            raise
        return (await self._api()).sanitize_for_serialization(job)

    async def delete_job(self, namespace: str, name: str) -> None:
        try:
            await self._call(
                "BatchV1Api", "delete_namespaced_job", name, namespace,
                propagation_policy="Foreground",
            )  # fmt: skip
        except KubeError as e:
            if e.status != 404:
                raise

    async def list_pods(self, namespace: str, job_name: str) -> list[dict]:
        pods = await self._call(
            "CoreV1Api", "list_namespaced_pod", namespace, label_selector=f"job-name={job_name}"
        )
        return (await self._api()).sanitize_for_serialization(pods).get("items", [])

    async def read_log(self, namespace: str, pod: str) -> str:
        return await self._call("CoreV1Api", "read_namespaced_pod_log", pod, namespace)

    # KServe InferenceServices (custom objects: plain dicts both ways)

    async def create_inference_service(self, namespace: str, manifest: dict) -> dict:
        group, version, plural = ISVC
        return await self._call(
            "CustomObjectsApi", "create_namespaced_custom_object", group, version, namespace,
            plural, manifest,
        )  # fmt: skip

    async def read_inference_service(self, namespace: str, name: str) -> dict | None:
        group, version, plural = ISVC
        try:
            return await self._call(
                "CustomObjectsApi", "get_namespaced_custom_object", group, version, namespace,
                plural, name,
            )  # fmt: skip
        except KubeError as e:
            if e.status == 404:
                return None
            raise

    async def delete_inference_service(self, namespace: str, name: str) -> None:
        group, version, plural = ISVC
        try:
            await self._call(
                "CustomObjectsApi", "delete_namespaced_custom_object", group, version, namespace,
                plural, name, propagation_policy="Background",
            )  # fmt: skip
        except KubeError as e:
            if e.status != 404:
                raise


def _api_message(body: Any) -> str:
    try:
        return str(json.loads(body).get("message", body))
    except (TypeError, ValueError, AttributeError):
        return str(body)


class KubernetesExecutor(Placement, Executor):
    """Runs each attempt as a Kubernetes Job (see the module docstring), placed like the
    workspaces (`Placement`: requests, node selectors, GPU and spot tolerations)."""

    name: ClassVar[str] = "kubernetes"
    runs_images: ClassVar[bool] = True

    api_class = Type(
        KubernetesAPI, klass=object, help="The Kubernetes API client, a KubeAPI (the one seam)."
    ).tag(config=True)
    namespace = Unicode(help="Namespace of the Jobs (default: the service's own).").tag(config=True)
    image = Unicode(
        "", help="Image of jobs that name none: registry/name@sha256:<digest> (pinned)."
    ).tag(config=True)
    queue_name = Unicode(
        "labworks", help="Kueue LocalQueue of the Jobs; empty: no Kueue (Jobs start at once)."
    ).tag(config=True)
    profile_queues = Dict(
        value_trait=Unicode(), help="LocalQueue per profile name, instead of queue_name."
    ).tag(config=True)
    priority_class = Unicode(
        "", help="Kueue WorkloadPriorityClass of the Jobs (label); empty: none."
    ).tag(config=True)
    uid = Integer(1000, help="User id of the job container (non-root).").tag(config=True)
    gid = Integer(100, help="Group id of the job container.").tag(config=True)
    service_account = Unicode("", help="Service account of job pods; empty: default.").tag(
        config=True
    )
    artifact_secret = Unicode(
        "", help="Secret whose keys become the pod's environment (artifact store credentials)."
    ).tag(config=True)
    ttl_seconds_after_finished = Integer(3600, help="Kubernetes deletes ended Jobs after.").tag(
        config=True
    )
    delete_ended = Bool(True, help="Delete a Job once its attempt is collected.").tag(config=True)
    job_prefix = Unicode("lw-job-", help="Prefix of the Jobs' names.").tag(config=True)

    @default("slots")
    def _default_slots(self) -> int:
        return 1000  # Kueue decides what runs; the service only hands Jobs over

    @default("namespace")
    def _default_namespace(self) -> str:
        try:
            return SERVICE_ACCOUNT_NAMESPACE.read_text().strip()
        except OSError:
            return "default"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.api: KubeAPI = cast(KubeAPI, self.api_class())
        self.artifacts: ArtifactStore | None = getattr(self.parent, "artifacts", None)

    def environment(self, spec_image: str) -> dict[str, Any]:
        image = spec_image or self.image
        if not image:
            raise ExecutorError(
                "no job image: choose an image, or configure c.KubernetesExecutor.image"
            )
        if not _DIGEST.search(image):
            raise ExecutorError(f"job image {image!r} is not pinned by digest (@sha256:...)")
        reference, digest = image.rsplit("@", 1)
        return {"kind": "image", "image": reference, "digest": digest}

    async def start(self) -> None:
        if self.artifacts is None or self.artifacts.local:
            raise ExecutorError(
                "the Kubernetes executor needs an artifact store pods can reach: set"
                " c.ArtifactStore.url to an object store (e.g. s3://bucket/jobs)"
            )

    def job_name(self, run_id: str, attempt: int) -> str:
        return f"{self.job_prefix}{run_id}-{attempt}"

    def manifest(self, spec: RunSpec, input_uri: str, output_uri: str) -> JobManifest:
        profile: Profile = spec.profile
        placement = self.place(profile)
        return JobManifest(
            name=self.job_name(spec.run_id, spec.attempt), namespace=self.namespace,
            run_id=spec.run_id, attempt=spec.attempt, owner=spec.owner,
            image=spec.image or self.image,
            command=papermill_command(input_uri, output_uri, spec), env=dict(spec.env),
            cpu=profile.cpu_limit, memory=profile.mem_limit, disk=profile.disk_limit,
            gpus=profile.gpu_count, guarantee_fraction=self.guarantee_fraction,
            queue_name=self.profile_queues.get(profile.name, self.queue_name),
            priority_class=self.priority_class, node_selector=placement.node_selector,
            tolerations=placement.tolerations, deadline_seconds=spec.timeout,
            ttl_seconds_after_finished=self.ttl_seconds_after_finished, uid=self.uid,
            gid=self.gid, fs_gid=self.gid, service_account=self.service_account,
            env_from_secret=self.artifact_secret, secret_env=tuple(sorted(spec.secret_env)),
        )  # fmt: skip

    async def submit(self, spec: RunSpec) -> dict[str, Any]:
        assert self.artifacts is not None
        key = run_key(spec.run_id, spec.attempt, "input.ipynb")
        await asyncio.to_thread(self.artifacts.put, key, spec.notebook.encode())
        output = self.artifacts.uri(run_key(spec.run_id, spec.attempt, "output.ipynb"))
        plan = self.manifest(spec, self.artifacts.uri(key), output)
        manifest = make_job(plan)
        state: dict[str, Any] = {"job": plan.name, "namespace": self.namespace}
        try:
            if spec.secret_env:
                await self.api.create_secret(self.namespace, make_secret(plan, spec.secret_env))
                state["secret"] = plan.token_secret
            job = await self.api.create_job(self.namespace, manifest)
        except KubeError as e:
            await self._delete_secret(state)
            raise ExecutorError(f"Kubernetes refused the job: {e}") from None
        if "secret" in state:
            try:  # Kubernetes deletes the Secret with the Job (also when its TTL runs out)
                await self.api.patch_secret(self.namespace, state["secret"], owned_by(job))
            except (KubeError, KeyError) as e:
                self.log.warning("Secret %s not tied to its Job: %s", state["secret"], e)
        return state

    async def _delete_secret(self, state: dict[str, Any]) -> None:
        if state.get("secret"):
            namespace = state.get("namespace", self.namespace)
            try:
                await self.api.delete_secret(namespace, state["secret"])
            except KubeError as e:
                self.log.warning("Secret %s not deleted: %s", state["secret"], e)

    def _job(self, state: dict[str, Any]) -> str:
        return state.get("job") or self.job_name(state["run_id"], state["attempt"])

    async def poll(self, state: dict[str, Any]) -> Outcome | None:
        namespace = state.get("namespace", self.namespace)
        job = await self.api.read_job(namespace, self._job(state))
        if job is None:
            return Outcome(FAILED, "the Kubernetes Job is gone (deleted outside Labworks)")
        status = job.get("status") or {}
        for condition in status.get("conditions") or []:
            if condition.get("status") != "True":
                continue
            if condition.get("type") == "Complete":
                return Outcome(SUCCEEDED)
            if condition.get("type") == "Failed":
                if condition.get("reason") == "DeadlineExceeded":
                    limit = (job.get("spec") or {}).get("activeDeadlineSeconds")
                    said = f"after {limit} s" if limit else "(the Job's activeDeadlineSeconds)"
                    return Outcome(TIMED_OUT, f"timed out {said}")
                return Outcome(FAILED, await self._failure(namespace, state))
        if status.get("succeeded"):
            return Outcome(SUCCEEDED)
        stuck = await self._start_failure(namespace, state)
        return Outcome(FAILED, stuck) if stuck else None

    async def _pods(self, namespace: str, state: dict[str, Any]) -> list[dict]:
        pods = await self.api.list_pods(namespace, self._job(state))
        return sorted(pods, key=lambda p: (p.get("metadata") or {}).get("creationTimestamp", ""))

    async def _failure(self, namespace: str, state: dict[str, Any]) -> str:
        """Why the pod failed: OOM, exit code, and the last line papermill printed."""
        for pod in reversed(await self._pods(namespace, state)):
            for status in (pod.get("status") or {}).get("containerStatuses") or []:
                ended = (status.get("state") or {}).get("terminated")
                if not ended:
                    continue
                if ended.get("reason") == "OOMKilled":
                    return "the job ran out of memory (OOMKilled); choose a larger profile"
                lines = [x for x in (ended.get("message") or "").splitlines() if x.strip()]
                last = lines[-1].strip() if lines else ""
                return f"the notebook failed (exit code {ended.get('exitCode')}): {last}".rstrip(
                    ": "
                )
        return "the Kubernetes Job failed"

    async def _start_failure(self, namespace: str, state: dict[str, Any]) -> str | None:
        for pod in await self._pods(namespace, state):
            for status in (pod.get("status") or {}).get("containerStatuses") or []:
                waiting = (status.get("state") or {}).get("waiting") or {}
                if waiting.get("reason") in _START_FAILURES:
                    detail = f"{waiting['reason']}: {waiting.get('message', '')}".strip(": ")
                    return f"cannot start the job's pod: {detail}"
        return None

    async def cancel(self, state: dict[str, Any]) -> None:
        await self.api.delete_job(state.get("namespace", self.namespace), self._job(state))
        await self._delete_secret(state)

    async def reattach(self, state: dict[str, Any]) -> bool:
        job = await self.api.read_job(state.get("namespace", self.namespace), self._job(state))
        return job is not None

    async def read_log(self, state: dict[str, Any], offset: int, limit: int) -> bytes | None:
        namespace = state.get("namespace", self.namespace)
        pods = await self._pods(namespace, state)
        if not pods:
            return None
        try:
            text = await self.api.read_log(namespace, pods[-1]["metadata"]["name"])
        except KubeError:
            return None  # the container has not started yet
        return text.encode()[offset : offset + limit]

    async def collect(self, state: dict[str, Any], artifacts: ArtifactStore, prefix: str) -> bool:
        log = await self.read_log(state, 0, 64 * 1024 * 1024)
        if log is not None:
            await asyncio.to_thread(artifacts.put, f"{prefix}/log.txt", log)
        return await asyncio.to_thread(artifacts.exists, f"{prefix}/output.ipynb")

    async def forget(self, state: dict[str, Any]) -> None:
        if self.delete_ended:
            await self.api.delete_job(state.get("namespace", self.namespace), self._job(state))
        await self._delete_secret(state)  # its token is revoked: nothing to keep
