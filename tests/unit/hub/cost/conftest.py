"""Helpers of the cost tests: a fake clock, job runs in the store, a meter with doubles."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from labworks_hub.profiles import GiB, Profile
from labworks_hub.service.access import Viewer
from labworks_hub.service.cost import CostMeter, CostPrices
from labworks_hub.service.cost.nvml import GPUReading
from labworks_hub.service.store import jobs as j
from labworks_hub.service.store.models import Account, Group

ANA = Viewer("ana", frozenset({"ml"}))
BEN = Viewer("ben", frozenset({"ml"}))
CAL = Viewer("cal", frozenset({"finance"}))
ROOT = Viewer("root", admin=True)
START = datetime(2026, 11, 23, 10, 0, 0, tzinfo=UTC)
# 2 cores x 0.035 + 4 GiB x 0.005 = 0.09 an hour
SMALL = Profile(name="small", display_name="Small", cpu_limit=2.0, mem_limit=4 * GiB)
PROFILES = [SMALL, Profile(name="fixed", display_name="Fixed", price_per_hour=36.0)]


class FakeClock:
    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


class FakeGPUs:
    """An NVML double: what `read()` answers is set by the test."""

    def __init__(self, reading: GPUReading | None = None) -> None:
        self.reading = reading or GPUReading()
        self.reads = 0

    def read(self) -> GPUReading:
        self.reads += 1
        return self.reading


class FakeRunLog:
    """The MLflow seam: remembers what it logged; `runs` maps job ids to (run id, project)."""

    def __init__(self, runs: dict[str, tuple[str, str]] | None = None) -> None:
        self.runs = runs or {}
        self.logged: list[tuple[str, float]] = []

    async def ready(self) -> None:
        return None

    def log_cost(self, job_id: str, cost_usd: float) -> tuple[str, str] | None:
        self.logged.append((job_id, cost_usd))
        return self.runs.get(job_id)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_meter(store, clock, **kwargs) -> CostMeter:
    kwargs.setdefault("gpus", FakeGPUs())
    meter = CostMeter(store, CostPrices(), PROFILES, clock=clock, **kwargs)
    meter.gpu_host = "here"
    return meter


def job(store, owner: str = "ana", profile: str = "small") -> str:
    """A job run of `owner`, queued; its id."""
    with store.session() as s:
        sha = j.save_notebook(s, json.dumps({"cells": []}))
        definition = j.JobDefinition(
            owner=owner, visibility="private", name="train", notebook_path="train.ipynb",
            notebook_sha256=sha, parameters={}, profile=profile, kernel_name="python3",
            image="", timeout=60, max_retries=0, priority=0,
        )  # fmt: skip
        s.add(definition)
        s.flush()
        return j.create_run(s, definition, trigger="api", now=START).id


def set_job(store, run_id: str, status: str, at: datetime, **state) -> None:
    """Move a job run to `status` at `at` (started or finished then), with executor state."""
    with store.session() as s:
        run = s.get(j.JobRun, run_id)
        run.status = status
        if status == "running":
            run.started_at = at
            run.executor_state = state
        else:
            run.finished_at = at


def people(store) -> None:
    """ana and ben in group ml, cal in finance, root an admin."""
    with store.session() as s:
        accounts = {n: Account(name=n, password_hash="x") for n in ("ana", "ben", "cal", "root")}
        s.add_all(accounts.values())
        s.add(Group(name="ml", members=[accounts["ana"], accounts["ben"]]))
        s.add(Group(name="finance", members=[accounts["cal"]]))
