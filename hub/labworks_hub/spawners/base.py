"""What every Labworks spawner adds to its JupyterHub base class: a profile per workspace, the
spawn form, per-server idle shutdown and the environment the server extension reads
(docs/reference/workspace-contract.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from tornado.web import HTTPError
from traitlets import List, TraitError, Unicode, default, validate
from traitlets.config import LoggingConfigurable

from ..profiles import (
    DEFAULT_PROFILES,
    GPUStatus,
    Profile,
    ProfileError,
    choose_profile,
    unavailable_reason,
)

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("templates")),
    autoescape=select_autoescape(default=True),
)


class WorkspaceSpawnerMixin(LoggingConfigurable):
    """Mix into a jupyterhub Spawner (before it in the bases).

    Subclasses keep the Spawner contract (start, stop, poll, get_state, load_state). The hub
    calls `apply_user_options` before `start()`: it picks the profile (a bad choice is a 400 for
    the caller) and sets the limits; `get_env()` and `get_args()` then carry the workspace
    facts and the profile's idle shutdown. Backends that hand out GPUs themselves override
    `gpu_status()`.
    """

    user: Any  # provided by the jupyterhub Spawner this class is mixed into

    profiles: List[dict] = List(
        help="Workspace profiles as dicts (labworks_hub.profiles.Profile); the first is default.",
    ).tag(config=True)

    platform_api_url = Unicode(
        "", help="Platform service API root that workspace servers forward to."
    ).tag(config=True)

    image = Unicode("", help="Image reference of the workspace; empty for the local environment.")
    image_digest = Unicode("", help="Digest (sha256:...) the image is pinned to.")

    @default("profiles")
    def _default_profiles(self):
        return [p.to_dict() for p in DEFAULT_PROFILES]

    @validate("profiles")
    def _validate_profiles(self, proposal):
        try:
            parsed = [Profile.from_dict(p) for p in proposal.value]
        except (ProfileError, TypeError) as e:
            raise TraitError(f"invalid workspace profiles: {e}") from None
        names = [p.name for p in parsed]
        if len(set(names)) != len(names):
            raise TraitError(f"invalid workspace profiles: duplicate names in {names}")
        return proposal.value

    @property
    def parsed_profiles(self) -> list[Profile]:
        return [Profile.from_dict(p) for p in self.profiles]

    @property
    def profile(self) -> Profile:
        """The profile applied to this server (the default one before any is applied)."""
        return getattr(self, "_profile", None) or self.parsed_profiles[0]

    def user_groups(self) -> set[str]:
        return {g.name for g in self.user.groups}

    def gpu_status(self) -> GPUStatus | None:
        """Free GPUs this backend can give out; None when a scheduler decides (Kubernetes)."""
        return None

    @default("options_form")
    def _default_options_form(self):
        return type(self).render_options_form

    def render_options_form(self) -> str:
        """The spawn page: a card per profile, unavailable ones greyed out with the reason."""
        groups, gpus = self.user_groups(), self.gpu_status()
        cards: list[dict] = []
        checked = False
        for profile in self.parsed_profiles:
            reason = unavailable_reason(profile, groups, gpus)
            card = {
                "profile": profile,
                "reason": reason,
                "checked": reason is None and not checked,
                "cpu": f"{profile.cpu_limit:g} cores" if profile.cpu_limit else "unlimited",
                "memory": f"{profile.mem_limit / 1024**3:g} GiB"
                if profile.mem_limit
                else "unlimited",
                "idle": _duration(profile.idle_cull_timeout),
            }
            checked = checked or reason is None
            cards.append(card)
        return _templates.get_template("profile_form.html").render(cards=cards)

    def options_from_form(self, formdata: dict) -> dict:
        return {"profile": formdata.get("profile", [None])[0]} if "profile" in formdata else {}

    @default("apply_user_options")
    def _default_apply_user_options(self):
        return type(self).apply_profile

    def apply_profile(self, user_options: dict) -> Profile:
        """Pick the profile named in user_options and set the limits; 400 if not allowed."""
        unknown = set(user_options) - {"profile"}
        if unknown:
            raise HTTPError(400, f"unknown workspace options: {', '.join(sorted(unknown))}")
        name = user_options.get("profile")
        if name is not None and not isinstance(name, str):
            raise HTTPError(400, "the profile option must be a profile name (a string)")
        try:
            profile = choose_profile(
                self.parsed_profiles, name, self.user_groups(), self.gpu_status()
            )
        except ProfileError as e:
            raise HTTPError(400, str(e)) from None
        self.cpu_limit = profile.cpu_limit
        self.mem_limit = profile.mem_limit
        self._profile = profile
        return profile

    def workspace_env(self) -> dict[str, str]:
        profile = self.profile
        return {
            "LABWORKS_PROFILE": profile.name,
            "LABWORKS_PROFILE_DISPLAY_NAME": profile.display_name,
            "LABWORKS_GPU_COUNT": str(profile.gpu_count),
            "LABWORKS_IMAGE": self.image,
            "LABWORKS_IMAGE_DIGEST": self.image_digest,
            "LABWORKS_CULL_IDLE_TIMEOUT": str(profile.idle_cull_timeout),
            "LABWORKS_API_URL": self.platform_api_url,
        }

    def idle_shutdown_args(self) -> list[str]:
        """The server stops itself after the profile's idle time. Idle kernels are culled first;
        a kernel that is executing is never culled and keeps the server up."""
        timeout = self.profile.idle_cull_timeout
        if timeout <= 0:
            return []
        return [
            f"--ServerApp.shutdown_no_activity_timeout={timeout}",
            f"--MappingKernelManager.cull_idle_timeout={timeout}",
            f"--MappingKernelManager.cull_interval={max(1, min(300, timeout // 2))}",
            "--MappingKernelManager.cull_busy=False",
            "--MappingKernelManager.cull_connected=True",
        ]

    def get_env(self):
        env = super().get_env()
        env.update(self.workspace_env())
        return env

    def get_args(self):
        return [*super().get_args(), *self.idle_shutdown_args()]


def _duration(seconds: int) -> str:
    if seconds <= 0:
        return "never"
    if seconds % 3600 == 0:
        return f"after {seconds // 3600} h"
    return f"after {seconds // 60} min" if seconds % 60 == 0 else f"after {seconds} s"
