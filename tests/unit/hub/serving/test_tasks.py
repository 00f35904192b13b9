"""Task types inferred from MLmodel files: real ones written by mlflow.sklearn and
mlflow.pyfunc, and the YAML of PyTorch and transformers models (written by hand: torch and
transformers are not installed here)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from mlflow.models import infer_signature

from labworks_hub.service.serving.tasks import infer_task

X = np.random.default_rng(0).random((20, 3))
FRAME = pd.DataFrame(X, columns=["a", "b", "c"])


class Echo:
    """A pyfunc model (its predictions are only declared by the signature)."""


def _saved(tmp_path, name: str, signature, flavour: str = "sklearn") -> str:
    import mlflow.pyfunc
    import mlflow.sklearn
    from sklearn.linear_model import LinearRegression

    path = str(tmp_path / name)
    if flavour == "sklearn":
        model = LinearRegression().fit(X, X[:, 0])
        mlflow.sklearn.save_model(model, path, signature=signature, pip_requirements=[])
    else:

        class Model(mlflow.pyfunc.PythonModel):
            def predict(self, context, model_input, params=None):
                return model_input

        mlflow.pyfunc.save_model(path, python_model=Model(), signature=signature,
                                 pip_requirements=[])  # fmt: skip
    with open(f"{path}/MLmodel") as f:
        return f.read()


@pytest.mark.parametrize(
    ("outputs", "task"),
    [
        (np.array([0, 1] * 10), "classification"),  # an int tensor, one per row
        (pd.Series(["cat", "dog"] * 10, name="label"), "classification"),  # a string column
        (np.array([True, False] * 10), "classification"),
        (np.linspace(0, 1, 20), "regression"),  # a float tensor
        (pd.Series(np.linspace(0, 1, 20), name="price"), "regression"),  # a double column
        (np.array([[0, 1, 1]] * 20), "multilabel"),  # a 2-D int tensor
        (pd.DataFrame({"red": [True] * 20, "big": [False] * 20}), "multilabel"),  # bool columns
        (np.random.default_rng(1).random((20, 4)), None),  # float scores per class: unknown
    ],
)
def test_sklearn_outputs_tell_the_task(tmp_path, outputs, task):
    text = _saved(tmp_path, "m", infer_signature(FRAME, outputs))
    assert infer_task(text) == task


def test_pyfunc_outputs_tell_the_task_and_no_signature_tells_nothing(tmp_path):
    labels = infer_signature(FRAME, np.array([1, 2] * 10))
    assert infer_task(_saved(tmp_path, "labels", labels, "pyfunc")) == "classification"
    # A pyfunc mapping strings to strings is a classifier of texts, not a generator.
    texts = infer_signature(pd.DataFrame({"text": ["a b"] * 3}), pd.Series(["x"] * 3))
    assert infer_task(_saved(tmp_path, "texts", texts, "pyfunc")) == "classification"
    assert infer_task(_saved(tmp_path, "none", None)) is None


PYTORCH = """
flavors:
  python_function: {{loader_module: mlflow.pytorch, data: data}}
  pytorch: {{model_data: data, pytorch_version: 2.3.0}}
signature:
  inputs: '[{{"type": "tensor", "tensor-spec": {{"dtype": "float32", "shape": [-1, 4]}}}}]'
  outputs: '[{{"type": "tensor", "tensor-spec": {{"dtype": "{dtype}", "shape": {shape}}}}}]'
"""


@pytest.mark.parametrize(
    ("dtype", "shape", "task"),
    [
        ("float32", "[-1, 1]", "regression"),
        ("float32", "[-1]", "regression"),
        ("int64", "[-1]", "classification"),
        ("bool", "[-1, 5]", "multilabel"),
        ("int64", "[-1, 5]", "multilabel"),
        ("float32", "[-1, 10]", None),  # logits: a classifier or ten regressions
        ("float32", "[-1, 3, 32, 32]", None),
    ],
)
def test_pytorch_tensors_tell_the_task(dtype, shape, task):
    assert infer_task(PYTORCH.format(dtype=dtype, shape=shape)) == task


TRANSFORMERS = """
flavors:
  python_function: {{loader_module: mlflow.transformers}}
  transformers: {{task: {task}, instance_type: Pipeline}}
signature:
  inputs: '[{{"type": "string", "required": true}}]'
  outputs: '[{{"type": "{output}", "required": true}}]'
"""


@pytest.mark.parametrize(
    ("task", "output", "expected"),
    [
        ("text2text-generation", "string", "seq2seq"),
        ("summarization", "string", "seq2seq"),
        ("translation_en_to_fr", "string", "seq2seq"),
        ("text-generation", "string", "seq2seq"),  # string in, string out
        ("fill-mask", "double", None),
        ("feature-extraction", "double", None),
    ],
)
def test_transformers_tasks_and_text_signatures_tell_seq2seq(task, output, expected):
    assert infer_task(TRANSFORMERS.format(task=task, output=output)) == expected


@pytest.mark.parametrize(
    "text", ["", "[]", "flavors: 3", "signature: {outputs: 'not json'}", ": : :"]
)
def test_files_that_tell_nothing_are_none(text):
    assert infer_task(text) is None
