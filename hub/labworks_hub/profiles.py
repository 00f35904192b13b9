"""Workspace profiles: what a workspace may use. Declared in config; the spawner applies one."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields


class ProfileError(ValueError):
    """Unknown or forbidden profile; the message is shown to the user."""


@dataclass(frozen=True)
class Profile:
    name: str
    display_name: str
    description: str = ""
    cpu_limit: float | None = None
    mem_limit: int | None = None
    gpu_count: int = 0
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


GiB = 1024**3

DEFAULT_PROFILES: tuple[Profile, ...] = (
    Profile(
        name="cpu-small",
        display_name="CPU small",
        description="2 cores, 4 GiB memory: notebooks, small data, light training.",
        cpu_limit=2.0,
        mem_limit=4 * GiB,
    ),
)


def choose_profile(profiles: list[Profile], name: str | None, groups: set[str]) -> Profile:
    """The profile called `name` (the first one when None) that the user's groups may use."""
    if not profiles:
        raise ProfileError("no workspace profiles are configured")
    if name is None:
        name = profiles[0].name
    for profile in profiles:
        if profile.name == name:
            if profile.groups and not groups.intersection(profile.groups):
                raise ProfileError(
                    f"profile {name!r} is limited to groups {', '.join(profile.groups)}"
                )
            return profile
    known = ", ".join(p.name for p in profiles)
    raise ProfileError(f"unknown profile {name!r}; choose one of: {known}")
