"""nbdime's git integration through the environment (labworks_server.nbdime_git), with real git."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat

from labworks_server.nbdime_git import with_nbdime_git


def git(repo: Path, *args: str, env: dict[str, str]) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], env=env, capture_output=True, text=True, check=True
    ).stdout


def notebook(source: str) -> str:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    return nbformat.writes(nb)


def test_git_diff_of_a_notebook_goes_through_nbdime(tmp_path: Path) -> None:
    base = {k: v for k, v in os.environ.items() if not k.startswith("GIT_CONFIG")}
    base.update(HOME=str(tmp_path), GIT_CONFIG_NOSYSTEM="1",
                GIT_AUTHOR_NAME="a", GIT_AUTHOR_EMAIL="a@x", GIT_COMMITTER_NAME="a",
                GIT_COMMITTER_EMAIL="a@x")  # fmt: skip
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", env=base)
    (repo / "model.ipynb").write_text(notebook("lr = 0.1"))
    git(repo, "add", ".", env=base)
    git(repo, "commit", "-qm", "first", env=base)
    (repo / "model.ipynb").write_text(notebook("lr = 0.01"))

    plain = git(repo, "diff", env=base)
    with_nbdime = git(repo, "diff", env=with_nbdime_git(base, Path(sys.executable).parent))

    assert '-    "lr = 0.1"' in plain  # raw JSON lines
    assert "nbdiff" in with_nbdime and "cell" in with_nbdime
    assert '"source": [' not in with_nbdime


def test_existing_settings_are_kept_and_appended_after() -> None:
    env = {
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "diff.jupyternotebook.command",
        "GIT_CONFIG_VALUE_0": "my-differ",
    }
    out = with_nbdime_git(env, Path("/opt/bin"))
    assert out["GIT_CONFIG_VALUE_0"] == "my-differ"
    keys = [out[f"GIT_CONFIG_KEY_{i}"] for i in range(int(out["GIT_CONFIG_COUNT"]))]
    assert keys.count("diff.jupyternotebook.command") == 1
    assert "merge.jupyternotebook.driver" in keys
    assert with_nbdime_git(out, Path("/opt/bin")) == out  # applying twice changes nothing
