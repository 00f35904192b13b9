"""Served models through the real platform: a scikit-learn classifier trained in a notebook job,
registered with its task type and served from the CLI, answers Open Inference Protocol v2
requests through the gateway (plain JSON, no Labworks client), as its task type says; nothing is
anonymous, others see nothing until it is shared; the model server runs as the deployer's
account where the platform isolates users, and keeps answering across a kill -9 of the platform
service; taking it down stops it."""

from __future__ import annotations

import json
import os
import pwd
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.test_jobs import call, cli, notebook, service_pid, submit, wait_job
from tests.integration.test_tracking import as_user

pytestmark = pytest.mark.e2e
GATEWAY = "/services/labworks/models/v2/models"
MODEL, ENDPOINT = "sv-iris", "sv-iris"
TRAIN = notebook(
    """
import mlflow, numpy as np
from mlflow.models import infer_signature
from sklearn.linear_model import LogisticRegression
X = np.array([[0.0, 0.1], [0.2, 0.0], [1.0, 0.9], [0.9, 1.1], [2.0, 2.1], [2.2, 1.9]])
y = np.array(["setosa", "setosa", "versicolor", "versicolor", "virginica", "virginica"])
model = LogisticRegression(max_iter=500).fit(X, y)
with mlflow.start_run():
    mlflow.sklearn.log_model(model, name="model", signature=infer_signature(X, model.predict(X)))
"""
)
ROWS = [[0.0, 0.0], [2.1, 2.0]]


def infer_body(rows=ROWS, name="input", datatype="FP64") -> dict:
    flat = [v for row in rows for v in row]
    return {"inputs": [{"name": name, "shape": [len(rows), 2], "datatype": datatype,
                        "data": flat}]}  # fmt: skip


def gateway(platform, token: str | None, method: str, path: str, **kwargs) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.request(method, platform.url + GATEWAY + path, headers=headers, timeout=60,
                         **kwargs)  # fmt: skip


@pytest.fixture(scope="module")
def people(platform):
    platform.add_user("svann", "--group", "svteam")
    platform.add_user("svben", "--group", "svteam")
    platform.add_user("svcal")
    return {name: platform.token(name) for name in ("svann", "svben", "svcal")}


@pytest.fixture(scope="module")
def served(platform, people) -> Iterator[dict]:
    """svann trains the classifier in a job, registers it from the CLI and serves it."""
    token = people["svann"]
    run_id = _train_and_register(platform, token, TRAIN, MODEL, "classification")
    serving = cli(platform, token, "models", "serve", MODEL, "--version", "1", "--wait")
    try:
        assert serving.returncode == 0, serving.stdout + serving.stderr
        assert f"{ENDPOINT}: {MODEL} version 1 (classification), ready" in serving.stdout
        yield {"run_id": run_id}
    finally:  # no model server outlives the tests
        call(platform, token, "DELETE", f"/deployments/{ENDPOINT}")


def _train_and_register(platform, token: str, content: dict, model: str, task: str) -> str:
    """Run the training notebook as a job, register its run's model as version 1 of `model`
    from the CLI; the run's id."""
    job = wait_job(platform, token, submit(platform, token, content, name="train")["id"], 300)
    if job["status"] != "succeeded":
        log = call(platform, token, "GET", f"/jobs/{job['id']}/logs").json().get("text", "")
        raise AssertionError(f"the training job {job['status']}: {job.get('reason')}\n{log}")
    found = call(platform, token, "GET", f"/jobs/{job['id']}/runs")
    assert found.status_code == 200, found.text
    [run_id] = found.json()["runs"]  # the run the job logged, found by the platform
    registered = cli(platform, token, "models", "register", f"runs:/{run_id}/model",
                     "--name", model, "--task", task)  # fmt: skip
    assert registered.returncode == 0, registered.stderr
    assert f"Registered {model} version 1 ({task})" in registered.stdout
    return run_id


