"""A stand-in for the two JupyterHub REST calls the platform service makes, for unit tests that
run the service without a hub: `GET /hub/api/user` (who owns this token, with the scope that
lets it use the service) and `GET /hub/api/users/<name>` (a user's admin flag and groups, asked
with the service's own token). Integration tests use the real hub (tests/platform.py).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ACCESS = "access:services!service=labworks"  # what the hub grants tokens that may use it
SERVICE_TOKEN = "service-token"  # the service's JUPYTERHUB_API_TOKEN in these tests


@dataclass(frozen=True)
class Owner:
    """Who a token belongs to."""

    name: str
    admin: bool = False
    groups: tuple[str, ...] = ()
    kind: str = "user"  # or "service"


@contextmanager
def fake_hub_api(tokens: dict[str, Owner]) -> Iterator[str]:
    """Serve `tokens` on a free loopback port; yields the API URL (JUPYTERHUB_API_URL). An
    unknown token is a 403; an unknown user, or a lookup without the service token, a 404."""

    class HubAPI(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            token = self.headers.get("Authorization", "").removeprefix("token ")
            if self.path == "/hub/api/user":
                owner = tokens.get(token)
                if owner is None:
                    return self._send(403, {"error": "forbidden"})
                return self._send(200, {"kind": owner.kind, "name": owner.name, "scopes": [ACCESS]})
            name = self.path.removeprefix("/hub/api/users/")
            found = next((o for o in tokens.values() if o.name == name), None)
            if token != SERVICE_TOKEN or found is None:
                return self._send(404, {"error": "not found"})
            return self._send(
                200, {"name": name, "admin": found.admin, "groups": list(found.groups)}
            )

        def _send(self, status: int, body: dict) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), HubAPI)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hub/api"
    finally:
        server.shutdown()
        server.server_close()
