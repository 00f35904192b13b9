"""`labworks workspace status`'s state from the hub's server model."""

from __future__ import annotations

import pytest

from labworks_hub.cli.workspace import server_state


@pytest.mark.parametrize(
    ("server", "state"),
    [(None, "stopped"), ({}, "stopped"),
     ({"ready": True, "pending": None}, "ready"),
     ({"ready": False, "pending": "spawn"}, "starting"),
     ({"ready": False, "pending": "stop"}, "stopping"),  # an idle stop, as the hub takes it
     ({"ready": False, "pending": None}, "starting")],
)  # fmt: skip
def test_server_state(server: dict | None, state: str) -> None:
    assert server_state(server) == state
