"""The parameters cell as papermill reads it, and the type checks a job's values go through."""

from __future__ import annotations

import re

import pytest

from labworks_hub.service.jobs import parameters as p

from .conftest import notebook

CELL = """\
epochs = 10  # passes over the data
rate: float = 1  # annotated: a float even though 1 is an int
name = 'run'
flags = [1, 2]
options = {'a': 1}
verbose = True
anything = None
seed = int('4')
"""


def info(nb: dict | None = None) -> p.NotebookInfo:
    return p.inspect_notebook(p.read_notebook(nb or notebook("print(epochs)", parameters=CELL)))


def test_inspection_reads_names_types_defaults_and_comments():
    found = {x.name: x for x in info().parameters}
    assert [(x.name, x.type, x.default) for x in found.values()] == [
        ("epochs", "int", 10),
        ("rate", "float", 1),
        ("name", "str", "run"),
        ("flags", "list", [1, 2]),
        ("options", "dict", {"a": 1}),
        ("verbose", "bool", True),
        ("anything", "any", None),
        ("seed", "any", None),
    ]
    assert found["epochs"].help == "passes over the data"
    assert found["seed"].default_text == "int('4')"
    summary = info()
    assert (summary.kernel_name, summary.language, summary.has_parameters_cell) == (
        "python3",
        "python",
        True,
    )


def test_good_values_pass_and_ints_become_floats_where_floats_are_declared():
    checked = p.check(info(), {"epochs": 3, "rate": 2, "flags": [], "anything": {"x": [1]}})
    assert checked == {"epochs": 3, "rate": 2.0, "flags": [], "anything": {"x": [1]}}
    assert isinstance(checked["rate"], float)


def test_every_wrong_value_is_named_in_one_message():
    with pytest.raises(p.ParameterError) as e:
        p.check(info(), {"epochs": "3", "verbose": 1, "epoch": 2, "name": None})
    message = str(e.value)
    assert "'epochs' must be an integer (int, default 10), not a string (\"3\")" in message
    assert "'verbose' must be true or false (bool, default True), not an integer" in message
    assert "unknown parameter 'epoch' (the notebook declares: epochs, rate, name," in message
    assert "parameter 'name' must be a string (str, default 'run'), not null" in message


def test_a_bool_is_not_an_int_and_not_a_float():
    with pytest.raises(p.ParameterError, match="'epochs' must be an integer"):
        p.check(info(), {"epochs": True})
    with pytest.raises(p.ParameterError, match="'rate' must be a number"):
        p.check(info(), {"rate": False})


def test_parameters_given_to_a_notebook_without_a_parameters_cell_are_refused():
    plain = info(notebook("x = 1"))
    assert plain.has_parameters_cell is False and plain.parameters == ()
    with pytest.raises(p.ParameterError, match=r"no cell tagged 'parameters'.*cannot take x"):
        p.check(plain, {"x": 2})
    assert p.check(plain, {}) == {}


def test_a_language_papermill_cannot_inspect_takes_any_values():
    nb = notebook("x", parameters="x <- 1", kernel="ir")
    nb["metadata"]["kernelspec"]["language"] = "R"
    nb["metadata"]["language_info"] = {"name": "R"}
    found = p.inspect_notebook(p.read_notebook(nb))
    if found.inspectable:  # papermill learned to read R parameter cells
        assert [x.name for x in found.parameters] == ["x"]
    else:
        assert p.check(found, {"x": 2, "y": "z"}) == {"x": 2, "y": "z"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "not a Jupyter notebook: the content is not JSON"),
        ({"cells": []}, 'expected a JSON object with "nbformat": 4'),
        ({"nbformat": 4, "nbformat_minor": 5, "metadata": {},
          "cells": [{"cell_type": "markdown", "id": "a", "metadata": {}, "source": 5}]},
         "invalid notebook at cells/0"),
    ],
)  # fmt: skip
def test_what_is_not_a_notebook_is_refused_clearly(content, message):
    with pytest.raises(p.NotebookError, match=message):
        p.read_notebook(content)


@pytest.mark.parametrize(
    ("kind", "text", "value"),
    [
        ("int", "7", 7),
        ("float", "0.5", 0.5),
        ("bool", "yes", True),
        ("bool", "False", False),
        ("str", "7", "7"),
        ("list", "[64, 32]", [64, 32]),
        ("dict", '{"a": 1}', {"a": 1}),
        ("any", "[1]", [1]),
        ("any", "hello", "hello"),
    ],
)
def test_command_line_text_becomes_the_declared_type(kind, text, value):
    assert p.parse_text(kind, "x", text) == value


@pytest.mark.parametrize(
    ("kind", "text", "message"),
    [
        ("int", "ten", "parameter 'x' must be an integer (int), not 'ten'"),
        ("bool", "maybe", "must be true or false"),
        ("list", "{}", "must be a list (list), not '{}' (write it as JSON)"),
    ],
)
def test_command_line_text_of_the_wrong_type_is_refused(kind, text, message):
    with pytest.raises(p.ParameterError, match=message.replace("(", r"\(").replace(")", r"\)")):
        p.parse_text(kind, "x", text)


@pytest.mark.parametrize(
    ("name", "kernel", "language"),
    [
        ("x\nimport os", "python3", "python"),  # papermill would inject the second line as code
        ("class", "python3", "python"),
        ("1x", "python3", "python"),
        ("x\nsystem('id')", "ir", "R"),  # no inspector for R: every name used to pass
        ("x; rm(y)", "ir", "R"),
        ("é", "ir", "R"),
    ],
)
def test_a_parameter_name_must_be_a_variable_of_the_notebooks_language(name, kernel, language):
    nb = notebook("x", parameters="x = 1", kernel=kernel)
    nb["metadata"]["kernelspec"]["language"] = language
    found = p.inspect_notebook(p.read_notebook(nb))
    with pytest.raises(p.ParameterError, match=f"parameter {re.escape(repr(name))} is not a valid"):
        p.check(found, {"x": 2, name: 1})


def test_names_of_the_language_pass_for_every_kernel():
    r = notebook("x", parameters="x <- 1", kernel="ir")
    r["metadata"]["kernelspec"]["language"] = "R"
    found = p.inspect_notebook(p.read_notebook(r))
    if not found.inspectable:
        assert p.check(found, {"x": 1, "_y2": 2}) == {"x": 1, "_y2": 2}
    python = info(notebook("print(x)", parameters="é = 1\nx = 2"))
    assert p.check(python, {"é": 3, "x": 4}) == {"é": 3, "x": 4}
