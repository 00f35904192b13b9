"""One GPU allocator for workspaces and jobs: leases in the platform store, on SQLite and on a
real PostgreSQL. No GPU exists on this machine, so the inventory is injected (GPU records and
`LocalExecutor.gpus`); everything else is real: the store, the local spawner (the hub's side),
the job service running papermill (the platform service's side), JupyterHub's own ORM."""

from __future__ import annotations

import asyncio
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from types import SimpleNamespace

import pytest
from jupyterhub import orm
from traitlets.config import Config

from labworks_hub.gpus import GPU, GPUAllocator, NoGPUAvailable
from labworks_hub.profiles import GPUStatus
from labworks_hub.service.jobs import models
from labworks_hub.service.jobs import operations as ops
from labworks_hub.service.jobs.service import JobService
from labworks_hub.service.store import Store
from labworks_hub.service.store import gpus as leases
from labworks_hub.service.store.models import utcnow
from labworks_hub.spawners import LocalWorkspaceSpawner

from .conftest import ANA, PROFILES, notebook, wait_until, wait_until_ended

HOST = "gpu-box"
TWO = [GPU(0, "NVIDIA H100", 80 * 2**30), GPU(1, "NVIDIA H100", 80 * 2**30)]
JOB_CONFIG = {"LocalExecutor": {"gpus": [0, 1]}, "GPUAllocator": {"host": HOST}}


@pytest.fixture
def hub_gpus(store, monkeypatch) -> GPUAllocator:
    """The hub's allocator (what LocalWorkspaceSpawner makes from NVML and its db_url)."""
    allocator = GPUAllocator(store, TWO, host=HOST)
    monkeypatch.setattr(LocalWorkspaceSpawner, "_gpu_slots", allocator)
    monkeypatch.setattr(LocalWorkspaceSpawner, "_gpu_reconciled", False)
    return allocator


@pytest.fixture
async def services(store, tmp_path):
    """Job services (the platform service's side) on the same store; stopped at the end, with
    whatever they still run killed."""
    started: list[JobService] = []

    async def make() -> JobService:
        service = JobService(
            store, PROFILES, state_dir=str(tmp_path / "state"), config=Config(JOB_CONFIG),
            poll_interval=0.2, retry_backoff=0.2,
        )  # fmt: skip
        await service.start()
        started.append(service)
        return service

    yield make
    for service in started:
        for state in list(service._active.values()):
            await service.executor.cancel(state)
        await service.stop()


def spawner(tmp_path, name: str, state: dict | None = None) -> LocalWorkspaceSpawner:
    made = LocalWorkspaceSpawner(workspaces_dir=str(tmp_path / "users"))
    made.user = SimpleNamespace(name=name, groups=[])
    made.load_state(state or {})
    return made


def gpu_job(flag) -> dict:
    """Prints its GPUs, then holds them until the test creates `flag`."""
    return notebook(
        "import os, time\nprint('gpus', os.environ['CUDA_VISIBLE_DEVICES'], flush=True)",
        f"while not os.path.exists({str(flag)!r}):\n    time.sleep(0.05)",
    )


def test_each_gpu_goes_to_one_holder(store):
    gpus = GPUAllocator(store, TWO, host=HOST)
    assert gpus.acquire("workspace:alice/", "alice", 1) == [0]
    assert gpus.acquire("workspace:alice/", "alice", 1) == [0]  # asking again is idempotent
    assert gpus.acquire("job:j1", "bob", 1) == [1]
    assert gpus.status() == GPUStatus(total=2, free=0, models=("NVIDIA H100",) * 2)
    with pytest.raises(NoGPUAvailable, match=r"1 GPU\(s\) requested, 0 of 2 free"):
        gpus.acquire("workspace:carol/", "carol", 1)
    assert GPUAllocator(store, TWO, host="other-box").acquire("job:j2", "bob", 2) == [0, 1]
    assert gpus.release("workspace:alice/") == [0]
    assert gpus.acquire("workspace:carol/", "carol", 1) == [0]
    assert gpus.held() == {0: "workspace:carol/", 1: "job:j1"}
    with pytest.raises(NoGPUAvailable):  # a failed multi-GPU acquire keeps nothing it took
        gpus.acquire("job:j3", "dan", 2)
    gpus.release("job:j1")
    with pytest.raises(NoGPUAvailable):
        gpus.acquire("job:j3", "dan", 2)
    assert gpus.held() == {0: "workspace:carol/"}


@pytest.mark.parametrize("count", [1, 2])
def test_concurrent_acquirers_never_get_the_same_gpu(store, db_url, count):
    """Twelve threads on two engines (like the hub and the platform service) ask at once."""
    other = Store(db_url)
    inventory = [GPU(i) for i in range(5)]
    allocators = [GPUAllocator(s, inventory, host=HOST) for s in (store, other)]
    barrier = threading.Barrier(12)

    def take(i: int) -> list[int]:
        barrier.wait()
        try:
            return allocators[i % 2].acquire(f"job:t{i}", "ana", count)
        except NoGPUAvailable:
            return []

    try:
        with ThreadPoolExecutor(12) as pool:
            results = list(pool.map(take, range(12)))
    finally:
        other.dispose()
    given = [index for got in results for index in got]
    assert len(given) == len(set(given)) == 5 // count * count
    winners = {f"job:t{i}": got for i, got in enumerate(results) if got}
    held = allocators[0].held()
    assert sorted(held) == sorted(given)  # losers left no partial lease behind
    assert all(held[index] == holder for holder, got in winners.items() for index in got)


