"""Idle shutdown measured by people and kernels (labworks_server.idle), on a real jupyter_server."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from traitlets.config import Config

from labworks_server.idle import (
    BUSY_SETTING,
    MONITOR_SETTING,
    IdleMonitor,
    IdleStatus,
    check_interval,
    timeout_from_env,
    warn_window,
)

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


class Kernel:
    def __init__(self, state: str = "idle") -> None:
        self.execution_state = state
        self.last_activity = T0


class Kernels:
    """The two MappingKernelManager calls the monitor makes, plus its activity clock."""

    def __init__(self, *kernels: Kernel) -> None:
        self.kernels = {str(i): k for i, k in enumerate(kernels)}
        self.last_kernel_activity = T0

    def list_kernel_ids(self) -> list[str]:
        return list(self.kernels)

    def get_kernel(self, kid: str) -> Kernel:
        return self.kernels[kid]


def monitor(kernels: Kernels, timeout: float, clock: Clock) -> tuple[IdleMonitor, list[int]]:
    stops: list[int] = []
    m = IdleMonitor({"started": T0}, kernels, timeout, stop=lambda: stops.append(1), now=clock)
    return m, stops


def test_stops_once_after_the_idle_time() -> None:
    clock = Clock()
    m, stops = monitor(Kernels(), 60, clock)
    clock.now = T0 + timedelta(seconds=59)
    m.check()
    assert stops == [] and m.status().seconds_left == pytest.approx(1)
    clock.now = T0 + timedelta(seconds=61)
    m.check()
    m.check()
    assert stops == [1]


def test_a_busy_silent_kernel_is_activity() -> None:
    clock = Clock()
    kernels = Kernels(Kernel("busy"))
    m, stops = monitor(kernels, 60, clock)
    clock.now = T0 + timedelta(hours=3)  # no message from the kernel in three hours
    m.check()
    assert stops == []
    assert m.status().seconds_left == 60
    assert m.settings[BUSY_SETTING] == clock.now  # counted in ServerApp.last_activity() too
    kernels.kernels["0"].execution_state = "idle"  # the cell finished: the clock starts now
    clock.now += timedelta(seconds=30)
    assert m.status().idle_seconds == pytest.approx(30)


def test_a_person_resets_the_clock_and_the_kernels() -> None:
    clock = Clock()
    kernels = Kernels(Kernel())
    m, stops = monitor(kernels, 60, clock)
    clock.now = T0 + timedelta(seconds=50)
    m.person_active()
    assert kernels.kernels["0"].last_activity == clock.now  # the kernel culler spares it too
    clock.now = T0 + timedelta(seconds=100)
    m.check()
    assert stops == [] and m.status().seconds_left == pytest.approx(10)


def test_kernel_messages_and_terminals_are_activity() -> None:
    clock = Clock()
    kernels = Kernels()
    m, _ = monitor(kernels, 60, clock)
    kernels.last_kernel_activity = T0 + timedelta(seconds=40)
    m.settings["terminal_last_activity"] = T0 + timedelta(seconds=45)
    clock.now = T0 + timedelta(seconds=50)
    assert m.status().idle_seconds == pytest.approx(5)


def test_zero_timeout_never_stops() -> None:
    clock = Clock()
    m, stops = monitor(Kernels(), 0, clock)
    clock.now = T0 + timedelta(days=30)
    m.check()
    assert stops == []
    assert m.status().to_dict()["seconds_left"] is None


@pytest.mark.parametrize(
    ("value", "expected"), [("3600", 3600), ("", 0), ("abc", 0), ("-5", 0), ("inf", 0)]
)
def test_timeout_from_env(value: str, expected: float) -> None:
    assert timeout_from_env({"LABWORKS_CULL_IDLE_TIMEOUT": value}) == expected


def test_warning_window_and_check_interval_are_bounded() -> None:
    assert warn_window(3600) == 300
    assert warn_window(40) == 10
    assert warn_window(200) == 50
    assert check_interval(2) == 1
    assert check_interval(3600) == 60
    assert IdleStatus(40, 35, 0).to_dict() == {
        "timeout": 40,
        "idle_seconds": 35,
        "seconds_left": 5,
        "busy_kernels": 0,
        "warn_before": 10,
    }


# --- the handlers, on a real server ------------------------------------------------------------


@pytest.fixture
def jp_server_config(jp_server_config: Config) -> Config:
    jp_server_config["LabworksServerApp"]["idle_timeout"] = 3600.0
    return jp_server_config


async def idle(jp_fetch: Any) -> dict[str, Any]:
    response = await jp_fetch("labworks", "workspace", "idle")
    assert response.code == 200
    return json.loads(response.body)


async def test_polling_the_idle_status_is_not_activity(jp_fetch: Any, jp_serverapp: Any) -> None:
    settings = jp_serverapp.web_app.settings
    before = settings.get("api_last_activity")
    first = await idle(jp_fetch)
    await asyncio.sleep(0.3)
    second = await idle(jp_fetch)
    assert settings.get("api_last_activity") == before
    assert first["timeout"] == 3600 and first["warn_before"] == 300
    assert second["idle_seconds"] > first["idle_seconds"]
    assert second["seconds_left"] < first["seconds_left"]


async def test_keep_running_resets_the_clock(jp_fetch: Any) -> None:
    await asyncio.sleep(0.5)
    assert (await idle(jp_fetch))["idle_seconds"] >= 0.5
    response = await jp_fetch("labworks", "workspace", "activity", method="POST", body="{}")
    body = json.loads(response.body)
    assert body["idle_seconds"] < 0.5 and body["seconds_left"] > 3599


async def test_a_real_busy_kernel_holds_the_clock(jp_fetch: Any, jp_serverapp: Any) -> None:
    km = jp_serverapp.kernel_manager
    kid = await km.start_kernel(kernel_name="python3")
    client = km.get_kernel(kid).client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=60)
        client.execute("import time; time.sleep(4)")  # silent: no output while it runs
        deadline = asyncio.get_running_loop().time() + 10
        while km.get_kernel(kid).execution_state != "busy":
            assert asyncio.get_running_loop().time() < deadline, "kernel never went busy"
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.5)
        status = await idle(jp_fetch)
        assert status["busy_kernels"] == 1
        assert status["idle_seconds"] < 0.5
        monitor: IdleMonitor = jp_serverapp.web_app.settings[MONITOR_SETTING]
        assert monitor.settings[BUSY_SETTING] > datetime.now(UTC) - timedelta(seconds=1)
    finally:
        client.stop_channels()
        await km.shutdown_kernel(kid, now=True)


async def test_the_idle_status_needs_authentication(jp_fetch: Any) -> None:
    from tornado.httpclient import HTTPClientError

    with pytest.raises(HTTPClientError) as e:
        await jp_fetch("labworks", "workspace", "idle", headers={"Authorization": ""})
    assert e.value.code in (401, 403)
