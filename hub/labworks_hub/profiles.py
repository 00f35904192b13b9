"""Workspace profiles: what a workspace may use and what it costs. Declared in config (a list of
dicts, or a YAML file); the spawner applies one per server."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml


class ProfileError(ValueError):
    """Unknown, forbidden or unavailable profile; the message is shown to the user."""


GiB = 1024**3
_UNITS = {"": 1, "Ki": 1024, "Mi": 1024**2, "Gi": GiB, "Ti": 1024**4}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(Ki|Mi|Gi|Ti)?\s*$")


def parse_size(value: Any, what: str) -> int | None:
    """Bytes from an int or a string with a binary unit (`512Mi`, `4Gi`, `1.5Ti`); None stays."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ProfileError(f"{what} must be bytes or a size like 4Gi, not {value!r}")
    if isinstance(value, int):
        if value <= 0:
            raise ProfileError(f"{what} must be positive, not {value}")
        return value
    found = _SIZE.match(value) if isinstance(value, str) else None
    if not found:
        raise ProfileError(
            f"{what} must be bytes or a size with a binary unit (Ki, Mi, Gi, Ti), not {value!r}"
        )
    size = int(float(found.group(1)) * _UNITS[found.group(2) or ""])
    if size <= 0:
        raise ProfileError(f"{what} must be positive, not {value!r}")
    return size


@dataclass(frozen=True)
class Profile:
    name: str
    display_name: str
    description: str = ""
    cpu_limit: float | None = None
    mem_limit: int | None = None
    disk_limit: int | None = None  # bytes of scratch disk (Kubernetes: ephemeral-storage)
    gpu_count: int = 0
    gpu_model: str = ""  # e.g. "NVIDIA H100 80GB HBM3"; empty: any model
    price_per_hour: float = 0.0
    idle_cull_timeout: int = 3600  # seconds without activity before the server stops; 0 = never
    groups: tuple[str, ...] = field(default_factory=tuple)
    allowed_images: tuple[str, ...] = field(default_factory=tuple)  # repositories or globs
    # Kubernetes placement (placement.py): spot nodes, node labels and taints the pods accept;
    # left out of the hash (dicts are not hashable), so that a Profile stays hashable
    spot: bool = False
    node_selector: dict[str, str] = field(default_factory=dict, hash=False)
    tolerations: tuple[dict, ...] = field(default=(), hash=False)

    @classmethod
    def from_dict(cls, data: dict) -> Profile:
        """A profile from config; ProfileError names what is wrong with the dict."""
        if not isinstance(data, dict):
            raise ProfileError(f"a profile must be a mapping of fields, not {data!r}")
        data = dict(data)
        label = f"profile {data.get('name')!r}"
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ProfileError(f"{label}: unknown fields {sorted(unknown)}")
        missing = {"name", "display_name"} - set(data)
        if missing:
            raise ProfileError(f"{label}: missing {sorted(missing)}")
        for key in ("name", "display_name", "description", "gpu_model"):
            if key in data and not isinstance(data[key], str):
                raise ProfileError(f"{label}: {key} must be text, not {data[key]!r}")
        if not data["name"]:
            raise ProfileError("a profile has an empty name")
        data["cpu_limit"] = _number(data.get("cpu_limit"), f"{label}: cpu_limit", allow_none=True)
        data["price_per_hour"] = _number(
            data.get("price_per_hour", 0.0), f"{label}: price_per_hour"
        )
        data["mem_limit"] = parse_size(data.get("mem_limit"), f"{label}: mem_limit")
        data["disk_limit"] = parse_size(data.get("disk_limit"), f"{label}: disk_limit")
        for key in ("gpu_count", "idle_cull_timeout"):
            if key in data and (type(data[key]) is not int or data[key] < 0):
                raise ProfileError(f"{label}: {key} must be a whole number >= 0, not {data[key]!r}")
        for key in ("groups", "allowed_images"):
            values = data.get(key) or ()
            if isinstance(values, str) or not all(isinstance(v, str) for v in values):
                raise ProfileError(f"{label}: {key} must be a list of names, not {values!r}")
            data[key] = tuple(values)
        if type(data.get("spot", False)) is not bool:
            raise ProfileError(f"{label}: spot must be true or false, not {data['spot']!r}")
        data["node_selector"] = _node_selector(data.get("node_selector") or {}, label)
        data["tolerations"] = parse_tolerations(data.get("tolerations") or (), label)
        return cls(**data)

    def to_dict(self) -> dict:
        return asdict(self)


def _number(value: Any, what: str, allow_none: bool = False) -> float | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ProfileError(f"{what} must be a number >= 0, not {value!r}")
    if allow_none and value == 0:
        raise ProfileError(f"{what} must be positive (leave it out for unlimited)")
    return float(value)


