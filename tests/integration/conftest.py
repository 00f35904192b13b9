"""One real platform (`labworks up` in a temporary home) shared by the integration tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.platform import Platform

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-results"


# Operator overrides as an admin would write them: an extra profile that idles out in 2 s, and
# a quick hub poll so a server that stopped itself is noticed within seconds.
LOCAL_CONFIG = """
from labworks_hub.profiles import DEFAULT_PROFILES
c.LocalWorkspaceSpawner.profiles = [p.to_dict() for p in DEFAULT_PROFILES] + [
    {"name": "blink", "display_name": "Blink", "idle_cull_timeout": 2},
]
c.Spawner.poll_interval = 2
"""


@pytest.fixture(scope="session")
def platform(tmp_path_factory):
    home = tmp_path_factory.mktemp("home") / "lw"
    home.mkdir()
    (home / "jupyterhub_config.local.py").write_text(LOCAL_CONFIG)
    p = Platform(home).start()
    yield p
    p.stop()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """Where UI tests save what a person would see (test-results/screenshots)."""
    path = ARTIFACTS / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path
