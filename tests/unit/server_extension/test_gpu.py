"""The NVML probe. No GPU exists on this machine: the real NVML answers 'no driver' (checked
as such), and device reading is checked against a stand-in for the pynvml module."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pynvml
import pytest

from labworks_server import gpu
from labworks_server.gpu import probe_gpus, visible_indices


class FakeNVML:
    NVMLError = pynvml.NVMLError

    def __init__(self, names):
        self.names = names
        self.shutdowns = 0

    def nvmlInit(self):
        pass

    def nvmlShutdown(self):
        self.shutdowns += 1

    def nvmlDeviceGetCount(self):
        return len(self.names)

    def nvmlDeviceGetHandleByIndex(self, index):
        return index

    def nvmlDeviceGetName(self, handle):
        return self.names[handle]

    def nvmlDeviceGetMemoryInfo(self, handle):
        return SimpleNamespace(total=80 * 1024**3, used=(handle + 1) * 1024**3)

    def nvmlDeviceGetUtilizationRates(self, handle):
        return SimpleNamespace(gpu=10 * (handle + 1))


def test_no_driver_means_no_gpus():
    assert probe_gpus({}) == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, [0, 1, 2]), ("", []), ("1", [1]), ("2,0", [2, 0]), ("7,x,1", [1]), ("GPU-uuid", [])],
)
def test_visible_indices(value, expected):
    env = {} if value is None else {"CUDA_VISIBLE_DEVICES": value}
    assert visible_indices(env, 3) == expected


def test_reads_only_the_workspaces_devices(monkeypatch):
    fake = FakeNVML(["NVIDIA H100", b"NVIDIA A100"])
    monkeypatch.setattr(gpu, "pynvml", fake)
    devices = probe_gpus({"CUDA_VISIBLE_DEVICES": "1"})
    assert devices == [
        {"index": 1, "name": "NVIDIA A100", "memory_total": 80 * 1024**3,
         "memory_used": 2 * 1024**3, "utilization": 20}
    ]  # fmt: skip
    assert fake.shutdowns == 1


async def test_route_answers_the_probe(jp_fetch: Any, monkeypatch) -> None:
    monkeypatch.setattr(gpu, "pynvml", FakeNVML(["NVIDIA H100"]))
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    body = json.loads((await jp_fetch("labworks", "gpus")).body)
    assert body["gpus"][0]["name"] == "NVIDIA H100"
    assert body["gpus"][0]["utilization"] == 10
