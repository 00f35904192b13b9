"""GPU figures from NVML (nvidia-ml-py), behind one small seam tests replace with a double.

`GPUProbe.read()` gives one `GPUReading`: per device (by index) its utilization and memory in
use, and per process on a device its memory and, where the driver samples it, its SM
utilization. The meter attributes them to subjects by the GPUs leased to each and the pids of
its process tree (meter.py): never the whole host's figures to anyone.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Protocol

import pynvml

log = logging.getLogger("labworks.service")


@dataclass(frozen=True)
class DeviceSample:
    index: int
    name: str
    utilization: float  # percent of the last sample period the GPU was busy
    memory_used: int  # bytes


@dataclass(frozen=True)
class ProcessSample:
    index: int  # the device
    pid: int
    memory_used: int  # bytes
    utilization: float | None = None  # SM percent; None where the driver does not sample it


@dataclass(frozen=True)
class GPUReading:
    devices: dict[int, DeviceSample] = field(default_factory=dict)
    processes: list[ProcessSample] = field(default_factory=list)


class GPUProbe(Protocol):
    def read(self) -> GPUReading: ...


class NoGPUs:
    """A machine without GPUs (or without the driver)."""

    def read(self) -> GPUReading:
        return GPUReading()


class NVMLProbe:
    """NVML, initialized once; a machine where NVML does not start has no GPUs. Not
    thread-safe: the meter reads from one thread at a time."""

    def __init__(self) -> None:
        self.ready = False
        self._last_seen: dict[int, int] = {}  # device -> last process-utilization timestamp
        try:
            pynvml.nvmlInit()
            self.ready = True
        except pynvml.NVMLError as e:
            log.info("Cost meter: no GPU figures (NVML: %s)", e)

    def close(self) -> None:
        if self.ready:
            self.ready = False
            pynvml.nvmlShutdown()

    def read(self) -> GPUReading:
        if not self.ready:
            return GPUReading()
        devices: dict[int, DeviceSample] = {}
        processes: list[ProcessSample] = []
        try:
            count = pynvml.nvmlDeviceGetCount()
        except pynvml.NVMLError as e:
            log.warning("Cost meter: NVML failed: %s", e)
            return GPUReading()
        for index in range(count):
            try:
                handle = pynvml.nvmlDeviceGetHandleByIndex(index)
                name = pynvml.nvmlDeviceGetName(handle)
                rates = pynvml.nvmlDeviceGetUtilizationRates(handle)
                memory = pynvml.nvmlDeviceGetMemoryInfo(handle)
            except pynvml.NVMLError as e:
                log.warning("Cost meter: NVML failed on GPU %d: %s", index, e)
                continue
            name = name.decode() if isinstance(name, bytes) else name
            devices[index] = DeviceSample(index, name, float(rates.gpu), int(memory.used))
            processes += self._processes(index, handle)
        return GPUReading(devices, processes)

    def _processes(self, index: int, handle: object) -> list[ProcessSample]:
        try:
            running = pynvml.nvmlDeviceGetComputeRunningProcesses(handle)
        except pynvml.NVMLError:
            return []
        utilization: dict[int, float] = {}
        since = self._last_seen.get(index, 0)
        try:
            for sample in pynvml.nvmlDeviceGetProcessUtilization(handle, since):
                utilization[sample.pid] = float(sample.smUtil)
        except pynvml.NVMLError:
            pass  # not supported, or no sample since `since`
        self._last_seen[index] = int(time.time() * 1e6)
        return [
            ProcessSample(index, p.pid, int(p.usedGpuMemory or 0), utilization.get(p.pid))
            for p in running
        ]
