"""The profile and image logic every Labworks spawner shares, on the local spawner; images
come from a real registry (tests/registry.py)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from tornado.web import HTTPError
from traitlets import TraitError

from labworks_hub.catalog import ImageCatalog, local_environment
from labworks_hub.gpus import GPU, GPUAllocator
from labworks_hub.service.store import Store
from labworks_hub.spawners import LocalWorkspaceSpawner, WorkspaceSpawnerMixin
from tests.platform import free_port

ML_ONLY = {"name": "ml-box", "display_name": "ML box", "groups": ["ml"]}
MINIMAL_ONLY = {
    "name": "minimal-only",
    "display_name": "Minimal only",
    "allowed_images": ["lwspawn/minimal", "users/*"],
}
MINIMAL = {
    "org.opencontainers.image.title": "Minimal",
    "org.opencontainers.image.description": "JupyterLab and the Labworks SDK",
    "io.labworks.packages": "jupyterlab==4.6.6,labworks==0.1.0",
}


@pytest.fixture(autouse=True)
def no_catalog(monkeypatch):
    """No image catalog unless a test sets one (the hub's catalog is shared per process)."""
    monkeypatch.setattr(WorkspaceSpawnerMixin, "_catalog", ImageCatalog())


@pytest.fixture(scope="module")
def images(registry) -> dict[str, str]:
    pushed = {}
    for repository, tag, labels in [
        ("lwspawn/minimal", "ci-1", MINIMAL),
        ("lwspawn/minimal", "nightly", MINIMAL),
        ("lwspawn/pytorch-gpu", "ci-1", {"io.labworks.gpu": "true"}),
        ("users/alice/mine", "ci-1", {"org.opencontainers.image.title": "Alice's own"}),
        ("users/bob/theirs", "ci-1", {}),
    ]:
        pushed[f"{repository}:{tag}"] = registry.push(repository, tag, labels)
    return pushed


@pytest.fixture
def catalog(registry, images, monkeypatch) -> ImageCatalog:
    catalog = ImageCatalog(registry_url=registry.url, repositories=["lwspawn/*", "users/*"])
    monkeypatch.setattr(WorkspaceSpawnerMixin, "_catalog", catalog)
    return catalog


@pytest.fixture
def gpus(monkeypatch, tmp_path):
    """Two GPU records leased in a store (no GPU exists on this machine)."""
    store = Store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    store.migrate()
    slots = GPUAllocator(store, [GPU(0, "NVIDIA H100", 1), GPU(1, "NVIDIA H100", 1)])
    monkeypatch.setattr(LocalWorkspaceSpawner, "_gpu_slots", slots)
    yield slots
    store.dispose()


@pytest.fixture
def no_gpus(monkeypatch):
    monkeypatch.setattr(LocalWorkspaceSpawner, "_gpu_slots", GPUAllocator(None, []))


def make_spawner(tmp_path, name="alice", groups=()) -> LocalWorkspaceSpawner:
    spawner = LocalWorkspaceSpawner(workspaces_dir=str(tmp_path))
    spawner.user = SimpleNamespace(name=name, groups=[SimpleNamespace(name=g) for g in groups])
    spawner.profiles = [*spawner.profiles, ML_ONLY, MINIMAL_ONLY]
    return spawner


async def apply(spawner, options: dict):
    return await spawner.apply_user_options(spawner, options)


async def test_default_profile_sets_limits_env_and_idle_shutdown(tmp_path, no_gpus):
    spawner = make_spawner(tmp_path)
    await apply(spawner, {})
    assert spawner.cpu_limit == 2.0
    assert spawner.mem_limit == 4 * 1024**3
    env = spawner.workspace_env()
    assert env["LABWORKS_PROFILE"] == "cpu-small"
    assert env["LABWORKS_GPU_COUNT"] == "0"
    assert env["LABWORKS_CULL_IDLE_TIMEOUT"] == "3600"
    assert env["CUDA_VISIBLE_DEVICES"] == ""  # no GPU visible to a CPU workspace
    assert env["LABWORKS_IMAGE"] == env["LABWORKS_RECORDED_IMAGE"] == ""  # the local environment
    args = spawner.idle_shutdown_args()
    assert not any("shutdown_no_activity" in a for a in args)  # IdleMonitor stops it
    assert "--MappingKernelManager.cull_busy=False" in args
    assert spawner.home_dir == str(tmp_path / "alice")


async def test_form_shows_each_profiles_price_computed_unless_it_sets_one(tmp_path, no_gpus):
    spawner = make_spawner(tmp_path)
    spawner.config.CostPrices.cpu_core_hour = 0.05
    spawner.config.CostPrices.memory_gb_hour = 0.01
    spawner.profiles = [
        *spawner.profiles, {"name": "priced", "display_name": "Priced", "cpu_limit": 4,
                            "mem_limit": "8Gi"},
    ]  # fmt: skip
    html = await spawner.render_options_form()
    assert "$0.40/h" in html  # cpu-large sets its own price_per_hour
    priced = html[html.index('value="priced"') :]
    assert "$0.28/h" in priced[: priced.index("</label>")]  # 4 x 0.05 + 8 x 0.01


async def test_gpu_profile_gets_its_own_gpu(tmp_path, gpus):
    alice, bob, carol = (make_spawner(tmp_path, n) for n in ("alice", "bob", "carol"))
    for spawner in (alice, bob):
        await apply(spawner, {"profile": "gpu-1"})
    assert alice.workspace_env()["CUDA_VISIBLE_DEVICES"] == "0"
    assert bob.workspace_env()["CUDA_VISIBLE_DEVICES"] == "1"
    assert alice.get_state()["gpu_indices"] == [0]
    with pytest.raises(HTTPError) as info:
        await apply(carol, {"profile": "gpu-1"})
    assert info.value.status_code == 400
    assert "all GPUs are in use" in info.value.log_message


async def test_form_greys_out_what_the_user_cannot_start(tmp_path, no_gpus):
    html = await make_spawner(tmp_path, groups=["data"]).render_options_form()
    assert 'value="cpu-small" checked' in html
    assert 'value="gpu-1" disabled' in html
    assert "Unavailable: no NVIDIA GPU on this machine" in html
    assert 'value="ml-box" disabled' in html
    assert "Unavailable: limited to groups ml" in html
    assert "$0.40/h" in html
    # no catalog: the local environment is the one entry, the default, with its lock digest
    local = local_environment()
    assert 'data-testid="lw-local-image"' in html
    assert 'Local environment<span class="lw-badge">default</span>' in html
    assert f'title="{local.digest}"' in html and f"Python {local.python}" in html
    assert "labworks up --registry URL" in html  # and how to offer more
    assert 'name="image"' not in html
    assert make_spawner(tmp_path).options_from_form({"profile": ["cpu-large"]}) == {
        "profile": "cpu-large"
    }
    form = {"profile": ["cpu-large"], "image": ["lwspawn/minimal:ci-1"]}
    assert make_spawner(tmp_path).options_from_form(form) == {
        "profile": "cpu-large",
        "image": "lwspawn/minimal:ci-1",
    }


def test_invalid_profiles_config_fails_at_load(tmp_path):
    with pytest.raises(TraitError, match="unknown fields"):
        LocalWorkspaceSpawner(profiles=[{"name": "a", "display_name": "A", "ram": 1}])
    with pytest.raises(TraitError, match="duplicate profile names"):
        LocalWorkspaceSpawner(profiles=[{"name": "a", "display_name": "A"}] * 2)


@pytest.mark.parametrize(
    ("options", "groups", "message"),
    [
        ({"profile": "nope"}, [], "unknown profile 'nope'"),
        ({"profile": "ml-box"}, ["data"], "limited to groups ml"),
        ({"profile": "gpu-1"}, [], "no NVIDIA GPU on this machine"),
        ({"profile": 3}, [], "must be a profile name"),
        ({"image": 3}, [], "the image option must be 'repository:tag'"),
        ({"image": "lwspawn/minimal:ci-1"}, [], "this hub has no image catalog"),
        ({"gpus": 2}, [], "unknown workspace options: gpus"),
    ],
)
async def test_bad_options_are_a_400(tmp_path, no_gpus, options, groups, message):
    spawner = make_spawner(tmp_path, groups=groups)
    with pytest.raises(HTTPError) as info:
        await apply(spawner, options)
    assert info.value.status_code == 400
    assert message in info.value.log_message


async def test_form_offers_the_catalog_images_this_user_may_pick(tmp_path, no_gpus, catalog):
    spawner = make_spawner(tmp_path, "alice")
    spawner.profiles = [MINIMAL_ONLY, *spawner.profiles[:-1]]  # preselected: images limited
    html = await spawner.render_options_form()
    assert 'data-image="lwspawn/minimal:ci-1"' in html
    assert "JupyterLab and the Labworks SDK" in html
    assert "<li>jupyterlab==4.6.6</li>" in html
    assert 'data-image="users/alice/mine:ci-1"' in html  # her own repository
    assert "users/bob" not in html  # not someone else's, not even greyed out
    assert "nightly" not in html  # not a CI build id
    gpu = html.split('data-image="lwspawn/pytorch-gpu:ci-1"')[1].split("</label>")[0]
    assert 'value="lwspawn/pytorch-gpu:ci-1" disabled' in gpu
    assert "not allowed on profile Minimal only (allowed on: CPU small, CPU large, 1 GPU" in gpu
    assert 'data-profiles="cpu-small cpu-large gpu-1 ml-box"' in html  # for the form's script
    assert "not what runs" in html  # the local backend says what it does with the image


async def test_a_ci_tag_is_resolved_to_its_digest_and_recorded(tmp_path, no_gpus, catalog, images):
    spawner = make_spawner(tmp_path, "alice")
    await apply(spawner, {"profile": "cpu-large", "image": "lwspawn/minimal:ci-1"})
    digest = images["lwspawn/minimal:ci-1"]
    assert spawner.image_choice.digest == digest
    env = spawner.workspace_env()
    assert env["LABWORKS_RECORDED_IMAGE"] == f"{catalog.pull_prefix}/lwspawn/minimal:ci-1"
    assert env["LABWORKS_RECORDED_IMAGE_DIGEST"] == digest
    assert env["LABWORKS_IMAGE"] == env["LABWORKS_IMAGE_DIGEST"] == ""  # runs the local env
    # The choice is part of the spawner state: a hub restart still knows it.
    restarted = make_spawner(tmp_path, "alice")
    restarted.load_state(spawner.get_state())
    assert restarted.workspace_env()["LABWORKS_RECORDED_IMAGE_DIGEST"] == digest
    restarted.clear_state()
    assert restarted.workspace_env()["LABWORKS_RECORDED_IMAGE_DIGEST"] == ""
    # Without an image option the local backend records none.
    await apply(spawner, {"profile": "cpu-large"})
    assert spawner.workspace_env()["LABWORKS_RECORDED_IMAGE"] == ""


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"image": "lwspawn/minimal:nightly"},
            "tag 'nightly' of lwspawn/minimal is not a CI build id",
        ),
        ({"image": "lwspawn/minimal:ci-404"}, "unknown image 'lwspawn/minimal:ci-404'"),
        ({"image": "users/bob/theirs:ci-1"}, "unknown image 'users/bob/theirs:ci-1'"),
        ({"image": "lwspawn/minimal@sha256:" + "0" * 64}, "choose an image by its CI tag"),
        (
            {"profile": "minimal-only", "image": "lwspawn/pytorch-gpu:ci-1"},
            "image lwspawn/pytorch-gpu is not allowed on profile 'minimal-only'",
        ),
    ],
)
async def test_a_refused_image_is_a_400_and_takes_nothing(
    tmp_path, gpus, catalog, options, message
):
    spawner = make_spawner(tmp_path, "alice")
    with pytest.raises(HTTPError) as info:
        await apply(
            spawner, {"profile": "gpu-1", **options} if "profile" not in options else options
        )
    assert info.value.status_code == 400
    assert message in info.value.log_message
    assert gpus.status().free == 2  # refused before a GPU was taken
    assert spawner.image_choice is None


