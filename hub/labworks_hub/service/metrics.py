"""Prometheus instrumentation of the platform service: one registry per app."""

from __future__ import annotations

import time

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send


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
