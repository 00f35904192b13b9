"""Measuring a subject: a cgroup v2 group's files, a real process tree in /proc, and GPU
figures attributed per process for the GPUs leased to it only (an NVML double)."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from labworks_hub.service.cost.nvml import DeviceSample, GPUReading, ProcessSample
from labworks_hub.service.cost.usage import (
    ProcessTable,
    Reading,
    cgroup_reading,
    parse_stat,
    with_gpus,
)


def test_a_cgroup_is_read_from_its_files(tmp_path):
    (tmp_path / "cpu.stat").write_text(
        "usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\n"
    )
    (tmp_path / "memory.current").write_text("104857600\n")
    (tmp_path / "cgroup.procs").write_text("41\n42\n")
    reading = cgroup_reading(tmp_path)
    assert reading == Reading(f"cgroup:{tmp_path}", 2.5, 104857600, frozenset({41, 42}))


def test_a_missing_cgroup_reads_as_none(tmp_path):
    assert cgroup_reading(tmp_path / "gone") is None
    (tmp_path / "cpu.stat").write_text("usage_usec x\n")
    assert cgroup_reading(tmp_path) is None


def test_stat_lines_with_spaces_and_parens_in_the_name_parse():
    fields = ["S", "7"] + ["0"] * 9 + ["100", "50", "20", "5"] + ["0"] * 4 + ["12345", "0", "33"]
    info = parse_stat("99 (a (b) c) " + " ".join(fields))
    assert (info.ppid, info.cpu_ticks, info.start_ticks, info.rss_pages) == (7, 175, 12345, 33)


BUSY = """
import os, subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
start = time.process_time()
while time.process_time() - start < 1.0:
    pass
print(child.pid, time.process_time(), flush=True)
time.sleep(60)
"""


def test_a_real_process_tree_is_read_from_proc():
    proc = subprocess.Popen([sys.executable, "-c", BUSY], stdout=subprocess.PIPE, text=True)
    try:
        child, cpu = proc.stdout.readline().split()
        table = ProcessTable()
        reading = table.reading(proc.pid)
        assert reading is not None
        assert {proc.pid, int(child)} <= reading.pids
        # the busy loop's CPU time (to a clock tick), plus the interpreter's start
        assert float(cpu) - 0.02 <= reading.cpu_seconds < float(cpu) + 0.5
        assert reading.memory_bytes > 1 << 20  # two Python interpreters' resident pages
        ticks = table.processes[proc.pid].start_ticks
        assert reading.key == f"pid:{proc.pid}:{ticks}"
        assert table.reading(proc.pid, ticks + 1) is None  # another process with the same pid
    finally:
        proc.kill()
        proc.wait()
    time.sleep(0.05)
    assert ProcessTable().reading(proc.pid) is None


GPUS = GPUReading(
    devices={
        0: DeviceSample(0, "NVIDIA H100", 90.0, 40 << 30),
        1: DeviceSample(1, "NVIDIA H100", 30.0, 10 << 30),
        2: DeviceSample(2, "NVIDIA H100", 100.0, 70 << 30),
    },
    processes=[
        ProcessSample(0, 100, 20 << 30, 60.0),
        ProcessSample(0, 101, 10 << 30, 25.0),
        ProcessSample(0, 900, 10 << 30, 5.0),  # someone else's process on our GPU
        ProcessSample(2, 100, 1 << 30, 50.0),  # ours, on a GPU leased to another
    ],
)


def test_gpu_figures_are_those_of_its_processes_on_its_leased_gpus():
    base = Reading("pid:100:1", 1.0, 1, frozenset({100, 101}))
    mine = with_gpus(base, GPUS, [0], {100, 101})
    assert mine.gpu_utilization == pytest.approx(85.0)  # 60 + 25, not the device's 90
    assert mine.gpu_memory == 30 << 30
    assert (mine.key, mine.cpu_seconds) == (base.key, base.cpu_seconds)


def test_without_per_process_samples_its_leased_devices_count():
    base = Reading("pid:5:1", 1.0, 1, frozenset({5}))
    found = with_gpus(base, GPUS, [1], {5})
    assert found.gpu_utilization == pytest.approx(30.0)  # GPU 1, leased to it alone
    assert found.gpu_memory == 10 << 30
    assert with_gpus(base, GPUS, [], {5}).gpu_utilization is None  # no lease, no GPU figures
    assert with_gpus(base, GPUReading(), [0], {5}).gpu_utilization is None  # NVML saw nothing
