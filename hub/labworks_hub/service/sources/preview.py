"""Previews of what a source holds: the first rows of a CSV, Parquet or JSON lines file or of a
table, the start of a text, a thumbnail of an image, the size of anything else.

Every preview is bounded whatever the size of the object: at most `max_bytes` are read of a
CSV or JSON lines file (and only as far as the rows asked for), a Parquet file gives its schema
and row count from its footer and rows from its first row groups, a text its first 64 KiB, an
image a thumbnail when the file and its pixels are small enough to decode.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import warnings
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from labworks_hub.service.access import Invalid
from labworks_hub.service.sources.base import SourceBackend, json_safe

__all__ = ["MAX_LIMIT", "Preview", "preview"]

MAX_LIMIT = 500
MAX_BYTES = 4 << 20
TEXT_BYTES = 64 << 10
THUMBNAIL = 256
MAX_PIXELS = 50_000_000  # an image larger than this (in pixels) is not decoded

_CSV = {".csv": ",", ".tsv": "\t"}
_PARQUET = (".parquet", ".pq")
_JSONL = (".jsonl", ".ndjson")
_TEXT = (".txt", ".md", ".json", ".yaml", ".yml", ".log", ".py", ".sql", ".xml", ".html",
         ".ini", ".toml", ".cfg", ".r", ".sh", ".ipynb")  # fmt: skip
_IMAGE = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".tif", ".tiff")
_MAGIC = {b"\x89PNG": "image", b"\xff\xd8\xff": "image", b"GIF8": "image", b"PAR1": "parquet"}


@dataclass(frozen=True)
class Preview:
    """`format`: csv, parquet, jsonl, text, image, table or binary. `columns` as (name, type);
    `row_count` exact or None; `truncated`: more rows (or text) than shown; `image` a PNG data
    URL; `size` the object's bytes."""

    path: str
    format: str
    columns: list[tuple[str, str]] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    row_count: int | None = None
    truncated: bool = False
    text: str | None = None
    image: str | None = None
    size: int | None = None


def preview(
    backend: SourceBackend, path: str, limit: int = 50, max_bytes: int = MAX_BYTES
) -> Preview:
    """A preview of `path` (a file, or `schema.table` in a database) with at most `limit` rows
    (clamped to 1..500)."""
    limit = max(1, min(limit, MAX_LIMIT))
    if backend.kind == "postgres":
        table = backend.query(table=path, sql=None, limit=limit)
        return Preview(
            path, "table", table.columns, table.rows, backend.row_count(path), table.truncated
        )
    entry = backend.stat(path)
    if entry.kind != "file":
        raise Invalid(f"{path or 'the root'} is a folder: list it, or preview a file in it")
    size = entry.size
    name = path.rsplit("/", 1)[-1].lower()
    ext = name[name.rfind(".") :] if "." in name else ""
    with backend.open(path) as f:
        kind = _kind(ext, f)
        if kind in ("csv", "tsv"):
            return _csv(path, f, _CSV[f".{kind}"], limit, max_bytes, size)
        if kind == "parquet":
            return _parquet(path, f, limit, size)
        if kind == "jsonl":
            return _jsonl(path, f, limit, max_bytes, size)
        if kind == "image":
            found = _image(path, f, max_bytes, size)
            if found is not None:
                return found
            return Preview(path, "binary", size=size)
        if kind == "text":
            data = f.read(min(TEXT_BYTES, max_bytes))
            text = io.TextIOWrapper(io.BytesIO(data), "utf-8", "replace").read()
            if size is not None and len(data) < size:
                text = text.rstrip("\ufffd")  # a character cut at the end
            return Preview(path, "text", text=text, truncated=len(data) < (size or 0), size=size)
    return Preview(path, "binary", size=size)


def _kind(ext: str, f: BinaryIO) -> str:
    """The format by the name's extension, else by the first bytes."""
    if ext in _CSV:
        return ext[1:]
    for exts, kind in ((_PARQUET, "parquet"), (_JSONL, "jsonl"), (_IMAGE, "image"),
                       (_TEXT, "text")):  # fmt: skip
        if ext in exts:
            return kind
    head = f.read(4096)
    f.seek(0)
    for magic, kind in _MAGIC.items():
        if head.startswith(magic):
            return kind
    if b"\x00" in head:
        return "binary"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as e:
        if e.start < len(head) - 4:  # not only a character cut at the end
            return "binary"
    return "text"


