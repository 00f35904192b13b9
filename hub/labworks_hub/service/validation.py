"""What a user may type where the platform keeps or shows it: paths, names, free text.

One place for the rules that routers (as pydantic `Annotated` types) and the store (as plain
functions raising `ValueError`) both apply; no FastAPI here. A path a user gives us has no NUL,
no C0/C1 control character, no Unicode bidi control (text that reads one way and is stored
another), no empty or whitespace-only segment and no segment with leading or trailing
whitespace; a path inside a root (a dataset's files, a gallery entry's name) is also relative,
without `.` or `..` segments.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, Field, ValidationError

from .access import Invalid, Refused

M = TypeVar("M", bound=BaseModel)

MAX_OFFSET = 2**62  # far past any listing, log or page; a larger one overflows the database
MAX_PATH_CHARS = 1024
MAX_NAME_CHARS = 255
_CONTROL = "\x00-\x1f\x7f-\x9f"
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_UNSAFE = re.compile(f"[{_CONTROL}{_BIDI}]")
_NUL = re.compile("\x00")


def _unsafe(text: str, pattern: re.Pattern[str]) -> str:
    """What is wrong with `text` under `pattern`: '' when nothing, else the first character."""
    found = pattern.search(text)
    if found is None:
        return ""
    return f"it holds the character U+{ord(found.group()):04X} (no control or bidi characters)"


def path_problem(path: str, *, within_root: bool = True) -> str:
    """Why `path` is not a path a user may give us; '' when it is.

    Args:
        path: a POSIX path as the user sent it.
        within_root: the path names something inside a root of ours, so it must be relative
            and free of `.` and `..` segments; otherwise (a path the user shows us, such as
            where a notebook was on their machine) it may be absolute or climb.
    """
    if not path or len(path) > MAX_PATH_CHARS:
        return f"give 1-{MAX_PATH_CHARS} characters"
    unsafe = _unsafe(path, _UNSAFE)
    if unsafe:
        return unsafe
    if "\\" in path:
        return "use '/' between folders, not a backslash"
    if within_root and path.startswith("/"):
        return "it must be relative (no leading '/')"
    segments = path.split("/")
    if path.startswith("/"):
        segments = segments[1:]
    for segment in segments:
        if not segment.strip():
            return "no empty or blank parts (between '/')"
        if segment != segment.strip():
            return f"no spaces at the start or end of a part ({segment!r})"
        if within_root and segment in (".", ".."):
            return "no '.' or '..' parts"
    return ""


def check_path(path: str, *, within_root: bool = True) -> str:
    """`path` unchanged, or ValueError saying what is wrong with it (see `path_problem`)."""
    problem = path_problem(path, within_root=within_root)
    if problem:
        raise ValueError(f"invalid path {path!r}: {problem}")
    return path


def check_name(name: str, what: str = "name") -> str:
    """A name shown to people (a job's), or another one-line string: no control or bidi
    characters."""
    problem = _unsafe(name, _UNSAFE)
    if problem:
        raise ValueError(f"invalid {what} {name!r}: {problem}")
    return name


def check_text(text: str) -> str:
    """Free text (messages, descriptions) may hold any character but NUL, which PostgreSQL
    cannot store (right-to-left text needs its bidi marks)."""
    problem = _unsafe(text, _NUL)
    if problem:
        raise ValueError(f"invalid text: {problem}")
    return text


def parse_body(model: type[M], raw: bytes, refusal: type[Refused] = Invalid) -> M:
    """`raw` (a JSON body) as `model`, or `refusal` saying what is wrong (`error_message`), for
    routes that read their body themselves."""
    try:
        return model.model_validate_json(raw)
    except ValidationError as e:
        raise refusal(error_message(e.errors())) from None


def error_message(errors: Sequence[Mapping[str, Any]]) -> str:
    """What pydantic (or FastAPI's request validation) found wrong, for a person: each problem
    as `where: what`, joined by '; '. The one validation message of the API."""
    parts = []
    for err in errors:
        if err.get("type") == "json_invalid":
            parts.append(f"the request body is not JSON: {err.get('msg')}")
            continue
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        parts.append(f"{where}: {err.get('msg')}" if where else str(err.get("msg")))
    return "; ".join(parts) or "invalid request"


def _shown_path(path: str) -> str:
    return check_path(path, within_root=False) if path else path


ShownPath = Annotated[str, Field(max_length=MAX_PATH_CHARS), AfterValidator(_shown_path)]
"""Where something was on the user's side (a job's notebook), absolute or not; '' for none."""

Name = Annotated[str, Field(max_length=MAX_NAME_CHARS), AfterValidator(check_name)]
"""A name people see in listings."""

Text = Annotated[str, AfterValidator(check_text)]
"""Free text: a message, a description."""
