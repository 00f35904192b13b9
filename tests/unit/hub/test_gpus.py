"""GPU inventory. NVML cannot exist without a GPU here: detection is checked to be empty (the
real NVML probe runs on the device machine when one is lent); who holds which GPU is in
tests/unit/hub/jobs/test_gpu_leases.py."""

from __future__ import annotations

import pytest

from labworks_hub.gpus import GPUAllocator, NoGPUAvailable, detect_gpus
from labworks_hub.profiles import GPUStatus


def test_no_driver_means_no_gpus():
    assert detect_gpus() == []  # this machine has no NVIDIA driver


def test_without_gpus_nothing_is_leased_and_no_store_is_needed():
    allocator = GPUAllocator(None, detect_gpus())
    assert allocator.status() == GPUStatus(total=0, free=0)
    with pytest.raises(NoGPUAvailable, match="1 GPU"):
        allocator.acquire("workspace:alice/", "alice", 1)
    assert allocator.acquire("workspace:alice/", "alice", 0) == []
    assert allocator.release("workspace:alice/") == []
