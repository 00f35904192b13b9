"""Served models: a small scikit-learn classifier over OIP v2 REST on loopback, through Labworks
(configurable-http-proxy, the inference gateway, the model server on its Unix socket) against the
same model in a plain KServe model server started by hand (a `kserve.Model` calling
`predict_proba`, on a TCP port), in the same run, with the same client.

1. One client: p50 and p99 latency of --requests sequential requests each. Goal: p50 ratio
   (Labworks / plain) <= 1.1.
2. 16 clients: requests per second through Labworks over --seconds. Goal: >= 1,000 on 2 cores
   (the plain server's figure is printed beside it).

For scale, the plain server is also timed behind configurable-http-proxy alone, the hub's proxy
that every request to the platform's public URL passes: the floor of any endpoint's latency
there, and the ceiling of its requests per second.

Run with `make bench`, or `python tests/benchmarks/bench_serving.py --requests 200 --seconds 5`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.platform import API, Platform, free_port, labworks

SERVING_PYTHON = Path(sys.prefix) / "lib" / "serving" / "bin" / "python"
PROXY = Path(sys.prefix) / "bin" / "configurable-http-proxy"
MLFLOW = "/services/labworks/mlflow"
GATEWAY = "/services/labworks/models/v2/models"
BODY = {"inputs": [{"name": "input", "shape": [1, 4], "datatype": "FP64",
                    "data": [5.1, 3.5, 1.4, 0.2]}]}  # fmt: skip
TRAIN = """
import mlflow, numpy as np
from mlflow.models import infer_signature
from sklearn.linear_model import LogisticRegression
rng = np.random.default_rng(0)
X = rng.normal(size=(150, 4)) + np.repeat(np.arange(3), 50)[:, None]
y = np.repeat(np.array(["setosa", "versicolor", "virginica"]), 50)
model = LogisticRegression(max_iter=500).fit(X, y)
signature = infer_signature(X, model.predict(X))
if {save!r}:
    mlflow.sklearn.save_model(model, {save!r}, signature=signature)
else:
    mlflow.set_experiment("bench-serving")
    with mlflow.start_run() as run:
        mlflow.sklearn.log_model(model, name="model", signature=signature)
    version = mlflow.register_model(f"runs:/{{run.info.run_id}}/model", "bench-iris")
    mlflow.MlflowClient().set_model_version_tag("bench-iris", version.version, "labworks.task",
                                                "classification")
"""
# The plain server: KServe's own ModelServer with the simplest Model that answers the same.
PLAIN = """
import sys, numpy as np, mlflow.sklearn, kserve
from kserve.protocol.infer_type import InferOutput, InferResponse

class Iris(kserve.Model):
    def load(self):
        self.model = mlflow.sklearn.load_model(sys.argv[1])
        self.ready = True

    def predict(self, request, headers=None):
        x = request.inputs[0].as_numpy()
        scores = self.model.predict_proba(x)
        labels = self.model.classes_[scores.argmax(axis=1)].astype(object)
        return InferResponse(response_id=request.id or "", model_name=self.name, infer_outputs=[
            InferOutput("label", list(labels.shape), "BYTES", labels.tolist()),
            InferOutput("scores", list(scores.shape), "FP64", scores.ravel().tolist())])