def _node_selector(value: Any, label: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ProfileError(f"{label}: node_selector must map label names to text, not {value!r}")
    return dict(value)


_TOLERATION_FIELDS = {"key", "operator", "value", "effect", "tolerationSeconds"}
_TOLERATION_EFFECTS = {"", "NoSchedule", "PreferNoSchedule", "NoExecute"}


def parse_tolerations(values: Any, label: str) -> tuple[dict, ...]:
    """Kubernetes tolerations (`key`, `operator` Exists or Equal, `value`, `effect`,
    `tolerationSeconds`); ProfileError names the first wrong one."""
    if isinstance(values, str | dict) or not isinstance(values, list | tuple):
        raise ProfileError(f"{label}: tolerations must be a list of tolerations, not {values!r}")
    for toleration in values:
        what = f"{label}: toleration {toleration!r}"
        if not isinstance(toleration, dict):
            raise ProfileError(f"{what} must be a mapping")
        unknown = set(toleration) - _TOLERATION_FIELDS
        if unknown:
            raise ProfileError(f"{what} has unknown fields {sorted(unknown)}")
        if not all(isinstance(toleration.get(k, ""), str) for k in ("key", "value", "effect")):
            raise ProfileError(f"{what}: key, value and effect must be text")
        operator = toleration.get("operator", "Equal")
        if operator not in ("Equal", "Exists"):
            raise ProfileError(f"{what}: operator must be Equal or Exists, not {operator!r}")
        if operator == "Exists" and toleration.get("value"):
            raise ProfileError(f"{what}: operator Exists takes no value")
        if toleration.get("effect", "") not in _TOLERATION_EFFECTS:
            raise ProfileError(f"{what}: effect must be one of {sorted(_TOLERATION_EFFECTS)[1:]}")
        seconds = toleration.get("tolerationSeconds", 0)
        if type(seconds) is not int:
            raise ProfileError(f"{what}: tolerationSeconds must be a whole number")
    return tuple(dict(t) for t in values)


def parse_profiles(dicts: list[dict], source: str = "") -> list[Profile]:
    """Profiles from config dicts; ProfileError (naming `source`) for a bad or duplicate one."""
    where = f" in {source}" if source else ""
    if not isinstance(dicts, list):
        raise ProfileError(f"workspace profiles{where} must be a list, not {type(dicts).__name__}")
    try:
        parsed = [Profile.from_dict(p) for p in dicts]
    except ProfileError as e:
        raise ProfileError(f"{e}{where}") from None
    names = [p.name for p in parsed]
    if len(set(names)) != len(names):
        raise ProfileError(f"duplicate profile names{where}: {names}")
    return parsed


def read_profiles_file(path: str | Path) -> list[dict]:
    """The profile dicts of a YAML file: a list, or a mapping with a `profiles` list. Checked."""
    try:
        data = yaml.safe_load(Path(path).read_text())
    except OSError as e:
        raise ProfileError(f"cannot read profiles file {path}: {e.strerror or e}") from None
    except yaml.YAMLError as e:
        raise ProfileError(f"profiles file {path} is not valid YAML: {e}") from None
    if isinstance(data, dict) and set(data) == {"profiles"}:
        data = data["profiles"]
    if not isinstance(data, list) or not data:
        raise ProfileError(
            f"profiles file {path} must hold a non-empty list of profiles (or `profiles:` list)"
        )
    parse_profiles(data, str(path))
    return data


@dataclass(frozen=True)
class GPUStatus:
    """GPUs this backend can hand out now; None where the backend schedules them itself."""

    total: int
    free: int
    models: tuple[str, ...] = ()  # the model name of each GPU (NVML), when known
    free_models: tuple[str, ...] = ()  # the model names of the free ones


def gpu_model_matches(wanted: str, name: str) -> bool:
    """`wanted` names this GPU: case-insensitive, dashes as spaces, any part of the name
    ("H100" matches "NVIDIA H100 80GB HBM3" and GPU feature discovery's "NVIDIA-H100-80GB-HBM3")."""

    def norm(text: str) -> str:
        return " ".join(text.replace("-", " ").lower().split())

    return norm(wanted) in norm(name)


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
        if profile.gpu_model and gpus.models:
            model = profile.gpu_model
            if sum(gpu_model_matches(model, m) for m in gpus.models) < profile.gpu_count:
                found = ", ".join(sorted(set(gpus.models)))
                return f"needs {profile.gpu_count} x {model}; this machine has {found}"
            free = sum(gpu_model_matches(model, m) for m in gpus.free_models)
            if profile.gpu_count > free:
                return f"all {model} GPUs are in use ({free} free)"
        if profile.gpu_count > gpus.free:
            return f"all GPUs are in use ({gpus.free} of {gpus.total} free)"
    return None


def image_allowed(profile: Profile, repository: str) -> bool:
    """Whether `profile` may run images of `repository` (no `allowed_images`: any image)."""
    return not profile.allowed_images or any(
        fnmatch.fnmatchcase(repository, pattern) for pattern in profile.allowed_images
    )


def image_refusal(profile: Profile, repository: str) -> str | None:
    """Why `profile` may not run `repository`, or None when it may."""
    if image_allowed(profile, repository):
        return None
    return (
        f"image {repository} is not allowed on profile {profile.name!r}"
        f" (allowed there: {', '.join(profile.allowed_images)})"
    )


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
