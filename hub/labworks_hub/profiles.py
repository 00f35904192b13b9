"""Workspace profiles: what a workspace may use and what it costs. Declared in config; the
spawner applies one per server."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields


class ProfileError(ValueError):
    """Unknown, forbidden or unavailable profile; the message is shown to the user."""


@dataclass(frozen=True)
class Profile:
    name: str
    display_name: str
    description: str = ""
    cpu_limit: float | None = None
    mem_limit: int | None = None
    gpu_count: int = 0
    price_per_hour: float = 0.0
    idle_cull_timeout: int = 3600  # seconds without activity before the server stops; 0 = never
    groups: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def from_dict(cls, data: dict) -> Profile:
        """A profile from config; ProfileError names what is wrong with the dict."""
        data = dict(data)
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ProfileError(f"profile {data.get('name')!r}: unknown fields {sorted(unknown)}")
        missing = {"name", "display_name"} - set(data)
        if missing:
            raise ProfileError(f"profile {data.get('name')!r}: missing {sorted(missing)}")
        data["groups"] = tuple(data.get("groups") or ())
        return cls(**data)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class GPUStatus:
    """GPUs this backend can hand out now; None where the backend schedules them itself."""

    total: int
    free: int


GiB = 1024**3

DEFAULT_PROFILES: tuple[Profile, ...] = (
    Profile(
        name="cpu-small",
        display_name="CPU small",
        description="2 cores, 4 GiB memory: notebooks, small data, light training.",
        cpu_limit=2.0,
        mem_limit=4 * GiB,
        price_per_hour=0.10,
    ),
    Profile(
        name="cpu-large",
        display_name="CPU large",
        description="8 cores, 32 GiB memory: feature engineering and classical ML on larger data.",
        cpu_limit=8.0,
        mem_limit=32 * GiB,
        price_per_hour=0.40,
    ),
    Profile(
        name="gpu-1",
        display_name="1 GPU",
        description="One NVIDIA GPU with 8 cores and 32 GiB memory: deep learning.",
        cpu_limit=8.0,
        mem_limit=32 * GiB,
        gpu_count=1,
        price_per_hour=1.20,
    ),
)


def unavailable_reason(profile: Profile, groups: set[str], gpus: GPUStatus | None) -> str | None:
    """Why this user cannot start `profile` now, or None when they can."""
    if profile.groups and not groups.intersection(profile.groups):
        return f"limited to groups {', '.join(profile.groups)}"
    if profile.gpu_count and gpus is not None:
        if gpus.total == 0:
            return "no NVIDIA GPU on this machine"
        if profile.gpu_count > gpus.free:
            return f"all GPUs are in use ({gpus.free} of {gpus.total} free)"
    return None


def choose_profile(
    profiles: list[Profile], name: str | None, groups: set[str], gpus: GPUStatus | None = None
) -> Profile:
    """The profile called `name` (the first one when None) that this user may start now."""
    if not profiles:
        raise ProfileError("no workspace profiles are configured")
    if name is None:
        name = profiles[0].name
    for profile in profiles:
        if profile.name == name:
            reason = unavailable_reason(profile, groups, gpus)
            if reason:
                raise ProfileError(f"profile {name!r} is not available: {reason}")
            return profile
    known = ", ".join(p.name for p in profiles)
    raise ProfileError(f"unknown profile {name!r}; choose one of: {known}")
