"""Every route of the platform service answers each kind of caller as its line in DECISIONS says,
on the real platform: the owner of one of each resource (shared with the owner's group where the
domain shares), a member of that group, another user, an admin, no token, an expired token, and
the token another user's running job holds.

The routes come from the app itself (hidden ones included) and from the live OpenAPI schema; a
route without a line in DECISIONS fails, so no route ships without an authorization decision.
The MLflow routes mounted at /services/labworks/mlflow have their own table
(tests/integration/test_tracking_routes.py)."""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

import httpx
import nbformat
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts

from labworks_hub.service.app import create_app
from labworks_hub.service.settings import ServiceSettings
from tests.platform import Platform, labworks

pytestmark = pytest.mark.e2e
PREFIX = "/services/labworks"  # DECISIONS name paths below it
TRACKING = "/mlflow/api/2.0/mlflow"
OWNER, MEMBER, OTHER, ADMIN, TEAM = "azown", "azmem", "azoth", "azadm", "azteam"
# The owner goes last: a DELETE of theirs removes what the others were asked about.
ROLES = ("anonymous", "expired", "job", "other", "admin", "member", "owner")
USERS = {"owner": OWNER, "member": MEMBER, "other": OTHER, "admin": ADMIN}
ENDED = ("succeeded", "failed", "cancelled", "timed_out")
RARE_CRON = "0 0 29 2 *"  # Feb 29: never fires while the tests run

Route = tuple[str, str]  # (method, path below PREFIX with its {placeholders})
Answer = Literal["allowed", 401, 403, 404]
A: Answer = "allowed"  # 2xx, 3xx, or a refusal about the input (INPUT_REFUSALS)
INPUT_REFUSALS = {400, 409, 413, 422}
ERROR_CODES = {401: "unauthorized", 403: "forbidden", 404: "not_found"}
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


@dataclass(frozen=True)
class Decision:
    """What a route answers each role. `job` is a token of the other user's running job;
    no token and an expired one get 401 unless the route is public."""

    text: str
    owner: Answer
    member: Answer
    other: Answer
    admin: Answer
    job: Answer
    anonymous: Answer = 401
    expired: Answer = 401


PUBLIC = Decision("anyone, no token needed", A, A, A, A, A, anonymous=A, expired=A)
ANY_USER = Decision("any user, on what is theirs; job tokens too", A, A, A, A, A)
ADMINS = Decision("admins (and services) only", 403, 403, 403, A, 403)
READ_SHARED = Decision("owner, group member (read); others see nothing", A, A, 404, 404, 404)
OWNER_WRITES = Decision("owner; a member who reads it is refused; others see nothing",
                        A, 403, 404, 404, 404)  # fmt: skip
OWN_NAME = Decision("the user the name is under, whether it exists or not", A, 403, 403, 403, 403)
IN_GROUP = Decision("members of the group the body names", A, A, 403, 403, 403)
OWN_WORKSPACE = Decision("users, on their own workspace (the hub decides); not job tokens",
                         A, A, A, A, 403)  # fmt: skip
OWN_SHARE = Decision("the user whose workspace is shared; not job tokens", A, 404, 404, 404, 403)
REGISTRARS = Decision("admins (folders); the registrars group registers s3 and postgres",
                      403, 403, 403, A, 403)  # fmt: skip
MANAGES = Decision("the source's owner and admins; others 403 naming the owner",
                   A, 403, 403, A, 403)  # fmt: skip
READERS = Decision("the owner, admins and grantees (the group reads); others 403 naming the"
                   " owner", A, A, 403, A, 403)  # fmt: skip
WRITERS = Decision("the owner, admins and write grants; readers and others 403",
                   A, 403, 403, A, 403)  # fmt: skip
# Domains whose catalog every user lists: a refusal names the owner and how to ask (issue 19),
# so another user's thing and one that is not there need not answer alike.
PUBLIC_CATALOGS = {"sources"}

