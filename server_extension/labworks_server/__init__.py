"""Labworks Jupyter Server extension: the user's own server side of the Labworks panels."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

from .app import LabworksServerApp

try:
    __version__ = version("labworks")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """Where JupyterLab finds the prebuilt front end shipped in this package."""
    return [{"src": "labextension", "dest": "labworks"}]


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    """The extension point jupyter_server loads (``jpserver_extensions``)."""
    return [{"module": "labworks_server", "app": LabworksServerApp}]


__all__ = [
    "LabworksServerApp",
    "__version__",
    "_jupyter_labextension_paths",
    "_jupyter_server_extension_points",
]
