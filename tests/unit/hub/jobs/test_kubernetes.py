"""KubernetesExecutor with no cluster: `make_job` against golden manifests, and the executor's
state machine against a faked Kubernetes API (the one seam, `api_class`), also driven by the
job service end to end.

Golden Jobs live in tests/unit/hub/jobs/golden/ (and are checked against the Kubernetes schemas,
tests/unit/helm/schemas.py); regenerate them with
`LABWORKS_UPDATE_GOLDEN=1 pytest tests/unit/hub/jobs/test_kubernetes.py` and review the diff.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
from pathlib import Path

import pytest
from traitlets.config import Config

from labworks_hub.profiles import DEFAULT_PROFILES, Profile
from labworks_hub.service.jobs import models
from labworks_hub.service.jobs import operations as ops
from labworks_hub.service.jobs.artifacts import ArtifactStore, run_key
from labworks_hub.service.jobs.executors.base import ExecutorError, RunSpec
from labworks_hub.service.jobs.executors.kubernetes import (
    KubeError,
    KubernetesExecutor,
    label_value,
    make_job,
)
from tests.unit.helm.schemas import assert_valid

from .conftest import ANA, notebook, wait_until_ended

GOLDEN = Path(__file__).with_name("golden")
IMAGE = "registry.example.org/labworks/labworks-minimal:ci-1234@sha256:" + "ab" * 32
SPOT = {"key": "labworks.io/spot", "operator": "Exists", "effect": "NoSchedule"}
TOKEN = "hub-token-of-ana-0123456789"  # what the job service would mint
TOKEN_ENV = dict.fromkeys(("JUPYTERHUB_API_TOKEN", "LABWORKS_API_TOKEN", "MLFLOW_TRACKING_TOKEN"),
                          TOKEN)  # fmt: skip


class FakeKube:
    """The Kubernetes API as the executor sees it: Jobs and their pods, moved by the test."""

    instances: list[FakeKube] = []  # noqa: RUF012 (the test finds the service's instance)

    def __init__(self) -> None:
        self.jobs: dict[str, dict] = {}
        self.secrets: dict[str, dict] = {}
        self.pods: dict[str, list[dict]] = {}
        self.logs: dict[str, str] = {}
        self.deleted: list[str] = []
        self.refuse: KubeError | None = None
        FakeKube.instances.append(self)

    async def create_job(self, namespace: str, manifest: dict) -> dict:
        if self.refuse:
            raise self.refuse
        name = manifest["metadata"]["name"]
        metadata = {**manifest["metadata"], "uid": f"uid-{name}"}
        self.jobs[name] = {**manifest, "metadata": metadata, "status": {}}
        self.pods[name] = []
        return self.jobs[name]

    async def create_secret(self, namespace: str, manifest: dict) -> None:
        self.secrets[manifest["metadata"]["name"]] = manifest

    async def patch_secret(self, namespace: str, name: str, patch: dict) -> None:
        self.secrets[name]["metadata"].update(patch["metadata"])

    async def delete_secret(self, namespace: str, name: str) -> None:
        self.secrets.pop(name, None)

    async def read_job(self, namespace: str, name: str) -> dict | None:
        return self.jobs.get(name)

    async def delete_job(self, namespace: str, name: str) -> None:
        if self.jobs.pop(name, None) is not None:
            self.deleted.append(name)

    async def list_pods(self, namespace: str, job_name: str) -> list[dict]:
        return self.pods.get(job_name, [])

    async def read_log(self, namespace: str, pod: str) -> str:
        if pod not in self.logs:
            raise KubeError(400, "container not started")
        return self.logs[pod]

    # what the cluster does, as the test says
    def admit(self, name: str, log: str = "") -> None:
        self.jobs[name]["spec"]["suspend"] = False
        self.jobs[name]["status"] = {"active": 1}
        pod = f"{name}-x1"
        self.pods[name] = [_pod(pod, {"running": {}})]
        self.logs[pod] = log

    def end(self, name: str, condition: str, reason: str = "", terminated: dict | None = None):
        self.jobs[name]["status"] = {"conditions": [
            {"type": condition, "status": "True", "reason": reason}
        ]}  # fmt: skip
        if terminated is not None:
            self.pods[name] = [_pod(f"{name}-x1", {"terminated": terminated})]


def _pod(name: str, state: dict) -> dict:
    return {
        "metadata": {"name": name, "creationTimestamp": "2026-11-23T10:00:00Z"},
        "status": {"containerStatuses": [{"name": "notebook", "state": state}]},
    }


def make_executor(**traits) -> KubernetesExecutor:
    config = Config({"KubernetesExecutor": {"api_class": FakeKube, "namespace": "jobs", **traits}})
    executor = KubernetesExecutor(config=config)
    executor.artifacts = ArtifactStore(url="memory://labworks-test/artifacts")
    return executor


def spec(profile: str = "cpu-small", **fields) -> RunSpec:
    chosen = next(p for p in DEFAULT_PROFILES if p.name == profile)
    values = dict(
        run_id="0123456789ab", attempt=1, owner="ana@example.org", name="train.ipynb",
        notebook=json.dumps(notebook("x = 1")), parameters={"epochs": 3}, kernel_name="python3",
        profile=chosen, timeout=3600, image=IMAGE,
        env={"LABWORKS_PROFILE": chosen.name, "JUPYTERHUB_USER": "ana@example.org"},
        secret_env=TOKEN_ENV,
    )  # fmt: skip
    values.update(fields)
    return RunSpec(**values)


def manifest_of(executor: KubernetesExecutor, run: RunSpec) -> dict:
    return make_job(executor.manifest(run, "memory://in.ipynb", "memory://out.ipynb"))


@pytest.mark.parametrize("profile", [p.name for p in DEFAULT_PROFILES])
def test_job_matches_golden_manifest(profile):
    executor = make_executor(spot_profiles=["cpu-large"], profile_queues={"gpu-1": "gpu-queue"})
    job = manifest_of(executor, spec(profile))
    assert_valid(job)
    path = GOLDEN / f"job-{profile}.json"
    if os.environ.get("LABWORKS_UPDATE_GOLDEN") == "1":
        path.write_text(json.dumps(job, indent=2, sort_keys=True) + "\n")
    assert job == json.loads(path.read_text())


def test_the_job_is_queued_in_kueue_pinned_hardened_and_sized_by_its_profile():
    executor = make_executor(spot_profiles=["gpu-1"])
    job = manifest_of(executor, spec("gpu-1"))
    assert job["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "labworks"
    assert job["spec"]["suspend"] is True  # Kueue admits it
    assert job["spec"]["backoffLimit"] == 0  # retries are the job service's
    assert job["spec"]["activeDeadlineSeconds"] == 3600
    pod = job["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["image"] == IMAGE
    assert container["resources"]["limits"] == {"cpu": "8", "memory": str(32 * 2**30),
                                                 "nvidia.com/gpu": "1"}  # fmt: skip
    assert SPOT in pod["tolerations"]
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod[
        "tolerations"
    ]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["automountServiceAccountToken"] is False
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert job["metadata"]["labels"]["labworks.io/owner"] == "ana-example.org"
    parameters = container["command"][container["command"].index("--parameters_base64") + 1]
    assert json.loads(base64.b64decode(parameters)) == {"epochs": 3}


def test_without_kueue_the_job_is_not_suspended_and_has_no_queue_label():
    job = manifest_of(make_executor(queue_name=""), spec())
    assert "suspend" not in job["spec"]
    assert "kueue.x-k8s.io/queue-name" not in job["metadata"]["labels"]


def test_a_gpu_model_selects_nodes_and_requests_follow_the_guarantee_fraction():
    executor = make_executor(guarantee_fraction=0.5)
    profile = Profile(name="h100", display_name="H100", cpu_limit=4, mem_limit=2**30,
                      gpu_count=2, gpu_model="NVIDIA H100 80GB HBM3")  # fmt: skip
    job = manifest_of(executor, _with(profile))
    pod = job["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3"}
    requests = pod["containers"][0]["resources"]["requests"]
    assert requests == {"cpu": "2", "memory": str(2**29), "nvidia.com/gpu": "2"}


def test_a_profile_s_own_placement_and_per_profile_tolerations_reach_the_job():
    """The executor places a profile as the workspace spawner does (labworks_hub.placement)."""
    executor = make_executor(
        profile_tolerations={"spot-cpu": [{"key": "big", "operator": "Exists"}]}
    )
    profile = Profile.from_dict({
        "name": "spot-cpu", "display_name": "Spot CPU", "cpu_limit": 2, "spot": True,
        "node_selector": {"pool": "batch"},
        "tolerations": [{"key": "team", "operator": "Equal", "value": "ml"}],
    })  # fmt: skip
    job = manifest_of(executor, _with(profile))
    assert_valid(job)
    pod = job["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"pool": "batch"}
    assert pod["tolerations"] == [
        {"key": "team", "operator": "Equal", "value": "ml"}, {"key": "big", "operator": "Exists"},
        SPOT,
    ]  # fmt: skip


def _with(profile: Profile) -> RunSpec:
    base = spec()
    return RunSpec(**{**base.__dict__, "profile": profile})


async def test_the_hub_token_is_in_a_secret_the_job_owns_and_never_in_its_manifest():
    executor = make_executor()
    kube: FakeKube = executor.api  # type: ignore[assignment]
    state = await executor.submit(spec())
    job = kube.jobs[state["job"]]
    assert TOKEN not in json.dumps(job)
    env = {e["name"]: e for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
    secret_name = f"{state['job']}-token"
    for name in TOKEN_ENV:
        assert env[name] == {
            "name": name,
            "valueFrom": {"secretKeyRef": {"name": secret_name, "key": name}},
        }
    secret = kube.secrets[secret_name]
    assert (secret["kind"], secret["stringData"]) == ("Secret", TOKEN_ENV)
    assert_valid(secret)  # make_secret's, with its owner reference
    assert secret["metadata"]["ownerReferences"] == [
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "name": state["job"],
            "uid": job["metadata"]["uid"],
        }
    ]  # Kubernetes deletes it with the Job
    assert state["secret"] == secret_name and TOKEN not in json.dumps(state)
    await executor.forget(state)
    assert kube.secrets == {}
    kube.refuse = KubeError(403, "Forbidden: exceeded quota")
    with pytest.raises(ExecutorError):
        await executor.submit(spec(attempt=2))
    assert kube.secrets == {}  # no Secret left behind a Job that was refused
    kube.refuse = None
    plain = await executor.submit(spec(attempt=3, secret_env={}))  # no hub: no token
    assert "secret" not in plain and kube.secrets == {}


def test_label_values_are_made_valid():
    assert label_value("ana@example.org") == "ana-example.org"
    assert len(label_value("x" * 100)) == 63
    assert label_value("@@@") == "x"


def test_an_unpinned_or_missing_image_is_refused():
    executor = make_executor()
    with pytest.raises(ExecutorError, match="not pinned by digest"):
        executor.environment("registry.example.org/labworks/minimal:ci-1")
    with pytest.raises(ExecutorError, match="no job image"):
        executor.environment("")
    assert executor.environment(IMAGE) == {
        "kind": "image", "image": IMAGE.split("@")[0], "digest": "sha256:" + "ab" * 32,
    }  # fmt: skip


async def test_a_local_artifact_store_is_refused_at_start():
    executor = make_executor()
    executor.artifacts = ArtifactStore(url="/tmp/labworks-artifacts")
    with pytest.raises(ExecutorError, match="needs an artifact store pods can reach"):
        await executor.start()


async def test_state_machine_from_submit_through_kueue_to_success():
    executor = make_executor()
    kube: FakeKube = executor.api  # type: ignore[assignment]
    run = spec()
    state = await executor.submit(run)
    name = state["job"]
    assert name == "lw-job-0123456789ab-1"
    assert executor.artifacts.get(run_key(run.run_id, 1, "input.ipynb")) == run.notebook.encode()
    assert await executor.poll(state) is None  # suspended: waiting in Kueue
    assert await executor.read_log(state, 0, 100) is None
    kube.admit(name, "Executing Cell 1\n")
    assert await executor.poll(state) is None
    assert await executor.read_log(state, 0, 100) == b"Executing Cell 1\n"
    assert await executor.reattach(state) is True
    kube.end(name, "Complete")
    outcome = await executor.poll(state)
    assert (outcome.status, outcome.reason) == ("succeeded", "")
    prefix = run_key(run.run_id, 1, "").rstrip("/")
    executor.artifacts.put(f"{prefix}/output.ipynb", b"{}")  # what papermill in the pod wrote
    assert await executor.collect(state, executor.artifacts, prefix) is True
    assert executor.artifacts.get(f"{prefix}/log.txt") == b"Executing Cell 1\n"
    await executor.forget(state)
    assert kube.deleted == [name]
    assert await executor.reattach(state) is False


@pytest.mark.parametrize(
    ("reason", "terminated", "status", "message"),
    [
        ("DeadlineExceeded", None, "timed_out", "timed out after 3600 s"),
        ("BackoffLimitExceeded", {"reason": "OOMKilled", "exitCode": 137}, "failed",
         "the job ran out of memory (OOMKilled); choose a larger profile"),
        ("BackoffLimitExceeded",
         {"reason": "Error", "exitCode": 1, "message": "...\nValueError: boom\n"}, "failed",
         "the notebook failed (exit code 1): ValueError: boom"),
    ],
)  # fmt: skip
async def test_failures_are_reported_with_their_reason(reason, terminated, status, message):
    executor = make_executor()
    kube: FakeKube = executor.api  # type: ignore[assignment]
    state = await executor.submit(spec())
    kube.admit(state["job"])
    kube.end(state["job"], "Failed", reason, terminated)
    outcome = await executor.poll(state)
    assert (outcome.status, outcome.reason) == (status, message)


async def test_an_image_that_cannot_be_pulled_fails_the_attempt():
    executor = make_executor()
    kube: FakeKube = executor.api  # type: ignore[assignment]
    state = await executor.submit(spec())
    waiting = {"waiting": {"reason": "ImagePullBackOff", "message": "not found"}}
    kube.pods[state["job"]] = [_pod("p", waiting)]
    outcome = await executor.poll(state)
    assert outcome.reason == "cannot start the job's pod: ImagePullBackOff: not found"


async def test_cancel_deletes_the_job_and_a_job_deleted_elsewhere_is_a_failure():
    executor = make_executor()
    kube: FakeKube = executor.api  # type: ignore[assignment]
    state = await executor.submit(spec())
    await executor.cancel(state)
    assert kube.deleted == [state["job"]]
    outcome = await executor.poll(state)
    assert outcome.reason == "the Kubernetes Job is gone (deleted outside Labworks)"


async def test_kubernetes_refusing_the_job_is_a_clear_error():
    executor = make_executor()
    executor.api.refuse = KubeError(403, "Forbidden: exceeded quota")  # type: ignore[attr-defined]
    with pytest.raises(ExecutorError, match="Kubernetes refused the job: Forbidden"):
        await executor.submit(spec())


async def test_the_job_service_runs_jobs_through_the_kubernetes_executor(make_service):
    FakeKube.instances.clear()
    config = Config(
        {
            "JobService": {"executor_class": "kubernetes"},
            "KubernetesExecutor": {"api_class": FakeKube, "image": IMAGE},
            "ArtifactStore": {"url": "memory://labworks-service/artifacts"},
        }
    )
    service = await make_service(config=config)
    assert isinstance(service.executor, KubernetesExecutor)
    kube = FakeKube.instances[-1]
    job = await ops.submit(service, ANA, models.JobRequest(content=notebook("1"), timeout=60))
    assert job.environment == {"kind": "image", "image": IMAGE.split("@")[0],
                               "digest": "sha256:" + "ab" * 32}  # fmt: skip
    name = f"lw-job-{job.id}-1"
    await _until(lambda: name in kube.jobs)
    kube.admit(name, "papermill says hello\n")
    assert "papermill says hello" in (await ops.logs(service, ANA, job.id)).text
    kube.end(name, "Complete")
    service.wake()
    done = await wait_until_ended(service, ANA, job.id)
    assert (done.status, done.executor) == ("succeeded", "kubernetes")
    assert kube.deleted == [name]
    assert "papermill says hello" in (await ops.logs(service, ANA, job.id)).text


async def _until(condition, timeout: float = 10) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)
