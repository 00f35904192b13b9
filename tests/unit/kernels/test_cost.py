"""`labworks.cost` against a small stand-in of the platform's cost summary route (the real
route is exercised in tests/integration/test_cost.py): the request it sends with the kernel's
token, the widget it draws and refreshes, and a refusal as a `CostError`."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from labworks import cost


def a_summary(month: float) -> dict[str, Any]:
    return {
        "user": "alice", "currency": "USD", "burn_per_hour": 0.4, "today_usd": 0.0042,
        "month_usd": month,
        "running": [{
            "kind": "job", "id": "j1", "name": "<train>", "profile": "gpu-small",
            "burn_per_hour": 0.4, "cpu_percent": 90.0, "memory_bytes": 1 << 30,
            "gpu_utilization": 55.0,
        }],
        "budgets": [{
            "scope": "user", "name": "alice", "monthly_usd": 100.0, "thresholds": [50, 80, 100],
            "spent_usd": month, "percent": month, "updated_by": "admin",
        }],
    }  # fmt: skip


class Platform(BaseHTTPRequestHandler):
    """GET /cost/summary answers the next of `answers` (status, body); the month's spend grows
    by a dollar each time."""

    seen: ClassVar[list[tuple[str, str, str]]] = []
    answers: ClassVar[list[tuple[int, dict[str, Any]]]] = []
    asked = threading.Event()

    def do_GET(self) -> None:
        Platform.seen.append((self.command, self.path, self.headers["Authorization"]))
        status, answer = Platform.answers.pop(0) if Platform.answers else (200, a_summary(9.0))
        body = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        Platform.asked.set()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def platform(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[Platform]]:
    Platform.seen = []
    Platform.answers = []
    Platform.asked = threading.Event()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Platform)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("LABWORKS_API_URL", f"http://127.0.0.1:{server.server_port}/api/v1")
    monkeypatch.setenv("LABWORKS_API_TOKEN", "secret")
    yield Platform
    server.shutdown()
    server.server_close()


def test_summary_asks_with_the_kernels_token(platform) -> None:
    platform.answers = [(200, a_summary(12.5))]
    found = cost.summary()
    assert found["month_usd"] == 12.5
    assert platform.seen == [("GET", "/api/v1/cost/summary", "token secret")]


def test_a_refusal_is_a_cost_error_with_the_platforms_message(platform) -> None:
    platform.answers = [(401, {"error": "unauthorized", "message": "bad token"})]
    with pytest.raises(cost.CostError, match="bad token") as refused:
        cost.summary()
    assert refused.value.status == 401


def test_the_meter_shows_the_summary_escaped_and_refreshes_until_closed(platform) -> None:
    platform.answers = [(200, a_summary(3.0)), (200, a_summary(4.0))]
    widget = cost.meter(interval=1.0)
    shown = widget.children[0].value
    assert "<b>$0.40/h</b> now" in shown
    assert "today $0.0042" in shown and "this month $3.00" in shown
    assert "&lt;train&gt;" in shown and "<train>" not in shown
    assert "gpu-small" in shown and "55%" in shown
    assert "Budget user alice: $3.00 of $100.00 (3%)" in shown
    platform.asked.clear()
    assert platform.asked.wait(10), "the meter did not read the summary again"
    for _ in range(100):  # the answer arrived; its drawing follows at once
        if "this month $4.00" in widget.children[0].value:
            break
        threading.Event().wait(0.05)
    assert "this month $4.00" in widget.children[0].value
    widget.close()
    asked = len(platform.seen)
    threading.Event().wait(2.5)
    assert len(platform.seen) <= asked + 1  # at most one read already under way


def test_the_meter_refuses_a_too_short_interval(platform) -> None:
    with pytest.raises(ValueError, match=r"at least 1\.0 seconds"):
        cost.meter(interval=0.1)
    assert platform.seen == []


def test_nothing_running_is_said() -> None:
    quiet = {**a_summary(0.0), "running": [], "budgets": [], "burn_per_hour": 0.0}
    assert "Nothing of yours is running." in cost.describe(quiet)
    assert cost.money(1234.5) == "$1,234.50"
    assert cost.money(2.0, "EUR") == "2.00 EUR"


def test_stop_keeps_the_widget_and_its_figures_but_reads_no_more(platform) -> None:
    platform.answers = [(200, a_summary(3.0))]
    widget = cost.meter(interval=1.0)
    widget.stop()
    threading.Event().wait(2.5)
    assert len(platform.seen) == 1
    assert "this month $3.00" in widget.children[0].value
    widget.close()
