"""`labworks.sweeps.delete` against a small stand-in of the platform's sweeps route (the real
route is exercised in tests/integration/test_sweeps.py): the request it sends, and the
platform's refusal as a `SweepError` with its message."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from labworks import sweeps

SWEEP_ID = "0123456789ab"


class Platform(BaseHTTPRequestHandler):
    """DELETE /sweeps/<SWEEP_ID> answers 204 once, then 404 as the platform does."""

    seen: ClassVar[list[tuple[str, str, str]]] = []

    def do_DELETE(self) -> None:
        Platform.seen.append((self.command, self.path, self.headers["Authorization"]))
        if self.path == f"/api/v1/sweeps/{SWEEP_ID}" and len(Platform.seen) == 1:
            self.send_response(204)
            self.end_headers()
            return
        body = json.dumps({"error": "not_found", "message": f"no sweep {SWEEP_ID!r}"}).encode()
        self.send_response(404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def platform(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, str, str]]]:
    Platform.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Platform)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("LABWORKS_API_URL", f"http://127.0.0.1:{server.server_port}/api/v1")
    monkeypatch.setenv("LABWORKS_API_TOKEN", "secret")
    yield Platform.seen
    server.shutdown()
    server.server_close()


def test_delete_sends_the_owners_request_and_passes_on_a_refusal(platform) -> None:
    assert sweeps.delete(SWEEP_ID) is None
    assert platform == [("DELETE", f"/api/v1/sweeps/{SWEEP_ID}", "token secret")]
    with pytest.raises(sweeps.SweepError, match="no sweep '0123456789ab'") as refused:
        sweeps.delete(SWEEP_ID)
    assert refused.value.status == 404


def test_delete_checks_the_id_before_asking(platform) -> None:
    with pytest.raises(sweeps.SweepError, match="not a sweep id"):
        sweeps.delete("../jobs/x")
    assert platform == []
