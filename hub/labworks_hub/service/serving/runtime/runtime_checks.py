"""The model server's request checks: an inference request's inputs against the model's
signature (names, datatypes, shapes against their data, rows), before KServe converts anything,
for a 400 naming the bad tensor; cheap enough for a million empty BYTES items."""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
from kserve.errors import InvalidInput
from kserve.utils.numpy_codec import from_np_dtype, to_np_dtype

FLOATS = {"FP16", "FP32", "FP64"}
INTS = {"INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64"}
DATATYPES = FLOATS | INTS | {"BOOL", "BYTES"}
# What a signature's type accepts: numbers widen to floats, never the other way.
ACCEPTS = {**{t: FLOATS | INTS for t in FLOATS}, **{t: INTS for t in INTS}}
ACCEPTS.update(BOOL={"BOOL"}, BYTES={"BYTES"})
# MLflow column types (mlflow.types.DataType) as OIP datatypes.
COLUMNS = {"boolean": "BOOL", "integer": "INT32", "long": "INT64", "float": "FP32",
           "double": "FP64", "string": "BYTES", "binary": "BYTES", "datetime": "BYTES"}  # fmt: skip


@dataclass(frozen=True)
class Tensor:
    """An input the model takes: its name, OIP datatype and shape (-1: any size)."""

    name: str
    datatype: str
    shape: tuple[int, ...]
    required: bool = True


def signature_inputs(schema: Any) -> tuple[list[Tensor], bool]:
    """The input tensors of an MLflow signature, and whether they are columns of one table
    (a column-based signature: one [n] tensor per column) or tensors (a tensor-based one)."""
    if schema is None:
        return [], False
    specs = schema.inputs
    if schema.is_tensor_spec():
        name = lambda i, spec: spec.name or ("input" if len(specs) == 1 else f"input-{i}")  # noqa: E731
        tensors = [
            Tensor(name(i, s), from_np_dtype(s.type), tuple(s.shape)) for i, s in enumerate(specs)
        ]
        return tensors, False
    kind = lambda col: COLUMNS.get(getattr(col.type, "name", ""), "BYTES")  # noqa: E731
    return [
        Tensor(str(i) if c.name is None else c.name, kind(c), (-1,), getattr(c, "required", True))
        for i, c in enumerate(specs)
    ], True


# --- request checks: before KServe converts anything ----------------------------------------


def _count(data: list, limit: int) -> int:
    """Scalars in (nested) JSON lists, counting no further than `limit` + 1."""
    if not data or not isinstance(data[0], list):
        return len(data)
    count, stack = 0, [data]
    while stack and count <= limit:
        for item in stack.pop():
            if isinstance(item, list):
                stack.append(item)
            else:
                count += 1
    return count


def _count_bytes(raw: bytes, limit: int) -> int:
    """Items of a binary BYTES tensor (4-byte little-endian length, then the bytes); -1: torn."""
    count, at, end = 0, 0, len(raw)
    while at < end and count <= limit:
        if at + 4 > end:
            return -1
        (size,) = struct.unpack_from("<I", raw, at)
        at += 4 + size
        count += 1
    return count if at == end or count > limit else -1


