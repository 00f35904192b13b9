"""`python runtime.py --socket PATH --name E --version V --model-uri URI --task T`: a model server.

Run as a script by the serving environment's interpreter (`.venv/lib/serving/bin/python`, or the
serving image's), never imported by the platform: it imports nothing from labworks_hub. It serves
one MLflow model version under one endpoint name with KServe's own REST server (RESTServer,
DataPlane, ModelRepository and a kserve `Model`), speaking the Open Inference Protocol v2 on a
Unix socket (mode 0660; the platform's gateway authenticates callers and forwards to it) or on
TCP --port (127.0.0.1 unless --host says otherwise: the serving image listens on 0.0.0.0).

The socket is bound before the model loads: `/v2/health/ready` and `/v2/models/<name>/ready`
answer 503 until it has loaded, 200 after. A model that cannot be loaded ends the process with
status 1 and one line on stderr. Before KServe decodes a request, its inputs are checked against
the model's signature (names, datatypes, shapes against their data, at most --max-rows rows) for
a 400 naming the bad tensor; a body over --max-body gets 413 before it is read. Outputs follow
the task type (docs/admin/serving.md): classification `label` + `scores`, regression `value`,
multilabel `labels` + `scores`, seq2seq `text`. stderr stays quiet: warnings, and one line per
request at DEBUG (--log-level debug), never a request body.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import math
import os
import socket
import stat
import struct
import sys
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass
from typing import Any, NoReturn

TASKS = ("classification", "regression", "multilabel", "seq2seq")
log = logging.getLogger("labworks.serving")


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="runtime.py", description=__doc__.split("\n")[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--socket", help="Unix socket to bind (mode 0660) in an existing folder")
    where.add_argument("--port", type=int, help="TCP port on --host (benchmarks, tests, images)")
    parser.add_argument("--host", default="127.0.0.1", help="with --port (the image: 0.0.0.0)")
    parser.add_argument("--name", required=True, help="endpoint name: /v2/models/<name>/...")
    parser.add_argument("--version", required=True, help="the model version served")
    parser.add_argument("--model-uri", required=True, help="models:/<name>/<v>, a path, file://")
    parser.add_argument("--task", required=True, choices=TASKS)
    parser.add_argument("--max-body", type=int, default=8 << 20, help="request bytes (413 over)")
    parser.add_argument("--max-rows", type=int, default=100_000, help="rows a request may hold")
    parser.add_argument("--log-level", default="warning", choices=["debug", "info", "warning"])
    return parser.parse_args(argv)


# kserve.model_server parses sys.argv when imported: it must not see ours. This script's folder
# (sys.path[0]) holds the platform's kserve.py, which must not shadow the kserve package.
ARGS = _arguments(sys.argv[1:]) if __name__ == "__main__" else None
sys.argv = sys.argv[:1]
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != HERE]

import numpy as np  # noqa: E402
import orjson  # noqa: E402
from fastapi.exceptions import RequestValidationError  # noqa: E402
from fastapi.responses import JSONResponse  # noqa: E402
from kserve import Model  # noqa: E402
from kserve.constants.constants import INFERENCE_CONTENT_LENGTH_HEADER  # noqa: E402
from kserve.errors import InferenceError, InvalidInput  # noqa: E402
from kserve.model_repository import ModelRepository  # noqa: E402
from kserve.model_server import app as kserve_app  # noqa: E402
from kserve.protocol.dataplane import DataPlane  # noqa: E402
from kserve.protocol.infer_type import InferOutput, InferRequest, InferResponse  # noqa: E402
from kserve.protocol.model_repository_extension import ModelRepositoryExtension  # noqa: E402
from kserve.protocol.rest.server import RESTServer  # noqa: E402
from kserve.protocol.rest.v2_datamodels import InferenceRequest  # noqa: E402
from kserve.utils.numpy_codec import from_np_dtype, to_np_dtype  # noqa: E402

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


class CheckedDataPlane(DataPlane):
    """KServe's DataPlane, with the checks before decoding, readiness and the version."""

    def __init__(self, registry: ModelRepository, model: ServedModel):
        super().__init__(model_registry=registry)
        self.model = model

    async def ready(self) -> bool:
        return self.model.ready

    async def model_metadata(self, model_name: str) -> dict:
        metadata = await super().model_metadata(model_name)
        metadata["versions"] = [self.model.version]
        metadata["platform"] = f"mlflow_{self.model.flavor}"
        return metadata

    def decode(self, body, headers, protocol_version="v1", model_name=None):  # type: ignore[no-untyped-def]
        checker = self.model.checker
        if checker is not None and isinstance(body, InferenceRequest):
            checker.check([(i.name, i.datatype, i.shape, i.data) for i in body.inputs])
        elif isinstance(body, bytes) and protocol_version == "v2":
            headers = dict(headers or {})
            # The binary extension: without the header the whole body is the JSON (a client
            # that sends no Content-Type, as tritonclient does, gets bytes here; KServe refuses).
            json_length = headers.setdefault(INFERENCE_CONTENT_LENGTH_HEADER, str(len(body)))
            if checker is not None:
                checker.check_binary(body, json_length)
        return super().decode(body, headers, protocol_version, model_name)


