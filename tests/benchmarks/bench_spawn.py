"""Time from a spawn request to a usable lab, for each profile this machine can start, against
a bare `jupyter lab` start (same run).

Usable = `/user/<name>/lab` answers 200 and `/api/kernels` works. Median of 5 each; prints one
ratio per profile (goal: <= 1.3). Run with `make bench`.
"""

from __future__ import annotations

import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from labworks_hub.gpus import detect_gpus
from labworks_hub.profiles import DEFAULT_PROFILES
from tests.platform import Platform, free_port, wait_for_lab

ROUNDS = 5


def bare_lab_seconds(workdir: Path) -> float:
    """One bare `jupyter lab` start until /lab and /api/kernels answer 200."""
    port, token = free_port(), secrets.token_hex(16)
    env = {**os.environ, "HOME": str(workdir), "JUPYTER_TOKEN": token}
    start = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}",
         "--ip=127.0.0.1", f"--ServerApp.root_dir={workdir}", "--allow-root"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        headers = {"Authorization": f"token {token}"}
        base = f"http://127.0.0.1:{port}"
        while True:
            try:
                lab = httpx.get(base + "/lab", headers=headers, timeout=5)
                kernels = httpx.get(base + "/api/kernels", headers=headers, timeout=5)
                if lab.status_code == 200 and kernels.status_code == 200:
                    return time.monotonic() - start
            except httpx.HTTPError:
                pass
            if proc.poll() is not None:
                raise RuntimeError("jupyter lab exited during the baseline")
            time.sleep(0.05)
    finally:
        proc.terminate()
        proc.wait(30)


def spawn_seconds(platform: Platform, user: str, token: str, profile: str) -> float:
    headers = {"Authorization": f"token {token}"}
    api = f"{platform.url}/hub/api/users/{user}/server"
    start = time.monotonic()
    reply = httpx.post(api, headers=headers, json={"profile": profile}, timeout=120)
    reply.raise_for_status()
    wait_for_lab(platform.url, user, token)
    elapsed = time.monotonic() - start
    httpx.delete(api, headers=headers, timeout=120).raise_for_status()
    while httpx.get(f"{platform.url}/hub/api/users/{user}", headers=headers).json()["servers"]:
        time.sleep(0.1)
    return elapsed


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="labworks-bench-") as tmp:
        root = Path(tmp)
        root.chmod(0o711)  # per-user system accounts must reach their homes, as in production
        platform = Platform(root / "lw").start()
        try:
            platform.add_user("bench")
            token = platform.token("bench")
            spawns: dict[str, list[float]] = {}
            for profile in DEFAULT_PROFILES:
                if profile.gpu_count and not detect_gpus():
                    print(f"{profile.name}: skipped, no GPU on this machine")
                    continue
                spawns[profile.name] = [
                    spawn_seconds(platform, "bench", token, profile.name) for _ in range(ROUNDS)
                ]
        finally:
            platform.stop()
        bare = [bare_lab_seconds(root) for _ in range(ROUNDS)]
    bare_median = statistics.median(bare)
    print(f"bare jupyter lab: median {bare_median:.2f}s  ({_seconds(bare)})")
    for name, seconds in spawns.items():
        ratio = statistics.median(seconds) / bare_median
        verdict = "OK" if ratio <= 1.3 else "OVER GOAL"
        print(f"{name}: spawn to usable lab median {statistics.median(seconds):.2f}s"
              f"  ({_seconds(seconds)})")  # fmt: skip
        print(f"bench_spawn ratio [{name}]: {ratio:.2f} (goal <= 1.3) {verdict}")


def _seconds(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


if __name__ == "__main__":
    main()