class RequestChecker:
    """Checks an inference request's inputs against the model's signature, cheaply."""

    def __init__(self, specs: list[Tensor], columnar: bool, max_rows: int):
        self.specs = {spec.name: spec for spec in specs}
        self.columnar = columnar
        self.max_rows = max_rows

    def check(self, inputs: list[tuple[str, str, Any, Any]]) -> None:
        """inputs: (name, datatype, shape, data) with data a JSON list or binary bytes."""
        seen: dict[str, int] = {}
        for name, datatype, shape, data in inputs:
            if not isinstance(name, str):
                raise InvalidInput(f"an input tensor's name is not a string: {name!r}")
            if name in seen:
                raise InvalidInput(f"input tensor '{name}' is given twice")
            seen[name] = self._check(name, datatype, shape, data)
        missing = [s.name for s in self.specs.values() if s.required and s.name not in seen]
        if missing:
            raise InvalidInput(
                f"missing input tensor '{missing[0]}' (the model takes {self._names()})"
            )
        if self.columnar and len(set(seen.values())) > 1:
            rows = ", ".join(f"'{name}': {n}" for name, n in seen.items())
            raise InvalidInput(f"input tensors are columns of one table, with rows {rows}")

    def _names(self) -> str:
        return ", ".join(f"'{name}'" for name in self.specs)

    def _check(self, name: str, datatype: Any, shape: Any, data: Any) -> int:
        spec = self.specs.get(name)
        if self.specs and spec is None:
            raise InvalidInput(f"unknown input tensor '{name}' (the model takes {self._names()})")
        if datatype not in DATATYPES:
            raise InvalidInput(f"input tensor '{name}': unknown datatype {datatype!r}")
        if spec is not None and datatype not in ACCEPTS[spec.datatype]:
            raise InvalidInput(
                f"input tensor '{name}': datatype {datatype}, the model takes {spec.datatype}"
            )
        if not isinstance(shape, list) or not all(type(dim) is int and dim >= 0 for dim in shape):
            raise InvalidInput(f"input tensor '{name}': shape {shape!r} is not a list of sizes")
        if spec is not None and self.columnar:
            if len(shape) not in (1, 2) or shape[1:] not in ([], [1]):
                raise InvalidInput(
                    f"input tensor '{name}': shape {shape}, a column is [n] or [n, 1]"
                )
        elif spec is not None and (
            len(shape) != len(spec.shape)
            or any(want not in (-1, got) for want, got in zip(spec.shape, shape, strict=True))
        ):
            want = "[" + ", ".join("n" if d < 0 else str(d) for d in spec.shape) + "]"
            raise InvalidInput(f"input tensor '{name}': shape {shape}, the model takes {want}")
        rows = shape[0] if shape else 1
        if rows > self.max_rows:
            raise InvalidInput(
                f"input tensor '{name}': {rows} rows, over the limit of {self.max_rows}"
            )
        elements = math.prod(shape)
        if isinstance(data, bytes):
            itemsize = np.dtype(to_np_dtype(datatype)).itemsize
            count = _count_bytes(data, elements) if datatype == "BYTES" else len(data) // itemsize
            if datatype != "BYTES" and len(data) % itemsize:
                count = -1
        elif isinstance(data, list):
            count = _count(data, elements)
        else:
            raise InvalidInput(f"input tensor '{name}': 'data' is not a list")
        if count != elements:
            held = "torn binary data" if count < 0 else f"{count if count <= elements else 'more'}"
            raise InvalidInput(
                f"input tensor '{name}': shape {shape} holds {elements} elements, its data {held}"
            )
        return rows

    def check_binary(self, body: bytes, json_length: Any) -> None:
        """The binary extension: a JSON header, then each input's bytes (binary_data_size)."""
        try:
            length = int(json_length)
            if not 0 < length <= len(body):
                raise ValueError(json_length)
            header = orjson.loads(body[:length])
            inputs, at, found = header["inputs"], length, []
            for item in inputs:
                params = item.get("parameters") or {}
                data = item.get("data")
                if data is None and "binary_data_size" in params:
                    size = params["binary_data_size"]
                    if type(size) is not int or size < 0 or at + size > len(body):
                        raise InvalidInput(
                            f"input tensor '{item.get('name')}': bad binary_data_size"
                        )
                    data, at = body[at : at + size], at + size
                found.append((item.get("name"), item.get("datatype"), item.get("shape"), data))
        except InvalidInput:
            raise
        except (ValueError, KeyError, TypeError, AttributeError, orjson.JSONDecodeError) as exc:
            raise InvalidInput(f"not an inference request with binary data: {exc}") from None
        self.check(found)
