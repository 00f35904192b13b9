"""Run the real platform (`labworks up`) in a temporary home for tests and benchmarks."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

LABWORKS = [sys.executable, "-m", "labworks_hub.cli"]
API = "/services/labworks/api/v1"


def auth(token: str) -> dict[str, str]:
    """The headers of a request made with a hub token."""
    return {"Authorization": f"token {token}"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def labworks(*args: str, home: Path, check: bool = True, env: dict | None = None):
    """Run one `labworks` command to completion."""
    return subprocess.run(
        [*LABWORKS, *args, "--home", str(home)] if args[0] in ("users", "token") else
        [*LABWORKS, *args],
        capture_output=True, text=True, timeout=120, check=check,
        env={**os.environ, **(env or {})},
    )  # fmt: skip


class Platform:
    """`labworks up` as a subprocess; knows its URL, admin password and log."""

    def __init__(self, home: Path, port: int | None = None, extra: tuple[str, ...] = ()) -> None:
        self.home = home
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = home.parent / f"labworks-up-{self.port}.log"
        self.extra = extra
        self.proc: subprocess.Popen | None = None
        self.admin_password: str | None = None

    def start(self, timeout: float = 120) -> Platform:
        self.home.mkdir(parents=True, exist_ok=True)
        self._own_cgroups()
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [*LABWORKS, "up", "--home", str(self.home), "--port", str(self.port), *self.extra],
            stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"labworks up exited {self.proc.returncode}:\n{self.log()}")
            try:
                if httpx.get(self.url + API + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        else:
            raise RuntimeError(f"platform not healthy in {timeout}s:\n{self.log()}")
        found = re.search(r"password:\s+(\S+)", self.log())
        self.admin_password = found.group(1) if found else None
        return self

    def _own_cgroups(self) -> None:
        """Platforms of different pytest-xdist workers run at once and share system accounts
        (an account is per user name, and `admin` is everyone's): each worker's platforms keep
        their workspaces' cgroups under a subtree of their own, so stopping a server on one
        never kills a namesake's on another."""
        local = self.home / "jupyterhub_config.local.py"
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        line = f'c.CgroupLimits.subtree = "labworks-{worker}"\n'
        if line not in (local.read_text() if local.exists() else ""):
            with local.open("a") as f:
                f.write(line)

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    @property
    def service_url(self) -> str:
        """The platform service's own address, without the hub's proxy (what workspaces'
        and jobs' LABWORKS_API_URL points at, less the API path)."""
        port = self.internal_ports().get("service_port")
        assert port, "no service_port in the generated hub config"
        return f"http://127.0.0.1:{port}"

    def internal_ports(self) -> dict[str, int]:
        """hub_port, proxy_api_port and service_port of this start's generated hub config."""
        config = (self.home / "jupyterhub_config.py").read_text()
        found = re.findall(r"\b(hub_port|proxy_api_port|service_port)=(\d+)", config)
        return {name: int(port) for name, port in found}

    def token(self, name: str) -> str:
        return labworks("token", name, home=self.home).stdout.strip()

    def add_user(self, name: str, *flags: str) -> str:
        out = labworks("users", "add", name, *flags, home=self.home).stdout
        found = re.search(r"Password \(shown once\): (\S+)", out)
        assert found, out
        return found.group(1)

    def stop(self, sig: int = signal.SIGINT, timeout: float = 60) -> int:
        """Stop like Ctrl-C does; returns the exit code."""
        assert self.proc is not None
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._log.close()
        return self.proc.returncode

    def kill9(self) -> None:
        """Crash: `kill -9` of the whole `labworks up` process group; nothing cleans up."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self._log.close()


def stop_group(proc: subprocess.Popen) -> None:
    """Stop a server started in its own process group, with its workers."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass


def wait_for_lab(url: str, user: str, token: str, timeout: float = 120) -> float:
    """Seconds until the user's lab answers 200 and its kernels API works."""
    headers = {"Authorization": f"token {token}"}
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            lab = httpx.get(f"{url}/user/{user}/lab", headers=headers, timeout=5)
            kernels = httpx.get(f"{url}/user/{user}/api/kernels", headers=headers, timeout=5)
            if lab.status_code == 200 and kernels.status_code == 200:
                return time.monotonic() - start
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"lab of {user} not usable after {timeout}s")
