"""The model server runtime (hub/labworks_hub/service/serving/runtime/), run for real: the
serving environment's interpreter (.venv/lib/serving, `make install`) serves models this module
saves with mlflow, on a Unix socket, called with plain OIP v2 JSON (httpx) and with NVIDIA's
tritonclient, a client Labworks did not write."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import time

import numpy as np
import pandas as pd
import pytest

from tests.unit.serving.servers import ROOT, SERVING_PYTHON, Runtime, save_torch_regressor

pytestmark = pytest.mark.skipif(
    not SERVING_PYTHON.exists(),
    reason=f"no serving environment at {SERVING_PYTHON.relative_to(ROOT)}: run `make install`",
)

FEATURES = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]
ROWS = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3], [5.9, 3.0, 4.2, 1.5]]
SPECIES = np.array(["setosa", "versicolor", "virginica"])


def columns(rows: list[list[float]], names: list[str] = FEATURES) -> list[dict]:
    """One FP64 [n] tensor per signature column, as the model's metadata lists them."""
    return [
        {"name": name, "shape": [len(rows)], "datatype": "FP64", "data": [r[i] for r in rows]}
        for i, name in enumerate(names)
    ]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """An iris classifier (string classes) and a regressor, saved with mlflow.sklearn; and a
    seq2seq pyfunc model (from code) that loads slowly, to watch readiness."""
    import mlflow.pyfunc
    import mlflow.sklearn
    from mlflow.models import infer_signature
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    root = tmp_path_factory.mktemp("models")
    x, y = load_iris(return_X_y=True, as_frame=True)
    classifier = LogisticRegression(max_iter=500).fit(x, SPECIES[y])
    mlflow.sklearn.save_model(classifier, root / "clf", signature=infer_signature(x, SPECIES[y]))
    regressor = LinearRegression().fit(x[FEATURES[:3]], x[FEATURES[3]])
    signature = infer_signature(x[FEATURES[:3]], x[FEATURES[3]])
    mlflow.sklearn.save_model(regressor, root / "reg", signature=signature)
    # Multilabel: is the flower big, is it setosa (a [n, 2] 0/1 target), one model per label.
    labels = np.stack([(x[FEATURES[2]] > 4).astype(int), (y == 0).astype(int)], axis=1)
    multi = OneVsRestClassifier(LogisticRegression(max_iter=500)).fit(x, labels)
    mlflow.sklearn.save_model(multi, root / "multi", signature=infer_signature(x, labels))
    code = root / "shout.py"
    code.write_text(
        "import time\n"
        "import mlflow.pyfunc\n"
        "from mlflow.models import set_model\n"
        "time.sleep(3)  # a slow load: readiness must wait for it\n"
        "class Shout(mlflow.pyfunc.PythonModel):\n"
        "    def predict(self, context, model_input):\n"
        "        return [text.upper() + '!' for text in model_input['text']]\n"
        "set_model(Shout())\n"
    )
    text_signature = infer_signature(pd.DataFrame({"text": ["a"]}), ["A!"])
    mlflow.pyfunc.save_model(root / "shout", python_model=str(code), signature=text_signature)
    return {"root": root, "classifier": classifier, "regressor": regressor, "multi": multi}


@pytest.fixture(scope="module")
def iris(models, tmp_path_factory):
    with Runtime(tmp_path_factory.mktemp("iris"), models["root"] / "clf", "classification",
                 name="iris", version="3") as server:  # fmt: skip
        server.wait_ready()
        yield server


def test_classification_answers_label_and_the_scores_behind_it(iris, models):
    response = iris.client.post("/v2/models/iris/infer", json={"id": "r1", "inputs": columns(ROWS)})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model_name"] == "iris" and body["model_version"] == "3" and body["id"] == "r1"
    out = {o["name"]: o for o in body["outputs"]}
    assert set(out) == {"label", "scores"}
    assert out["label"]["datatype"] == "BYTES" and out["label"]["shape"] == [3]
    assert out["scores"]["datatype"] == "FP64" and out["scores"]["shape"] == [3, 3]
    scores = np.array(out["scores"]["data"]).reshape(3, 3)
    np.testing.assert_allclose(scores.sum(axis=1), 1.0)
    classes = json.loads(out["scores"]["parameters"]["classes"])
    assert classes == ["setosa", "versicolor", "virginica"]
    assert out["label"]["data"] == [classes[i] for i in scores.argmax(axis=1)]
    assert out["label"]["data"] == ["setosa", "virginica", "versicolor"]
    expected = models["classifier"].predict_proba(pd.DataFrame(ROWS, columns=FEATURES))
    np.testing.assert_allclose(scores, expected, rtol=1e-9)


