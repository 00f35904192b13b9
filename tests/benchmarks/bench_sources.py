"""Data sources: reading an S3 object through `labworks.sources` against s3fs, and table previews.

1. Object read. A --mb MB Parquet file (numbers, timestamps and strings from a fixed seed, in
   row groups of 500,000 rows) lies in a SeaweedFS bucket on loopback; an admin registers the
   bucket as an s3 source on the platform (`labworks up`) with SeaweedFS's keys and grants a user
   read. `pyarrow.parquet.read_table` reads it through the SDK's fsspec filesystem (the presigned
   URL the platform signs, then range requests straight to the store: what
   `pd.read_parquet("labworks://...")` does) and, as the baseline, through `s3fs` with the same
   keys. Both are read once before timing (the s3fs session and the presigned URL are then
   warm), then --rounds times each, interleaved so load changes hit both alike.
   Goal: ratio (sources / s3fs, median seconds) <= 1.15.
2. Table preview. A postgres source holds a --rows row table; the user asks
   `GET /sources/{name}/preview?path=bench.orders` --previews times (after a warm-up) through
   the platform's public address. Goal: p95 < 300 ms. The baseline is what the preview does
   in the database with psycopg directly: a new connection, the first rows from a read-only
   server-side cursor and the exact `count(*)`.

Both figures need a quiet machine: the load average is printed beside them.

Run with `make bench`, or `python tests/benchmarks/bench_sources.py --mb 64 --rows 100000`
for a quicker look.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import fsspec
import httpx
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from labworks.sources import LabworksFileSystem
from tests.platform import API, Platform, auth
from tests.postgres import PostgresServer
from tests.s3 import SeaweedS3

READ_GOAL = 1.15
PREVIEW_GOAL_MS = 300.0
GROUP_ROWS = 500_000
KEY = "bench/orders.parquet"
USER = "bench"
TABLE = "bench.orders"
SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("created", pa.timestamp("s")),
        ("price", pa.float64()),
        ("quantity", pa.int32()),
        ("discount", pa.float32()),
        ("score", pa.float64()),
        ("category", pa.string()),
        ("customer", pa.string()),
    ]
)
CATEGORIES = np.array(["books", "garden", "toys", "food", "tools", "music", "sport", "home"])


def write_parquet(path: Path, mb: int) -> int:
    """Row groups of GROUP_ROWS rows from a fixed seed until the file holds `mb` MB; its rows."""
    rng = np.random.default_rng(19)
    rows = 0
    with path.open("wb") as out, pq.ParquetWriter(out, SCHEMA) as writer:
        while out.tell() < mb * 1_000_000:
            n = GROUP_ROWS
            columns = {
                "id": np.arange(rows, rows + n, dtype=np.int64),
                "created": rng.integers(1_600_000_000, 1_800_000_000, n).astype("datetime64[s]"),
                "price": rng.normal(50, 20, n),
                "quantity": rng.integers(1, 100, n, dtype=np.int32),
                "discount": rng.random(n, dtype=np.float32),
                "score": rng.standard_normal(n),
                "category": CATEGORIES[rng.integers(0, len(CATEGORIES), n)],
                "customer": np.char.add("c-", rng.integers(0, 10**9, n).astype(str)),
            }
            writer.write_table(pa.table(columns, schema=SCHEMA))
            rows += n
    return rows


def register(client: httpx.Client, admin: str, body: dict) -> None:
    """The admin registers a source and grants USER read."""
    for method, path, sent in (
        ("POST", "/sources", body),
        ("PUT", f"/sources/{body['name']}/grants", {"principal": f"user:{USER}", "access": "read"}),
    ):
        reply = client.request(method, API + path, json=sent, headers=auth(admin))
        if reply.status_code not in (200, 201):
            raise RuntimeError(f"{method} {path}: {reply.status_code} {reply.text}")


def timed(read: Callable[[], pa.Table], rows: int) -> float:
    began = time.perf_counter()
    table = read()
    elapsed = time.perf_counter() - began
    assert table.num_rows == rows, (table.num_rows, rows)
    return elapsed


def object_read(client: httpx.Client, admin: str, root: Path, args: argparse.Namespace) -> None:
    """Part 1: the Parquet object read through s3fs and through the sources, interleaved."""
    (root / "s3").mkdir()
    s3 = SeaweedS3(root / "s3").start()
    try:
        local = root / "orders.parquet"
        rows = write_parquet(local, args.mb)
        size = local.stat().st_size
        s3fs = fsspec.filesystem("s3", **s3.storage_options)
        s3fs.put_file(str(local), f"{s3.bucket}/{KEY}")
        local.unlink()
        options = s3.storage_options
        register(client, admin, {
            "name": "bench-s3", "kind": "s3",
            "config": {"bucket": s3.bucket, "endpoint_url": s3.endpoint, "region": "us-east-1"},
            "credentials": {"access_key_id": options["key"],
                            "secret_access_key": options["secret"]},
        })  # fmt: skip
        sources = LabworksFileSystem()
        readers = {
            "s3fs": lambda: pq.read_table(f"{s3.bucket}/{KEY}", filesystem=s3fs),
            "labworks.sources": lambda: pq.read_table(f"bench-s3/{KEY}", filesystem=sources),
        }
        # the first read of each warms the s3fs session and the presigned URL: not counted
        first = {name: timed(read, rows) for name, read in readers.items()}
        times: dict[str, list[float]] = {name: [] for name in readers}
        for _ in range(args.rounds):
            for name, read in readers.items():
                times[name].append(timed(read, rows))
    finally:
        s3.stop()
    mib = size / (1 << 20)
    print(f"object: {size / 1e6:.0f} MB Parquet, {rows:,} rows, {rows // GROUP_ROWS} row groups")
    print("first read (not counted): " + ", ".join(f"{n} {s:.2f} s" for n, s in first.items()))
    for name, values in times.items():
        rate = mib / statistics.median(values)
        print(f"{name + ' read_table:':29} {_seconds(values)} ({rate:.0f} MiB/s)")
    theirs, ours = times["s3fs"], times["labworks.sources"]
    ratio = statistics.median(ours) / statistics.median(theirs)
    verdict = "OK" if ratio <= READ_GOAL else "MISSED"
    print(f"bench_sources read ratio: {ratio:.2f} (goal <= {READ_GOAL}) {verdict}")


def make_table(pg: PostgresServer, rows: int) -> dict:
    """The database `bench` with TABLE of `rows` rows and a read-only role; the source's body."""
    import psycopg

    with psycopg.connect(pg.create_database("bench"), autocommit=True) as conn:
        conn.execute("create schema bench")
        conn.execute(
            f"create table {TABLE} as select i as id, now() - i * interval '1 minute' as created,"
            " 'customer-' || (i %% 50000) as customer, (i %% 997) * 1.25::numeric(12, 2) as total,"
            " i %% 3 = 0 as paid from generate_series(1, %s) as i",
            [rows],
        )
        conn.execute(f"analyze {TABLE}")
        conn.execute("create role reader login password 'reader-password'")
        conn.execute("grant usage on schema bench to reader")
        conn.execute(f"grant select on {TABLE} to reader")
    return {
        "name": "bench-pg", "kind": "postgres",
        "config": {"host": "127.0.0.1", "port": pg.port, "dbname": "bench", "user": "reader"},
        "credentials": {"password": "reader-password"},
    }  # fmt: skip


