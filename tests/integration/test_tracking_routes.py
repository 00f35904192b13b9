"""Every route MLflow serves has an authorization decision, proven on the real MLflow app.

A fresh process starts the stock tracking server exactly as the platform service does
(TrackingServer.start), mounts it behind the TrackingGate (the hub's token check replaced by a
table of three callers: ana, ben and the hub admin root), and lets ana log an experiment, a
run, an artifact, a registered model with a version and a logged model, each holding SECRET.
It then lists every route of MLflow's Flask app and of its FastAPI app, folds the API prefixes
(`/api/2.0`, `/api/3.0`, `/ajax-api/...`: one probe per folded route), and asks each one as
anonymous, as ben (naming ana's things, then naming things that do not exist), as ana (her
reads) and as root (the admin-only routes).

`DECISIONS` holds one line per route family (a regex over `METHOD /folded/path`) with its
kind: every route must match exactly one line, so a route MLflow grows without a decision
fails `test_every_mlflow_route_has_exactly_one_decision`, naming it (MLflow's own auth app
refuses routes it has no validator for, MLFLOW_BASIC_AUTH_FAIL_CLOSED, in the same spirit).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from labworks_hub.service.tracking.gate import ADMINS_ONLY, NOT_FOUND

SECRET = "S3CR3T-of-ana"

# kind -> one regex per route family. admin: hub admins only (403 ADMINS_ONLY to others,
# before MLflow is asked). self: the caller's own identity. open: no one's data (the UI shell,
# server facts). create: makes a thing under a caller-chosen global name, so "that name is
# taken" is an answer (documented). outbound: reaches model providers on the internet, so it is
# probed anonymously only (401 before MLflow). scoped: decided by MLflow per experiment, run,
# model or file: what ben gets naming ana's things equals what he gets naming missing ones.
DECISIONS = {
    "self": [r"GET /mlflow/users/current(/permissions)?"],
    "admin": [
        r"\S+ /mlflow/users/(?!current(/permissions)?$)[\w/-]+",
        r"\S+ /mlflow/roles/[\w/-]+",
        r"\S+ /mlflow/workspaces(/<workspace_name>)?",
        r"GET /signup",
    ],
    "open": [
        r"GET (/|/build/<filename>|/static-files/<path>|/health|/version)",
        r"GET /mlflow/server-info",
        r"(GET|POST) /mlflow/ui-telemetry",
    ],
    "outbound": [
        r"\S+ /gateway/.+",  # AI gateway invocations: proxied to model providers
        r"\S+ /mlflow/assistant/.+",  # the UI's assistant: provider APIs and CLIs
        r"GET /mlflow/gateway/(supported-models|supported-providers|provider-config)",
    ],
    "create": [r"POST /mlflow/(experiments/create|registered-models/create|demo/generate)"],
    "scoped": [
        r"\S+ /mlflow/experiments/(?!create$)[\w-]+",
        r"POST mlflow/experiments/search-datasets",  # MLflow registers it without a slash
        r"\S+ /mlflow/(runs|metrics|artifacts)/[\w-]+",
        r"\S+ /mlflow-artifacts/.+",
        r"GET /(get-artifact|model-versions/get-artifact)",
        r"POST /mlflow/upload-artifact",
        r"\S+ /mlflow/registered-models/(?!create$)[\w-]+",
        r"\S+ /mlflow/model-versions/[\w-]+",
        r"\S+ /mlflow/logged-models(/.*)?",
        r"\S+ /mlflow/(traces|unified-traces|get-trace-artifact|get-online-trace-details)(/.*)?",
        r"POST /v1/traces",
        r"\S+ /mlflow/(datasets|label-schemas|review-queues|scorers?|genai)/.+",
        r"\S+ /mlflow/(issues|webhooks|mcp-servers)(/.*)?",
        r"\S+ /mlflow/(prompt-optimization/jobs|jobs)(/.*)?",
        r"\S+ /jobs/.*",
        r"\S+ /mlflow/gateway/(?!supported-models$|supported-providers$|provider-config$).+",
        r"\S+ /mlflow/gateway-proxy",
        r"\S+ /graphql",
        r"POST /mlflow/demo/delete",
    ],
}

# Routes whose answer to ana shows her things, and what it shows; to ben they are not there.
OWNERS_READS = {
    "GET /mlflow/experiments/get": SECRET,
    "GET /mlflow/experiments/get-by-name": SECRET,
    "GET /mlflow/runs/get": SECRET,
    "GET /mlflow/registered-models/get": SECRET,
    "GET /mlflow/model-versions/get": SECRET,
    "GET /mlflow/logged-models/<model_id>": SECRET,
    "GET /mlflow/artifacts/list": '"root_uri"',
    "GET /get-artifact": SECRET,
    "GET /mlflow-artifacts/artifacts/<artifact_path>": SECRET,
    "POST /graphql": SECRET,
}

PROBE = r"""
import json, re, sys
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.routing import Mount
from labworks_hub.service.auth import Caller
from labworks_hub.service.errors import APIError
from labworks_hub.service.jobs.artifacts import ArtifactStore
from labworks_hub.service.tracking.gate import TrackingGate
from labworks_hub.service.tracking.server import TrackingServer

