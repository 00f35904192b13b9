"""Notebook parameters: read the papermill `parameters` cell, check the values a job is given.

papermill's translator for the notebook's language reads the names, annotations, defaults and
comments of the cell tagged `parameters`; a parameter's type is its annotation when it has one,
else the type of its literal default (`x = 1` is an int). Values are JSON, checked against
those types before a job is queued, so a typo fails at submit, not an hour into the run.
"""

from __future__ import annotations

import ast
import json
import keyword
import re
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any

import nbformat
from nbformat.warnings import MissingIDFieldWarning

TYPES = ("int", "float", "bool", "str", "list", "dict", "any")
_ANNOTATIONS = {
    "int": "int", "float": "float", "bool": "bool", "str": "str", "list": "list", "dict": "dict",
    "List": "list", "Dict": "dict", "tuple": "list", "Tuple": "list", "Sequence": "list",
    "Mapping": "dict",
}  # fmt: skip
_LITERALS = {bool: "bool", int: "int", float: "float", str: "str", list: "list", dict: "dict",
             tuple: "list"}  # fmt: skip
_JSON_TYPES = {"int": "an integer", "float": "a number", "bool": "true or false",
               "str": "a string", "list": "a list", "dict": "an object"}  # fmt: skip
_KINDS = {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
          list: "a list", dict: "an object", type(None): "null"}  # fmt: skip
_TRUE, _FALSE = {"true", "yes", "on", "1"}, {"false", "no", "off", "0"}
_PORTABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")  # a variable in every kernel language


class ParameterError(ValueError):
    """Parameters that do not fit the notebook; the message names every problem."""


class NotebookError(ValueError):
    """Not a usable notebook; the message is user-facing."""


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str  # one of TYPES
    default: Any  # the default as a JSON value; None when it is not a literal
    default_text: str  # the default as written in the cell
    help: str = ""


@dataclass(frozen=True)
class NotebookInfo:
    kernel_name: str
    language: str
    has_parameters_cell: bool
    inspectable: bool  # False: the language's translator cannot list parameters
    parameters: tuple[Parameter, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "parameters": [asdict(p) for p in self.parameters]}


def read_notebook(content: Any) -> nbformat.NotebookNode:
    """A validated nbformat 4 notebook from JSON text or a parsed object; NotebookError if not."""
    text = content if isinstance(content, str) else json.dumps(content)
    try:
        raw = json.loads(text)
    except ValueError as e:
        raise NotebookError(f"not a Jupyter notebook: the content is not JSON ({e})") from None
    if not isinstance(raw, dict) or raw.get("nbformat") != 4:
        raise NotebookError('not a Jupyter notebook: expected a JSON object with "nbformat": 4')
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MissingIDFieldWarning)
            notebook = nbformat.reads(text, as_version=4)
            nbformat.validate(notebook)
    except nbformat.ValidationError as e:
        where = "/".join(str(p) for p in e.absolute_path)
        at = f" at {where}" if where else ""
        raise NotebookError(f"invalid notebook{at}: {_first_line(e.message)}") from None
    except Exception as e:  # nbformat raises NotJSONError, KeyError, ...
        raise NotebookError(f"not a Jupyter notebook: {_first_line(e)}") from None
    return notebook


def canonical(notebook: nbformat.NotebookNode) -> str:
    return nbformat.writes(notebook)


def inspect_notebook(notebook: nbformat.NotebookNode, kernel_name: str = "") -> NotebookInfo:
    """What the notebook's parameters cell declares (papermill's translators read it)."""
    spec = notebook.metadata.get("kernelspec", {})
    kernel = kernel_name or spec.get("name", "")
    language = spec.get("language") or notebook.metadata.get("language_info", {}).get("name", "")
    cell = next((c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])), None)
    if cell is None:
        return NotebookInfo(kernel, language, has_parameters_cell=False, inspectable=True)
    from papermill.translators import papermill_translators  # slow to import: only here

    try:
        translator = papermill_translators.find_translator(kernel, language)
        found = translator.inspect(cell)
    except (NotImplementedError, ValueError):
        return NotebookInfo(kernel, language, has_parameters_cell=True, inspectable=False)
    parameters = tuple(_parameter(p.name, p.inferred_type_name, p.default, p.help) for p in found)
    return NotebookInfo(kernel, language, True, True, parameters)


