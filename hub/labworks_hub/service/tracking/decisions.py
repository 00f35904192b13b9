"""Remembered authorization decisions on the hot path of logging.

A training loop calls `log_metric` thousands of times on one run, and MLflow's auth app decides
each call afresh: it reads the run (to find its experiment), the caller's grants and the caller
(admin or not), 3 to 5 queries per call, which halves the rate at which a client can log.
The decisions it makes there do not change from one call to the next, so for a short while
(`REMEMBER_SECONDS`, the time the service trusts the hub's answers everywhere) this module
remembers:

- that a user may update a run (MLflow's `validate_can_log_metric`, `validate_can_log_batch`
  and `validate_can_update_run`: log metrics, params, tags, update the run), per user and run;
  only an allow is remembered, and only for requests that name no logged model (a metric
  written to a logged model is decided afresh every time);
- whether a user is an MLflow admin (`sender_is_admin`; hub admins are, store/tracking.py).

A grant revoked through MLflow's own permission API therefore stops run writes within
`REMEMBER_SECONDS`. Reads, searches and sharing are never remembered.

MLflow's auth app also runs a `BaseHTTPMiddleware` on every request for the few routes FastAPI
serves itself; for a Flask route it only passes the request on, yet costs a task and two
streams per call. `flask_routes_skip_fastapi_checks` calls the app directly there.

It also tells a refused reader from a stranger (`tell_readers_apart`): when MLflow refuses a
write, the read check of the same thing is asked of the same request, so the gate can answer
403 to someone who may read it and the one "not there" 404 to everyone else.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from ..settings import USER_CACHE_SECONDS
from .identity import current_user, refused_a_reader

REMEMBER_SECONDS = USER_CACHE_SECONDS
MAX_ENTRIES = 100_000
# A write check `validate_can_<update|delete|manage>_<thing>` pairs with the read check
# `validate_can_read_<thing>`; these writes name their thing otherwise.
_WRITE_CHECK = re.compile(r"^(_?validate_can_)(?:update|delete|manage)_(\w+)$")
_RUN, _EXPERIMENT = "validate_can_read_run", "validate_can_read_experiment"
_MODEL = "_validate_can_read_registered_model_or_prompt"
READ_CHECK_OF = {
    "validate_can_log_metric": _RUN,
    "validate_can_log_batch": _RUN,
    "validate_can_log_inputs": _RUN,
    "validate_can_log_outputs": _RUN,
    "validate_can_create_run": _EXPERIMENT,
    "validate_can_create_logged_model": _EXPERIMENT,
    "validate_can_create_model_version": _MODEL,
    "validate_can_set_model_or_prompt_version_alias": _MODEL,
    "validate_can_delete_model_or_prompt_version_alias": _MODEL,
    "validate_can_delete_registered_model_or_prompt_cascade": _MODEL,
}


class Remembered:
    """(key -> expiry) of allow decisions; thread-safe as far as dict operations are."""

    def __init__(self) -> None:
        self._until: dict[tuple, float] = {}

    def allowed(self, key: tuple) -> bool:
        return self._until.get(key, 0) > time.monotonic()

    def allow(self, key: tuple) -> None:
        now = time.monotonic()
        if len(self._until) >= MAX_ENTRIES:
            self._until = {k: v for k, v in self._until.items() if v > now}
        self._until[key] = now + REMEMBER_SECONDS


def remember_decisions(auth: Any) -> None:
    """Wrap the run-update validators and `sender_is_admin` of `mlflow.server.auth`.

    Raises:
        RuntimeError: this MLflow does not have the validators this module knows (a newer
            version): better no start than a check silently skipped.
    """
    from mlflow.protos.service_pb2 import LogBatch, LogMetric
    from mlflow.server.handlers import _get_request_message

    def no_models() -> bool:
        return True

    def metric_names_no_model() -> bool:
        return not _get_request_message(LogMetric()).model_id

    def batch_names_no_model() -> bool:
        return not any(m.model_id for m in _get_request_message(LogBatch()).metrics)

    runs = Remembered()
    conditions: dict[Callable[[], bool], Callable[[], bool]] = {
        auth.validate_can_update_run: no_models,
        auth.validate_can_log_metric: metric_names_no_model,
        auth.validate_can_log_batch: batch_names_no_model,
    }
    wrapped = 0
    for route, validator in list(auth.BEFORE_REQUEST_VALIDATORS.items()):
        if validator in conditions:
            auth.BEFORE_REQUEST_VALIDATORS[route] = _remembering(
                validator, conditions[validator], runs, lambda: auth._get_request_param("run_id")
            )
            wrapped += 1
    if wrapped < len(conditions):
        raise RuntimeError("mlflow.server.auth has no run-update validators where expected")
    auth.sender_is_admin = _remembering_admins(auth.sender_is_admin)


def _remembering(
    validator: Callable[[], bool],
    cacheable: Callable[[], bool],
    runs: Remembered,
    run_id: Callable[[], str],
) -> Callable[[], bool]:
    def check() -> bool:
        user = current_user()
        if user is None or not cacheable():
            return validator()
        key = (user, run_id())
        if runs.allowed(key):
            return True
        allowed = validator()
        if allowed:
            runs.allow(key)
        return allowed

    check.__name__ = validator.__name__
    return check


def _remembering_admins(sender_is_admin: Callable[[], bool]) -> Callable[[], bool]:
    admins: dict[str, tuple[float, bool]] = {}

    def check() -> bool:
        user = current_user()
        if user is None:
            return sender_is_admin()
        now = time.monotonic()
        known = admins.get(user)
        if known is None or known[0] <= now:
            if len(admins) >= MAX_ENTRIES:
                admins.clear()
            known = admins[user] = (now + REMEMBER_SECONDS, sender_is_admin())
        return known[1]

    return check


FASTAPI_CHECKS = "fastapi_permission_middleware"  # MLflow's, in auth.create_app


def flask_routes_skip_fastapi_checks(app: Any, auth: Any) -> None:
    """Let requests for Flask routes bypass MLflow's FastAPI permission middleware (whose
    checks are for routes FastAPI serves itself; Flask's `before_request` decides the rest).
    Call before the app serves its first request.

    Raises:
        RuntimeError: this MLflow does not have the middleware or helpers this function knows.
    """
    native_routes = auth._native_fastapi_routes(app)
    found = [
        (index, middleware.kwargs["dispatch"])
        for index, middleware in enumerate(app.user_middleware)
        if middleware.cls is BaseHTTPMiddleware
        and getattr(middleware.kwargs.get("dispatch"), "__name__", "") == FASTAPI_CHECKS
    ]
    if len(found) != 1:
        raise RuntimeError("mlflow.server.auth has no FastAPI permission middleware")
    index, dispatch = found[0]

    def only_fastapi_routes(path: str, method: str, scope: Scope) -> bool:
        """Whether MLflow's middleware has anything to check: an unprotected path or a Flask
        route without a FastAPI validator is passed on untouched there."""
        if auth.is_unprotected_route(path):
            return False
        if auth._find_fastapi_validator(path, method) is not None:
            return True
        return auth._scope_matches_native_route(native_routes, scope)

    def route_path(scope: Scope) -> str:
        return auth.get_routed_asgi_path(Request(scope))

    app.user_middleware[index] = Middleware(
        FastAPIRoutesChecked, dispatch=dispatch, needs_check=only_fastapi_routes,
        route_path=route_path,
    )  # fmt: skip


class FastAPIRoutesChecked:
    """MLflow's permission middleware, asked only where it checks something."""

    def __init__(
        self,
        app: ASGIApp,
        dispatch: Any,
        needs_check: Callable[[str, str, Scope], bool],
        route_path: Callable[[Scope], str],
    ) -> None:
        self.app = app
        self.checked = BaseHTTPMiddleware(app, dispatch=dispatch)
        self.needs_check = needs_check
        self.route_path = route_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self.needs_check(
            self.route_path(scope), scope["method"], scope
        ):
            await self.app(scope, receive, send)
            return
        await self.checked(scope, receive, send)


