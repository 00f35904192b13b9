"""Helpers of the jobs tests: small notebooks, job services on a temporary state directory and
a fresh store of each backend (`store` of tests/conftest.py: SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import nbformat
import pytest

from labworks_hub.profiles import DEFAULT_PROFILES, Profile
from labworks_hub.service.access import Viewer
from labworks_hub.service.jobs import operations as ops
from labworks_hub.service.jobs.models import JobDetail
from labworks_hub.service.jobs.service import JobService
from labworks_hub.service.store.jobs import FINISHED
from tests.s3 import SeaweedS3, _port_pair  # noqa: F401 (the s3 fixture is in tests/conftest.py)

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
