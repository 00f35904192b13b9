"""images/build.sh checks the pinned base image with skopeo before it builds anything, and
fails with a clear message when it cannot (offline, or the digest is gone). skopeo is pointed
at loopback through a registries.conf in a temporary HOME, so these tests never go online."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.platform import free_port
from tests.registry import Registry

ROOT = Path(__file__).resolve().parents[3]
PINNED = re.search(
    r"^ARG BASE_IMAGE=(\S+)$", (ROOT / "images/minimal/Dockerfile").read_text(), re.M
).group(1)
NAME, DIGEST = PINNED.split(":")[0], PINNED.split("@")[1]


def build_with_docker_io_at(tmp_path: Path, location: str) -> subprocess.CompletedProcess[str]:
    """A real (not --dry-run) build whose skopeo finds docker.io at `location`."""
    config = tmp_path / "home" / ".config" / "containers"
    config.mkdir(parents=True)
    (config / "registries.conf").write_text(
        f'[[registry]]\nprefix = "docker.io"\nlocation = "{location}"\ninsecure = true\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("LABWORKS_")}
    env.update(HOME=str(tmp_path / "home"), LABWORKS_BUILD_ID="1", LABWORKS_BUILDER="buildah",
               LABWORKS_REGISTRY="registry.invalid/labworks")  # fmt: skip
    return subprocess.run(
        ["bash", str(ROOT / "images/build.sh"), "minimal"],
        capture_output=True, text=True, timeout=180, env=env, cwd=ROOT,
    )  # fmt: skip


def test_an_unreachable_base_registry_stops_the_build_with_the_reason(tmp_path):
    proc = build_with_docker_io_at(tmp_path, f"127.0.0.1:{free_port()}")
    assert proc.returncode == 2
    assert f"cannot verify the pinned base image {NAME}@{DIGEST}" in proc.stderr
    assert "connection refused" in proc.stderr
    assert "offline, use --dry-run" in proc.stderr
    assert "buildah build" not in proc.stdout + proc.stderr  # nothing was built


@pytest.mark.parametrize("push", [True, False])
def test_a_base_digest_the_registry_does_not_have_stops_the_build(tmp_path, push):
    registry = Registry(tmp_path / "registry").start()
    try:
        if push:  # the repository exists, with other content than the pinned digest
            registry.push(f"library/{NAME}", "3.11-slim-bookworm")
        proc = build_with_docker_io_at(tmp_path, registry.host)
    finally:
        registry.stop()
    assert proc.returncode == 2
    assert f"cannot verify the pinned base image {NAME}@{DIGEST}" in proc.stderr
    assert "manifest unknown" in proc.stderr