DECISIONS: dict[Route, Decision] = {
    ("GET", "/"): PUBLIC,  # a redirect to the API docs
    ("GET", "/oauth_callback"): PUBLIC,  # refuses a login without its state cookie
    ("GET", "/api/v1/health"): PUBLIC,
    ("GET", "/api/v1/me"): ANY_USER,
    ("GET", "/api/v1/metrics"): ADMINS,
    ("GET", "/api/v1/openapi.json"): ANY_USER,
    ("GET", "/api/v1/docs"): ANY_USER,
    ("GET", "/api/v1/docs/assets/{name}"): ANY_USER,
    ("GET", "/api/v1/profiles"): ANY_USER,
    ("GET", "/api/v1/images"): ANY_USER,
    ("GET", "/api/v1/images/resolve"): ANY_USER,
    ("GET", "/api/v1/shares"): OWN_WORKSPACE,
    ("POST", "/api/v1/shares"): OWN_WORKSPACE,
    ("DELETE", "/api/v1/shares/{kind}/{name}"): OWN_SHARE,
    ("POST", "/api/v1/gallery"): IN_GROUP,
    ("GET", "/api/v1/gallery"): ANY_USER,
    ("GET", "/api/v1/gallery/{entry_id}"): READ_SHARED,
    ("GET", "/api/v1/gallery/{entry_id}/versions/{number}"): READ_SHARED,
    ("GET", "/api/v1/gallery/{entry_id}/diff"): READ_SHARED,
    ("DELETE", "/api/v1/gallery/{entry_id}"): OWNER_WRITES,
    ("POST", "/api/v1/jobs/inspect"): ANY_USER,
    ("POST", "/api/v1/jobs"): IN_GROUP,
    ("GET", "/api/v1/jobs"): ANY_USER,
    ("GET", "/api/v1/jobs/notifications"): ANY_USER,
    ("PUT", "/api/v1/jobs/notifications"): ANY_USER,
    ("GET", "/api/v1/jobs/{job_id}"): READ_SHARED,
    ("GET", "/api/v1/jobs/{job_id}/logs"): READ_SHARED,
    ("GET", "/api/v1/jobs/{job_id}/output"): READ_SHARED,
    ("GET", "/api/v1/jobs/{job_id}/notebook"): READ_SHARED,
    ("GET", "/api/v1/jobs/{job_id}/parameters"): READ_SHARED,
    ("GET", "/api/v1/jobs/{job_id}/runs"): READ_SHARED,
    ("POST", "/api/v1/jobs/{job_id}/cancel"): OWNER_WRITES,
    ("POST", "/api/v1/jobs/{job_id}/rerun"): OWNER_WRITES,
    ("POST", "/api/v1/schedules/preview"): ANY_USER,
    ("POST", "/api/v1/schedules"): IN_GROUP,
    ("GET", "/api/v1/schedules"): ANY_USER,
    ("GET", "/api/v1/schedules/{schedule_id}"): READ_SHARED,
    ("GET", "/api/v1/schedules/{schedule_id}/parameters"): READ_SHARED,
    ("PATCH", "/api/v1/schedules/{schedule_id}"): OWNER_WRITES,
    ("POST", "/api/v1/schedules/{schedule_id}/pause"): OWNER_WRITES,
    ("POST", "/api/v1/schedules/{schedule_id}/resume"): OWNER_WRITES,
    ("DELETE", "/api/v1/schedules/{schedule_id}"): OWNER_WRITES,
    ("GET", "/api/v1/schedules/{schedule_id}/runs"): READ_SHARED,
    ("POST", "/api/v1/sweeps"): IN_GROUP,
    ("GET", "/api/v1/sweeps"): ANY_USER,
    ("GET", "/api/v1/sweeps/{sweep_id}"): READ_SHARED,
    ("POST", "/api/v1/sweeps/{sweep_id}/stop"): OWNER_WRITES,
    ("POST", "/api/v1/sweeps/{sweep_id}/resume"): OWNER_WRITES,
    ("POST", "/api/v1/sweeps/{sweep_id}/extend"): OWNER_WRITES,
    ("PUT", "/api/v1/sweeps/{sweep_id}/visibility"): OWNER_WRITES,
    ("DELETE", "/api/v1/sweeps/{sweep_id}"): OWNER_WRITES,
    ("GET", "/api/v1/experiments"): ANY_USER,
    ("GET", "/api/v1/experiments/{experiment_id}"): READ_SHARED,
    ("PUT", "/api/v1/experiments/{experiment_id}/visibility"): OWNER_WRITES,
    ("POST", "/api/v1/experiments/runs/table"): READ_SHARED,
    ("GET", "/api/v1/models"): ANY_USER,
    ("GET", "/api/v1/models/{name}"): READ_SHARED,
    ("PUT", "/api/v1/models/{name}/visibility"): OWNER_WRITES,
    ("GET", "/api/v1/models/{name}/versions"): READ_SHARED,
    ("GET", "/api/v1/models/{name}/versions/{version}"): READ_SHARED,
    ("PUT", "/api/v1/models/{name}/versions/{version}/task"): OWNER_WRITES,
    ("PUT", "/api/v1/models/{name}/aliases/{alias}"): OWNER_WRITES,
    ("DELETE", "/api/v1/models/{name}/aliases/{alias}"): OWNER_WRITES,
    ("GET", "/api/v1/models/{name}/history"): READ_SHARED,
    ("POST", "/api/v1/deployments"): READ_SHARED,  # of a model the caller reads
    ("GET", "/api/v1/deployments"): ANY_USER,
    ("GET", "/api/v1/deployments/{name}"): READ_SHARED,
    ("PUT", "/api/v1/deployments/{name}/traffic"): OWNER_WRITES,
    ("POST", "/api/v1/deployments/{name}/promote"): OWNER_WRITES,
    ("PUT", "/api/v1/deployments/{name}/visibility"): OWNER_WRITES,
    ("DELETE", "/api/v1/deployments/{name}"): OWNER_WRITES,
    ("PUT", "/api/v1/deployments/{name}/payloads"): OWNER_WRITES,
    ("GET", "/api/v1/deployments/{name}/payloads"): OWNER_WRITES,
    ("GET", "/api/v1/deployments/{name}/payloads/{batch}"): OWNER_WRITES,
    ("POST", "/api/v1/deployments/{name}/keys"): OWNER_WRITES,
    ("GET", "/api/v1/deployments/{name}/keys"): OWNER_WRITES,
    ("DELETE", "/api/v1/deployments/{name}/keys/{key_id}"): OWNER_WRITES,
    ("GET", "/api/v1/cost/prices"): ANY_USER,
    ("GET", "/api/v1/cost/report"): ANY_USER,  # their own usage; their groups' totals
    ("GET", "/api/v1/cost/summary"): ANY_USER,
    ("GET", "/api/v1/cost/budgets"): ANY_USER,  # their own and their groups' budgets
    ("GET", "/api/v1/cost/check"): ANY_USER,  # whether their own budgets let them start work
    ("PUT", "/api/v1/cost/budgets/{scope}/{name}"): ADMINS,
    ("DELETE", "/api/v1/cost/budgets/{scope}/{name}"): ADMINS,
    ("GET", "/api/v1/datasets"): ANY_USER,
    ("GET", "/api/v1/datasets/{owner}/{name}"): READ_SHARED,
    ("GET", "/api/v1/datasets/{owner}/{name}/versions/{version}"): READ_SHARED,
    ("POST", "/api/v1/datasets/{owner}/{name}/blobs/missing"): OWN_NAME,
    ("PUT", "/api/v1/datasets/{owner}/{name}/blobs/{sha256}"): OWN_NAME,
    ("GET", "/api/v1/datasets/{owner}/{name}/blobs/{sha256}"): READ_SHARED,
    ("POST", "/api/v1/datasets/{owner}/{name}/versions"): OWN_NAME,
    ("PUT", "/api/v1/datasets/{owner}/{name}/visibility"): OWNER_WRITES,
    ("DELETE", "/api/v1/datasets/{owner}/{name}"): OWNER_WRITES,
    ("POST", "/api/v1/datasets/{owner}/{name}/snapshot"): OWN_NAME,
    ("GET", "/api/v1/datasets/{owner}/{name}/audit"): OWNER_WRITES,
    ("GET", "/api/v1/sources"): ANY_USER,
    ("POST", "/api/v1/sources"): REGISTRARS,
    ("GET", "/api/v1/sources/requests"): ANY_USER,  # on the sources they manage, and theirs
    ("GET", "/api/v1/sources/{name}"): ANY_USER,  # the catalog is everyone's; never secrets
    ("PATCH", "/api/v1/sources/{name}"): MANAGES,
    ("DELETE", "/api/v1/sources/{name}"): MANAGES,
    ("GET", "/api/v1/sources/{name}/grants"): MANAGES,
    ("PUT", "/api/v1/sources/{name}/grants"): MANAGES,
    ("DELETE", "/api/v1/sources/{name}/grants/{principal}"): MANAGES,
    ("POST", "/api/v1/sources/{name}/requests"): ANY_USER,  # 409 when they have that access
    ("GET", "/api/v1/sources/{name}/list"): READERS,
    ("GET", "/api/v1/sources/{name}/stat"): READERS,
    ("GET", "/api/v1/sources/{name}/preview"): READERS,
    ("GET", "/api/v1/sources/{name}/url"): READERS,  # a folder source: 400, read /objects
    ("GET", "/api/v1/sources/{name}/objects/{path}"): READERS,
    ("PUT", "/api/v1/sources/{name}/objects/{path}"): WRITERS,
    ("POST", "/api/v1/sources/{name}/query"): READERS,  # a folder source: 400, no tables
    ("GET", "/api/v1/sources/{name}/audit"): MANAGES,
    # The admin asks about itself (it may not disable, delete or hand over to itself: 409, 400)
    # and a group of its own, so the table's other tests keep their users and groups.
    ("GET", "/api/v1/admin/users"): ADMINS,
    ("POST", "/api/v1/admin/users/{user}/disable"): ADMINS,
    ("POST", "/api/v1/admin/users/{user}/enable"): ADMINS,
    ("DELETE", "/api/v1/admin/users/{user}"): ADMINS,
    ("POST", "/api/v1/admin/users/{user}/transfer"): ADMINS,
    ("GET", "/api/v1/admin/groups"): ADMINS,
    ("POST", "/api/v1/admin/groups"): ADMINS,
    ("DELETE", "/api/v1/admin/groups/{group}"): ADMINS,
    ("PUT", "/api/v1/admin/groups/{group}/members/{user}"): ADMINS,
    ("DELETE", "/api/v1/admin/groups/{group}/members/{user}"): ADMINS,
}
# Apps mounted inside the service, each with its own route-table test.
# The inference gateway (`/models/v2/...`) is dispatched before the routes, by a middleware
# (serving/gateway.py GatewayFirst); who may call what there is tests/integration/test_serving.py.
MOUNTS = {"/mlflow/{path}": "tests/integration/test_tracking_routes.py"}