model = Iris("bench-iris")
model.load()
kserve.ModelServer(http_port=int(sys.argv[2]), workers=1).start([model])
"""


def one_client(url: str, headers: dict, requests: int) -> list[float]:
    with httpx.Client(headers=headers, timeout=30) as client:
        for _ in range(20):  # warm-up: connections, caches
            client.post(url, json=BODY).raise_for_status()
        times = []
        for _ in range(requests):
            start = time.perf_counter()
            client.post(url, json=BODY).raise_for_status()
            times.append(time.perf_counter() - start)
    return times


async def many_clients(url: str, headers: dict, clients: int, seconds: float) -> float:
    """Requests per second of `clients` concurrent clients for `seconds`."""
    done = 0
    deadline = time.monotonic() + seconds

    async def client() -> None:
        nonlocal done
        async with httpx.AsyncClient(headers=headers, timeout=30) as http:
            while time.monotonic() < deadline:
                (await http.post(url, json=BODY)).raise_for_status()
                done += 1

    start = time.monotonic()
    await asyncio.gather(*(client() for _ in range(clients)))
    return done / (time.monotonic() - start)


def quantiles(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return statistics.median(ordered) * 1000, ordered[int(0.99 * (len(ordered) - 1))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000, help="sequential requests each")
    parser.add_argument("--seconds", type=float, default=10, help="of the 16-client run")
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="labworks-bench-serving-") as tmp:
        root = Path(tmp)
        root.chmod(0o711)
        home = root / "lw"
        home.mkdir()
        platform = Platform(home).start()
        plain = proxy = None
        try:
            platform.add_user("bench")
            token = platform.token("bench")
            env = {**os.environ, "MLFLOW_TRACKING_URI": platform.url + MLFLOW,
                   "MLFLOW_TRACKING_TOKEN": token, "MLFLOW_DISABLE_TELEMETRY": "true"}  # fmt: skip
            subprocess.run([sys.executable, "-c", TRAIN.format(save="")], env=env, check=True)
            served = labworks("models", "serve", "bench-iris", "--version", "1", "--wait",
                              home=home, env={"LABWORKS_URL": platform.url,
                                              "LABWORKS_TOKEN": token})  # fmt: skip
            assert "ready" in served.stdout, served.stdout + served.stderr
            saved = root / "model"
            subprocess.run([str(SERVING_PYTHON), "-c", TRAIN.format(save=str(saved))], check=True)
            port = free_port()
            script = root / "plain.py"
            script.write_text(textwrap.dedent(PLAIN))
            plain = subprocess.Popen(
                [str(SERVING_PYTHON), str(script), str(saved), str(port)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            plain_url = f"http://127.0.0.1:{port}/v2/models/bench-iris/infer"
            _wait_ready(f"http://127.0.0.1:{port}/v2/health/ready")
            proxy_port = free_port()
            proxy = subprocess.Popen(
                [str(PROXY), "--ip", "127.0.0.1", "--port", str(proxy_port), "--api-port",
                 str(free_port()), "--default-target", f"http://127.0.0.1:{port}"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                env={**os.environ, "CONFIGPROXY_AUTH_TOKEN": os.urandom(16).hex()},
            )  # fmt: skip
            _wait_ready(f"http://127.0.0.1:{proxy_port}/v2/health/ready")
            proxied_url = f"http://127.0.0.1:{proxy_port}/v2/models/bench-iris/infer"
            ours_url = platform.url + GATEWAY + "/bench-iris/infer"
            bearer = {"Authorization": f"Bearer {token}"}
            ours_1 = one_client(ours_url, bearer, args.requests)
            plain_1 = one_client(plain_url, {}, args.requests)
            proxied_1 = one_client(proxied_url, {}, args.requests)
            ours_n = asyncio.run(many_clients(ours_url, bearer, args.clients, args.seconds))
            plain_n = asyncio.run(many_clients(plain_url, {}, args.clients, args.seconds))
            proxied_n = asyncio.run(many_clients(proxied_url, {}, args.clients, args.seconds))
        finally:
            for process in (plain, proxy):
                if process is not None:
                    process.kill()
            with contextlib.suppress(Exception):  # no model server outlives the benchmark
                owner = {"Authorization": f"Bearer {platform.token('bench')}"}
                url = platform.url + API + "/deployments/bench-iris"
                httpx.delete(url, headers=owner, timeout=60)
            platform.stop()
    (ours_p50, ours_p99), (plain_p50, plain_p99) = quantiles(ours_1), quantiles(plain_1)
    ratio = ours_p50 / plain_p50
    print(f"1 client, {args.requests} requests: Labworks p50 {ours_p50:.2f} ms"
          f" p99 {ours_p99:.2f} ms; plain kserve p50 {plain_p50:.2f} ms"
          f" p99 {plain_p99:.2f} ms")  # fmt: skip
    print(f"bench_serving p50 ratio: {ratio:.2f} (goal <= 1.1) {_verdict(ratio <= 1.1)}")
    proxied_p50 = quantiles(proxied_1)[0]
    print(f"  for scale: plain kserve behind configurable-http-proxy alone p50"
          f" {proxied_p50:.2f} ms, ratio {proxied_p50 / plain_p50:.2f}")  # fmt: skip
    print(f"{args.clients} clients, {args.seconds:g} s: Labworks {ours_n:.0f} req/s;"
          f" plain kserve {plain_n:.0f} req/s")  # fmt: skip
    print(f"bench_serving throughput: {ours_n:.0f} req/s (goal >= 1000) {_verdict(ours_n >= 1000)}")
    print(f"  for scale: plain kserve behind configurable-http-proxy alone {proxied_n:.0f} req/s")


def _wait_ready(url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"the plain kserve server did not answer ready at {url}")
        time.sleep(0.2)


def _verdict(ok: bool) -> str:
    return "OK" if ok else "MISSED"


if __name__ == "__main__":
    main()
