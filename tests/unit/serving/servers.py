"""Model servers for the tests: the runtime started with the serving environment's interpreter."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[3]
SERVING_PYTHON = ROOT / ".venv" / "lib" / "serving" / "bin" / "python"
RUNTIME = ROOT / "hub" / "labworks_hub" / "service" / "serving" / "runtime"

TORCH_REGRESSOR = """
import json, sys
import numpy as np, torch, mlflow.pytorch
from mlflow.models import infer_signature
torch.manual_seed(0)
net = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
x = torch.rand(64, 3)
y = x @ torch.tensor([[1.0], [-2.0], [0.5]]) + 0.3
optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
for _ in range(50):
    optimizer.zero_grad()
    torch.nn.functional.mse_loss(net(x), y).backward()
    optimizer.step()
rows = x[:5].numpy()
with torch.no_grad():
    expected = net(x[:5]).numpy()[:, 0]
signature = infer_signature(rows, expected)
mlflow.pytorch.save_model(net, sys.argv[1], signature=signature, input_example=rows)
print(json.dumps({"rows": rows.tolist(), "expected": expected.tolist()}))
"""


def save_torch_regressor(path: Path) -> tuple[Path, list[list[float]], list[float]]:
    """A tiny torch regressor trained and saved with mlflow.pytorch in the serving environment
    (the platform's has no torch); its rows and its own predictions for them."""
    proc = subprocess.run([str(SERVING_PYTHON), "-c", TORCH_REGRESSOR, str(path)],
                          capture_output=True, text=True, timeout=300, check=True)  # fmt: skip
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    return path, out["rows"], out["expected"]


class Runtime:
    """The runtime for one model, on a Unix socket in `folder` (or on 127.0.0.1:`port`)."""

    def __init__(self, folder: Path, model: Path, task: str, *, name: str, version: str = "3",
                 port: int | None = None):  # fmt: skip
        self.folder, self.socket, self.port = folder, folder / "model.sock", port
        where = ["--port", str(port)] if port else ["--socket", str(self.socket)]
        self.argv = [str(SERVING_PYTHON), "-P", str(RUNTIME), *where, "--name", name, "--version",
                     version, "--model-uri", str(model), "--task", task]  # fmt: skip
        transport = httpx.HTTPTransport(uds=str(self.socket)) if not port else None
        base = f"http://127.0.0.1:{port}" if port else "http://model"
        self.client = httpx.Client(transport=transport, base_url=base, timeout=30)

    def __enter__(self) -> Runtime:
        self._err = open(self.folder / "stderr.txt", "w+")
        self.process = subprocess.Popen(self.argv, stdout=subprocess.DEVNULL, stderr=self._err)
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self._err.close()

    def stderr(self) -> str:
        return (self.folder / "stderr.txt").read_text()

    def _alive(self) -> None:
        if self.process.poll() is not None:
            raise AssertionError(f"the runtime exited {self.process.returncode}: {self.stderr()}")

    def wait_socket(self, timeout: float = 60) -> None:
        """Until the server answers at all (its socket is bound before the model loads)."""
        deadline = time.monotonic() + timeout
        while True:
            self._alive()
            try:
                self.client.get("/v2/health/live")
                return
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def wait_ready(self, timeout: float = 120) -> None:
        self.wait_socket()
        deadline = time.monotonic() + timeout
        while self.client.get("/v2/health/ready").status_code != 200:
            self._alive()
            assert time.monotonic() < deadline, "the model did not load in time"
            time.sleep(0.05)
