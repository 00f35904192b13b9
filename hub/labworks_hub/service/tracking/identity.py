"""Who is asking the tracking server, for the request being served (no FastAPI here).

The gate (gate.py) authenticates a hub token and serves the request to MLflow inside
`serving(user)`; MLflow's auth app, the remembered decisions (decisions.py) and model-file
sharing (model_files.py) read the user back with `current_user()`. `authorization()` is MLflow's
`authorization_function` (basic_auth.ini). `mlflow_error` writes a refusal as MLflow's clients
read it: the platform's code (`error`) and MLflow's (`error_code`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol

from ..access import Unauthenticated

_user: ContextVar[str | None] = ContextVar("labworks_tracking_user", default=None)
# Per request: set (mutated in MLflow's threads) when a refused write was to a readable thing.
_refused_reader: ContextVar[list[bool] | None] = ContextVar("labworks_refused", default=None)

# MLflow's error codes for our answers, so the stock client reports them by name.
MLFLOW_CODES = {
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "RESOURCE_DOES_NOT_EXIST",
    503: "TEMPORARILY_UNAVAILABLE",
}


class Refusal(Protocol):
    """What the platform's refusals have: access.Refused kinds and errors.APIError."""

    status: int
    code: str
    message: str


def mlflow_error(refusal: Refusal) -> bytes:
    """The JSON body of a refusal for MLflow's clients."""
    body = {
        "error": refusal.code,
        "error_code": MLFLOW_CODES.get(refusal.status, "INTERNAL_ERROR"),
        "message": refusal.message,
    }
    return json.dumps(body).encode()


def current_user() -> str | None:
    """The hub user of the request being served, as the gate authenticated it."""
    return _user.get()


@contextmanager
def serving(user: str) -> Iterator[list[bool]]:
    """Serve one request as `user`; yields the list `refused_a_reader()` appends to."""
    noted: list[bool] = []
    reset_user, reset_noted = _user.set(user), _refused_reader.set(noted)
    try:
        yield noted
    finally:
        _user.reset(reset_user)
        _refused_reader.reset(reset_noted)


def refused_a_reader() -> None:
    """Mark the request being served: MLflow refused a write to something the caller may
    read, so its "Permission denied" is answered 403 READ_ONLY rather than 404."""
    noted = _refused_reader.get()
    if noted is not None:
        noted.append(True)


def authorization() -> Any:
    """MLflow's `authorization_function` (basic_auth.ini): the user the gate authenticated
    from this request's hub token; a 401 response when there is none."""
    from flask import Response
    from werkzeug.datastructures import Authorization

    name = _user.get()
    if name is None:
        refusal = Unauthenticated("authentication required: send your hub API token")
        return Response(mlflow_error(refusal), status=401, content_type="application/json")
    return Authorization("bearer", {"username": name})