# --- the model ---------------------------------------------------------------------------------


def _load(uri: str, keep: list[Any]) -> tuple[Any, Any, str]:
    """(model, MLflow Model, flavor): native scikit-learn or torch where they apply, else pyfunc."""
    import mlflow
    from mlflow.models import Model as MLmodel

    path = uri[len("file://") :] if uri.startswith("file://") else uri
    if not os.path.isdir(path):
        if "://" not in uri and ":/" not in uri:
            raise FileNotFoundError(f"no model folder at {uri}")
        folder = tempfile.TemporaryDirectory(prefix="labworks-model-")
        keep.append(folder)  # files pyfunc flavours read later stay until the process ends
        path = mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=folder.name)
    meta = MLmodel.load(path)
    if "sklearn" in meta.flavors:
        import mlflow.sklearn

        return mlflow.sklearn.load_model(path), meta, "sklearn"
    if "pytorch" in meta.flavors:
        import mlflow.pytorch

        model = mlflow.pytorch.load_model(path, map_location="cpu")
        with contextlib.suppress(NotImplementedError, RuntimeError):  # pt2 programs have no eval()
            model.eval()
        return model, meta, "pytorch"
    import mlflow.pyfunc

    return mlflow.pyfunc.load_model(path), meta, "pyfunc"


