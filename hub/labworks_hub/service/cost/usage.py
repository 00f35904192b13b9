"""What a running subject uses now: CPU time and memory from its cgroup v2 group where it has
one (`cpu.stat` usage_usec, `memory.current`), else summed over its process tree in /proc, and
its GPUs' figures (nvml.py) for the GPUs leased to it and the processes of its tree.

CPU time is a counter: the meter bills the difference between two readings of the same
counter (`key`: the cgroup, or the root process with its start time), so a restarted process
starts a new counter rather than a negative interval.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .nvml import GPUReading

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class Reading:
    """One look at a subject: its CPU counter (seconds, under `key`), memory in use, the pids
    of its processes, and its GPU figures (None: it holds no GPU)."""

    key: str
    cpu_seconds: float
    memory_bytes: int
    pids: frozenset[int] = frozenset()
    gpu_utilization: float | None = None  # percent, mean over its GPUs
    gpu_memory: int = 0


@dataclass(frozen=True)
class ProcessInfo:
    ppid: int
    start_ticks: int
    cpu_ticks: int  # utime + stime + cutime + cstime: its own and its reaped children's
    rss_pages: int


def parse_stat(raw: str) -> ProcessInfo:
    """The fields of /proc/<pid>/stat the meter needs (the name may hold spaces and parens)."""
    fields = raw[raw.rindex(")") + 2 :].split()
    ticks = sum(int(fields[i]) for i in (11, 12, 13, 14))
    return ProcessInfo(int(fields[1]), int(fields[19]), ticks, int(fields[21]))


class ProcessTable:
    """Every process in /proc, read once per sample: the trees of all subjects come from it."""

    def __init__(self, root: Path = Path("/proc")) -> None:
        self.processes: dict[int, ProcessInfo] = {}
        self.children: dict[int, list[int]] = {}
        for entry in os.scandir(root):
            if not entry.name.isdigit():
                continue
            try:
                with open(os.path.join(entry.path, "stat")) as f:
                    info = parse_stat(f.read())
            except (OSError, ValueError, IndexError):
                continue  # gone meanwhile
            pid = int(entry.name)
            self.processes[pid] = info
            self.children.setdefault(info.ppid, []).append(pid)

    def tree(self, root: int) -> set[int]:
        """`root` and its live descendants; empty when `root` does not run."""
        if root not in self.processes:
            return set()
        found, todo = {root}, [root]
        while todo:
            for child in self.children.get(todo.pop(), []):
                if child not in found:
                    found.add(child)
                    todo.append(child)
        return found

    def reading(self, root: int, start_ticks: int | None = None) -> Reading | None:
        """The tree's CPU time and resident memory; None when `root` (started at
        `start_ticks`, when given) does not run."""
        info = self.processes.get(root)
        if info is None or (start_ticks is not None and info.start_ticks != start_ticks):
            return None
        pids = self.tree(root)
        ticks = sum(self.processes[p].cpu_ticks for p in pids)
        rss = sum(self.processes[p].rss_pages for p in pids)
        return Reading(
            key=f"pid:{root}:{info.start_ticks}",
            cpu_seconds=ticks / CLOCK_TICKS,
            memory_bytes=rss * PAGE_SIZE,
            pids=frozenset(pids),
        )


def cgroup_reading(path: str | Path) -> Reading | None:
    """CPU time and memory of a cgroup v2 group (its own files, world-readable); None when
    the group is gone or is not one."""
    group = Path(path)
    try:
        stat = dict(line.split() for line in (group / "cpu.stat").read_text().splitlines())
        memory = int((group / "memory.current").read_text())
        procs = (group / "cgroup.procs").read_text().split()
    except (OSError, ValueError):
        return None
    return Reading(
        key=f"cgroup:{group}",
        cpu_seconds=int(stat.get("usage_usec", 0)) / 1e6,
        memory_bytes=memory,
        pids=frozenset(int(p) for p in procs),
    )


def with_gpus(reading: Reading, gpus: GPUReading, leased: list[int], pids: set[int]) -> Reading:
    """`reading` with the figures of the GPUs leased to the subject: utilization and memory of
    its own processes there where the driver reports them per process, else (the GPUs are
    leased to it alone) the devices' own."""
    if not leased:
        return reading
    mine = [p for p in gpus.processes if p.index in leased and p.pid in pids]
    per_device: list[float] = []
    for index in leased:
        sampled = [p.utilization for p in mine if p.index == index and p.utilization is not None]
        if sampled:
            per_device.append(min(100.0, sum(sampled)))
        elif index in gpus.devices:
            per_device.append(gpus.devices[index].utilization)
    memory = sum(p.memory_used for p in mine)
    if not mine:
        memory = sum(gpus.devices[i].memory_used for i in leased if i in gpus.devices)
    utilization = sum(per_device) / len(per_device) if per_device else None
    return Reading(reading.key, reading.cpu_seconds, reading.memory_bytes, reading.pids,
                   utilization, memory)  # fmt: skip
