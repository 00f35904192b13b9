"""One sample of the meter, written to the store in one transaction (store/cost.py).

For each running subject, the interval since its cursor's `last_end` (or since it started, for
one new or started again) is added to its usage rows, split at UTC midnight, and `last_end`
moves to the sample's time. The same sample recorded twice adds nothing the second time (its
interval is empty); after a restart each subject goes on from its `last_end`. A subject gone
since the last sample is closed there; a job that ended is billed up to its end. A job that ran
wholly between two samples is billed from its start to its end when the meter finds it ended.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ...prices import Reserved
from ...profiles import GiB
from ..store.cost import JOB, CostCursor, CostUsage
from ..store.jobs import FINISHED, JobRun
from ..store.sweeps import SweepTrial
from .subjects import Subject
from .usage import Reading

Price = tuple[Reserved, float]  # what a subject reserves, and its price per hour


@dataclass(frozen=True)
class Observed:
    """A running subject at this sample: what it reserves, its price, what it uses."""

    subject: Subject
    reserved: Reserved
    per_hour: float
    reading: Reading | None = None


@dataclass(frozen=True)
class Charge:
    """What one interval cost, for the metrics."""

    owner: str
    kind: str
    cost_usd: float


def split_days(start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
    """[start, end) cut at each UTC midnight."""
    while start < end:
        midnight = datetime.combine(start.astimezone(UTC).date(), time(), UTC) + timedelta(days=1)
        piece_end = min(end, midnight)
        yield start, piece_end
        start = piece_end


def record_sample(
    session: Session,
    now: datetime,
    observed: list[Observed],
    complete: set[str],
    price_of: Callable[[str, str], Price],
    lookback: timedelta,
) -> tuple[list[Charge], list[CostCursor]]:
    """Record one sample at `now`: what it cost, and the cursors of what runs now.
    `complete`: the kinds whose running subjects are all in `observed` (a kind the meter could
    not list this time keeps its cursors open); `price_of(kind, profile)`: the price of a
    subject seen before, to bill a job's tail."""
    with session.no_autoflush:  # one flush at the end, not one per row looked up
        rows = _Rows(session, now, observed)
        charges = _record(rows, now, observed, complete, price_of, lookback)
    return charges, [c for c in rows.cursors.values() if c.ended_at is None]


def _record(
    rows: _Rows, now: datetime, observed: list[Observed], complete: set[str],
    price_of: Callable[[str, str], Price], lookback: timedelta,
) -> list[Charge]:  # fmt: skip
    charges: list[Charge] = []
    seen = set()
    for item in observed:
        seen.add(item.subject.key)
        charges += _advance(rows, now, item)
    finished = _finished_jobs(rows.session, now - lookback)
    for key, cursor in list(rows.cursors.items()):
        if cursor.ended_at is not None or key in seen or cursor.subject_kind not in complete:
            continue
        end = cursor.last_end
        ended = finished.get(cursor.subject_id) if cursor.subject_kind == JOB else None
        if ended is not None and ended.finished_at is not None:
            tail = min(ended.finished_at, now)
            if tail > end:
                reserved, per_hour = price_of(cursor.subject_kind, cursor.profile)
                charges += _bill(rows, cursor, end, tail, reserved, per_hour, 0.0, None)
                end = tail
        cursor.last_end = end
        cursor.ended_at = end
        cursor.burn_per_hour, cursor.cpu_percent, cursor.gpu_utilization = 0.0, None, None
    for run, sweep_id in finished.values_unseen(rows.session):
        started, ended_at = run.started_at, run.finished_at
        assert started is not None and ended_at is not None
        subject = Subject(JOB, run.id, run.owner, run.name, run.profile, started,
                          sweep_id=sweep_id or "")  # fmt: skip
        cursor = rows.new_cursor(subject, started)
        if ended_at > started:
            reserved, per_hour = price_of(JOB, run.profile)
            charges += _bill(rows, cursor, started, ended_at, reserved, per_hour, 0.0, None)
        cursor.last_end = cursor.ended_at = max(started, ended_at)
    return charges


class _Rows:
    """The cursors and recent usage rows a sample touches, read in two queries up front (the
    open cursors and those of what runs; usage rows of yesterday and today)."""

    def __init__(self, session: Session, now: datetime, observed: list[Observed]) -> None:
        self.session = session
        ids = sorted({item.subject.id for item in observed})
        query = select(CostCursor).where(
            or_(CostCursor.ended_at.is_(None), CostCursor.subject_id.in_(ids))
        )
        self.cursors = {
            (c.subject_kind, c.subject_id): c for c in session.scalars(query.with_for_update())
        }
        self.since = (now - timedelta(days=1)).astimezone(UTC).date()
        recent = select(CostUsage).where(CostUsage.day >= self.since)
        self.usage = {(u.subject_kind, u.subject_id, u.day): u for u in session.scalars(recent)}

    def new_cursor(self, subject: Subject, start: datetime) -> CostCursor:
        cursor = CostCursor(
            subject_kind=subject.kind, subject_id=subject.id, owner=subject.owner,
            name=subject.name[:255], profile=subject.profile, project="",
            sweep_id=subject.sweep_id, mlflow_run_id="", session_start=start, last_end=start,
            ended_at=None, counter_key="", cpu_counter=0.0, billed=False, burn_per_hour=0.0,
        )  # fmt: skip
        self.session.add(cursor)
        self.cursors[subject.key] = cursor
        return cursor

    def usage_row(self, kind: str, subject_id: str, day: date, start: datetime) -> CostUsage:
        """The subject's row of `day`, made (all zero) when it has none."""
        key = (kind, subject_id, day)
        row = self.usage.get(key)
        if row is None and day < self.since:
            ident = {"subject_kind": kind, "subject_id": subject_id, "day": day}
            row = self.session.get(CostUsage, ident)
        if row is None:
            row = CostUsage(
                subject_kind=kind, subject_id=subject_id, day=day, first_start=start,
                last_end=start, seconds=0.0, core_seconds=0.0, memory_gb_seconds=0.0,
                gpu_seconds=0.0, cpu_seconds=0.0, memory_byte_seconds=0.0, memory_peak=0,
                gpu_utilization_seconds=0.0, gpu_memory_peak=0, cost_usd=0.0,
            )  # fmt: skip
            self.session.add(row)
        self.usage[key] = row
        return row