def test_a_json_body_without_content_type_is_read_as_json(iris):
    # tritonclient sends its JSON with no Content-Type; KServe alone answers 400 ("header missing").
    body = json.dumps({"inputs": columns(ROWS)}).encode()
    response = iris.client.post("/v2/models/iris/infer", content=body)
    assert response.status_code == 200, response.text
    out = {o["name"]: o for o in response.json()["outputs"]}
    assert out["label"]["data"] == ["setosa", "virginica", "versicolor"]
    broken = iris.client.post("/v2/models/iris/infer", content=b'{"inputs": [')
    assert broken.status_code == 400 and "not an inference request" in broken.text, broken.text


def test_the_fast_path_answers_as_kserve_does(iris):
    """A plain JSON request is answered without KServe's route; forced through KServe (the
    binary extension's header, whole body JSON) the same request gets the same answer."""
    good = {"id": "r7", "inputs": columns(ROWS)}
    bad = {"inputs": [dict(columns(ROWS)[0], shape=[2])]}
    for request in (good, bad):
        body = json.dumps(request).encode()
        fast = iris.client.post("/v2/models/iris/infer", content=body,
                                headers={"content-type": "application/json"})  # fmt: skip
        kserve = iris.client.post(
            "/v2/models/iris/infer", content=body,
            headers={"content-type": "application/json",
                     "inference-header-content-length": str(len(body))},
        )  # fmt: skip
        assert (fast.status_code, fast.json()) == (kserve.status_code, kserve.json())
    assert fast.status_code == 400 and "shape [2]" in fast.json()["error"], fast.text


def test_metadata_names_the_version_and_the_signature(iris):
    meta = iris.client.get("/v2/models/iris").json()
    assert meta["name"] == "iris" and meta["versions"] == ["3"]
    assert meta["platform"] == "mlflow_sklearn"
    assert meta["inputs"] == [{"name": n, "datatype": "FP64", "shape": [-1]} for n in FEATURES]
    assert meta["outputs"] == [
        {"name": "label", "datatype": "BYTES", "shape": [-1]},
        {"name": "scores", "datatype": "FP64", "shape": [-1, 3]},
    ]
    assert iris.client.get("/v2/models/other").status_code == 404


@pytest.mark.parametrize(
    ("change", "named", "says"),
    [
        (lambda t: t[0].update(name="petal size"), "petal size", "unknown input tensor"),
        (lambda t: t.pop(), "petal width (cm)", "missing input tensor"),
        (lambda t: t[1].update(datatype="BYTES", data=["a"] * 3), "sepal width (cm)", "datatype"),
        (lambda t: t[2].update(shape=[4]), "petal length (cm)", "holds 4 elements, its data 3"),
        (lambda t: t[2].update(shape=[3, 2]), "petal length (cm)", "a column is [n] or [n, 1]"),
        (lambda t: t[3].update(data=[1, 2, "x"]), "petal width (cm)", "could not convert"),
        (lambda t: t[0].update(shape=[10**12], data=[1]), "sepal length (cm)", "over the limit"),
        (lambda t: t[0].update(shape="3"), "inputs.0.shape", "valid list"),
    ],
)
def test_bad_input_is_a_400_naming_the_tensor(iris, change, named, says):
    tensors = columns(ROWS)
    change(tensors)
    response = iris.client.post("/v2/models/iris/infer", json={"inputs": tensors})
    assert response.status_code == 400, response.text
    assert named in response.json()["error"] and says in response.json()["error"]


def test_a_million_zero_length_bytes_items_is_a_fast_400(iris):
    tensors = columns(ROWS)
    tensors[0] = {"name": FEATURES[0], "shape": [10**6], "datatype": "BYTES", "data": [""] * 10**6}
    body = json.dumps({"inputs": tensors}).encode()
    start = time.monotonic()
    json_type = {"content-type": "application/json"}
    response = iris.client.post("/v2/models/iris/infer", content=body, headers=json_type)
    assert response.status_code == 400 and FEATURES[0] in response.json()["error"]
    assert time.monotonic() - start < 2
    # The same in the binary extension (tritonclient's default): 4-byte lengths of nothing.
    binary = {"binary_data_size": 4 * 10**6}
    tensor = {"name": FEATURES[0], "shape": [10**6], "datatype": "BYTES", "parameters": binary}
    header = json.dumps({"inputs": [tensor]}).encode()
    start = time.monotonic()
    response = iris.client.post(
        "/v2/models/iris/infer",
        content=header + bytes(4 * 10**6),
        headers={"inference-header-content-length": str(len(header))},
    )
    assert response.status_code == 400 and FEATURES[0] in response.json()["error"]
    assert time.monotonic() - start < 2