def direct_preview(pg: PostgresServer, limit: int) -> float:
    """Seconds for what a preview asks the database, done with psycopg: a new connection, the
    first rows from a server-side cursor in a read-only transaction, and the exact count."""
    import psycopg

    began = time.perf_counter()
    dsn = f"postgresql://reader:reader-password@127.0.0.1:{pg.port}/bench"
    with psycopg.connect(dsn) as conn:
        conn.read_only = True
        with conn.transaction(), conn.cursor(name="bench") as cur:
            cur.execute(f"select * from {TABLE}")
            assert len(cur.fetchmany(limit + 1)) == limit + 1
    with psycopg.connect(dsn) as conn:
        conn.read_only = True
        assert conn.execute(f"select count(*) from {TABLE}").fetchone()
    return time.perf_counter() - began


def table_preview(client: httpx.Client, admin: str, token: str, args: argparse.Namespace) -> None:
    """Part 2: GET /preview of a table against the same work done with psycopg, interleaved."""
    pg = PostgresServer().start()
    try:
        register(client, admin, make_table(pg, args.rows))
        url = API + "/sources/bench-pg/preview"
        params = {"path": TABLE, "limit": "50"}

        def preview() -> float:
            began = time.perf_counter()
            reply = client.get(url, params=params, headers=auth(token))
            elapsed = time.perf_counter() - began
            reply.raise_for_status()
            found = reply.json()
            assert len(found["rows"]) == 50 and found["truncated"], found
            return elapsed

        for _ in range(3):
            preview()
            direct_preview(pg, 50)
        ours, theirs = [], []
        for _ in range(args.previews):  # interleaved, as the reads
            theirs.append(direct_preview(pg, 50))
            ours.append(preview())
        counted = client.get(url, params=params, headers=auth(token)).json()["row_count"]
    finally:
        pg.stop()
    p50, p95 = _ms(ours, 50), _ms(ours, 95)
    print(f"table: {args.rows:,} rows; preview of 50 rows, row_count {counted}")
    print(f"psycopg directly (connect, first rows, count): p50 {_ms(theirs, 50):.0f} ms,"
          f" p95 {_ms(theirs, 95):.0f} ms")  # fmt: skip
    print(f"GET /sources/bench-pg/preview x {len(ours)}: p50 {p50:.0f} ms, p95 {p95:.0f} ms")
    ratio = statistics.median(ours) / statistics.median(theirs)
    print(f"bench_sources preview p50 ratio (platform / psycopg): {ratio:.2f}")
    verdict = "OK" if p95 < PREVIEW_GOAL_MS else "MISSED"
    print(f"bench_sources preview p95: {p95:.0f} ms (goal < {PREVIEW_GOAL_MS:.0f} ms) {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200, help="MB (10^6 bytes) of the Parquet object")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the table")
    parser.add_argument("--previews", type=int, default=50)
    args = parser.parse_args()
    print("load average at start: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    with tempfile.TemporaryDirectory(prefix="labworks-bench-sources-") as tmp:
        root = Path(tmp)
        (root / "lw").mkdir()
        platform = Platform(root / "lw")
        try:
            platform.start()
            platform.add_user(USER)
            admin, token = platform.token("admin"), platform.token(USER)
            os.environ["LABWORKS_API_URL"] = platform.url + API
            os.environ["LABWORKS_API_TOKEN"] = token
            with httpx.Client(base_url=platform.url, timeout=60) as client:
                object_read(client, admin, root, args)
                print("load average after the reads: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
                table_preview(client, admin, token, args)
        finally:
            platform.stop()
    print("load average at the end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


def _seconds(values: list[float]) -> str:
    return (
        "median " + f"{statistics.median(values):.2f} s of " + ", ".join(f"{v:.2f}" for v in values)
    )


def _ms(values: list[float], percent: int) -> float:
    """The `percent` percentile of `values` (seconds), in milliseconds."""
    return statistics.quantiles(values, n=100, method="inclusive")[percent - 1] * 1000


if __name__ == "__main__":
    main()
