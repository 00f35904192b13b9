"""Idle shutdown of a workspace, measured the way a person means "idle".

jupyter_server's own ``shutdown_no_activity_timeout`` counts every API request as activity, and an
open JupyterLab tab polls the kernels, sessions and terminals APIs every few seconds, so a
workspace left open in a browser would never stop. The ``IdleMonitor`` counts instead:

- people: the lab extension reports real interaction (keys, pointer, scrolling) and the
  "Keep running" action (``POST /labworks/workspace/activity``);
- kernels: any kernel message, and a kernel that is executing, even silently (a long training
  cell is never culled);
- terminals.

When the profile's idle time has passed with none of these, the server asks JupyterHub to stop it
(``stop_idle_server``), so the hub, and ``labworks workspace status``, know at once rather than at
the hub's next poll; it stops itself where the hub cannot be asked. Files stay on disk. Idle
kernels are culled by jupyter_server's kernel culler (``cull_busy=False``) as before.
``GET /labworks/workspace/idle`` tells the lab how long is left, so it can warn before the stop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import tornado.web
from tornado.httpclient import AsyncHTTPClient, HTTPRequest

from .handlers import LabworksHandler

log = logging.getLogger(__name__)
MONITOR_SETTING = "labworks_idle_monitor"
# ServerApp.last_activity() counts every setting whose key ends with "_last_activity", which the
# hub's activity reports (and so the backstop culler) read: a busy kernel and a person count there.
BUSY_SETTING = "labworks_busy_kernel_last_activity"
PERSON_SETTING = "labworks_person_last_activity"


def warn_window(timeout: float) -> float:
    """Seconds before the stop that the lab shows its warning: a quarter of the idle time,
    at least 10 s and at most 5 min."""
    return max(10.0, min(300.0, timeout / 4))


def check_interval(timeout: float) -> float:
    """Seconds between idle checks: fine enough that a stop is late by at most ~1/10 of it."""
    return max(1.0, min(60.0, timeout / 10))


@dataclass(frozen=True)
class IdleStatus:
    timeout: float  # 0 = never stops for idleness
    idle_seconds: float
    busy_kernels: int

    @property
    def seconds_left(self) -> float | None:
        """None when it never stops; the whole idle time while a kernel is executing."""
        if self.timeout <= 0:
            return None
        return self.timeout if self.busy_kernels else max(0.0, self.timeout - self.idle_seconds)

    @property
    def expired(self) -> bool:
        return self.timeout > 0 and self.busy_kernels == 0 and self.idle_seconds >= self.timeout

    def to_dict(self) -> dict[str, Any]:
        return {
            "timeout": self.timeout or None,
            "idle_seconds": round(self.idle_seconds, 1),
            "seconds_left": None if self.seconds_left is None else round(self.seconds_left, 1),
            "busy_kernels": self.busy_kernels,
            "warn_before": warn_window(self.timeout) if self.timeout > 0 else None,
        }


class IdleMonitor:
    """Keeps the person/kernel activity clock of one server and stops it when idle too long.

    Args:
        settings: the web app's settings (activity settings are read and written there).
        kernel_manager: the server's MappingKernelManager.
        timeout: seconds of idleness before ``stop`` is called; 0 disables the monitor.
        stop: called once when the timeout has passed (``ServerApp.stop``).
    """

    def __init__(
        self,
        settings: dict[str, Any],
        kernel_manager: Any,
        timeout: float,
        stop: Callable[[], None],
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.kernel_manager = kernel_manager
        self.timeout = timeout
        self._stop = stop
        self._now = now
        self.stopping = False
        started = settings.get("started")
        self.settings.setdefault(
            PERSON_SETTING, started if isinstance(started, datetime) else now()
        )

    def _kernels(self) -> list[Any]:
        km = self.kernel_manager
        return [km.get_kernel(kid) for kid in km.list_kernel_ids()]

    def person_active(self) -> None:
        """A person is here: reset the clock, and the kernels' clocks so none is culled."""
        now = self._now()
        self.settings[PERSON_SETTING] = now
        for kernel in self._kernels():
            kernel.last_activity = now

    def status(self) -> IdleStatus:
        now = self._now()
        busy = sum(1 for k in self._kernels() if getattr(k, "execution_state", "") == "busy")
        if busy:
            self.settings[BUSY_SETTING] = now
        sources = [
            self.settings[PERSON_SETTING],
            self.settings.get(BUSY_SETTING),
            getattr(self.kernel_manager, "last_kernel_activity", None),
            self.settings.get("terminal_last_activity"),
        ]
        last = max(_aware(s) for s in sources if isinstance(s, datetime))
        return IdleStatus(self.timeout, (now - last).total_seconds(), busy)

    def check(self) -> None:
        """Stop the server once the idle time has passed (called periodically)."""
        if self.stopping or self.timeout <= 0:
            return
        status = self.status()
        if status.expired:
            self.stopping = True
            self._stop()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def timeout_from_env(env: Mapping[str, str]) -> float:
    """The profile's idle time (``LABWORKS_CULL_IDLE_TIMEOUT``); 0 when unset or garbage."""
    try:
        value = float(env.get("LABWORKS_CULL_IDLE_TIMEOUT") or 0)
    except ValueError:
        return 0.0
    return value if value > 0 and value != float("inf") else 0.0


