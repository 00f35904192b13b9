"""Versioned datasets on the real platform, used as a person would: `labworks datasets` pushes
and pulls, `labworks.data` reads in a fresh process with the variables a workspace kernel has,
and each read lands on MLflow runs as a `labworks.dataset.<owner>/<name>` tag and a dataset
input, whether the run was active at the read or started after it. Private datasets stay
private (404) until shared with a group."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest

from tests.kernel_client import run_code
from tests.platform import API, labworks, wait_for_lab

pytestmark = pytest.mark.e2e
TRACKING = "/services/labworks/mlflow"
NAME = "dsiris"

# Runs in a fresh process as the user; prints one JSON line with what it found.
PRELUDE = """
import json, mlflow
from pathlib import Path
from mlflow import MlflowClient
from labworks import data, track

def run_record(run_id):
    run = MlflowClient().get_run(run_id)
    return {
        "tags": {k: v for k, v in run.data.tags.items() if k.startswith("labworks.dataset.")},
        "inputs": [
            {"name": i.dataset.name, "digest": i.dataset.digest,
             "url": json.loads(i.dataset.source)["url"],
             "version": {t.key: t.value for t in i.tags}.get("labworks.dataset.version")}
            for i in run.inputs.dataset_inputs
        ],
    }

def refused(f):
    try:
        f()
    except data.DataError as e:
        return [e.status, e.message]
    return None
"""


@pytest.fixture(scope="module")
def people(platform) -> dict[str, str]:
    platform.add_user("dsana", "--group", "dsteam")
    platform.add_user("dsben", "--group", "dsteam")
    platform.add_user("dscal", "--group", "dsothers")
    return {name: platform.token(name) for name in ("dsana", "dsben", "dscal")}


def cli(platform, token: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """`labworks datasets ...` as the token's user."""
    env = {"LABWORKS_URL": platform.url, "LABWORKS_TOKEN": token}
    return labworks("datasets", *args, home=platform.home, env=env, check=check)


