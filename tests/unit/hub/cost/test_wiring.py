"""How the meter is built: its config and prices reach the platform service from the hub's
config, the price list the API shows, and the hub's server list read as workspaces."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

from traitlets.config import Config

from labworks_hub.hubconfig import jobs_environment
from labworks_hub.service.app import create_app
from labworks_hub.service.cost.subjects import HubWorkspaces, parse_users
from labworks_hub.service.routers.cost import meter_of, prices
from labworks_hub.service.settings import ServiceSettings
from labworks_hub.service.store.cost import WORKSPACE
from tests.platform import free_port

from .conftest import ANA

PROFILES = [
    {"name": "cpu", "display_name": "CPU", "cpu_limit": 4, "mem_limit": "8Gi"},
    {"name": "old", "display_name": "Old", "price_per_hour": 0.5},
]


def test_the_hubs_cost_sections_reach_the_meter_and_the_price_list(tmp_path):
    c = Config()
    c.CostPrices.cpu_core_hour = 0.1
    c.CostPrices.memory_gb_hour = 0.01
    c.CostMeter.sample_interval = 2.0
    environment = jobs_environment(c, PROFILES)
    settings = ServiceSettings.from_env({
        "LABWORKS_DB_URL": f"sqlite:///{tmp_path / 'store.sqlite'}",
        "LABWORKS_STATE_DIR": str(tmp_path),
        "JUPYTERHUB_API_URL": f"http://127.0.0.1:{free_port()}/hub/api",
        "JUPYTERHUB_API_TOKEN": "service-token",
        **environment,
    })  # fmt: skip
    assert json.loads(environment["LABWORKS_JOBS_CONFIG"])["CostMeter"] == {"sample_interval": 2}
    meter = meter_of(create_app(settings))
    assert (meter.sample_interval, meter.prices.cpu_core_hour) == (2.0, 0.1)
    listed = asyncio.run(prices(ANA, meter))
    assert listed.currency == "USD"
    assert [(p.name, p.per_hour, p.computed) for p in listed.profiles] == [
        ("cpu", 0.48, True),  # 4 x 0.10 + 8 x 0.01
        ("old", 0.5, False),
    ]
    assert listed.prices["gpu_hour"]["default"] == 2.5


def test_running_servers_are_read_from_the_hubs_user_models():
    users = [
        {"name": "ana", "servers": {
            "": {"name": "", "started": "2026-12-05T10:00:00.000000Z", "stopped": False,
                 "user_options": {"profile": "gpu-1"},
                 "state": {"pid": 4242, "cgroup": "/sys/fs/cgroup/labworks/lw-ana"}},
            "scratch": {"name": "scratch", "started": "2026-12-05T11:00:00Z", "stopped": False,
                        "user_options": {}, "state": {}},
            "gone": {"name": "gone", "started": None, "stopped": True},
        }},
        {"name": "ben", "servers": {}},
    ]  # fmt: skip
    found = parse_users(users, "cpu-small")
    assert [(s.kind, s.id, s.owner, s.profile, s.pid, s.gpu_holder) for s in found] == [
        (WORKSPACE, "ana", "ana", "gpu-1", 4242, "workspace:ana/"),
        (WORKSPACE, "ana/scratch", "ana", "cpu-small", None, "workspace:ana/scratch"),
    ]
    assert found[0].cgroup == "/sys/fs/cgroup/labworks/lw-ana"
    assert found[0].started_at == datetime(2026, 12, 5, 10, tzinfo=UTC)
    assert parse_users({"unexpected": True}, "cpu-small") == []


class Users(BaseHTTPRequestHandler):
    """The hub's `GET /users?state=active`, 200 users a page: 201 users, the last one running."""

    seen: ClassVar[list[tuple[str, str]]] = []

    def do_GET(self):
        query = parse_qs(urlsplit(self.path).query)
        Users.seen.append((self.headers["Authorization"], query["offset"][0]))
        offset, limit = int(query["offset"][0]), int(query["limit"][0])
        users = [{"name": f"u{n}", "servers": {}} for n in range(201)]
        users[200]["servers"] = {"": {"name": "", "started": "2026-12-05T10:00:00Z",
                                      "user_options": {}, "state": {"pid": 7}}}  # fmt: skip
        body = json.dumps(users[offset : offset + limit]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


async def test_the_hub_is_asked_page_by_page_with_the_service_token():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Users)
    Thread(target=server.serve_forever, daemon=True).start()
    hub = HubWorkspaces(f"http://127.0.0.1:{server.server_port}/hub/api", "service-token")
    try:
        found = await hub.running("cpu-small")
    finally:
        await hub.aclose()
        server.shutdown()
    assert [(s.id, s.pid, s.profile) for s in found] == [("u200", 7, "cpu-small")]
    assert Users.seen == [("token service-token", "0"), ("token service-token", "200")]
