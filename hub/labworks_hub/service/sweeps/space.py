"""A sweep's search space: per notebook parameter a type and a range or choices.

Written as a mapping (YAML or JSON), one entry per parameter::

    lr:     {type: log-float, low: 1.0e-4, high: 0.1}
    layers: {type: int, low: 1, high: 4}             # step: 1 unless given
    alpha:  {type: float, low: 0, high: 1, step: 0.25}
    kernel: {type: categorical, choices: [linear, rbf]}

`parse` checks the space on its own (every problem named with its field), `against` checks it
against the notebook's `parameters` cell (a parameter the notebook lacks, a type that
contradicts the cell), and `distributions` turns it into Optuna's distributions. `grid` lists
every point of a finite space, for the grid sampler.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

from ..jobs.parameters import NotebookInfo, fits

TYPES = ("int", "float", "log-float", "categorical")
MAX_GRID_POINTS = 100_000
_CHOICE_TYPES = (bool, int, float, str)


class SpaceError(ValueError):
    """A space that cannot be searched; the message names every field at fault."""


@dataclass(frozen=True)
class Dimension:
    name: str
    type: str  # one of TYPES
    low: float | None = None
    high: float | None = None
    step: float | None = None
    choices: tuple[Any, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        if self.type == "categorical":
            return {"type": self.type, "choices": list(self.choices)}
        out: dict[str, Any] = {"type": self.type, "low": self.low, "high": self.high}
        if self.step is not None:
            out["step"] = self.step
        return out

    def points(self) -> list[Any] | None:
        """Every value of a finite dimension; None for a continuous one."""
        if self.type == "categorical":
            return list(self.choices)
        if self.step is None or self.type == "log-float":
            return None
        assert self.low is not None and self.high is not None
        count = math.floor((self.high - self.low) / self.step + 1e-9) + 1
        values = [self.low + i * self.step for i in range(count)]
        return [int(v) for v in values] if self.type == "int" else [round(v, 12) for v in values]


@dataclass(frozen=True)
class Space:
    dimensions: tuple[Dimension, ...]

    def to_dict(self) -> dict[str, Any]:
        return {d.name: d.to_dict() for d in self.dimensions}

    def grid(self) -> dict[str, list[Any]] | None:
        """The values of each dimension when every one is finite; else None."""
        points = {d.name: d.points() for d in self.dimensions}
        if any(values is None for values in points.values()):
            return None
        return {name: values for name, values in points.items() if values is not None}

    def grid_size(self) -> int | None:
        grid = self.grid()
        return math.prod(len(v) for v in grid.values()) if grid is not None else None

    def has_categorical(self) -> bool:
        return any(d.type == "categorical" for d in self.dimensions)

    def distributions(self) -> dict[str, Any]:
        """Optuna distributions of the dimensions (optuna imported here: it is slow)."""
        from optuna.distributions import (
            CategoricalDistribution,
            FloatDistribution,
            IntDistribution,
        )

        out: dict[str, Any] = {}
        for d in self.dimensions:
            if d.type == "categorical":
                out[d.name] = CategoricalDistribution(d.choices)
            elif d.type == "int":
                assert d.low is not None and d.high is not None
                out[d.name] = IntDistribution(int(d.low), int(d.high), step=int(d.step or 1))
            else:
                assert d.low is not None and d.high is not None
                out[d.name] = FloatDistribution(
                    d.low, d.high, log=d.type == "log-float", step=d.step
                )
        return out

    def against(self, info: NotebookInfo) -> None:
        """Refuse a parameter the notebook does not declare or a type its cell contradicts."""
        if not info.has_parameters_cell:
            raise SpaceError(
                "the notebook has no cell tagged 'parameters': a sweep sets its parameters"
                " there (JupyterLab: Property Inspector > Common Tools > Cell Tags)"
            )
        if not info.inspectable:
            return  # papermill cannot list them in this language: it injects all
        declared = {p.name: p for p in info.parameters}
        problems = []
        for d in self.dimensions:
            parameter = declared.get(d.name)
            if parameter is None:
                known = ", ".join(declared) or "none"
                problems.append(
                    f"space.{d.name}: the notebook has no parameter {d.name!r} (it declares:"
                    f" {known})"
                )
                continue
            values = d.choices if d.type == "categorical" else (d.low, d.high)
            wanted = parameter.type
            if d.type == "float" or d.type == "log-float":
                ok = wanted in ("float", "any")
            else:
                ok = all(fits(wanted, v) for v in values)
            if not ok:
                problems.append(
                    f"space.{d.name}: a {d.type} range does not fit the notebook's parameter"
                    f" {d.name} ({wanted}, default {parameter.default_text})"
                )
        if problems:
            raise SpaceError("; ".join(problems))


def parse(raw: Any) -> Space:
    """A Space from its mapping form; SpaceError naming every problem."""
    if not isinstance(raw, dict) or not raw:
        raise SpaceError(
            "space: give at least one parameter, e.g. {lr: {type: log-float, low: 0.0001,"
            " high: 0.1}}"
        )
    problems: list[str] = []
    dimensions = []
    for name, spec in raw.items():
        try:
            dimensions.append(_dimension(str(name), spec))
        except SpaceError as e:
            problems.append(str(e))
    if problems:
        raise SpaceError("; ".join(problems))
    space = Space(tuple(dimensions))
    size = space.grid_size()
    if size is not None and size > MAX_GRID_POINTS:
        raise SpaceError(f"space: {size} grid points; at most {MAX_GRID_POINTS}")
    return space


def _dimension(name: str, spec: Any) -> Dimension:
    where = f"space.{name}"
    if not name.isidentifier():
        raise SpaceError(f"{where}: not a parameter name")
    if not isinstance(spec, dict):
        raise SpaceError(f"{where}: expected a mapping with a type, e.g. {{type: int, low: 1,"
                         " high: 8}}")  # fmt: skip
    kind = spec.get("type")
    if kind not in TYPES:
        raise SpaceError(f"{where}.type: one of {', '.join(TYPES)}, not {kind!r}")
    allowed = {"type", "choices"} if kind == "categorical" else {"type", "low", "high", "step"}
    extra = sorted(set(spec) - allowed)
    if extra:
        raise SpaceError(f"{where}: unknown field(s) {', '.join(extra)} for a {kind} parameter")
    if kind == "categorical":
        return _categorical(name, where, spec.get("choices"))
    return _range(name, where, kind, spec)


def _categorical(name: str, where: str, choices: Any) -> Dimension:
    if not isinstance(choices, list) or not choices:
        raise SpaceError(f"{where}.choices: a non-empty list")
    bad = [c for c in choices if c is not None and not isinstance(c, _CHOICE_TYPES)]
    if bad:
        raise SpaceError(f"{where}.choices: only strings, numbers, booleans and null")
    if len({repr(c) for c in choices}) != len(choices):
        raise SpaceError(f"{where}.choices: a choice is listed twice")
    return Dimension(name, "categorical", choices=tuple(choices))


def _range(name: str, where: str, kind: str, spec: dict[str, Any]) -> Dimension:
    numbers = {}
    for field in ("low", "high", "step"):
        value = spec.get(field)
        if value is None and field != "step":
            raise SpaceError(f"{where}.{field}: required for a {kind} parameter")
        if value is None:
            continue
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise SpaceError(f"{where}.{field}: a number, not {value!r}")
        if kind == "int" and value != int(value):
            raise SpaceError(f"{where}.{field}: a whole number for an int parameter")
        numbers[field] = int(value) if kind == "int" else float(value)
    low, high, step = numbers["low"], numbers["high"], numbers.get("step")
    if low > high:
        raise SpaceError(f"{where}: low ({low}) is above high ({high})")
    if kind == "log-float" and low <= 0:
        raise SpaceError(f"{where}.low: a log-float range starts above 0")
    if kind == "log-float" and step is not None:
        raise SpaceError(f"{where}.step: a log-float range has no step")
    if step is not None and step <= 0:
        raise SpaceError(f"{where}.step: above 0")
    if kind == "int" and step is None:
        step = 1
    return Dimension(name, kind, low, high, step)


def grid_points(space: Space) -> list[dict[str, Any]]:
    """Every point of a finite space, in a stable order (for tests and `grid_size`)."""
    grid = space.grid()
    if grid is None:
        raise SpaceError("space: a grid needs every parameter finite (categorical, int, or"
                         " float with a step)")  # fmt: skip
    names = list(grid)
    return [dict(zip(names, values, strict=True)) for values in itertools.product(*grid.values())]