HOME, SECRET = sys.argv[1], sys.argv[2]
OUTBOUND, ADMIN, OWNERS_READS = (re.compile(p) for p in sys.argv[3:6])
CALLERS = {"ana": Caller("ana", "user"), "ben": Caller("ben", "user"),
           "root": Caller("root", "user", admin=True)}
PREFIX = re.compile(r"^/(?:ajax-)?api/\d+\.\d+")

class Identity:
    async def caller_for_token(self, token):
        if token not in CALLERS:
            raise APIError(401, "invalid token")
        return CALLERS[token]

server = TrackingServer(ArtifactStore(state_dir=HOME), state_dir=HOME,
                        platform_db_url=f"sqlite:///{HOME}/lw.sqlite")
app = FastAPI()
app.mount("/mlflow", TrackingGate(server, Identity()))
client = TestClient(app).__enter__()  # one event loop for every request

def call(who, method, path, params=None, body=None, content=None):
    headers = {"Authorization": f"Bearer {who}"} if who else {}
    return client.request(method, "/mlflow" + path, params=params, json=body, content=content,
                          headers=headers, timeout=10)

def ok(r):
    assert r.status_code == 200, r.text
    return r.json()

A = "/api/2.0/mlflow"
exp = ok(call("ana", "POST", A + "/experiments/create", body={"name": "ana-exp",
         "tags": [{"key": "note", "value": SECRET}]}))["experiment_id"]
run = ok(call("ana", "POST", A + "/runs/create", body={"experiment_id": exp}))["run"]
run = run["info"]["run_id"]
ok(call("ana", "POST", A + "/runs/log-parameter",
        body={"run_id": run, "key": "p", "value": SECRET}))
r = call("ana", "PUT", f"/api/2.0/mlflow-artifacts/artifacts/{exp}/{run}/artifacts/secret.txt",
         content=SECRET.encode())
assert r.status_code == 200, r.text
ok(call("ana", "POST", A + "/registered-models/create",
        body={"name": "ana-model", "description": SECRET}))
ok(call("ana", "POST", A + "/model-versions/create", body={"name": "ana-model",
        "source": f"runs:/{run}/secret.txt", "run_id": run, "description": SECRET}))
model = ok(call("ana", "POST", A + "/logged-models", body={"experiment_id": exp,
           "name": "ana-logged", "params": [{"key": "p", "value": SECRET}]}))["model"]
model = model["info"]["model_id"]

