"""The Labworks SDK, imported in notebooks. It talks to the platform only over HTTP, so it
installs into a slim workspace image without the hub or server packages."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("labworks")
except PackageNotFoundError:
    __version__ = "0.0.0"

__all__ = ["__version__"]
