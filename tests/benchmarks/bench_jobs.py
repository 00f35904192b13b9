"""Notebook jobs against bare papermill on the same notebook, in the same run.

1. Latency: a 1-cell notebook job, from POST /jobs to the API saying `succeeded`, against one
   bare `papermill in.ipynb out.ipynb` (median of --rounds each). Jobs after the first run on
   warm kernels (docs/admin-guide.md#warm-kernels). Goal: median <= 0.5 s and ratio <= 0.25.
2. Throughput: --jobs such jobs submitted at once to a platform with 2 job slots, until all
   have ended, against --bare bare papermill runs one after the other (the same work per slot).
   Goal: ratio <= 1.25.

Run with `make bench`, or `python tests/benchmarks/bench_jobs.py --jobs 20 --bare 10` for a
quicker look.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.platform import API, Platform

SLOTS = 2
LOCAL_CONFIG = f"c.LocalExecutor.slots = {SLOTS}\n"
PAPERMILL = [sys.executable, "-m", "papermill", "--no-progress-bar"]


def one_cell_notebook() -> dict:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('hello')")])
    nb.cells[0]["id"] = "c0"
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return json.loads(nbformat.writes(nb))


def bare_papermill(workdir: Path, source: Path, index: int) -> float:
    start = time.monotonic()
    subprocess.run(
        [*PAPERMILL, str(source), str(workdir / f"bare-{index}.ipynb")],
        check=True, capture_output=True, cwd=workdir,
    )  # fmt: skip
    return time.monotonic() - start


class Jobs:
    def __init__(self, platform: Platform, token: str) -> None:
        self.client = httpx.Client(
            base_url=platform.url + API, headers={"Authorization": f"token {token}"}, timeout=60
        )

    def submit(self, content: dict) -> str:
        reply = self.client.post("/jobs", json={"content": content, "name": "bench.ipynb"})
        reply.raise_for_status()
        return reply.json()["id"]

    def status(self, job_id: str) -> str:
        return self.client.get(f"/jobs/{job_id}", params={"wait": 30}).json()["status"]

    def wait(self, job_id: str) -> None:
        """Until the job ended: the API answers `?wait=` requests as soon as it does."""
        while (status := self.status(job_id)) in ("queued", "running"):
            pass
        if status != "succeeded":
            raise RuntimeError(f"job {job_id} {status}")

    def wait_all(self, ids: set[str]) -> None:
        while True:
            listing = self.client.get("/jobs", params={"status": ["queued", "running"], "limit": 1})
            if listing.json()["total"] == 0:
                break
            time.sleep(0.1)
        failed = self.client.get("/jobs", params={"status": ["failed", "timed_out"], "limit": 1})
        if failed.json()["total"]:
            raise RuntimeError(f"{failed.json()['total']} benchmark jobs failed")

    def job_seconds(self, content: dict) -> float:
        start = time.monotonic()
        self.wait(self.submit(content))
        return time.monotonic() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="latency samples of each")
    parser.add_argument("--jobs", type=int, default=200, help="jobs in the throughput test")
    parser.add_argument("--bare", type=int, default=100, help="bare papermill runs to compare")
    args = parser.parse_args()
    content = one_cell_notebook()
    with tempfile.TemporaryDirectory(prefix="labworks-bench-jobs-") as tmp:
        root = Path(tmp)
        source = root / "one-cell.ipynb"
        source.write_text(json.dumps(content))
        home = root / "lw"
        home.mkdir()
        (home / "jupyterhub_config.local.py").write_text(LOCAL_CONFIG)
        platform = Platform(home).start()
        try:
            platform.add_user("bench")
            jobs = Jobs(platform, platform.token("bench"))
            jobs.job_seconds(content)  # warm-up: kernel spec caches, first imports
            bare_papermill(root, source, -1)
            job_times, bare_times = [], []
            for i in range(args.rounds):  # interleaved, so load changes hit both alike
                job_times.append(jobs.job_seconds(content))
                bare_times.append(bare_papermill(root, source, i))
            start = time.monotonic()
            ids = {jobs.submit(content) for _ in range(args.jobs)}
            jobs.wait_all(ids)
            many_jobs = time.monotonic() - start
        finally:
            platform.stop()
        start = time.monotonic()
        for i in range(args.bare):
            bare_papermill(root, source, i)
        many_bare = time.monotonic() - start

    job_median, bare_median = statistics.median(job_times), statistics.median(bare_times)
    ratio = job_median / bare_median
    print(f"bare papermill: median {bare_median:.2f}s  ({_seconds(bare_times)})")
    print(f"1-cell job, submit to done: median {job_median:.2f}s  ({_seconds(job_times)})")
    print(f"bench_jobs latency ratio: {ratio:.2f} (goal <= 0.25) {_verdict(ratio, 0.25)}")
    print(f"bench_jobs latency median: {job_median:.2f}s (goal <= 0.5) {_verdict(job_median, 0.5)}")
    ratio = many_jobs / many_bare
    print(f"{args.jobs} jobs on {SLOTS} slots: {many_jobs:.1f}s;"
          f" {args.bare} x bare papermill: {many_bare:.1f}s")  # fmt: skip
    print(f"bench_jobs throughput ratio: {ratio:.2f} (goal <= 1.25) {_verdict(ratio, 1.25)}")


def _verdict(ratio: float, goal: float) -> str:
    return "OK" if ratio <= goal else "OVER GOAL"


def _seconds(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


if __name__ == "__main__":
    main()
