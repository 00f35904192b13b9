"""Workspace spawners: the shared profile logic and one class per backend."""

from __future__ import annotations

from .base import WorkspaceSpawnerMixin
from .local import LocalWorkspaceSpawner

__all__ = ["LocalWorkspaceSpawner", "WorkspaceSpawnerMixin"]
