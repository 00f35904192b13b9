"""KubeWorkspaceSpawner: the production backend, one hardened pod and one home PVC per workspace.

It keeps the jupyterhub Spawner contract (start, stop, poll, get_state, load_state) by leaving
all of them to KubeSpawner; only the manifest inputs are Labworks' own:

- `apply_user_options` (WorkspaceSpawnerMixin.apply_workspace_options, awaited by the hub
  before `start()`) turns the chosen profile into limits, guarantees, `nvidia.com/gpu`,
  ephemeral storage, node selector and tolerations on the spawner's KubeSpawner traits, and
  the chosen catalog image into `image` + `image_digest` (its tag resolved to a digest now);
- `load_user_options` (the first step of KubeSpawner's `start()`) refuses an image that is not
  pinned by digest before anything is created in the cluster; KubeSpawner's own `profile_list`
  is not used;
- `get_pod_manifest` is KubeSpawner's, with the container image pinned to `<image>@<digest>`;
- `get_env` carries the workspace facts (docs/reference/workspace-contract.md).
"""

from __future__ import annotations

import re
from typing import Any

from kubespawner import KubeSpawner
from traitlets import Bool, Dict, Float, List, TraitError, Unicode, default, validate

from ..catalog import ImageInfo
from ..profiles import Profile
from .base import WorkspaceSpawnerMixin

HOME = "/home/jovyan"
GPU_RESOURCE = "nvidia.com/gpu"
DISK_RESOURCE = "ephemeral-storage"
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


class ImageNotPinned(RuntimeError):
    """The workspace image has no digest and `require_digest` is set."""


