"""The tracking server behind the trust boundary, on the real platform, as an attacker would
try it: two users (tsana, tsben) and the hub admin, the stock `mlflow` client and raw REST.

- An experiment's artifact location is the platform's: a client's `artifact_location` is
  refused, and an experiment whose stored location points elsewhere (made before the rule)
  reads, writes and lists nothing there.
- MLflow's user, role and permission APIs answer the admin only.
- Someone else's experiment name and a name that does not exist get one answer.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
import pytest

from tests.integration.test_tracking import TRACKING, as_user

pytestmark = pytest.mark.e2e
MARKER = "marker-of-the-victim-dir"


@pytest.fixture(scope="module")
def people(platform):
    platform.add_user("tsana")
    platform.add_user("tsben")
    return {name: platform.token(name) for name in ("tsana", "tsben", "admin")}


@pytest.fixture
def victim(tmp_path_factory) -> Path:
    """A directory the server must never touch for a user, holding a marker file."""
    place = tmp_path_factory.mktemp("victim")
    (place / "marker.txt").write_text(MARKER)
    return place


def rest(platform, token: str, method: str, path: str, **kwargs) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"}
    url = platform.url + TRACKING + path
    return httpx.request(method, url, headers=headers, timeout=60, **kwargs)


def tree(place: Path) -> list[str]:
    return sorted(str(p.relative_to(place)) for p in place.rglob("*"))


def test_a_clients_artifact_location_is_refused_and_nothing_is_created(platform, people, victim):
    seen = as_user(
        platform,
        people["tsana"],
        f"""
        def create():
            return mlflow.create_experiment("ts-located", artifact_location="file://{victim}")
        print(json.dumps({{
            "client": deny(create),
            "found": deny(lambda: client.get_experiment_by_name("ts-located")),
        }}))
        """,
    )
    assert seen["client"].startswith("INVALID_PARAMETER_VALUE: "), seen
    assert "artifact_location is chosen by the platform" in seen["client"]
    assert seen["found"] is None
    for api in ("/api/2.0", "/ajax-api/2.0"):  # every prefix MLflow serves it at
        for location in (f"file://{victim}", str(victim), "s3://elsewhere/x", "mlflow-artifacts:/"):
            body = {"name": "ts-located-raw", "artifact_location": location}
            reply = rest(platform, people["tsana"], "POST", api + "/mlflow/experiments/create",
                         json=body)  # fmt: skip
            assert reply.status_code == 400, (api, location, reply.text)
            assert reply.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    missing = rest(platform, people["tsana"], "GET", "/api/2.0/mlflow/experiments/get-by-name",
                   params={"experiment_name": "ts-located-raw"})  # fmt: skip
    assert missing.status_code == 404
    assert tree(victim) == ["marker.txt"]


def test_an_experiment_stored_with_its_own_location_reads_and_writes_nothing_there(
    platform, people, victim
):
    """Mimics an experiment made before the rule: its location is set in the tracking
    database to a directory of the attacker's choosing (the state directory, say); a run in it
    then has its artifact root there. The server refuses to get, upload or list its files."""
    created = as_user(
        platform,
        people["tsana"],
        'print(json.dumps({"id": mlflow.create_experiment("ts-old-location")}))',
    )
    database = next(platform.home.rglob("mlflow.sqlite"))
    with sqlite3.connect(database) as db:
        changed = db.execute(
            "UPDATE experiments SET artifact_location = ? WHERE experiment_id = ?",
            (f"file://{victim}", int(created["id"])),
        )
        assert changed.rowcount == 1
    token = people["tsana"]
    made = rest(platform, token, "POST", "/api/2.0/mlflow/runs/create",
                json={"experiment_id": created["id"]})  # fmt: skip
    assert made.status_code == 200, made.text
    run = made.json()["run"]["info"]
    assert run["artifact_uri"].startswith(f"file://{victim}")  # what the attack relies on
    run_dir = victim / run["run_id"] / "artifacts"
    run_dir.mkdir(parents=True)
    (run_dir / "marker.txt").write_text(MARKER)
    before = tree(victim)

    got = rest(platform, token, "GET", "/get-artifact",
               params={"run_id": run["run_id"], "path": "marker.txt"})  # fmt: skip
    uploaded = rest(platform, token, "POST", "/ajax-api/2.0/mlflow/upload-artifact",
                    params={"run_uuid": run["run_id"], "path": "jupyterhub_config.local.py"},
                    content=b"import os; os.system('id')")  # fmt: skip
    listed = rest(platform, token, "GET", "/api/2.0/mlflow/artifacts/list",
                  params={"run_id": run["run_id"]})  # fmt: skip
    for name, reply in (("get", got), ("upload", uploaded), ("list", listed)):
        assert reply.status_code == 400, (name, reply.status_code, reply.text)
        assert reply.json()["error_code"] == "INVALID_PARAMETER_VALUE", (name, reply.text)
        assert "outside the platform's artifact store" in reply.json()["message"]
        assert MARKER not in reply.text and "marker.txt" not in reply.text, name
    assert tree(victim) == before  # nothing written there


def test_user_and_role_apis_answer_the_admin_only(platform, people):
    calls = [
        ("GET", "/api/2.0/mlflow/users/list", {}),
        ("GET", "/api/2.0/mlflow/users/get", {"username": "tsana"}),
        ("GET", "/api/3.0/mlflow/roles/list", {}),
        ("GET", "/ajax-api/3.0/mlflow/users/permissions/list", {"username": "tsana"}),
    ]
    for method, path, params in calls:
        for who in ("tsana", "tsben"):
            refused = rest(platform, people[who], method, path, params=params)
            assert refused.status_code == 403, (who, path, refused.text)
            assert refused.json()["error_code"] == "PERMISSION_DENIED"
            assert "for platform admins" in refused.json()["message"]
            assert refused.json()["message"].count("tsana") == 0
    users = rest(platform, people["admin"], "GET", "/api/2.0/mlflow/users/list")
    assert users.status_code == 200, users.text
    assert {"tsana", "tsben"} <= {u["username"] for u in users.json()["users"]}
    roles = rest(platform, people["admin"], "GET", "/api/3.0/mlflow/roles/list")
    assert roles.status_code == 200, roles.text
    # A user's own identity stays theirs to read.
    own = rest(platform, people["tsben"], "GET", "/api/2.0/mlflow/users/current")
    assert own.status_code == 200 and own.json()["user"]["username"] == "tsben"


def test_someone_elses_name_and_no_name_get_one_answer(platform, people):
    as_user(platform, people["tsana"], """
        mlflow.create_experiment("ts-private-name")
        print("{}")
    """)  # fmt: skip
    answers = [
        rest(
            platform,
            people["tsben"],
            "GET",
            "/api/2.0/mlflow/experiments/get-by-name",
            params={"experiment_name": name},
        )
        for name in ("ts-private-name", "ts-no-such-name")
    ]
    taken, missing = ((a.status_code, a.json()) for a in answers)
    assert taken == missing and taken[0] == 404, (taken, missing)
    assert taken[1]["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    seen = as_user(platform, people["tsben"], """
        print(json.dumps({
            "taken": deny(lambda: client.get_experiment_by_name("ts-private-name")),
            "missing": deny(lambda: client.get_experiment_by_name("ts-no-such-name")),
        }))
    """)  # fmt: skip
    assert seen == {"taken": None, "missing": None}
