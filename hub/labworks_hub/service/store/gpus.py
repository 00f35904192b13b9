"""GPU leases: which workspace or job holds which GPU of a host (table `lw_gpu_leases`).

One row per GPU in use. Its primary key (host, gpu_index) makes taking a GPU atomic across
processes: the hub (workspaces) and the platform service (jobs) both insert here, and an insert
that finds the row already there has lost the race. Holders are named `workspace:<user>/<server>`
or `job:<run id>`. Inserts use ON CONFLICT DO NOTHING rather than a savepoint per GPU: on SQLite
(pysqlite) a released savepoint is already committed, so a failed multi-GPU acquire could not be
rolled back.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Integer, String, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from .models import Base, utcnow

__all__ = ["GPULease", "GPUsBusy", "acquire", "held", "holders", "release", "release_stale",
           "restore"]  # fmt: skip


class GPULease(Base):
    __tablename__ = "lw_gpu_leases"

    host: Mapped[str] = mapped_column(String(255), primary_key=True)
    gpu_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    holder: Mapped[str] = mapped_column(String(255), index=True)
    owner: Mapped[str] = mapped_column(String(255))
    since: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class GPUsBusy(Exception):
    """Not enough free GPUs; the message says how many are free."""


def held(session: Session, host: str) -> dict[int, str]:
    """{GPU index: holder} of every GPU in use on `host`."""
    rows = session.execute(select(GPULease.gpu_index, GPULease.holder).where(GPULease.host == host))
    return {index: holder for index, holder in rows}


def holders(session: Session, host: str, prefix: str) -> dict[str, list[int]]:
    """{holder: its GPU indices} for the holders on `host` whose name starts with `prefix`."""
    found: dict[str, list[int]] = {}
    for index, holder in session.execute(
        select(GPULease.gpu_index, GPULease.holder)
        .where(GPULease.host == host, GPULease.holder.startswith(prefix, autoescape=True))
        .order_by(GPULease.gpu_index)
    ):
        found.setdefault(holder, []).append(index)
    return found


def _take(session: Session, host: str, index: int, holder: str, owner: str) -> bool:
    """Insert the lease of one GPU; False when another holder has it (or just took it)."""
    dialect = session.get_bind().dialect.name
    values = {"host": host, "gpu_index": index, "holder": holder, "owner": owner,
              "since": utcnow()}  # fmt: skip
    if dialect == "postgresql":
        insert: Any = postgresql.insert(GPULease)
    elif dialect == "sqlite":
        insert = sqlite.insert(GPULease)
    else:
        raise NotImplementedError(f"GPU leases need SQLite or PostgreSQL, not {dialect}")
    statement = (
        insert.values(**values)
        .on_conflict_do_nothing(index_elements=["host", "gpu_index"])
        .returning(GPULease.gpu_index)
    )
    return session.execute(statement).first() is not None  # no row: the GPU was taken


def acquire(
    session: Session, host: str, holder: str, owner: str, count: int, candidates: Iterable[int]
) -> list[int]:
    """Give `holder` `count` GPUs among `candidates` (lowest index first) and return their
    indices; what it holds already counts (asking again is idempotent). GPUsBusy when not
    enough are free: the caller's transaction must then roll back what was taken here."""
    candidates = list(dict.fromkeys(candidates))
    now_held = held(session, host)
    mine = sorted(i for i, h in now_held.items() if h == holder)
    if len(mine) >= count:
        return mine[:count]
    free = [i for i in candidates if i not in now_held]
    for index in free:
        if len(mine) == count:
            break
        if _take(session, host, index, holder, owner):
            mine.append(index)
    if len(mine) < count:
        have = len([i for i in candidates if now_held.get(i, holder) == holder])
        raise GPUsBusy(f"{count} GPU(s) requested, {have} of {len(candidates)} free")
    return sorted(mine)


def release(session: Session, host: str, holder: str) -> list[int]:
    """Free every GPU `holder` has on `host`; the indices freed."""
    freed = session.scalars(
        delete(GPULease)
        .where(GPULease.host == host, GPULease.holder == holder)
        .returning(GPULease.gpu_index)
    )
    return sorted(freed)


def restore(
    session: Session, host: str, holder: str, owner: str, indices: Iterable[int]
) -> list[int]:
    """Take back GPUs a holder recorded (after a restart, its lease may be gone); the indices
    it could not get back because another holder has them now."""
    lost = []
    current = held(session, host)
    for index in indices:
        if current.get(index) == holder:
            continue
        if index in current or not _take(session, host, index, holder, owner):
            lost.append(index)
    return lost


def release_stale(
    session: Session, host: str, prefix: str, alive: Iterable[str], before: datetime
) -> dict[str, list[int]]:
    """Free the leases of holders named `prefix...` that are not in `alive` and were taken
    before `before` (a holder that took its GPUs since the caller looked is left alone);
    returns {holder: indices freed}."""
    keep = set(alive)
    stale: dict[str, list[int]] = {}
    for lease in session.scalars(
        select(GPULease).where(
            GPULease.host == host,
            GPULease.holder.startswith(prefix, autoescape=True),
            GPULease.since < before,
        )
    ):
        if lease.holder not in keep:
            stale.setdefault(lease.holder, []).append(lease.gpu_index)
            session.delete(lease)
    return stale
