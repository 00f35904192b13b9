"""The served model: one MLflow model version as a kserve `Model`, loaded natively (scikit-learn,
torch) or through pyfunc, answering with the outputs of its task type (docs/admin/serving.md)."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import tempfile
import time
from typing import Any

import numpy as np
from kserve import Model
from kserve.errors import InferenceError, InvalidInput
from kserve.protocol.infer_type import InferOutput, InferRequest, InferResponse
from kserve.utils.numpy_codec import from_np_dtype, to_np_dtype
from runtime_checks import RequestChecker, Tensor, signature_inputs

log = logging.getLogger("labworks.serving")


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
