"""``/labworks/sweeps/...`` (the Sweeps panel's and the Sweep dialog's routes) against a real
jupyter_server with the extension, relaying over real HTTP to a recording fake platform
service: the notebook read here and forwarded with the sweep's settings only, the owner's
token, the platform's refusals passed on with its message, visitors refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .conftest import IDP_USER, JobsPlatform, answer_of
from .test_jobs_handlers import notebook, put_notebook

SWEEP_ID = "0123456789ab"
SWEEP = {"id": SWEEP_ID, "name": "quad.ipynb", "owner": IDP_USER, "visibility": "private",
         "status": "running", "trial_list": []}  # fmt: skip


@pytest.fixture
def platform_api_url(jobs_platform: JobsPlatform) -> str:
    return jobs_platform.url


@pytest.fixture(autouse=True)
def owner(workspace_env: pytest.MonkeyPatch) -> str:
    workspace_env.setenv("JUPYTERHUB_USER", IDP_USER)
    return IDP_USER


async def test_create_reads_the_notebook_and_forwards_only_the_sweep_settings(
    lab: Any, jobs_platform: JobsPlatform, jp_root_dir: Path, hub_token: str
) -> None:
    content = notebook("x = 0.0")
    put_notebook(jp_root_dir, "work/quad.ipynb", content)
    jobs_platform.answer("POST", "/sweeps", SWEEP, status=201)
    space = {"x": {"type": "float", "low": -1, "high": 1}}

    reply = await lab(
        "POST",
        "sweeps",
        {"path": "/work/quad.ipynb", "space": space, "metric": "loss", "direction": "minimize",
         "sampler": "tpe", "pruner": "median", "trials": 8, "parallel": 2, "profile": "cpu",
         "owner": "mallory", "content": {"forged": True}},
    )  # fmt: skip

    assert reply.code == 201, reply.body
    assert answer_of(reply) == SWEEP
    sent = jobs_platform.only("POST", "/sweeps")
    assert sent.body == {
        "content": content, "path": "work/quad.ipynb", "space": space, "metric": "loss",
        "direction": "minimize", "sampler": "tpe", "pruner": "median", "trials": 8,
        "parallel": 2, "profile": "cpu",
    }  # fmt: skip
    assert sent.authorization == f"token {hub_token}"


async def test_create_refuses_what_is_not_a_notebook_here_without_calling_the_platform(
    lab: Any, jobs_platform: JobsPlatform
) -> None:
    reply = await lab("POST", "sweeps", {"path": "missing.ipynb", "metric": "loss"})
    assert reply.code == 404
    assert answer_of(reply)["message"] == "no notebook at missing.ipynb in this workspace"
    assert jobs_platform.sent == []


async def test_every_route_reaches_the_platform(lab: Any, jobs_platform: JobsPlatform) -> None:
    jobs_platform.answer("GET", "/sweeps", {"sweeps": [SWEEP]})
    jobs_platform.answer("GET", f"/sweeps/{SWEEP_ID}", SWEEP)
    for action in ("stop", "resume", "extend"):
        jobs_platform.answer("POST", f"/sweeps/{SWEEP_ID}/{action}", {**SWEEP, "a": action})
    jobs_platform.answer("DELETE", f"/sweeps/{SWEEP_ID}", None, status=204)

    assert answer_of(await lab("GET", "sweeps")) == {"sweeps": [SWEEP]}
    assert answer_of(await lab("GET", f"sweeps/{SWEEP_ID}")) == SWEEP
    for action in ("stop", "resume"):
        assert answer_of(await lab("POST", f"sweeps/{SWEEP_ID}/{action}", {}))["a"] == action
    reply = await lab("POST", f"sweeps/{SWEEP_ID}/extend", {"trials": 5, "other": 1})
    assert answer_of(reply)["a"] == "extend"
    assert jobs_platform.only("POST", f"/sweeps/{SWEEP_ID}/extend").body == {"trials": 5}
    assert (await lab("DELETE", f"sweeps/{SWEEP_ID}")).code == 204
    assert jobs_platform.only("DELETE", f"/sweeps/{SWEEP_ID}").body is None


@pytest.mark.parametrize("body", [{}, {"trials": "5"}, {"trials": True}, {"trials": 1.5}])
async def test_extend_without_a_whole_number_is_a_400_here(
    lab: Any, jobs_platform: JobsPlatform, body: dict[str, Any]
) -> None:
    reply = await lab("POST", f"sweeps/{SWEEP_ID}/extend", body)
    assert reply.code == 400
    assert answer_of(reply)["message"] == 'send {"trials": <how many more>}'
    assert jobs_platform.sent == []


async def test_the_platforms_refusal_is_passed_on_with_its_message(
    lab: Any, jobs_platform: JobsPlatform, jp_root_dir: Path
) -> None:
    put_notebook(jp_root_dir, "quad.ipynb", notebook("x = 0.0"))
    refusal = {"error": "invalid", "message": "space.y: the notebook has no parameter y"}
    jobs_platform.answer("POST", "/sweeps", refusal, status=400)
    jobs_platform.answer(
        "POST", f"/sweeps/{SWEEP_ID}/stop", {"error": "conflict", "message": "not running"}, 409
    )

    reply = await lab("POST", "sweeps", {"path": "quad.ipynb", "space": {"y": {}}})
    assert (reply.code, answer_of(reply)) == (400, refusal)
    reply = await lab("POST", f"sweeps/{SWEEP_ID}/stop", {})
    assert (reply.code, answer_of(reply)["message"]) == (409, "not running")


async def test_an_id_that_is_not_a_sweep_id_never_reaches_the_platform(
    lab: Any, jobs_platform: JobsPlatform
) -> None:
    for path in ("sweeps/..%2Fjobs", "sweeps/0123456789ab%2F..%2Fx", "sweeps/ABCDEF012345"):
        assert (await lab("GET", path)).code == 404
    assert jobs_platform.sent == []


async def test_visibility_answers_the_share_dialogs_shape(
    lab: Any, jobs_platform: JobsPlatform
) -> None:
    jobs_platform.answer("GET", f"/sweeps/{SWEEP_ID}", SWEEP)
    jobs_platform.answer(
        "PUT", f"/sweeps/{SWEEP_ID}/visibility", {**SWEEP, "visibility": "group:ml"}
    )

    shared = answer_of(await lab("GET", f"sweeps/{SWEEP_ID}/visibility"))
    assert shared == {"name": "quad.ipynb", "owner": IDP_USER, "visibility": "private",
                      "yours": True}  # fmt: skip
    reply = await lab("PUT", f"sweeps/{SWEEP_ID}/visibility", {"visibility": "group:ml"})
    assert answer_of(reply)["visibility"] == "group:ml"
    assert jobs_platform.only("PUT", f"/sweeps/{SWEEP_ID}/visibility").body == {
        "visibility": "group:ml"
    }
    reply = await lab("PUT", f"sweeps/{SWEEP_ID}/visibility", {"visibility": 3})
    assert reply.code == 400


async def test_a_visitor_of_a_shared_workspace_is_refused(
    lab: Any, jobs_platform: JobsPlatform, workspace_env: pytest.MonkeyPatch
) -> None:
    workspace_env.setenv("JUPYTERHUB_USER", "ada")
    for method, path, body in [
        ("GET", "sweeps", None),
        ("POST", "sweeps", {"path": "quad.ipynb"}),
        ("POST", f"sweeps/{SWEEP_ID}/stop", {}),
        ("DELETE", f"sweeps/{SWEEP_ID}", None),
        ("PUT", f"sweeps/{SWEEP_ID}/visibility", {"visibility": "public"}),
    ]:
        reply = await lab(method, path, body)
        assert reply.code == 403, (method, path)
        assert answer_of(reply)["message"].startswith("only ada, who owns this workspace")
    assert jobs_platform.sent == []