def _probabilities(out: np.ndarray, multilabel: bool) -> np.ndarray:
    """A network's outputs as scores: kept when they already are probabilities, else squashed
    (softmax over classes, a sigmoid per label)."""
    out = np.asarray(out, dtype=np.float64)
    if np.all((out >= 0) & (out <= 1)) and (multilabel or np.allclose(out.sum(axis=1), 1)):
        return out
    if multilabel:
        return 1.0 / (1.0 + np.exp(-out))
    exp = np.exp(out - out.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def _values(values: Any) -> np.ndarray:
    """Labels or texts as an output array: INT64, FP64, or BYTES (str) for anything else."""
    values = np.asarray(values)
    if values.dtype.kind in "iu":
        return values.astype(np.int64)
    return (
        values.astype(np.float64) if values.dtype.kind == "f" else values.astype(str).astype(object)
    )


def _output(name: str, values: np.ndarray, classes: list | None = None) -> InferOutput:
    datatype = "BYTES" if values.dtype == object else from_np_dtype(values.dtype)
    params = {"classes": json.dumps(classes)} if classes is not None else None
    return InferOutput(name, list(values.shape), datatype, values, parameters=params)


def _classes(classes: Any, k: int) -> list:
    """Names of the k score columns (JSON-able), their indices when the model has none."""
    if classes is None or np.ndim(classes) != 1 or len(classes) != k:
        return list(range(k))
    return _values(classes).tolist()


class ServedModel(Model):
    """One MLflow model version as a kserve Model; ready once load() has succeeded."""

    def __init__(self, args: argparse.Namespace):
        super().__init__(args.name)
        self.version, self.task, self.uri = args.version, args.task, args.model_uri
        self.max_rows = args.max_rows
        self.flavor = "unknown"
        self.checker: RequestChecker | None = None
        self.specs: list[Tensor] = []
        self.columnar = False
        self._keep: list[Any] = []

    def load(self) -> bool:
        self.model, meta, self.flavor = _load(self.uri, self._keep)
        schema = meta.signature.inputs if meta.signature is not None else None
        self.specs, self.columnar = signature_inputs(schema)
        self.checker = RequestChecker(self.specs, self.columnar, self.max_rows)
        self.ready = True
        return True

    def get_input_types(self) -> list[dict]:
        return [
            {
                "name": s.name,
                "datatype": s.datatype,
                "shape": [-1] if self.columnar else list(s.shape),
            }
            for s in self.specs
        ]

    def get_output_types(self) -> list[dict]:
        classes = getattr(self.model, "classes_", None)
        k = len(classes) if classes is not None and np.ndim(classes) == 1 else -1
        label = "BYTES" if classes is None or k < 0 else _output("", _values(classes[:1])).datatype
        outputs = {
            "classification": [("label", label, [-1]), ("scores", "FP64", [-1, k])],
            "multilabel": [("labels", "INT64", [-1, k]), ("scores", "FP64", [-1, k])],
            "regression": [("value", "FP64", [-1])],
            "seq2seq": [("text", "BYTES", [-1])],
        }[self.task]
        return [{"name": n, "datatype": d, "shape": shape} for n, d, shape in outputs]

    def predict(self, payload: Any, headers: dict[str, str] | None = None) -> InferResponse:
        if not isinstance(payload, InferRequest):
            raise InvalidInput("only the Open Inference Protocol v2 is served (/v2/models/...)")
        start = time.perf_counter()
        features = self._features(payload)
        try:
            outputs = getattr(self, f"_{self.task}")(features)
        except Exception as exc:  # the model's own failure: one line in the log, a 500
            log.warning("prediction failed: %s: %s", type(exc).__name__, exc)
            raise InferenceError(f"the model failed: {type(exc).__name__}: {exc}") from None
        if log.isEnabledFor(logging.DEBUG):
            ms = (time.perf_counter() - start) * 1000
            log.debug(
                "infer %s v%s: %d rows, %.1f ms", self.name, self.version, outputs[0].shape[0], ms
            )
        return InferResponse(
            response_id=payload.id or "",
            model_name=self.name,
            model_version=self.version,
            infer_outputs=outputs,
            use_binary_outputs=payload.use_binary_outputs,
            requested_outputs=payload.request_outputs,
        )

    def _features(self, payload: InferRequest) -> Any:
        """The request's tensors as the model takes them: a table, an array or named arrays."""
        arrays = {}
        specs = {spec.name: spec for spec in self.specs}
        for item in payload.inputs:
            try:
                array = item.as_numpy()
                spec = specs.get(item.name)
                if array.dtype == object:  # BYTES: str, as the signature's strings are
                    text = [v.decode() if isinstance(v, bytes) else str(v) for v in array.flat]
                    array = np.array(text, dtype=object).reshape(array.shape)
                elif spec is not None:
                    array = array.astype(to_np_dtype(spec.datatype), copy=False)
            except (ValueError, TypeError, UnicodeDecodeError) as exc:
                raise InvalidInput(f"input tensor '{item.name}': {exc}") from None
            arrays[item.name] = array
        if self.columnar or (not self.specs and len(arrays) > 1):
            import pandas as pd

            order = [s.name for s in self.specs if s.name in arrays] or list(arrays)
            return pd.DataFrame({name: arrays[name].reshape(-1) for name in order})
        return next(iter(arrays.values())) if len(arrays) == 1 else arrays

    def _call(self, features: Any, proba: bool = False) -> Any:
        """The model's answer: numpy, or a DataFrame from a pyfunc that returns one."""
        if self.flavor == "pytorch":
            import torch

            with torch.no_grad():
                return self.model(torch.from_numpy(np.ascontiguousarray(features))).numpy()
        return self.model.predict_proba(features) if proba else self.model.predict(features)

    def _proba(self) -> bool:
        return self.flavor == "sklearn" and hasattr(self.model, "predict_proba")

    def _regression(self, features: Any) -> list[InferOutput]:
        value = np.asarray(self._call(features), dtype=np.float64)
        return [_output("value", value[:, 0] if value.ndim == 2 and value.shape[1] == 1 else value)]

    def _seq2seq(self, features: Any) -> list[InferOutput]:
        out = self._call(features)
        out = out.iloc[:, 0] if hasattr(out, "iloc") and np.ndim(out) == 2 else out
        return [_output("text", _values(np.asarray(out, dtype=object).reshape(-1)))]

    def _classification(self, features: Any) -> list[InferOutput]:
        out = self._call(features, proba=self._proba())
        names = (
            getattr(self.model, "classes_", None)
            if self._proba()
            else getattr(out, "columns", None)
        )
        if np.ndim(out) != 2 or np.asarray(out).dtype.kind not in "fiu":
            return [_output("label", _values(np.asarray(out).reshape(-1)))]  # labels, no scores
        scores = np.asarray(out, dtype=np.float64)
        if self.flavor == "pytorch":
            scores = _probabilities(scores, multilabel=False)
        classes = _classes(names, scores.shape[1])
        label = _values(np.asarray(classes, dtype=object)[scores.argmax(axis=1)].tolist())
        return [_output("label", label), _output("scores", scores, classes)]

    def _multilabel(self, features: Any) -> list[InferOutput]:
        if self._proba():
            proba = self._call(features, proba=True)
            if isinstance(proba, list):  # MultiOutputClassifier: one [n, 2] per label
                proba = np.stack([p[:, -1] for p in proba], axis=1)
            scores = np.asarray(proba, dtype=np.float64)
            labels = np.asarray(self._call(features)).astype(np.int64)
            names = getattr(self.model, "classes_", None)
        else:
            out = self._call(features)
            names = getattr(out, "columns", None)
            scores = _probabilities(np.asarray(out, dtype=np.float64), multilabel=True)
            labels = (scores >= 0.5).astype(np.int64)
        classes = _classes(names, scores.shape[1])
        return [_output("labels", labels, classes), _output("scores", scores, classes)]


# --- the server --------------------------------------------------------------------------------


class BodyLimit:
    """ASGI middleware: 413 for a body over `max_body` bytes, from Content-Length before reading
    it, else counted as it arrives (chunked)."""

    def __init__(self, app: Any, max_body: int):
        self.app, self.max_body = app, max_body

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        length = headers.get(b"content-length")
        if length is not None:
            if not length.isdigit():
                return await self._refuse(send, 400, "bad Content-Length")
            if int(length) > self.max_body:
                return await self._refuse(send, 413, f"request body over {self.max_body} bytes")
            return await self.app(scope, receive, send)
        if b"transfer-encoding" not in headers:
            return await self.app(scope, receive, send)
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return None
            size += len(message.get("body", b""))
            if size > self.max_body:
                return await self._refuse(send, 413, f"request body over {self.max_body} bytes")
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        replayed = False

        async def replay() -> dict:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        return await self.app(scope, replay, send)

    @staticmethod
    async def _refuse(send: Any, status: int, message: str) -> None:
        body = orjson.dumps({"error": message})
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})  # fmt: skip
        await send({"type": "http.response.body", "body": body})


