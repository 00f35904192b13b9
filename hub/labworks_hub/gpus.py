"""GPUs of this machine (NVML, the official binding) and who holds which.

Each GPU is given to one workspace or one job at a time through CUDA_VISIBLE_DEVICES. The
leases live in the platform store (`service/store/gpus.py`), so the hub (workspaces) and the
platform service (jobs) share one allocator and never hand out the same GPU. Machines without
an NVIDIA driver have no GPUs: GPU profiles are then shown as unavailable, never hang.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import pynvml
from traitlets import Unicode, default
from traitlets.config import LoggingConfigurable

from .profiles import GPUStatus
from .service.store import Store
from .service.store import gpus as leases


@dataclass(frozen=True)
class GPU:
    index: int
    name: str = ""
    memory_bytes: int = 0


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


def workspace_holder(user: str, server: str) -> str:
    return f"workspace:{user}/{server}"


def job_holder(run_id: str) -> str:
    return f"job:{run_id}"


class GPUAllocator(LoggingConfigurable):
    """The GPUs of one host (`gpus`, from NVML) leased through the platform store.

    Thread-safe; every method but `status` with no GPUs blocks on the store: call them from a
    thread (`asyncio.to_thread`). With no GPUs nothing touches the store, so a machine without
    GPUs needs no store here.
    """

    host = Unicode(
        help="Name of this machine in the GPU leases (default: its host name); the hub and"
        " the platform service must use the same."
    ).tag(config=True)

    @default("host")
    def _default_host(self) -> str:
        return socket.gethostname()

    def __init__(self, store: Store | None, gpus: Sequence[GPU], **kwargs) -> None:
        super().__init__(**kwargs)
        if gpus and store is None:
            raise ValueError("GPUs are leased through the platform store: give it a store")
        self.store = store
        self.gpus = list(gpus)

    @property
    def indices(self) -> list[int]:
        return [g.index for g in self.gpus]

    def held(self) -> dict[int, str]:
        """{index: holder} of the GPUs of this host in use (by anyone)."""
        if not self.gpus:
            return {}
        assert self.store is not None
        with self.store.session() as session:
            return leases.held(session, self.host)

    def status(self) -> GPUStatus:
        held = self.held()
        return GPUStatus(
            total=len(self.gpus),
            free=len([g for g in self.gpus if g.index not in held]),
            models=tuple(g.name for g in self.gpus),
            free_models=tuple(g.name for g in self.gpus if g.index not in held),
        )

    def acquire(
        self, holder: str, owner: str, count: int, candidates: Iterable[int] | None = None
    ) -> list[int]:
        """`count` GPU indices for `holder` among `candidates` (default: all), taken in one
        transaction; NoGPUAvailable when not enough are free."""
        if count <= 0:
            return []
        wanted = self.indices if candidates is None else list(candidates)
        if not self.gpus or not wanted:
            raise NoGPUAvailable(f"{count} GPU(s) requested, none here")
        assert self.store is not None
        try:
            with self.store.session() as session:
                return leases.acquire(session, self.host, holder, owner, count, wanted)
        except leases.GPUsBusy as e:
            raise NoGPUAvailable(str(e)) from None

    def release(self, holder: str) -> list[int]:
        """Free what `holder` has; the indices freed."""
        if not self.gpus:
            return []
        assert self.store is not None
        with self.store.session() as session:
            freed = leases.release(session, self.host, holder)
        if freed:
            self.log.debug("GPUs %s of %s freed", freed, holder)
        return freed

    def restore(self, holder: str, owner: str, indices: Iterable[int]) -> list[int]:
        """Make sure `holder` still has the GPUs it recorded (after a restart); the indices it
        could not get back, which someone else holds now (logged)."""
        indices = list(indices)
        if not self.gpus or not indices:
            return []
        assert self.store is not None
        with self.store.session() as session:
            lost = leases.restore(session, self.host, holder, owner, indices)
        if lost:
            self.log.warning("%s recorded GPUs %s, which others hold now", holder, lost)
        return lost

    def release_stale(self, prefix: str, alive: Iterable[str], before: datetime) -> None:
        """Free the leases of `prefix...` holders that no longer run (not in `alive`), taken
        before `before`."""
        if not self.gpus:
            return
        assert self.store is not None
        with self.store.session() as session:
            stale = leases.release_stale(session, self.host, prefix, alive, before)
        for holder, indices in sorted(stale.items()):
            self.log.warning("GPUs %s freed: %s no longer runs", indices, holder)