def test_a_binary_shape_that_does_not_match_its_bytes_is_a_400(iris):
    binary = {"binary_data_size": 16}  # two FP64 of the three the shape says
    tensors = [
        {"name": n, "shape": [3], "datatype": "FP64", "parameters": binary} for n in FEATURES
    ]
    header = json.dumps({"inputs": tensors})
    response = iris.client.post(
        "/v2/models/iris/infer",
        content=header.encode() + bytes(64),
        headers={"inference-header-content-length": str(len(header))},
    )
    assert response.status_code == 400
    assert f"'{FEATURES[0]}': shape [3] holds 3 elements, its data 2" in response.json()["error"]


def _answer(conn: socket.socket) -> str:
    """All the server says until it closes the connection."""
    data = b""
    while chunk := conn.recv(65536):
        data += chunk
    return data.decode()


def test_a_body_over_the_limit_is_refused_before_it_is_read(iris):
    head = b"POST /v2/models/iris/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    with socket.socket(socket.AF_UNIX) as conn:  # only the headers are sent
        conn.settimeout(10)
        conn.connect(str(iris.socket))
        conn.sendall(head + b"Content-Length: 8388609\r\n\r\n")
        answer = _answer(conn)
    assert answer.startswith("HTTP/1.1 413 ")
    assert answer.endswith('{"error":"request body over 8388608 bytes"}')
    with socket.socket(socket.AF_UNIX) as conn:  # chunked: counted as it arrives
        conn.settimeout(10)
        conn.connect(str(iris.socket))
        conn.sendall(head + b"Transfer-Encoding: chunked\r\n\r\n")
        for _ in range(8):  # exactly the limit, then one byte more
            conn.sendall(b"100000\r\n" + b" " * (1 << 20) + b"\r\n")
        conn.sendall(b"1\r\n \r\n")
        answer = _answer(conn)
    assert answer.startswith("HTTP/1.1 413 ")


def test_the_socket_is_0660(iris):
    assert stat.S_ISSOCK(os.lstat(iris.socket).st_mode)
    assert stat.S_IMODE(os.lstat(iris.socket).st_mode) == 0o660


def test_stderr_stays_quiet(iris):
    """After the requests above, refused ones included, the deployment's log is empty."""
    assert iris.client.post("/v2/models/iris/infer", json={"inputs": columns(ROWS)}).is_success
    assert iris.stderr() == ""


def test_regression_answers_value(models, tmp_path):
    with Runtime(tmp_path, models["root"] / "reg", "regression", name="petal") as server:
        server.wait_ready()
        names = FEATURES[:3]
        response = server.client.post(
            "/v2/models/petal/infer", json={"inputs": columns([r[:3] for r in ROWS], names)}
        )
    assert response.status_code == 200, response.text
    [value] = response.json()["outputs"]
    assert value["name"] == "value" and value["datatype"] == "FP64" and value["shape"] == [3]
    expected = models["regressor"].predict(pd.DataFrame([r[:3] for r in ROWS], columns=names))
    np.testing.assert_allclose(value["data"], expected, rtol=1e-9)


def test_multilabel_answers_labels_and_scores_per_label(models, tmp_path):
    with Runtime(tmp_path, models["root"] / "multi", "multilabel", name="tags") as server:
        server.wait_ready()
        meta = server.client.get("/v2/models/tags").json()
        response = server.client.post("/v2/models/tags/infer", json={"inputs": columns(ROWS)})
    assert meta["outputs"] == [
        {"name": "labels", "datatype": "INT64", "shape": [-1, 2]},
        {"name": "scores", "datatype": "FP64", "shape": [-1, 2]},
    ]
    assert response.status_code == 200, response.text
    out = {o["name"]: o for o in response.json()["outputs"]}
    assert out["labels"]["shape"] == [3, 2] and out["scores"]["shape"] == [3, 2]
    assert json.loads(out["labels"]["parameters"]["classes"]) == [0, 1]
    frame = pd.DataFrame(ROWS, columns=FEATURES)
    assert out["labels"]["data"] == models["multi"].predict(frame).ravel().tolist()
    assert out["labels"]["data"] == [0, 1, 1, 0, 1, 0]
    expected = models["multi"].predict_proba(frame).ravel()
    np.testing.assert_allclose(out["scores"]["data"], expected, rtol=1e-9)