def _parameter(name: str, annotation: str, default_text: str, help_text: str) -> Parameter:
    default: Any = None
    literal_type = "any"
    try:
        value = ast.literal_eval(default_text.strip())
        json.dumps(value)
        default = list(value) if isinstance(value, tuple) else value
        literal_type = _LITERALS.get(type(value), "any")
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        pass
    kind = literal_type
    head = re.match(r"\s*(?:typing\.)?([A-Za-z_]\w*)", annotation or "")
    if annotation and annotation != "None":
        kind = _ANNOTATIONS.get(head.group(1), "any") if head else "any"
    return Parameter(name, kind, default, default_text.strip(), help_text.strip())


def check(info: NotebookInfo, given: dict[str, Any]) -> dict[str, Any]:
    """`given` checked against the notebook's parameters; ParameterError lists every problem."""
    if not given:
        return {}
    check_names(info.language, given)
    if not info.has_parameters_cell:
        raise ParameterError(
            f"the notebook has no cell tagged 'parameters', so it cannot take"
            f" {', '.join(sorted(given))}; tag the cell that sets them 'parameters' (JupyterLab:"
            " Property Inspector > Common Tools > Cell Tags)"
        )
    if not info.inspectable:
        return dict(given)  # the language's translator cannot list them: papermill injects all
    declared = {p.name: p for p in info.parameters}
    problems = []
    for name, value in given.items():
        parameter = declared.get(name)
        if parameter is None:
            known = ", ".join(declared) or "none"
            problems.append(f"unknown parameter {name!r} (the notebook declares: {known})")
        elif not fits(parameter.type, value):
            problems.append(
                f"parameter {name!r} must be {_JSON_TYPES[parameter.type]}"
                f" ({parameter.type}, default {parameter.default_text}), not {_describe(value)}"
            )
    if problems:
        raise ParameterError("; ".join(problems))
    return {name: float(v) if declared[name].type == "float" else v for name, v in given.items()}


def check_names(language: str, given: dict[str, Any]) -> None:
    """Refuse a name that is not a variable of the notebook's language: papermill writes each
    as `name = value` into the notebook, so another name would be code (e.g. one with a newline).
    Python takes its identifiers but no keyword; other languages `[A-Za-z_][A-Za-z0-9_]*`."""
    if language.lower() == "python":
        rule = "a Python identifier that is not a keyword"
        bad = [n for n in given if not n.isidentifier() or keyword.iskeyword(n)]
    else:
        rule = "letters A-Z or a-z, digits and '_', not starting with a digit"
        bad = [n for n in given if not _PORTABLE_NAME.fullmatch(n)]
    if bad:
        raise ParameterError(
            "; ".join(f"parameter {n[:80]!r} is not a valid name: use {rule}" for n in bad)
        )


def fits(kind: str, value: Any) -> bool:
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "float":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "str":
        return isinstance(value, str)
    if kind == "list":
        return isinstance(value, list)
    if kind == "dict":
        return isinstance(value, dict)
    return True


def parse_text(kind: str, name: str, text: str) -> Any:
    """A value typed on a command line (`-p name=value`) as the parameter's type wants it."""
    try:
        if kind == "int":
            return int(text)
        if kind == "float":
            return float(text)
        if kind == "bool":
            if text.lower() in _TRUE | _FALSE:
                return text.lower() in _TRUE
            raise ValueError(text)
        if kind == "str":
            return text
        if kind in ("list", "dict"):
            value = json.loads(text)
            if fits(kind, value):
                return value
            raise ValueError(text)
    except ValueError:
        raise ParameterError(
            f"parameter {name!r} must be {_JSON_TYPES[kind]} ({kind}), not {text!r}"
            + (" (write it as JSON)" if kind in ("list", "dict") else "")
        ) from None
    try:  # untyped: JSON when it parses, else the text itself
        return json.loads(text)
    except ValueError:
        return text


def _describe(value: Any) -> str:
    kind = _KINDS.get(type(value), "a value")
    return f"{kind} ({json.dumps(value)[:60]})"


def _first_line(error: object) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
