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
- whether a user is an MLflow admin (`sender_is_admin`; no Labworks user is one).

A grant revoked through MLflow's own permission API therefore stops run writes within
`REMEMBER_SECONDS`. Reads, searches and sharing are never remembered.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ..auth import USER_CACHE_SECONDS
from .gate import current_user

REMEMBER_SECONDS = USER_CACHE_SECONDS
MAX_ENTRIES = 100_000


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
