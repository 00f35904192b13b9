"""What every Labworks spawner adds to its JupyterHub base class: a profile per workspace, an
image from the catalog, the spawn form, per-server idle shutdown and the environment the server
extension reads (docs/reference/workspace-contract.md)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, ClassVar

from jinja2 import Environment, FileSystemLoader, select_autoescape
from tornado.web import HTTPError
from traitlets import Integer, List, TraitError, Unicode, default, validate
from traitlets.config import LoggingConfigurable

from ..catalog import (
    CatalogError,
    ImageCatalog,
    ImageInfo,
    RegistryUnavailable,
    local_environment,
    owner_of,
)
from ..prices import CostPrices
from ..profiles import (
    DEFAULT_PROFILES,
    GPUStatus,
    Profile,
    ProfileError,
    choose_profile,
    image_allowed,
    image_refusal,
    parse_profiles,
    read_profiles_file,
    unavailable_reason,
)
from ..public_url import HUB_PUBLIC_URL_ENV, PUBLIC_URL_ENV, from_environment
from ..service.tracking.env import tracking_env
from .budget import budget_refusal

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("templates")),
    autoescape=select_autoescape(default=True),
)
OPTIONS = ("profile", "image")


class WorkspaceSpawnerMixin(LoggingConfigurable):
    """Mix into a jupyterhub Spawner (before it in the bases).

    Subclasses keep the Spawner contract (start, stop, poll, get_state, load_state). The hub
    awaits `apply_user_options` (`apply_workspace_options`) before `start()`: it checks the
    profile and the image (a bad choice is a 400 for the caller, before anything is taken),
    resolves the image's tag to its digest, then applies the profile (`apply_profile`, which
    backends extend) and the image (`use_image`). `get_env()` and `get_args()` then carry the
    workspace facts and the profile's idle shutdown. Backends that hand out GPUs themselves
    override `gpu_status()`; backends that run images set `runs_images`.
    """

    user: Any  # provided by the jupyterhub Spawner this class is mixed into
    api_token: str | None  # likewise: the server's hub token (JUPYTERHUB_API_TOKEN)

    runs_images: ClassVar[bool] = False  # False: the image is checked and recorded, not run
    _catalog: ClassVar[ImageCatalog | None] = None  # one per hub process (c.ImageCatalog)
    image_choice: ImageInfo | None = None  # the catalog image of this server, if any

    profiles: List[dict] = List(
        help="Workspace profiles as dicts (labworks_hub.profiles.Profile); the first is default.",
    ).tag(config=True)

    profiles_file = Unicode(
        "",
        help="YAML file of workspace profiles (a list, or a mapping with a `profiles` list);"
        " used instead of `profiles`, which must then be left unset.",
    ).tag(config=True)

    image_choices_per_repository = Integer(
        5, help="Newest tags of each repository offered on the spawn page (the API takes any)."
    ).tag(config=True)

    platform_api_url = Unicode(
        "", help="Platform service API root that workspace servers forward to."
    ).tag(config=True)
    platform_public_url = Unicode(
        help="The platform's public URL (https://lab.example.org/), which links shown to people"
        " start with (MLflow's run links: kernels track through it). Default: JupyterHub's"
        " public URL (JupyterHub.public_url); `labworks up` sets the address it prints."
    ).tag(config=True)

    image = Unicode("", help="Image reference of the workspace; empty for the local environment.")
    image_digest = Unicode("", help="Digest (sha256:...) the image is pinned to.")

    @default("profiles")
    def _default_profiles(self):
        if self.profiles_file:
            self._profiles_from_file = True
            try:
                return read_profiles_file(self.profiles_file)
            except ProfileError as e:
                raise TraitError(f"invalid workspace profiles: {e}") from None
        return [p.to_dict() for p in DEFAULT_PROFILES]

    @validate("profiles")
    def _validate_profiles(self, proposal):
        try:
            parse_profiles(proposal.value)
        except ProfileError as e:
            raise TraitError(f"invalid workspace profiles: {e}") from None
        return proposal.value

    @property
    def parsed_profiles(self) -> list[Profile]:
        profiles = self.profiles
        if self.profiles_file and not getattr(self, "_profiles_from_file", False):
            raise TraitError("set either profiles or profiles_file, not both")
        return parse_profiles(profiles)

    @property
    def profile(self) -> Profile:
        """The profile applied to this server (the default one before any is applied)."""
        return getattr(self, "_profile", None) or self.parsed_profiles[0]

    def user_groups(self) -> set[str]:
        return {g.name for g in self.user.groups}

    def gpu_status(self) -> GPUStatus | None:
        """Free GPUs this backend can give out; None when a scheduler decides (Kubernetes)."""
        return None

    def image_catalog(self) -> ImageCatalog:
        """The hub's image catalog (`c.ImageCatalog`), shared by every spawner of the hub."""
        if WorkspaceSpawnerMixin._catalog is None:
            WorkspaceSpawnerMixin._catalog = ImageCatalog(config=self.config, log=self.log)
        return WorkspaceSpawnerMixin._catalog

    def configured_image(self) -> str:
        """The image configured on the spawner itself, used when no catalog image is chosen."""
        return ""

    @default("options_form")
    def _default_options_form(self):
        return type(self).render_options_form

    async def render_options_form(self) -> str:
        """The spawn page: a card per profile and per catalog image; what this user may not
        start is greyed out with the reason."""
        profiles, groups, gpus = self.parsed_profiles, self.user_groups(), self.gpu_status()
        prices = CostPrices(config=self.config)  # the platform's price table (c.CostPrices)
        cards: list[dict] = []
        for profile in profiles:
            reason = unavailable_reason(profile, groups, gpus)
            checked = reason is None and not any(c["checked"] for c in cards)
            cards.append({**_profile_facts(profile), "reason": reason, "checked": checked,
                          "price": prices.profile_price(profile)})  # fmt: skip
        chosen = next((c["profile"] for c in cards if c["checked"]), None)
        images, warning = await self._image_cards(profiles, chosen)
        runs_here = not self.runs_images and not self.configured_image()
        local = await asyncio.to_thread(local_environment) if runs_here else None
        return _templates.get_template("profile_form.html").render(
            cards=cards,
            local=local,
            catalog=self.image_catalog().configured,
            images=images,
            warning=warning,
            runs_images=self.runs_images,
            fixed_image=self.configured_image(),
            profile_names={p.name: p.display_name for p in profiles},
        )

    async def _image_cards(
        self, profiles: list[Profile], chosen: Profile | None
    ) -> tuple[list[dict], str | None]:
        catalog = self.image_catalog()
        if not catalog.configured:
            return [], None
        snapshot = await catalog.snapshot()
        shown: dict[str, int] = {}
        cards: list[dict] = []
        for image in catalog.visible(snapshot, self.user.name):
            shown[image.repository] = shown.get(image.repository, 0) + 1
            if shown[image.repository] > self.image_choices_per_repository:
                continue
            allowed = [p for p in profiles if image_allowed(p, image.repository)]
            reason = None
            if chosen is not None and chosen not in allowed:
                names = ", ".join(p.display_name for p in allowed) or "none"
                reason = f"not allowed on profile {chosen.display_name} (allowed on: {names})"
            cards.append(
                {
                    "image": image,
                    "profiles": [p.name for p in allowed],
                    "personal": owner_of(image.repository) is not None,
                    "reason": reason,
                    "checked": reason is None and not any(c["checked"] for c in cards),
                }
            )
        return cards, snapshot.warning

    def options_from_form(self, formdata: dict) -> dict:
        return {k: formdata[k][0] for k in OPTIONS if formdata.get(k) and formdata[k][0]}

    @default("apply_user_options")
    def _default_apply_user_options(self):
        return type(self).apply_workspace_options

    async def apply_workspace_options(self, user_options: dict) -> Profile:
        """Check profile and image (400 with the reason) and, for a GPU profile, the user's
        budgets (403 naming the spent budget), resolve the image's tag to its digest, then
        apply both."""
        profile = self.pick_profile(user_options)
        token = getattr(self, "api_token", "")  # the new server's, set by the hub before this
        if profile.gpu_count and self.platform_api_url and token:
            refused = await budget_refusal(self.platform_api_url, token, gpu=True)
            if refused:
                raise HTTPError(403, refused)
        image = await self.choose_image(profile, user_options.get("image"))
        profile = self.apply_profile(user_options)
        self.use_image(image)
        return profile

    def pick_profile(self, user_options: dict) -> Profile:
        """The profile named in user_options (the first by default); 400 if not allowed."""
        _check_options(user_options)
        try:
            return choose_profile(
                self.parsed_profiles,
                user_options.get("profile"),
                self.user_groups(),
                self.gpu_status(),
            )
        except ProfileError as e:
            raise HTTPError(400, str(e)) from None

    def apply_profile(self, user_options: dict) -> Profile:
        """Pick the profile named in user_options and set the limits; 400 if not allowed."""
        profile = self.pick_profile(user_options)
        self.cpu_limit = profile.cpu_limit
        self.mem_limit = profile.mem_limit
        self._profile = profile
        return profile

    async def choose_image(self, profile: Profile, ref: str | None) -> ImageInfo | None:
        """The catalog image named `ref` (`repository:tag`), with its digest read from the
        registry now; None for no catalog image (the local environment, or the spawner's
        configured image). HTTPError 400 says why a choice is refused."""
        catalog = self.image_catalog()
        if not catalog.configured:
            if ref:
                raise HTTPError(400, "this hub has no image catalog: leave out the image option")
            return None
        if not ref:
            if not self.runs_images or self.configured_image():
                return None
            ref = await self._default_image(catalog, profile)
        user = self.user.name
        try:
            repository, _ = catalog.check_ref(ref, user)
            refusal = image_refusal(profile, repository)
            if refusal:
                raise HTTPError(400, refusal)
            return await catalog.resolve(ref, user)
        except RegistryUnavailable as e:
            raise HTTPError(503, f"cannot check image {ref!r} now: {e}") from None
        except CatalogError as e:
            raise HTTPError(400, str(e)) from None

    async def _default_image(self, catalog: ImageCatalog, profile: Profile) -> str:
        """The newest image this user may run on `profile` (what the spawn page preselects)."""
        snapshot = await catalog.snapshot()
        for image in catalog.visible(snapshot, self.user.name):
            if image_allowed(profile, image.repository):
                return image.ref
        raise HTTPError(
            400, f"no workspace image is available for profile {profile.name!r}; choose one"
        )

    def use_image(self, image: ImageInfo | None) -> None:
        """Record the catalog image of this server (backends that run images also run it)."""
        self.image_choice = image

    def recorded_image(self) -> tuple[str, str]:
        """(reference, digest) this workspace's work is attributed to, for lineage."""
        if self.image_choice is not None:
            choice = self.image_choice
            return self.image_catalog().pull_reference(choice), choice.digest
        return self.image, self.image_digest

    def get_state(self):
        state = super().get_state()
        if self.image_choice is not None:
            state["image_choice"] = self.image_choice.to_dict()
        return state

    def load_state(self, state):
        super().load_state(state)
        choice = state.get("image_choice")
        self.use_image(ImageInfo.from_dict(choice) if choice else None)

    def clear_state(self):
        super().clear_state()
        self.use_image(None)

    def workspace_env(self) -> dict[str, str]:
        profile = self.profile
        recorded, recorded_digest = self.recorded_image()
        env = {
            "LABWORKS_PROFILE": profile.name,
            "LABWORKS_PROFILE_DISPLAY_NAME": profile.display_name,
            "LABWORKS_GPU_COUNT": str(profile.gpu_count),
            "LABWORKS_IMAGE": self.image,
            "LABWORKS_IMAGE_DIGEST": self.image_digest,
            "LABWORKS_RECORDED_IMAGE": recorded,
            "LABWORKS_RECORDED_IMAGE_DIGEST": recorded_digest,
            "LABWORKS_CULL_IDLE_TIMEOUT": str(profile.idle_cull_timeout),
            "LABWORKS_API_URL": self.platform_api_url,
        }
        hub_public = getattr(self, "public_hub_url", "")  # JupyterHub's Spawner trait
        public = self.platform_public_url or from_environment({HUB_PUBLIC_URL_ENV: hub_public})
        if public:
            env[PUBLIC_URL_ENV] = public
        # The stock mlflow client logs to the platform's tracking server as this user.
        token = self.api_token or ""
        env.update(tracking_env(self.platform_api_url, self.user.name, token, public))
        return env

    def idle_shutdown_args(self) -> list[str]:
        """Idle kernels are culled after the profile's idle time; a kernel that is executing is
        never culled. The server itself stops through labworks_server's IdleMonitor, which
        reads the time from LABWORKS_CULL_IDLE_TIMEOUT and counts people and kernels, not the
        lab's background polling (jupyter_server's shutdown_no_activity_timeout would)."""
        timeout = self.profile.idle_cull_timeout
        if timeout <= 0:
            return []
        return [
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


def _check_options(user_options: dict) -> None:
    unknown = set(user_options) - set(OPTIONS)
    if unknown:
        raise HTTPError(400, f"unknown workspace options: {', '.join(sorted(unknown))}")
    for key in OPTIONS:
        value = user_options.get(key)
        if value is not None and not isinstance(value, str):
            what = "a profile name" if key == "profile" else "'repository:tag'"
            raise HTTPError(400, f"the {key} option must be {what} (a string)")


def _profile_facts(profile: Profile) -> dict:
    """What a profile card shows."""
    gib = 1024**3
    return {
        "profile": profile,
        "cpu": f"{profile.cpu_limit:g} core{'' if profile.cpu_limit == 1 else 's'}"
        if profile.cpu_limit
        else "unlimited",
        "memory": f"{profile.mem_limit / gib:g} GiB" if profile.mem_limit else "unlimited",
        "disk": f"{profile.disk_limit / gib:g} GiB" if profile.disk_limit else None,
        "idle": _duration(profile.idle_cull_timeout),
    }


def _duration(seconds: int) -> str:
    if seconds <= 0:
        return "never"
    if seconds % 3600 == 0:
        return f"after {seconds // 3600} h"
    return f"after {seconds // 60} min" if seconds % 60 == 0 else f"after {seconds} s"
