"""The image catalog end to end: `labworks up --registry URL --profiles FILE` against a real
registry (Debian's docker-registry, images built with umoci and pushed with skopeo): the
platform API with real hub tokens, spawns through the hub REST API and the spawn page in a real
browser, the CLI, and the last good catalog while the registry is down."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright

from tests.browser import launch
from tests.integration.test_browser import log_in
from tests.kernel_client import run_code
from tests.platform import API, LABWORKS, Platform, free_port, labworks, wait_for_lab
from tests.registry import Registry

pytestmark = pytest.mark.e2e

MINIMAL = {
    "org.opencontainers.image.title": "labworks-minimal",
    "org.opencontainers.image.description": "JupyterLab, the Labworks extensions and SDK",
    "io.labworks.packages": "labworks==0.1.0,jupyterlab==4.6.6",
    "io.labworks.gpu": "false",
}
PROFILES = """
profiles:
  - name: cpu-small
    display_name: CPU small
    cpu_limit: 2
    mem_limit: 4Gi
    disk_limit: 20Gi
    price_per_hour: 0.10
  - name: minimal-only
    display_name: Minimal only
    cpu_limit: 1
    mem_limit: 2Gi
    allowed_images: [lw/minimal, "users/*"]
"""
# Re-read the registry every second, so an outage shows within seconds.
LOCAL_CONFIG = "c.ImageCatalog.cache_ttl = 1\n"


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    server = Registry(tmp_path_factory.mktemp("images-registry")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def digests(registry) -> dict[str, str]:
    return {
        f"{repository}:{tag}": registry.push(repository, tag, labels)
        for repository, tag, labels in [
            ("lw/minimal", "ci-20", MINIMAL),
            ("lw/minimal", "nightly", MINIMAL),
            ("lw/pytorch-gpu", "ci-20", {"io.labworks.gpu": "true"}),
            ("users/ivy/exp", "ci-1", {"org.opencontainers.image.title": "Ivy's experiment"}),
            ("users/jack/exp", "ci-1", {"org.opencontainers.image.title": "Jack's experiment"}),
        ]
    }


@pytest.fixture(scope="module")
def platform(registry, digests):
    # Workspaces may run as system accounts: their homes must be reachable (0711, as the
    # shared platform fixture does).
    base = Path(tempfile.mkdtemp(prefix="lw-images-", dir="/tmp"))
    base.chmod(0o711)
    home = base / "lw"
    home.mkdir()
    (home / "jupyterhub_config.local.py").write_text(LOCAL_CONFIG)
    profiles = base / "profiles.yaml"
    profiles.write_text(PROFILES)
    p = Platform(home, extra=("--registry", registry.url, "--profiles", str(profiles)))
    p.log_path.touch(mode=0o600)  # it holds the admin password
    p.start()
    for user in ("ivy", "jack"):
        p.add_user(user)
    yield p
    p.stop()
    shutil.rmtree(base)


def headers(platform, user: str) -> dict[str, str]:
    return {"Authorization": f"token {platform.token(user)}"}


def test_the_catalog_needs_a_token(platform):
    for path in ("/images", "/images/resolve?ref=lw/minimal:ci-20"):
        for sent in ({}, {"Authorization": "token not-a-real-token"}):
            reply = httpx.get(platform.url + API + path, headers=sent)
            assert reply.status_code == 401, (path, reply.text)
            assert reply.json()["error"] == "unauthorized"


def test_each_user_sees_the_shared_images_and_their_own(platform, registry, digests):
    ivy = httpx.get(platform.url + API + "/images", headers=headers(platform, "ivy")).json()
    refs = [i["ref"] for i in ivy["images"]]
    assert set(refs) == {"lw/minimal:ci-20", "lw/pytorch-gpu:ci-20", "users/ivy/exp:ci-1"}
    assert (ivy["registry"], ivy["stale"], ivy["warning"]) == (registry.url, False, None)
    minimal = next(i for i in ivy["images"] if i["ref"] == "lw/minimal:ci-20")
    assert minimal["digest"] == digests["lw/minimal:ci-20"]
    assert minimal["pull"] == f"{registry.host}/lw/minimal:ci-20@{minimal['digest']}"
    assert minimal["packages"] == ["labworks==0.1.0", "jupyterlab==4.6.6"]
    assert minimal["description"] == "JupyterLab, the Labworks extensions and SDK"
    assert next(i for i in ivy["images"] if i["ref"] == "users/ivy/exp:ci-1")["owner"] == "ivy"
    jack = httpx.get(platform.url + API + "/images", headers=headers(platform, "jack")).json()
    assert "users/jack/exp:ci-1" in [i["ref"] for i in jack["images"]]
    assert "users/ivy/exp:ci-1" not in [i["ref"] for i in jack["images"]]


def test_resolve_answers_the_digest_or_says_why_not(platform, digests):
    def resolve(ref: str) -> httpx.Response:
        return httpx.get(platform.url + API + "/images/resolve", params={"ref": ref},
                         headers=headers(platform, "ivy"))  # fmt: skip

    assert resolve("lw/minimal:ci-20").json()["digest"] == digests["lw/minimal:ci-20"]
    nightly = resolve("lw/minimal:nightly")
    assert nightly.status_code == 400
    assert nightly.json() == {
        "error": "bad_request",
        "message": "tag 'nightly' of lw/minimal is not a CI build id: workspace images are"
        " offered only by tags matching ^ci-[0-9A-Za-z._-]+$",
    }
    for ref in ("users/jack/exp:ci-1", "lw/minimal:ci-99"):
        missing = resolve(ref)
        assert missing.status_code == 404
        assert missing.json()["message"].startswith(f"unknown image '{ref}'")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"image": "lw/minimal:nightly"}, "tag 'nightly' of lw/minimal is not a CI build id"),
        ({"image": "users/jack/exp:ci-1"}, "unknown image 'users/jack/exp:ci-1'"),
        (
            {"profile": "minimal-only", "image": "lw/pytorch-gpu:ci-20"},
            "image lw/pytorch-gpu is not allowed on profile 'minimal-only'",
        ),
        ({"profile": "huge"}, "unknown profile 'huge'; choose one of: cpu-small, minimal-only"),
    ],
)
def test_a_refused_spawn_is_a_clear_400(platform, options, message):
    reply = httpx.post(
        f"{platform.url}/hub/api/users/ivy/server", headers=headers(platform, "ivy"),
        json=options, timeout=60,
    )  # fmt: skip
    assert reply.status_code == 400, reply.text
    assert message in reply.json()["message"]
    user = httpx.get(f"{platform.url}/hub/api/users/ivy", headers=headers(platform, "ivy"))
    assert not user.json()["servers"]


def test_a_ci_tag_spawns_and_the_workspace_records_its_digest(platform, registry, digests):
    token = platform.token("jack")
    sent = {"Authorization": f"token {token}"}
    server = f"{platform.url}/hub/api/users/jack/server"
    reply = httpx.post(server, headers=sent, json={"image": "users/jack/exp:ci-1"}, timeout=60)
    assert reply.status_code in (201, 202), reply.text
    wait_for_lab(platform.url, "jack", token)
    kernel = httpx.post(f"{platform.url}/user/jack/api/kernels", headers=sent, timeout=60)
    assert kernel.status_code == 201, kernel.text
    kernel_url = f"{platform.url}/user/jack/api/kernels/{kernel.json()['id']}"
    printed = run_code(
        kernel_url.replace("http://", "ws://") + "/channels", token,
        "import os; print(os.environ['LABWORKS_RECORDED_IMAGE'],"
        " os.environ['LABWORKS_RECORDED_IMAGE_DIGEST'], repr(os.environ['LABWORKS_IMAGE']))",
    )  # fmt: skip
    assert printed.split() == [
        f"{registry.host}/users/jack/exp:ci-1",
        digests["users/jack/exp:ci-1"],
        "''",  # the local backend runs the local environment, and says so
    ]
    facts = httpx.get(f"{platform.url}/user/jack/labworks/workspace", headers=sent).json()
    assert facts["image"]["local"] is True
    assert httpx.delete(server, headers=sent, timeout=60).status_code in (202, 204)


def test_cli_lists_and_resolves_images(platform, digests):
    env = {"LABWORKS_URL": platform.url, "LABWORKS_TOKEN": platform.token("ivy")}
    listed = labworks("images", "list", home=platform.home, env=env)
    assert "lw/minimal:ci-20" in listed.stdout and "users/ivy/exp:ci-1" in listed.stdout
    assert "nightly" not in listed.stdout and "users/jack" not in listed.stdout
    resolved = labworks("images", "resolve", "lw/minimal:ci-20", home=platform.home, env=env)
    assert resolved.stdout.split()[0] == digests["lw/minimal:ci-20"]
    refused = labworks("images", "resolve", "lw/minimal:nightly", home=platform.home, env=env,
                       check=False)  # fmt: skip
    assert refused.returncode == 1
    assert "(400): tag 'nightly' of lw/minimal is not a CI build id" in refused.stderr


def test_the_spawn_page_offers_images_and_greys_out_the_ones_a_profile_refuses(
    platform, digests, screenshots
):
    password = platform.add_user("kit")
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        page.set_default_timeout(120_000)
        log_in(page, platform.url, "kit", password)
        page.wait_for_url("**/hub/spawn**")
        gpu_image = page.locator('label.lw-image[data-image="lw/pytorch-gpu:ci-20"]')
        expect(gpu_image.locator("input")).to_be_enabled()  # allowed on CPU small
        expect(page.locator('label.lw-image[data-image="lw/minimal:ci-20"]')).to_contain_text(
            "JupyterLab, the Labworks extensions and SDK"
        )
        expect(page.get_by_test_id("lw-local-note")).to_contain_text("not what runs")
        expect(page.locator("label.lw-image")).to_have_count(2)  # no other user's, no nightly
        expect(page.locator('label.lw-profile[data-profile="cpu-small"]')).to_contain_text(
            "Disk: 20 GiB"
        )
        page.locator('label.lw-profile[data-profile="minimal-only"]').click()
        expect(gpu_image.locator("input")).to_be_disabled()
        expect(gpu_image).to_contain_text(
            "Unavailable: not allowed on profile Minimal only (allowed on: CPU small)"
        )
        minimal = page.locator('label.lw-image[data-image="lw/minimal:ci-20"]')
        expect(minimal.locator("input")).to_be_checked()
        page.screenshot(path=screenshots / "spawn-images.png", full_page=True)
        page.get_by_role("button", name="Start").click()
        page.wait_for_url("**/user/kit/lab**")
        browser.close()
    token = platform.token("kit")
    sent = {"Authorization": f"token {token}"}
    kernel = httpx.post(f"{platform.url}/user/kit/api/kernels", headers=sent, timeout=60)
    printed = run_code(
        f"{platform.url}/user/kit/api/kernels/{kernel.json()['id']}/channels".replace(
            "http://", "ws://"
        ),
        token,
        "import os; print(os.environ['LABWORKS_PROFILE'],"
        " os.environ['LABWORKS_RECORDED_IMAGE_DIGEST'])",
    )
    assert printed.split() == ["minimal-only", digests["lw/minimal:ci-20"]]
    server = f"{platform.url}/hub/api/users/kit/server"
    assert httpx.delete(server, headers=sent, timeout=60).status_code in (202, 204)


def test_a_bad_profiles_file_stops_labworks_up_with_the_reason(tmp_path):
    bad = tmp_path / "profiles.yaml"
    bad.write_text("- {name: cpu, display_name: CPU, mem_limit: 4G}\n")
    done = subprocess.run(
        [*LABWORKS, "up", "--home", str(tmp_path / "lw"), "--port", str(free_port()),
         "--profiles", str(bad)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1
    assert "invalid workspace profiles: profile 'cpu': mem_limit must be bytes" in done.stderr
    assert str(bad) in done.stderr


def test_while_the_registry_is_down_the_last_good_catalog_is_served(platform, registry):
    """Last in this module: it stops the registry (and starts it again)."""
    sent = headers(platform, "ivy")

    def catalog() -> dict:
        reply = httpx.get(platform.url + API + "/images", headers=sent)
        assert reply.status_code == 200, reply.text
        return reply.json()

    def wait_for(stale: bool) -> dict:
        deadline = time.monotonic() + 30
        while (answer := catalog())["stale"] is not stale:
            assert time.monotonic() < deadline, f"catalog never became stale={stale}"
            time.sleep(0.2)
        return answer

    before = wait_for(False)
    registry.stop()
    try:
        down = wait_for(True)
        assert [i["ref"] for i in down["images"]] == [i["ref"] for i in before["images"]]
        assert "cannot reach the image registry" in down["warning"]
        assert "showing the last good image catalog" in down["warning"]
    finally:
        registry.start()
    assert wait_for(False)["warning"] is None