def test_a_served_classifier_answers_labels_and_scores(platform, people, served):
    reply = gateway(platform, people["svann"], "POST", f"/{ENDPOINT}/infer", json=infer_body())
    assert reply.status_code == 200, reply.text
    assert reply.headers["x-labworks-model-version"] == "1"
    outputs = {o["name"]: o for o in reply.json()["outputs"]}
    assert outputs["label"]["data"] == ["setosa", "virginica"]
    scores = outputs["scores"]
    assert scores["shape"] == [2, 3]
    for row in range(2):
        assert sum(scores["data"][row * 3 : row * 3 + 3]) == pytest.approx(1.0)
    ready = gateway(platform, people["svann"], "GET", f"/{ENDPOINT}/versions/1/ready")
    assert ready.status_code == 200, ready.text
    metadata = gateway(platform, people["svann"], "GET", f"/{ENDPOINT}")
    assert metadata.status_code == 200 and metadata.json()["name"] == ENDPOINT, metadata.text
    assert [i["name"] for i in metadata.json()["inputs"]] == ["input"]  # from the signature


def test_the_cli_predicts_and_shows_the_deployment_with_its_traffic(platform, people, served):
    body = '{"inputs": [{"name": "input", "shape": [1, 2], "datatype": "FP64", "data": [2, 2]}]}'
    predicted = cli(platform, people["svann"], "models", "predict", ENDPOINT, "--json", body)
    assert predicted.returncode == 0, predicted.stderr
    assert '"virginica"' in predicted.stdout
    shown = cli(platform, people["svann"], "models", "deployment", ENDPOINT)
    assert shown.returncode == 0, shown.stderr
    assert "version 1 (stable): ready;" in shown.stdout
    assert "svann serve version=1" in shown.stdout
    listed = cli(platform, people["svann"], "models", "deployments")
    assert f"{ENDPOINT}\t{MODEL}\t1\t-\tclassification\tready\tsvann" in listed.stdout


def test_nothing_is_anonymous_and_others_see_nothing_until_it_is_shared(platform, people, served):
    assert (
        gateway(platform, None, "POST", f"/{ENDPOINT}/infer", json=infer_body()).status_code == 401
    )
    bad = gateway(platform, "not-a-token", "POST", f"/{ENDPOINT}/infer", json=infer_body())
    assert bad.status_code == 401, bad.text
    for who in ("svben", "svcal"):
        refused = gateway(platform, people[who], "POST", f"/{ENDPOINT}/infer", json=infer_body())
        assert refused.status_code == 404, refused.text
        assert call(platform, people[who], "GET", f"/deployments/{ENDPOINT}").status_code == 404
    shared = cli(platform, people["svann"], "models", "share-deployment", ENDPOINT,
                 "--group", "svteam")  # fmt: skip
    assert shared.returncode == 0, shared.stderr
    member = gateway(platform, people["svben"], "POST", f"/{ENDPOINT}/infer", json=infer_body())
    assert member.status_code == 200, member.text
    outsider = gateway(platform, people["svcal"], "POST", f"/{ENDPOINT}/infer", json=infer_body())
    assert outsider.status_code == 404
    changed = call(platform, people["svben"], "PUT", f"/deployments/{ENDPOINT}/traffic",
                   json={"canary_version": None, "percent": 0})  # fmt: skip
    assert changed.status_code == 403, changed.text  # a reader calls it, never changes it


def test_a_body_over_the_limit_is_refused_before_it_is_read(platform, people, served):
    """The request says 9 MiB and sends one byte: the answer comes without the rest."""
    host, port = platform.url.removeprefix("http://").split(":")
    head = (
        f"POST {GATEWAY}/{ENDPOINT}/infer HTTP/1.1\r\nHost: {host}\r\n"
        f"Authorization: Bearer {people['svann']}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {9 << 20}\r\n\r\n{{"
    )
    with socket.create_connection((host, int(port)), timeout=20) as conn:
        conn.sendall(head.encode())
        answer = conn.recv(65536).decode("latin-1")
    assert answer.startswith("HTTP/1.1 413"), answer[:300]
    assert "over 8388608 bytes" in answer


