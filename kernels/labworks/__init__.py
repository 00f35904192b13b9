"""The Labworks SDK, imported in notebooks. It talks to the platform only over HTTP, so it
installs into a slim workspace image without the hub or server packages."""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["__version__", "api", "cost", "data", "datasets", "sources", "sweeps", "track"]

SUBMODULES = ("api", "cost", "data", "sources", "sweeps", "track")
ALIASES = {"datasets": "data"}  # `from labworks import datasets; datasets.snapshot(...)`


def __getattr__(name: str) -> Any:
    """`labworks.track` and friends load on first use, so a kernel starts without mlflow; the
    version too (importlib.metadata is 70 ms of a one-cell job's start)."""
    if name in SUBMODULES or name in ALIASES:
        return importlib.import_module(f"{__name__}.{ALIASES.get(name, name)}")
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("labworks")
        except PackageNotFoundError:
            return "0.0.0"
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
