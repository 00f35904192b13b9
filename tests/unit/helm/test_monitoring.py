"""The chart's monitoring: a ServiceMonitor that scrapes the platform Service's /metrics with a
token from a Secret, and Grafana dashboards as ConfigMaps for the sidecar, both off by default.
Every panel's query names only metrics the platform service exports (read from its own
collectors, not from a copy of their names)."""

from __future__ import annotations

import json
import re

import pytest
from prometheus_client import CollectorRegistry

from labworks_hub.service.metrics import CostMetrics, RequestMetrics

from .schemas import assert_valid
from .test_chart import CHART, DEFAULT, NAMESPACE, RELEASE, helm, one, render

ON = (
    "--set", "monitoring.serviceMonitor.enabled=true",
    "--set", "monitoring.serviceMonitor.tokenSecret.name=labworks-metrics",
    "--set", "monitoring.serviceMonitor.labels.release=kube-prometheus",
    "--set", "monitoring.grafanaDashboards.enabled=true",
)  # fmt: skip
SUFFIXES = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_sum", "_count",
            "_created"), "gauge": ("",)}  # fmt: skip


def exported() -> set[str]:
    """The series names the platform's collectors expose."""
    registry = CollectorRegistry()
    RequestMetrics(app=None, registry=registry)  # type: ignore[arg-type]
    CostMetrics(registry)
    return {
        family.name + suffix for family in registry.collect() for suffix in SUFFIXES[family.type]
    }


def dashboards(docs: list[dict]) -> dict[str, dict]:
    return {
        key: json.loads(text)
        for doc in docs
        if doc["kind"] == "ConfigMap" and "grafana_dashboard" in doc["metadata"]["labels"]
        for key, text in doc["data"].items()
    }


def test_monitoring_is_off_by_default() -> None:
    docs = render(*DEFAULT)
    assert not [d for d in docs if d["kind"] == "ServiceMonitor"]
    assert dashboards(docs) == {}


def test_the_chart_lints_with_monitoring_on() -> None:
    proc = helm("lint", "--strict", str(CHART), "--namespace", NAMESPACE, *ON)
    assert "[WARNING]" not in proc.stdout and "[ERROR]" not in proc.stdout, proc.stdout


def test_the_service_monitor_scrapes_the_platform_service_with_the_secret_token() -> None:
    docs = render(*ON)
    monitor = one(docs, "ServiceMonitor")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus"
    service = one(docs, "Service", RELEASE)
    selector = monitor["spec"]["selector"]["matchLabels"]
    assert selector.items() <= service["metadata"]["labels"].items()
    matching = [
        d["metadata"]["name"] for d in docs
        if d["kind"] == "Service" and selector.items() <= d["metadata"]["labels"].items()
    ]  # fmt: skip
    assert matching == [RELEASE]  # the platform's Service alone, not PostgreSQL's
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": [NAMESPACE]}
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["port"] in {p["name"] for p in service["spec"]["ports"]}
    health = one(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]
    probe_path = health["readinessProbe"]["httpGet"]["path"]
    assert endpoint["path"] == probe_path.replace("/health", "/metrics")
    assert endpoint["bearerTokenSecret"] == {"name": "labworks-metrics", "key": "token"}


def test_a_service_monitor_without_a_token_secret_is_refused() -> None:
    proc = helm("template", RELEASE, str(CHART), "--namespace", NAMESPACE,
                "--set", "monitoring.serviceMonitor.enabled=true", check=False)  # fmt: skip
    assert proc.returncode != 0
    assert "read:metrics" in proc.stderr


def test_the_dashboards_are_valid_configmaps_for_the_grafana_sidecar() -> None:
    docs = render(*ON)
    maps = [d for d in docs if d["kind"] == "ConfigMap" and "grafana_dashboard" in
            d["metadata"]["labels"]]  # fmt: skip
    for doc in maps:
        assert doc["metadata"]["labels"]["grafana_dashboard"] == "1"
        assert_valid(doc)
    found = dashboards(docs)
    assert set(found) == {"labworks-costs.json", "labworks-platform.json"}
    uids = [d["uid"] for d in found.values()]
    assert len(set(uids)) == len(uids)
    for name, dashboard in found.items():
        ids = [p["id"] for p in dashboard["panels"]]
        assert len(set(ids)) == len(ids), name
        assert all(p["targets"] for p in dashboard["panels"]), name


@pytest.mark.parametrize("name", ["labworks-costs.json", "labworks-platform.json"])
def test_every_panel_queries_only_metrics_the_platform_exports(name) -> None:
    names = exported()
    dashboard = dashboards(render(*ON))[name]
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            used = set(re.findall(r"\blabworks_\w+", target["expr"]))
            assert used, (panel["title"], target["expr"])
            assert used <= names, (panel["title"], used - names)
    titles = " ".join(p["title"] for p in dashboard["panels"]).lower()
    wanted = {"labworks-costs.json": ("burn rate", "spend", "budget", "gpu utilization"),
              "labworks-platform.json": ("running", "requests", "latency")}[name]  # fmt: skip
    assert all(w in titles for w in wanted), titles
