"""Serving an image catalog of 500 tags: p95 of `GET /images` through the real platform (proxy,
hub token check, catalog, JSON), against bare `GET /v2/_catalog` on the same registry and
`GET /me` through the same platform (same run).

The registry is Debian's docker-registry on loopback: one image built with umoci and pushed
with skopeo per repository, then 99 more CI tags each with their own config (so 500 distinct
digests). Goal: p95 < 200 ms. Also prints how long one full read of the registry takes (the
catalog does it in the background, never in a request once warm). Run with `make bench`.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from labworks_hub.catalog import ImageCatalog
from tests.platform import API, Platform
from tests.registry import Registry

REPOSITORIES = [f"bench/image-{n}" for n in range(5)]
TAGS_PER_REPOSITORY = 100
ROUNDS = 200
GOAL_MS = 200.0
LABELS = {
    "org.opencontainers.image.title": "bench image",
    "org.opencontainers.image.description": "an image of the catalog benchmark",
    "io.labworks.packages": "jupyterlab==4.6.6,labworks==0.1.0",
}


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1]


def timed(client: httpx.Client, url: str, **kwargs) -> list[float]:
    """ROUNDS sequential GETs after 10 warm-up ones; seconds each."""
    for _ in range(10):
        client.get(url, **kwargs).raise_for_status()
    samples = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        client.get(url, **kwargs).raise_for_status()
        samples.append(time.perf_counter() - start)
    return samples


def fill(registry: Registry) -> None:
    for repository in REPOSITORIES:
        registry.push(repository, "ci-0", LABELS)
        tags = [f"ci-{n}" for n in range(1, TAGS_PER_REPOSITORY)]
        registry.tag_variants(repository, "ci-0", tags)


def main() -> None:
    total = len(REPOSITORIES) * TAGS_PER_REPOSITORY
    with tempfile.TemporaryDirectory(prefix="labworks-bench-") as tmp:
        root = Path(tmp)
        registry = Registry(root / "registry").start()
        try:
            fill(registry)
            cold = time.perf_counter()
            read = asyncio.run(ImageCatalog(registry_url=registry.url).refresh())
            cold = time.perf_counter() - cold
            assert len(read.images) == total, f"{len(read.images)} of {total} tags read"
            platform = Platform(root / "lw", extra=("--registry", registry.url)).start()
            try:
                platform.add_user("bench")
                headers = {"Authorization": f"token {platform.token('bench')}"}
                with httpx.Client(timeout=30) as client:
                    deadline = time.monotonic() + 120
                    while len(client.get(platform.url + API + "/images", headers=headers)
                               .json().get("images", [])) < total:  # fmt: skip
                        assert time.monotonic() < deadline, "the catalog never filled"
                        time.sleep(0.2)
                    served = timed(client, platform.url + API + "/images", headers=headers)
                    me = timed(client, platform.url + API + "/me", headers=headers)
                    bare = timed(client, registry.url + "/v2/_catalog")
            finally:
                platform.stop()
        finally:
            registry.stop()
    served_p95 = p95(served) * 1000
    verdict = "OK" if served_p95 < GOAL_MS else "OVER GOAL"
    print(f"one full read of the registry ({total} tags, cold): {cold:.2f}s")
    print(f"bare GET /v2/_catalog: p95 {p95(bare) * 1000:.1f} ms")
    print(f"GET /me through the platform: p95 {p95(me) * 1000:.1f} ms")
    print(f"GET /images ({total} tags) through the platform: p95 {served_p95:.1f} ms"
          f" (median {statistics.median(served) * 1000:.1f} ms) (goal < {GOAL_MS:.0f} ms)"
          f" {verdict}")  # fmt: skip
    print(f"bench_catalog ratio [vs bare /v2/_catalog]: {p95(served) / p95(bare):.1f}")
    print(f"bench_catalog ratio [vs GET /me]: {p95(served) / p95(me):.2f}")


if __name__ == "__main__":
    main()