def test_an_api_key_calls_its_endpoint_and_nothing_else(platform, people, served):
    made = cli(platform, people["svann"], "models", "keys", "create", ENDPOINT, "--name", "app")
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    assert key.startswith("lwk_") and "shown once" in made.stderr
    answered = gateway(platform, key, "POST", f"/{ENDPOINT}/infer", json=infer_body())
    assert answered.status_code == 200, answered.text
    elsewhere = gateway(platform, key, "POST", "/sv-other/infer", json=infer_body())
    assert elsewhere.status_code == 401, elsewhere.text
    assert call(platform, key, "GET", "/deployments").status_code == 401  # not a hub token
    listed = cli(platform, people["svann"], "models", "keys", "list", ENDPOINT)
    key_id = key.split("_")[1]
    assert key_id in listed.stdout and key not in listed.stdout
    assert key.split("_", 2)[2].encode() not in _database(platform)  # only its hash is kept
    revoked = cli(platform, people["svann"], "models", "keys", "revoke", ENDPOINT, key_id)
    assert revoked.returncode == 0, revoked.stderr
    refused = gateway(platform, key, "POST", f"/{ENDPOINT}/infer", json=infer_body())
    assert refused.status_code == 401, refused.text


def test_payloads_are_logged_in_batches_and_readable(platform, people, served):
    token = people["svann"]
    on = cli(platform, token, "models", "payloads", ENDPOINT, "--sample", "1")
    assert on.returncode == 0 and "logging 100% of requests" in on.stdout, on.stderr
    for rows in ([[0.0, 0.0]], [[2.1, 2.0]], ROWS):
        reply = gateway(platform, token, "POST", f"/{ENDPOINT}/infer", json=infer_body(rows))
        assert reply.status_code == 200, reply.text
    deadline = time.monotonic() + 30
    while True:
        listing = call(platform, token, "GET", f"/deployments/{ENDPOINT}/payloads").json()
        records = [r for b in listing["batches"] for r in _records(platform, token, b["batch"])]
        if len(records) >= 3:
            break
        assert time.monotonic() < deadline, listing
        time.sleep(0.5)
    assert [r["caller"] for r in records] == ["svann"] * 3
    assert {r["version"] for r in records} == {"1"} and {r["status"] for r in records} == {200}
    assert json.loads(records[1]["request"])["inputs"][0]["data"] == [2.1, 2.0]
    assert "virginica" in records[1]["response"]
    assert all(r["latency_ms"] > 0 for r in records)
    shown = cli(platform, token, "models", "payloads", ENDPOINT, "--batch",
                listing["batches"][0]["batch"])  # fmt: skip
    assert shown.returncode == 0 and "svann\t200" in shown.stdout, shown.stderr
    member = call(platform, people["svben"], "GET", f"/deployments/{ENDPOINT}/payloads")
    assert member.status_code in (403, 404)  # what callers sent is the owner's to read
    off = cli(platform, token, "models", "payloads", ENDPOINT, "--sample", "0")
    assert off.returncode == 0, off.stderr


def _records(platform, token: str, batch: str) -> list[dict]:
    reply = call(platform, token, "GET", f"/deployments/{ENDPOINT}/payloads/{batch}")
    assert reply.status_code == 200, reply.text
    return reply.json()["records"]


BROKEN = f"""
import numpy as np
from mlflow.models import infer_signature

class Broken(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        raise RuntimeError("version 2 is broken")

X = np.array([[0.0, 0.1]])
mlflow.set_experiment("sv-broken")
with mlflow.start_run() as run:
    mlflow.pyfunc.log_model(name="model", python_model=Broken(),
                            signature=infer_signature(X, np.array(["setosa"])))
version = mlflow.register_model(f"runs:/{{run.info.run_id}}/model", {MODEL!r})
client.set_model_version_tag({MODEL!r}, version.version, "labworks.task", "classification")
print(json.dumps({{"version": version.version}}))
"""