async def test_a_workspace_gpu_makes_a_job_take_the_other_and_the_next_one_wait(
    store, hub_gpus, services, tmp_path
):
    alice = spawner(tmp_path, "alice")
    await alice.apply_user_options(alice, {"profile": "gpu-1"})
    assert alice.gpu_indices == [0]
    service = await services()
    flag = tmp_path / "release-gpu"
    first = await ops.submit(
        service, ANA, models.JobRequest(content=gpu_job(flag), profile="gpu-1")
    )
    await wait_until(lambda: _logged(service, first.id, "gpus 1"), what="first job on GPU 1")
    assert hub_gpus.held() == {0: "workspace:alice/", 1: f"job:{first.id}"}
    waiting = await ops.submit(
        service, ANA, models.JobRequest(content=gpu_job(flag), profile="gpu-1")
    )
    passing = await ops.submit(service, ANA, models.JobRequest(content=notebook("1 + 1")))
    assert (await wait_until_ended(service, ANA, passing.id)).status == "succeeded"
    job = await ops.get_job(service, ANA, waiting.id)
    assert job.status == "queued"  # no GPU free: it waits; the CPU job behind it went ahead
    bob = spawner(tmp_path, "bob")
    with pytest.raises(Exception, match="all GPUs are in use"):
        await bob.apply_user_options(bob, {"profile": "gpu-1"})
    flag.touch()
    assert (await wait_until_ended(service, ANA, first.id)).status == "succeeded"
    done = await wait_until_ended(service, ANA, waiting.id)
    assert done.status == "succeeded"
    assert "gpus 1" in (await ops.logs(service, ANA, waiting.id)).text
    assert hub_gpus.held() == {0: "workspace:alice/"}  # the jobs gave theirs back
    await alice.stop()
    assert hub_gpus.held() == {}


async def test_after_a_hub_restart_running_workspaces_keep_their_gpus_dead_ones_free_them(
    store, hub_gpus, tmp_path
):
    running = subprocess.Popen(["sleep", "60"])
    gone = subprocess.Popen(["true"])
    gone.wait()
    try:
        with store.session() as s:  # bob's lease is still there; alice's was lost meanwhile
            leases.acquire(s, HOST, "workspace:bob/", "bob", 1, [1])
        alice = spawner(tmp_path, "alice", {"pid": running.pid, "gpu_indices": [0]})
        bob = spawner(tmp_path, "bob", {"pid": gone.pid, "gpu_indices": [1]})
        assert await alice.poll() is None
        assert hub_gpus.held() == {0: "workspace:alice/", 1: "workspace:bob/"}
        assert await bob.poll() is not None
        assert hub_gpus.held() == {0: "workspace:alice/"}
    finally:
        running.kill()
        running.wait()


async def test_the_hub_frees_leases_of_workspaces_it_does_not_run(store, hub_gpus, tmp_path):
    """At its first GPU use, the hub compares the leases with its own database (JupyterHub's
    ORM): a lease whose workspace is not running there is freed."""
    db = orm.new_session_factory("sqlite://")()
    for name, runs in (("alice", True), ("bob", False)):
        user = orm.User(name=name)
        db.add(user)
        db.commit()
        server = orm.Spawner(user_id=user.id, name="")
        server.server = orm.Server() if runs else None
        db.add(server)
    db.commit()
    with store.session() as s:
        leases.acquire(s, HOST, "workspace:alice/", "alice", 1, [0])
        leases.acquire(s, HOST, "workspace:bob/", "bob", 1, [1])
        leases.acquire(s, HOST, "job:j1", "bob", 1, [2])  # not the hub's: left alone
    carol = spawner(tmp_path, "carol")
    carol.db = db
    await carol.render_options_form()
    assert hub_gpus.held() == {0: "workspace:alice/", 2: "job:j1"}
    assert carol.gpu_status().free == 1
    db.close()


async def test_after_a_platform_restart_jobs_keep_their_gpus_and_stale_leases_are_freed(
    store, services, tmp_path
):
    gpus = GPUAllocator(store, TWO, host=HOST)
    first = await services()
    flag = tmp_path / "release-gpu"
    job = await ops.submit(first, ANA, models.JobRequest(content=gpu_job(flag), profile="gpu-1"))
    await wait_until(lambda: _logged(first, job.id, "gpus 0"), what="job on GPU 0")
    await first.stop()  # the job runs on; its lease is lost, and a dead job's lease is left
    gpus.release(f"job:{job.id}")
    with store.session() as s:
        leases.acquire(s, HOST, "job:ghost", "ana", 1, [1])
        s.get(leases.GPULease, (HOST, 1)).since = utcnow() - timedelta(minutes=5)
    second = await services()
    assert gpus.held() == {0: f"job:{job.id}"}
    flag.touch()
    assert (await wait_until_ended(second, ANA, job.id)).status == "succeeded"
    assert gpus.held() == {}


async def _logged(service, job_id: str, text: str) -> bool:
    await asyncio.sleep(0)
    return text in (await ops.logs(service, ANA, job_id)).text
