"""The README's examples work as written (issue 15, item 6): its account and scripting blocks run
as bash scripts, and every `labworks ...` command of its "What you can do" table runs verbatim,
in the README's order, against a fresh `labworks up` whose state directory is `./.labworks` of
the folder the commands run in (as after `make run`; `.venv` links to this checkout's).

The commands are read from README.md, not copied here: what this test knows is only the state
each one needs first (a notebook `nb.ipynb`, a folder `data/iris/`, an experiment 3 and a
registered model `churn` of alice, a classifier `iris` of hers). A command added to the table
that this test does not know fails it until its preparation is written here."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import nbformat
import pytest

from tests.platform import Platform, auth

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
MLFLOW = "/services/labworks/mlflow/api/2.0/mlflow"

# What each table command needs first, by its first words; checked against the README below.
NEEDS = {
    "labworks workspace start": "nothing",
    "labworks workspace status": "a workspace",
    "labworks workspace gpus": "a workspace",
    "labworks share add": "a workspace and user bob",
    "labworks share revoke": "a share",
    "labworks gallery publish": "nb.ipynb, alice in group ml",
    "labworks jobs run": "nb.ipynb with a parameters cell",
    "labworks schedules create": "nb.ipynb",
    "labworks sweeps create": "nb.ipynb logging loss, space.yaml",
    "labworks images list": "nothing",
    "labworks jobs notifications": "nothing",
    "labworks experiments list": "nothing",
    "labworks experiments share": "experiment 3 of alice",
    "labworks experiments runs": "experiment 3 of alice with a run logging acc",
    "labworks models list": "nothing",
    "labworks models share": "registered model churn of alice",
    "labworks models serve": "model iris of alice: version 1, a classifier tagged so",
    "labworks models deployments": "nothing",
    "labworks datasets push": "data/iris/",
    "labworks datasets pull": "dataset alice/iris",
    "labworks datasets share": "dataset iris",
    "labworks sources list": "nothing",
    "labworks sources preview": "folder source lake of alice holding 2026/orders.csv",
    "labworks datasets snapshot": "folder source lake of alice holding 2026/orders.csv",
    "labworks cost report": "nothing",
    "labworks cost budgets list": "nothing",
}


def section(heading: str) -> str:
    """The README's text under `## heading`, up to the next `## `."""
    found = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## )", README, re.M | re.S)
    assert found, f"README.md has no section {heading!r}"
    return found.group(1)


def bash_blocks(text: str) -> list[str]:
    return [textwrap_dedent(b) for b in re.findall(r"```bash\n(.*?)```", text, re.S)]


def textwrap_dedent(block: str) -> str:
    lines = block.splitlines()
    indent = min((len(x) - len(x.lstrip()) for x in lines if x.strip()), default=0)
    return "\n".join(x[indent:] for x in lines) + "\n"


def table_commands() -> list[str]:
    """The CLI column of "What you can do", each `labworks ...` span as written."""
    commands = []
    for row in section("What you can do").splitlines():
        cells = row.split(" | ")
        if row.startswith("| ") and len(cells) >= 3:
            commands += re.findall(r"`(labworks [^`]+)`", cells[-1])
    return commands


def known(command: str) -> str | None:
    return next((key for key in NEEDS if command.startswith(key + " ") or command == key), None)


def test_every_table_command_is_known_here():
    commands = table_commands()
    assert len(commands) >= len(NEEDS)
    unknown = [c for c in commands if known(c) is None]
    assert unknown == [], f"README commands this test cannot prepare yet: {unknown}"
    assert {known(c) for c in commands} == set(NEEDS), "NEEDS names a command the README dropped"


@pytest.fixture
def here() -> Iterator[Path]:
    """The folder the README's commands run in: `.venv` of this checkout, state in
    `.labworks`. 0711 and outside /tmp/pytest-of-root: workspaces run as system accounts."""
    path = Path(tempfile.mkdtemp(prefix="lw-readme-", dir="/tmp"))
    path.chmod(0o711)
    (path / ".venv").symlink_to(Path(sys.executable).parents[1])
    yield path
    shutil.rmtree(path, ignore_errors=True)