class KubeWorkspaceSpawner(WorkspaceSpawnerMixin, KubeSpawner):
    """Each workspace is a pod built from its profile, with its home on a per-user PVC."""

    runs_images = True

    image = Unicode(
        "", help="Workspace image reference (registry/name:tag); pinned with `image_digest`."
    ).tag(config=True)
    image_digest = Unicode(
        "", help="Digest (sha256:<64 hex>) the image is pinned to; the pod runs <image>@<digest>."
    ).tag(config=True)
    require_digest = Bool(
        True, help="Refuse to start a workspace whose image is not pinned by digest."
    ).tag(config=True)
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
        help="Toleration added to profiles with GPUs (the usual taint on GPU nodes).",
    ).tag(config=True)
    gpu_model_label = Unicode(
        "nvidia.com/gpu.product",
        help="Node label a profile's gpu_model is matched against (GPU feature discovery's);"
        " the value is the model with spaces as dashes. Empty: gpu_model is not used here.",
    ).tag(config=True)

    @validate("image_digest")
    def _validate_image_digest(self, proposal: Any) -> str:
        if proposal.value and not _DIGEST.match(proposal.value):
            raise TraitError(f"image_digest must be sha256:<64 hex digits>, not {proposal.value!r}")
        return str(proposal.value)

    @validate("guarantee_fraction")
    def _validate_guarantee_fraction(self, proposal: Any) -> float:
        if not 0 < proposal.value <= 1:
            raise TraitError("guarantee_fraction must be in (0, 1]")
        return float(proposal.value)

    # Hardened defaults of KubeSpawner's own traits (the images run as jovyan, uid 1000).
    @default("uid")
    def _default_uid(self) -> int:
        return 1000

    @default("gid")
    def _default_gid(self) -> int:
        return 100  # jovyan's group in the Labworks images (docs/admin/images.md)

    @default("fs_gid")
    def _default_fs_gid(self) -> int:
        return 100

    @default("container_security_context")
    def _default_container_security_context(self) -> dict:
        return {
            "runAsNonRoot": True,
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        }

    @default("pod_security_context")
    def _default_pod_security_context(self) -> dict:
        return {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}

    @default("automount_service_account_token")
    def _default_automount_service_account_token(self) -> bool:
        return False

    @default("storage_pvc_ensure")
    def _default_storage_pvc_ensure(self) -> bool:
        return True

    @default("storage_capacity")
    def _default_storage_capacity(self) -> str:
        return "10Gi"

    @default("volumes")
    def _default_volumes(self) -> dict:
        return {"home": {"name": "home", "persistentVolumeClaim": {"claimName": "{pvc_name}"}}}

    @default("volume_mounts")
    def _default_volume_mounts(self) -> dict:
        return {"home": {"name": "home", "mountPath": HOME}}

    @default("cmd")
    def _default_cmd(self) -> list[str]:
        return ["jupyterhub-singleuser"]  # set, so that get_args() (idle shutdown) reaches it

    @default("default_url")
    def _default_default_url(self) -> str:
        return "/lab"

    def pinned_image(self) -> str:
        """The image the pod runs: `<image>@<digest>`; ImageNotPinned for a tag-only image."""
        if not self.image:
            raise ImageNotPinned("no workspace image is configured (c.KubeWorkspaceSpawner.image)")
        if "@" in self.image:
            return self.image
        if self.image_digest:
            return f"{self.image}@{self.image_digest}"
        if self.require_digest:
            raise ImageNotPinned(
                f"image {self.image!r} is not pinned by digest: set"
                " c.KubeWorkspaceSpawner.image_digest (or require_digest = False)"
            )
        self.log.warning("Workspace image %s is not pinned by digest", self.image)
        return self.image

    def configured_image(self) -> str:
        return str(self._configured("image"))

    def use_image(self, image: ImageInfo | None) -> None:
        """Run the catalog image, pinned by the digest it was resolved to; without one, the
        configured `image` and `image_digest` again."""
        super().use_image(image)
        configured = (self._configured("image"), self._configured("image_digest"))
        if image is None:
            self.image, self.image_digest = configured
        else:
            self.image = self.image_catalog().pull_reference(image)
            self.image_digest = image.digest

    def apply_profile(self, user_options: dict) -> Profile:
        """Also turn the profile into requests, GPUs, node selector and tolerations."""
        profile = super().apply_profile(user_options)
        self._apply_profile_to_pod(profile)
        return profile

    def _apply_profile_to_pod(self, profile: Profile) -> None:
        fraction = self.guarantee_fraction
        self.cpu_guarantee = profile.cpu_limit * fraction if profile.cpu_limit else None
        self.mem_guarantee = int(profile.mem_limit * fraction) if profile.mem_limit else None
        limits = dict(self._configured("extra_resource_limits"))
        guarantees = dict(self._configured("extra_resource_guarantees"))
        if profile.gpu_count > 0:
            limits[GPU_RESOURCE] = str(profile.gpu_count)
        disk = getattr(profile, "disk_limit", None)
        if disk:
            limits[DISK_RESOURCE] = str(disk)
            guarantees[DISK_RESOURCE] = str(int(disk * fraction))
        self.extra_resource_limits = limits
        self.extra_resource_guarantees = guarantees
        selector = {**self._configured("node_selector")}
        model = getattr(profile, "gpu_model", "")
        if profile.gpu_count > 0 and model and self.gpu_model_label:
            selector[self.gpu_model_label] = "-".join(model.split())
        self.node_selector = {
            **selector,
            **profile_node_selector(profile, self.profile_node_selectors),
        }
        tolerations = list(self._sorted_dict_values(self._configured("tolerations")))
        tolerations += getattr(profile, "tolerations", None) or ()
        tolerations += self.profile_tolerations.get(profile.name, [])
        if profile.gpu_count > 0 and self.gpu_toleration:
            tolerations.append(self.gpu_toleration)
        if (getattr(profile, "spot", False) or profile.name in self.spot_profiles) and (
            self.spot_toleration
        ):
            tolerations.append(self.spot_toleration)
        self.tolerations = [dict(t) for t in tolerations]

    def _configured(self, name: str) -> Any:
        """A trait's configured value, before any profile was applied to this spawner."""
        saved = self.__dict__.setdefault("_configured_traits", {})
        if name not in saved:
            saved[name] = getattr(self, name)
        return saved[name]

    async def load_user_options(self) -> None:
        """KubeSpawner's first step of start(): apply profile and image if the hub has not
        (profiles are ours, not KubeSpawner's `profile_list`), then refuse an unpinned image
        before anything is created."""
        if getattr(self, "_profile", None) is None:
            await self.apply_workspace_options(self.user_options or {})
        self.pinned_image()

    def get_env(self) -> dict[str, str]:
        env = super().get_env()
        if self.image:
            env["JUPYTER_IMAGE"] = env["JUPYTER_IMAGE_SPEC"] = self.pinned_image()
        return env

    async def get_pod_manifest(self) -> Any:
        """KubeSpawner's pod (a kubernetes_asyncio V1Pod), its image pinned by digest."""
        image = self.pinned_image()
        pod = await super().get_pod_manifest()
        pod.spec.containers[0].image = image
        return pod


def profile_node_selector(profile: Profile, per_profile: dict[str, dict]) -> dict[str, str]:
    """The profile's own node selector (if the Profile has one) updated by the per-profile trait."""
    selector = dict(getattr(profile, "node_selector", None) or {})
    selector.update(per_profile.get(profile.name, {}))
    return selector
