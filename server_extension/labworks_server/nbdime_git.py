"""nbdime's git integration in every workspace, without touching anyone's git config files.

Git reads extra settings from ``GIT_CONFIG_COUNT``, ``GIT_CONFIG_KEY_<n>`` and
``GIT_CONFIG_VALUE_<n>`` (git >= 2.31). The server sets them in its own environment at start,
so git run by jupyterlab-git, terminals and kernels diffs and merges notebooks with nbdime
(what ``nbdime config-git --enable`` would write to ``~/.gitconfig``). A repository's own
``.gitattributes`` still wins over the attributes file set here.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

ATTRIBUTES = Path(__file__).with_name("gitattributes")


def nbdime_git_settings(bin_dir: Path) -> dict[str, str]:
    """The git settings of nbdime's diff/merge drivers and tools, using `bin_dir`'s scripts."""
    tool = str(bin_dir)
    return {
        "core.attributesFile": str(ATTRIBUTES),
        "diff.jupyternotebook.command": f"{tool}/git-nbdiffdriver diff",
        "merge.jupyternotebook.driver": f"{tool}/git-nbmergedriver merge %O %A %B %L %P",
        "merge.jupyternotebook.name": "jupyter notebook merge driver",
        "difftool.nbdime.cmd": f'{tool}/git-nbdifftool diff "$LOCAL" "$REMOTE" "$BASE"',
        "mergetool.nbdime.cmd": (
            f'{tool}/git-nbmergetool merge "$BASE" "$LOCAL" "$REMOTE" "$MERGED"'
        ),
    }


def with_nbdime_git(env: Mapping[str, str], bin_dir: Path | None = None) -> dict[str, str]:
    """`env` plus nbdime's git settings, appended after any GIT_CONFIG_* entries already there.

    Settings the environment already names are left as they are (the operator's choice wins).
    """
    bin_dir = bin_dir or Path(sys.executable).parent
    try:
        count = int(env.get("GIT_CONFIG_COUNT", "0"))
    except ValueError:
        count = 0
    present = {env.get(f"GIT_CONFIG_KEY_{i}", "").lower() for i in range(count)}
    out = dict(env)
    for key, value in nbdime_git_settings(bin_dir).items():
        if key.lower() in present:
            continue
        out[f"GIT_CONFIG_KEY_{count}"] = key
        out[f"GIT_CONFIG_VALUE_{count}"] = value
        count += 1
    out["GIT_CONFIG_COUNT"] = str(count)
    return out


def with_git_ceiling(env: Mapping[str, str], root_dir: str | Path) -> dict[str, str]:
    """`env` with the folder above the workspace root added to ``GIT_CEILING_DIRECTORIES``.

    Git then finds repositories at or below the workspace root only, never one the workspace
    merely sits in (``labworks up`` in a clone keeps workspaces under ``./.labworks``): such a
    repository is someone else's, git refuses it as of "dubious ownership", and jupyterlab-git
    answers every lab load's ``POST git/show_prefix`` with a 500. jupyterlab-git ignores a
    repository above the root anyway.
    """
    out = dict(env)
    root = Path(root_dir).expanduser().resolve()
    if root.parent == root:
        return out
    ceilings = [c for c in env.get("GIT_CEILING_DIRECTORIES", "").split(os.pathsep) if c]
    if str(root.parent) not in ceilings:
        out["GIT_CEILING_DIRECTORIES"] = os.pathsep.join([*ceilings, str(root.parent)])
    return out
