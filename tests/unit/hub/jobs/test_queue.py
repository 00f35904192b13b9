"""The queue's slots and resources: what fits, backfill, restore after restart. Which GPU a
run gets is the GPU leases' business (test_gpu_leases.py)."""

from __future__ import annotations

from labworks_hub.profiles import DEFAULT_PROFILES, GiB
from labworks_hub.service.jobs.queue import Capacity, Demand, SlotPool

SMALL = Demand(cpu=2, memory=4 * GiB)
LARGE = Demand(cpu=8, memory=32 * GiB)
GPU = Demand(cpu=8, memory=32 * GiB, gpus=1)


def test_slots_bound_how_many_run_at_once():
    pool = SlotPool(Capacity(slots=2))
    assert pool.try_take("a", SMALL) and pool.try_take("b", SMALL)
    assert pool.try_take("c", SMALL) is None
    pool.release("a")
    assert pool.try_take("c", SMALL) is not None
    assert pool.running == 2 and pool.free_slots() == 0


def test_taking_twice_for_the_same_run_is_one_grant():
    pool = SlotPool(Capacity(slots=1))
    first = pool.try_take("a", SMALL)
    assert pool.try_take("a", SMALL) == first
    assert pool.running == 1


def test_cpu_and_memory_add_up_and_a_smaller_run_backfills():
    pool = SlotPool(Capacity(slots=5, cpu=10, memory=40 * GiB))
    assert pool.try_take("large", LARGE)
    assert pool.try_take("large-2", LARGE) is None  # 16 CPUs > 10
    assert pool.try_take("small", SMALL)  # 10 CPUs, 36 GiB: fits behind the waiting large one
    assert pool.try_take("small-2", SMALL) is None  # 12 CPUs > 10


def test_what_can_never_fit_is_said_at_once():
    local = SlotPool(Capacity(slots=2, cpu=4, memory=8 * GiB, gpus=()))
    assert local.never_fits(GPU) == "needs 1 GPU(s); jobs here have no GPU"
    assert local.never_fits(Demand(cpu=8)) == "needs 8 CPUs; jobs here have 4"
    assert local.never_fits(Demand(memory=32 * GiB)) == (
        "needs 32 GiB memory; jobs here have 8 GiB"
    )
    assert local.never_fits(SMALL) is None
    cluster = SlotPool(Capacity(slots=1000))  # a cluster scheduler decides
    assert cluster.never_fits(GPU) is None
    assert cluster.try_take("a", GPU) is not None


def test_restore_takes_back_what_running_attempts_hold_even_over_capacity():
    pool = SlotPool(Capacity(slots=1, gpus=(0, 1)))
    pool.restore("a", GPU)
    pool.restore("b", SMALL)
    assert pool.running == 2 and pool.free_slots() == 0
    assert pool.release("b").demand == SMALL  # what it held, for the GPUs to give back
    assert pool.release("a").demand == GPU and pool.release("a") is None
    assert pool.try_take("c", GPU) is not None


def test_demand_comes_from_the_profile_and_round_trips():
    gpu = next(p for p in DEFAULT_PROFILES if p.gpu_count)
    demand = Demand.of(gpu)
    assert demand == Demand(cpu=8.0, memory=32 * GiB, gpus=1)
    assert Demand.from_dict(demand.to_dict()) == demand
    assert Demand.from_dict({}) == Demand()
