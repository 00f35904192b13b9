"""The image catalog against a real registry (Debian's docker-registry on loopback, images
built with umoci and pushed with skopeo): pagination, labels, digests, the CI tag filter,
personal repositories, and the last good catalog while the registry is down."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time

import httpx
import pytest
from traitlets.config import Config

from labworks_hub.catalog import (
    ImageCatalog,
    ImageNotFound,
    ImageRefused,
    RegistryUnavailable,
    parse_ref,
)
from labworks_hub.hubconfig import HubSettings, finish, render
from labworks_hub.registry import OCI_INDEX, RegistryClient
from tests.platform import free_port
from tests.registry import OCI_MANIFEST, Registry, TokenServer

MINIMAL = "labworks/labworks-minimal"
GPU = "labworks/labworks-pytorch-gpu"
LABELS = {
    "org.opencontainers.image.title": "labworks-minimal",
    "org.opencontainers.image.description": "Labworks workspace: JupyterLab and the SDK",
    "org.opencontainers.image.source": "https://example.org/labworks",
    "org.opencontainers.image.revision": "0123abc",
    "io.labworks.packages": "labworks==0.1.0, jupyterlab==4.6.6",
    "io.labworks.gpu": "false",
}


@pytest.fixture(scope="module")
def images(registry: Registry) -> dict[str, str]:
    """The images of this module, by reference -> digest; non-CI tags included on purpose."""
    pushed = {}
    for repository, tag, extra in [
        (MINIMAL, "ci-9", {"org.opencontainers.image.created": "2026-01-09T00:00:00Z"}),
        (MINIMAL, "ci-10", {"org.opencontainers.image.created": "2026-01-10T00:00:00Z"}),
        (MINIMAL, "latest", {}),
        (MINIMAL, "dev-3", {}),
        (GPU, "ci-10", {"io.labworks.gpu": "true", "org.opencontainers.image.title": "gpu"}),
        ("users/alice/experiment", "ci-1", {"org.opencontainers.image.title": "alice's"}),
        ("users/bob/experiment", "ci-1", {"org.opencontainers.image.title": "bob's"}),
    ]:
        pushed[f"{repository}:{tag}"] = registry.push(repository, tag, {**LABELS, **extra})
    return pushed


def catalog(registry: Registry, **traits) -> ImageCatalog:
    return ImageCatalog(registry_url=registry.url, **traits)


def refs(images) -> list[str]:
    return [i.ref for i in images]


async def test_ci_tags_with_their_labels_and_digests(registry, images):
    snapshot = await catalog(registry, repositories=["labworks/*"]).snapshot()
    assert not snapshot.stale and snapshot.warning is None
    assert refs(snapshot.images) == [f"{MINIMAL}:ci-10", f"{MINIMAL}:ci-9", f"{GPU}:ci-10"]
    newest = snapshot.images[0]
    assert newest.digest == images[f"{MINIMAL}:ci-10"]  # what skopeo pushed
    assert newest.title == "labworks-minimal"
    assert newest.description == "Labworks workspace: JupyterLab and the SDK"
    assert newest.packages == ("labworks==0.1.0", "jupyterlab==4.6.6")
    assert newest.gpu is False
    assert newest.created == "2026-01-10T00:00:00Z"
    assert (newest.source, newest.revision) == ("https://example.org/labworks", "0123abc")
    assert snapshot.images[2].gpu is True


async def test_catalog_and_tag_lists_follow_link_pagination(registry, images):
    async with RegistryClient(registry.url, page_size=1000) as client:
        everything = await client.repositories()
    async with RegistryClient(registry.url, page_size=1) as client:
        paged = await client.repositories()
        with pytest.raises(ImageNotFound):
            await client.tags("labworks/does-not-exist")
    assert len(everything) >= 4
    assert paged == everything  # one repository per page: only the Link header finds the rest


async def test_personal_repositories_are_offered_to_their_user_only(registry, images):
    cat = catalog(registry)
    snapshot = await cat.snapshot()
    alice = refs(cat.visible(snapshot, "alice"))
    assert "users/alice/experiment:ci-1" in alice
    assert "users/bob/experiment:ci-1" not in alice
    assert "users/bob/experiment:ci-1" in refs(cat.visible(snapshot, "bob"))
    assert not [r for r in refs(cat.visible(snapshot, None)) if r.startswith("users/")]
    with pytest.raises(ImageNotFound) as theirs:
        await cat.resolve("users/bob/experiment:ci-1", "alice")
    with pytest.raises(ImageNotFound) as missing:
        await cat.resolve("users/bob/nothing-here:ci-1", "alice")
    # Someone else's repository reads exactly like one that does not exist.
    assert str(theirs.value).replace("experiment", "X") == str(missing.value).replace(
        "nothing-here", "X"
    )
    mine = await cat.resolve("users/alice/experiment:ci-1", "alice")
    assert mine.digest == images["users/alice/experiment:ci-1"]


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        (f"{MINIMAL}:latest", "tag 'latest' of labworks/labworks-minimal is not a CI build id"),
        (f"{MINIMAL}:dev-3", "is not a CI build id"),
        (f"{MINIMAL}@sha256:" + "0" * 64, "choose an image by its CI tag"),
        (MINIMAL, "has no tag"),
        ("Labworks/UPPER:ci-1", "not a valid image reference"),
        ("", "must be given as 'repository:tag'"),
    ],
)
async def test_an_image_tag_that_is_not_a_ci_build_id_is_refused(registry, images, ref, message):
    with pytest.raises(ImageRefused, match=message):
        await catalog(registry).resolve(ref, "alice")


async def test_resolve_reads_the_registry_now(registry, images):
    cat = catalog(registry, repositories=["labworks/*"])
    await cat.snapshot()
    digest = registry.push(MINIMAL, "ci-11", LABELS, content="a build after the catalog was read")
    resolved = await cat.resolve(f"{registry.host}/{MINIMAL}:ci-11", "alice")  # host prefix is ok
    assert (resolved.ref, resolved.digest) == (f"{MINIMAL}:ci-11", digest)
    assert cat.pull_reference(resolved) == f"{registry.host}/{MINIMAL}:ci-11"
    with pytest.raises(ImageNotFound, match="unknown image"):
        await cat.resolve(f"{MINIMAL}:ci-999", "alice")


async def test_tag_pattern_and_repositories_are_configurable(registry, images):
    registry.push("other/tool", "release-7", LABELS)
    registry.push("other/tool", "ci-7", LABELS)
    cat = catalog(registry, tag_pattern=r"^release-\d+$", repositories=["other/tool"])
    assert refs((await cat.snapshot()).images) == ["other/tool:release-7"]
    with pytest.raises(ImageRefused, match=r"only by tags matching \^release-"):
        await cat.resolve("other/tool:ci-7", "alice")
    with pytest.raises(ImageNotFound):
        await cat.resolve(f"{MINIMAL}:release-1", "alice")  # not in `repositories`


async def test_an_image_index_is_read_through_its_linux_amd64_manifest(registry, images):
    manifest = images[f"{GPU}:ci-10"]
    index = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {
                    "mediaType": OCI_MANIFEST,
                    "digest": manifest,
                    "size": len(httpx.get(f"{registry.url}/v2/{GPU}/manifests/{manifest}",
                                          headers={"Accept": OCI_MANIFEST}).content),
                    "platform": {"os": "linux", "architecture": "amd64"},
                }
            ],
        }
    ).encode()  # fmt: skip
    put = httpx.put(
        f"{registry.url}/v2/{GPU}/manifests/ci-12", content=index,
        headers={"Content-Type": OCI_INDEX},
    )  # fmt: skip
    assert put.status_code == 201, put.text
    resolved = await catalog(registry).resolve(f"{GPU}:ci-12", None)
    assert resolved.digest == "sha256:" + hashlib.sha256(index).hexdigest()  # the index's own
    assert (resolved.title, resolved.gpu) == ("gpu", True)  # labels of the amd64 image


async def test_a_stopped_registry_serves_the_last_good_catalog(tmp_path):
    own = Registry(tmp_path / "registry").start()
    try:
        digest = own.push("team/base", "ci-1", LABELS)
        cache = tmp_path / "state" / "image-catalog.json"
        cat = ImageCatalog(registry_url=own.url, cache_file=str(cache))
        assert refs((await cat.refresh()).images) == ["team/base:ci-1"]
        assert json.loads(cache.read_text())["images"][0]["digest"] == digest
        own.stop()

        stale = await cat.refresh()
        assert stale.stale is True
        assert refs(stale.images) == ["team/base:ci-1"]
        assert "cannot reach the image registry" in stale.warning
        assert "showing the last good image catalog" in stale.warning
        # A restart (a new catalog on the same cache file) serves it at once, then marks it.
        restarted = ImageCatalog(registry_url=own.url, cache_file=str(cache))
        started = time.monotonic()
        first = await restarted.snapshot()
        assert time.monotonic() - started < 0.5
        assert refs(first.images) == ["team/base:ci-1"]
        assert (await restarted.refresh()).stale is True
        # Spawning still resolves a cached tag (tags are never moved), not an unknown one.
        assert (await restarted.resolve("team/base:ci-1", "alice")).digest == digest
        with pytest.raises(RegistryUnavailable, match="cannot reach"):
            await restarted.resolve("team/base:ci-2", "alice")

        own.start()
        fresh = await restarted.refresh()
        assert (fresh.stale, fresh.warning) == (False, None)
    finally:
        own.stop()


async def test_a_registry_never_read_is_reported_not_invented(tmp_path):
    cat = ImageCatalog(registry_url=f"http://127.0.0.1:{free_port()}")
    snapshot = await cat.snapshot()
    assert (snapshot.images, snapshot.fetched_at, snapshot.stale) == ((), None, True)
    assert "no image catalog has been read yet" in snapshot.warning


async def test_an_expired_catalog_is_refreshed_in_the_background(registry, images):
    cat = catalog(registry, repositories=["late/*"], cache_ttl=0)
    assert (await cat.snapshot()).images == ()
    registry.push("late/arrival", "ci-1", LABELS)
    deadline = time.monotonic() + 10
    while not (await cat.snapshot()).images:  # each read returns at once, the refresh follows
        assert time.monotonic() < deadline, "the catalog was not refreshed"
        await asyncio.sleep(0.05)
    assert refs((await cat.snapshot()).images) == ["late/arrival:ci-1"]


async def test_basic_auth_credentials(tmp_path):
    own = Registry(tmp_path / "registry", users={"ci": "s3cret-pass"}).start()
    try:
        own.push("team/base", "ci-1", LABELS)
        anonymous = await ImageCatalog(registry_url=own.url).refresh()
        assert anonymous.stale and "refused access (401)" in anonymous.warning
        assert "s3cret" not in anonymous.warning
        cat = ImageCatalog(registry_url=own.url, username="ci", password="s3cret-pass")
        assert refs((await cat.refresh()).images) == ["team/base:ci-1"]
    finally:
        own.stop()


def test_parse_ref():
    assert parse_ref("a/b-c:ci-1.2_3") == ("a/b-c", "ci-1.2_3")
    with pytest.raises(ImageRefused):
        parse_ref("a/b:c/d")


def test_hub_config_hands_the_catalog_to_the_service(tmp_path):
    """`labworks up --registry URL`: the hub's spawners and the platform service read the same
    registry with the same settings, overrides in jupyterhub_config.local.py included."""
    settings = HubSettings(home=str(tmp_path), ip="127.0.0.1", port=8000, hub_port=1,
                           proxy_api_port=2, service_port=3, db_url="sqlite://",
                           registry_url="http://127.0.0.1:5000")  # fmt: skip
    config = Config()
    namespace = {"get_config": lambda: config, "load_subconfig": lambda path: None}
    exec(render(settings), namespace)  # noqa: S102
    assert config.ImageCatalog.registry_url == "http://127.0.0.1:5000"
    assert config.ImageCatalog.cache_file == str(tmp_path / "image-catalog.json")
    config.ImageCatalog.tag_pattern = r"^build-\d+$"  # as an override would
    finish(config, settings)
    [service] = [s for s in config.JupyterHub.services if s["name"] == "labworks"]
    handed = json.loads(service["environment"]["LABWORKS_IMAGE_CATALOG"])
    assert handed["registry_url"] == "http://127.0.0.1:5000"
    assert handed["tag_pattern"] == r"^build-\d+$"
    assert handed["cache_file"] == str(tmp_path / "platform" / "image-catalog.json")  # its own


async def test_bearer_token_challenge(tmp_path):
    """The token flow of Docker Hub, GHCR, Harbor: a 401 names the token service, which hands
    out a token for the scope asked (here after checking basic credentials)."""
    tokens = TokenServer(tmp_path, {"ci": "s3cret-pass"}).start()
    own = Registry(tmp_path / "registry", users={"ci": "s3cret-pass"}, token_server=tokens)
    try:
        digest = own.start().push("team/base", "ci-1", LABELS)
        issued = tokens.issued
        cat = ImageCatalog(registry_url=own.url, username="ci", password="s3cret-pass")
        snapshot = await cat.refresh()
        assert (refs(snapshot.images), snapshot.images[0].digest) == (["team/base:ci-1"], digest)
        assert tokens.issued - issued == 2  # one for the catalog, one for the repository
        wrong = await ImageCatalog(registry_url=own.url, username="ci", password="no").refresh()
        assert wrong.stale and "refused access (401)" in wrong.warning
    finally:
        own.stop()
        tokens.stop()


async def test_an_artifact_that_is_not_an_image_is_skipped(registry, images):
    """A Helm chart (or any OCI artifact) in the registry is not offered; the rest still is."""
    blob = b'{"name": "chart"}'
    digest = "sha256:" + hashlib.sha256(blob).hexdigest()
    upload = httpx.post(f"{registry.url}/v2/charts/web/blobs/uploads/")
    location = upload.headers["location"]
    httpx.put(f"{location}&digest={digest}", content=blob).raise_for_status()
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.cncf.helm.config.v1+json",
                   "digest": digest, "size": len(blob)},
        "layers": [],
    }  # fmt: skip
    httpx.put(
        f"{registry.url}/v2/charts/web/manifests/ci-1", content=json.dumps(manifest).encode(),
        headers={"Content-Type": OCI_MANIFEST},
    ).raise_for_status()  # fmt: skip
    cat = catalog(registry, repositories=["charts/*", "labworks/*"])
    snapshot = await cat.refresh()
    assert not snapshot.stale
    assert "charts/web:ci-1" not in refs(snapshot.images)
    assert f"{MINIMAL}:ci-10" in refs(snapshot.images)
    with pytest.raises(ImageNotFound, match="unknown image 'charts/web:ci-1'"):
        await cat.resolve("charts/web:ci-1", "alice")
