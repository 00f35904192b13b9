"""Fixtures of the kernel SDK tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import mlflow
import pytest
from mlflow.tracking import MlflowClient


@pytest.fixture
def tracking(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MlflowClient]:
    """A real local MLflow store (SQLite in tmp; MLflow 3 refuses a `file:` store) as the
    tracking URI; no platform variables leak in."""
    for name in ("JPY_SESSION_NAME", "LABWORKS_JOB_ID", "LABWORKS_KERNEL", "JUPYTERHUB_USER"):
        monkeypatch.delenv(name, raising=False)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    mlflow.set_tracking_uri(uri)
    yield MlflowClient(uri)
    mlflow.set_tracking_uri(None)
