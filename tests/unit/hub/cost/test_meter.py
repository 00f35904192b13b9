"""The meter on a fake clock, on SQLite and PostgreSQL: intervals and their cost, the same
sample twice, a restart (no double count, no gap), jobs ending between samples, day
boundaries, cgroup CPU deltas, workspaces the hub cannot list, GPU attribution, MLflow runs."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from labworks_hub.service.cost.nvml import DeviceSample, GPUReading, ProcessSample
from labworks_hub.service.cost.subjects import Subject
from labworks_hub.service.hubapi import HubError
from labworks_hub.service.store.cost import JOB, WORKSPACE, CostCursor, CostUsage
from labworks_hub.service.store.gpus import GPULease

from .conftest import START, FakeClock, FakeGPUs, FakeRunLog, job, make_meter, set_job

SMALL_PER_SECOND = 0.09 / 3600


def usage(store, kind: str, subject_id: str) -> tuple[float, float]:
    """(seconds, cost) recorded for a subject, over all days."""
    with store.session() as s:
        row = s.execute(
            select(func.sum(CostUsage.seconds), func.sum(CostUsage.cost_usd)).where(
                CostUsage.subject_kind == kind, CostUsage.subject_id == subject_id
            )
        ).one()
    return row[0] or 0.0, row[1] or 0.0


def cursor(store, kind: str, subject_id: str) -> CostCursor:
    with store.session() as s:
        return s.get(CostCursor, (kind, subject_id))


async def test_each_sample_bills_the_interval_since_the_last_and_a_repeat_adds_nothing(
    store, clock
):
    run_id = job(store)
    set_job(store, run_id, "running", START)
    meter = make_meter(store, clock)
    clock.advance(15)
    summary = await meter.sample()
    assert usage(store, JOB, run_id) == pytest.approx((15, 15 * SMALL_PER_SECOND))
    assert [c.owner for c in summary.charges] == ["ana"]
    await meter.sample()  # the same sample again: nothing more
    assert usage(store, JOB, run_id) == pytest.approx((15, 15 * SMALL_PER_SECOND))
    clock.advance(15)
    await meter.sample()
    assert usage(store, JOB, run_id) == pytest.approx((30, 30 * SMALL_PER_SECOND))
    assert cursor(store, JOB, run_id).burn_per_hour == pytest.approx(0.09)


async def test_a_restarted_meter_goes_on_from_the_last_recorded_end(store, clock):
    run_id = job(store, profile="fixed")  # 36.00 an hour: a cent a second
    set_job(store, run_id, "running", START)
    clock.advance(15)
    await make_meter(store, clock).sample()
    clock.advance(100)  # the service was down for 100 s; the job ran on
    restarted = make_meter(store, clock)
    await restarted.sample()
    await restarted.sample()
    assert usage(store, JOB, run_id) == pytest.approx((115, 1.15))
    assert cursor(store, JOB, run_id).last_end == clock.now


async def test_a_job_ending_between_samples_is_billed_to_its_end_and_its_run_gets_the_cost(
    store, clock
):
    run_id = job(store, profile="fixed")
    set_job(store, run_id, "running", START)
    runs = FakeRunLog({run_id: ("mlflow-run-1", "churn")})
    meter = make_meter(store, clock, run_log=runs)
    clock.advance(15)
    await meter.sample()
    set_job(store, run_id, "succeeded", clock.advance(10))
    clock.advance(5)
    await meter.sample()
    assert usage(store, JOB, run_id) == pytest.approx((25, 0.25))
    assert runs.logged == [(run_id, pytest.approx(0.25))]
    ended = cursor(store, JOB, run_id)
    assert ended.ended_at == START.replace(second=25)
    assert (ended.billed, ended.mlflow_run_id) == (True, "mlflow-run-1")
    with store.session() as s:
        rows = s.scalars(select(CostUsage).where(CostUsage.subject_id == run_id)).all()
        assert {(r.mlflow_run_id, r.project) for r in rows} == {("mlflow-run-1", "churn")}
    clock.advance(15)
    await meter.sample()
    assert len(runs.logged) == 1  # once
    assert usage(store, JOB, run_id) == pytest.approx((25, 0.25))


async def test_a_job_that_ran_wholly_between_two_samples_is_billed(store, clock):
    runs = FakeRunLog()
    meter = make_meter(store, clock, run_log=runs)
    await meter.sample()
    run_id = job(store, profile="fixed")
    set_job(store, run_id, "running", clock.advance(3))
    set_job(store, run_id, "failed", clock.advance(7))
    clock.advance(5)
    await meter.sample()
    await meter.sample()
    assert usage(store, JOB, run_id) == pytest.approx((7, 0.07))
    assert runs.logged == [(run_id, pytest.approx(0.07))]  # no run of its own: logged nothing
    assert cursor(store, JOB, run_id).billed


async def test_an_interval_across_midnight_is_split_between_the_days(store):
    clock = FakeClock(datetime(2026, 11, 30, 23, 59, 50, tzinfo=UTC))
    run_id = job(store, profile="fixed")
    set_job(store, run_id, "running", clock.now)
    meter = make_meter(store, clock)
    clock.advance(30)
    await meter.sample()
    with store.session() as s:
        rows = s.scalars(select(CostUsage).order_by(CostUsage.day)).all()
        assert [(str(r.day), r.seconds) for r in rows] == [("2026-11-30", 10), ("2026-12-01", 20)]
        assert [round(r.cost_usd, 6) for r in rows] == [0.1, 0.2]


class Hub:
    """The hub's running servers, as the test says; `down` makes it fail."""

    def __init__(self, *subjects: Subject) -> None:
        self.subjects = list(subjects)
        self.down = False

    async def running(self, default_profile: str) -> list[Subject]:
        if self.down:
            raise HubError("cannot reach JupyterHub")
        return list(self.subjects)