def as_user(platform, user: str, token: str, code: str, cache: Path) -> dict:
    """Run `code` as a workspace kernel of `user` would (platform API and tracking variables,
    no other setup); the JSON it printed last."""
    env = {
        **os.environ,
        "LABWORKS_API_URL": platform.url + API,
        "JUPYTERHUB_API_TOKEN": token,
        "MLFLOW_TRACKING_URI": platform.url + TRACKING,
        "MLFLOW_TRACKING_TOKEN": token,
        "MLFLOW_EXPERIMENT_NAME": f"users/{user}",
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "LABWORKS_DATA_CACHE": str(cache),
    }
    for name in ("LABWORKS_API_TOKEN", "LABWORKS_KERNEL", "JPY_SESSION_NAME", "LABWORKS_JOB_ID"):
        env.pop(name, None)
    done = subprocess.run(
        [sys.executable, "-c", PRELUDE + textwrap.dedent(code)],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def pushed(platform, people, tmp_path_factory) -> dict:
    """dsana's private dataset, version 1 pushed with the CLI from a folder of two files."""
    folder = tmp_path_factory.mktemp("dsana") / NAME
    (folder / "labels").mkdir(parents=True)
    (folder / "train.csv").write_text("x,y\n1,0\n2,1\n")
    (folder / "labels" / "names.txt").write_text("setosa\nversicolor\n")
    done = cli(platform, people["dsana"], "push", NAME, str(folder), "-m", "first cut")
    assert f"dsana/{NAME} version 1: 2 files" in done.stdout
    shown = json.loads(cli(platform, people["dsana"], "show", NAME, "--json").stdout)
    return {"folder": folder, "v1": shown["versions"][0]}


def test_a_read_inside_a_run_tags_it_and_logs_the_version_as_an_input(
    platform, people, pushed, tmp_path
):
    v1 = pushed["v1"]
    assert (v1["number"], v1["file_count"], v1["message"]) == (1, 2, "first cut")
    found = as_user(
        platform,
        "dsana",
        people["dsana"],
        f"""
        with mlflow.start_run() as run:
            folder = data.get("{NAME}")
            files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                           if p.is_file())
            train = (folder / "train.csv").read_text()
        print(json.dumps({{**run_record(run.info.run_id), "files": files, "train": train,
                           "folder": str(folder)}}))
        """,
        tmp_path,
    )
    assert found["files"] == ["labels/names.txt", "train.csv"]
    assert found["train"] == "x,y\n1,0\n2,1\n"
    assert found["folder"] == str(tmp_path / "dsana" / NAME / "1")
    assert found["tags"] == {f"labworks.dataset.dsana/{NAME}": "1"}
    assert found["inputs"] == [
        {
            "name": f"dsana/{NAME}",
            "digest": v1["digest"].removeprefix("sha256:")[:32],
            "url": f"{platform.url}{API}/datasets/dsana/{NAME}/versions/1",
            "version": "1",
        }
    ]


def test_a_read_before_the_run_lands_on_the_run_started_after_it(
    platform, people, pushed, tmp_path
):
    found = as_user(
        platform,
        "dsana",
        people["dsana"],
        f"""
        with data.open("dsana/{NAME}", "labels/names.txt") as f:
            names = f.read().decode()
        with track.run(name="after-read") as later:   # tags and inputs
            pass
        with mlflow.start_run() as plain:             # tags, by the run-context provider
            pass
        print(json.dumps({{"names": names, "later": run_record(later.info.run_id),
                           "plain": run_record(plain.info.run_id)}}))
        """,
        tmp_path,
    )
    assert found["names"] == "setosa\nversicolor\n"
    tag = {f"labworks.dataset.dsana/{NAME}": "1"}
    assert found["later"]["tags"] == tag
    assert [(i["name"], i["version"]) for i in found["later"]["inputs"]] == [(f"dsana/{NAME}", "1")]
    assert found["later"]["inputs"][0]["digest"] == pushed["v1"]["digest"][7:39]
    assert found["plain"]["tags"] == tag


def test_a_new_version_keeps_the_old_one_readable(platform, people, pushed, tmp_path):
    folder = pushed["folder"]
    (folder / "train.csv").write_text("x,y\n1,0\n2,1\n3,1\n")
    done = cli(platform, people["dsana"], "push", NAME, str(folder), "-m", "more rows")
    assert f"dsana/{NAME} version 2: 2 files" in done.stdout
    again = cli(platform, people["dsana"], "push", NAME, str(folder))
    assert f"dsana/{NAME} version 2:" in again.stdout  # nothing changed: no new version
    found = as_user(
        platform,
        "dsana",
        people["dsana"],
        f"""
        old = (data.get("{NAME}", version=1) / "train.csv").read_text()
        new = data.open("{NAME}", "train.csv").read().decode()
        tag = track.lineage()["labworks.dataset.dsana/{NAME}"]
        versions = [(v.number, v.message) for v in data.versions("{NAME}")]
        print(json.dumps({{"old": old, "new": new, "tag": tag, "versions": versions}}))
        """,
        tmp_path,
    )
    assert found["old"] == "x,y\n1,0\n2,1\n"
    assert found["new"] == "x,y\n1,0\n2,1\n3,1\n"
    assert found["tag"] == "2"  # the last version read
    assert found["versions"] == [[2, "more rows"], [1, "first cut"]]


def test_a_workspace_kernel_reads_with_no_setup(platform, people, pushed):
    token = people["dsana"]
    headers = {"Authorization": f"token {token}"}
    server = f"{platform.url}/hub/api/users/dsana/server"
    assert httpx.post(server, headers=headers, timeout=60).status_code in (201, 202)
    try:
        wait_for_lab(platform.url, "dsana", token)
        kernel = httpx.post(f"{platform.url}/user/dsana/api/kernels", headers=headers, timeout=60)
        assert kernel.status_code == 201, kernel.text
        code = (
            "import mlflow\nfrom labworks import data\n"
            "with mlflow.start_run() as run:\n"
            f"    rows = data.open('{NAME}', 'train.csv', version=1).read().decode().count('\\n')\n"
            "print(run.info.run_id, rows)"
        )
        channels = f"{platform.url}/user/dsana/api/kernels/{kernel.json()['id']}/channels"
        printed = run_code(channels.replace("http://", "ws://"), token, code, timeout=240)
    finally:
        httpx.delete(server, headers=headers, timeout=60)
    run_id, rows = printed.strip().splitlines()[-1].split()
    assert rows == "3"
    run = httpx.get(
        platform.url + TRACKING + "/api/2.0/mlflow/runs/get",
        params={"run_id": run_id},
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    ).json()["run"]
    tags = {t["key"]: t["value"] for t in run["data"]["tags"]}
    assert tags[f"labworks.dataset.dsana/{NAME}"] == "1"
    [logged] = run["inputs"]["dataset_inputs"]
    assert logged["dataset"]["name"] == f"dsana/{NAME}"


def test_a_private_dataset_is_read_only_after_sharing_and_written_only_by_its_owner(
    platform, people, pushed, tmp_path
):
    read = f"""
    print(json.dumps({{"refused": refused(lambda: data.get("dsana/{NAME}", version=1)),
                       "mine": [d.ref for d in data.datasets() if d.owner == "dsana"]}}))
    """
    before = as_user(platform, "dsben", people["dsben"], read, tmp_path)
    assert before["refused"][0] == 404 and before["mine"] == []

    shared = cli(platform, people["dsana"], "share", NAME, "--group", "dsteam")
    assert f"Dataset dsana/{NAME} is now group:dsteam." in shared.stdout
    after = as_user(platform, "dsben", people["dsben"], read, tmp_path)
    assert after == {"refused": None, "mine": [f"dsana/{NAME}"]}
    other = as_user(platform, "dscal", people["dscal"], read, tmp_path)
    assert other["refused"][0] == 404  # not in the group

    listed = cli(platform, people["dsben"], "list").stdout
    assert f"dsana/{NAME}\tgroup:dsteam\t2\t" in listed
    dest = tmp_path / "pulled"
    pulled = cli(platform, people["dsben"], "pull", f"dsana/{NAME}", "--version", "1",
                 "--dest", str(dest))  # fmt: skip
    assert str(dest) in pulled.stdout
    assert (dest / "train.csv").read_text() == "x,y\n1,0\n2,1\n"
    assert (dest / "labels" / "names.txt").read_text() == "setosa\nversicolor\n"

    for args in (("share", f"dsana/{NAME}", "--public"), ("delete", f"dsana/{NAME}", "--yes")):
        denied = cli(platform, people["dsben"], *args, check=False)
        assert denied.returncode != 0 and "(403)" in denied.stderr, denied.stderr


def test_the_owner_deletes_a_dataset(platform, people, tmp_path):
    folder = tmp_path / "one.csv"
    folder.write_text("a\n1\n")
    token = people["dsana"]
    assert (
        "dsana/dsgone version 1: 1 file,"
        in cli(platform, token, "push", "dsgone", str(folder)).stdout
    )
    assert "Deleted dsana/dsgone." in cli(platform, token, "delete", "dsgone", "--yes").stdout
    code = 'print(json.dumps(refused(lambda: data.get("dsgone"))))'
    gone = as_user(platform, "dsana", token, code, tmp_path)
    assert gone[0] == 404