def templates():
    from mlflow.server import app as flask_app
    for rule in flask_app.url_map.iter_rules():
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            yield method, re.sub(r"<(?:\w+:)?(\w+)>", r"<\1>", rule.rule)
    def walk(items, prefix=""):
        for r in items:
            if isinstance(r, Mount):  # the Flask app, listed above
                continue
            if hasattr(r, "original_router"):
                yield from walk(r.original_router.routes, prefix + r.include_context.prefix)
            else:
                for method in r.methods or []:
                    yield method, prefix + re.sub(r"\{(\w+)(?::\w+)?\}", r"<\1>", r.path)
    yield from walk(server.app.routes)

# One template per folded route, /api/2.0 first; creation last (it adds names).
probe = {}
for method, template in sorted(set(templates()),
                               key=lambda t: (not t[1].startswith("/api/2.0"), t)):
    probe.setdefault(f"{method} {PREFIX.sub('', template)}", (method, template))
order = sorted(probe, key=lambda route: ("create" in route, route.startswith("DELETE"), route))

ANA = {"experiment_id": exp, "run_id": run, "model_id": model, "name": "ana-model",
       "experiment_name": "ana-exp", "artifact_path": f"{exp}/{run}/artifacts/secret.txt"}
MISSING = {"experiment_id": "987654", "run_id": "f" * 32, "model_id": "m-" + "f" * 32,
           "name": "no-such-model", "experiment_name": "no-such-exp",
           "artifact_path": f"987654/{'f' * 32}/artifacts/secret.txt"}

GRAPHQL = '{ mlflowGetExperiment(input: {experimentId: "%s"}) { experiment { tags { value } } } }'

def ask(who, route, ids):
    method, template = probe[route]
    path = re.sub(r"<(\w+)>", lambda m: ids.get(m.group(1), "x"), template)
    params = {"experiment_id": ids["experiment_id"], "experiment_ids": ids["experiment_id"],
              "run_id": ids["run_id"], "run_uuid": ids["run_id"], "name": ids["name"],
              "experiment_name": ids["experiment_name"], "version": "1",
              "model_id": ids["model_id"], "path": "secret.txt", "username": "ana"}
    body = {**params, "experiment_ids": [ids["experiment_id"]]}
    if template == "/graphql":
        body = {"query": GRAPHQL % ids["experiment_id"]}
    query = method in ("GET", "DELETE")
    r = call(who, method, path, params=params if query else None,
             body=None if method == "GET" else body)
    text = r.text
    for key in ("run_id", "model_id", "experiment_name", "name"):
        text = re.sub(rf"(?<![\w.-]){re.escape(ids[key])}(?![\w.-])", f"<{key}>", text)
    # Experiment ids and versions alike: short numbers, whoever's they are.
    return [r.status_code, re.sub(r"(?<![\w.-])\d{1,6}(?![\w.-])", "<n>", text)[:2000]]

out = {"routes": order, "answers": {}}
for route in order:
    answer = out["answers"][route] = {"anonymous": ask(None, route, ANA)}
    if not OUTBOUND.fullmatch(route):
        answer["ben"] = ask("ben", route, ANA)
        answer["ben: missing"] = ask("ben", route, MISSING)
for route in order:
    if OWNERS_READS.fullmatch(route):
        out["answers"][route]["ana"] = ask("ana", route, ANA)
for route in order:
    if ADMIN.fullmatch(route):
        out["answers"][route]["root"] = ask("root", route, ANA)