def test_a_failing_canary_is_rolled_back_by_itself(platform, people, served):
    token = people["svann"]
    assert as_user(platform, token, BROKEN)["version"] == "2"
    canary = cli(platform, token, "models", "traffic", ENDPOINT, "--canary", "2", "--percent",
                 "50", "--reason", "try version 2")  # fmt: skip
    assert canary.returncode == 0, canary.stderr
    assert "canary: version 2 at 50%" in canary.stdout
    deadline = time.monotonic() + 180
    while not _ready(platform, token, "2"):
        assert time.monotonic() < deadline, "the canary's server did not get ready"
        time.sleep(0.5)
    answers: dict[str, list[int]] = {"1": [], "2": []}
    for _ in range(200):
        reply = gateway(platform, token, "POST", f"/{ENDPOINT}/infer", json=infer_body())
        answers[reply.headers.get("x-labworks-model-version", "?")].append(reply.status_code)
        shown = call(platform, token, "GET", f"/deployments/{ENDPOINT}").json()
        if shown["canary_version"] is None:
            break
    assert shown["canary_version"] is None and shown["version"] == "1", shown
    assert set(answers["1"]) == {200} and answers["2"] and set(answers["2"]) == {500}, answers
    rollback = next(e for e in shown["events"] if e["action"] == "rollback")
    assert rollback["actor"] == "labworks" and "error rate 100.0%" in rollback["reason"]
    assert any(e["action"] == "traffic" and e["reason"] == "try version 2" for e in shown["events"])
    after = gateway(platform, token, "POST", f"/{ENDPOINT}/infer", json=infer_body())
    assert after.status_code == 200 and after.headers["x-labworks-model-version"] == "1"


def _ready(platform, token: str, version: str) -> bool:
    shown = call(platform, token, "GET", f"/deployments/{ENDPOINT}").json()
    return any(s["version"] == version and s["status"] == "ready" for s in shown["servers"])


def _database(platform) -> bytes:
    url = json.loads((platform.home / "labworks.json").read_text())["db_url"]
    return Path(url.removeprefix("sqlite:///")).read_bytes()


def test_the_model_server_runs_as_the_deployer_and_survives_the_platform_service(
    platform, people, served, isolated
):
    pid = _server_pid(platform)
    owner = Path(f"/proc/{pid}").stat().st_uid
    assert pwd.getpwuid(owner).pw_name.endswith("svann"), pwd.getpwuid(owner).pw_name
    old = service_pid(platform)
    os.kill(old, signal.SIGKILL)
    deadline = time.monotonic() + 120
    while True:
        try:
            if service_pid(platform) != old:
                reply = gateway(platform, people["svann"], "POST", f"/{ENDPOINT}/infer",
                                json=infer_body())  # fmt: skip
                if reply.status_code == 200:
                    break
        except (AssertionError, httpx.HTTPError):
            pass
        assert time.monotonic() < deadline, "the endpoint did not answer after the restart"
        time.sleep(0.5)
    assert _server_pid(platform) == pid  # the same server, re-attached, not a new one


TRAIN_TORCH = notebook(
    """
import mlflow, torch
from mlflow.models import infer_signature
torch.manual_seed(0)
X = torch.rand(256, 3)
y = X @ torch.tensor([2.0, -1.0, 0.5]) + 0.25
net = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0))
opt = torch.optim.Adam(net.parameters(), lr=0.05)
for _ in range(600):
    opt.zero_grad()
    loss = ((net(X) - y) ** 2).mean()
    loss.backward()
    opt.step()
mlflow.set_experiment("sv-torch")
with mlflow.start_run():
    mlflow.log_metric("mse", float(loss))
    signature = infer_signature(X.numpy(), net(X).detach().numpy())
    mlflow.pytorch.log_model(net, name="model", signature=signature, input_example=X[:4].numpy(),
                             pip_requirements=["torch"])
"""
)

