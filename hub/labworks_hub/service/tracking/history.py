"""The registry's changelog, for changes made through the tracking server (the stock `mlflow`
client, MLflow's REST API): a version registered, an alias set, moved or deleted, each with who
did it, written to the platform store (store/model_events.py) once MLflow has done it.

`follow_registry` adds Flask hooks to MLflow's app: before an alias change it notes where the
alias pointed; after a successful one it records the move. A model's create, rename and delete
take its history along (a new model of an old name starts with none). A change that fails is
not recorded; a record that cannot be written is logged and the change stands.
"""

from __future__ import annotations

import logging
from typing import Any

from ..serving.operations import TASK_TAG
from ..store import model_events as events
from ..store.db import Store
from .identity import current_user

log = logging.getLogger("labworks.service")
ALIAS = "/registered-models/alias"
VERSION_CREATE = "/model-versions/create"
LIFECYCLE = {
    "/registered-models/create": "create",
    "/registered-models/rename": "rename",
    "/registered-models/delete": "delete",
}
BEFORE = "labworks_alias_before"  # flask.g: where the alias pointed before the change


def follow_registry(flask_app: Any, platform: Store) -> None:
    """Record registry changes made through MLflow's `flask_app` in `platform`'s store."""
    flask_app.before_request(_note_alias)
    flask_app.after_request(lambda response: _record(platform, response))


def _params() -> dict[str, Any]:
    from flask import request

    body = request.get_json(force=True, silent=True)
    return body if isinstance(body, dict) else dict(request.args)


def _note_alias() -> None:
    from flask import g, request
    from mlflow.server.handlers import _get_model_registry_store

    if request.method not in ("POST", "DELETE") or not request.path.endswith(ALIAS):
        return
    params = _params()
    name, alias = params.get("name"), params.get("alias")
    if isinstance(name, str) and isinstance(alias, str):
        from ..serving.versions import alias_version

        setattr(g, BEFORE, alias_version(_get_model_registry_store(), name, alias))


def _lifecycle(path: str) -> str | None:
    return next((action for end, action in LIFECYCLE.items() if path.endswith(end)), None)


def _record(platform: Store, response: Any) -> Any:
    from flask import g, request

    path, user = request.path, current_user()
    watched = path.endswith((ALIAS, VERSION_CREATE, *LIFECYCLE))
    if not watched or user is None or response.status_code != 200 or request.method == "GET":
        return response  # the hot path (logging metrics) ends here, reading nothing
    params = _params()
    name = params.get("name")
    try:
        with platform.session() as session:
            if path.endswith(ALIAS) and isinstance(name, str):
                alias = str(params.get("alias") or "")
                before = getattr(g, BEFORE, None)
                if request.method == "DELETE" and before is not None:
                    events.record(session, name, events.ALIAS_DELETE, user, alias=alias,
                                  from_version=before)  # fmt: skip
                elif request.method == "POST":
                    to = str(params.get("version") or "")
                    if before != to:
                        events.record(session, name, events.ALIAS_SET, user, alias=alias,
                                      from_version=before, to_version=to)  # fmt: skip
            elif path.endswith(VERSION_CREATE):
                version = (response.get_json(silent=True) or {}).get("model_version") or {}
                tags = {t.get("key"): t.get("value") for t in version.get("tags") or []}
                detail = {"source": str(version.get("source") or "")}
                if task := tags.get(TASK_TAG):
                    detail["task"] = task
                events.record(session, str(version.get("name")), events.REGISTER, user,
                              to_version=str(version.get("version")), detail=detail)  # fmt: skip
            elif (action := _lifecycle(path)) and isinstance(name, str) and name:
                events.follow_model(session, action, name, str(params.get("new_name") or ""))
    except Exception as e:  # the change stands; only its record is missing
        log.warning("cannot record a change to model %r: %s", name, e)
    return response
