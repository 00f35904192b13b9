"""The platform service's lifeline to the hub that started it.

JupyterHub starts its managed services in sessions of their own, so a hub killed without
stopping them (`kill -9` of `labworks up`) leaves the platform service running: it would go on
firing schedules and starting queued jobs that then fail ("cannot reach JupyterHub"), and revoke
no job token. `watch_parent()` watches the process that started this one; when it is gone, it
calls `on_gone` (the job service stops taking work at once) and sends this process SIGTERM,
which uvicorn turns into a clean shutdown. Running jobs are not touched: the next platform
service re-attaches them. The next `labworks up` stops whatever is still left
(labworks_hub/supervisor.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Callable

log = logging.getLogger("labworks.service")
POLL_SECONDS = 1.0  # where there is no pidfd (not Linux): how often the parent is looked at


class Lifeline:
    """A watch on the parent process; `close()` ends it. Runs on the event loop it was made on."""

    def __init__(self, parent: int, on_gone: Callable[[], object]) -> None:
        self.parent = parent
        self.on_gone = on_gone
        self._loop = asyncio.get_running_loop()
        self._fd: int | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._closed = False

    def _watch(self) -> None:
        try:
            self._fd = os.pidfd_open(self.parent)
        except (AttributeError, OSError):  # no pidfd here: look every so often
            self._look()
            return
        self._loop.add_reader(self._fd, self._gone)  # readable once the parent has exited
        if os.getppid() != self.parent:  # it died before the pidfd was opened
            self._loop.call_soon(self._gone)

    def _look(self) -> None:
        if os.getppid() != self.parent:
            self._gone()
        else:
            self._timer = self._loop.call_later(POLL_SECONDS, self._look)

    def _gone(self) -> None:
        if self._closed:
            return
        self.close()
        log.warning(
            "The process that started this service (pid %d, JupyterHub) is gone: stopping."
            " Running jobs keep running; the next start re-attaches them.",
            self.parent,
        )
        try:
            self.on_gone()
        finally:
            os.kill(os.getpid(), signal.SIGTERM)

    def close(self) -> None:
        self._closed = True
        if self._fd is not None:
            self._loop.remove_reader(self._fd)
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


def watch_parent(on_gone: Callable[[], object]) -> Lifeline | None:
    """Watch the parent process from the running event loop; None when the parent is init
    (pid 1: PID 1 of a container, or orphaned already) or there is none."""
    parent = os.getppid()
    if parent <= 1:
        return None
    lifeline = Lifeline(parent, on_gone)
    lifeline._watch()
    return lifeline
