"""One real platform (`labworks up` in a temporary home) shared by the integration tests."""

from __future__ import annotations

import re
import shutil
import socket
import tempfile
from pathlib import Path

import pytest

from tests.browser import open_page
from tests.platform import Platform

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-results"


# Operator overrides as an admin would write them: extra profiles that idle out in 2 s and 40 s,
# and a quick hub poll so a server that stopped itself is noticed within seconds.
LOCAL_CONFIG = """
from labworks_hub.profiles import DEFAULT_PROFILES
c.LocalWorkspaceSpawner.profiles = [p.to_dict() for p in DEFAULT_PROFILES] + [
    {"name": "blink", "display_name": "Blink", "idle_cull_timeout": 2},
    {"name": "nap", "display_name": "Nap", "idle_cull_timeout": 40},
]
c.Spawner.poll_interval = 2
c.ServingService.payload_flush_seconds = 1  # payload logs are read back within seconds
c.CostMeter.sample_interval = 1  # jobs of a few seconds are metered while they run
"""
# Group budgets alert an admin webhook: test_cost.py's loopback receiver serves on this socket,
# bound here and held for the session, so no other process takes its port before that test runs.
COST_HOOK = socket.create_server(("127.0.0.1", 0))
COST_HOOK_PORT = COST_HOOK.getsockname()[1]
LOCAL_CONFIG += f"""
c.CostBudgets.admin_webhook = "http://127.0.0.1:{COST_HOOK_PORT}/budget-alerts"
c.CostBudgets.WebhookNotifier.allow_private_addresses = True  # cost alerts only
"""


@pytest.fixture(scope="session")
def platform():
    # Not under tmp_path (/tmp/pytest-of-root is 0700): workspaces run as system accounts and
    # must be able to pass through to their homes, so the base is 0711 (enter, not list).
    base = Path(tempfile.mkdtemp(prefix="lw-platform-", dir="/tmp"))
    base.chmod(0o711)
    home = base / "lw"
    home.mkdir()
    (home / "jupyterhub_config.local.py").write_text(LOCAL_CONFIG)
    p = Platform(home)
    p.log_path.touch(mode=0o600)  # it holds the admin password
    p.start()
    yield p
    p.stop()
    shutil.rmtree(base)


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """Where UI tests save what a person would see (test-results/screenshots)."""
    path = ARTIFACTS / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def page():
    """A person's browser: Debian chromium, a fresh profile, one page."""
    with open_page() as page:
        yield page


@pytest.fixture
def isolated(platform) -> None:
    """Skip, naming the reason `labworks up` printed, where this machine cannot isolate users
    (not root, or the checkout sits under a directory other users cannot enter, e.g. /root)."""
    found = re.search(r"isolation OFF: ([^\n]*?)\. Every workspace", platform.log())
    if found:
        pytest.skip(f"workspace isolation is off here: {found.group(1)}")
