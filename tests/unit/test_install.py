"""What `make install` leaves behind in the checkout."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_installing_leaves_the_lock_file_as_committed():
    """`npm install` (run by `make install`) must not rewrite package-lock.json: a fresh clone
    stays clean (it once added every other platform's optional bindings)."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    status = subprocess.run(
        ["git", "status", "--porcelain", "--", "package-lock.json"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert status.stdout == "", "package-lock.json changed by the install: commit the new lock"