def tell_readers_apart(auth: Any) -> None:
    """Wrap MLflow's write checks (every `*BEFORE_REQUEST_VALIDATORS` table, and the artifact
    proxy's Flask and FastAPI checks) so that a refusal of something the caller may read
    calls `identity.refused_a_reader()`. The read check runs only after a refusal, on the same
    request; a thing with no read check stays "not there".

    Raises:
        RuntimeError: this MLflow does not have the tables or checks this function knows.
    """
    tables = [getattr(auth, n) for n in dir(auth) if n.endswith("BEFORE_REQUEST_VALIDATORS")]
    fastapi_check = getattr(auth, "_authorize_fastapi_artifact_proxy", None)
    flask_check = getattr(auth, "_authorize_flask_artifact_proxy", None)
    if not tables or fastapi_check is None or flask_check is None:
        raise RuntimeError("mlflow.server.auth has no validators where expected")
    for table in tables:
        for route, validator in list(table.items()):
            name = getattr(validator, "__name__", "")
            found = _WRITE_CHECK.match(name)
            read_name = READ_CHECK_OF.get(name) or (found and f"{found[1]}read_{found[2]}")
            if read_name and (read := getattr(auth, read_name, None)) is not None:
                table[route] = _noting_readers(validator, read)

    def fastapi(path: str, username: str, query_path: str | None, action: str) -> bool:
        return _allowed_or_noted(
            lambda: fastapi_check(path, username, query_path, action),
            None if action == "read" else lambda: fastapi_check(path, username, query_path, "read"),
        )

    def flask(action: str) -> bool:
        return _allowed_or_noted(
            lambda: flask_check(action), None if action == "read" else lambda: flask_check("read")
        )

    auth._authorize_fastapi_artifact_proxy = fastapi
    auth._authorize_flask_artifact_proxy = flask


def _noting_readers(write: Callable[[], bool], read: Callable[[], bool]) -> Callable[[], bool]:
    def check() -> bool:
        return _allowed_or_noted(write, read)

    check.__name__ = write.__name__
    return check


def _allowed_or_noted(check: Callable[[], bool], read: Callable[[], bool] | None) -> bool:
    if check():
        return True
    try:
        readable = read is not None and read()
    except Exception:  # a read check that cannot answer leaves the refusal as it was
        readable = False
    if readable:
        refused_a_reader()
    return False
