"""The embedded default shows what it has (issue 15): the platform's own Python environment is
an entry of the image listing, with the digest of its lock, marked the default where no
registry offers images; and the listing says how to add a registry."""

from __future__ import annotations

from typing import ClassVar

from labworks_hub.catalog import local_env_hash, local_environment
from labworks_hub.service.jobs.executors.local import LocalExecutor
from tests.unit.hub.jobs.test_notify import AUTH, client_for, hub_api  # noqa: F401 (fixture)

API = "/services/labworks/api/v1"


class ClusterExecutor(LocalExecutor):
    """Stands in for an executor that runs jobs in images (as the Kubernetes one does)."""

    name: ClassVar[str] = "cluster"


def test_the_local_environment_is_described_with_its_lock_digest():
    local = local_environment()
    assert local.name == "local" and local.digest == local_env_hash()
    assert local.digest.startswith("sha256:") and len(local.digest) == 71
    assert "Python environment this platform runs in" in local.description
    assert any(p.startswith("mlflow==") for p in local.packages)


def test_the_listing_names_the_local_environment_as_the_default(tmp_path, hub_api):  # noqa: F811
    with client_for(tmp_path, hub_api, {}) as client:
        listed = client.get(API + "/images", headers=AUTH)
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert body["images"] == [] and body["registry"] is None
    assert body["local"]["name"] == "local" and body["local"]["default"] is True
    assert body["local"]["digest"] == local_env_hash()
    assert "labworks up --registry" in body["warning"]  # how to offer more


def test_a_cluster_executor_lists_no_local_environment(tmp_path, hub_api):  # noqa: F811
    jobs = {"JobService": {"executor_class": f"{__name__}.ClusterExecutor"}}
    with client_for(tmp_path, hub_api, jobs) as client:
        listed = client.get(API + "/images", headers=AUTH)
    assert listed.status_code == 200, listed.text
    assert listed.json()["local"] is None


def test_the_lock_digest_is_kept_until_a_distribution_is_installed(tmp_path, monkeypatch):
    """Jobs record the digest at each submit; reading every distribution each time cost a
    quarter of a second, so it is read again only when a folder on sys.path changes."""
    import labworks_hub.catalog as catalog

    packages = tmp_path / "site-packages"
    packages.mkdir()
    monkeypatch.syspath_prepend(str(packages))
    before = local_env_hash()
    reads = []
    real = catalog.distributions
    monkeypatch.setattr(catalog, "distributions", lambda: reads.append(1) or real())
    assert local_env_hash() == before and reads == []  # nothing changed: not read again

    (tmp_path / "a-database-file").write_text("")  # a folder elsewhere changes: no read
    assert local_env_hash() == before and reads == []
    info = packages / "newly_installed-1.0.dist-info"  # what pip install leaves
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: newly-installed\nVersion: 1.0\n")
    after = local_env_hash()
    assert reads == [1] and after != before
    assert local_env_hash() == after and reads == [1]
