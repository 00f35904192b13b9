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

__all__ = ["__version__", "api", "cost", "data", "sweeps", "track"]

SUBMODULES = ("api", "cost", "data", "sweeps", "track")


def __getattr__(name: str) -> ModuleType:
    """`labworks.track` and friends load on first use, so a kernel starts without mlflow."""
    if name in SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