print(json.dumps(out))
"""

# Nothing may reach out: MLflow's HTTP calls fail at once where a route still tries.
NO_OUTBOUND = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", "MLFLOW_HTTP_REQUEST_TIMEOUT": "2"}


def kind_pattern(kind: str) -> str:
    return "|".join(f"(?:{line})" for line in DECISIONS[kind])


def decisions_of(route: str) -> list[tuple[str, str]]:
    """The (kind, line) of every DECISIONS line `route` matches."""
    return [
        (kind, line)
        for kind, lines in DECISIONS.items()
        for line in lines
        if re.fullmatch(line, route)
    ]


@pytest.fixture(scope="module")
def probed(tmp_path_factory) -> dict:
    home = tmp_path_factory.mktemp("tracking-routes")
    owners = "|".join(re.escape(route) for route in OWNERS_READS)
    patterns = [kind_pattern("outbound"), kind_pattern("admin"), owners]
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(home), SECRET, *patterns],
        capture_output=True, text=True, timeout=600,
        env={"PATH": "/usr/bin:/bin", "MLFLOW_DISABLE_TELEMETRY": "true", **NO_OUTBOUND},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def kind(route: str) -> str:
    return decisions_of(route)[0][0]


def test_every_mlflow_route_has_exactly_one_decision(probed):
    routes = probed["routes"]
    assert len(routes) > 200  # the whole table, Flask and FastAPI
    undecided = [route for route in routes if not decisions_of(route)]
    ambiguous = {route: found for route in routes if len(found := decisions_of(route)) > 1}
    unused = [
        line
        for lines in DECISIONS.values()
        for line in lines
        if not any(re.fullmatch(line, route) for route in routes)
    ]
    assert undecided == [], "MLflow routes without a decision"
    assert ambiguous == {}, "routes with more than one decision"
    assert unused == [], "decisions for routes MLflow no longer serves"
    assert set(OWNERS_READS) <= set(routes)


def test_anonymous_is_401_everywhere(probed):
    wrong = {
        route: answer["anonymous"]
        for route, answer in probed["answers"].items()
        if answer["anonymous"][0] != 401
    }
    assert wrong == {}


def test_user_role_and_permission_apis_answer_admins_only(probed):
    admin = [r for r in probed["routes"] if kind(r) == "admin"]
    assert len(admin) > 20
    for route in admin:
        answer = probed["answers"][route]
        for who in ("ben", "ben: missing"):
            status, body = answer[who]
            assert (status, json.loads(body)["message"]) == (403, ADMINS_ONLY), (route, who)
        status, body = answer["root"]
        assert status not in (401, 403) and ADMINS_ONLY not in body, (route, status, body)
    users = probed["answers"]["GET /mlflow/users/list"]["root"]
    assert users[0] == 200 and '"username":"ben"' in users[1].replace(" ", "")
    me = probed["answers"]["GET /mlflow/users/current"]["ben"]
    assert me[0] == 200 and '"username":"ben"' in me[1].replace(" ", "")
    for route in (r for r in probed["routes"] if kind(r) == "self"):
        status, body = probed["answers"][route]["ben"]
        assert status == 200 and '"ana' not in body, (route, body)


def test_another_users_things_are_not_there_and_never_shown(probed):
    """ben naming ana's experiment, run, models and files gets exactly what he gets naming
    things that do not exist (on every scoped route), and never sees what ana logged."""
    leaks, oracles = {}, {}
    for route, answer in probed["answers"].items():
        if "ben" not in answer:
            continue
        if SECRET in answer["ben"][1]:
            leaks[route] = answer["ben"]
        if kind(route) == "scoped" and answer["ben"] != answer["ben: missing"]:
            oracles[route] = (answer["ben"], answer["ben: missing"])
    assert leaks == {}
    assert oracles == {}
    uniform = json.dumps({"error": "not_found", "error_code": "RESOURCE_DOES_NOT_EXIST",
                          "message": NOT_FOUND})  # fmt: skip
    for route in OWNERS_READS.keys() - {"POST /graphql"}:  # GraphQL: null, as for none
        assert probed["answers"][route]["ben"] == [404, uniform], route


def test_the_owner_reads_what_ben_cannot(probed):
    for route, marker in OWNERS_READS.items():
        status, body = probed["answers"][route]["ana"]
        assert status == 200 and marker in body, (route, status, body)


def test_creating_under_a_taken_name_says_only_that(probed):
    """The one answer that differs by whose a name is: creating under a taken name (names are
    global in MLflow). It names nothing of the owner's."""
    taken = probed["answers"]["POST /mlflow/registered-models/create"]
    assert taken["ben"][0] == 400 and "RESOURCE_ALREADY_EXISTS" in taken["ben"][1]
    assert taken["ben: missing"][0] == 200
