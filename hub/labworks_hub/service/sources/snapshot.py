"""Snapshots of a source into a dataset version: the files under a prefix, or a table's or a
query's rows as one Parquet file, copied into the dataset's blobs (by sha256, so what the
dataset holds already is not stored twice). The caller records the version."""

from __future__ import annotations

import hashlib
import tempfile
from typing import IO

import pyarrow as pa
import pyarrow.parquet as pq

from ..access import Invalid
from ..jobs.artifacts import ArtifactStore
from ..store.datasets import FileEntry
from .backends import SourceBackend

CHUNK = 1024 * 1024


def snapshot_files(
    backend: SourceBackend, prefix: str, artifacts: ArtifactStore, blobs: str
) -> list[FileEntry]:
    """Each file under `prefix` (paths kept relative to it), its bytes put as a blob."""
    files = []
    start = len(prefix.rstrip("/")) + 1 if prefix else 0
    for entry in backend.walk(prefix):
        with backend.open(entry.path) as stream, tempfile.TemporaryFile() as spool:
            sha256, size = _spool(stream, spool)
            _put(artifacts, f"{blobs}/{sha256}", spool)
        path = entry.path[start:] if entry.path != prefix else entry.path.rsplit("/", 1)[-1]
        files.append(FileEntry(path=path, sha256=sha256, size=size))
    if not files:
        raise Invalid(f"there are no files under {prefix or 'the source'}: nothing to snapshot")
    return sorted(files, key=lambda f: f.path)


def snapshot_query(
    backend: SourceBackend, table: str | None, sql: str | None, limit: int,
    artifacts: ArtifactStore, blobs: str,
) -> tuple[list[FileEntry], int]:  # fmt: skip
    """The rows of `table` or `sql` (at most `limit`) as `<table>.parquet` or `query.parquet`,
    and how many rows it holds."""
    answer = backend.query(table=table, sql=sql, limit=limit)
    names = [c[0] for c in answer.columns]
    columns = {n: [row[i] for row in answer.rows] for i, n in enumerate(names)}
    with tempfile.TemporaryFile() as spool:
        pq.write_table(pa.table(columns) if names else pa.table({}), spool)
        spool.seek(0)
        sha256, size = _spool(spool, None)
        spool.seek(0)
        _put(artifacts, f"{blobs}/{sha256}", spool)
    path = f"{table}.parquet" if table else "query.parquet"
    return [FileEntry(path=path, sha256=sha256, size=size)], len(answer.rows)


def _spool(stream: IO[bytes], spool: IO[bytes] | None) -> tuple[str, int]:
    """sha256 and size of `stream`, copied into `spool` (rewound) when given."""
    digest, size = hashlib.sha256(), 0
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
        if spool is not None:
            spool.write(chunk)
    if spool is not None:
        spool.seek(0)
    return digest.hexdigest(), size


def _put(artifacts: ArtifactStore, key: str, spool: IO[bytes]) -> None:
    if not artifacts.exists(key):
        artifacts.put_file(key, spool)
