"""The spawner asks the platform before a GPU workspace starts: a spent budget refuses it with
the platform's message (403 on the spawn page); a CPU profile is not asked; a platform that
does not answer lets it start."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from tornado.web import HTTPError

from labworks_hub.catalog import ImageCatalog
from labworks_hub.gpus import GPU, GPUAllocator
from labworks_hub.service.store import Store
from labworks_hub.spawners import LocalWorkspaceSpawner, WorkspaceSpawnerMixin
from labworks_hub.spawners.budget import budget_refusal

MESSAGE = "your budget for 2026-12 is spent: ask an administrator (root) to raise it"


@pytest.fixture
def platform():
    """A loopback stand-in for GET /cost/check: refuses GPU workspaces of token `spent`."""
    asked: list[tuple[str, dict, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            token = self.headers.get("Authorization", "")
            asked.append((parts.path, parse_qs(parts.query), token))
            allowed = token != "token spent"
            body = json.dumps({"allowed": allowed, "message": "" if allowed else MESSAGE})
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield SimpleNamespace(url=f"http://127.0.0.1:{server.server_port}/api/v1", asked=asked)
    server.shutdown()
    server.server_close()


@pytest.fixture
def spawner(tmp_path, monkeypatch, platform):
    monkeypatch.setattr(WorkspaceSpawnerMixin, "_catalog", ImageCatalog())  # none read
    store = Store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    store.migrate()
    slots = GPUAllocator(store, [GPU(0, "NVIDIA H100", 1)])
    monkeypatch.setattr(LocalWorkspaceSpawner, "_gpu_slots", slots)
    spawner = LocalWorkspaceSpawner(workspaces_dir=str(tmp_path), platform_api_url=platform.url)
    spawner.profiles = [
        {"name": "cpu", "display_name": "CPU"},
        {"name": "gpu", "display_name": "GPU", "gpu_count": 1},
    ]
    spawner.user = SimpleNamespace(name="alice", groups=[])
    yield spawner
    store.dispose()


async def test_a_spent_budget_refuses_a_gpu_workspace_with_the_platforms_message(spawner, platform):
    spawner.api_token = "spent"
    with pytest.raises(HTTPError) as refused:
        await spawner.apply_user_options(spawner, {"profile": "gpu"})
    assert (refused.value.status_code, refused.value.log_message) == (403, MESSAGE)
    assert platform.asked == [
        ("/api/v1/cost/check", {"kind": ["workspace"], "gpu": ["true"]}, "token spent")
    ]
    assert spawner.gpu_indices == []  # no GPU taken
    await spawner.apply_user_options(spawner, {"profile": "cpu"})  # a CPU one: not asked
    assert len(platform.asked) == 1
    spawner.api_token = "fine"
    await spawner.apply_user_options(spawner, {"profile": "gpu"})
    assert spawner.gpu_indices == [0]


async def test_a_platform_that_does_not_answer_lets_the_workspace_start():
    assert await budget_refusal("http://127.0.0.1:9/api/v1", "t", gpu=True, timeout=2) == ""
