"""Fixtures of the model server tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.platform import free_port


@pytest.fixture
def free_tcp_port() -> int:
    return free_port()


@pytest.fixture(scope="session")
def triton_python() -> Path:
    """An interpreter with NVIDIA's tritonclient, in an environment of its own
    (`make install-test` builds it: .venv/lib/tritonclient)."""
    python = Path(sys.prefix) / "lib" / "tritonclient" / "bin" / "python"
    probe = [str(python), "-c", "import tritonclient.http"]
    if not python.exists() or subprocess.run(probe, capture_output=True).returncode != 0:
        pytest.skip(f"no tritonclient at {python}: run `make install-test`")
    return python
