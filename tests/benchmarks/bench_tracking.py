"""`mlflow.log_metric` calls per second through Labworks against a plain `mlflow server`.

Both run in the same benchmark on the same kind of backend (a SQLite file, artifacts served
by the server): the platform (`labworks up`, hub-token auth and per-experiment permissions in
front of MLflow) and `mlflow server --serve-artifacts --workers 1` (no auth; one worker and no
job runner, like the platform service). The same stock client logs --calls metrics in one run,
in a fresh process each round, rounds interleaved so load changes hit both alike. Through
Labworks it uses the address workspace kernels and jobs get: the public URL, through the hub's
proxy (issue 15: MLflow prints its links from the tracking URI); the rate on the platform
service's own port is printed too. Goal: ratio >= 0.9 (issue 13).

Run with `make bench`, or `python tests/benchmarks/bench_tracking.py --calls 200` for a
quicker look.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.platform import Platform, free_port, stop_group

TRACKING = "/services/labworks/mlflow"
CLIENT = """
import sys, time, mlflow
calls = int(sys.argv[1])
with mlflow.start_run():
    for i in range(10):  # warm-up: connection, first queries
        mlflow.log_metric("warmup", i, step=i)
    start = time.perf_counter()
    for i in range(calls):
        mlflow.log_metric("loss", 1.0 / (i + 1), step=i)
    rate = calls / (time.perf_counter() - start)
print("RATE", rate)  # after the run: mlflow prints links when it ends
"""


def calls_per_second(uri: str, token: str | None, calls: int) -> float:
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri, "MLFLOW_DISABLE_TELEMETRY": "true"}
    env.pop("MLFLOW_TRACKING_TOKEN", None)
    if token:
        env.update(MLFLOW_TRACKING_TOKEN=token, MLFLOW_EXPERIMENT_NAME="users/bench")
    done = subprocess.run(
        [sys.executable, "-c", CLIENT, str(calls)],
        env=env, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"the mlflow client failed against {uri}:\n{done.stderr[-3000:]}")
    return float(done.stdout.split("RATE ", 1)[1].split()[0])


def plain_mlflow_server(root: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
         "--workers", "1", "--backend-store-uri", f"sqlite:///{root / 'plain.sqlite'}",
         "--serve-artifacts", "--artifacts-destination", str(root / "plain-artifacts")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        # No job runner (huey consumers): the platform's embedded server runs none either.
        env={**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true",
             "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"},
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.25)
    proc.kill()
    raise RuntimeError("the plain mlflow server did not answer in 180 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500, help="log_metric calls per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="labworks-bench-tracking-") as tmp:
        root = Path(tmp)
        home = root / "lw"
        home.mkdir()
        platform = Platform(home)
        try:
            platform.start()
            plain, plain_url = plain_mlflow_server(root)
            try:
                platform.add_user("bench")
                token = platform.token("bench")
                public = platform.url + TRACKING  # what kernels and jobs get
                direct = platform.service_url + TRACKING
                calls_per_second(public, token, 10)  # starts the tracking server (imports MLflow)
                ours, theirs, internal = [], [], []
                for _ in range(args.rounds):
                    ours.append(calls_per_second(public, token, args.calls))
                    theirs.append(calls_per_second(plain_url, None, args.calls))
                    internal.append(calls_per_second(direct, token, args.calls))
            finally:
                stop_group(plain)
        finally:
            platform.stop()

    ours_median, theirs_median = statistics.median(ours), statistics.median(theirs)
    ratio = ours_median / theirs_median
    print(f"plain mlflow server: median {theirs_median:.0f} log_metric/s ({_rates(theirs)})")
    print(f"through Labworks:    median {ours_median:.0f} log_metric/s ({_rates(ours)})")
    direct = statistics.median(internal)
    print(f"on the service's own port (no proxy): median {direct:.0f} log_metric/s"
          f" ({_rates(internal)}), ratio {direct / theirs_median:.2f}")  # fmt: skip
    verdict = "OK" if ratio >= 0.9 else "UNDER GOAL"
    print(f"bench_tracking log_metric ratio: {ratio:.2f} (goal >= 0.9) {verdict}")


def _rates(values: list[float]) -> str:
    return ", ".join(f"{v:.0f}" for v in values)


if __name__ == "__main__":
    main()
