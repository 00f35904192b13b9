from __future__ import annotations

import pytest

from labworks_hub.profiles import (
    DEFAULT_PROFILES,
    GPUStatus,
    Profile,
    ProfileError,
    choose_profile,
)

CPU = Profile(name="cpu", display_name="CPU")
ML_ONLY = Profile(name="ml-box", display_name="ML", groups=("ml",))
GPU = Profile(name="gpu", display_name="GPU", gpu_count=1)
PROFILES = [CPU, ML_ONLY, GPU]


def test_defaults_are_small_large_and_gpu():
    assert [p.name for p in DEFAULT_PROFILES] == ["cpu-small", "cpu-large", "gpu-1"]
    assert all(p.price_per_hour > 0 for p in DEFAULT_PROFILES)


def test_first_profile_is_the_default():
    assert choose_profile(PROFILES, None, set()).name == "cpu"


def test_group_limited_profile():
    assert choose_profile(PROFILES, "ml-box", {"ml"}) == ML_ONLY
    with pytest.raises(ProfileError, match="not available: limited to groups ml"):
        choose_profile(PROFILES, "ml-box", {"data"})


@pytest.mark.parametrize(
    ("gpus", "message"),
    [
        (GPUStatus(total=0, free=0), "no NVIDIA GPU on this machine"),
        (GPUStatus(total=2, free=0), r"all GPUs are in use \(0 of 2 free\)"),
    ],
)
def test_gpu_profiles_need_a_free_gpu(gpus, message):
    with pytest.raises(ProfileError, match=message):
        choose_profile(PROFILES, "gpu", set(), gpus)
    assert choose_profile(PROFILES, "gpu", set(), GPUStatus(total=2, free=1)) == GPU
    assert choose_profile(PROFILES, "gpu", set(), None) == GPU  # a scheduler decides


def test_unknown_profile_names_the_choices():
    with pytest.raises(ProfileError, match=r"unknown profile 'huge'; choose one of: cpu, ml-box"):
        choose_profile(PROFILES, "huge", set())
    with pytest.raises(ProfileError, match="no workspace profiles"):
        choose_profile([], None, set())


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "x", "display_name": "X", "gpus": 1}, r"unknown fields \['gpus'\]"),
        ({"name": "x"}, r"missing \['display_name'\]"),
    ],
)
def test_bad_profile_dicts_are_named(data, message):
    with pytest.raises(ProfileError, match=message):
        Profile.from_dict(data)


def test_dict_roundtrip():
    assert Profile.from_dict(ML_ONLY.to_dict()) == ML_ONLY
