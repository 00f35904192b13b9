"""The executor contract (executors/base.py), one suite every executor passes through the job
service: a job runs to success, is seen running, is cancelled, survives a restart of the service
(a new service on the same store re-attaches it) and is stopped at its timeout; the service
stops even as its executor wakes it (asyncio.wait_for on Python 3.11 once lost that cancel).

Each executor comes with a `Backend` that plays its outside world: the local executor runs real
papermill processes, whose notebook waits on a loopback `Gate` the test opens; the Kubernetes
executor talks to the fake API of test_kubernetes.py, one cluster shared by every service of the
test, which the test moves. The store backends are the service tests' business: SQLite here.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

import pytest
from traitlets.config import Config

from labworks_hub.service.jobs import models
from labworks_hub.service.jobs import operations as ops
from labworks_hub.service.jobs.executors.kubernetes import KubernetesExecutor
from labworks_hub.service.jobs.service import JobService

from .conftest import ANA, notebook, wait_until, wait_until_ended
from .test_kubernetes import IMAGE, FakeKube

PRINTED = "waiting for the test"


class Gate:
    """A loopback port the job's notebook connects to once it runs; it then waits until the
    test opens the gate. The notebook's end shows as the connection closing."""

    def __init__(self) -> None:
        self.arrived: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.server: asyncio.Server | None = None

    async def start(self) -> Gate:
        self.server = await asyncio.start_server(self._arrive, "127.0.0.1", 0)
        return self

    async def _arrive(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.arrived.append((reader, writer))

    @property
    def port(self) -> int:
        assert self.server is not None
        return self.server.sockets[0].getsockname()[1]

    def open(self) -> None:
        for _, writer in self.arrived:
            writer.write(b"go")

    async def left(self) -> bool:
        """Whether every notebook that arrived is gone (its kernel closed the connection)."""
        reads = [asyncio.wait_for(reader.read(), 30) for reader, _ in self.arrived]
        return all(data == b"" for data in await asyncio.gather(*reads))

    async def close(self) -> None:
        for _, writer in self.arrived:
            writer.close()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


class Backend(Protocol):
    """What an executor's outside world does when the test says so."""

    config: dict[str, Any]  # the service's configuration choosing the executor

    def notebook(self) -> dict: ...  # a job that runs until released

    async def until_running(self, job_id: str) -> None: ...  # the job's code runs

    async def release(self, job_id: str) -> None: ...  # let the job end with success

    async def stopped(self, job_id: str) -> bool: ...  # nothing of the job runs any more


class LocalBackend:
    """Real papermill processes; the notebook waits at the gate."""

    def __init__(self, gate: Gate) -> None:
        self.gate = gate
        self.config: dict[str, Any] = {}  # the default executor

    def notebook(self) -> dict:
        return notebook(
            f"print({PRINTED!r}, flush=True)",
            "import socket\n"
            f"with socket.create_connection(('127.0.0.1', {self.gate.port}), timeout=120) as s:\n"
            "    s.recv(2)",
        )

    async def until_running(self, job_id: str) -> None:
        await wait_until(lambda: _true(bool(self.gate.arrived)), what="notebook at the gate")

    async def release(self, job_id: str) -> None:
        self.gate.open()

    async def stopped(self, job_id: str) -> bool:
        return await self.gate.left()


class KubernetesBackend:
    """The fake Kubernetes API: one cluster that every service of the test reaches."""

    def __init__(self) -> None:
        cluster = self.cluster = FakeKube()

        class Cluster(FakeKube):
            def __init__(self) -> None:
                self.__dict__ = cluster.__dict__  # a restarted service sees the same Jobs

        self.config = {
            "JobService": {"executor_class": "kubernetes"},
            "KubernetesExecutor": {"api_class": Cluster, "image": IMAGE},
            "ArtifactStore": {"url": "memory://labworks-contract/artifacts"},
        }

    def notebook(self) -> dict:
        return notebook("1")  # never runs: the test plays the cluster

    async def until_running(self, job_id: str) -> None:
        name = self.job_name(job_id)
        await wait_until(lambda: _true(name in self.cluster.jobs), what="Kubernetes Job")
        self.cluster.admit(name, f"{PRINTED}\n")

    async def release(self, job_id: str) -> None:
        self.cluster.end(self.job_name(job_id), "Complete")

    async def stopped(self, job_id: str) -> bool:
        return self.job_name(job_id) not in self.cluster.jobs

    @staticmethod
    def job_name(job_id: str) -> str:
        return f"{KubernetesExecutor.job_prefix.default_value}{job_id}-1"


async def _true(value: bool) -> bool:
    return value


@pytest.fixture
def db_url(tmp_path):
    return f"sqlite:///{tmp_path / 'store.sqlite'}"


@pytest.fixture(params=["local", "kubernetes"])
async def backend(request):
    if request.param == "kubernetes":
        yield KubernetesBackend()
        return
    gate = await Gate().start()
    yield LocalBackend(gate)
    await gate.close()


@pytest.fixture
def start_service(make_service, backend):
    """Start a job service with the backend's executor (again: a restart)."""

    async def start() -> JobService:
        return await make_service(config=Config(backend.config))

    return start


async def submit(service: JobService, backend: Backend, **fields: Any) -> models.JobDetail:
    request = models.JobRequest(content=backend.notebook(), path="work/contract.ipynb", **fields)
    return await ops.submit(service, ANA, request)


async def events(service: JobService, job_id: str) -> list[str]:
    return [e.kind for e in (await ops.get_job(service, ANA, job_id)).events]


async def test_a_job_runs_to_success(start_service, backend: Backend):
    service = await start_service()
    job = await submit(service, backend)
    await backend.until_running(job.id)
    await backend.release(job.id)
    done = await wait_until_ended(service, ANA, job.id)
    assert (done.status, done.reason, done.attempt) == ("succeeded", "", 1)
    assert await events(service, job.id) == ["queued", "running", "succeeded"]


async def test_a_running_job_is_seen_running_with_its_log(start_service, backend: Backend):
    service = await start_service()
    job = await submit(service, backend)
    await backend.until_running(job.id)
    assert (await ops.get_job(service, ANA, job.id)).status == "running"
    state = service.live_state(job.id)
    assert state is not None and await service.executor.poll(state) is None
    assert await service.executor.reattach(state) is True
    await wait_until(lambda: _logged(service, job.id), what="the job's output in its log")
    await backend.release(job.id)
    assert (await wait_until_ended(service, ANA, job.id)).status == "succeeded"


async def _logged(service: JobService, job_id: str) -> bool:
    return PRINTED in (await ops.logs(service, ANA, job_id)).text


async def test_cancel_stops_the_job_and_reports_it_cancelled(start_service, backend: Backend):
    service = await start_service()
    job = await submit(service, backend)
    await backend.until_running(job.id)
    state = dict(service.live_state(job.id) or {})
    assert (await ops.cancel(service, ANA, job.id)).cancel_requested
    done = await wait_until_ended(service, ANA, job.id)
    assert (done.status, done.reason) == ("cancelled", "cancelled by its owner")
    assert await backend.stopped(job.id)
    await service.executor.cancel(state)  # idempotent
    assert await service.executor.reattach(state) is False


async def test_a_restarted_service_reattaches_a_running_job(start_service, backend: Backend):
    first = await start_service()
    job = await submit(first, backend)
    await backend.until_running(job.id)
    await first.stop()  # the platform service goes away; the job does not
    second = await start_service()
    assert second.live_state(job.id) is not None
    await backend.release(job.id)
    done = await wait_until_ended(second, ANA, job.id)
    assert done.status == "succeeded"
    assert await events(second, job.id) == ["queued", "running", "reattached", "succeeded"]


async def test_the_service_stops_even_as_its_executor_wakes_it(start_service):
    service = await start_service()
    loop_task = service._task
    assert loop_task is not None
    ticked = asyncio.Event()
    tick = service.tick

    async def tick_and_say_so() -> None:
        await tick()
        ticked.set()

    service.tick = tick_and_say_so  # type: ignore[method-assign]
    await asyncio.wait_for(ticked.wait(), 10)  # the loop now waits for its next turn
    service.executor.wakeup()  # an attempt ended just as the service is told to stop
    stopping = asyncio.ensure_future(service.stop())
    done, _ = await asyncio.wait([stopping], timeout=2)  # it takes milliseconds
    try:
        assert done, "stop() hangs: the loop took no notice of being cancelled"
    finally:
        while not loop_task.done():  # a later cancel lands while the loop waits: it stops
            loop_task.cancel()
            await asyncio.sleep(0.05)
        await stopping


async def test_a_job_past_its_timeout_is_stopped_saying_so(start_service, backend: Backend):
    service = await start_service()
    job = await submit(service, backend, timeout=1)
    done = await wait_until_ended(service, ANA, job.id)
    assert (done.status, done.reason) == ("timed_out", "timed out after 1 s")
    assert await events(service, job.id) == ["queued", "running", "timed_out"]
    assert await backend.stopped(job.id)


@pytest.mark.parametrize("backend", ["kubernetes"], indirect=True)
async def test_a_timeout_the_cluster_enforces_says_how_long_too(
    start_service, backend: KubernetesBackend
):
    service = await start_service()
    job = await submit(service, backend, timeout=120)
    await backend.until_running(job.id)
    backend.cluster.end(backend.job_name(job.id), "Failed", "DeadlineExceeded")
    done = await wait_until_ended(service, ANA, job.id)
    assert (done.status, done.reason) == ("timed_out", "timed out after 120 s")
