"""Sweeps in the store: a sweep, its trials (each a notebook job run) and its Optuna journal.

A sweep owns a job definition (the notebook, profile and fixed parameters); each trial is a run
of that definition whose parameters the sampler chose. The study itself is Optuna's journal of
operations, kept here one row per log line (`SweepJournalLine`), so the store stays the one
database and a restart replays the study exactly as it was.

A trial row and its job run are written in one transaction, so a trial is never lost or
started twice across a crash; the journal line that created the trial in Optuna comes first, and
the engine gives a trial with no row its job on the next pass (sweeps/engine.py).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String, Text, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from ..access import NotFound, Shareable, Viewer
from .jobs import new_id
from .models import Base, UTCDateTime, utcnow

RUNNING, STOPPED, SUCCEEDED, FAILED = "running", "stopped", "succeeded", "failed"
SWEEP_STATUSES = (RUNNING, STOPPED, SUCCEEDED, FAILED)
# trial states, as Optuna names them (lower case)
TRIAL_RUNNING, COMPLETE, PRUNED, TRIAL_FAILED = "running", "complete", "pruned", "fail"


class Sweep(Shareable, Base):
    """A search over a notebook's parameters: what to search, how, and how far it got."""

    __tablename__ = "lw_sweeps"

    id: Mapped[str] = mapped_column(String(12), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(255))
    definition_id: Mapped[str] = mapped_column(
        ForeignKey("lw_job_definitions.id", ondelete="CASCADE"), index=True
    )
    space: Mapped[dict] = mapped_column(default=dict)
    metric: Mapped[str] = mapped_column(String(255))
    direction: Mapped[str] = mapped_column(String(8))  # minimize | maximize
    sampler: Mapped[str] = mapped_column(String(16))  # grid | random | tpe | cmaes
    pruner: Mapped[str] = mapped_column(String(16), default="none")  # none | median | halving
    seed: Mapped[int | None] = mapped_column(Integer, default=None)
    n_trials: Mapped[int] = mapped_column(Integer)
    parallel: Mapped[int] = mapped_column(Integer, default=1)
    timeout_seconds: Mapped[int | None] = mapped_column(Integer, default=None)
    max_cost_usd: Mapped[float | None] = mapped_column(Float, default=None)  # the cost cap
    status: Mapped[str] = mapped_column(String(16), index=True, default=RUNNING)
    reason: Mapped[str] = mapped_column(Text, default="")
    parent_run_id: Mapped[str] = mapped_column(String(64), default="")  # MLflow's parent run
    experiment_id: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # last (re)start
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class SweepTrial(Base):
    """One trial: Optuna's trial number, the job run that evaluates it, and its outcome."""

    __tablename__ = "lw_sweep_trials"

    sweep_id: Mapped[str] = mapped_column(
        ForeignKey("lw_sweeps.id", ondelete="CASCADE"), primary_key=True
    )
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[str] = mapped_column(String(12), unique=True)
    state: Mapped[str] = mapped_column(String(16), default=TRIAL_RUNNING)
    params: Mapped[dict] = mapped_column(default=dict)
    value: Mapped[float | None] = mapped_column(Float, default=None)
    reason: Mapped[str] = mapped_column(Text, default="")
    mlflow_run_id: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class SweepJournalLine(Base):
    """One line of a sweep's Optuna journal; `seq` counts from 0 without gaps per sweep."""

    __tablename__ = "lw_sweep_journal"

    sweep_id: Mapped[str] = mapped_column(
        ForeignKey("lw_sweeps.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    line: Mapped[dict] = mapped_column(default=dict)


def get_sweep(session: Session, viewer: Viewer, sweep_id: str, *, lock: bool = False) -> Sweep:
    """The sweep if the viewer may see it; NotFound otherwise (its existence does not leak).
    `lock` holds its row until the transaction ends (PostgreSQL; SQLite has one writer)."""
    query = select(Sweep).where(Sweep.id == sweep_id, Sweep.visible_to(viewer))
    sweep = session.scalar(query.with_for_update() if lock else query)
    if sweep is None:
        raise NotFound(f"no sweep {sweep_id!r}")
    return sweep


def list_sweeps(session: Session, viewer: Viewer, limit: int = 200) -> list[Sweep]:
    query = select(Sweep).where(Sweep.visible_to(viewer)).order_by(Sweep.created_at.desc())
    return list(session.scalars(query.limit(limit)))


def trials(session: Session, sweep_id: str) -> list[SweepTrial]:
    query = select(SweepTrial).where(SweepTrial.sweep_id == sweep_id)
    return list(session.scalars(query.order_by(SweepTrial.number)))


def delete_sweep(session: Session, sweep_id: str) -> None:
    """Remove the sweep, its trial rows and its journal. The trials' job runs and the job
    definition stay: they are the jobs' history."""
    session.execute(delete(SweepJournalLine).where(SweepJournalLine.sweep_id == sweep_id))
    session.execute(delete(SweepTrial).where(SweepTrial.sweep_id == sweep_id))
    session.execute(delete(Sweep).where(Sweep.id == sweep_id))


def running_sweeps(session: Session) -> list[Sweep]:
    return list(session.scalars(select(Sweep).where(Sweep.status == RUNNING)))


def journal_lines(session: Session, sweep_id: str, start: int) -> list[dict]:
    query = (
        select(SweepJournalLine.line)
        .where(SweepJournalLine.sweep_id == sweep_id, SweepJournalLine.seq >= start)
        .order_by(SweepJournalLine.seq)
    )
    return list(session.scalars(query))


def journal_length(session: Session, sweep_id: str) -> int:
    last = session.scalar(
        select(func.max(SweepJournalLine.seq)).where(SweepJournalLine.sweep_id == sweep_id)
    )
    return 0 if last is None else last + 1


def append_journal(session: Session, sweep_id: str, start: int, lines: list[dict]) -> None:
    """Add `lines` as numbers start, start+1, ...; a concurrent writer that took one of those
    numbers makes the commit fail (primary key), and the caller retries from the new end."""
    session.add_all(
        SweepJournalLine(sweep_id=sweep_id, seq=start + i, line=line)
        for i, line in enumerate(lines)
    )