async def _invalid_body(_request: Any, exc: RequestValidationError) -> JSONResponse:
    """A body that is no inference request: 400 naming the field (FastAPI would say 422)."""
    errors = list(exc.errors())
    first = next((e for e in errors if "InferenceRequest" in e.get("loc", ())), errors[0])
    where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "InferenceRequest"))
    return JSONResponse({"error": f"{where or 'body'}: {first.get('msg')}"}, status_code=400)


def _bind(args: argparse.Namespace) -> socket.socket:
    if args.port is not None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((args.host, args.port))
    else:
        path = args.socket
        try:  # a socket left by a crashed server is replaced; anything else is an error
            if stat.S_ISSOCK(os.lstat(path).st_mode):
                os.unlink(path)
        except FileNotFoundError:
            pass
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o117)  # never more than 0660, even for an instant
        try:
            sock.bind(path)
        finally:
            os.umask(old)
        os.chmod(path, 0o660)
    sock.listen(2048)
    return sock


def _logging(level: str) -> None:
    """stderr is the deployment's log: our warnings, and our one line per request at DEBUG."""
    from fastapi.exceptions import FastAPIDeprecationWarning

    warnings.simplefilter("ignore", FastAPIDeprecationWarning)  # kserve's ORJSONResponse, per call
    logging.basicConfig(stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    log.setLevel(level.upper())
    # KServe logs every refused request with its traceback at ERROR, and lines per request: the
    # log would drown. Its failures reach the log as our one-line warnings instead.
    for name in ("kserve", "kserve.trace", "uvicorn.access"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    logging.getLogger("uvicorn.error").setLevel(logging.WARNING)


def _fail(message: str, path: str | None = None) -> NoReturn:
    """The one line on stderr the platform shows, then exit 1 at once (from any thread)."""
    sys.stderr.write(f"labworks-serving: {message}\n")
    sys.stderr.flush()
    if path:
        with contextlib.suppress(OSError):
            os.unlink(path)
    os._exit(1)


def main(args: argparse.Namespace) -> int:
    _logging(args.log_level)
    try:
        sock = _bind(args)
    except OSError as exc:
        _fail(f"cannot listen on {args.socket or args.port}: {exc}")
    model = ServedModel(args)
    registry = ModelRepository()
    registry.update(model)
    dataplane = CheckedDataPlane(registry, model)
    server = RESTServer("kserve.model_server:app", dataplane, ModelRepositoryExtension(registry),
                        http_port=0, timeout_keep_alive=65)  # fmt: skip
    server.config.access_log = False
    kserve_app.add_middleware(BodyLimit, max_body=args.max_body)
    kserve_app.add_exception_handler(RequestValidationError, _invalid_body)  # type: ignore[arg-type]

    def load() -> None:
        try:
            model.load()
        except BaseException as exc:  # any failure: the one line, exit 1
            reason = (str(exc).strip().splitlines() or [""])[0]
            _fail(
                f"cannot load model {args.model_uri}: {type(exc).__name__}: {reason}", args.socket
            )

    threading.Thread(target=load, name="load", daemon=True).start()
    try:
        server.run(sockets=[sock])
    finally:
        if args.socket:
            with contextlib.suppress(OSError):
                os.unlink(args.socket)
    return 0


if __name__ == "__main__" and ARGS is not None:
    sys.exit(main(ARGS))