def _lines(f: BinaryIO, rows: int, max_bytes: int) -> tuple[bytes, bool]:
    """The first bytes of `f` holding `rows` lines or more, at most `max_bytes`, cut after the
    last whole line; and whether that is the whole file."""
    data = bytearray()
    while len(data) < max_bytes:
        chunk = f.read(min(64 << 10, max_bytes - len(data)))
        if not chunk:
            return bytes(data), True
        data += chunk
        if data.count(b"\n") > rows:
            break
    if not f.read(1):
        return bytes(data), True
    return bytes(data[: data.rfind(b"\n") + 1]), False


def _csv(
    path: str, f: BinaryIO, delimiter: str, limit: int, max_bytes: int, size: int | None
) -> Preview:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    # a header, `limit` rows and one more, to know whether there are more
    data, whole = _lines(f, limit + 2, max_bytes)
    try:
        table = pacsv.read_csv(
            io.BytesIO(data), parse_options=pacsv.ParseOptions(delimiter=delimiter)
        )
        columns = [(c.name, str(c.type)) for c in table.schema]
        rows = _rows(table.slice(0, limit))
        count = table.num_rows
    except (pa.ArrowInvalid, ValueError):  # a quoted line break cut, ragged rows: plain strings
        reader = csv.reader(io.StringIO(data.decode("utf-8", "replace")), delimiter=delimiter)
        header = next(reader, [])
        read = list(reader)
        columns = [(name, "string") for name in header]
        rows = read[:limit]
        count = len(read)
    return Preview(
        path, "csv" if delimiter == "," else "tsv", columns,
        [[json_safe(v) for v in row] for row in rows],
        count if whole else None, count > limit or not whole, size=size,
    )  # fmt: skip


def _parquet(path: str, f: BinaryIO, limit: int, size: int | None) -> Preview:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        file = pq.ParquetFile(f, pre_buffer=False, buffer_size=1 << 20)
        columns = [(c.name, str(c.type)) for c in file.schema_arrow]
        batch = next(file.iter_batches(batch_size=limit), None)
    except (pa.ArrowException, OSError) as e:
        raise Invalid(f"{path} is not a Parquet file that can be read: {e}") from None
    rows = [] if batch is None else _rows(batch)
    count = file.metadata.num_rows
    return Preview(
        path, "parquet", columns, [[json_safe(v) for v in row] for row in rows[:limit]],
        count, count > len(rows[:limit]), size=size,
    )  # fmt: skip


def _rows(table: Any) -> list[list[Any]]:
    """The rows of an Arrow table or record batch (columns by position: names may repeat)."""
    return [list(row) for row in zip(*(c.to_pylist() for c in table.columns), strict=True)]


def _jsonl(path: str, f: BinaryIO, limit: int, max_bytes: int, size: int | None) -> Preview:
    data, whole = _lines(f, limit + 1, max_bytes)
    values: list[Any] = []
    for number, line in enumerate(data.splitlines(), 1):
        if len(values) > limit:
            break
        try:
            if line.strip():
                values.append(json.loads(line))
        except ValueError:
            raise Invalid(f"{path}: line {number} is not JSON") from None
    names: dict[str, str] = {}
    for value in values[:limit]:
        for key, item in value.items() if isinstance(value, dict) else [("value", value)]:
            if names.get(key, "null") == "null":
                names[key] = _json_type(item)
    rows = [
        [json_safe(v.get(k) if isinstance(v, dict) else v if k == "value" else None)
         for k in names]
        for v in values[:limit]
    ]  # fmt: skip
    return Preview(
        path, "jsonl", list(names.items()), rows,
        len(values) if whole else None, len(values) > limit or not whole, size=size,
    )  # fmt: skip


def _json_type(value: Any) -> str:
    names = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array",
             dict: "object", type(None): "null"}  # fmt: skip
    return names.get(type(value), "string")


def _image(path: str, f: BinaryIO, max_bytes: int, size: int | None) -> Preview | None:
    """A PNG thumbnail (≤ 256 px a side) as a data URL; None when the file is over
    `max_bytes`, has more than MAX_PIXELS pixels or cannot be decoded."""
    from PIL import Image

    data = f.read(max_bytes + 1)
    if len(data) > max_bytes:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                if width * height > MAX_PIXELS:
                    return None
                image.draft("RGB", (THUMBNAIL, THUMBNAIL))
                image.thumbnail((THUMBNAIL, THUMBNAIL))
                thumb = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    except (OSError, ValueError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        return None
    out = io.BytesIO()
    thumb.save(out, "PNG")
    url = "data:image/png;base64," + base64.b64encode(out.getvalue()).decode("ascii")
    return Preview(path, "image", image=url, size=size)
