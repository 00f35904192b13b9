"""The NVML probe: the GPUs this workspace may use, with live memory and utilization.

No Jupyter imports here. Which devices are ours comes from CUDA_VISIBLE_DEVICES (set by the
spawner); with no NVIDIA driver the answer is an empty list, never an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pynvml


def visible_indices(env: Mapping[str, str], count: int) -> list[int]:
    """Device indices named by CUDA_VISIBLE_DEVICES (all when unset; UUIDs are not mapped)."""
    raw = env.get("CUDA_VISIBLE_DEVICES")
    if raw is None:
        return list(range(count))
    indices = []
    for part in raw.split(","):
        part = part.strip()
        if part.isdigit() and int(part) < count:
            indices.append(int(part))
    return indices


def probe_gpus(env: Mapping[str, str]) -> list[dict[str, Any]]:
    """One dict per visible GPU: index, name, memory_total, memory_used (bytes), utilization (%)."""
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError:
        return []
    try:
        devices = []
        for index in visible_indices(env, pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            name = pynvml.nvmlDeviceGetName(handle)
            memory = pynvml.nvmlDeviceGetMemoryInfo(handle)
            rates = pynvml.nvmlDeviceGetUtilizationRates(handle)
            devices.append(
                {
                    "index": index,
                    "name": name.decode() if isinstance(name, bytes) else name,
                    "memory_total": int(memory.total),
                    "memory_used": int(memory.used),
                    "utilization": int(rates.gpu),
                }
            )
        return devices
    except pynvml.NVMLError:
        return []
    finally:
        pynvml.nvmlShutdown()