def write_cgroup(path, usage_usec: int, memory: int) -> None:
    path.mkdir(exist_ok=True)
    (path / "cpu.stat").write_text(f"usage_usec {usage_usec}\n")
    (path / "memory.current").write_text(f"{memory}\n")
    (path / "cgroup.procs").write_text("")


async def test_a_workspace_is_measured_from_its_cgroup_and_kept_while_the_hub_is_down(
    store, clock, tmp_path
):
    group = tmp_path / "ana"
    write_cgroup(group, 50_000_000, 1 << 30)  # 50 s of CPU before the first sample
    server = Subject(WORKSPACE, "ana", "ana", "default", "small", START, cgroup=str(group))
    hub = Hub(server)
    meter = make_meter(store, clock, workspaces=hub)
    clock.advance(10)
    await meter.sample()
    write_cgroup(group, 65_000_000, 2 << 30)  # 15 s of CPU in the next 10 s: 1.5 cores
    clock.advance(10)
    await meter.sample()
    seen = cursor(store, WORKSPACE, "ana")
    assert seen.cpu_percent == pytest.approx(150.0)
    assert seen.memory_bytes == 2 << 30
    with store.session() as s:
        row = s.scalars(select(CostUsage)).one()
        assert (row.seconds, row.cpu_seconds, row.memory_peak) == (20, 65.0, 2 << 30)
        assert row.core_seconds == pytest.approx(40)  # 2 cores reserved for 20 s
    hub.down = True
    clock.advance(10)
    await meter.sample()
    assert cursor(store, WORKSPACE, "ana").ended_at is None  # not known to be gone
    hub.down, hub.subjects = False, []
    clock.advance(10)
    await meter.sample()
    assert cursor(store, WORKSPACE, "ana").ended_at == START.replace(second=20)
    assert usage(store, WORKSPACE, "ana")[0] == 20  # nothing while it was not seen


async def test_gpu_figures_come_from_the_gpus_leased_to_the_job_only(store, clock):
    run_id = job(store)
    set_job(store, run_id, "running", START, pid=os.getpid())
    with store.session() as s:
        s.add(GPULease(host="here", gpu_index=1, holder=f"job:{run_id}", owner="ana"))
        s.add(GPULease(host="elsewhere", gpu_index=0, holder=f"job:{run_id}", owner="ana"))
    gpus = FakeGPUs(
        GPUReading(
            devices={
                0: DeviceSample(0, "H100", 100.0, 1 << 30),
                1: DeviceSample(1, "H100", 70.0, 8 << 30),
            },
            processes=[
                ProcessSample(1, os.getpid(), 6 << 30, 40.0),
                ProcessSample(0, os.getpid(), 1 << 30, 99.0),
            ],
        )
    )
    meter = make_meter(store, clock, gpus=gpus)
    clock.advance(10)
    await meter.sample()
    seen = cursor(store, JOB, run_id)
    assert seen.gpu_utilization == pytest.approx(40.0)  # its process on GPU 1, not GPU 0
    with store.session() as s:
        row = s.scalars(select(CostUsage)).one()
        assert (row.gpu_utilization_seconds, row.gpu_memory_peak) == (pytest.approx(4.0), 6 << 30)
        assert row.cpu_seconds > 0  # this test process, read from /proc


async def test_nvml_is_not_asked_when_no_gpu_is_leased(store, clock):
    run_id = job(store)
    set_job(store, run_id, "running", START, pid=os.getpid())
    gpus = FakeGPUs()
    meter = make_meter(store, clock, gpus=gpus)
    clock.advance(10)
    await meter.sample()
    assert gpus.reads == 0
    assert cursor(store, JOB, run_id).gpu_utilization is None
