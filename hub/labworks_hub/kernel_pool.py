"""Warm kernels: job runners started ahead, each with its kernel up, used once.

A notebook job spends about two seconds before its first cell: its runner's interpreter
importing papermill, then a kernel starting and answering. For each key (below) that has run
a job lately, the launcher (labworks_hub.launcher) keeps `size` runners started ahead
(`runner.py --warm`, service/jobs/runner.py), as the owner's account, in the job environment
without its per-job variables, each with its kernel answering and waiting on its stdin. A job
of that key takes one: its slot folder `<runs>/warm/<n>/` (the launcher's, laid out as an
attempt's: `log.txt`, `job/`, `work/`) is renamed to the attempt's, and one line on the
runner's stdin, the claim, gives it the job's spec, notebook, whole environment and working
folder, which the runner and then the kernel take before papermill runs the notebook. The
pool is topped up at once. Each runner and kernel serves one job and exits, as the job's own
account with the job's environment: isolation and reproducibility are a cold start's.

The key: the owner, the kernel name and a digest of the environment less the variables that
change from job to job (`PER_JOB`: the job's id, name and parameters, its tokens, its GPUs),
so the profile shows in it (LABWORKS_PROFILE, CPU_LIMIT, ...). A slot nobody claims exits
after `idle` seconds, and one whose launcher is gone reads the end of its input and exits:
slots never outlive their launcher. A slot near its idle end is let go rather than claimed
(`CLAIM_MARGIN`): a claim never races the runner's own timeout. Nothing is written as root
into a folder the account can write to: the claim travels over the pipe.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

PER_JOB = re.compile(r"LABWORKS_JOB_\w*|\w*_TOKEN|CUDA_VISIBLE_DEVICES")
SIZE, IDLE = 1, 600.0  # the defaults: warm kernels per key, seconds each one waits
CLAIM_MARGIN = 5.0  # seconds before its idle end a slot is no longer claimed
PIPE_SIZE = 1 << 20  # a claim this big never waits for the runner to read it
Key = tuple[str, str, str]  # owner, kernel name, digest of the shared environment


def shared_env(env: dict[str, str]) -> dict[str, str]:
    """What a warm runner of this environment starts with: all but the per-job variables."""
    return {name: value for name, value in env.items() if not PER_JOB.fullmatch(name)}


def warm_key(owner: str, kernel_name: str, env: dict[str, str]) -> Key:
    digest = hashlib.sha256(json.dumps(shared_env(env), sort_keys=True).encode()).hexdigest()
    return owner, kernel_name, digest


@dataclass
class Slot:
    """One warm runner: its process (stdin a pipe of ours) and its slot folder."""

    key: Key
    directory: Path
    process: subprocess.Popen = field(repr=False)
    uid: int
    started: float = field(default_factory=time.monotonic)  # its idle clock starts later

    def __post_init__(self) -> None:
        assert self.process.stdin is not None
        with contextlib.suppress(OSError):  # best effort: the default 64 KiB still works
            fcntl.fcntl(self.process.stdin, fcntl.F_SETPIPE_SZ, PIPE_SIZE)

    def claim(self, line: dict) -> bool:
        """Hand the runner its job; False when it is gone (or going)."""
        stdin = self.process.stdin
        assert stdin is not None
        try:
            stdin.write(json.dumps(line).encode() + b"\n")
            stdin.close()
        except (BrokenPipeError, ValueError, OSError):
            return False
        return True

    def discard(self) -> None:
        """Let it go: the end of its input shuts its kernel down; its folder is removed."""
        with contextlib.suppress(OSError, ValueError):
            assert self.process.stdin is not None
            self.process.stdin.close()
        shutil.rmtree(self.directory, ignore_errors=True)


class KernelPool:
    """The warm slots of one launcher, by key (see the module docstring). Not thread-safe:
    the launcher calls it one request at a time."""

    def __init__(self, size: int, idle: float) -> None:
        self.size = size
        self.idle = idle
        self._slots: dict[Key, list[Slot]] = {}

    def take(self, key: Key) -> Slot | None:
        """The oldest live slot of `key` (ready, or still starting: never slower than a
        cold start), out of the pool; slots near their idle end are let go first."""
        self.prune(time.monotonic() - (self.idle - min(CLAIM_MARGIN, self.idle / 2)))
        slots = self._slots.get(key)
        return slots.pop(0) if slots else None

    def missing(self, key: Key) -> int:
        return max(0, self.size - len(self._slots.get(key, ())))

    def add(self, slot: Slot) -> None:
        self._slots.setdefault(slot.key, []).append(slot)

    def prune(self, started_before: float = float("-inf")) -> None:
        """Forget the slots whose runner ended (idle, or failed to start its kernel), and
        let go of those started before `started_before`."""
        for key, slots in list(self._slots.items()):
            ended = [s for s in slots if s.process.poll() is not None or s.started < started_before]
            for slot in ended:
                slots.remove(slot)
                slot.discard()
            if not slots:
                del self._slots[key]

    def close(self) -> None:
        for slots in self._slots.values():
            for slot in slots:
                slot.discard()
        self._slots.clear()
