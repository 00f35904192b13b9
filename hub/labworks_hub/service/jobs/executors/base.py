"""The executor contract: how the job service runs one attempt of a notebook job somewhere.

An executor is a `LoggingConfigurable` chosen by `JobService.executor_class` (entry point
group `labworks.executors`: `local`, `kubernetes`, or an import string). The job service owns
every decision (queue, retries, timeouts, notifications) and records each step in the store
before acting; an executor only starts, watches and stops attempts, like a jupyterhub
`Spawner` does for servers. A subclass implements:

- `submit(spec)`: start the attempt described by `spec` and return its *state*, a small JSON
  dict the service stores with the run (process id, Kubernetes Job name, ...). Return quickly:
  running is the attempt's business, not submit's. Raise `ExecutorError` with a clear message
  when it cannot start.
- `poll(state)`: None while the attempt runs, else its `Outcome` (succeeded, or failed with the
  reason a user can act on: the exception of the failing cell, a dead kernel, ...).
- `cancel(state)`: stop the attempt and everything it started (the kernel's whole process tree,
  the Kubernetes Job and its pods). Idempotent; poll() afterwards reports the end.
- `reattach(state)`: after a restart of the platform service, whether the attempt recorded in
  `state` still exists (it is then polled as before). False: it is gone, and the service marks
  it failed (and retries per policy). An attempt that ended while the service was down is
  still found: poll() reports how it ended.
- `read_log(state, offset, limit)` and `read_output(state)`: the live log and the latest
  output notebook while the attempt runs (None when there is nothing yet).
- `collect(state, artifacts, prefix)`: once ended, copy the output notebook and the log into
  the artifact store under `prefix`; returns whether there was an output notebook.
- `forget(state)`: drop what the attempt left behind locally (scratch files, finished Jobs).

`capacity()` says how much can run at once (the queue's slots and resources),
`environment(spec)` what the run's environment is (local env hash or image digest),
`check_kernel(name)` whether a kernel can be used here at all, and `start_note(spec)` a few
words for the attempt's `running` event (where it runs). `spec.secret_env` holds variables
that must reach the attempt's environment and nowhere else (the job's hub token): never in a
file, a log or a manifest in clear text. Executors call `self.wakeup()`
when something happened (an attempt ended), so the service looks at once instead of at its
next poll. Methods are called from the service's event loop, one call per attempt at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from traitlets import Integer
from traitlets.config import LoggingConfigurable

from ....profiles import Profile
from ..artifacts import ArtifactStore
from ..queue import Capacity

SUCCEEDED, FAILED, TIMED_OUT, CANCELLED = "succeeded", "failed", "timed_out", "cancelled"


class ExecutorError(Exception):
    """An attempt could not be started or reached; the message is user-facing."""


@dataclass(frozen=True)
class RunSpec:
    """Everything an executor needs to run one attempt of a run."""

    run_id: str
    attempt: int
    owner: str
    name: str
    notebook: str  # the exact input notebook (canonical JSON)
    parameters: dict[str, Any]
    kernel_name: str
    profile: Profile
    timeout: int  # seconds; the service also enforces it
    image: str = ""  # image reference pinned by digest, for executors that run images
    gpu_indices: tuple[int, ...] = ()
    env: dict[str, str] = field(default_factory=dict)  # the workspace environment of the job
    notebook_path: str = ""  # where the notebook is in the owner's workspace (relative)
    secret_env: dict[str, str] = field(default_factory=dict, repr=False)  # the hub token


@dataclass(frozen=True)
class Outcome:
    status: str  # succeeded, failed, timed_out or cancelled
    reason: str = ""


class Executor(LoggingConfigurable):
    """Base class of executors; see the module docstring for the contract."""

    name: ClassVar[str] = ""
    runs_images: ClassVar[bool] = False  # True: runs a container image per attempt

    slots = Integer(
        2, help="Attempts that may run at the same time (queued runs wait for a free slot)."
    ).tag(config=True)

    wakeup: Callable[[], None] = staticmethod(lambda: None)

    def capacity(self) -> Capacity:
        return Capacity(slots=self.slots)

    def environment(self, spec_image: str) -> dict[str, Any]:
        """The environment a run will execute in, recorded with it for reproducibility."""
        raise NotImplementedError

    def check_kernel(self, kernel_name: str) -> str | None:
        """Why `kernel_name` cannot run here, or None (unknown here: None)."""
        return None

    def start_note(self, spec: RunSpec) -> str:
        """Words added to the attempt's `running` event ('' for none). Called off the event
        loop: it may look at the file system."""
        return ""

    async def start(self) -> None:
        """Called once when the service starts (open clients, check configuration)."""

    async def close(self) -> None:
        """Called once when the service stops; attempts keep running."""

    async def submit(self, spec: RunSpec) -> dict[str, Any]:
        raise NotImplementedError

    async def poll(self, state: dict[str, Any]) -> Outcome | None:
        raise NotImplementedError

    async def cancel(self, state: dict[str, Any]) -> None:
        raise NotImplementedError

    async def reattach(self, state: dict[str, Any]) -> bool:
        raise NotImplementedError

    async def read_log(self, state: dict[str, Any], offset: int, limit: int) -> bytes | None:
        return None

    async def read_output(self, state: dict[str, Any]) -> bytes | None:
        return None

    async def collect(self, state: dict[str, Any], artifacts: ArtifactStore, prefix: str) -> bool:
        raise NotImplementedError

    async def forget(self, state: dict[str, Any]) -> None:
        """Drop local leftovers of an ended attempt."""
