"""Processes as /proc shows them: a pid is trusted only together with its start time (clock
ticks after boot), since pids are reused; trees are stopped frozen first, so none forks away."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path


def proc_stat(pid: int) -> tuple[str, int, int] | None:
    """(state letter, parent pid, start time in clock ticks) of a live process, else None."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return fields[0], int(fields[1]), int(fields[19])


def proc_uid(pid: int) -> int | None:
    """The real uid of a live process, else None."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("Uid:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def alive(pid: int, start_ticks: int, uid: int | None = None) -> bool:
    """Whether the process `pid` started at `start_ticks` still runs (zombies do not), as the
    real uid `uid` when given."""
    stat = proc_stat(pid)
    if stat is None or stat[2] != start_ticks or stat[0] in ("Z", "X"):
        return False
    return uid is None or proc_uid(pid) == uid


def descendants(*roots: int) -> set[int]:
    """Every live process below `roots`, from the parent links in /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = proc_stat(int(entry.name))
            if stat is not None:
                children.setdefault(stat[1], []).append(int(entry.name))
    found: set[int] = set()
    todo = list(roots)
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def kill_tree(root: int, start_ticks: int, uid: int | None = None) -> None:
    """Freeze the process and all its descendants (so none forks away), then SIGKILL them;
    with `uid`, only processes of that real uid (the job's account) are touched."""
    if not alive(root, start_ticks, uid):
        return
    frozen: dict[int, int] = {}
    others: set[int] = set()
    for _ in range(10):
        found = ({root} | descendants(root, *frozen)) - set(frozen) - others
        if not found:
            break
        for pid in found:
            stat = proc_stat(pid)
            if stat is not None and uid is not None and proc_uid(pid) != uid:
                others.add(pid)
            elif stat is not None:
                frozen[pid] = stat[2]
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGSTOP)
    for pid, ticks in frozen.items():
        if alive(pid, ticks):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def start_time(pid: int) -> int | None:
    """When `pid` started, in clock ticks after boot; None when no such process."""
    stat = proc_stat(pid)
    return stat[2] if stat else None
