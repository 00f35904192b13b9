"""The Labworks SDK, imported in notebooks. It talks to the platform only over HTTP, so it
installs into a slim workspace image without the hub or server packages."""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from types import ModuleType

try:
    __version__ = version("labworks")
except PackageNotFoundError:
    __version__ = "0.0.0"

__all__ = ["__version__", "api", "cost", "data", "datasets", "sources", "sweeps", "track"]

SUBMODULES = ("api", "cost", "data", "sources", "sweeps", "track")
ALIASES = {"datasets": "data"}  # `from labworks import datasets; datasets.snapshot(...)`


def __getattr__(name: str) -> ModuleType:
    """`labworks.track` and friends load on first use, so a kernel starts without mlflow."""
    if name in SUBMODULES or name in ALIASES:
        return importlib.import_module(f"{__name__}.{ALIASES.get(name, name)}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
