"""KubeWorkspaceSpawner: the production backend, one hardened pod and one home PVC per workspace.

It keeps the jupyterhub Spawner contract (start, stop, poll, get_state, load_state) by leaving
all of them to KubeSpawner; only the manifest inputs are Labworks' own:

- `apply_user_options` (WorkspaceSpawnerMixin.apply_workspace_options, awaited by the hub
  before `start()`) picks the profile (its limits and guarantees go to the hub's variables) and
  turns the chosen catalog image into `image` + `image_digest` (its tag resolved to a digest now);
- `load_user_options` (the first step of KubeSpawner's `start()`) refuses an image that is not
  pinned by digest before anything is created in the cluster; KubeSpawner's own `profile_list`
  is not used;
- `get_pod_manifest` is KubeSpawner's pod made the workspace's by the pure `make_pod`: the image
  pinned to `<image>@<digest>`, the profile's resources (`nvidia.com/gpu`, ephemeral storage),
  node selector and tolerations (`Placement`, shared with the job executor);
- `get_env` carries the workspace facts (docs/reference/workspace-contract.md).
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from kubernetes_asyncio.client import ApiClient, V1Pod
from kubespawner import KubeSpawner
from traitlets import Bool, TraitError, Unicode, default, validate

from ..catalog import ImageInfo
from ..placement import Placement, PodPlacement
from ..profiles import Profile
from .base import WorkspaceSpawnerMixin

HOME = "/home/jovyan"
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


class ImageNotPinned(RuntimeError):
    """The workspace image has no digest and `require_digest` is set."""


class KubeWorkspaceSpawner(WorkspaceSpawnerMixin, Placement, KubeSpawner):
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

    @validate("image_digest")
    def _validate_image_digest(self, proposal: Any) -> str:
        if proposal.value and not _DIGEST.match(proposal.value):
            raise TraitError(f"image_digest must be sha256:<64 hex digits>, not {proposal.value!r}")
        return str(proposal.value)

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
        """Also set the guarantees (the hub's CPU_GUARANTEE and MEM_GUARANTEE variables)."""
        profile = super().apply_profile(user_options)
        fraction = self.guarantee_fraction
        self.cpu_guarantee = profile.cpu_limit * fraction if profile.cpu_limit else None
        self.mem_guarantee = int(profile.mem_limit * fraction) if profile.mem_limit else None
        return profile

    def workspace_pod(self) -> WorkspacePod:
        """What make_pod sets on KubeSpawner's pod for the applied profile and image."""
        profile = self.profile
        return WorkspacePod(
            image=self.pinned_image(),
            resources=self.resources(profile),
            placement=self.place(profile),
        )

    def _configured(self, name: str) -> Any:
        """A trait's configured value, before any catalog image was applied to this spawner."""
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

    async def get_pod_manifest(self) -> V1Pod:
        """KubeSpawner's pod (its env, args, labels and the operator's KubeSpawner config) made
        into the workspace's by make_pod."""
        pod = await super().get_pod_manifest()
        async with ApiClient() as api:
            manifest = make_pod(api.sanitize_for_serialization(pod), self.workspace_pod())
            return api.deserialize(SimpleNamespace(data=json.dumps(manifest)), "V1Pod")


@dataclass(frozen=True)
class WorkspacePod:
    """Labworks' part of a workspace pod: the pinned image and the profile's resources and
    placement (Placement.resources and Placement.place)."""

    image: str
    resources: dict[str, dict[str, str]]
    placement: PodPlacement


def make_pod(base: dict[str, Any], spec: WorkspacePod) -> dict[str, Any]:
    """The v1 Pod of a workspace (pure: a new dict): `base` with the notebook container's
    image pinned and the profile's resources added to its own, and the profile's node
    selector and tolerations added to the pod's."""
    pod = copy.deepcopy(base)
    pod_spec = pod["spec"]
    [notebook] = [c for c in pod_spec["containers"] if c["name"] == "notebook"]
    notebook["image"] = spec.image
    resources = notebook.setdefault("resources", {})
    for kind in ("limits", "requests"):
        resources[kind] = {**resources.get(kind, {}), **spec.resources[kind]}
    selector = {**pod_spec.get("nodeSelector", {}), **spec.placement.node_selector}
    if selector:
        pod_spec["nodeSelector"] = selector
    tolerations = [*pod_spec.get("tolerations", []), *spec.placement.tolerations]
    if tolerations:
        pod_spec["tolerations"] = [dict(t) for t in tolerations]
    return pod