def hub_server_url(env: Mapping[str, str]) -> str | None:
    """This server in JupyterHub's REST API (``/users/<name>/server`` or
    ``/users/<name>/servers/<server>``); None outside JupyterHub."""
    api, user = env.get("JUPYTERHUB_API_URL"), env.get("JUPYTERHUB_USER")
    if not api or not user:
        return None
    server = env.get("JUPYTERHUB_SERVER_NAME", "")
    tail = f"servers/{quote(server, safe='')}" if server else "server"
    return f"{api.rstrip('/')}/users/{quote(user, safe='')}/{tail}"


async def ask_hub_to_stop(env: Mapping[str, str], timeout: float = 10.0) -> bool:
    """``DELETE`` this server through the hub with the server's own token (its scopes hold
    ``servers!server``: this server only). True when the hub took the stop (202 or 204)."""
    url, token = hub_server_url(env), env.get("JUPYTERHUB_API_TOKEN")
    if not url or not token:
        return False
    request = HTTPRequest(
        url, method="DELETE", headers={"Authorization": f"token {token}"},
        request_timeout=timeout,
    )  # fmt: skip
    try:
        response = await AsyncHTTPClient().fetch(request, raise_error=False)
    except OSError as e:
        log.warning("labworks: could not ask the hub to stop this server: %s", e)
        return False
    if response.code not in (202, 204):
        log.warning("labworks: the hub did not stop this server (HTTP %s)", response.code)
        return False
    return True


def stop_idle_server(
    stop: Callable[[], None], env: Mapping[str, str], grace: float = 60.0
) -> asyncio.Task[None]:
    """Stop an idle server through the hub, so that its state is true at once; ``stop()`` (the
    server stopping itself) where the hub cannot be asked, or has not stopped it in ``grace`` s.
    """

    async def run() -> None:
        if await ask_hub_to_stop(env):
            await asyncio.sleep(grace)  # the hub stops this process; this is the backstop
        stop()

    return asyncio.ensure_future(run())


class IdleHandler(LabworksHandler):
    """``GET /labworks/workspace/idle``: how long until the server stops for idleness.

    Not counted as activity: the lab polls it in the background. A visitor's lab polls and
    keeps it running too."""

    visitors_allowed = True
    _track_activity = False

    @property
    def monitor(self) -> IdleMonitor:
        return self.settings[MONITOR_SETTING]

    @tornado.web.authenticated
    def get(self) -> None:
        self.finish(self.monitor.status().to_dict())


class ActivityHandler(IdleHandler):
    """``POST /labworks/workspace/activity``: a person is using the lab ("Keep running")."""

    _track_activity = True

    @tornado.web.authenticated
    def post(self) -> None:
        self.monitor.person_active()
        self.finish(self.monitor.status().to_dict())


idle_handlers: list[tuple[str, type[LabworksHandler]]] = [
    (r"/labworks/workspace/idle", IdleHandler),
    (r"/labworks/workspace/activity", ActivityHandler),
]

__all__ = [
    "IdleMonitor",
    "IdleStatus",
    "ask_hub_to_stop",
    "check_interval",
    "hub_server_url",
    "idle_handlers",
    "stop_idle_server",
    "timeout_from_env",
    "warn_window",
]