async def test_an_unreachable_registry_is_a_503_at_spawn(tmp_path, no_gpus, monkeypatch):
    down = ImageCatalog(registry_url=f"http://127.0.0.1:{free_port()}")
    monkeypatch.setattr(WorkspaceSpawnerMixin, "_catalog", down)
    spawner = make_spawner(tmp_path)
    with pytest.raises(HTTPError) as info:
        await apply(spawner, {"image": "lwspawn/minimal:ci-1"})
    assert info.value.status_code == 503
    assert "cannot check image 'lwspawn/minimal:ci-1' now: cannot reach" in info.value.log_message
    html = await spawner.render_options_form()
    assert "no image catalog has been read yet" in html


PROFILES_YAML = """
- name: big-disk
  display_name: Big disk
  cpu_limit: 4
  mem_limit: 8Gi
  disk_limit: 100Gi
- name: h100
  display_name: H100
  gpu_count: 2
  gpu_model: NVIDIA H100
"""


async def test_profiles_from_a_yaml_file(tmp_path, no_gpus):
    path = tmp_path / "profiles.yaml"
    path.write_text(PROFILES_YAML)
    spawner = LocalWorkspaceSpawner(workspaces_dir=str(tmp_path), profiles_file=str(path))
    spawner.user = SimpleNamespace(name="alice", groups=[])
    assert [p.name for p in spawner.parsed_profiles] == ["big-disk", "h100"]
    html = await spawner.render_options_form()
    assert "<li>Disk: 100 GiB</li>" in html
    assert "<li>GPUs: 2 × NVIDIA H100</li>" in html  # noqa: RUF001 (the page's sign)
    await apply(spawner, {})
    assert (spawner.cpu_limit, spawner.mem_limit) == (4.0, 8 * 1024**3)
    both = LocalWorkspaceSpawner(
        profiles_file=str(path), profiles=[{"name": "a", "display_name": "A"}]
    )
    with pytest.raises(TraitError, match="either profiles or profiles_file"):
        both.parsed_profiles  # noqa: B018
    path.write_text("- {name: a, display_name: A, gpus: 1}")
    with pytest.raises(TraitError, match=r"unknown fields \['gpus'\] in .*profiles.yaml"):
        LocalWorkspaceSpawner(profiles_file=str(path)).parsed_profiles  # noqa: B018
