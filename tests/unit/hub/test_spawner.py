"""The profile logic every Labworks spawner shares, on the local spawner."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from tornado.web import HTTPError
from traitlets import TraitError

from labworks_hub.spawners import LocalWorkspaceSpawner

GPU = {"name": "gpu-1", "display_name": "GPU", "gpu_count": 1, "groups": ["ml"]}


def make_spawner(tmp_path, groups=()) -> LocalWorkspaceSpawner:
    user = SimpleNamespace(name="alice", groups=[SimpleNamespace(name=g) for g in groups])
    spawner = LocalWorkspaceSpawner(workspaces_dir=str(tmp_path))
    spawner.user = user
    spawner.profiles = [*spawner.profiles, GPU]
    return spawner


def test_default_profile_sets_limits_and_env(tmp_path):
    spawner = make_spawner(tmp_path)
    spawner.apply_user_options(spawner, {})
    assert spawner.cpu_limit == 2.0
    assert spawner.mem_limit == 4 * 1024**3
    env = spawner.workspace_env()
    assert env["LABWORKS_PROFILE"] == "cpu-small"
    assert env["LABWORKS_GPU_COUNT"] == "0"
    assert env["LABWORKS_CULL_IDLE_TIMEOUT"] == "3600"
    assert spawner.home_dir == str(tmp_path / "alice")


def test_profile_from_user_options(tmp_path):
    spawner = make_spawner(tmp_path, groups=["ml"])
    spawner.apply_user_options(spawner, {"profile": "gpu-1"})
    assert spawner.workspace_env()["LABWORKS_GPU_COUNT"] == "1"
    assert spawner.cpu_limit is None


def test_invalid_profiles_config_fails_at_load(tmp_path):
    with pytest.raises(TraitError, match="unknown fields"):
        LocalWorkspaceSpawner(profiles=[{"name": "a", "display_name": "A", "ram": 1}])
    with pytest.raises(TraitError, match="duplicate names"):
        LocalWorkspaceSpawner(profiles=[{"name": "a", "display_name": "A"}] * 2)


@pytest.mark.parametrize(
    ("options", "groups", "message"),
    [
        ({"profile": "nope"}, [], "unknown profile 'nope'"),
        ({"profile": "gpu-1"}, ["data"], "limited to groups ml"),
        ({"image": "x"}, [], "unknown workspace options: image"),
    ],
)
def test_bad_options_are_a_400(tmp_path, options, groups, message):
    spawner = make_spawner(tmp_path, groups=groups)
    with pytest.raises(HTTPError) as info:
        spawner.apply_user_options(spawner, options)
    assert info.value.status_code == 400
    assert message in info.value.log_message