def notebook(*sources: str, parameters: str = "") -> dict:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    if parameters:
        nb.cells.insert(0, nbformat.v4.new_code_cell(parameters, metadata={"tags": ["parameters"]}))
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"c{i}"
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}  # fmt: skip
    return json.loads(nbformat.writes(nb))


NOTEBOOK = notebook("print('authz')")
JOB = {"content": NOTEBOOK, "name": "authz", "share_with_group": TEAM}
SCHEDULE = {"content": NOTEBOOK, "cron": RARE_CRON, "share_with_group": TEAM}
BLOB = b"x,y\n1,2\n"
SHA = hashlib.sha256(BLOB).hexdigest()
MANIFEST = {"files": [{"path": "data.csv", "sha256": SHA, "size": len(BLOB)}]}
SHARED = {"visibility": f"group:{TEAM}"}
SWEEP = {
    "content": notebook("print(x)", parameters="x = 0.0"),
    "space": {"x": {"type": "float", "low": 0, "high": 1}},
    "metric": "m", "sampler": "random", "trials": 1, "share_with_group": TEAM,
}  # fmt: skip


@dataclass
class World:
    """The platform, a token per role, and the owner's resources as path values per domain
    (the path segment after /api/v1/)."""

    client: httpx.Client
    tokens: dict[str, str | None]
    folder: Path  # what the owner's folder sources hold, readable by the platform account
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    serial: Iterator[int] = field(default_factory=itertools.count)

    def call(self, role: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if token := self.tokens[role]:
            headers["Authorization"] = f"token {token}"
        return self.client.request(method, PREFIX + path, headers=headers, **kwargs)

    def owner(self, method: str, path: str, **kwargs: Any) -> dict:
        reply = self.call("owner", method, path, **kwargs)
        assert reply.status_code in (200, 201), f"{method} {path}: {reply.text}"
        return reply.json()


PUBLIC_NOW = {"visibility": "public"}  # a change: the owner's, on a throwaway, comes last
# The body and query each route is sent with: valid for the owner, so that every role's
# request reaches the route's authorization decision.
REQUESTS: dict[Route, Callable[[World], dict[str, Any]]] = {
    ("GET", "/api/v1/images/resolve"): lambda w: {"params": {"ref": "lw/minimal:ci-1"}},
    ("GET", "/api/v1/cost/check"): lambda w: {"params": {"kind": "job", "gpu": "true"}},
    ("POST", "/api/v1/shares"): lambda w: {"json": {"group": TEAM}},
    ("POST", "/api/v1/gallery"): lambda w: {
        "json": {"group": TEAM, "name": "authz.ipynb", "content": NOTEBOOK}
    },
    ("GET", "/api/v1/gallery/{entry_id}/diff"): lambda w: {"params": {"base": 1, "remote": 1}},
    ("POST", "/api/v1/jobs/inspect"): lambda w: {"json": {"content": NOTEBOOK}},
    ("POST", "/api/v1/jobs"): lambda w: {"json": JOB},
    ("PUT", "/api/v1/jobs/notifications"): lambda w: {"json": {"events": "failed"}},
    ("POST", "/api/v1/jobs/{job_id}/rerun"): lambda w: {"json": {}},
    ("POST", "/api/v1/schedules/preview"): lambda w: {"json": {"cron": RARE_CRON}},
    ("POST", "/api/v1/schedules"): lambda w: {"json": SCHEDULE},
    ("PATCH", "/api/v1/schedules/{schedule_id}"): lambda w: {"json": {"paused": True}},
    ("POST", "/api/v1/sweeps"): lambda w: {"json": SWEEP},
    ("POST", "/api/v1/sweeps/{sweep_id}/extend"): lambda w: {"json": {"trials": 1}},
    ("PUT", "/api/v1/sweeps/{sweep_id}/visibility"): lambda w: {"json": SHARED},
    ("PUT", "/api/v1/experiments/{experiment_id}/visibility"): lambda w: {"json": PUBLIC_NOW},
    ("POST", "/api/v1/experiments/runs/table"): lambda w: {
        "json": {"experiment_ids": [w.values["experiments"]["experiment_id"]]}
    },
    ("PUT", "/api/v1/models/{name}/visibility"): lambda w: {"json": PUBLIC_NOW},
    ("PUT", "/api/v1/models/{name}/versions/{version}/task"): lambda w: {
        "json": {"task": "regression"}
    },
    ("PUT", "/api/v1/models/{name}/aliases/{alias}"): lambda w: {"json": {"version": "1"}},
    ("POST", "/api/v1/deployments"): lambda w: {
        "json": {"model": w.values["deployments"]["model"], "version": "1", "task": "regression"}
    },
    ("PUT", "/api/v1/deployments/{name}/traffic"): lambda w: {"json": {"percent": 0}},
    ("POST", "/api/v1/deployments/{name}/promote"): lambda w: {"json": {}},  # no canary: 400
    ("PUT", "/api/v1/deployments/{name}/visibility"): lambda w: {"json": SHARED},
    ("POST", "/api/v1/deployments/{name}/keys"): lambda w: {"json": {"name": "authz"}},
    ("PUT", "/api/v1/deployments/{name}/payloads"): lambda w: {"json": {"sample": 1}},
    ("POST", "/api/v1/datasets/{owner}/{name}/blobs/missing"): lambda w: {
        "json": {"sha256": [SHA]}
    },
    ("PUT", "/api/v1/datasets/{owner}/{name}/blobs/{sha256}"): lambda w: {
        "content": BLOB,
        "headers": {"Content-Type": "application/octet-stream"},
    },
    ("POST", "/api/v1/datasets/{owner}/{name}/versions"): lambda w: {"json": MANIFEST},
    ("PUT", "/api/v1/datasets/{owner}/{name}/visibility"): lambda w: {"json": PUBLIC_NOW},
    ("PUT", "/api/v1/cost/budgets/{scope}/{name}"): lambda w: {"json": {"monthly_usd": 50}},
    ("POST", "/api/v1/datasets/{owner}/{name}/snapshot"): lambda w: {
        "json": {"source": w.values["sources"]["name"], "prefix": ""}
    },
    ("POST", "/api/v1/sources"): lambda w: {
        "json": {
            "name": "az-src-new",
            "kind": "folder",
            "owner": OWNER,
            "config": {"path": str(w.folder)},
        }
    },
    ("PATCH", "/api/v1/sources/{name}"): lambda w: {"json": {"description": "authz"}},
    ("PUT", "/api/v1/sources/{name}/grants"): lambda w: {
        "json": {"principal": "user:azghost", "access": "read"}
    },
    ("POST", "/api/v1/sources/{name}/requests"): lambda w: {"json": {"reason": "authz"}},
    ("GET", "/api/v1/sources/{name}/list"): lambda w: {"params": {"prefix": ""}},
    ("GET", "/api/v1/sources/{name}/stat"): lambda w: {"params": {"path": "hello.csv"}},
    ("GET", "/api/v1/sources/{name}/preview"): lambda w: {"params": {"path": "hello.csv"}},
    ("GET", "/api/v1/sources/{name}/url"): lambda w: {"params": {"path": "hello.csv"}},
    ("PUT", "/api/v1/sources/{name}/objects/{path}"): lambda w: {
        "content": BLOB,
        "headers": {"Content-Type": "application/octet-stream"},
    },
    ("POST", "/api/v1/sources/{name}/query"): lambda w: {"json": {"table": "public.x"}},
    ("POST", "/api/v1/admin/users/{user}/transfer"): lambda w: {"json": {"to": ADMIN}},
    ("POST", "/api/v1/admin/groups"): lambda w: {"json": {"name": TEAM}},  # exists: 409
}
# A 404 that is an answer about the input where the test platform lacks a part.
ABSENT_PARTS = {
    ("GET", "/api/v1/images/resolve"): "no image registry is configured",
    # the test's deployment never answers a request, so it has no payload log to read
    ("GET", "/api/v1/deployments/{name}/payloads/{batch}"): "has no payload batch",
}
# Path values that name nothing, per domain: not yours and not there give the same answer.
UNKNOWN = {
    "jobs": {"job_id": "0123456789ab"},
    "schedules": {"schedule_id": "0123456789ab"},
    "sweeps": {"sweep_id": "0123456789ab"},
    "gallery": {"entry_id": "2147480000"},
    "experiments": {"experiment_id": "987654321"},
    "models": {"name": "az-no-such-model", "version": "1", "alias": "azalias"},
    "deployments": {
        "name": "az-no-such-deployment",
        "model": "az-no-such-model",
        "key_id": "0123456789ab",
    },
    "datasets": {"name": "az-no-such-dataset"},
    "shares": {"name": "azghost"},
    "cost": {"scope": "user", "name": "azghost"},
    "admin": {"user": "azghost", "group": "azghost"},
    "sources": {"name": "az-no-such-source", "principal": f"group:{TEAM}", "path": "hello.csv"},
}


# --- the owner's resources -------------------------------------------------------------------


def make_schedule(w: World) -> dict[str, str]:
    return {"schedule_id": w.owner("POST", "/api/v1/schedules", json=SCHEDULE)["id"]}


def make_sweep(w: World) -> dict[str, str]:
    return {"sweep_id": w.owner("POST", "/api/v1/sweeps", json=SWEEP)["id"]}


def make_entry(w: World) -> dict[str, str]:
    body = {"group": TEAM, "name": f"authz-{next(w.serial)}.ipynb", "content": NOTEBOOK}
    return {"entry_id": str(w.owner("POST", "/api/v1/gallery", json=body)["entry"]["id"]),
            "number": "1"}  # fmt: skip


def make_dataset(w: World) -> dict[str, str]:
    name = f"az-ds-{next(w.serial)}"
    base = f"/api/v1/datasets/{OWNER}/{name}"
    w.owner("PUT", f"{base}/blobs/{SHA}", content=BLOB,
            headers={"Content-Type": "application/octet-stream"})  # fmt: skip
    w.owner("POST", f"{base}/versions", json=MANIFEST)
    w.owner("PUT", f"{base}/visibility", json=SHARED)
    return {"owner": OWNER, "name": name, "sha256": SHA, "version": "1"}


def make_experiment(w: World) -> dict[str, str]:
    name = f"az-exp-{next(w.serial)}"
    found = w.owner("POST", TRACKING + "/experiments/create", json={"name": name})
    w.owner("PUT", f"/api/v1/experiments/{found['experiment_id']}/visibility", json=SHARED)
    return {"experiment_id": found["experiment_id"]}


def make_model(w: World) -> dict[str, str]:
    """A model of the owner's, shared with the team, with version 1 (from an empty run) that
    its alias `azalias` points at."""
    name = f"az-model-{next(w.serial)}"
    w.owner("POST", TRACKING + "/registered-models/create", json={"name": name})
    w.owner("PUT", f"/api/v1/models/{name}/visibility", json=SHARED)
    experiment = w.owner("POST", TRACKING + "/experiments/create",
                         json={"name": f"az-mv-{next(w.serial)}"})  # fmt: skip
    run = w.owner("POST", TRACKING + "/runs/create",
                  json={"experiment_id": experiment["experiment_id"]})["run"]  # fmt: skip
    run_id = run["info"]["run_id"]
    w.owner("POST", TRACKING + "/model-versions/create",
            json={"name": name, "source": f"runs:/{run_id}/model", "run_id": run_id})  # fmt: skip
    w.owner("POST", TRACKING + "/registered-models/alias",
            json={"name": name, "alias": "azalias", "version": "1"})  # fmt: skip
    return {"name": name, "version": "1", "alias": "azalias"}


def make_deployment(w: World) -> dict[str, str]:
    """A deployment, shared with the team, of version 1 of a model of the owner's (also shared
    with the team) registered from an empty run: the decisions are about the rows, so its
    model server need not start."""
    model = make_model(w)["name"]  # with its version 1
    name = f"az-dep-{next(w.serial)}"
    w.owner("POST", "/api/v1/deployments",
            json={"model": model, "version": "1", "name": name, "task": "regression"})  # fmt: skip
    w.owner("PUT", f"/api/v1/deployments/{name}/visibility", json=SHARED)
    key = w.owner("POST", f"/api/v1/deployments/{name}/keys", json={"name": "authz"})
    batch = "20260101T000000000000Z-0.parquet"
    return {"name": name, "model": model, "key_id": key["id"], "batch": batch}


def make_admin_group(w: World) -> dict[str, str]:
    """A group of the admin's to change; the user it names is the admin itself."""
    name = f"az-admin-{next(w.serial)}"
    reply = w.call("admin", "POST", "/api/v1/admin/groups", json={"name": name})
    assert reply.status_code == 201, reply.text
    return {"user": ADMIN, "group": name}


def make_budget(w: World) -> dict[str, str]:
    """A budget of the owner's, set by the admin (only admins set and delete budgets)."""
    reply = w.call("admin", "PUT", f"/api/v1/cost/budgets/user/{OWNER}",
                   json={"monthly_usd": 100})  # fmt: skip
    assert reply.status_code == 200, reply.text
    return {"scope": "user", "name": OWNER}


def make_source(w: World) -> dict[str, str]:
    """A folder source of the owner's (the admin registers folders), read by the team."""
    name = f"az-src-{next(w.serial)}"
    body = {"name": name, "kind": "folder", "owner": OWNER, "config": {"path": str(w.folder)}}
    reply = w.call("admin", "POST", "/api/v1/sources", json=body)
    assert reply.status_code == 201, reply.text
    w.owner("PUT", f"/api/v1/sources/{name}/grants",
            json={"principal": f"group:{TEAM}", "access": "read"})  # fmt: skip
    return {"name": name, "principal": f"group:{TEAM}", "path": "hello.csv"}


def share_with_member(w: World) -> dict[str, str]:
    w.owner("POST", "/api/v1/shares", json={"user": MEMBER})
    return {"kind": "user", "name": MEMBER}


# The owner's resources a request of a route is about, per domain; DELETE and visibility routes
# get one made for the request (they would take it from the others).
MAKERS: dict[str, Callable[[World], dict[str, str]]] = {
    "schedules": make_schedule,
    "sweeps": make_sweep,
    "gallery": make_entry,
    "datasets": make_dataset,
    "experiments": make_experiment,
    "models": make_model,
    "deployments": make_deployment,
    "cost": make_budget,
    "sources": make_source,
    "shares": share_with_member,
    "admin": make_admin_group,
}


def wait_for(what: str, check: Callable[[], bool], timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        time.sleep(0.2)


def job_status(w: World, role: str, job_id: str) -> str:
    reply = w.call(role, "GET", f"/api/v1/jobs/{job_id}", params={"wait": 5})
    assert reply.status_code == 200, reply.text
    return reply.json()["status"]


def expired_token(platform: Platform, client: httpx.Client) -> str:
    """A token of the owner that expires after a second, once the hub refuses it."""
    token = labworks("token", OWNER, "--expires-in", "1", home=platform.home).stdout.strip()

    def refused() -> bool:
        reply = client.get("/hub/api/user", headers={"Authorization": f"token {token}"})
        return reply.status_code in (401, 403)

    wait_for("the hub refusing the expired token", refused, timeout=30)
    return token


def start_token_job(w: World) -> str:
    """A job of the other user that prints its hub token and stays running; its id."""
    content = notebook("import os, time\n"
                       "print('job-token:', os.environ['JUPYTERHUB_API_TOKEN'], flush=True)\n"
                       "time.sleep(1200)")  # fmt: skip
    reply = w.call("other", "POST", "/api/v1/jobs", json={"content": content, "timeout": 1500})
    assert reply.status_code == 201, reply.text
    return reply.json()["id"]


def job_token(w: World, job_id: str) -> str:
    found: list[str] = []

    def printed() -> bool:
        log = w.call("other", "GET", f"/api/v1/jobs/{job_id}/logs").json().get("text", "")
        found.extend(re.findall(r"job-token: (\S+)", log))
        return bool(found)

    wait_for(f"job {job_id} printing its token", printed)
    return found[0]


@pytest.fixture(scope="module")
def world(platform: Platform) -> Iterator[World]:
    platform.add_user(OWNER, "--group", TEAM)
    platform.add_user(MEMBER, "--group", TEAM)
    platform.add_user(OTHER, "--group", "azothers")
    platform.add_user(ADMIN, "--admin")
    with httpx.Client(base_url=platform.url, timeout=120) as client:
        tokens: dict[str, str | None] = {r: platform.token(n) for r, n in USERS.items()}
        folder = platform.home.parent / "az-source"  # the base is 0711: the platform passes
        folder.mkdir(mode=0o777)
        folder.chmod(0o777)  # the platform account writes there (the write route)
        (folder / "hello.csv").write_bytes(BLOB)
        (folder / "hello.csv").chmod(0o666)
        roles = {**tokens, "anonymous": None, "expired": None, "job": None}
        w = World(client, roles, folder)
        holder = start_token_job(w)
        try:
            job = w.owner("POST", "/api/v1/jobs", json=JOB)
            w.values = {
                "docs": {"name": "swagger-ui.css"},
                "jobs": {"job_id": job["id"]},
                **{domain: make(w) for domain, make in MAKERS.items()},
            }
            w.tokens["expired"] = expired_token(platform, client)
            w.tokens["job"] = job_token(w, holder)
            assert w.tokens["job"] != w.tokens["other"]
            assert w.call("job", "GET", "/api/v1/me").json()["name"] == OTHER
            assert w.call("admin", "GET", "/api/v1/me").json()["admin"] is True
            wait_for("the owner's job ending", lambda: job_status(w, "owner", job["id"]) in ENDED)
            yield w
        finally:
            w.call("other", "POST", f"/api/v1/jobs/{holder}/cancel")


# --- the route table -------------------------------------------------------------------------


def served(app: FastAPI) -> tuple[set[Route], set[str]]:
    """The app's routes (hidden ones included) and the paths of the apps it mounts."""
    routes: set[Route] = set()
    mounts: set[str] = set()
    for context in iter_route_contexts(app.routes):
        path = str(context.path_format).removeprefix(PREFIX)
        if context.methods is None:
            mounts.add(path)
        else:
            routes |= {(method, path) for method in context.methods}
    return routes, mounts


def service_app(tmp_path: Path) -> FastAPI:
    """The platform service's app as `labworks up` builds it (not started)."""
    env = {
        "LABWORKS_DB_URL": f"sqlite:///{tmp_path / 'store.sqlite'}",
        "LABWORKS_STATE_DIR": str(tmp_path),
        "JUPYTERHUB_API_TOKEN": "unused",
    }
    return create_app(ServiceSettings.from_env(env))


def undecided(routes: set[Route]) -> list[str]:
    return [
        f"{method} {PREFIX}{path} has no authorization decision: add a line for it to DECISIONS"
        f" in {Path(__file__).name} saying what each role gets"
        for method, path in sorted(routes - DECISIONS.keys())
    ]


def test_every_route_of_the_app_and_its_schema_has_a_decision(world: World, tmp_path: Path):
    routes, mounts = served(service_app(tmp_path))
    schema = world.owner("GET", "/api/v1/openapi.json")
    listed = {(method.upper(), path.removeprefix(PREFIX))
              for path, item in schema["paths"].items()
              for method in item.keys() & HTTP_METHODS}  # fmt: skip
    assert listed <= routes, f"in the schema but not served: {sorted(listed - routes)}"
    assert not undecided(routes), "\n".join(undecided(routes))
    assert DECISIONS.keys() <= routes, f"no longer served: {sorted(DECISIONS.keys() - routes)}"
    assert mounts == MOUNTS.keys(), (
        f"mounted apps {sorted(mounts)}; each needs its own route-table test, listed in MOUNTS"
    )


def test_a_route_added_without_a_decision_is_named(tmp_path: Path):
    app = service_app(tmp_path)
    app.add_api_route(PREFIX + "/api/v1/jobs/{job_id}/pin", lambda job_id: None, methods=["POST"])
    routes, _ = served(app)
    assert (
        f"POST {PREFIX}/api/v1/jobs/{{job_id}}/pin has no authorization decision: add a line"
        f" for it to DECISIONS in {Path(__file__).name} saying what each role gets"
    ) in undecided(routes)


# --- each route, each role ---------------------------------------------------------------------


def fill(path: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: quote(values[m.group(1)], safe=""), path)


def send(w: World, role: str, route: Route, values: dict[str, str]) -> httpx.Response:
    method, path = route
    request = REQUESTS.get(route, lambda _w: {})(w)
    return w.call(role, method, fill(path, values), **request)


def judge(route: Route, reply: httpx.Response, expected: Answer) -> str | None:
    """Why `reply` is not the answer `expected`; None when it is."""
    status = reply.status_code
    if expected == A:
        absent = ABSENT_PARTS.get(route)
        if status < 400 or status in INPUT_REFUSALS or (absent and absent in reply.text):
            return None
        return f"answered {status} where it is allowed: {reply.text[:300]}"
    if status != expected:
        return f"answered {status}, not {expected}: {reply.text[:300]}"
    if answer(reply) != (status, ERROR_CODES[expected]):
        return f"answered {status} with the wrong body: {reply.text[:300]}"
    return None


def answer(reply: httpx.Response) -> tuple[int, str]:
    """The status and the error code of a refusal (or its text when it is not JSON)."""
    try:
        return reply.status_code, reply.json()["error"]
    except (ValueError, KeyError, TypeError):
        return reply.status_code, reply.text[:300]


@pytest.mark.parametrize("route", sorted(DECISIONS), ids=" ".join)
def test_each_role_gets_the_answer_decided(world: World, route: Route):
    method, path = route
    decision = DECISIONS[route]
    domain = path.split("/")[3] if path.startswith("/api/v1/") else ""
    throwaway = method == "DELETE" or path.endswith("/visibility")
    values = MAKERS[domain](world) if throwaway else world.values.get(domain, {})
    replies = {}
    for role in ROLES:  # another role allowed to delete (an admin) deletes one of its own
        own = throwaway and role != "owner" and getattr(decision, role) == A
        replies[role] = send(world, role, route, MAKERS[domain](world) if own else values)
    wrong = [
        f"{role}: {problem}"
        for role, reply in replies.items()
        if (problem := judge(route, reply, getattr(decision, role)))
    ]
    if decision.other in (403, 404) and "{" in path and domain not in PUBLIC_CATALOGS:
        # Another user's resource and one that does not exist give the same answer.
        mine = replies["other"]
        none = send(world, "other", route, {**values, **UNKNOWN[domain]})
        if answer(mine) != answer(none):
            wrong.append(f"other: {answer(mine)} for the owner's, {answer(none)} for none")
    assert not wrong, f"{method} {path} ({decision.text}):\n" + "\n".join(wrong)
