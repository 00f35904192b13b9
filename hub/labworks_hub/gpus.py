"""GPUs of this machine (NVML, the official binding) and which workspace holds which.

Each GPU is given to one workspace at a time through CUDA_VISIBLE_DEVICES. Machines without an
NVIDIA driver have no GPUs: GPU profiles are then shown as unavailable, never hang.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pynvml

from .profiles import GPUStatus


@dataclass(frozen=True)
class GPU:
    index: int
    name: str
    memory_bytes: int


def detect_gpus() -> list[GPU]:
    """The GPUs NVML sees; [] when there is no driver or library."""
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError:
        return []
    try:
        found = []
        for index in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            name = pynvml.nvmlDeviceGetName(handle)
            memory = pynvml.nvmlDeviceGetMemoryInfo(handle).total
            found.append(GPU(index, name.decode() if isinstance(name, bytes) else name, memory))
        return found
    finally:
        pynvml.nvmlShutdown()


class NoGPUAvailable(Exception):
    """Not enough free GPUs; the message is shown to the user."""


class GPUSlots:
    """Which workspace holds which GPU index. One instance per hub process; thread-safe."""

    def __init__(self, gpus: list[GPU]) -> None:
        self.gpus = gpus
        self._holders: dict[int, str] = {}
        self._lock = threading.Lock()

    def status(self) -> GPUStatus:
        with self._lock:
            return GPUStatus(
                total=len(self.gpus),
                free=len(self.gpus) - len(self._holders),
                models=tuple(g.name for g in self.gpus),
                free_models=tuple(g.name for g in self.gpus if g.index not in self._holders),
            )

    def acquire(self, holder: str, count: int) -> list[int]:
        with self._lock:
            mine = [i for i, h in self._holders.items() if h == holder]
            if len(mine) >= count:
                return sorted(mine)[:count]
            free = [g.index for g in self.gpus if g.index not in self._holders]
            if len(free) < count - len(mine):
                raise NoGPUAvailable(
                    f"{count} GPU(s) requested, {len(free) + len(mine)} of {len(self.gpus)} free"
                )
            for index in free[: count - len(mine)]:
                self._holders[index] = holder
            return sorted(i for i, h in self._holders.items() if h == holder)

    def restore(self, holder: str, indices: list[int]) -> None:
        """Re-take GPUs recorded in a spawner's state after a hub restart."""
        with self._lock:
            for index in indices:
                self._holders.setdefault(index, holder)

    def release(self, holder: str) -> None:
        with self._lock:
            for index in [i for i, h in self._holders.items() if h == holder]:
                del self._holders[index]
