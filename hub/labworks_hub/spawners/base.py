"""What every Labworks spawner adds to its JupyterHub base class: a profile per workspace and
the environment the server extension reads (docs/reference/workspace-contract.md)."""

from __future__ import annotations

from typing import Any

from tornado.web import HTTPError
from traitlets import Integer, List, TraitError, Unicode, default, validate
from traitlets.config import LoggingConfigurable

from ..profiles import DEFAULT_PROFILES, Profile, ProfileError, choose_profile


class WorkspaceSpawnerMixin(LoggingConfigurable):
    """Mix into a jupyterhub Spawner (before it in the bases).

    Subclasses keep the Spawner contract (start, stop, poll, get_state, load_state). The hub
    calls `apply_user_options` before `start()`: it picks the profile (a bad choice is a 400 for
    the caller) and sets the limits; `get_env()` then carries the workspace facts.
    """

    user: Any  # provided by the jupyterhub Spawner this class is mixed into

    profiles: List[dict] = List(
        help="Workspace profiles as dicts (labworks_hub.profiles.Profile); the first is default.",
    ).tag(config=True)

    platform_api_url = Unicode(
        "", help="Platform service API root that workspace servers forward to."
    ).tag(config=True)

    cull_idle_timeout = Integer(
        3600, help="Seconds of inactivity after which the idle culler stops a workspace; 0 = never."
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
    def profile_list(self) -> list[Profile]:
        return [Profile.from_dict(p) for p in self.profiles]

    def user_groups(self) -> set[str]:
        return {g.name for g in self.user.groups}

    @default("apply_user_options")
    def _default_apply_user_options(self):
        return type(self).apply_profile

    def apply_profile(self, user_options: dict) -> Profile:
        """Pick the profile named in user_options and set the limits; 400 if not allowed."""
        unknown = set(user_options) - {"profile"}
        if unknown:
            raise HTTPError(400, f"unknown workspace options: {', '.join(sorted(unknown))}")
        try:
            profile = choose_profile(
                self.profile_list, user_options.get("profile"), self.user_groups()
            )
        except ProfileError as e:
            raise HTTPError(400, str(e)) from None
        self.cpu_limit = profile.cpu_limit
        self.mem_limit = profile.mem_limit
        self.profile = profile
        return profile

    def workspace_env(self) -> dict[str, str]:
        profile: Profile = getattr(self, "profile", None) or self.profile_list[0]
        return {
            "LABWORKS_PROFILE": profile.name,
            "LABWORKS_PROFILE_DISPLAY_NAME": profile.display_name,
            "LABWORKS_GPU_COUNT": str(profile.gpu_count),
            "LABWORKS_IMAGE": self.image,
            "LABWORKS_IMAGE_DIGEST": self.image_digest,
            "LABWORKS_CULL_IDLE_TIMEOUT": str(self.cull_idle_timeout),
            "LABWORKS_API_URL": self.platform_api_url,
        }

    def get_env(self):
        env = super().get_env()
        env.update(self.workspace_env())
        return env
