"""The job queue's resource accounting: slots, CPU and memory an executor can give out.

Queued runs are considered in queue order (higher priority first, then oldest); each one
starts when a slot is free, its profile's CPU and memory fit in what is left, and (on a
machine whose GPUs this service hands out) the GPUs it needs can be leased: GPUs are not
counted here but leased in the store (labworks_hub.gpus.GPUAllocator), shared with the
workspaces. A run that does not fit now does not block smaller ones behind it (backfill); a
run that could never fit is refused at submit (`never_fits`). The pool is in memory: after a
restart the service puts the running runs back with `restore` before it starts anything new.
Not thread-safe: the job service calls it from its event loop only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ...profiles import Profile


@dataclass(frozen=True)
class Demand:
    """What one run takes while it runs (from its profile)."""

    cpu: float = 0.0
    memory: int = 0
    gpus: int = 0

    @classmethod
    def of(cls, profile: Profile) -> Demand:
        return cls(profile.cpu_limit or 0.0, profile.mem_limit or 0, profile.gpu_count)

    @classmethod
    def from_dict(cls, data: dict) -> Demand:
        return cls(
            float(data.get("cpu") or 0), int(data.get("memory") or 0), int(data.get("gpus") or 0)
        )

    def to_dict(self) -> dict:
        return {"cpu": self.cpu, "memory": self.memory, "gpus": self.gpus}


@dataclass(frozen=True)
class Capacity:
    """What an executor can run at once. None: not limited here (a cluster scheduler decides);
    `gpus` lists the GPU indices this machine hands out, None when they are not managed here."""

    slots: int
    cpu: float | None = None
    memory: int | None = None
    gpus: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Grant:
    run_id: str
    demand: Demand


@dataclass
class SlotPool:
    capacity: Capacity
    _grants: dict[str, Grant] = field(default_factory=dict)

    def never_fits(self, demand: Demand) -> str | None:
        """Why a run with this demand could never start here, or None."""
        cap = self.capacity
        if cap.gpus is not None and demand.gpus > len(cap.gpus):
            have = f"{len(cap.gpus)} GPU(s)" if cap.gpus else "no GPU"
            return f"needs {demand.gpus} GPU(s); jobs here have {have}"
        if cap.cpu is not None and demand.cpu > cap.cpu:
            return f"needs {demand.cpu:g} CPUs; jobs here have {cap.cpu:g}"
        if cap.memory is not None and demand.memory > cap.memory:
            gib = 2**30
            return (
                f"needs {demand.memory / gib:g} GiB memory; jobs here have {cap.memory / gib:g} GiB"
            )
        return None

    @property
    def running(self) -> int:
        return len(self._grants)

    def free_slots(self) -> int:
        return max(0, self.capacity.slots - len(self._grants))

    def try_take(self, run_id: str, demand: Demand) -> Grant | None:
        """Reserve what the run needs, or None when it does not fit now."""
        if run_id in self._grants:
            return self._grants[run_id]
        cap = self.capacity
        if len(self._grants) >= cap.slots:
            return None
        used = self._used()
        if cap.cpu is not None and used.cpu + demand.cpu > cap.cpu + 1e-9:
            return None
        if cap.memory is not None and used.memory + demand.memory > cap.memory:
            return None
        grant = Grant(run_id, demand)
        self._grants[run_id] = grant
        return grant

    def restore(self, run_id: str, demand: Demand) -> Grant:
        """Take back what a run already holds (after a restart), even past the capacity."""
        grant = Grant(run_id, demand)
        self._grants[run_id] = grant
        return grant

    def release(self, run_id: str) -> Grant | None:
        """Give back what the run took; what that was (None: nothing)."""
        return self._grants.pop(run_id, None)

    def _used(self) -> Demand:
        grants = self._grants.values()
        return Demand(
            sum(g.demand.cpu for g in grants),
            sum(g.demand.memory for g in grants),
            sum(g.demand.gpus for g in grants),
        )
