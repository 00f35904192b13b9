"""A registered version's task type, inferred from its MLmodel file (flavours and signature).

Pure: `infer_task` takes the MLmodel file's text (or its parsed YAML) and answers one of
`TASKS` or None when the file does not tell. The rules, in order:

- a flavour other than the classic ones (`transformers`, ...): `seq2seq` when its task is
  text-to-text generation, summarization or translation, or when every input and the one
  output are strings; else None;
- the classic flavours (scikit-learn, PyTorch, pyfunc and the other tabular and tensor ones)
  by the signature's outputs: one integer, string or boolean value per row is
  `classification`; one floating-point value per row is `regression`; several integer or
  boolean values per row (a 2-D tensor, several columns, or an array column) are
  `multilabel`; anything else (float scores per class, no signature) is None.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

CLASSIFICATION, REGRESSION, MULTILABEL, SEQ2SEQ = (
    "classification", "regression", "multilabel", "seq2seq",
)  # fmt: skip
TASKS = (CLASSIFICATION, REGRESSION, MULTILABEL, SEQ2SEQ)
# Flavours whose outputs are rows of numbers or labels: the signature says the task.
CLASSIC = frozenset(
    {"python_function", "sklearn", "pytorch", "xgboost", "lightgbm", "catboost", "keras",
     "tensorflow", "onnx", "statsmodels", "h2o", "spark"}
)  # fmt: skip
SEQ2SEQ_TASKS = ("text2text-generation", "summarization", "translation")
# MLflow's column types and tensor dtypes, by kind
LABEL_TYPES = frozenset({"integer", "long", "string", "boolean", "bool", "str", "object"})
INTEGER_TYPES = frozenset({"integer", "long", "boolean", "bool"})
FLOAT_TYPES = frozenset({"double", "float"})
STRING_TYPES = frozenset({"string", "str", "object"})


def infer_task(mlmodel: str | dict[str, Any]) -> str | None:
    """The task type an MLmodel file implies, or None when it does not tell.

    Args:
        mlmodel: the file's text, or its parsed YAML.
    """
    try:
        meta = yaml.safe_load(mlmodel) if isinstance(mlmodel, str) else mlmodel
    except yaml.YAMLError:
        return None
    if not isinstance(meta, dict):
        return None
    flavors, signature = _mapping(meta.get("flavors")), _mapping(meta.get("signature"))
    inputs, outputs = _schema(signature.get("inputs")), _schema(signature.get("outputs"))
    if set(flavors) - CLASSIC:
        return _generative(flavors, inputs, outputs)
    return _by_outputs(outputs)


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _generative(flavors: dict[str, Any], inputs: list[Any], outputs: list[Any]) -> str | None:
    for flavor in flavors.values():
        task = str((flavor or {}).get("task") or "") if isinstance(flavor, dict) else ""
        if task.startswith(SEQ2SEQ_TASKS):  # translation_en_to_fr too
            return SEQ2SEQ
    if inputs and len(outputs) == 1 and all(_is_string(s) for s in [*inputs, *outputs]):
        return SEQ2SEQ
    return None


def _by_outputs(outputs: list[Any]) -> str | None:
    if not outputs:
        return None
    if len(outputs) > 1:  # one column per label
        return MULTILABEL if all(_kind(s) in INTEGER_TYPES for s in outputs) else None
    spec = outputs[0]
    kind, per_row = _kind(spec), _values_per_row(spec)
    if per_row == 1:
        if kind in LABEL_TYPES:
            return CLASSIFICATION
        return REGRESSION if kind in FLOAT_TYPES else None
    if per_row is not None and per_row > 1 and kind in INTEGER_TYPES:
        return MULTILABEL
    return None


def _schema(value: Any) -> list[Any]:
    """A signature's inputs or outputs: MLflow keeps each as a JSON list in the YAML."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return []
    return [s for s in value if isinstance(s, dict)] if isinstance(value, list) else []


def _kind(spec: dict[str, Any]) -> str:
    """A column's type, a tensor's dtype, or an array column's item type, lower-cased and
    without its width (`int64` -> `long`, `float32` -> `float`)."""
    if spec.get("type") == "tensor":
        dtype = str((spec.get("tensor-spec") or {}).get("dtype") or "").lower()
        if dtype.startswith(("int", "uint")):
            return "long"
        if dtype.startswith("float"):
            return "float"
        return {"bool": "boolean", "str": "string", "object": "string"}.get(dtype, dtype)
    if spec.get("type") == "array":
        items = spec.get("items")
        return _kind(items) if isinstance(items, dict) else ""
    return str(spec.get("type") or "").lower()


def _values_per_row(spec: dict[str, Any]) -> int | None:
    """How many values one row of this output holds: 1 for a column or a [-1] / [-1, 1]
    tensor, k for a [-1, k] tensor; None when unknown (an array column, a wider tensor)."""
    if spec.get("type") == "array":
        return 2  # a list of labels per row
    if spec.get("type") != "tensor":
        return 1
    shape = (spec.get("tensor-spec") or {}).get("shape")
    if not isinstance(shape, list) or not 1 <= len(shape) <= 2:
        return None
    if len(shape) == 1 or shape[1] == 1:
        return 1
    return shape[1] if isinstance(shape[1], int) and shape[1] > 1 else None


def _is_string(spec: dict[str, Any]) -> bool:
    return _kind(spec) in STRING_TYPES and _values_per_row(spec) == 1