class _Finished(dict[str, JobRun]):
    """Job runs that ended since the lookback, by id."""

    def values_unseen(self, session: Session) -> list[tuple[JobRun, str | None]]:
        """Those the meter never saw running (no cursor), with their sweep's id."""
        if not self:
            return []
        known = set(
            session.scalars(
                select(CostCursor.subject_id).where(
                    CostCursor.subject_kind == JOB, CostCursor.subject_id.in_(list(self))
                )
            )
        )
        unseen = [i for i in self if i not in known]
        if not unseen:
            return []
        sweeps = dict(
            session.execute(
                select(SweepTrial.run_id, SweepTrial.sweep_id).where(SweepTrial.run_id.in_(unseen))
            ).all()
        )
        return [(self[i], sweeps.get(i)) for i in unseen if self[i].started_at is not None]


def _finished_jobs(session: Session, since: datetime) -> _Finished:
    query = select(JobRun).where(JobRun.status.in_(FINISHED), JobRun.finished_at >= since)
    return _Finished({run.id: run for run in session.scalars(query)})


def _advance(rows: _Rows, now: datetime, item: Observed) -> list[Charge]:
    subject, reading = item.subject, item.reading
    cursor = rows.cursors.get(subject.key)
    started = min(subject.started_at or now, now)
    if cursor is None:
        cursor = rows.new_cursor(subject, started)
    elif cursor.ended_at is not None:  # runs again: a new attempt, a restarted server
        start = max(cursor.last_end, started)
        cursor.ended_at, cursor.session_start, cursor.last_end = None, start, start
        cursor.billed = False
    cursor.owner, cursor.name, cursor.profile = subject.owner, subject.name[:255], subject.profile
    cursor.sweep_id = subject.sweep_id or cursor.sweep_id
    cursor.burn_per_hour = item.per_hour
    if reading is not None:
        cursor.memory_bytes = reading.memory_bytes
        cursor.gpu_utilization = reading.gpu_utilization
    start = cursor.last_end
    if now <= start:
        return []  # this sample is recorded already
    cpu = 0.0
    if reading is not None:
        same = reading.key == cursor.counter_key and reading.cpu_seconds >= cursor.cpu_counter
        cpu = reading.cpu_seconds - cursor.cpu_counter if same else reading.cpu_seconds
        cursor.counter_key, cursor.cpu_counter = reading.key, reading.cpu_seconds
        cursor.cpu_percent = 100 * cpu / (now - start).total_seconds()
    charges = _bill(rows, cursor, start, now, item.reserved, item.per_hour, cpu, reading)
    cursor.last_end = now
    return charges


def _bill(
    rows: _Rows, cursor: CostCursor, start: datetime, end: datetime, reserved: Reserved,
    per_hour: float, cpu_seconds: float, reading: Reading | None,
) -> list[Charge]:  # fmt: skip
    """Add [start, end) to the cursor's subject's usage rows, day by day."""
    total = (end - start).total_seconds()
    cost = 0.0
    for piece_start, piece_end in split_days(start, end):
        seconds = (piece_end - piece_start).total_seconds()
        day = piece_start.astimezone(UTC).date()
        row = rows.usage_row(cursor.subject_kind, cursor.subject_id, day, piece_start)
        for name in ("owner", "name", "profile", "project", "sweep_id", "mlflow_run_id"):
            setattr(row, name, getattr(cursor, name))
        row.gpu_model = reserved.gpu_model
        row.last_end = max(row.last_end, piece_end)
        row.seconds += seconds
        row.core_seconds += reserved.cpu * seconds
        row.memory_gb_seconds += reserved.memory / GiB * seconds
        row.gpu_seconds += reserved.gpus * seconds
        row.cpu_seconds += cpu_seconds * seconds / total
        piece_cost = per_hour * seconds / 3600
        row.cost_usd += piece_cost
        cost += piece_cost
        if reading is not None:
            row.memory_byte_seconds += reading.memory_bytes * seconds
            row.memory_peak = max(row.memory_peak, reading.memory_bytes)
            row.gpu_memory_peak = max(row.gpu_memory_peak, reading.gpu_memory)
            if reading.gpu_utilization is not None:
                row.gpu_utilization_seconds += reading.gpu_utilization / 100 * seconds
    return [Charge(cursor.owner, cursor.subject_kind, cost)] if cost else []