def bash(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run `script`; a command still running after 180 s is stopped and answers exit 124."""
    try:
        return subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script], cwd=cwd, capture_output=True,
            text=True, timeout=180, check=False, env={**os.environ, **env},
        )  # fmt: skip
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else e.stdout or ""
        err = e.stderr.decode() if isinstance(e.stderr, bytes) else e.stderr or ""
        return subprocess.CompletedProcess(e.cmd, 124, out, err + "\n(still running after 180 s)")


def expected_output(block: str) -> list[str]:
    """The `# ...` lines under a command of a block: what the README says it prints."""
    return [line[2:] for line in block.splitlines() if line.startswith("# ")]


def write_notebook(path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("lr = 0.01", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("print('lr', lr)\nimport mlflow\nmlflow.log_metric('loss', lr)"),
    ]
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"c{i}"
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}  # fmt: skip
    path.write_text(nbformat.writes(nb))


def prepare_tracking(url: str, token: str) -> None:
    """Experiment 3 is alice's and holds a run with acc 0.95; alice registered `churn`."""

    def post(path: str, body: dict) -> dict:
        reply = httpx.post(url + MLFLOW + path, headers=auth(token), json=body, timeout=180)
        assert reply.status_code == 200, (path, reply.text)
        return reply.json()

    n = 0
    while True:  # a fresh platform: 0 is MLflow's Default, then alice's own in order
        n += 1
        made = post("/experiments/create", {"name": f"readme-{n}"})["experiment_id"]
        if int(made) >= 3:
            break
    assert made == "3", f"experiment ids went past 3 ({made}); is the platform fresh?"
    run = post("/runs/create", {"experiment_id": "3", "run_name": "readme"})["run"]["info"]
    post("/runs/log-metric", {"run_id": run["run_id"], "key": "acc", "value": 0.95,
                              "timestamp": 0, "step": 0})  # fmt: skip
    post("/registered-models/create", {"name": "churn"})


# alice's classifier `iris`, version 1, registered with its task type (what `serve` needs).
IRIS = """
import mlflow, numpy as np
from mlflow.models import infer_signature
from sklearn.linear_model import LogisticRegression
X, y = np.array([[0.0, 0.1], [0.2, 0.0], [2.0, 2.1], [2.2, 1.9]]), np.array(["a", "a", "b", "b"])
model = LogisticRegression().fit(X, y)
mlflow.set_experiment("readme-iris")
with mlflow.start_run() as run:
    mlflow.sklearn.log_model(model, name="model", signature=infer_signature(X, model.predict(X)))
version = mlflow.register_model(f"runs:/{run.info.run_id}/model", "iris")
mlflow.MlflowClient().set_model_version_tag("iris", version.version, "labworks.task",
                                            "classification")
"""


def prepare_source(url: str, admin_token: str, folder: Path) -> None:
    """A folder source `lake` of alice's (administrators register folders) at `folder`, which
    holds 2026/orders.csv."""
    (folder / "2026").mkdir(parents=True)
    (folder / "2026" / "orders.csv").write_text("id,total\n1,120\n2,75\n")
    body = {"name": "lake", "kind": "folder", "owner": "alice", "config": {"path": str(folder)}}
    reply = httpx.post(url + "/services/labworks/api/v1/sources", headers=auth(admin_token),
                       json=body, timeout=60)  # fmt: skip
    assert reply.status_code == 201, reply.text


def prepare_model(url: str, token: str) -> None:
    env = {**os.environ, "MLFLOW_TRACKING_URI": url + MLFLOW.split("/api/")[0],
           "MLFLOW_TRACKING_TOKEN": token, "MLFLOW_DISABLE_TELEMETRY": "true"}  # fmt: skip
    done = subprocess.run([sys.executable, "-c", IRIS], env=env, capture_output=True,
                          text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.mark.timeout(1200)  # a platform, a workspace, a job: longer than one test usually takes
def test_the_readme_examples_work_as_written(here):
    platform = Platform(here / ".labworks")  # on a free port: the README's 8000 is replaced
    platform.log_path.touch(mode=0o600)  # it holds the admin password
    platform.start(timeout=300)
    failures: list[str] = []
    try:
        # "First login and accounts": add alice (in group ml), then reset her password.
        accounts = bash_blocks(section("First login and accounts"))
        assert len(accounts) == 2 and "users add alice --group ml" in accounts[0]
        added = bash(accounts[0], here, {})
        assert added.returncode == 0, added.stderr
        said = expected_output(accounts[0])
        assert said[0] in added.stdout  # "Created user 'alice' in groups ml"
        assert re.search(r"Password \(shown once\): \S+", added.stdout)
        reset = bash(accounts[1], here, {})
        assert reset.returncode == 0, reset.stderr
        assert bash(".venv/bin/labworks users add bob\n", here, {}).returncode == 0

        # "Using the CLI from scripts": the exports, then `labworks me` prints what it says.
        [script] = bash_blocks(section("Using the CLI from scripts"))
        script = script.replace("http://127.0.0.1:8000", platform.url)
        me = bash(script, here, {})
        assert me.returncode == 0, me.stderr
        assert me.stdout.splitlines() == expected_output(script)

        token = bash(".venv/bin/labworks token alice\n", here, {}).stdout.strip()
        env = {
            "LABWORKS_URL": platform.url,
            "LABWORKS_TOKEN": token,
            "PATH": f"{here / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}",
        }
        write_notebook(here / "nb.ipynb")
        (here / "space.yaml").write_text("lr: {type: log-float, low: 0.001, high: 0.1}\n")
        (here / "data" / "iris").mkdir(parents=True)
        (here / "data" / "iris" / "iris.csv").write_text("sepal_length,species\n5.1,setosa\n")
        prepare_tracking(platform.url, token)
        prepare_model(platform.url, token)
        admin = bash(".venv/bin/labworks token admin\n", here, {}).stdout.strip()
        prepare_source(platform.url, admin, here / "lake")

        outputs: dict[str, str] = {}
        for command in table_commands():
            done = bash(command + "\n", here, env)
            outputs[command] = done.stdout + done.stderr
            if done.returncode != 0:
                failures.append(f"$ {command}\n-> exit {done.returncode}\n{done.stderr[-1500:]}")
        assert failures == [], "\n\n".join(failures)

        def printed(prefix: str) -> str:
            return next(out for cmd, out in outputs.items() if cmd.startswith(prefix))

        assert printed("labworks images list").startswith("local ")  # the embedded default's
        assert "email: me@example.org" in printed("labworks jobs notifications")
        assert "c.EmailNotifier.smtp_host" in printed("labworks jobs notifications")
        assert ": succeeded" in printed("labworks jobs run")  # --wait followed it to its end
        assert "alice/iris -> iris\n" in printed("labworks datasets pull")
        assert (here / "iris" / "iris.csv").read_text().startswith("sepal_length")
        assert "lake" in printed("labworks sources list")
        assert "120" in printed("labworks sources preview")  # the CSV's first row
        assert "alice/orders version 1" in printed("labworks datasets snapshot")
        listed = bash("labworks experiments list --json\n", here, env)
        [three] = [e for e in json.loads(listed.stdout)["experiments"] if str(e["id"]) == "3"]
        assert three["visibility"] == "group:ml"  # `experiments share 3 --group ml`
        assert "iris: iris version 1 (classification), ready" in printed("labworks models serve")
        assert "iris\tiris\t1\t-\tclassification\tready\talice" in printed(
            "labworks models deployments"
        )
        down = bash("labworks models undeploy iris\n", here, env)  # no server outlives it
        assert down.returncode == 0, down.stderr
        deadline = time.monotonic() + 60
        while bash("labworks models deployment iris\n", here, env).returncode == 0:
            assert time.monotonic() < deadline, "the iris model server was not stopped"
            time.sleep(0.5)
    finally:
        platform.stop()
