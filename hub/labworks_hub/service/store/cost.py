"""Metered usage and budgets in the store (service/cost does the metering and reporting).

- `CostCursor`: one row per metered subject (a workspace, a job run, a deployment): where its
  metering stands (the end of what is recorded, the CPU counter read then) and what it looked
  like at the last sample (for the live summary). The meter moves `last_end` forward with a
  compare-and-set, so the same sample recorded twice counts once, and after a restart each
  subject goes on from its `last_end`: no gap, no overlap.
- `CostUsage`: what a subject used and cost on one UTC day, one row per (subject, day); each
  sample adds its interval to the row of its day (split at midnight). Reports sum these rows.
- `CostBudget`: a monthly budget of a user or a group, with its alert thresholds in percent and
  an administrator's override (new work is not refused until `override_until`).
- `CostAlert`: one row per alert that fired (a budget threshold in a month, an idle GPU
  workspace), keyed so that the same alert never fires twice, across restarts too.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, UTCDateTime, utcnow

WORKSPACE, JOB, DEPLOYMENT = "workspace", "job", "deployment"
KINDS = (WORKSPACE, JOB, DEPLOYMENT)
USER, GROUP = "user", "group"
DEFAULT_THRESHOLDS = [50, 80, 100]


class _Subject:
    """Who and what a metered subject is: the columns reports group by."""

    subject_kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    subject_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    owner: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255), default="")
    profile: Mapped[str] = mapped_column(String(255), default="")
    project: Mapped[str] = mapped_column(String(255), default="")
    sweep_id: Mapped[str] = mapped_column(String(12), default="")
    mlflow_run_id: Mapped[str] = mapped_column(String(64), default="")


class CostCursor(_Subject, Base):
    """Where the metering of one subject stands; `ended_at` set: it does not run now."""

    __tablename__ = "lw_cost_cursors"

    session_start: Mapped[datetime] = mapped_column(UTCDateTime)
    last_end: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None, index=True)
    counter_key: Mapped[str] = mapped_column(String(512), default="")
    cpu_counter: Mapped[float] = mapped_column(Float, default=0.0)  # seconds, as last read
    billed: Mapped[bool] = mapped_column(Boolean, default=False)  # run metric logged (jobs)
    # the last sample, for the live summary
    burn_per_hour: Mapped[float] = mapped_column(Float, default=0.0)
    cpu_percent: Mapped[float | None] = mapped_column(Float, default=None)
    memory_bytes: Mapped[int | None] = mapped_column(BigInteger, default=None)
    gpu_utilization: Mapped[float | None] = mapped_column(Float, default=None)


class CostUsage(_Subject, Base):
    """What one subject used and cost on one UTC day: reserved quantities (what it was billed
    for) and measured ones (`cpu_seconds`, memory, GPU; zero where not measured), as sums."""

    __tablename__ = "lw_cost_usage"
    __table_args__ = (
        Index("ix_lw_cost_usage_day", "day"),
        Index("ix_lw_cost_usage_owner_day", "owner", "day"),
    )

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    first_start: Mapped[datetime] = mapped_column(UTCDateTime)
    last_end: Mapped[datetime] = mapped_column(UTCDateTime)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    # reserved (billed) quantities, summed: core-seconds, GiB-seconds, GPU-seconds
    core_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    memory_gb_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    gpu_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    gpu_model: Mapped[str] = mapped_column(String(255), default="")
    cpu_seconds: Mapped[float] = mapped_column(Float, default=0.0)  # measured
    memory_byte_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    memory_peak: Mapped[int] = mapped_column(BigInteger, default=0)
    gpu_utilization_seconds: Mapped[float] = mapped_column(Float, default=0.0)  # % x s / 100
    gpu_memory_peak: Mapped[int] = mapped_column(BigInteger, default=0)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)


class CostBudget(Base):
    """A monthly budget of a user or a group (`scope`), with alert thresholds in percent."""

    __tablename__ = "lw_cost_budgets"

    scope: Mapped[str] = mapped_column(String(8), primary_key=True)  # user | group
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    monthly_usd: Mapped[float] = mapped_column(Float)
    thresholds: Mapped[list] = mapped_column(JSON, default=lambda: list(DEFAULT_THRESHOLDS))
    updated_by: Mapped[str] = mapped_column(String(255), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    override_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class CostAlert(Base):
    """An alert that fired: `key` names it once (`budget/user/alice/2026-12/80`,
    `idle/alice/gpu/<started>`), `payload` is what the notifiers were sent."""

    __tablename__ = "lw_cost_alerts"

    key: Mapped[str] = mapped_column(String(512), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # budget | idle_gpu
    owner: Mapped[str] = mapped_column(String(255), index=True)  # a user, or a group's name
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    fired_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered: Mapped[int] = mapped_column(Integer, default=0)  # notices accepted
