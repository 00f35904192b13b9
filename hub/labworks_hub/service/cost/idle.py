"""Idle GPUs: a GPU workspace whose GPUs stay under `CostBudgets.idle_gpu_threshold` percent
for `idle_gpu_minutes`, with no activity in that time, is idle.

"Activity" is the hub's `last_activity` of the server, which the server moves while a kernel is
busy or a user works in the lab: a busy kernel is never idle. Jobs and sweep trials hold their
own GPUs and are never looked at here. The time under the threshold is counted in memory from
the samples this process took: after a restart it counts again from the first sample (an idle
workspace is found later, never sooner). Each server start is alerted (and stopped) once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ..store.cost import WORKSPACE
from .record import Observed
from .subjects import Subject


@dataclass(frozen=True)
class Idle:
    subject: Subject
    since: datetime
    utilization: float

    @property
    def key(self) -> str:
        started = self.subject.started_at.isoformat() if self.subject.started_at else "?"
        return f"idle/{self.subject.id}/{started}"

    @property
    def payload(self) -> dict:
        return {
            "workspace": self.subject.id, "owner": self.subject.owner,
            "profile": self.subject.profile, "idle_since": self.since.isoformat(),
            "gpu_utilization": round(self.utilization, 3),
        }  # fmt: skip


class IdleGPUs:
    """The samples' memory of when each GPU workspace went under the threshold."""

    def __init__(self, threshold: float, minutes: float) -> None:
        self.threshold = threshold
        self.span = timedelta(minutes=minutes)
        self._under: dict[tuple[str, str], datetime] = {}  # key -> first sample under

    def look(self, observed: list[Observed], now: datetime) -> list[Idle]:
        """The GPU workspaces idle at this sample (each time they are, until they are not)."""
        if self.span <= timedelta(0):
            return []
        idle, seen = [], set()
        for o in observed:
            s, reading = o.subject, o.reading
            if s.kind != WORKSPACE or reading is None or reading.gpu_utilization is None:
                continue
            seen.add(s.key)
            if reading.gpu_utilization >= self.threshold:
                self._under.pop(s.key, None)
                continue
            since = self._under.setdefault(s.key, now)
            active = s.last_activity is not None and now - s.last_activity < self.span
            if now - since >= self.span and not active:
                idle.append(Idle(s, since, reading.gpu_utilization))
        for key in set(self._under) - seen:
            del self._under[key]  # stopped, or no longer measured
        return idle
