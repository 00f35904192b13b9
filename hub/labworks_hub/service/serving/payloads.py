"""Payload logs: requests and answers of a deployment (all, or the share its `payload_sample`
says), with the version, latency and caller, written to the artifact store in Parquet batches.

The gateway only appends a record to a bounded buffer (never waiting, never failing a request);
a background task writes a batch per deployment every `flush_seconds`, or sooner once
`batch_rows` are waiting, as `payloads/<deployment id>/<UTC time>-<n>.parquet`. When
the buffer is full, records are dropped and counted (`dropped`), never the request.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import itertools
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..background import cancel
from ..jobs.artifacts import ArtifactStore

log = logging.getLogger("labworks.service")
PREFIX = "payloads"
MAX_TEXT = 64 * 1024  # characters of a request or answer body kept in a record


@dataclass(frozen=True)
class Record:
    at: datetime
    deployment_id: str
    version: str
    caller: str
    status: int
    latency_ms: float
    request: str
    response: str


class PayloadLog:
    """The buffer and its writer (see the module docstring)."""

    def __init__(
        self, artifacts: ArtifactStore, flush_seconds: float = 10.0, batch_rows: int = 1000,
        max_rows: int = 100_000,
    ) -> None:  # fmt: skip
        self.artifacts = artifacts
        self.flush_seconds = flush_seconds
        self.batch_rows = batch_rows
        self.max_rows = max_rows
        self.dropped = 0
        self._records: list[Record] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._serial = itertools.count()

    def add(self, record: Record) -> None:
        if len(self._records) >= self.max_rows:
            self.dropped += 1
            return
        self._records.append(record)
        if len(self._records) >= self.batch_rows:
            self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="labworks-payloads")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel(task)
        await self.flush()  # what is waiting is written, not lost

    async def _loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.flush_seconds):
                    await self._wake.wait()
            self._wake.clear()
            await self.flush()

    async def flush(self) -> None:
        records, self._records = self._records, []
        if not records:
            return
        by_deployment: dict[str, list[Record]] = {}
        for record in records:
            by_deployment.setdefault(record.deployment_id, []).append(record)
        for deployment_id, batch in by_deployment.items():
            key = self.key(deployment_id, batch[0].at)
            try:
                await asyncio.to_thread(self.artifacts.put, key, _parquet(batch))
            except Exception:  # a full disk or a store that is down: logged, never raised
                log.exception("Payload log of deployment %s: %d records not written",
                              deployment_id, len(batch))  # fmt: skip

    def key(self, deployment_id: str, at: datetime) -> str:
        stamp = at.strftime("%Y%m%dT%H%M%S%fZ")
        return f"{PREFIX}/{deployment_id}/{stamp}-{next(self._serial)}.parquet"

    def batches(self, deployment_id: str) -> dict[str, int]:
        """The deployment's batch files (key below its folder -> bytes), oldest first."""
        prefix = f"{PREFIX}/{deployment_id}/"
        found = self.artifacts.sizes(prefix)
        return {key.removeprefix(prefix): size for key, size in sorted(found.items())}

    def read(self, deployment_id: str, batch: str) -> list[dict[str, Any]] | None:
        """The records of one batch, or None when there is no such batch."""
        import pyarrow.parquet as pq

        raw = self.artifacts.get(f"{PREFIX}/{deployment_id}/{batch}")
        if raw is None:
            return None
        return pq.read_table(io.BytesIO(raw)).to_pylist()

    def forget(self, deployment_id: str) -> None:
        self.artifacts.delete_prefix(f"{PREFIX}/{deployment_id}/")


def record(
    deployment_id: str, version: str, caller: str, status: int, seconds: float, request: bytes,
    response: bytes,
) -> Record:  # fmt: skip
    return Record(
        at=datetime.now(UTC), deployment_id=deployment_id, version=version, caller=caller,
        status=status, latency_ms=round(seconds * 1000, 3),
        request=request[:MAX_TEXT].decode("utf8", "replace"),
        response=response[:MAX_TEXT].decode("utf8", "replace"),
    )  # fmt: skip


def _parquet(batch: list[Record]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = {name: [getattr(r, name) for r in batch] for name in Record.__dataclass_fields__}
    out = io.BytesIO()
    pq.write_table(pa.table(columns), out, compression="zstd")
    return out.getvalue()
