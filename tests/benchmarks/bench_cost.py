"""Costs: the meter's overhead, a month's report, and CPU measured against the process's own.

1. Meter overhead: samples of 50 running workspaces (real sleeping processes, measured through
   /proc) on SQLite, in CPU seconds of this process per sample, as a share of one core at the
   default 15 s interval. Goal: < 0.5%. The bare cost of reading /proc once (the baseline,
   same run) is printed beside it as a ratio.
2. Report: a month of usage of 1,000 users (3 subjects each, every day: 90,000 rows), the
   administrator's report by user and a user's by job, 20 times each. Goal: p95 < 300 ms. The
   baseline is one `SELECT sum(cost_usd)` over the month's rows (same run).
3. Accuracy: CPU time of a process busy for 5 s read from /proc against its own
   `time.process_time()`. Goal: within 5%.

Run with `make bench`.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from labworks_hub.service.access import Viewer
from labworks_hub.service.cost import CostMeter, CostPrices
from labworks_hub.service.cost import report as reports
from labworks_hub.service.cost.nvml import NoGPUs
from labworks_hub.service.cost.subjects import Subject
from labworks_hub.service.cost.usage import ProcessTable
from labworks_hub.service.store import Store
from labworks_hub.service.store.cost import WORKSPACE, CostUsage
from tests.unit.hub.cost.conftest import PROFILES, FakeClock

SUBJECTS, SAMPLES, INTERVAL, OVERHEAD_GOAL = 50, 20, 15.0, 0.5
USERS, DAYS, PER_USER, REPORTS, REPORT_GOAL_MS = 1000, 30, 3, 20, 300.0
BUSY_SECONDS, ACCURACY_GOAL = 5.0, 0.05


class Hub:
    def __init__(self, subjects: list[Subject]) -> None:
        self.subjects = subjects

    async def running(self, default_profile: str) -> list[Subject]:
        return self.subjects


def meter_overhead(db: Store) -> None:
    sleepers = [subprocess.Popen(["sleep", "600"]) for _ in range(SUBJECTS)]
    try:
        subjects = [
            Subject(WORKSPACE, f"u{n}", f"u{n}", "default", "small", pid=p.pid)
            for n, p in enumerate(sleepers)
        ]
        clock = FakeClock(datetime.now(UTC))
        meter = CostMeter(db, CostPrices(), PROFILES, clock=clock, workspaces=Hub(subjects),
                          gpus=NoGPUs())  # fmt: skip

        async def samples() -> float:
            await meter.sample()  # the cursors are made
            start = time.process_time()
            for _ in range(SAMPLES):
                clock.advance(INTERVAL)
                await meter.sample()
            return (time.process_time() - start) / SAMPLES

        per_sample = asyncio.run(samples())
    finally:
        for p in sleepers:
            p.kill()
            p.wait()
    start = time.process_time()
    for _ in range(SAMPLES):
        ProcessTable()
    proc_scan = (time.process_time() - start) / SAMPLES
    share = 100 * per_sample / INTERVAL
    verdict = "OK" if share < OVERHEAD_GOAL else "MISSED"
    print(f"meter, {SUBJECTS} workspaces: {per_sample * 1000:.1f} ms CPU a sample = {share:.3f}%"
          f" of a core at {INTERVAL:g} s (goal < {OVERHEAD_GOAL}%) {verdict}")  # fmt: skip
    print(f"  baseline, one /proc scan: {proc_scan * 1000:.1f} ms;"
          f" ratio = {per_sample / proc_scan:.1f}")  # fmt: skip


def month_of_usage(db: Store) -> None:
    first = date(2026, 11, 1)
    with db.session() as session:
        rows = []
        for user in range(USERS):
            for day in range(DAYS):
                when = first + timedelta(days=day)
                start = datetime.combine(when, datetime.min.time(), UTC)
                for subject in range(PER_USER):
                    rows.append({
                        "subject_kind": "job", "subject_id": f"j{user}-{subject}-{day}",
                        "day": when, "owner": f"user{user}", "name": "train",
                        "profile": "small", "project": f"p{user % 20}", "sweep_id": "",
                        "mlflow_run_id": "", "first_start": start,
                        "last_end": start + timedelta(hours=1), "seconds": 3600.0,
                        "core_seconds": 7200.0, "memory_gb_seconds": 14400.0,
                        "gpu_seconds": 0.0, "gpu_model": "", "cpu_seconds": 3000.0,
                        "memory_byte_seconds": 0.0, "memory_peak": 0,
                        "gpu_utilization_seconds": 0.0, "gpu_memory_peak": 0, "cost_usd": 0.09,
                    })  # fmt: skip
        session.execute(CostUsage.__table__.insert(), rows)


def report_p95(db: Store) -> None:
    now = datetime(2026, 11, 20, tzinfo=UTC)
    admin, user = Viewer("root", admin=True), Viewer("user7")
    timings: dict[str, list[float]] = {"admin by user": [], "user by job": [], "baseline": []}
    for _ in range(REPORTS):
        for label, work in (
            ("admin by user", lambda s: reports.report(s, admin, "user", "2026-11", now)),
            ("user by job", lambda s: reports.report(s, user, "job", "2026-11", now)),
            ("baseline", lambda s: s.scalar(select(func.sum(CostUsage.cost_usd)).where(
                CostUsage.day >= date(2026, 11, 1), CostUsage.day < date(2026, 12, 1)))),
        ):  # fmt: skip
            start = time.perf_counter()
            with db.session() as session:
                work(session)
            timings[label].append((time.perf_counter() - start) * 1000)
    base = statistics.quantiles(timings["baseline"], n=20)[18]
    for label in ("admin by user", "user by job"):
        p95 = statistics.quantiles(timings[label], n=20)[18]
        verdict = "OK" if p95 < REPORT_GOAL_MS else "MISSED"
        print(f"report {label}, {USERS * DAYS * PER_USER} rows: p95 {p95:.1f} ms"
              f" (goal < {REPORT_GOAL_MS:g} ms) {verdict}; baseline sum p95 {base:.1f} ms,"
              f" ratio = {p95 / base:.1f}")  # fmt: skip


BUSY = f"""
import time
start = time.process_time()
while time.process_time() - start < {BUSY_SECONDS}:
    pass
print(time.process_time(), flush=True)
time.sleep(60)
"""


def accuracy() -> None:
    proc = subprocess.Popen([sys.executable, "-c", BUSY], stdout=subprocess.PIPE, text=True)
    try:
        own = float(proc.stdout.readline())
        reading = ProcessTable().reading(proc.pid)
    finally:
        proc.kill()
        proc.wait()
    assert reading is not None
    error = abs(reading.cpu_seconds - own) / own
    verdict = "OK" if error <= ACCURACY_GOAL else "MISSED"
    print(f"CPU of a {BUSY_SECONDS:g} s busy loop: /proc {reading.cpu_seconds:.2f} s, its own"
          f" {own:.2f} s, error {error:.1%} (goal <= {ACCURACY_GOAL:.0%}) {verdict}")  # fmt: skip


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        db = Store(f"sqlite:///{folder}/store.sqlite")
        db.migrate()
        meter_overhead(db)
        month_of_usage(db)
        report_p95(db)
        db.dispose()
    accuracy()


if __name__ == "__main__":
    main()
