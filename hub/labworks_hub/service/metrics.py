"""Prometheus instrumentation of the platform service: one registry per app."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .store.cost import KINDS

if TYPE_CHECKING:
    from .cost.meter import SampleSummary


def install_metrics(app: FastAPI) -> CollectorRegistry:
    """Count and time every HTTP request by method, route template and status."""
    registry = CollectorRegistry()
    app.add_middleware(RequestMetrics, registry=registry)
    return registry


class RequestMetrics:
    """ASGI middleware (not `@app.middleware("http")`, whose BaseHTTPMiddleware runs each
    request in a task of its own and costs every MLflow call through the service)."""

    def __init__(self, app: ASGIApp, registry: CollectorRegistry) -> None:
        self.app = app
        self.requests = Counter(
            "labworks_http_requests_total",
            "HTTP requests served by the platform service.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "labworks_http_request_duration_seconds",
            "Latency of platform service requests.",
            ["method", "route"],
            registry=registry,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500  # what the client gets when the app raises before answering

        async def observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, observed)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")  # set by the router
            method = scope["method"]
            self.latency.labels(method, route).observe(time.perf_counter() - start)
            self.requests.labels(method, route, str(status)).inc()


class CostMetrics:
    """The cost meter's figures (service/cost), updated after each sample; labels stay few:
    users for spend, subject kinds for burn and utilization, budgets by scope and name."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.spend = Counter(
            "labworks_cost_usd_total", "Spend metered since the service started, by user.",
            ["user"], registry=registry,
        )  # fmt: skip
        self.burn = Gauge(
            "labworks_cost_burn_usd_per_hour", "What running work costs an hour, by kind.",
            ["kind"], registry=registry,
        )  # fmt: skip
        self.running = Gauge(
            "labworks_cost_running", "Metered subjects running, by kind.", ["kind"],
            registry=registry,
        )  # fmt: skip
        self.cpu = Gauge(
            "labworks_cost_cpu_percent", "Mean CPU use of running subjects (percent of a core).",
            ["kind"], registry=registry,
        )  # fmt: skip
        self.gpu = Gauge(
            "labworks_cost_gpu_utilization_percent",
            "Mean utilization of the GPUs leased to running subjects.", ["kind"],
            registry=registry,
        )  # fmt: skip
        self.budget = Gauge(
            "labworks_cost_budget_used_percent", "Share of each monthly budget spent.",
            ["scope", "name"], registry=registry,
        )  # fmt: skip

    def observe(self, summary: SampleSummary) -> None:
        for charge in summary.charges:
            self.spend.labels(charge.owner).inc(charge.cost_usd)
        for kind in KINDS:
            mine = [r for r in summary.running if r.kind == kind]
            cpu = [r.cpu_percent for r in mine if r.cpu_percent is not None]
            gpu = [r.gpu_utilization for r in mine if r.gpu_utilization is not None]
            self.running.labels(kind).set(len(mine))
            self.burn.labels(kind).set(sum(r.burn_per_hour for r in mine))
            self.cpu.labels(kind).set(sum(cpu) / len(cpu) if cpu else 0.0)
            self.gpu.labels(kind).set(sum(gpu) / len(gpu) if gpu else 0.0)
        self.budget.clear()  # a deleted budget's series goes
        for budget in summary.budgets:
            self.budget.labels(budget["scope"], budget["name"]).set(budget["percent"])
