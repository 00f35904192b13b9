"""Hub tokens in front of MLflow: the tracking gate and MLflow's `authorization_function`.

1. The gate in-process, with the hub's token check answered over HTTP by a small stand-in for
   JupyterHub's REST API, and a recording ASGI app where MLflow would be (MLflow keeps its
   config in module globals read at import, so it cannot be started twice in one process).
2. The sharing rules against the real MLflow auth and tracking stores (SQLite, and PostgreSQL
   schemas), each in a fresh process: owner, group, public, and who may change them.
3. The decisions remembered on the logging hot path (tracking/decisions.py).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from flask import Flask

from labworks_hub.service.auth import HubIdentity, install_oauth
from labworks_hub.service.errors import install_error_handlers
from labworks_hub.service.settings import ServiceSettings
from labworks_hub.service.tracking import decisions, identity
from labworks_hub.service.tracking.gate import ADMINS_ONLY, NOT_FOUND, READ_ONLY, TrackingGate
from labworks_hub.service.tracking.identity import authorization, current_user, refused_a_reader
from labworks_hub.service.tracking.server import TrackingError
from tests.fake_hub import ACCESS, SERVICE_TOKEN, Owner, fake_hub_api
from tests.platform import free_port

TRACKING = "/services/labworks/mlflow"
SEARCH = TRACKING + "/api/2.0/mlflow/experiments/search"
TOKENS = {
    "ana-token": Owner("ana", groups=("ml", "vision")),
    "culler-token": Owner("idle-culler", kind="service"),
}


@pytest.fixture(scope="module")
def hub_api() -> Iterator[str]:
    with fake_hub_api(TOKENS) as url:
        yield url


class BehindTheGate:
    """Where MLflow sits: records what it was handed and who `authorization()` says is asking
    (in a Flask request context, as MLflow's auth app calls it), then answers `reply`."""

    def __init__(self) -> None:
        self.seen: list[dict] = []
        self.reply = (200, "text/plain", b"ok")
        self.reader = False  # MLflow's read check of the refused write says yes
        self.flask = Flask(__name__)

    async def __call__(self, scope, receive, send) -> None:
        with self.flask.test_request_context(scope["path"]):
            answer = authorization()
        if self.reader:
            await asyncio.to_thread(refused_a_reader)  # MLflow's checks run in a thread
        self.seen.append(
            {
                "path": scope["path"],
                "root_path": scope["root_path"],
                "user": current_user(),
                "username": getattr(answer, "username", None),
            }
        )
        status, content_type, body = self.reply
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", content_type.encode())]})  # fmt: skip
        await send({"type": "http.response.body", "body": body})


class Server:
    """The two calls the gate makes on the TrackingServer, and its ASGI app."""

    def __init__(self) -> None:
        self.app = BehindTheGate()
        self.synced: list[tuple[str, tuple[str, ...]]] = []
        self.broken: str | None = None

    async def ready(self) -> None:
        if self.broken:
            raise TrackingError(self.broken)

    async def sync_user(self, viewer) -> None:
        self.synced.append((viewer.name, tuple(sorted(viewer.groups))))


@pytest.fixture
def gate(hub_api, monkeypatch) -> Iterator[tuple[TestClient, Server, HubIdentity]]:
    monkeypatch.setenv("JUPYTERHUB_OAUTH_ACCESS_SCOPES", json.dumps([ACCESS]))
    settings = ServiceSettings.from_env(
        {"JUPYTERHUB_API_URL": hub_api, "JUPYTERHUB_API_TOKEN": SERVICE_TOKEN}
    )
    app = FastAPI()
    install_error_handlers(app)
    install_oauth(app, settings)
    server, identity = Server(), HubIdentity(settings)
    app.state.identity = identity  # as create_app wires it: the OAuth login uses it
    app.mount(TRACKING, TrackingGate(server, identity))  # type: ignore[arg-type]
    with TestClient(app) as client:
        yield client, server, identity


def test_no_token_is_a_401_in_mlflow_terms_and_mlflow_is_not_reached(gate):
    client, server, _ = gate
    reply = client.get(SEARCH)
    assert reply.status_code == 401
    assert reply.headers["www-authenticate"] == "Bearer"
    assert reply.json() == {
        "error": "unauthorized",
        "error_code": "UNAUTHENTICATED",
        "message": "authentication required: set MLFLOW_TRACKING_TOKEN to your hub API token",
    }
    assert server.app.seen == [] and server.synced == []


def test_a_token_the_hub_does_not_know_is_a_401(gate):
    client, server, _ = gate
    reply = client.get(SEARCH, headers={"Authorization": "Bearer forged"})
    assert reply.status_code == 401
    assert reply.json()["error_code"] == "UNAUTHENTICATED"
    assert "forged" not in reply.text
    assert server.app.seen == []


def test_a_browser_without_a_token_logs_in_through_the_hub(gate):
    client, _, _ = gate
    reply = client.get(TRACKING + "/", headers={"Accept": "text/html"}, follow_redirects=False)
    assert reply.status_code == 302
    assert "/hub/api/oauth2/authorize" in reply.headers["location"]


@pytest.mark.parametrize("scheme", ["Bearer", "token"])
def test_mlflow_sees_the_hub_user_and_its_own_paths(gate, scheme):
    client, server, _ = gate
    reply = client.get(SEARCH, headers={"Authorization": f"{scheme} ana-token"})
    assert reply.status_code == 200 and reply.text == "ok"
    assert server.app.seen == [
        {
            "path": "/api/2.0/mlflow/experiments/search",
            "root_path": "",
            "user": "ana",
            "username": "ana",
        }
    ]
    assert server.synced == [("ana", ("ml", "vision"))]
    assert current_user() is None  # set for that request only


def test_authorization_outside_the_gate_is_a_401():
    with Flask(__name__).test_request_context("/api/2.0/mlflow/experiments/search"):
        answer = authorization()
    assert answer.status_code == 401
    assert json.loads(answer.get_data())["error_code"] == "UNAUTHENTICATED"


def test_service_tokens_are_refused(gate):
    client, server, _ = gate
    reply = client.get(SEARCH, headers={"Authorization": "Bearer culler-token"})
    assert reply.status_code == 403
    assert reply.json()["error_code"] == "PERMISSION_DENIED"
    assert "users' tokens" in reply.json()["message"]
    assert server.app.seen == []


def test_hub_outage_and_a_broken_tracking_server_are_503s(gate, monkeypatch):
    client, server, identity = gate
    server.broken = "cannot create schema 'mlflow' in postgresql://lw:***@db/lw: denied"
    reply = client.get(SEARCH, headers={"Authorization": "Bearer ana-token"})
    assert reply.status_code == 503
    assert reply.json()["error_code"] == "TEMPORARILY_UNAVAILABLE"
    assert "cannot create schema" in reply.json()["message"]
    monkeypatch.setattr(identity.hub, "api_url", f"http://127.0.0.1:{free_port()}/hub/api")
    reply = client.get(SEARCH, headers={"Authorization": "Bearer other-token"})
    assert reply.status_code == 503 and "cannot reach JupyterHub" in reply.json()["message"]


def test_not_yours_and_not_there_are_one_404_other_answers_pass(gate):
    client, server, _ = gate
    headers = {"Authorization": "Bearer ana-token"}
    uniform = {"error": "not_found", "error_code": "RESOURCE_DOES_NOT_EXIST", "message": NOT_FOUND}
    server.app.reply = (403, "text/html; charset=utf-8", b"Permission denied")
    denied = client.get(SEARCH, headers=headers)
    missing_body = b'{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "No Experiment 7"}'
    server.app.reply = (404, "application/json", missing_body)
    missing = client.get(SEARCH, headers=headers)
    assert (denied.status_code, denied.json()) == (missing.status_code, missing.json())
    assert (denied.status_code, denied.json()) == (404, uniform)
    server.app.reply = (403, "text/plain", b"Invalid Host header")
    assert client.get(SEARCH, headers=headers).text == "Invalid Host header"
    body = b'{"error_code": "PERMISSION_DENIED", "message": "names under users/ana"}'
    server.app.reply = (403, "application/json", body)
    assert client.get(SEARCH, headers=headers).content == body
    server.app.reply = (404, "text/html", b"<h1>Not Found</h1>")  # no such route
    assert client.get(SEARCH, headers=headers).content == b"<h1>Not Found</h1>"


def test_a_refused_write_to_what_the_caller_reads_stays_403(gate):
    client, server, _ = gate
    headers = {"Authorization": "Bearer ana-token"}
    server.app.reply = (403, "text/html; charset=utf-8", b"Permission denied")
    server.app.reader = True
    refused = client.post(SEARCH, headers=headers)
    assert refused.status_code == 403
    assert refused.json() == {"error": "forbidden", "error_code": "PERMISSION_DENIED",
                              "message": READ_ONLY}  # fmt: skip
    server.app.reader = False  # the next request starts clean
    assert client.post(SEARCH, headers=headers).status_code == 404


def test_write_checks_ask_the_read_check_only_after_a_refusal():
    """tell_readers_apart on a stand-in for mlflow.server.auth: each write check pairs with
    its read check by name (or READ_CHECK_OF), reads keep theirs, unpaired ones stay as they
    are; the artifact proxy checks ask "read" of the same path."""
    can = {"read": True, "update": False}
    asked: list[str] = []

    def check(name: str, answer: str):
        def validator() -> bool:
            asked.append(name)
            return can[answer]

        validator.__name__ = name
        return validator

    update = check("validate_can_update_experiment", "update")
    log = check("validate_can_log_metric", "update")
    read = check("validate_can_read_experiment", "read")
    lonely = check("validate_can_update_user_password", "update")
    auth = SimpleNamespace(
        BEFORE_REQUEST_VALIDATORS={
            ("/u", "POST"): update,
            ("/r", "GET"): read,
            ("/l", "POST"): log,
            ("/p", "POST"): lonely,
        },
        validate_can_read_experiment=read,
        validate_can_read_run=check("validate_can_read_run", "read"),
        _authorize_fastapi_artifact_proxy=lambda path, user, query, action: can[action],
        _authorize_flask_artifact_proxy=lambda action: can[action],
    )
    decisions.tell_readers_apart(auth)
    table = auth.BEFORE_REQUEST_VALIDATORS
    assert table[("/r", "GET")] is read and table[("/p", "POST")] is lonely

    def noted(f) -> list[bool]:
        with identity.serving("ana") as cell:
            assert f() is False
        return cell

    assert noted(table[("/u", "POST")]) == [True]
    assert asked[-2:] == ["validate_can_update_experiment", "validate_can_read_experiment"]
    assert noted(table[("/l", "POST")]) == [True] and asked[-1] == "validate_can_read_run"
    assert noted(lambda: auth._authorize_flask_artifact_proxy("update")) == [True]
    assert noted(lambda: auth._authorize_fastapi_artifact_proxy("/p", "ana", None, "update"))
    can["read"] = False  # a stranger: nothing noted, the gate answers "not there"
    assert noted(table[("/u", "POST")]) == [] and noted(lonely) == []
    assert noted(lambda: auth._authorize_flask_artifact_proxy("update")) == []
    can["update"] = True
    before = len(asked)
    assert table[("/u", "POST")]() is True and len(asked) == before + 1  # no read asked


@pytest.mark.parametrize(
    "path",
    [
        "/api/2.0/mlflow/users/list",
        "/ajax-api/2.0/mlflow/users/get",
        "/api/2.0/mlflow//users/delete",
        "/api/3.0/mlflow/roles/permissions/list",
        "/ajax-api/3.0/mlflow/users/permissions/grant",
        "/api/3.0/mlflow/workspaces",
        "/signup",
    ],
)
def test_user_role_and_permission_apis_are_refused_to_non_admins(gate, path):
    client, server, _ = gate
    reply = client.get(TRACKING + path, headers={"Authorization": "Bearer ana-token"})
    assert reply.status_code == 403
    assert reply.json() == {"error": "forbidden", "error_code": "PERMISSION_DENIED",
                            "message": ADMINS_ONLY}  # fmt: skip
    assert server.app.seen == []


def test_own_identity_stays_readable(gate):
    client, _, _ = gate
    for path in ("/api/2.0/mlflow/users/current", "/ajax-api/3.0/mlflow/users/current/permissions"):
        reply = client.get(TRACKING + path, headers={"Authorization": "Bearer ana-token"})
        assert reply.status_code == 200 and reply.text == "ok"


def test_the_token_is_checked_before_the_body_is_read(gate):
    """An anonymous upload is refused without a byte of its body read (nor asked for)."""
    _, server, identity = gate
    gate_app = TrackingGate(server, identity)  # type: ignore[arg-type]
    asked: list[str] = []
    sent: list[dict] = []

    async def receive() -> dict:
        asked.append("body")
        return {"type": "http.request", "body": b"x" * 1024, "more_body": True}

    async def send(message: dict) -> None:
        sent.append(message)

    path = "/api/2.0/mlflow-artifacts/artifacts/1/r/artifacts/big.bin"
    for headers in ([], [(b"authorization", b"Bearer forged")]):
        headers = [(b"content-length", b"314572800"), *headers]
        scope = {"type": "http", "method": "PUT", "path": path, "root_path": "",
                 "headers": headers, "query_string": b""}  # fmt: skip
        asyncio.run(gate_app(scope, receive, send))
        assert sent[0]["status"] == 401
        sent.clear()
    assert asked == [] and server.app.seen == []


# --- the sharing rules on the real MLflow stores -------------------------------------------

RULES = """
import json, sys
from labworks_hub.service.access import Refused, Viewer
from labworks_hub.service.jobs.artifacts import ArtifactStore
from labworks_hub.service.store import tracking as store
from labworks_hub.service.tracking.server import TrackingServer

artifacts = ArtifactStore(state_dir=sys.argv[1])
server = TrackingServer(artifacts, state_dir=sys.argv[1], platform_db_url=sys.argv[2])
server.start()
from mlflow.server import auth as mlflow_auth
from mlflow.server.handlers import _get_tracking_store

auth, tracking = server.auth_store, _get_tracking_store()
people = {"ana": ("ml",), "ben": ("ml",), "cal": ()}
for name, groups in people.items():
    store.sync_user(auth, name, groups)
store.sync_user(auth, "ana", ("ml",))  # again: nothing changes
viewer = {name: Viewer(name, frozenset(groups)) for name, groups in people.items()}
# What MLflow's auth app does when ana creates an experiment: she gets MANAGE on it.
exp = tracking.create_experiment("ana-exp")
auth.create_experiment_permission(exp, "ana", "MANAGE")

def outcome(f):
    try:
        info = f()
        return [info.visibility, info.owner, info.yours] if hasattr(info, "owner") else info
    except Refused as e:
        return [type(e).__name__, str(e)]

def mlflow_says(name):
    p = mlflow_auth._get_experiment_permission(exp, name)
    return [p.can_read, p.can_update, p.can_manage]

def listed(name):
    return [e.name for e in store.list_experiments(auth, tracking, viewer[name])]

def share(name, visibility):
    return outcome(lambda: store.set_visibility(auth, tracking, viewer[name], exp, visibility))

out = {"private": {n: [outcome(lambda: store.get_experiment(auth, tracking, viewer[n], exp)),
                       mlflow_says(n), listed(n)] for n in people}}
out["ben shares"] = share("ben", "public")
out["ana: bad"] = share("ana", "everyone")
out["ana: not her group"] = share("ana", "group:vision")
out["ana: ml"] = share("ana", "group:ml")
out["group"] = {n: [mlflow_says(n), listed(n)] for n in people}
out["ben: public"] = share("ben", "public")
out["ana: public"] = share("ana", "public")
out["ana: public again"] = share("ana", "public")  # already so: nothing changes, no error
with auth.ManagedSessionMaker() as session:
    out["grants"] = [g.name for g in store._sharing_grants(session, [exp])]
out["public"] = {n: [mlflow_says(n), listed(n)] for n in people}
out["ana: ml again"] = share("ana", "group:ml")
store.sync_user(auth, "ben", ())  # ben left the group in the hub
out["ben left"] = [mlflow_says("ben"), listed("ben")]
out["ana: private"] = share("ana", "private")
out["after"] = {n: mlflow_says(n) for n in people}
out["missing"] = outcome(lambda: store.get_experiment(auth, tracking, viewer["ana"], "999"))
out["not an id"] = outcome(lambda: store.get_experiment(auth, tracking, viewer["ana"], "x/1"))
print(json.dumps(out))
"""


def sharing_rules(state_dir, db_url: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", RULES, str(state_dir), db_url],
        capture_output=True, text=True, timeout=300,
        env={"PATH": "/usr/bin:/bin", "MLFLOW_DISABLE_TELEMETRY": "true"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


NOT_HER_GROUP = (
    "you are not a member of group 'vision'; share with a group of yours (an administrator"
    " adds you to one with `labworks groups add`)"
)


def check_rules(out: dict) -> None:
    nowhere = ["NotFound", "no experiment '1' that you can see"]
    assert out["private"] == {
        "ana": [["private", "ana", True], [True, True, True], ["ana-exp"]],
        "ben": [nowhere, [False, False, False], []],
        "cal": [nowhere, [False, False, False], []],
    }
    assert out["ben shares"] == nowhere  # to ben it does not exist
    assert out["ana: bad"][0] == "Invalid" and "invalid visibility" in out["ana: bad"][1]
    assert out["ana: not her group"] == ["Forbidden", NOT_HER_GROUP]
    assert out["ana: ml"] == ["group:ml", "ana", True]
    assert out["group"] == {
        "ana": [[True, True, True], ["ana-exp"]],
        "ben": [[True, False, False], ["ana-exp"]],  # read, never write
        "cal": [[False, False, False], []],
    }
    assert out["ben: public"] == [
        "Forbidden",
        "only the owner of experiment 'ana-exp' may change who sees it",
    ]
    assert out["ana: public"] == ["public", "ana", True]
    assert out["ana: public again"] == ["public", "ana", True]
    assert out["grants"] == ["public"]
    assert out["public"]["cal"] == [[True, False, False], ["ana-exp"]]
    assert out["ana: ml again"] == ["group:ml", "ana", True]  # replaces public
    assert out["ben left"] == [[False, False, False], []]
    assert out["ana: private"] == ["private", "ana", True]
    assert out["after"] == {"ana": [True, True, True], "ben": [False, False, False],
                            "cal": [False, False, False]}  # fmt: skip
    assert out["missing"] == ["NotFound", "no experiment '999' that you can see"]
    assert out["not an id"] == ["NotFound", "no experiment 'x/1' that you can see"]


def test_sharing_rules_on_mlflows_own_stores(tmp_path):
    check_rules(sharing_rules(tmp_path, f"sqlite:///{tmp_path / 'labworks.sqlite'}"))
    assert {p.name for p in tmp_path.glob("*.sqlite")} == {"mlflow.sqlite", "mlflow-auth.sqlite"}


@pytest.mark.postgres
def test_on_postgresql_mlflow_keeps_to_its_own_schemas(tmp_path, postgres):
    import psycopg

    url = postgres.create_database("lw_tracking_schemas")
    check_rules(sharing_rules(tmp_path, url))
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        rows = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables"
            " WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
        ).fetchall()
    schemas = {schema for schema, _ in rows}
    tables = {(schema, name) for schema, name in rows}
    assert schemas == {"mlflow", "mlflow_auth"}  # nothing in public, where our tables live
    assert ("mlflow", "alembic_version") in tables and ("mlflow", "runs") in tables
    assert ("mlflow_auth", "alembic_version_auth") in tables
    assert ("mlflow_auth", "role_permissions") in tables
    assert list(tmp_path.glob("*.sqlite")) == []


# --- remembered decisions on the logging hot path ------------------------------------------


def test_only_allows_are_remembered_per_user_and_run_and_not_for_long(monkeypatch):
    answers = {("ana", "run-1"): True, ("ben", "run-1"): False}
    asked: list[tuple[str, str]] = []
    request = {"run": "run-1", "names_a_model": False}

    def validator() -> bool:  # stands in for MLflow's validate_can_log_metric
        key = (current_user(), request["run"])
        asked.append(key)
        return answers.get(key, False)

    check = decisions._remembering(
        validator,
        lambda: not request["names_a_model"],
        decisions.Remembered(),
        lambda: request["run"],
    )

    def as_user(name: str) -> bool:
        with identity.serving(name):
            return check()

    assert [as_user("ana") for _ in range(3)] == [True, True, True]
    assert asked == [("ana", "run-1")]  # asked once, then remembered
    assert [as_user("ben") for _ in range(2)] == [False, False]
    assert asked.count(("ben", "run-1")) == 2  # a denial is asked again every time
    request["run"] = "run-2"
    assert as_user("ana") is False  # another run: decided afresh
    request.update(run="run-1", names_a_model=True)
    assert as_user("ana") is True and asked[-1] == ("ana", "run-1")  # a model: asked again
    request["names_a_model"] = False
    later = decisions.time.monotonic() + decisions.REMEMBER_SECONDS + 1
    monkeypatch.setattr(decisions.time, "monotonic", lambda: later)
    before = len(asked)
    assert as_user("ana") is True and len(asked) == before + 1  # expired: asked again
    assert check() is False  # outside the gate: MLflow decides (no user, nothing remembered)
