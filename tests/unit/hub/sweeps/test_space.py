"""The search space: parsing, its problems named by field, and the check against a notebook."""

from __future__ import annotations

import nbformat
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from labworks_hub.service.jobs.parameters import inspect_notebook
from labworks_hub.service.sweeps.operations import check_sampler
from labworks_hub.service.sweeps.space import SpaceError, grid_points, parse

SPACE = {
    "lr": {"type": "log-float", "low": 1e-4, "high": 0.1},
    "layers": {"type": "int", "low": 1, "high": 4},
    "kernel": {"type": "categorical", "choices": ["linear", "rbf"]},
}


def notebook(source: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["tags"] = ["parameters"]
    nb.cells.append(cell)
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "P"}
    return nb


def test_a_space_becomes_optuna_distributions():
    space = parse(SPACE)
    found = space.distributions()
    assert found["lr"] == FloatDistribution(1e-4, 0.1, log=True)
    assert found["layers"] == IntDistribution(1, 4, step=1)
    assert found["kernel"] == CategoricalDistribution(("linear", "rbf"))
    assert parse(space.to_dict()) == space  # what the store keeps reads back the same


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, "give at least one parameter"),
        ({"x": {"type": "normal", "low": 0, "high": 1}}, "space.x.type: one of"),
        ({"x": {"type": "float", "low": 2, "high": 1}}, "space.x: low (2.0) is above high"),
        ({"x": {"type": "float", "high": 1}}, "space.x.low: required"),
        ({"x": {"type": "log-float", "low": 0, "high": 1}}, "space.x.low: a log-float range"),
        ({"x": {"type": "int", "low": 0.5, "high": 3}}, "space.x.low: a whole number"),
        ({"x": {"type": "float", "low": "a", "high": 3}}, "space.x.low: a number"),
        ({"x": {"type": "float", "low": 0, "high": 1, "step": 0}}, "space.x.step: above 0"),
        ({"x": {"type": "categorical", "choices": []}}, "space.x.choices: a non-empty list"),
        ({"x": {"type": "categorical", "choices": [[1]]}}, "only strings, numbers"),
        ({"x": {"type": "categorical", "choices": ["a", "a"]}}, "listed twice"),
        ({"x": {"type": "int", "low": 0, "high": 1, "choices": [1]}}, "unknown field(s) choices"),
        ({"x-y": {"type": "int", "low": 0, "high": 1}}, "space.x-y: not a parameter name"),
        ({"x": 3}, "space.x: expected a mapping"),
    ],
)
def test_bad_spaces_name_the_field(raw, message):
    with pytest.raises(SpaceError) as caught:
        parse(raw)
    assert message in str(caught.value)


def test_every_problem_is_named_at_once():
    with pytest.raises(SpaceError) as caught:
        parse({"a": {"type": "int", "low": 3, "high": 1}, "b": {"type": "nope"}})
    assert "space.a" in str(caught.value) and "space.b" in str(caught.value)


def test_grid_lists_every_point_of_a_finite_space():
    space = parse(
        {
            "k": {"type": "categorical", "choices": ["a", "b", "c"]},
            "n": {"type": "int", "low": 1, "high": 5, "step": 2},
            "f": {"type": "float", "low": 0, "high": 1, "step": 0.5},
        }
    )
    points = grid_points(space)
    assert space.grid_size() == len(points) == 3 * 3 * 3
    assert {p["n"] for p in points} == {1, 3, 5}
    assert {p["f"] for p in points} == {0.0, 0.5, 1.0}
    assert len({tuple(sorted(p.items())) for p in points}) == len(points)


def test_samplers_refuse_spaces_they_cannot_search():
    continuous = parse({"x": {"type": "float", "low": 0, "high": 1}})
    with pytest.raises(SpaceError, match="grid needs every parameter finite"):
        check_sampler("grid", continuous)
    with pytest.raises(SpaceError, match="cmaes searches numbers only"):
        check_sampler("cmaes", parse(SPACE))
    check_sampler("tpe", parse(SPACE))
    check_sampler("cmaes", continuous)


def test_the_space_is_checked_against_the_parameters_cell():
    info = inspect_notebook(notebook("lr = 0.01\nlayers = 2\nkernel = 'linear'\n"))
    parse(SPACE).against(info)
    with pytest.raises(SpaceError) as caught:
        parse({**SPACE, "dropout": {"type": "float", "low": 0, "high": 0.5}}).against(info)
    assert "no parameter 'dropout'" in str(caught.value)
    assert "lr, layers, kernel" in str(caught.value)


def test_a_type_that_contradicts_the_cell_is_refused():
    info = inspect_notebook(notebook("layers = 2\nname = 'a'\n"))
    with pytest.raises(SpaceError, match=r"space\.layers: a float range does not fit"):
        parse({"layers": {"type": "float", "low": 0, "high": 1}}).against(info)
    with pytest.raises(SpaceError, match=r"space\.name: a categorical range does not fit"):
        parse({"name": {"type": "categorical", "choices": [1, 2]}}).against(info)
    parse({"name": {"type": "categorical", "choices": ["a", "b"]}}).against(info)


def test_a_notebook_without_a_parameters_cell_is_refused():
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "P"}
    with pytest.raises(SpaceError, match="no cell tagged 'parameters'"):
        parse(SPACE).against(inspect_notebook(nb))
