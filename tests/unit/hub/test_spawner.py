"""The profile logic every Labworks spawner shares, on the local spawner."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from tornado.web import HTTPError
from traitlets import TraitError

from labworks_hub.gpus import GPU, GPUSlots
from labworks_hub.spawners import LocalWorkspaceSpawner

ML_ONLY = {"name": "ml-box", "display_name": "ML box", "groups": ["ml"]}


@pytest.fixture
def gpus(monkeypatch):
    """Two GPU records for the local slots (no GPU exists on this machine)."""
    slots = GPUSlots([GPU(0, "NVIDIA H100", 1), GPU(1, "NVIDIA H100", 1)])
    monkeypatch.setattr(LocalWorkspaceSpawner, "_gpu_slots", slots)
    return slots


@pytest.fixture
def no_gpus(monkeypatch):
    monkeypatch.setattr(LocalWorkspaceSpawner, "_gpu_slots", GPUSlots([]))


def make_spawner(tmp_path, name="alice", groups=()) -> LocalWorkspaceSpawner:
    spawner = LocalWorkspaceSpawner(workspaces_dir=str(tmp_path))
    spawner.user = SimpleNamespace(name=name, groups=[SimpleNamespace(name=g) for g in groups])
    spawner.profiles = [*spawner.profiles, ML_ONLY]
    return spawner


def test_default_profile_sets_limits_env_and_idle_shutdown(tmp_path, no_gpus):
    spawner = make_spawner(tmp_path)
    spawner.apply_user_options(spawner, {})
    assert spawner.cpu_limit == 2.0
    assert spawner.mem_limit == 4 * 1024**3
    env = spawner.workspace_env()
    assert env["LABWORKS_PROFILE"] == "cpu-small"
    assert env["LABWORKS_GPU_COUNT"] == "0"
    assert env["LABWORKS_CULL_IDLE_TIMEOUT"] == "3600"
    assert env["CUDA_VISIBLE_DEVICES"] == ""  # no GPU visible to a CPU workspace
    args = spawner.idle_shutdown_args()
    assert "--ServerApp.shutdown_no_activity_timeout=3600" in args
    assert "--MappingKernelManager.cull_busy=False" in args
    assert spawner.home_dir == str(tmp_path / "alice")


def test_gpu_profile_gets_its_own_gpu(tmp_path, gpus):
    alice, bob, carol = (make_spawner(tmp_path, n) for n in ("alice", "bob", "carol"))
    for spawner in (alice, bob):
        spawner.apply_user_options(spawner, {"profile": "gpu-1"})
    assert alice.workspace_env()["CUDA_VISIBLE_DEVICES"] == "0"
    assert bob.workspace_env()["CUDA_VISIBLE_DEVICES"] == "1"
    assert alice.get_state()["gpu_indices"] == [0]
    with pytest.raises(HTTPError) as info:
        carol.apply_user_options(carol, {"profile": "gpu-1"})
    assert info.value.status_code == 400
    assert "all GPUs are in use" in info.value.log_message


def test_form_greys_out_what_the_user_cannot_start(tmp_path, no_gpus):
    html = make_spawner(tmp_path, groups=["data"]).render_options_form()
    assert 'value="cpu-small" checked' in html
    assert 'value="gpu-1" disabled' in html
    assert "Unavailable: no NVIDIA GPU on this machine" in html
    assert 'value="ml-box" disabled' in html
    assert "Unavailable: limited to groups ml" in html
    assert "$0.40/h" in html
    assert make_spawner(tmp_path).options_from_form({"profile": ["cpu-large"]}) == {
        "profile": "cpu-large"
    }


def test_invalid_profiles_config_fails_at_load(tmp_path):
    with pytest.raises(TraitError, match="unknown fields"):
        LocalWorkspaceSpawner(profiles=[{"name": "a", "display_name": "A", "ram": 1}])
    with pytest.raises(TraitError, match="duplicate names"):
        LocalWorkspaceSpawner(profiles=[{"name": "a", "display_name": "A"}] * 2)


@pytest.mark.parametrize(
    ("options", "groups", "message"),
    [
        ({"profile": "nope"}, [], "unknown profile 'nope'"),
        ({"profile": "ml-box"}, ["data"], "limited to groups ml"),
        ({"profile": "gpu-1"}, [], "no NVIDIA GPU on this machine"),
        ({"profile": 3}, [], "must be a profile name"),
        ({"image": "x"}, [], "unknown workspace options: image"),
    ],
)
def test_bad_options_are_a_400(tmp_path, no_gpus, options, groups, message):
    spawner = make_spawner(tmp_path, groups=groups)
    with pytest.raises(HTTPError) as info:
        spawner.apply_user_options(spawner, options)
    assert info.value.status_code == 400
    assert message in info.value.log_message
