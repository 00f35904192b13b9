"""GPU inventory and slots. NVML cannot exist without a GPU here: detection is checked to be
empty, and the slot logic is checked with GPU records (the real NVML probe runs on the device
machine when one is lent)."""

from __future__ import annotations

import pytest

from labworks_hub.gpus import GPU, GPUSlots, NoGPUAvailable, detect_gpus
from labworks_hub.profiles import GPUStatus

TWO = [GPU(0, "NVIDIA H100", 80 * 1024**3), GPU(1, "NVIDIA H100", 80 * 1024**3)]


def test_no_driver_means_no_gpus():
    assert detect_gpus() == []  # this machine has no NVIDIA driver


def test_each_gpu_goes_to_one_workspace():
    slots = GPUSlots(TWO)
    assert slots.acquire("alice", 1) == [0]
    assert slots.acquire("alice", 1) == [0]  # asking again is idempotent
    assert slots.acquire("bob", 1) == [1]
    assert slots.status() == GPUStatus(total=2, free=0, models=("NVIDIA H100",) * 2)
    with pytest.raises(NoGPUAvailable, match="1 GPU"):
        slots.acquire("carol", 1)
    slots.release("alice")
    assert slots.acquire("carol", 1) == [0]


def test_restore_after_restart_keeps_holders():
    slots = GPUSlots(TWO)
    slots.restore("bob", [1])
    assert slots.acquire("alice", 1) == [0]
    with pytest.raises(NoGPUAvailable):
        slots.acquire("carol", 1)
