"""One real platform (`labworks up` in a temporary home) shared by the integration tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.platform import Platform

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-results"


@pytest.fixture(scope="session")
def platform(tmp_path_factory):
    p = Platform(tmp_path_factory.mktemp("home") / "lw").start()
    yield p
    p.stop()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """Where UI tests save what a person would see (test-results/screenshots)."""
    path = ARTIFACTS / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path
