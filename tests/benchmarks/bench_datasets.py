"""Reading a dataset version with `labworks.data` against a plain HTTP download of its files.

The platform (`labworks up`: hub-token auth, the visibility check, each blob streamed from the
artifact store) serves one version of --files files, --mb MiB in all; `data.get` downloads it
into an empty cache, checking each file's sha256 and size before it is renamed into place (a
notebook's first read). The baseline downloads the same files from `python -m http.server` with
the same chunked read, hash and write (no token, no store, no check). Rounds are interleaved so
load changes hit both alike. Goal: ratio (Labworks / plain, median seconds) <= 1.5. The push,
and a second `get` on the warm cache (nothing downloaded or hashed again), are printed too.

Run with `make bench`, or `python tests/benchmarks/bench_datasets.py --mb 64` for a quicker
look.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from labworks import data
from tests.platform import API, Platform, free_port, stop_group

GOAL = 1.5
CHUNK = 1 << 20


def plain_server(folder: Path, log: Path) -> tuple[subprocess.Popen, str]:
    """`python -m http.server` over `folder`; its address once it answers."""
    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
             "--directory", str(folder)],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    stop_group(proc)
    raise RuntimeError("python -m http.server did not answer in 30 s")


def plain_get(url: str, names: list[str], dest: Path) -> float:
    """Seconds to download `names` from `url` into `dest`, hashing as `labworks.data` does."""
    began = time.perf_counter()
    dest.mkdir(parents=True)
    for name in names:
        digest = hashlib.sha256()
        with urllib.request.urlopen(f"{url}/{name}") as response, (dest / name).open("wb") as out:  # noqa: S310
            while chunk := response.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
        assert digest.hexdigest()
    return time.perf_counter() - began


def labworks_get(api: str, token: str, cache: Path) -> float:
    """Seconds for `data.get` of the latest version into the empty cache `cache`."""
    began = time.perf_counter()
    folder = data.Client(api, token, cache).get("bench")
    elapsed = time.perf_counter() - began
    assert folder.is_dir()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=256, help="MiB in the version, in all")
    parser.add_argument("--files", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="labworks-bench-data-") as tmp:
        root = Path(tmp)
        source = root / "source"
        source.mkdir()
        names = [f"part-{i}.bin" for i in range(args.files)]
        each = args.mb * (1 << 20) // args.files
        for name in names:
            with (source / name).open("wb") as out:
                for _ in range(each // CHUNK):
                    out.write(os.urandom(CHUNK))  # as real data, no compression
        (root / "lw").mkdir()
        platform = Platform(root / "lw")
        plain = None
        try:
            platform.start()
            platform.add_user("bench")
            token = platform.token("bench")
            api = platform.service_url + API
            began = time.perf_counter()
            version = data.Client(api, token, root / "push-cache").push("bench", source)
            pushed = time.perf_counter() - began
            print(f"push of {version.file_count} files, {args.mb} MiB: {pushed:.2f} s")
            plain, url = plain_server(source, root / "http.log")
            ours, theirs = [], []
            for i in range(args.rounds):
                theirs.append(plain_get(url, names, root / f"plain-{i}"))
                ours.append(labworks_get(api, token, root / f"cache-{i}"))
            began = time.perf_counter()
            data.Client(api, token, root / "cache-0").get("bench")
            warm = time.perf_counter() - began
        finally:
            if plain is not None:
                stop_group(plain)
            platform.stop()
    mib = args.mb
    print(f"plain HTTP download: {_seconds(theirs)} ({mib / statistics.median(theirs):.0f} MiB/s)")
    print(f"labworks.data.get:   {_seconds(ours)} ({mib / statistics.median(ours):.0f} MiB/s)")
    print(f"labworks.data.get again (warm cache): {warm:.3f} s")
    ratio = statistics.median(ours) / statistics.median(theirs)
    verdict = "OK" if ratio <= GOAL else "SLOWER THAN THE GOAL"
    print(f"bench_datasets get ratio: {ratio:.2f} (goal <= {GOAL}) {verdict}")


def _seconds(values: list[float]) -> str:
    return (
        "median " + f"{statistics.median(values):.2f} s of " + ", ".join(f"{v:.2f}" for v in values)
    )


if __name__ == "__main__":
    main()
