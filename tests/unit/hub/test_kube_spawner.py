"""KubeWorkspaceSpawner at manifest level: the pod and PVC it would create, with no cluster.

Golden pods live in tests/unit/hub/golden/ (`pod-*`: the spawner's; `make-pod-*`: make_pod on a
fixed base pod); every pod is also checked against the Kubernetes schemas (tests/unit/helm/
schemas.py). Regenerate them with
`LABWORKS_UPDATE_GOLDEN=1 pytest tests/unit/hub/test_kube_spawner.py` and review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import kubespawner.spawner
import pytest
from kubernetes_asyncio.client import ApiClient
from tornado.web import HTTPError
from traitlets import TraitError
from traitlets.config import Config

from labworks_hub.catalog import ImageCatalog
from labworks_hub.placement import Placement
from labworks_hub.profiles import DEFAULT_PROFILES, GiB, Profile
from labworks_hub.service.jobs.executors.kubernetes import KubernetesExecutor
from labworks_hub.spawners.base import WorkspaceSpawnerMixin
from labworks_hub.spawners.kube import ImageNotPinned, KubeWorkspaceSpawner, WorkspacePod, make_pod
from tests.unit.helm.schemas import assert_valid

GOLDEN = Path(__file__).with_name("golden")
IMAGE = "registry.example.org/labworks/labworks-minimal:ci-1234"
DIGEST = "sha256:" + "0123456789abcdef" * 4
SPOT = {"key": "labworks.io/spot", "operator": "Exists", "effect": "NoSchedule"}
GPU = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}


class NoCluster:
    """Stands in for the Kubernetes API client: any use of it fails the test."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"unit tests must not call the Kubernetes API ({name})")


@pytest.fixture(autouse=True)
def no_cluster(monkeypatch):
    monkeypatch.setattr(kubespawner.spawner, "load_config", lambda **kwargs: None)
    monkeypatch.setattr(kubespawner.spawner, "shared_client", lambda *a, **kw: NoCluster())
    monkeypatch.setattr(WorkspaceSpawnerMixin, "_catalog", ImageCatalog())  # none unless set


@pytest.fixture(scope="module")
def images(registry) -> dict[str, str]:
    """Catalog images in the real test registry (tests/registry.py)."""
    return {
        f"lwkube/minimal:{tag}": registry.push("lwkube/minimal", tag, {"io.labworks.gpu": "false"})
        for tag in ("ci-5", "ci-6", "nightly")
    }


@pytest.fixture
def catalog(registry, images, monkeypatch) -> ImageCatalog:
    catalog = ImageCatalog(registry_url=registry.url, repositories=["lwkube/*"])
    monkeypatch.setattr(WorkspaceSpawnerMixin, "_catalog", catalog)
    return catalog


def make_spawner(profile: str | None = None, **traits: Any) -> KubeWorkspaceSpawner:
    """A spawner for alice's default server, as the hub builds it, with the profile applied."""
    user = SimpleNamespace(
        name="alice", id=7, url="/user/alice/", escaped_name="alice", groups=[], server=None
    )
    hub = SimpleNamespace(
        public_host="",
        url="http://hub:8081/hub/",
        base_url="/hub/",
        api_url="http://hub:8081/hub/api",
    )
    traits = {
        "image": IMAGE,
        "image_digest": DIGEST,
        "platform_api_url": "http://labworks:8000/services/labworks/api/v1",
        **traits,
    }
    spawner = KubeWorkspaceSpawner(user=user, hub=hub, **traits)
    spawner.api_token = "secret-token"
    spawner.apply_profile({"profile": profile} if profile else {})
    return spawner


async def pod_of(spawner: KubeWorkspaceSpawner) -> dict:
    pod = await spawner.get_pod_manifest()
    async with ApiClient() as api:
        return api.sanitize_for_serialization(pod)


def container(pod: dict) -> dict:
    [notebook] = pod["spec"]["containers"]
    return notebook


