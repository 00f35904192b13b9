"""``/labworks/jobs``, ``/labworks/schedules`` and ``/labworks/profiles`` against a real
jupyter_server with the extension, forwarding over real HTTP to a fake platform service that
records what it was sent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
import pytest

from .conftest import IDP_USER, JobsPlatform, answer_of, call

JOB_ID = "4f0c2a9e81d3"
SCHEDULE_ID = "9b3e5f00a1c2"


@pytest.fixture
def platform_api_url(jobs_platform: JobsPlatform) -> str:
    return jobs_platform.url


@pytest.fixture(autouse=True)
def owner(workspace_env: pytest.MonkeyPatch) -> str:
    """The test token's user owns the workspace (the jobs routes are the owner's)."""
    workspace_env.setenv("JUPYTERHUB_USER", IDP_USER)
    return IDP_USER


def notebook(parameters: str = "epochs = 10") -> dict[str, Any]:
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(parameters, metadata={"tags": ["parameters"]}),
            nbformat.v4.new_code_cell("print(epochs)"),
        ]
    )
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"c{i}"
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    return json.loads(nbformat.writes(nb))


def put_notebook(root: Path, path: str, content: dict[str, Any]) -> None:
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(content), encoding="utf-8")


def job(**fields: Any) -> dict[str, Any]:
    base = {"id": JOB_ID, "name": "train.ipynb", "owner": IDP_USER, "status": "succeeded",
            "notebook_path": "work/train.ipynb", "notebook_sha256": "", "kernel_name": "python3",
            "parameters": {"epochs": 20}}  # fmt: skip
    return {**base, **fields}


async def test_submit_reads_the_notebook_and_forwards_it_with_the_settings(
    lab: Any, jobs_platform: JobsPlatform, jp_root_dir: Path, hub_token: str
) -> None:
    content = notebook()
    put_notebook(jp_root_dir, "work/train.ipynb", content)
    jobs_platform.answer("POST", "/jobs", job(status="queued"), status=201)

    reply = await lab(
        "POST", "jobs",
        {"path": "/work/train.ipynb", "parameters": {"epochs": 20}, "profile": "cpu-small",
         "name": "nightly", "timeout": 600, "retries": 2, "share_with_group": "ml",
         "content": {"not": "taken from the lab"}, "owner": "mallory"},
    )  # fmt: skip

    assert reply.code == 201
    assert answer_of(reply)["status"] == "queued"
    sent = jobs_platform.only("POST", "/jobs")
    assert sent.authorization == f"token {hub_token}"
    assert sent.body == {
        "content": content, "path": "work/train.ipynb", "parameters": {"epochs": 20},
        "profile": "cpu-small", "name": "nightly", "timeout": 600, "retries": 2,
        "share_with_group": "ml",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"path": "missing.ipynb"}, 404, "no notebook at missing.ipynb in this workspace"),
        ({"path": "notes.txt"}, 400, "notes.txt is not a notebook (.ipynb)"),
        ({"path": ""}, 400, 'give the notebook\'s "path" in this workspace'),
        ({}, 400, 'give the notebook\'s "path" in this workspace'),
        ([1, 2], 400, "send a JSON object in the request body"),
    ],
)
async def test_submit_refuses_what_is_not_a_notebook_here_without_calling_the_platform(
    lab: Any, jobs_platform: JobsPlatform, body: Any, status: int, message: str
) -> None:
    reply = await lab("POST", "jobs", body)

    assert reply.code == status
    assert answer_of(reply)["message"] == message
    assert jobs_platform.sent == []


async def test_an_unreadable_notebook_is_a_clear_400(
    lab: Any, jobs_platform: JobsPlatform, jp_root_dir: Path
) -> None:
    (jp_root_dir / "broken.ipynb").write_text("{not json", encoding="utf-8")

    reply = await lab("POST", "jobs", {"path": "broken.ipynb"})

    assert reply.code == 400
    assert answer_of(reply)["message"].startswith("cannot read broken.ipynb as a notebook")
    assert jobs_platform.sent == []


async def test_the_platforms_refusal_reaches_the_lab_with_its_status_and_message(
    lab: Any, jobs_platform: JobsPlatform, jp_root_dir: Path
) -> None:
    put_notebook(jp_root_dir, "train.ipynb", notebook())
    message = "unknown parameter 'epoch' (the notebook declares: epochs)"
    jobs_platform.answer("POST", "/jobs", {"error": "bad_request", "message": message}, 400)

    reply = await lab("POST", "jobs", {"path": "train.ipynb", "parameters": {"epoch": 1}})

    assert reply.code == 400
    assert answer_of(reply) == {"error": "bad_request", "message": message}


async def test_inspect_forwards_the_notebook_content(
    lab: Any, jobs_platform: JobsPlatform, jp_root_dir: Path
) -> None:
    content = notebook("epochs = 10  # passes")
    put_notebook(jp_root_dir, "a b@c/train.ipynb", content)
    epochs = {"name": "epochs", "type": "int", "default": 10, "default_text": "10",
              "help": "passes"}  # fmt: skip
    info = {"kernel_name": "python3", "language": "python", "has_parameters_cell": True,
            "inspectable": True, "parameters": [epochs]}  # fmt: skip
    jobs_platform.answer("POST", "/jobs/inspect", info)

    reply = await lab("GET", "jobs/inspect?path=a%20b%40c%2Ftrain.ipynb")

    assert reply.code == 200
    assert answer_of(reply) == info
    assert jobs_platform.only("POST", "/jobs/inspect").body == {
        "content": content,
        "kernel_name": None,
    }


async def test_the_listing_forwards_filters_and_repeated_statuses(
    lab: Any, jobs_platform: JobsPlatform
) -> None:
    listing = {"jobs": [job()], "total": 1, "limit": 20, "offset": 0}
    jobs_platform.answer("GET", "/jobs", listing)

    reply = await lab(
        "GET", "jobs?status=queued&status=running&q=tr%20ain&mine=true&limit=20&evil=1&offset="
    )

    assert reply.code == 200
    assert answer_of(reply) == listing
    assert jobs_platform.only("GET", "/jobs").query == [
        ("status", "queued"), ("status", "running"), ("q", "tr ain"), ("mine", "true"),
        ("limit", "20"),
    ]  # fmt: skip


async def test_job_logs_output_cancel_and_rerun_are_forwarded(
    lab: Any, jobs_platform: JobsPlatform
) -> None:
    chunk = {"job_id": JOB_ID, "attempt": 1, "offset": 120, "next_offset": 180,
             "text": "epoch 1\n", "complete": False}  # fmt: skip
    jobs_platform.answer("GET", f"/jobs/{JOB_ID}", job())
    jobs_platform.answer("GET", f"/jobs/{JOB_ID}/logs", chunk)
    jobs_platform.answer("GET", f"/jobs/{JOB_ID}/output", {"content": notebook()})
    jobs_platform.answer("POST", f"/jobs/{JOB_ID}/cancel", job(status="cancelled"))
    jobs_platform.answer("POST", f"/jobs/{JOB_ID}/rerun", job(id="aaaa11112222"), 201)

    assert answer_of(await lab("GET", f"jobs/{JOB_ID}"))["id"] == JOB_ID
    assert answer_of(await lab("GET", f"jobs/{JOB_ID}/logs?offset=120"))["text"] == "epoch 1\n"
    assert jobs_platform.only("GET", f"/jobs/{JOB_ID}/logs").query == [("offset", "120")]
    assert (await lab("GET", f"jobs/{JOB_ID}/output?attempt=2")).code == 200
    assert jobs_platform.only("GET", f"/jobs/{JOB_ID}/output").query == [("attempt", "2")]
    cancelled = await lab("POST", f"jobs/{JOB_ID}/cancel", {})
    assert answer_of(cancelled)["status"] == "cancelled"
    rerun = await lab("POST", f"jobs/{JOB_ID}/rerun", {"parameters": {"epochs": 40}})
    assert rerun.code == 201
    assert answer_of(rerun)["id"] == "aaaa11112222"
    assert jobs_platform.only("POST", f"/jobs/{JOB_ID}/rerun").body == {
        "parameters": {"epochs": 40}
    }


async def test_rerun_without_a_body_keeps_the_jobs_parameters_and_refuses_bad_ones(
    lab: Any, jobs_platform: JobsPlatform
) -> None:
    jobs_platform.answer("POST", f"/jobs/{JOB_ID}/rerun", job(id="bbbb11112222"), 201)

    assert (await lab("POST", f"jobs/{JOB_ID}/rerun", {})).code == 201
    assert jobs_platform.only("POST", f"/jobs/{JOB_ID}/rerun").body == {"parameters": None}

    bad = await lab("POST", f"jobs/{JOB_ID}/rerun", {"parameters": [1]})
    assert bad.code == 400
    assert answer_of(bad)["message"] == '"parameters" must be an object of name: value'
    assert len(jobs_platform.sent) == 1


async def test_unknown_job_ids_are_the_platforms_404_and_odd_ids_never_leave(
    lab: Any, jobs_platform: JobsPlatform
) -> None:
    jobs_platform.answer(
        "GET", "/jobs/ffff00000000", {"error": "not_found", "message": "no job ffff00000000"}, 404
    )

    assert answer_of(await lab("GET", "jobs/ffff00000000"))["message"] == "no job ffff00000000"
    assert (await lab("GET", "jobs/..%2Fschedules")).code == 404
    assert [s.path for s in jobs_platform.sent] == ["/jobs/ffff00000000"]


INSPECTED = {"kernel_name": "labworks-python3", "language": "python",
             "has_parameters_cell": True, "inspectable": True,
             "parameters": [{"name": "epochs", "type": "int", "default": "10"}]}  # fmt: skip


@pytest.mark.parametrize("kind", ["jobs", "schedules"])
async def test_parameters_are_the_platforms_answer_in_one_call(
    lab: Any, jobs_platform: JobsPlatform, kind: str
) -> None:
    thing = JOB_ID if kind == "jobs" else SCHEDULE_ID
    jobs_platform.answer("GET", f"/{kind}/{thing}/parameters", INSPECTED)

    reply = await lab("GET", f"{kind}/{thing}/parameters")

    assert reply.code == 200
    assert answer_of(reply) == INSPECTED
    assert [(s.method, s.path) for s in jobs_platform.sent] == [
        ("GET", f"/{kind}/{thing}/parameters")
    ]


@pytest.mark.parametrize("kind", ["jobs", "schedules"])
async def test_parameters_of_what_i_may_not_see_are_the_platforms_404(
    lab: Any, jobs_platform: JobsPlatform, kind: str
) -> None:
    thing = JOB_ID if kind == "jobs" else SCHEDULE_ID
    refusal = {"error": "not_found", "message": f"no {kind[:-1]} {thing}"}
    jobs_platform.answer("GET", f"/{kind}/{thing}/parameters", refusal, status=404)

    reply = await lab("GET", f"{kind}/{thing}/parameters")

    assert reply.code == 404
    assert answer_of(reply) == refusal


async def test_a_jobs_runs_are_the_platforms_answer(lab: Any, jobs_platform: JobsPlatform) -> None:
    runs = {"job_id": JOB_ID, "runs": ["9f0c" * 8]}
    jobs_platform.answer("GET", f"/jobs/{JOB_ID}/runs", runs)

    reply = await lab("GET", f"jobs/{JOB_ID}/runs")

    assert reply.code == 200 and answer_of(reply) == runs
    assert [(s.method, s.path) for s in jobs_platform.sent] == [("GET", f"/jobs/{JOB_ID}/runs")]


async def test_diff_files_write_the_exact_input_and_the_output_for_nbdime(
    lab: Any, jobs_platform: JobsPlatform, jp_root_dir: Path
) -> None:
    source = notebook()
    put_notebook(jp_root_dir, "work/train.ipynb", notebook("epochs = 99"))  # edited since
    output = notebook("epochs = 10\n# ran")
    jobs_platform.answer(
        "GET", f"/jobs/{JOB_ID}/notebook", {"content": source, "path": "work/train.ipynb"}
    )
    jobs_platform.answer("GET", f"/jobs/{JOB_ID}/output", {"content": output})

    reply = answer_of(await lab("POST", f"jobs/{JOB_ID}/diff-files", {}))

    assert reply == {
        "base": f".labworks/jobs/{JOB_ID}/source.ipynb",
        "remote": f".labworks/jobs/{JOB_ID}/output.ipynb",
        "source_path": "work/train.ipynb",
    }
    assert json.loads((jp_root_dir / reply["base"]).read_text()) == source
    assert json.loads((jp_root_dir / reply["remote"]).read_text()) == output


async def test_diff_files_pass_on_the_platforms_refusal(
    lab: Any, jobs_platform: JobsPlatform, jp_root_dir: Path
) -> None:
    jobs_platform.answer(
        "GET",
        f"/jobs/{JOB_ID}/notebook",
        {"error": "not_found", "message": f"no job {JOB_ID}"},
        status=404,
    )
    jobs_platform.answer("GET", f"/jobs/{JOB_ID}/output", {"content": notebook()})
    gone = await lab("POST", f"jobs/{JOB_ID}/diff-files", {})
    assert gone.code == 404
    assert answer_of(gone)["message"] == f"no job {JOB_ID}"
    assert not (jp_root_dir / ".labworks").exists()


async def test_only_the_workspace_owner_may_use_the_jobs_routes(
    lab: Any, jobs_platform: JobsPlatform, workspace_env: pytest.MonkeyPatch, hub_token: str
) -> None:
    workspace_env.setenv("JUPYTERHUB_USER", "bob")

    for method, path in [("GET", "jobs"), ("POST", "jobs"), ("GET", "schedules"),
                         ("POST", f"jobs/{JOB_ID}/cancel"), ("GET", "profiles"),
                         ("PATCH", f"schedules/{SCHEDULE_ID}"), ("GET", "jobs/notifications"),
                         ("PUT", "jobs/notifications")]:  # fmt: skip
        reply = await lab(method, path, None if method == "GET" else {})
        assert reply.code == 403
        message = answer_of(reply)["message"]
        assert message.startswith("only bob, who owns this workspace, can run and see jobs")
        assert hub_token not in message
    assert jobs_platform.sent == []


async def test_no_route_answers_without_authentication(
    http_server: Any, jp_http_port: int, jp_base_url: str, jobs_platform: JobsPlatform
) -> None:
    for method, path in [("GET", "jobs"), ("POST", "jobs"), ("GET", f"jobs/{JOB_ID}/logs"),
                         ("POST", "schedules/preview"), ("GET", "profiles"),
                         ("PATCH", f"schedules/{SCHEDULE_ID}"), ("GET", "jobs/notifications"),
                         ("PUT", "jobs/notifications")]:  # fmt: skip
        reply = await call(
            jp_http_port, jp_base_url, {}, method, path, None if method == "GET" else {}
        )
        assert reply.code == 403
    assert jobs_platform.sent == []


async def test_polling_is_not_activity_but_an_action_is(
    lab: Any, jobs_platform: JobsPlatform, jp_serverapp: Any
) -> None:
    settings = jp_serverapp.web_app.settings
    jobs_platform.answer("GET", "/jobs", {"jobs": [], "total": 0, "limit": 100, "offset": 0})
    jobs_platform.answer("POST", f"/jobs/{JOB_ID}/cancel", job(status="cancelled"))
    settings.pop("api_last_activity", None)

    assert (await lab("GET", "jobs?mine=true")).code == 200
    assert "api_last_activity" not in settings

    assert (await lab("POST", f"jobs/{JOB_ID}/cancel", {})).code == 200
    assert "api_last_activity" in settings


async def test_profiles_are_the_platforms_list(lab: Any, jobs_platform: JobsPlatform) -> None:
    listing = {"profiles": [
        {"name": "cpu-small", "display_name": "CPU small", "description": "", "cpu_limit": 2.0,
         "mem_limit": 4 * 2**30, "gpu_count": 0, "gpu_model": "", "default": True,
         "available": True, "reason": None},
        {"name": "gpu-1", "display_name": "1 GPU", "description": "", "cpu_limit": 8.0,
         "mem_limit": None, "gpu_count": 1, "gpu_model": "", "default": False,
         "available": False, "reason": "needs 1 GPU(s); jobs here have no GPU"},
    ]}  # fmt: skip
    jobs_platform.answer("GET", "/profiles", listing)

    reply = await lab("GET", "profiles")

    assert reply.code == 200
    assert answer_of(reply) == listing
    assert jobs_platform.only("GET", "/profiles").query == []


async def test_a_schedule_change_forwards_only_what_may_change(
    lab: Any, jobs_platform: JobsPlatform, hub_token: str
) -> None:
    changed = {"id": SCHEDULE_ID, "cron": "15 7 * * *", "timezone": "Asia/Tokyo"}
    jobs_platform.answer("PATCH", f"/schedules/{SCHEDULE_ID}", changed)

    reply = await lab(
        "PATCH", f"schedules/{SCHEDULE_ID}",
        {"cron": "15 7 * * *", "timezone": "Asia/Tokyo", "parameters": {"epochs": 3},
         "profile": "cpu-large", "paused": False, "owner": "mallory", "content": {}},
    )  # fmt: skip

    assert reply.code == 200
    assert answer_of(reply) == changed
    sent = jobs_platform.only("PATCH", f"/schedules/{SCHEDULE_ID}")
    assert sent.authorization == f"token {hub_token}"
    assert sent.body == {
        "cron": "15 7 * * *", "timezone": "Asia/Tokyo", "parameters": {"epochs": 3},
        "profile": "cpu-large", "paused": False,
    }  # fmt: skip


async def test_a_refused_schedule_change_reaches_the_lab_and_bad_bodies_never_leave(
    lab: Any, jobs_platform: JobsPlatform
) -> None:
    message = "invalid cron expression '61 * * * *': minute must be 0-59"
    jobs_platform.answer(
        "PATCH", f"/schedules/{SCHEDULE_ID}", {"error": "bad_request", "message": message}, 400
    )

    refused = await lab("PATCH", f"schedules/{SCHEDULE_ID}", {"cron": "61 * * * *"})
    assert refused.code == 400
    assert answer_of(refused) == {"error": "bad_request", "message": message}

    bad = await lab("PATCH", f"schedules/{SCHEDULE_ID}", ["cron"])
    assert bad.code == 400
    assert answer_of(bad)["message"] == "send a JSON object in the request body"
    assert len(jobs_platform.sent) == 1


async def test_notification_settings_are_read_and_replaced_on_the_platform(
    lab: Any, jobs_platform: JobsPlatform
) -> None:
    saved = {"webhook_url": "https://hooks.example.org/T0", "email": "", "events": "finished",
             "email_available": False}  # fmt: skip
    jobs_platform.answer("GET", "/jobs/notifications", {**saved, "events": "failed"})
    jobs_platform.answer("PUT", "/jobs/notifications", saved)

    assert answer_of(await lab("GET", "jobs/notifications"))["events"] == "failed"
    reply = await lab(
        "PUT", "jobs/notifications",
        {"webhook_url": "https://hooks.example.org/T0", "email": "", "events": "finished",
         "email_available": True, "user": "mallory"},
    )  # fmt: skip

    assert reply.code == 200
    assert answer_of(reply) == saved
    assert jobs_platform.only("PUT", "/jobs/notifications").body == {
        "webhook_url": "https://hooks.example.org/T0", "email": "", "events": "finished",
    }  # fmt: skip


async def test_a_refused_notification_setting_keeps_the_platforms_422(
    lab: Any, jobs_platform: JobsPlatform
) -> None:
    message = "e-mail notifications are not configured on this platform"
    jobs_platform.answer(
        "PUT", "/jobs/notifications", {"error": "invalid", "message": message}, 422
    )

    reply = await lab("PUT", "jobs/notifications", {"email": "ana@example.org"})

    assert reply.code == 422
    assert answer_of(reply) == {"error": "invalid", "message": message}
    assert (await lab("PUT", "jobs/notifications", "events")).code == 400
    assert len(jobs_platform.sent) == 1
