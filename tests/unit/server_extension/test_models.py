"""``/labworks/deployments/...`` (the Models panel's routes) against a real jupyter_server with
the extension, relaying over real HTTP to a recording fake platform service and a fake inference
gateway beside it: only the fields the platform takes, the owner's token, answers passed on as
they are (the gateway's with the version that gave them), refusals with their message, visitors
and names that are not endpoint names refused before anything is sent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import tornado.web
from tornado.httpserver import HTTPServer
from tornado.testing import bind_unused_port

from labworks_server.models import gateway_url

from .conftest import IDP_USER, JobsPlatform, Recorder, answer_of

NAME = "iris"
DEPLOYMENT = {"name": NAME, "owner": IDP_USER, "visibility": "private", "model": "Iris",
              "version": "1", "canary_version": None, "canary_percent": 0,
              "task": "classification", "status": "ready", "reason": "",
              "url": "http://hub/services/labworks/models/v2/models/iris/infer",
              "servers": [], "events": []}  # fmt: skip
INFER = {"inputs": [{"name": "input-0", "shape": [1, 2], "datatype": "FP64", "data": [0, 1]}]}
ANSWER = {"model_name": NAME, "outputs": [{"name": "label", "shape": [1], "datatype": "BYTES",
          "data": ["setosa"]}]}  # fmt: skip


class GatewayRecorder(Recorder):
    """The gateway: answers as canned, saying which version answered."""

    def finish(self, chunk: Any = None) -> Any:
        if self.get_status() < 300:
            self.set_header("X-Labworks-Model-Version", "1")
        return super().finish(chunk)


class Platform:
    def __init__(self) -> None:
        self.api, self.gateway = JobsPlatform(), JobsPlatform()


@pytest.fixture
async def both() -> AsyncIterator[Platform]:
    platform = Platform()
    sock, port = bind_unused_port()
    app = tornado.web.Application(
        [
            (r"/services/labworks/api/v1/(.*)", Recorder, {"platform": platform.api}),
            (r"/services/labworks/models/v2/models/(.*)", GatewayRecorder,
             {"platform": platform.gateway}),
        ]
    )  # fmt: skip
    server = HTTPServer(app)
    server.add_sockets([sock])
    platform.api.url = f"http://127.0.0.1:{port}/services/labworks/api/v1"
    yield platform
    server.stop()
    await server.close_all_connections()


@pytest.fixture
def platform_api_url(both: Platform) -> str:
    return both.api.url


@pytest.fixture(autouse=True)
def owner(workspace_env: pytest.MonkeyPatch) -> str:
    workspace_env.setenv("JUPYTERHUB_USER", IDP_USER)
    return IDP_USER


def test_the_gateway_is_beside_the_api() -> None:
    assert gateway_url("http://h:8/services/labworks/api/v1/") == (
        "http://h:8/services/labworks/models/v2/models"
    )
    assert gateway_url("") == ""


async def test_serve_forwards_only_the_serve_fields_with_the_owners_token(
    lab: Any, both: Platform, hub_token: str
) -> None:
    both.api.answer("POST", "/deployments", DEPLOYMENT, status=201)
    reply = await lab(
        "POST",
        "deployments",
        {
            "model": "Iris",
            "version": "1",
            "name": NAME,
            "task": "classification",
            "owner": "mallory",
        },
    )
    assert reply.code == 201, reply.body
    assert answer_of(reply) == DEPLOYMENT
    sent = both.api.only("POST", "/deployments")
    assert sent.body == {"model": "Iris", "version": "1", "name": NAME, "task": "classification"}
    assert sent.authorization == f"token {hub_token}"


async def test_every_deployment_route_reaches_the_platform(lab: Any, both: Platform) -> None:
    both.api.answer("GET", "/deployments", {"deployments": [DEPLOYMENT]})
    both.api.answer("GET", f"/deployments/{NAME}", DEPLOYMENT)
    both.api.answer("PUT", f"/deployments/{NAME}/traffic", {**DEPLOYMENT, "canary_percent": 10})
    both.api.answer("POST", f"/deployments/{NAME}/promote", {**DEPLOYMENT, "version": "2"})
    both.api.answer("DELETE", f"/deployments/{NAME}", {**DEPLOYMENT, "status": "stopped"}, 202)

    assert answer_of(await lab("GET", "deployments")) == {"deployments": [DEPLOYMENT]}
    assert answer_of(await lab("GET", f"deployments/{NAME}")) == DEPLOYMENT
    traffic = {"canary_version": "2", "percent": 10, "reason": "try 2", "version": "9"}
    reply = await lab("PUT", f"deployments/{NAME}/traffic", traffic)
    assert answer_of(reply)["canary_percent"] == 10
    assert both.api.only("PUT", f"/deployments/{NAME}/traffic").body == {
        "canary_version": "2", "percent": 10, "reason": "try 2"
    }  # fmt: skip
    reply = await lab("POST", f"deployments/{NAME}/promote", {"reason": "good", "x": 1})
    assert answer_of(reply)["version"] == "2"
    assert both.api.only("POST", f"/deployments/{NAME}/promote").body == {"reason": "good"}
    reply = await lab("DELETE", f"deployments/{NAME}")
    assert (reply.code, answer_of(reply)["status"]) == (202, "stopped")


async def test_the_platforms_refusal_is_passed_on_with_its_message(
    lab: Any, both: Platform
) -> None:
    refusal = {"error": "invalid", "message": "version 1 of Iris has no task type: pass task"}
    both.api.answer("POST", "/deployments", refusal, status=400)
    both.api.answer("PUT", f"/deployments/{NAME}/traffic",
                    {"error": "forbidden", "message": "only its owner may"}, 403)  # fmt: skip

    reply = await lab("POST", "deployments", {"model": "Iris", "version": "1"})
    assert (reply.code, answer_of(reply)) == (400, refusal)
    reply = await lab("PUT", f"deployments/{NAME}/traffic", {"percent": 5})
    assert (reply.code, answer_of(reply)["message"]) == (403, "only its owner may")


async def test_visibility_answers_the_share_dialogs_shape(lab: Any, both: Platform) -> None:
    both.api.answer("GET", f"/deployments/{NAME}", DEPLOYMENT)
    both.api.answer(
        "PUT", f"/deployments/{NAME}/visibility", {**DEPLOYMENT, "visibility": "public"}
    )

    shared = answer_of(await lab("GET", f"deployments/{NAME}/visibility"))
    assert shared == {"name": NAME, "owner": IDP_USER, "visibility": "private", "yours": True}
    reply = await lab("PUT", f"deployments/{NAME}/visibility", {"visibility": "public"})
    assert answer_of(reply)["visibility"] == "public"
    assert both.api.only("PUT", f"/deployments/{NAME}/visibility").body == {"visibility": "public"}
    assert (await lab("PUT", f"deployments/{NAME}/visibility", {"visibility": 1})).code == 400


async def test_try_it_reaches_the_gateway_and_answers_as_it_is(
    lab: Any, both: Platform, hub_token: str
) -> None:
    metadata = {"name": NAME, "inputs": [{"name": "input-0", "datatype": "FP64",
                                          "shape": [-1, 2]}]}  # fmt: skip
    both.gateway.answer("GET", f"/{NAME}", metadata)
    both.gateway.answer("POST", f"/{NAME}/infer", ANSWER)
    both.gateway.answer("POST", f"/{NAME}/versions/2/infer", {**ANSWER, "model_version": "2"})

    assert answer_of(await lab("GET", f"deployments/{NAME}/metadata")) == metadata
    reply = await lab("POST", f"deployments/{NAME}/infer", INFER)
    assert (reply.code, answer_of(reply)) == (200, ANSWER)
    assert reply.headers["X-Labworks-Model-Version"] == "1"
    sent = both.gateway.only("POST", f"/{NAME}/infer")
    assert (sent.body, sent.authorization) == (INFER, f"token {hub_token}")
    reply = await lab("POST", f"deployments/{NAME}/infer?version=2", INFER)
    assert answer_of(reply)["model_version"] == "2"
    assert both.api.sent == []


async def test_the_gateways_refusal_keeps_its_status_and_text(lab: Any, both: Platform) -> None:
    both.gateway.answer(
        "POST", f"/{NAME}/infer", {"error": "input-0: shape [1, 3] does not match 2 values"}, 400
    )
    both.gateway.answer(
        "GET", f"/{NAME}", {"error": "version 1 of iris is starting; try again shortly"}, 503
    )

    reply = await lab("POST", f"deployments/{NAME}/infer", INFER)
    assert reply.code == 400
    assert answer_of(reply) == {
        "error": "inference_error",
        "message": "input-0: shape [1, 3] does not match 2 values",
    }
    reply = await lab("GET", f"deployments/{NAME}/metadata")
    assert (reply.code, answer_of(reply)["message"]) == (
        503, "version 1 of iris is starting; try again shortly"
    )  # fmt: skip


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        (f"deployments/{NAME}/infer", [1, 2], 400),
        (f"deployments/{NAME}/infer?version=..%2F1", INFER, 400),
        (f"deployments/{NAME}/infer", {"inputs": [{"data": "x" * (8 << 20)}]}, 413),
    ],
)
async def test_bad_inference_requests_never_leave(
    lab: Any, both: Platform, path: str, body: Any, status: int
) -> None:
    reply = await lab("POST", path, body)
    assert reply.code == status, reply.body
    assert answer_of(reply)["message"]
    assert both.gateway.sent == []


async def test_a_name_that_is_not_an_endpoint_name_never_reaches_the_platform(
    lab: Any, both: Platform
) -> None:
    for path in ("deployments/..%2Fjobs", "deployments/Iris", "deployments/iris%2F..%2Fx",
                 "deployments/-iris/infer"):  # fmt: skip
        assert (await lab("GET", path)).code == 404
    assert both.api.sent == [] and both.gateway.sent == []


async def test_a_visitor_of_a_shared_workspace_is_refused(
    lab: Any, both: Platform, workspace_env: pytest.MonkeyPatch
) -> None:
    workspace_env.setenv("JUPYTERHUB_USER", "ada")
    for method, path, body in [
        ("GET", "deployments", None),
        ("POST", "deployments", {"model": "Iris", "version": "1"}),
        ("GET", f"deployments/{NAME}/metadata", None),
        ("POST", f"deployments/{NAME}/infer", INFER),
        ("DELETE", f"deployments/{NAME}", None),
        ("PUT", f"deployments/{NAME}/visibility", {"visibility": "public"}),
    ]:
        reply = await lab(method, path, body)
        assert reply.code == 403, (method, path)
        assert answer_of(reply)["message"].startswith("only ada, who owns this workspace")
    assert both.api.sent == [] and both.gateway.sent == []


async def test_a_models_version_alias_task_and_history_routes_reach_the_platform(
    lab: Any, both: Platform, hub_token: str
) -> None:
    """A model name holding '/' and a space travels as one segment, encoded again; only the
    fields the platform takes are sent."""
    model = "team/churn v2"
    lab_path, base = "models/team%2Fchurn%20v2", "/models/team/churn v2"  # as the platform reads
    version = {"name": model, "version": "3", "task": "regression", "task_inferred": True}
    both.api.answer("GET", base + "/versions", {"versions": [version]})
    both.api.answer("GET", base + "/versions/3", version)
    both.api.answer("PUT", base + "/versions/3/task", {**version, "task": "seq2seq"})
    both.api.answer("PUT", base + "/aliases/production", {**version, "aliases": ["production"]})
    both.api.answer("DELETE", base + "/aliases/production", {"name": model, "events": []})
    both.api.answer("GET", base + "/history", {"name": model, "events": []})

    assert answer_of(await lab("GET", lab_path + "/versions")) == {"versions": [version]}
    assert answer_of(await lab("GET", lab_path + "/versions/3")) == version
    reply = await lab("PUT", lab_path + "/versions/3/task",
                      {"task": "seq2seq", "reason": "text", "owner": "x"})  # fmt: skip
    assert answer_of(reply)["task"] == "seq2seq"
    assert both.api.only("PUT", base + "/versions/3/task").body == {
        "task": "seq2seq", "reason": "text"
    }  # fmt: skip
    reply = await lab("PUT", lab_path + "/aliases/production", {"version": "3", "reason": "ok"})
    assert answer_of(reply)["aliases"] == ["production"]
    sent = both.api.only("PUT", base + "/aliases/production")
    assert (sent.body, sent.authorization) == (
        {"version": "3", "reason": "ok"},
        f"token {hub_token}",
    )
    reply = await lab("DELETE", lab_path + "/aliases/production?reason=rolled%20back")
    assert reply.code == 200, reply.body
    assert both.api.only("DELETE", base + "/aliases/production").query == [
        ("reason", "rolled back")
    ]
    assert answer_of(await lab("GET", lab_path + "/history"))["events"] == []
