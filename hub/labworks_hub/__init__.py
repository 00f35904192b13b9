"""Labworks hub side: spawners, profiles, the platform service and the `labworks` CLI."""

from __future__ import annotations

from typing import Any

__all__ = ["__version__"]


def __getattr__(name: str) -> Any:
    """`__version__` is the distribution's, read when first asked for (the kernel SDK's, one
    distribution), so the CLI does not read package metadata on every command."""
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import labworks

    return labworks.__version__
