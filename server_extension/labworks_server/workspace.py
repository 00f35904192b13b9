"""Workspace facts read from the environment the spawner sets; pure functions, no Jupyter imports.

See docs/reference/workspace-contract.md. Every reader tolerates a missing or garbage value and
reports ``None`` (JSON ``null``) instead of failing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

# OCI digest grammar: algorithm ":" encoded (hex for sha256/sha512).
_DIGEST = re.compile(r"^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-fA-F0-9]{32,}$")


def _text(env: Mapping[str, str], key: str) -> str | None:
    value = (env.get(key) or "").strip()
    return value or None


def _positive_float(value: str | None) -> float | None:
    """A finite float > 0, else None (absent, garbage and 0 all mean unlimited)."""
    try:
        number = float(value) if value is not None else math.nan
    except ValueError:
        return None
    return number if math.isfinite(number) and number > 0 else None


def _int(value: str | None, minimum: int) -> int | None:
    """An integer >= minimum, else None; accepts integral floats such as ``"4.0"``."""
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    if not math.isfinite(number) or number != int(number) or number < minimum:
        return None
    return int(number)


def _base_url(env: Mapping[str, str]) -> str:
    base = _text(env, "JUPYTERHUB_BASE_URL") or "/"
    return "/" + base.strip("/") + "/" if base.strip("/") else "/"


def profile_facts(env: Mapping[str, str]) -> dict[str, Any]:
    """The profile block: slug, title, CPU/memory limits (``None`` = unlimited) and GPUs."""
    name = _text(env, "LABWORKS_PROFILE")
    gpus = _text(env, "LABWORKS_GPU_COUNT")
    mem = _int(_text(env, "MEM_LIMIT"), minimum=1)
    return {
        "name": name,
        "display_name": _text(env, "LABWORKS_PROFILE_DISPLAY_NAME") or name,
        "cpu_limit": _positive_float(_text(env, "CPU_LIMIT")),
        "mem_limit": mem,
        "gpu_count": 0 if gpus is None else _int(gpus, minimum=0),
    }


def image_facts(env: Mapping[str, str]) -> dict[str, Any]:
    """The image block; no image reference means the local environment."""
    name = _text(env, "LABWORKS_IMAGE")
    digest = _text(env, "LABWORKS_IMAGE_DIGEST")
    return {
        "name": name,
        "digest": digest if digest and _DIGEST.match(digest) else None,
        "local": name is None,
    }


def link_facts(env: Mapping[str, str]) -> dict[str, str]:
    """Links the panel shows, relative to ``JUPYTERHUB_BASE_URL`` (default ``/``)."""
    base = _base_url(env)
    return {
        "hub_control_panel": f"{base}hub/home",
        "api_docs": f"{base}services/labworks/api/v1/docs",
    }


def local_facts(
    env: Mapping[str, str], started_at: datetime, now: datetime | None = None
) -> dict[str, Any]:
    """Everything the workspace knows without asking the platform service.

    Args:
        env: the process environment (or a test dict).
        started_at: when the ServerApp started; a naive datetime is taken as UTC.
        now: the current time, for tests; defaults to the clock.
    """
    if started_at.tzinfo is None:
        started_at = started_at.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return {
        "profile": profile_facts(env),
        "image": image_facts(env),
        "started_at": started_at.isoformat(),
        "uptime_seconds": round(max(0.0, (now - started_at).total_seconds()), 3),
        "idle_cull_timeout_seconds": _int(_text(env, "LABWORKS_CULL_IDLE_TIMEOUT"), minimum=0),
        "links": link_facts(env),
    }


def viewer_facts(owner: str | None, viewer: str | None, may_write: bool) -> dict[str, Any]:
    """Who is looking at this workspace: its owner, or a visitor it is shared with.

    Args:
        owner: the workspace's owner (``$JUPYTERHUB_USER``); ``None`` outside JupyterHub, where
            whoever is authenticated owns the server.
        viewer: the authenticated requester (the hub's user model of the request).
        may_write: whether the server lets the viewer change files and run code.

    Returns:
        ``{"name", "is_owner", "access"}``; ``access`` is ``"owner"``, ``"read-write"`` or
        ``"read-only"``.
    """
    is_owner = owner is None or viewer == owner
    access = "owner" if is_owner else ("read-write" if may_write else "read-only")
    return {"name": viewer or owner, "is_owner": is_owner, "access": access}


def workspace_document(
    owner: str | None,
    viewer: Mapping[str, Any],
    local: Mapping[str, Any],
    me: Any = None,
    error: str | None = None,
) -> dict[str, Any]:
    """The ``GET /labworks/workspace`` body: the owner (``user``, ``groups``, ``admin``, from the
    platform's ``/me`` asked with the owner's token), who is looking (``viewer``) and the local
    facts.

    Args:
        owner: the workspace owner's name (``$JUPYTERHUB_USER``); ``/me``'s name when unset.
        viewer: the result of ``viewer_facts``.
        local: the result of ``local_facts``.
        me: the platform's ``/me`` JSON, with ``version`` added from ``/health``.
        error: set when the platform could not be asked; ``me`` is then ignored.
    """
    reachable = error is None and isinstance(me, Mapping)
    me = me if reachable else {}
    groups = me.get("groups")
    version = me.get("version")
    name = me.get("name")
    return {
        "user": owner or (name if isinstance(name, str) and name else None) or viewer.get("name"),
        "groups": [g for g in groups if isinstance(g, str)] if isinstance(groups, list) else [],
        "admin": me.get("admin") is True,
        "viewer": dict(viewer),
        **local,
        "platform": {
            "reachable": reachable,
            "version": version if isinstance(version, str) else None,
            "error": None if reachable else (error or "platform service sent an invalid /me"),
        },
    }
