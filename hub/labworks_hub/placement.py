"""Where a profile's pods run on Kubernetes and what they ask for: one Configurable, `Placement`,
shared by the workspace spawner (spawners/kube.py) and the job executor
(service/jobs/executors/kubernetes.py), so both place a profile the same way. Its traits are
set under either class (`c.KubeWorkspaceSpawner.spot_profiles`, `c.KubernetesExecutor....`) or
for both at once (`c.Placement.spot_profiles`). The hardening every Labworks pod shares (its
security contexts) and label values are here too, for the same pods."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from traitlets import Dict, Float, List, TraitError, Unicode, validate
from traitlets.config import Configurable

from .profiles import Profile, ProfileError, parse_tolerations

GPU_RESOURCE = "nvidia.com/gpu"
DISK_RESOURCE = "ephemeral-storage"


@dataclass(frozen=True)
class PodPlacement:
    """A profile's node selector and tolerations, added to those a pod already has."""

    node_selector: dict[str, str]
    tolerations: tuple[dict, ...]


def resource_quantities(
    cpu: float | None, memory: int | None, disk: int | None, gpus: int, fraction: float
) -> dict[str, dict[str, str]]:
    """A container's `resources` (limits and requests, as quantity strings): the requests are
    `fraction` of the limits, GPUs are requested whole."""
    limits: dict[str, str] = {}
    requests: dict[str, str] = {}
    if cpu:
        limits["cpu"] = f"{cpu:g}"
        requests["cpu"] = f"{cpu * fraction:g}"
    if memory:
        limits["memory"] = str(memory)
        requests["memory"] = str(int(memory * fraction))
    if disk:
        limits[DISK_RESOURCE] = str(disk)
        requests[DISK_RESOURCE] = str(int(disk * fraction))
    if gpus:
        limits[GPU_RESOURCE] = requests[GPU_RESOURCE] = str(gpus)
    return {"limits": limits, "requests": requests}


def label_value(text: str) -> str:
    """`text` as a valid label value (63 characters of [A-Za-z0-9._-], alphanumeric ends)."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "-", text)[:63]
    return cleaned.strip("-_.") or "x"


def container_security_context() -> dict[str, Any]:
    """A Labworks container's securityContext: non-root, no privilege escalation, a read-only
    root filesystem, no capabilities, the runtime's default seccomp profile."""
    return {
        "runAsNonRoot": True,
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def pod_security_context(uid: int, gid: int, fs_gid: int) -> dict[str, Any]:
    """A Labworks pod's securityContext: runs as `uid`:`gid` (never root), volumes owned by
    `fs_gid`, the runtime's default seccomp profile."""
    return {
        "runAsNonRoot": True,
        "runAsUser": uid,
        "runAsGroup": gid,
        "fsGroup": fs_gid,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def _checked(tolerations: Any, what: str) -> tuple[dict, ...]:
    """Tolerations as a profile's are checked; TraitError says what is wrong."""
    try:
        return parse_tolerations(tolerations, what)
    except ProfileError as e:
        raise TraitError(str(e)) from None


class Placement(Configurable):
    """A profile's requests, node selector and tolerations on Kubernetes."""

    guarantee_fraction = Float(
        1.0, help="Requests as a fraction of the profile's limits (1.0: guaranteed QoS)."
    ).tag(config=True)
    profile_node_selectors = Dict(
        value_trait=Dict(), help="Node selector per profile name, added to the pod's."
    ).tag(config=True)
    profile_tolerations = Dict(
        value_trait=List(Dict()), help="Extra tolerations per profile name."
    ).tag(config=True)
    spot_profiles = List(
        Unicode(), help="Profiles that may run on spot/preemptible nodes (get spot_toleration)."
    ).tag(config=True)
    spot_toleration = Dict(
        {"key": "labworks.io/spot", "operator": "Exists", "effect": "NoSchedule"},
        help="Toleration of the taint on spot/preemptible nodes (the provider's or your own).",
    ).tag(config=True)
    gpu_toleration = Dict(
        {"key": GPU_RESOURCE, "operator": "Exists", "effect": "NoSchedule"},
        help="Toleration added to profiles with GPUs (the usual taint on GPU nodes); {}: none.",
    ).tag(config=True)
    gpu_model_label = Unicode(
        "nvidia.com/gpu.product",
        help="Node label a profile's gpu_model is matched against (GPU feature discovery's);"
        " the value is the model with spaces as dashes. Empty: gpu_model is not used here.",
    ).tag(config=True)

    @validate("guarantee_fraction")
    def _validate_guarantee_fraction(self, proposal: Any) -> float:
        if not 0 < proposal.value <= 1:
            raise TraitError("guarantee_fraction must be in (0, 1]")
        return float(proposal.value)

    @validate("profile_tolerations")
    def _validate_profile_tolerations(self, proposal: Any) -> dict[str, list[dict]]:
        return {
            name: list(_checked(tolerations, f"profile_tolerations[{name!r}]"))
            for name, tolerations in proposal.value.items()
        }

    @validate("spot_toleration", "gpu_toleration")
    def _validate_toleration(self, proposal: Any) -> dict:
        toleration = proposal.value
        if toleration:
            _checked([toleration], proposal.trait.name)
        return dict(toleration)

    def resources(self, profile: Profile) -> dict[str, dict[str, str]]:
        """The container `resources` of a pod of `profile`."""
        return resource_quantities(
            profile.cpu_limit,
            profile.mem_limit,
            profile.disk_limit,
            profile.gpu_count,
            self.guarantee_fraction,
        )

    def place(self, profile: Profile) -> PodPlacement:
        """Node selector: the GPU model's label, the profile's `node_selector`, then its entry
        in `profile_node_selectors`. Tolerations: the profile's, its entry in
        `profile_tolerations`, then the GPU and spot tolerations where they apply."""
        selector: dict[str, str] = {}
        if profile.gpu_count and profile.gpu_model and self.gpu_model_label:
            selector[self.gpu_model_label] = "-".join(profile.gpu_model.split())
        selector.update(profile.node_selector)
        selector.update(self.profile_node_selectors.get(profile.name, {}))
        tolerations = [*profile.tolerations, *self.profile_tolerations.get(profile.name, [])]
        if profile.gpu_count:
            tolerations.append(self.gpu_toleration)
        if profile.spot or profile.name in self.spot_profiles:
            tolerations.append(self.spot_toleration)
        return PodPlacement(selector, tuple(dict(t) for t in tolerations if t))
