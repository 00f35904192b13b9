"""Previews are bounded whatever the size of the object, and give the first rows."""

from __future__ import annotations

import base64
import io
import json
import os
import uuid

import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from labworks_hub.service.access import Invalid
from labworks_hub.service.sources.backends import FolderBackend, PostgresBackend, S3Backend
from labworks_hub.service.sources.preview import preview


class CountingFile:
    """A file that counts the bytes read from it."""

    def __init__(self, f, counter: list[int]) -> None:
        self.f, self.counter = f, counter

    def read(self, n: int = -1) -> bytes:
        data = self.f.read(n)
        self.counter[0] += len(data)
        return data

    def __getattr__(self, name):
        return getattr(self.f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.f.close()


class CountingFolder(FolderBackend):
    """A folder source that counts what its previews read."""

    def __init__(self, root: str) -> None:
        super().__init__(root)
        self.read = [0]

    def open(self, path: str):
        return CountingFile(super().open(path), self.read)


@pytest.fixture
def big_csv(tmp_path):
    """A 20 MB CSV of 330,000 rows."""
    with open(tmp_path / "big.csv", "w") as f:
        f.write("id,name,score\n")
        for i in range(330_000):
            f.write(f'{i},"row {i:>40}",{i * 0.5}\n')
    assert os.path.getsize(tmp_path / "big.csv") > 20_000_000
    return tmp_path


def test_a_big_csv_previews_its_first_rows_reading_little(big_csv):
    backend = CountingFolder(str(big_csv))
    shown = preview(backend, "big.csv")
    assert shown.format == "csv"
    assert shown.columns == [("id", "int64"), ("name", "string"), ("score", "double")]
    assert len(shown.rows) == 50 and shown.rows[0] == [0, f"row {0:>40}", 0.0]
    assert shown.rows[49][0] == 49
    assert shown.truncated and shown.row_count is None and shown.size > 20_000_000
    assert backend.read[0] <= 128 << 10  # the first rows, not 4 MiB
    backend.read[0] = 0
    shown = preview(backend, "big.csv", limit=10_000, max_bytes=10_000)
    assert backend.read[0] <= 10_001
    assert 0 < len(shown.rows) < 500 and shown.truncated
    assert all(len(row) == 3 and row[2] == row[0] * 0.5 for row in shown.rows)  # no cut line


def test_a_small_csv_and_tsv_have_an_exact_count(tmp_path):
    (tmp_path / "s.csv").write_text("a,b\n1,x\n2,y\n3,z")
    (tmp_path / "s.tsv").write_text("a\tb\n1\tx\n")
    backend = FolderBackend(str(tmp_path))
    shown = preview(backend, "s.csv", limit=2)
    assert (shown.rows, shown.row_count, shown.truncated) == ([[1, "x"], [2, "y"]], 3, True)
    shown = preview(backend, "s.tsv", limit=0)  # clamped to 1
    assert (shown.format, shown.rows, shown.row_count, shown.truncated) == (
        "tsv",
        [[1, "x"]],
        1,
        False,
    )


def test_a_parquet_file_previews_from_its_footer_and_first_row_group(tmp_path):
    n = 400_000
    table = pa.table({"id": pa.array(range(n), pa.int64()),
                      "text": [f"value number {i:>30}" for i in range(n)]})  # fmt: skip
    pq.write_table(table, tmp_path / "t.parquet", row_group_size=50_000, compression="none")
    backend = CountingFolder(str(tmp_path))
    shown = preview(backend, "t.parquet", limit=20)
    assert shown.format == "parquet" and shown.row_count == n and shown.truncated
    assert shown.columns == [("id", "int64"), ("text", "string")]
    assert shown.rows[:2] == [[0, f"value number {0:>30}"], [1, f"value number {1:>30}"]]
    assert len(shown.rows) == 20
    assert backend.read[0] < shown.size / 4  # never the whole file


def test_json_lines_text_and_binary(tmp_path):
    lines = [{"a": 1, "b": "x"}, {"a": 2, "c": [1, 2]}, {"a": 3}]
    (tmp_path / "r.jsonl").write_text("\n".join(json.dumps(v) for v in lines) + "\n")
    (tmp_path / "long.txt").write_bytes("é".encode() * 50_000)
    (tmp_path / "README").write_text("hello\n")
    (tmp_path / "blob.bin").write_bytes(os.urandom(1000))
    (tmp_path / "bad.jsonl").write_text("{}\nnot json\n")
    backend = FolderBackend(str(tmp_path))
    shown = preview(backend, "r.jsonl", limit=2)
    assert shown.columns == [("a", "integer"), ("b", "string"), ("c", "array")]
    assert shown.rows == [[1, "x", None], [2, None, [1, 2]]] and shown.truncated
    assert preview(backend, "r.jsonl").row_count == 3
    text = preview(backend, "long.txt")
    assert text.format == "text" and text.truncated and text.text == "é" * (32 << 10)
    assert preview(backend, "README").text == "hello\n"
    binary = preview(backend, "blob.bin")
    assert (binary.format, binary.size, binary.rows, binary.text) == ("binary", 1000, [], None)
    with pytest.raises(Invalid, match="line 2 is not JSON"):
        preview(backend, "bad.jsonl")
    with pytest.raises(Invalid, match="folder"):
        preview(backend, "")


def test_an_image_gives_a_small_thumbnail_and_a_bomb_none(tmp_path):
    Image.new("RGB", (1000, 500), (200, 10, 10)).save(tmp_path / "photo.png")
    (tmp_path / "photo.png").rename(tmp_path / "noext")  # found by its content too
    Image.new("RGB", (1000, 500), (200, 10, 10)).save(tmp_path / "photo.jpg")
    Image.new("1", (10_000, 6_000)).save(tmp_path / "bomb.png")
    backend = FolderBackend(str(tmp_path))
    for name in ("noext", "photo.jpg"):
        shown = preview(backend, name)
        assert shown.format == "image" and shown.image.startswith("data:image/png;base64,")
        thumb = Image.open(io.BytesIO(base64.b64decode(shown.image.split(",", 1)[1])))
        assert thumb.format == "PNG" and max(thumb.size) == 256 and thumb.size[1] == 128
    bomb = preview(backend, "bomb.png")
    assert bomb.format == "binary" and bomb.image is None


def test_a_csv_in_s3_and_a_table_in_postgres(s3, postgres):
    prefix = uuid.uuid4().hex[:12]
    backend = S3Backend(s3.bucket, prefix, s3.endpoint, "us-east-1", "labworks", "labworks-secret")
    backend.write("x.csv", io.BytesIO(b"a,b\n1,2\n"), max_bytes=100)
    shown = preview(backend, "x.csv")
    assert (shown.columns, shown.rows, shown.row_count) == ([("a", "int64"), ("b", "int64")],
                                                            [[1, 2]], 1)  # fmt: skip
    url = postgres.create_database(f"lw_preview_{os.getpid()}_{prefix}")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("create table t as select g as id, now() as at from generate_series(1, 80) g")
    pg = PostgresBackend("127.0.0.1", postgres.port, url.rsplit("/", 1)[1], postgres.user,
                         postgres.password, "disable")  # fmt: skip
    shown = preview(pg, "public.t", limit=5)
    assert shown.format == "table" and shown.row_count == 80 and shown.truncated
    assert shown.columns == [("id", "integer"), ("at", "timestamp with time zone")]
    assert [row[0] for row in shown.rows] == [1, 2, 3, 4, 5]
    assert isinstance(shown.rows[0][1], str)
