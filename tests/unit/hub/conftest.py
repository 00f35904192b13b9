"""Fixtures of the hub's unit tests."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest


@pytest.fixture
def open_base():
    """A folder other accounts can pass through (/tmp/pytest-of-root is 0700)."""
    base = Path(tempfile.mkdtemp(prefix="lw-launcher-", dir="/tmp"))
    base.chmod(0o711)
    yield base
    shutil.rmtree(base)
