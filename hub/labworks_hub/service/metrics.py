"""Prometheus instrumentation of the platform service: one registry per app."""

from __future__ import annotations

import time

from fastapi import FastAPI, Request
from prometheus_client import CollectorRegistry, Counter, Histogram


def install_metrics(app: FastAPI) -> CollectorRegistry:
    registry = CollectorRegistry()
    requests = Counter(
        "labworks_http_requests_total",
        "HTTP requests served by the platform service.",
        ["method", "route", "status"],
        registry=registry,
    )
    latency = Histogram(
        "labworks_http_request_duration_seconds",
        "Latency of platform service requests.",
        ["method", "route"],
        registry=registry,
    )

    @app.middleware("http")
    async def _observe(request: Request, call_next):
        start = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        latency.labels(request.method, path).observe(time.perf_counter() - start)
        requests.labels(request.method, path, str(response.status_code)).inc()
        return response

    return registry
