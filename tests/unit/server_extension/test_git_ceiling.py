"""Git in a workspace sees repositories at or below the workspace root only (issue 15 #9):
a workspace inside someone else's clone (``labworks up`` keeps them under ``./.labworks``)
made every lab load's ``POST git/show_prefix`` a 500."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from traitlets.config import Config

from labworks_server.nbdime_git import with_git_ceiling

NOBODY = 65534


def show_prefix(folder: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "rev-parse", "--show-prefix"], cwd=folder, env=env, capture_output=True, text=True
    )


@pytest.fixture(autouse=True)
def _restore_git_ceiling(monkeypatch: pytest.MonkeyPatch) -> None:
    """The extension sets the ceiling in its process environment: this test's, here."""
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", "")


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """A git repository holding a workspace root at ``.labworks/users/ann``."""
    subprocess.run(["git", "init", "-q", str(tmp_path / "clone")], check=True)
    root = tmp_path / "clone" / ".labworks" / "users" / "ann"
    root.mkdir(parents=True)
    return root


def test_the_ceiling_is_the_folder_above_the_root_and_keeps_the_operators() -> None:
    env = with_git_ceiling({"GIT_CEILING_DIRECTORIES": "/srv"}, "/home/ann/")
    assert env["GIT_CEILING_DIRECTORIES"] == os.pathsep.join(["/srv", "/home"])
    assert with_git_ceiling(env, "/home/ann") == env
    assert "GIT_CEILING_DIRECTORIES" not in with_git_ceiling({}, "/")


def test_git_stops_at_the_workspace_root(clone: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    assert show_prefix(clone, env).stdout == ".labworks/users/ann/\n"  # the clone, above

    ceiled = with_git_ceiling(env, clone)
    outside = show_prefix(clone, ceiled)
    assert outside.returncode != 0 and "not a git repository" in outside.stderr

    project = clone / "project" / "src"
    project.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(clone / "project")], check=True)
    assert show_prefix(project, ceiled).stdout == "src/\n"  # a repository of the workspace


@pytest.fixture
def jp_root_dir(clone: Path) -> Path:
    """The server's root inside a clone that is someone else's (git: "dubious ownership")."""
    if os.geteuid() != 0:
        pytest.skip("giving the clone to another account needs root")
    os.chown(clone.parents[2], NOBODY, NOBODY)
    return clone


@pytest.fixture
def jp_server_config(jp_server_config: Config) -> Config:
    """With jupyterlab-git, which refuses to load where unauthenticated access is off (its
    ``git/known_hosts`` handler is not marked ``@authenticated``); the request is still
    token-authenticated."""
    jp_server_config.ServerApp.jpserver_extensions["jupyterlab_git"] = True
    jp_server_config.ServerApp.allow_unauthenticated_access = True
    return jp_server_config


async def test_a_lab_load_asks_show_prefix_and_gets_200(jp_fetch: Any, jp_root_dir: Path) -> None:
    plain = {k: v for k, v in os.environ.items() if k != "GIT_CEILING_DIRECTORIES"}
    refused = show_prefix(jp_root_dir, plain)
    assert "dubious ownership" in refused.stderr  # what made jupyterlab-git answer 500

    reply = await jp_fetch("git", "show_prefix", method="POST", body="{}", raise_error=False)

    assert reply.code == 200, reply.body
    assert json.loads(reply.body) == {"code": 0, "path": None}
