"""The payload log: records wait in memory, are written per deployment as Parquet batches to
the artifact store and read back; a full buffer drops records (counted), never raises."""

from __future__ import annotations

import asyncio

from labworks_hub.service.jobs.artifacts import ArtifactStore
from labworks_hub.service.serving.payloads import PayloadLog, record


def test_batches_are_written_per_deployment_and_read_back(tmp_path):
    log = PayloadLog(ArtifactStore(url=f"file://{tmp_path}"), max_rows=3)
    log.add(record("dep1", "1", "ann", 200, 0.002, b'{"inputs": 1}', b'{"outputs": 2}'))
    log.add(record("dep1", "2", "key:abc", 500, 0.004, b"{}", b'{"error": "boom"}'))
    log.add(record("dep2", "1", "ben", 200, 0.001, b"x", b"y"))
    log.add(record("dep2", "1", "ben", 200, 0.001, b"dropped", b"dropped"))
    assert log.dropped == 1
    asyncio.run(log.flush())
    batches = log.batches("dep1")
    assert len(batches) == 1 and next(iter(batches.values())) > 0
    (batch,) = batches
    rows = log.read("dep1", batch)
    assert [(r["version"], r["caller"], r["status"]) for r in rows] == [
        ("1", "ann", 200), ("2", "key:abc", 500)
    ]  # fmt: skip
    assert rows[0]["request"] == '{"inputs": 1}' and rows[1]["latency_ms"] == 4.0
    assert [r["request"] for r in log.read("dep2", next(iter(log.batches("dep2"))))] == ["x"]
    assert log.read("dep1", "20260101T000000000000Z-9.parquet") is None


def test_a_store_that_fails_loses_the_batch_not_the_request(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    log = PayloadLog(ArtifactStore(url=f"file://{blocked}"))
    log.add(record("dep1", "1", "ann", 200, 0.002, b"{}", b"{}"))
    asyncio.run(log.flush())  # logged, not raised
    assert log._records == []
