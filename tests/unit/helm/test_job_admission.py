"""Each profile's Job, made by the executor the chart configures (`make_job`), against the
chart's Kueue queues: would Kueue admit it, and on which flavor."""

from __future__ import annotations

import json
from typing import Any

from traitlets.config import Config

from labworks_hub.profiles import DEFAULT_PROFILES, parse_profiles
from labworks_hub.service.jobs.executors.base import RunSpec
from labworks_hub.service.jobs.executors.kubernetes import QUEUE_LABEL, KubernetesExecutor, make_job

from .test_chart import (
    BOTH,
    DEFAULT,
    GPU_EXTERNAL,
    container,
    flavor_specs,
    limits_of,
    one,
    quantity,
    render,
    settings_of,
)


def admitting_flavor(job: dict, cluster_queue: dict, flavors: dict[str, dict]) -> str | None:
    """The flavor Kueue would assign the Job's pod set: the first of the ClusterQueue's flavors
    whose quota holds every requested resource and whose node labels do not contradict the
    pod's node selector. None: never admitted (e.g. a resource the queue does not cover)."""
    pod = job["spec"]["template"]["spec"]
    [group] = cluster_queue["spec"]["resourceGroups"]
    requests: dict[str, float] = {}
    for c in pod["containers"]:
        resources = c.get("resources", {})
        for name, value in {**resources.get("limits", {}), **resources.get("requests", {})}.items():
            requests[name] = requests.get(name, 0) + quantity(value)
    if not set(requests) <= set(group["coveredResources"]):
        return None
    selector = pod.get("nodeSelector", {})
    for flavor in group["flavors"]:
        labels = flavors[flavor["name"]].get("nodeLabels", {})
        if any(selector.get(k, v) != v for k, v in labels.items()):
            continue
        quota = {r["name"]: quantity(r["nominalQuota"]) for r in flavor["resources"]}
        if all(amount <= quota[name] for name, amount in requests.items()):
            return flavor["name"]
    return None


def jobs_for(args: tuple[str, ...], **profile_changes: Any) -> dict[str, dict]:
    """The Job of one attempt per profile of the render, made by the configured executor."""
    settings, _ = settings_of(args)
    profiles = parse_profiles(settings.profiles) if settings.profiles else list(DEFAULT_PROFILES)
    executor = KubernetesExecutor(config=Config(settings.jobs_config))
    jobs = {}
    for profile in profiles:
        spec = RunSpec(
            run_id="r1", attempt=1, owner="alice", name="train", notebook="{}",
            parameters={"alpha": 0.5}, kernel_name="python3", profile=profile, timeout=600,
        )  # fmt: skip
        uri = f"s3://bucket/runs/r1/1/{profile.name}"
        jobs[profile.name] = make_job(executor.manifest(spec, f"{uri}/in", f"{uri}/out"))
    return jobs


@BOTH
def test_every_profile_s_job_would_be_admitted_by_the_local_queue(args) -> None:
    docs = render(*args)
    local = one(docs, "LocalQueue")
    cluster = one(docs, "ClusterQueue")
    flavors = flavor_specs(docs)
    gpu_flavors = {
        f["name"] for f in cluster["spec"]["resourceGroups"][0]["flavors"]
        for r in f["resources"] if r["name"] == "nvidia.com/gpu" and quantity(r["nominalQuota"])
    }  # fmt: skip
    policy = one(docs, "NetworkPolicy", "labworks")["spec"]["ingress"][0]["from"][-1]
    jobs = jobs_for(args)
    assert jobs
    for name, job in jobs.items():
        meta = job["metadata"]
        assert meta["namespace"] == local["metadata"]["namespace"], name
        assert meta["labels"][QUEUE_LABEL] == local["metadata"]["name"], name
        assert job["spec"]["suspend"] is True  # Kueue unsuspends it on admission
        flavor = admitting_flavor(job, cluster, flavors)
        assert flavor is not None, f"{name}: no flavor of {cluster['metadata']['name']} fits"
        pod = job["spec"]["template"]["spec"]
        gpus = pod["containers"][0]["resources"]["limits"].get("nvidia.com/gpu")
        assert (flavor in gpu_flavors) == bool(gpus), (name, flavor)
        # The job's pod may reach the platform service (SDK, MLflow) through the NetworkPolicy.
        assert policy["namespaceSelector"]["matchLabels"] == {
            "kubernetes.io/metadata.name": meta["namespace"]
        }
        labels = job["spec"]["template"]["metadata"]["labels"]
        assert policy["podSelector"]["matchLabels"].items() <= labels.items()
    if args == GPU_EXTERNAL:  # the H100 profile lands on the H100 flavor, not the A100 one
        assert admitting_flavor(jobs["h100-4"], cluster, flavors) == "h100"
        assert "ephemeral-storage" in limits_of(jobs["cpu-scratch"])


def test_a_job_beyond_every_quota_or_resource_is_not_admitted() -> None:
    """The admission check can fail: more GPUs than any flavor holds, or an uncovered resource."""
    docs = render(*DEFAULT)
    cluster = one(docs, "ClusterQueue")
    flavors = flavor_specs(docs)
    job = jobs_for(DEFAULT)["gpu-1"]
    resources = job["spec"]["template"]["spec"]["containers"][0]["resources"]
    assert admitting_flavor(job, cluster, flavors) == "labworks-gpu"
    resources["limits"]["nvidia.com/gpu"] = resources["requests"]["nvidia.com/gpu"] = "64"
    assert admitting_flavor(job, cluster, flavors) is None
    resources["limits"]["nvidia.com/gpu"] = resources["requests"]["nvidia.com/gpu"] = "1"
    resources["limits"]["example.com/fpga"] = "1"
    assert admitting_flavor(job, cluster, flavors) is None


def test_no_kueue_means_no_queue_label() -> None:
    docs = render("--set", "kueue.enabled=false")
    assert not [d for d in docs if d["metadata"].get("name") and d["kind"] in
                ("LocalQueue", "ClusterQueue", "ResourceFlavor")]  # fmt: skip
    env = {e["name"]: e.get("value") for e in container(docs)["env"]}
    assert json.loads(env["LABWORKS_JOBS_CONFIG"])["KubernetesExecutor"]["queue_name"] == ""