def test_ready_only_once_the_model_has_loaded(models, tmp_path):
    with Runtime(tmp_path, models["root"] / "shout", "seq2seq", name="shout") as server:
        server.wait_socket()
        first = [server.client.get(path).status_code
                 for path in ("/v2/health/ready", "/v2/models/shout/ready")]  # fmt: skip
        infer = {
            "inputs": [{"name": "text", "shape": [2], "datatype": "BYTES", "data": ["hi", "yo"]}]
        }
        early = server.client.post("/v2/models/shout/infer", json=infer)
        assert server.client.get("/v2/health/live").status_code == 200
        server.wait_ready()
        assert server.client.get("/v2/models/shout/ready").json() == {
            "name": "shout",
            "ready": True,
        }
        response = server.client.post("/v2/models/shout/infer", json=infer)
        # A million empty strings for a model that takes strings: refused by the row limit.
        empty = {"name": "text", "shape": [10**6], "datatype": "BYTES", "data": [""] * 10**6}
        start = time.monotonic()
        refused = server.client.post("/v2/models/shout/infer", json={"inputs": [empty]})
        assert time.monotonic() - start < 2
    assert refused.status_code == 400
    assert refused.json() == {
        "error": "input tensor 'text': 1000000 rows, over the limit of 100000"
    }
    assert first == [503, 503] and early.status_code == 503
    assert response.status_code == 200, response.text
    [text] = response.json()["outputs"]
    assert text == {"name": "text", "shape": [2], "datatype": "BYTES", "parameters": None,
                    "data": ["HI!", "YO!"]}  # fmt: skip


def test_a_model_that_cannot_load_ends_the_process_with_one_line(tmp_path):
    missing = tmp_path / "no-such-model"
    runtime = Runtime(tmp_path, missing, "regression", name="gone")
    with runtime:
        code = runtime.process.wait(timeout=60)
    err = runtime.stderr()
    assert code == 1
    reason = f"FileNotFoundError: no model folder at {missing}"
    assert err.strip().splitlines() == [f"labworks-serving: cannot load model {missing}: {reason}"]
    assert not runtime.socket.exists()


def test_a_torch_regressor_is_served_natively(tmp_path):
    path, rows, expected = save_torch_regressor(tmp_path / "torch")
    with Runtime(tmp_path, path, "regression", name="net") as server:
        server.wait_ready()
        meta = server.client.get("/v2/models/net").json()
        body = {"inputs": [{"name": "input", "shape": [len(rows), 3], "datatype": "FP32",
                            "data": [v for row in rows for v in row]}]}  # fmt: skip
        response = server.client.post("/v2/models/net/infer", json=body)
        bad = dict(body["inputs"][0], shape=[3, len(rows)])  # fits the data, not the net
        refused = server.client.post("/v2/models/net/infer", json={"inputs": [bad]})
    assert meta["platform"] == "mlflow_pytorch"
    assert meta["inputs"] == [{"name": "input", "datatype": "FP32", "shape": [-1, 3]}]
    assert response.status_code == 200, response.text
    [value] = response.json()["outputs"]
    assert value["name"] == "value" and value["shape"] == [len(rows)]
    np.testing.assert_allclose(value["data"], expected, rtol=1e-5)
    assert (
        refused.status_code == 400
        and "'input': shape [3, 5], the model takes [n, 3]" in refused.text
    )


TRITON_SCRIPT = """
import json, sys
import numpy as np
import tritonclient.http as http
url, features, rows = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
client = http.InferenceServerClient(url)
assert client.is_server_ready() and client.is_model_ready("iris")
meta = client.get_model_metadata("iris")
inputs = []
for i, name in enumerate(features):
    tensor = http.InferInput(name, [len(rows)], "FP64")
    tensor.set_data_from_numpy(np.array([r[i] for r in rows], dtype=np.float64))  # binary
    inputs.append(tensor)
result = client.infer("iris", inputs)
labels = [v.decode() for v in result.as_numpy("label")]
scores = result.as_numpy("scores").tolist()
try:
    client.infer("iris", inputs[:1])
    refused = None
except Exception as exc:
    refused = str(exc)
print(json.dumps({"versions": meta["versions"], "labels": labels, "scores": scores,
                  "refused": refused}))
"""


def test_tritonclient_talks_to_it(models, tmp_path, triton_python, free_tcp_port):
    with Runtime(tmp_path, models["root"] / "clf", "classification", name="iris",
                 port=free_tcp_port) as server:  # fmt: skip
        server.wait_ready()
        proc = subprocess.run(
            [str(triton_python), "-c", TRITON_SCRIPT, f"127.0.0.1:{free_tcp_port}",
             json.dumps(FEATURES), json.dumps(ROWS)],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["versions"] == ["3"]
    assert result["labels"] == ["setosa", "virginica", "versicolor"]
    np.testing.assert_allclose(np.array(result["scores"]).sum(axis=1), 1.0)
    assert "missing input tensor 'sepal width (cm)'" in result["refused"]
