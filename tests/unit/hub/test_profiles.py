from __future__ import annotations

import pytest

from labworks_hub.profiles import DEFAULT_PROFILES, Profile, ProfileError, choose_profile

GPU = Profile(name="gpu-1", display_name="GPU", gpu_count=1, groups=("ml",))


def test_first_profile_is_the_default():
    assert choose_profile([*DEFAULT_PROFILES, GPU], None, set()).name == "cpu-small"


def test_group_limited_profile():
    assert choose_profile([*DEFAULT_PROFILES, GPU], "gpu-1", {"ml"}).gpu_count == 1
    with pytest.raises(ProfileError, match="limited to groups ml"):
        choose_profile([*DEFAULT_PROFILES, GPU], "gpu-1", {"data"})


def test_unknown_profile_names_the_choices():
    with pytest.raises(
        ProfileError, match=r"unknown profile 'huge'; choose one of: cpu-small, gpu-1"
    ):
        choose_profile([*DEFAULT_PROFILES, GPU], "huge", set())
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
    assert Profile.from_dict(GPU.to_dict()) == GPU