# tritonclient.http (NVIDIA's client, its own environment) through the gateway, with a hub token.
TRITON_THROUGH_GATEWAY = """
import json, sys
import numpy as np
import tritonclient.http as http
base, token, name, rows = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
auth = {"Authorization": "Bearer " + token}
client = http.InferenceServerClient(base)
ready = client.is_model_ready(name, headers=auth)
tensor = http.InferInput("input", [len(rows), 3], "FP32")
tensor.set_data_from_numpy(np.array(rows, dtype=np.float32), binary_data=False)
values = client.infer(name, [tensor], headers=auth).as_numpy("value").tolist()
try:
    client.infer(name, [tensor])
    anonymous = None
except Exception as exc:
    anonymous = str(exc)
print(json.dumps({"ready": ready, "values": values, "anonymous": anonymous}))
"""


def test_a_torch_regressor_trained_in_a_job_answers_values_to_tritonclient(platform, people):
    token = people["svann"]
    _train_and_register(platform, token, TRAIN_TORCH, "sv-torch", "regression")
    serving = cli(platform, token, "models", "serve", "sv-torch", "--version", "1", "--wait")
    try:
        assert serving.returncode == 0, serving.stdout + serving.stderr
        assert "sv-torch: sv-torch version 1 (regression), ready" in serving.stdout
        rows = [[0.0, 0.0, 0.0], [1.0, 0.5, 0.2]]
        client = Path(sys.prefix) / "lib" / "tritonclient" / "bin" / "python"
        proc = subprocess.run(
            [str(client), "-c", TRITON_THROUGH_GATEWAY,
             platform.url.removeprefix("http://") + GATEWAY.removesuffix("/v2/models"), token,
             "sv-torch", json.dumps(rows)],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        result = json.loads(proc.stdout)
        assert result["ready"] is True
        assert result["values"] == pytest.approx([0.25, 2.0 - 0.5 + 0.1 + 0.25], abs=0.05)
        assert "401" in result["anonymous"], result["anonymous"]
        bad = gateway(platform, token, "POST", "/sv-torch/infer",
                      json={"inputs": [{"name": "input", "shape": [1, 2], "datatype": "FP32",
                                        "data": [1.0, 2.0]}]})  # fmt: skip
        assert bad.status_code == 400 and "'input'" in bad.text, bad.text
    finally:
        call(platform, token, "DELETE", "/deployments/sv-torch")


def test_taking_it_down_stops_its_server(platform, people, served):
    pid = _server_pid(platform)
    down = cli(platform, people["svann"], "models", "undeploy", ENDPOINT)
    assert down.returncode == 0, down.stderr
    gone = gateway(platform, people["svann"], "POST", f"/{ENDPOINT}/infer", json=infer_body())
    assert gone.status_code == 404, gone.text
    deadline = time.monotonic() + 30
    while Path(f"/proc/{pid}").exists():
        assert time.monotonic() < deadline, (
            f"the model server still runs: {_stat(pid)}\n" + platform.log()[-3000:]
        )
        time.sleep(0.2)
    deadline = time.monotonic() + 30
    while call(platform, people["svann"], "GET", f"/deployments/{ENDPOINT}").status_code != 404:
        assert time.monotonic() < deadline, "the deployment is still listed"
        time.sleep(0.2)


def _stat(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return "gone"


def _server_pid(platform) -> int:
    """The model server process of the endpoint on this platform (runtime --name sv-iris
    --socket <home>/...)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        ours = any(str(platform.home).encode() in part for part in cmdline)
        if (
            ours
            and any(part.endswith(b"/serving/runtime") for part in cmdline)
            and ENDPOINT.encode() in cmdline
        ):
            return int(entry.name)
    raise AssertionError("no model server process")
