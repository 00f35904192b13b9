"""Input that used to answer 500 (or was taken and failed later), on the real platform: each
probe answers 400 or 422 as JSON `{"error", "message"}` naming the field, never 500.

The probes are the ones a fuzzer and a person found: a cron expression that never fires, time
zones that are not zones, a runs-table page token or filter number past what the database holds,
a parameter name that papermill would inject as code into a notebook whose language it cannot
inspect, paths with NUL, bidi or blank parts, a webhook URL that does not parse.
"""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from tests.integration.test_jobs import notebook
from tests.platform import API

pytestmark = pytest.mark.e2e
MLFLOW = "/services/labworks/mlflow/api/2.0/mlflow"


def r_notebook() -> dict:
    """A notebook whose language (R) papermill cannot list parameters of, run by python3."""
    nb = notebook("print(x)", parameters="x = 1")
    nb["metadata"]["kernelspec"]["language"] = "R"
    return nb


def token_of(offset: int) -> str:
    return base64.b64encode(json.dumps({"offset": offset}).encode()).decode()


@pytest.fixture(scope="module")
def person(platform) -> str:
    platform.add_user("inana", "--group", "input-team")
    return platform.token("inana")


@pytest.fixture(scope="module")
def experiment(platform, person) -> str:
    created = httpx.post(
        platform.url + MLFLOW + "/experiments/create",
        json={"name": "input-errors"},
        headers={"Authorization": f"token {person}"},
        timeout=60,
    )
    assert created.status_code == 200, created.text
    return created.json()["experiment_id"]


def probes(experiment: str) -> list[tuple[str, str, dict, int, str]]:
    """(method, path, JSON body, status, what the message names)."""
    nb = notebook("print(x)", parameters="x = 1")
    never = "0 0 31 2 *"
    table = {"experiment_ids": [experiment]}
    file = {"sha256": "0" * 64, "size": 1}
    return [
        ("POST", "/schedules/preview", {"cron": never}, 400, "cron '0 0 31 2 *' never fires"),
        ("POST", "/schedules/preview", {"cron": "@daily", "timezone": "a" * 5000}, 422, "timezone"),
        ("POST", "/schedules/preview", {"cron": "@daily", "timezone": "Europe"}, 400,
         "unknown time zone 'Europe'"),
        ("POST", "/schedules", {"content": nb, "cron": never}, 400, "cron '0 0 31 2 *'"),
        ("POST", "/schedules", {"content": nb, "cron": "@daily", "timezone": "b" * 5000}, 422,
         "timezone"),
        ("POST", "/schedules", {"content": nb, "cron": "@daily", "timezone": "Europe"}, 400,
         "unknown time zone 'Europe'"),
        ("POST", "/jobs", {"content": nb, "path": "a\x00b.ipynb"}, 422, "path"),
        ("POST", "/jobs", {"content": nb, "path": "x/\u202egnp.ipynb"}, 422, "path"),
        ("POST", "/jobs", {"content": r_notebook(), "parameters": {"x\nsystem('id')": 1}}, 400,
         "parameter \"x\\nsystem('id')\" is not a valid name"),
        ("POST", "/jobs", {"content": nb, "parameters": {"x\nimport os": 1}}, 400,
         "parameter 'x\\nimport os' is not a valid name"),
        ("POST", "/experiments/runs/table", {**table, "page_token": token_of(10**30)}, 400,
         "page_token"),
        ("POST", "/experiments/runs/table", {**table, "page_token": "WzFd"}, 400, "page_token"),
        ("POST", "/experiments/runs/table",
         {**table, "filter": "attributes.start_time > 99999999999999999999"}, 400, "filter"),
        ("POST", "/datasets/inana/probe/versions", {"files": [{"path": "a\u202eb.csv", **file}]},
         400, "invalid file path"),
        ("POST", "/datasets/inana/probe/versions", {"files": [{"path": " ", **file}]}, 400,
         "invalid file path"),
        ("POST", "/gallery", {"group": "input-team", "name": "x\u202ebynpi.ipynb", "content": nb},
         400, "invalid notebook name"),
        ("PUT", "/jobs/notifications", {"webhook_url": "http://[::1"}, 422, "webhook_url"),
    ]  # fmt: skip


def test_each_probe_answers_400_or_422_naming_the_field(platform, person, experiment):
    answers = []
    for method, path, body, status, names in probes(experiment):
        reply = httpx.request(
            method, platform.url + API + path, json=body, timeout=60,
            headers={"Authorization": f"token {person}"},
        )  # fmt: skip
        answers.append((method, path, reply.status_code, reply.text[:300]))
        assert reply.status_code == status, answers[-1]
        assert set(reply.json()) == {"error", "message"}, answers[-1]
        assert names in reply.json()["message"], answers[-1]
    listed = httpx.get(
        platform.url + API + "/jobs", headers={"Authorization": f"token {person}"}, timeout=60
    )
    assert listed.json()["total"] == 0, "no probe was queued as a job"
