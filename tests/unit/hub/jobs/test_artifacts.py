"""The artifact store over fsspec, one suite for each backend: the embedded local directory,
fsspec's in-memory filesystem, and real S3 (SeaweedFS on loopback, through s3fs); and a job
whose output and log go to S3."""

from __future__ import annotations

import uuid

import pytest
from traitlets.config import Config

from labworks_hub.service.jobs import models
from labworks_hub.service.jobs import operations as ops
from labworks_hub.service.jobs.artifacts import ArtifactError, ArtifactStore, run_key

from .conftest import ANA, notebook, wait_until_ended


@pytest.fixture(params=["local", "memory", "s3"])
def artifacts(request, tmp_path):
    if request.param == "local":
        return ArtifactStore(url=str(tmp_path / "artifacts"))
    if request.param == "memory":
        return ArtifactStore(url=f"memory://artifacts-test/{tmp_path.name}")
    s3 = request.getfixturevalue("s3")
    url = f"s3://{s3.bucket}/{uuid.uuid4().hex[:12]}"
    return ArtifactStore(url=url, storage_options=s3.storage_options)


def test_put_get_and_ranges(artifacts):
    key = run_key("abc", 1, "log.txt")
    assert key == "runs/abc/1/log.txt"
    assert artifacts.get(key) is None and artifacts.read_from(key, 0, 10) is None
    assert not artifacts.exists(key)
    artifacts.put(key, b"0123456789")
    assert artifacts.exists(key)
    assert artifacts.get(key) == b"0123456789"
    assert artifacts.read_from(key, 3, 4) == b"3456"
    assert artifacts.read_from(key, 8, 100) == b"89"
    assert artifacts.read_from(key, 10, 5) == b""


def test_files_are_copied_in_and_prefixes_deleted(artifacts, tmp_path):
    source = tmp_path / "output.ipynb"
    source.write_text('{"cells": []}')
    artifacts.put_file(run_key("abc", 2, "output.ipynb"), str(source))
    artifacts.put(run_key("abd", 1, "log.txt"), b"x")
    assert artifacts.get(run_key("abc", 2, "output.ipynb")) == b'{"cells": []}'
    artifacts.delete_prefix("runs/abc")
    assert not artifacts.exists(run_key("abc", 2, "output.ipynb"))
    assert artifacts.exists(run_key("abd", 1, "log.txt"))
    artifacts.delete_prefix("runs/none")  # nothing there: no error


def test_the_local_store_says_it_is_local_and_gives_full_uris(tmp_path):
    local = ArtifactStore(url=str(tmp_path / "a"))
    assert local.local and local.uri("runs/x").startswith("file://")
    remote = ArtifactStore(url="memory://bucket/jobs")
    assert not remote.local
    assert remote.uri("runs/x").startswith("memory://")
    assert remote.uri("runs/x").endswith("/bucket/jobs/runs/x")


def test_an_unknown_protocol_is_a_clear_error():
    with pytest.raises(ArtifactError, match="cannot use artifact store 'nope://x'"):
        ArtifactStore(url="nope://x")


def test_an_unwritable_directory_is_an_artifact_error(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    store = ArtifactStore(url=str(blocked))
    with pytest.raises(ArtifactError, match=r"cannot write runs/x/1/log\.txt"):
        store.put(run_key("x", 1, "log.txt"), b"x")


async def test_a_job_keeps_its_output_and_log_in_s3(make_service, s3):
    prefix = f"{s3.bucket}/{uuid.uuid4().hex[:12]}"
    config = Config(
        {"ArtifactStore": {"url": f"s3://{prefix}", "storage_options": s3.storage_options}}
    )
    service = await make_service(config=config)
    job = await ops.submit(service, ANA, models.JobRequest(content=notebook("print('to s3')")))
    done = await wait_until_ended(service, ANA, job.id)
    assert done.status == "succeeded"
    assert "to s3" in (await ops.logs(service, ANA, job.id)).text
    assert (await ops.output(service, ANA, job.id)).complete
    keys = service.artifacts.fs.find(f"{prefix}/runs/{job.id}")
    assert sorted(k.rsplit("/", 1)[1] for k in keys) == ["log.txt", "output.ipynb"]


def test_objects_are_listed_with_sizes_and_opened_for_streaming(artifacts, tmp_path):
    assert artifacts.sizes("datasets/ana/iris/blobs") == {}
    assert artifacts.open("datasets/ana/iris/blobs/aa") is None
    artifacts.put("datasets/ana/iris/blobs/aa", b"12345")
    source = tmp_path / "b"
    source.write_bytes(b"xy")
    artifacts.put_file("datasets/ana/iris/blobs/bb", str(source))
    artifacts.put("datasets/ana/iris/other/cc", b"z")
    assert artifacts.sizes("datasets/ana/iris/blobs") == {"aa": 5, "bb": 2}
    opened = artifacts.open("datasets/ana/iris/blobs/aa")
    assert opened is not None
    stream, size = opened
    with stream:
        assert (stream.read(3), stream.read(), size) == (b"123", b"45", 5)
    artifacts.delete_prefix("datasets/ana/iris")
    assert artifacts.sizes("datasets/ana/iris/blobs") == {}
