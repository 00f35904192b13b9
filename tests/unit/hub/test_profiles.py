from __future__ import annotations

import pytest

from labworks_hub.profiles import (
    DEFAULT_PROFILES,
    GiB,
    GPUStatus,
    Profile,
    ProfileError,
    choose_profile,
    gpu_model_matches,
    image_allowed,
    image_refusal,
    parse_profiles,
    read_profiles_file,
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


def test_sizes_take_binary_units():
    data = {"name": "x", "display_name": "X", "mem_limit": "4Gi", "disk_limit": "1.5Ti"}
    profile = Profile.from_dict(data)
    assert (profile.mem_limit, profile.disk_limit) == (4 * GiB, int(1.5 * 1024**4))
    assert Profile.from_dict({**data, "mem_limit": 512 * 1024**2}).mem_limit == 512 * 1024**2
    assert Profile.from_dict({**data, "mem_limit": "512Mi"}).mem_limit == 512 * 1024**2


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("mem_limit", "4G", r"binary unit \(Ki, Mi, Gi, Ti\), not '4G'"),
        ("disk_limit", 0, "must be positive"),
        ("mem_limit", True, "must be bytes"),
        ("cpu_limit", "two", "cpu_limit must be a number >= 0, not 'two'"),
        ("cpu_limit", 0, "leave it out for unlimited"),
        ("gpu_count", -1, "gpu_count must be a whole number >= 0"),
        ("gpu_count", 1.5, "gpu_count must be a whole number"),
        ("groups", "ml", "groups must be a list of names"),
        ("allowed_images", [1], "allowed_images must be a list of names"),
        ("gpu_model", 100, "gpu_model must be text"),
        ("price_per_hour", -1, "price_per_hour must be a number >= 0"),
        ("spot", "yes", "spot must be true or false, not 'yes'"),
        ("node_selector", ["gpu"], "node_selector must map label names to text"),
        ("node_selector", {"gpu": 1}, "node_selector must map label names to text"),
        ("tolerations", {"key": "gpu"}, "tolerations must be a list of tolerations"),
        ("tolerations", ["gpu"], "toleration 'gpu' must be a mapping"),
        ("tolerations", [{"key": "a", "operater": "Exists"}], r"unknown fields \['operater'\]"),
        ("tolerations", [{"key": "a", "operator": "In"}], "operator must be Equal or Exists"),
        ("tolerations", [{"key": "a", "operator": "Exists", "value": "b"}], "Exists takes no"),
        ("tolerations", [{"key": "a", "effect": "NoRun"}], "effect must be one of"),
        ("tolerations", [{"key": 1}], "key, value and effect must be text"),
        ("tolerations", [{"key": "a", "tolerationSeconds": "60"}], "tolerationSeconds must be"),
    ],
)
def test_wrong_types_are_named(field, value, message):
    with pytest.raises(ProfileError, match=message):
        Profile.from_dict({"name": "x", "display_name": "X", field: value})


def test_placement_fields_are_read_and_survive_a_roundtrip():
    tolerations = [
        {"key": "team", "operator": "Equal", "value": "ml", "effect": "NoSchedule"},
        {"key": "spot", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 60},
    ]
    data = {"name": "x", "display_name": "X", "spot": True, "node_selector": {"pool": "gpu"},
            "tolerations": tolerations}  # fmt: skip
    profile = Profile.from_dict(data)
    assert (profile.spot, profile.node_selector) == (True, {"pool": "gpu"})
    assert profile.tolerations == tuple(tolerations)
    assert Profile.from_dict(profile.to_dict()) == profile
    assert hash(profile) == hash(Profile.from_dict(profile.to_dict()))  # still hashable
    plain = Profile.from_dict({"name": "x", "display_name": "X"})
    assert (plain.spot, plain.node_selector, plain.tolerations) == (False, {}, ())


YAML = """
profiles:
  - name: cpu-small
    display_name: CPU small
    cpu_limit: 2
    mem_limit: 4Gi
    disk_limit: 20Gi
    price_per_hour: 0.10
    allowed_images: [labworks/labworks-minimal, "users/*"]
  - name: h100
    display_name: One H100
    gpu_count: 1
    gpu_model: NVIDIA H100 80GB HBM3
    groups: [ml]
"""


def test_profiles_from_a_yaml_file(tmp_path):
    path = tmp_path / "profiles.yaml"
    path.write_text(YAML)
    small, h100 = parse_profiles(read_profiles_file(path))
    assert (small.cpu_limit, small.mem_limit, small.disk_limit) == (2.0, 4 * GiB, 20 * GiB)
    assert small.allowed_images == ("labworks/labworks-minimal", "users/*")
    assert (h100.gpu_count, h100.gpu_model, h100.groups) == (1, "NVIDIA H100 80GB HBM3", ("ml",))
    listed = tmp_path / "list.yaml"
    listed.write_text("- {name: a, display_name: A}\n")  # a bare list works too
    assert [p.name for p in parse_profiles(read_profiles_file(listed))] == ["a"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, "cannot read profiles file .*: No such file"),
        ("profiles: [", "is not valid YAML"),
        ("", "must hold a non-empty list of profiles"),
        ("profiles: {name: a}", "must hold a non-empty list"),
        ("- {name: a, display_name: A, ram: 1}", r"unknown fields \['ram'\] in .*bad.yaml"),
        ("- {name: a, display_name: A}\n- {name: a, display_name: B}", "duplicate profile names"),
        ("- {name: a, display_name: A, mem_limit: lots}", "mem_limit must be bytes"),
    ],
)
def test_a_bad_profiles_file_says_what_and_where(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    if text is not None:
        path.write_text(text)
    with pytest.raises(ProfileError, match=message):
        read_profiles_file(path)


def test_gpu_model_is_checked_against_the_machine_s_gpus():
    h100 = Profile(name="h100", display_name="H100", gpu_count=1, gpu_model="H100")
    two = ("NVIDIA H100 80GB HBM3", "NVIDIA H100 80GB HBM3")
    assert gpu_model_matches("H100", "NVIDIA H100 80GB HBM3")
    assert gpu_model_matches("NVIDIA-H100-80GB-HBM3", "NVIDIA H100 80GB HBM3")  # GFD's label
    assert not gpu_model_matches("A100", "NVIDIA H100 80GB HBM3")
    assert choose_profile([h100], "h100", set(), GPUStatus(2, 2, two, two)) == h100
    with pytest.raises(ProfileError, match="needs 1 x H100; this machine has NVIDIA A10G"):
        choose_profile([h100], "h100", set(), GPUStatus(1, 1, ("NVIDIA A10G",), ("NVIDIA A10G",)))
    mixed = ("NVIDIA H100 80GB HBM3", "NVIDIA A10G")
    with pytest.raises(ProfileError, match=r"all H100 GPUs are in use \(0 free\)"):
        choose_profile([h100], "h100", set(), GPUStatus(2, 1, mixed, ("NVIDIA A10G",)))


def test_allowed_images_are_names_or_globs():
    any_image = Profile(name="a", display_name="A")
    gpu = Profile(name="g", display_name="G", allowed_images=("labworks/*-gpu", "users/*"))
    assert image_allowed(any_image, "anything/at-all")
    assert image_allowed(gpu, "labworks/labworks-pytorch-gpu")
    assert image_allowed(gpu, "users/alice/exp")
    assert not image_allowed(gpu, "labworks/labworks-minimal")
    assert image_refusal(gpu, "labworks/labworks-minimal") == (
        "image labworks/labworks-minimal is not allowed on profile 'g'"
        " (allowed there: labworks/*-gpu, users/*)"
    )