def env_of(pod: dict) -> dict[str, str]:
    return {e["name"]: e.get("value") for e in container(pod)["env"]}


def normalised(pod: dict) -> dict:
    """The pod without what changes between runs or versions: tokens and version stamps."""
    pod = json.loads(json.dumps(pod))
    for e in container(pod)["env"]:
        if "TOKEN" in e["name"]:
            e["value"] = "<token>"
    annotations = pod["metadata"]["annotations"]
    for key in annotations:
        if key.endswith("-version"):
            annotations[key] = "<version>"
    for port in container(pod)["ports"]:
        port["containerPort"] = "<port>"
    return pod


@pytest.mark.parametrize("profile", [p.name for p in DEFAULT_PROFILES])
async def test_pod_matches_golden_manifest(profile):
    pod = await pod_of(make_spawner(profile))
    assert_valid(pod)
    pod = normalised(pod)
    path = GOLDEN / f"pod-{profile}.json"
    if os.environ.get("LABWORKS_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(pod, indent=2, sort_keys=True) + "\n")
    assert pod == json.loads(path.read_text())


async def test_gpu_profile_gets_a_gpu_and_the_gpu_toleration():
    pod = await pod_of(make_spawner("gpu-1"))
    resources = container(pod)["resources"]
    assert resources["limits"]["nvidia.com/gpu"] == "1"
    assert resources["limits"]["cpu"] == "8"
    assert resources["limits"]["memory"] == str(32 * GiB)
    assert GPU in pod["spec"]["tolerations"]
    cpu = await pod_of(make_spawner("cpu-small"))
    assert "nvidia.com/gpu" not in container(cpu)["resources"]["limits"]
    assert not cpu["spec"].get("tolerations")


async def test_guarantees_equal_limits_unless_a_fraction_is_set():
    pod = await pod_of(make_spawner("cpu-small"))
    assert container(pod)["resources"]["requests"] == {"cpu": "2", "memory": str(4 * GiB)}
    half = make_spawner("cpu-small", guarantee_fraction=0.5)
    assert container(await pod_of(half))["resources"]["requests"] == {
        "cpu": "1",
        "memory": str(2 * GiB),
    }
    assert env_of(await pod_of(half))["CPU_GUARANTEE"] == "1.0"
    with pytest.raises(TraitError):
        make_spawner(guarantee_fraction=0)


async def test_tag_only_image_is_refused_before_anything_is_created():
    spawner = make_spawner(image_digest="")
    with pytest.raises(ImageNotPinned, match="not pinned by digest"):
        await spawner.get_pod_manifest()
    with pytest.raises(ImageNotPinned):
        await spawner.load_user_options()  # KubeSpawner's first step of start()
    with pytest.raises(ImageNotPinned, match="no workspace image"):
        await make_spawner(image="").get_pod_manifest()
    allowed = await pod_of(make_spawner(image_digest="", require_digest=False))
    assert container(allowed)["image"] == IMAGE


async def test_image_is_pinned_by_digest():
    pod = await pod_of(make_spawner())
    assert container(pod)["image"] == f"{IMAGE}@{DIGEST}"
    env = env_of(pod)
    assert env["JUPYTER_IMAGE"] == f"{IMAGE}@{DIGEST}"
    assert (env["LABWORKS_IMAGE"], env["LABWORKS_IMAGE_DIGEST"]) == (IMAGE, DIGEST)
    already = f"{IMAGE}@{DIGEST}"
    assert container(await pod_of(make_spawner(image=already, image_digest="")))["image"] == already
    with pytest.raises(TraitError, match="sha256"):
        make_spawner(image_digest="sha256:short")


def test_image_is_configurable_like_kubespawner_s():
    """The mixin's `image` trait shadows KubeSpawner's; ours must still load from config,
    under our class name and under KubeSpawner (as Zero to JupyterHub writes it)."""
    config = Config({"KubeSpawner": {"image": IMAGE, "image_digest": DIGEST}})
    spawner = make_spawner(image="", image_digest="")
    spawner.update_config(config)
    assert spawner.pinned_image() == f"{IMAGE}@{DIGEST}"
    config = Config({"KubeWorkspaceSpawner": {"image": "other:1", "require_digest": False}})
    spawner.update_config(config)
    assert (spawner.image, spawner.require_digest) == ("other:1", False)


async def test_pod_is_hardened():
    pod = await pod_of(make_spawner())
    assert container(pod)["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 1000,
        "runAsGroup": 100,
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert pod["spec"]["securityContext"] == {
        "runAsNonRoot": True,
        "fsGroup": 100,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert pod["spec"]["automountServiceAccountToken"] is False
    mounted = await pod_of(make_spawner(automount_service_account_token=True))
    assert mounted["spec"]["automountServiceAccountToken"] is True


async def test_home_is_a_per_user_pvc_of_the_configured_size():
    spawner = make_spawner()
    pvc = spawner.get_pvc_manifest()
    assert spawner.storage_pvc_ensure is True
    assert pvc.metadata.name == spawner.pvc_name == "claim-alice"
    assert pvc.spec.resources.requests == {"storage": "10Gi"}
    async with ApiClient() as api:
        assert_valid(api.sanitize_for_serialization(pvc))
    assert make_spawner(storage_capacity="50Gi").get_pvc_manifest().spec.resources.requests == {
        "storage": "50Gi"
    }
    pod = await pod_of(spawner)
    assert pod["spec"]["volumes"] == [
        {"name": "home", "persistentVolumeClaim": {"claimName": "claim-alice"}}
    ]
    assert container(pod)["volumeMounts"] == [{"name": "home", "mountPath": "/home/jovyan"}]


async def test_workspace_env_and_idle_shutdown_reach_the_container():
    pod = await pod_of(make_spawner("cpu-large"))
    env = env_of(pod)
    assert env["LABWORKS_PROFILE"] == "cpu-large"
    assert env["LABWORKS_GPU_COUNT"] == "0"
    assert env["LABWORKS_API_URL"] == "http://labworks:8000/services/labworks/api/v1"
    assert env["CPU_LIMIT"] == "8.0"
    args = container(pod)["args"]
    assert args[0] == "jupyterhub-singleuser"
    assert not any("shutdown_no_activity" in a for a in args)  # IdleMonitor stops it


async def test_node_selector_and_tolerations_per_profile_do_not_pile_up():
    spawner = make_spawner(
        "cpu-large",
        node_selector={"labworks.io/pool": "workspaces"},
        profile_node_selectors={"cpu-large": {"node.kubernetes.io/instance-type": "c6i.2xlarge"}},
        profile_tolerations={"cpu-large": [{"key": "big", "operator": "Exists"}]},
        spot_profiles=["cpu-large"],
    )
    pod = await pod_of(spawner)
    assert pod["spec"]["nodeSelector"] == {
        "labworks.io/pool": "workspaces",
        "node.kubernetes.io/instance-type": "c6i.2xlarge",
    }
    assert pod["spec"]["tolerations"] == [{"key": "big", "operator": "Exists"}, SPOT]
    await spawner.apply_user_options(spawner, {"profile": "gpu-1"})
    pod = await pod_of(spawner)
    assert pod["spec"]["nodeSelector"] == {"labworks.io/pool": "workspaces"}
    assert pod["spec"]["tolerations"] == [GPU]
    await spawner.apply_user_options(spawner, {"profile": "cpu-small"})
    pod = await pod_of(spawner)
    assert "nvidia.com/gpu" not in container(pod)["resources"]["limits"]
    assert not pod["spec"].get("tolerations")


SPOT_GPU = {
    "name": "spot-gpu",
    "display_name": "Spot GPU",
    "cpu_limit": 4.0,
    "mem_limit": "16Gi",
    "gpu_count": 2,
    "spot": True,
    "node_selector": {"gpu": "h100"},
    "tolerations": [{"key": "team", "operator": "Equal", "value": "ml"}],
}


async def test_a_profile_s_own_placement_reaches_the_pod():
    """spot, node_selector and tolerations of a Profile (from config) at spawn."""
    spawner = make_spawner(profiles=[SPOT_GPU], node_selector={"labworks.io/pool": "ws"})
    pod = await pod_of(spawner)
    assert pod["spec"]["nodeSelector"] == {"labworks.io/pool": "ws", "gpu": "h100"}
    assert pod["spec"]["tolerations"] == [
        {"key": "team", "operator": "Equal", "value": "ml"},
        GPU,
        SPOT,
    ]
    assert container(pod)["resources"]["limits"]["nvidia.com/gpu"] == "2"
    assert_valid(pod)


async def test_the_placement_configured_once_applies_to_workspaces_and_jobs():
    """c.Placement is the spawner's and the executor's (one Configurable, one rule)."""
    config = Config(
        {
            "Placement": {
                "spot_profiles": ["cpu-large"],
                "profile_node_selectors": {"cpu-large": {"pool": "big"}},
                "profile_tolerations": {"cpu-large": [{"key": "big", "operator": "Exists"}]},
            }
        }
    )
    spawner = make_spawner()
    spawner.update_config(config)
    spawner.apply_profile({"profile": "cpu-large"})
    pod = (await pod_of(spawner))["spec"]
    executor = KubernetesExecutor(config=config, api_class=object)
    [cpu_large] = [p for p in DEFAULT_PROFILES if p.name == "cpu-large"]
    assert executor.place(cpu_large) == spawner.place(cpu_large)
    assert pod["nodeSelector"] == {"pool": "big"}
    assert pod["tolerations"] == [{"key": "big", "operator": "Exists"}, SPOT]


def test_configured_tolerations_are_checked_as_a_profile_s():
    with pytest.raises(TraitError, match=r"profile_tolerations\['cpu-large'\].*'operater'"):
        make_spawner(profile_tolerations={"cpu-large": [{"key": "big", "operater": "Exists"}]})
    with pytest.raises(TraitError, match=r"spot_toleration.*effect must be one of"):
        make_spawner(spot_toleration={"key": "spot", "effect": "Never"})
    assert make_spawner("gpu-1", gpu_toleration={}).place(DEFAULT_PROFILES[2]).tolerations == ()


BASE_POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "jupyter-alice", "labels": {"hub.jupyter.org/username": "alice"}},
    "spec": {
        "containers": [
            {
                "name": "notebook",
                "image": "unpinned:latest",
                "args": ["jupyterhub-singleuser"],
                "resources": {"limits": {"example.com/fpga": "1"}, "requests": {}},
            }
        ],
        "nodeSelector": {"labworks.io/pool": "workspaces"},
        "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "user"}],
    },
}
MAKE_POD_PROFILES = [*DEFAULT_PROFILES, Profile.from_dict(SPOT_GPU)]


@pytest.mark.parametrize("profile", MAKE_POD_PROFILES, ids=lambda p: p.name)
def test_make_pod_matches_golden_manifest(profile):
    """make_pod on a fixed base pod (KubeSpawner's part), per profile; valid Kubernetes."""
    spec = WorkspacePod(
        image=f"{IMAGE}@{DIGEST}",
        resources=Placement(guarantee_fraction=0.5).resources(profile),
        placement=Placement().place(profile),
    )
    base = json.loads(json.dumps(BASE_POD))
    pod = make_pod(base, spec)
    assert base == BASE_POD  # pure
    assert_valid(pod)
    path = GOLDEN / f"make-pod-{profile.name}.json"
    if os.environ.get("LABWORKS_UPDATE_GOLDEN") == "1":
        path.write_text(json.dumps(pod, indent=2, sort_keys=True) + "\n")
    assert pod == json.loads(path.read_text())


async def test_profiles_and_form_are_labworks_not_kubespawner_profile_list():
    spawner = make_spawner()
    assert 'value="cpu-small" checked' in await spawner.render_options_form()
    assert spawner.options_form.__name__ == "render_options_form"
    with pytest.raises(HTTPError) as info:
        await spawner.apply_user_options(spawner, {"profile": "nope"})
    assert info.value.status_code == 400
    fresh = make_spawner()
    del fresh._profile
    fresh.user_options = {"profile": "cpu-large"}
    await fresh.load_user_options()  # applies the profile when the hub has not
    assert fresh.profile.name == "cpu-large"
    assert fresh.cpu_guarantee == 8.0


async def test_a_catalog_image_runs_pinned_by_the_digest_read_at_spawn(registry, catalog, images):
    spawner = make_spawner("cpu-small")
    await spawner.apply_user_options(spawner, {"image": "lwkube/minimal:ci-5"})
    digest, ref = images["lwkube/minimal:ci-5"], f"{registry.host}/lwkube/minimal:ci-5"
    pod = await pod_of(spawner)
    assert container(pod)["image"] == f"{ref}@{digest}"
    env = env_of(pod)
    assert (env["LABWORKS_IMAGE"], env["LABWORKS_IMAGE_DIGEST"]) == (ref, digest)
    assert (env["LABWORKS_RECORDED_IMAGE"], env["LABWORKS_RECORDED_IMAGE_DIGEST"]) == (ref, digest)
    assert env["JUPYTER_IMAGE"] == f"{ref}@{digest}"
    # A hub restart restores what the pod runs from the spawner state.
    restarted = make_spawner("cpu-small")
    restarted.load_state(spawner.get_state())
    assert restarted.pinned_image() == f"{ref}@{digest}"
    # No image option: the configured image again.
    await spawner.apply_user_options(spawner, {})
    assert container(await pod_of(spawner))["image"] == f"{IMAGE}@{DIGEST}"


async def test_without_a_configured_image_the_newest_catalog_image_runs(catalog, images):
    spawner = make_spawner(image="", image_digest="")
    assert 'name="image" value="lwkube/minimal:ci-6"' in await spawner.render_options_form()
    await spawner.apply_user_options(spawner, {})
    assert spawner.pinned_image().endswith(f"/lwkube/minimal:ci-6@{images['lwkube/minimal:ci-6']}")


async def test_an_image_tag_that_is_not_a_ci_build_id_is_refused(catalog, images):
    spawner = make_spawner()
    with pytest.raises(HTTPError) as info:
        await spawner.apply_user_options(spawner, {"image": "lwkube/minimal:nightly"})
    assert info.value.status_code == 400
    assert "tag 'nightly' of lwkube/minimal is not a CI build id" in info.value.log_message
    fresh = make_spawner()
    del fresh._profile
    fresh.user_options = {"image": "lwkube/minimal:nightly"}
    with pytest.raises(HTTPError):
        await fresh.load_user_options()  # KubeSpawner's start() refuses it before any object
    assert fresh.pinned_image() == f"{IMAGE}@{DIGEST}"


async def test_disk_and_gpu_model_of_a_profile_reach_the_pod():
    profile = {
        "name": "h100",
        "display_name": "H100",
        "cpu_limit": 8.0,
        "mem_limit": 32 * GiB,
        "disk_limit": "100Gi",
        "gpu_count": 1,
        "gpu_model": "NVIDIA H100 80GB HBM3",
    }
    spawner = make_spawner(profiles=[profile], guarantee_fraction=0.5)
    pod = await pod_of(spawner)
    resources = container(pod)["resources"]
    assert resources["limits"]["ephemeral-storage"] == str(100 * GiB)
    assert resources["requests"]["ephemeral-storage"] == str(50 * GiB)
    assert pod["spec"]["nodeSelector"] == {"nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3"}
    plain = await pod_of(make_spawner(profiles=[profile], gpu_model_label=""))
    assert not plain["spec"].get("nodeSelector")
