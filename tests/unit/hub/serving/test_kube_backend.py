"""Served models on Kubernetes with no cluster: `KServeBackend` driven by the real serving
service (its store, loop steps, tokens and routes) against a faked Kubernetes API, the one seam
we fake (`KubeAPI`; the fake keeps objects, owner references and KServe's finalizer as the API
server would, and the test moves their status as KServe's controller would). The real
`KubernetesAPI` methods are checked against kubernetes_asyncio's CustomObjectsApi.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
from kubernetes_asyncio import client as kube_client
from kubernetes_asyncio.client.exceptions import ApiException
from traitlets.config import Config

from labworks_hub.service.access import Unavailable, Viewer
from labworks_hub.service.hubapi import HubToken
from labworks_hub.service.jobs.artifacts import ArtifactStore
from labworks_hub.service.jobs.executors.kubernetes import KubeError, KubernetesAPI
from labworks_hub.service.routers import deployments as router
from labworks_hub.service.serving import models
from labworks_hub.service.serving import operations as ops
from labworks_hub.service.serving.kserve import KServeError
from labworks_hub.service.serving.kube_backend import (
    GENERATION,
    KServeBackend,
    failure,
    storage_uri,
)
from labworks_hub.service.serving.service import ServingService
from labworks_hub.service.store.deployments import Deployment, ModelServer
from tests.unit.helm.schemas import assert_valid

ANA = Viewer("ana", frozenset({"ml"}))
IMAGE = "registry.example.org/labworks/labworks-serving:ci-7@sha256:" + "cd" * 32
NAMESPACE = "labworks-models"
TOKEN = "hub-token-of-ana-0123456789"


class FakeKube:
    """The cluster as the backend sees it: Secrets and InferenceServices with uids, owner
    references (a deleted owner's dependents go with it) and KServe's finalizer (a deleted
    InferenceService stays, marked, until the test lets it go)."""

    def __init__(self) -> None:
        self.isvcs: dict[str, dict] = {}
        self.secrets: dict[str, dict] = {}
        self.calls: list[tuple[str, str]] = []  # (method, name)
        self.refuse: KubeError | None = None
        self._uids = 0

    def _uid(self) -> str:
        self._uids += 1
        return f"uid-{self._uids}"

    async def create_secret(self, namespace: str, manifest: dict) -> None:
        name = manifest["metadata"]["name"]
        self.calls.append(("create_secret", name))
        assert namespace == manifest["metadata"]["namespace"] == NAMESPACE
        if name in self.secrets:
            raise KubeError(409, "AlreadyExists")
        self.secrets[name] = json.loads(json.dumps(manifest))

    async def patch_secret(self, namespace: str, name: str, patch: dict) -> None:
        self.calls.append(("patch_secret", name))
        if name not in self.secrets:
            raise KubeError(404, "NotFound")
        self.secrets[name]["metadata"].update(patch.get("metadata", {}))
        self.secrets[name]["stringData"].update(patch.get("stringData", {}))

    async def delete_secret(self, namespace: str, name: str) -> None:
        self.calls.append(("delete_secret", name))
        self.secrets.pop(name, None)

    async def create_inference_service(self, namespace: str, manifest: dict) -> dict:
        name = manifest["metadata"]["name"]
        self.calls.append(("create_inference_service", name))
        if self.refuse:
            raise self.refuse
        assert namespace == manifest["metadata"]["namespace"] == NAMESPACE
        if name in self.isvcs:
            raise KubeError(409, "AlreadyExists")
        made = json.loads(json.dumps(manifest))
        made["metadata"]["uid"] = self._uid()
        made["status"] = {}
        self.isvcs[name] = made
        return made

    async def read_inference_service(self, namespace: str, name: str) -> dict | None:
        return self.isvcs.get(name)

    async def delete_inference_service(self, namespace: str, name: str) -> None:
        self.calls.append(("delete_inference_service", name))
        if name in self.isvcs:  # KServe's finalizer holds it until its controller is done
            self.isvcs[name]["metadata"]["deletionTimestamp"] = "2026-12-05T10:00:00Z"

    # what the cluster does, as the test says

    def finalize(self) -> None:
        """KServe's controller lets deleted InferenceServices go; the garbage collector takes
        their dependents."""
        gone = {i["metadata"]["uid"] for i in self.isvcs.values()
                if "deletionTimestamp" in i["metadata"]}  # fmt: skip
        self.isvcs = {n: i for n, i in self.isvcs.items() if i["metadata"]["uid"] not in gone}
        self.secrets = {
            n: s for n, s in self.secrets.items()
            if not {o["uid"] for o in s["metadata"].get("ownerReferences", [])} & gone
        }  # fmt: skip

    def ready(self, name: str) -> None:
        self.isvcs[name]["status"] = {
            "conditions": [{"type": t, "status": "True"} for t in ("PredictorReady", "Ready")],
            "modelStatus": {"transitionStatus": "UpToDate",
                            "states": {"activeModelState": "Loaded"}},
        }  # fmt: skip

    def fail(self, name: str, message: str) -> None:
        self.isvcs[name]["status"] = {
            "conditions": [{"type": "Ready", "status": "False", "reason": "ModelLoadFailed"}],
            "modelStatus": {
                "transitionStatus": "BlockedByFailedLoad",
                "states": {"activeModelState": "FailedToLoad"},
                "lastFailureInfo": {"reason": "ModelLoadFailed", "message": message},
            },
        }

    def created(self) -> list[str]:
        return [name for call, name in self.calls if call == "create_inference_service"]


@dataclass
class FakeHub:
    made: list[str] = field(default_factory=list)
    revoked: list[str] = field(default_factory=list)

    async def create(self, user: str, *, note: str, expires_in: int, scopes: list[str]):
        self.made.append(user)
        return HubToken(id=f"t{len(self.made)}", value=TOKEN)

    async def revoke(self, user: str, token_id: str) -> None:
        self.revoked.append(token_id)


def files_of(model: str, version: str) -> str:
    return f"mlflow-artifacts:/1/models/m-{version}/artifacts"


def locate(model: str, version: str) -> str:
    return storage_uri(files_of(model, version), "s3://labworks-artifacts/mlflow")


def make_backend(kube: FakeKube) -> KServeBackend:
    config = Config({"KServeBackend": {"namespace": NAMESPACE, "image": IMAGE}})
    return KServeBackend(api=kube, locate=locate, config=config)  # type: ignore[arg-type]


def make_service(store, kube: FakeKube, hub: FakeHub | None = None, **traits) -> ServingService:
    return ServingService(
        store, make_backend(kube), hub, ArtifactStore(url="memory://labworks-test/serving"),  # type: ignore[arg-type]
        "http://labworks.labworks.svc:8000/services/labworks/api/v1",
        config=Config({"ServingService": traits}),
    )  # fmt: skip


async def serve(store, version: str = "3") -> Deployment:
    body = models.ServeRequest(model="Iris classifier", version=version, name="iris")
    return await store.run(ops.create, ANA, body, "classification")


async def deployment(store) -> Deployment | None:
    def get(session):
        found = session.query(Deployment).filter_by(name="iris").one_or_none()
        if found is not None:
            session.expunge(found)
        return found

    return await store.run(get)


def isvc_of(kube: FakeKube, version: str) -> dict:
    [found] = [i for i in kube.isvcs.values()
               if i["metadata"]["labels"]["labworks.io/model-version"] == version]  # fmt: skip
    return found


# --- one version: InferenceService, Secret, ready ------------------------------------------


async def test_a_served_version_is_an_inference_service_whose_secret_holds_its_token(store):
    kube, hub = FakeKube(), FakeHub()
    serving = make_service(store, kube, hub)
    await serve(store)
    await serving.tick()
    isvc = isvc_of(kube, "3")
    name = isvc["metadata"]["name"]
    assert (await deployment(store)).status == "starting"
    assert name.startswith("lw-iris-") and name.endswith("-v3")
    model = isvc["spec"]["predictor"]["model"]
    assert model["storageUri"] == "s3://labworks-artifacts/mlflow/1/models/m-3/artifacts"
    assert model["envFrom"] == [{"secretRef": {"name": f"{name}-env-1"}}]
    assert isvc["metadata"]["annotations"][GENERATION] == "1"
    manifest = {k: v for k, v in isvc.items() if k != "status"}
    manifest["metadata"] = {k: v for k, v in manifest["metadata"].items() if k != "uid"}
    assert_valid(manifest)  # KServe's CRD schema, strictly, with envFrom and the annotation
    assert TOKEN not in json.dumps(isvc)
    secret = kube.secrets[f"{name}-env-1"]
    assert secret["stringData"]["MLFLOW_TRACKING_TOKEN"] == TOKEN
    assert secret["stringData"]["MLFLOW_TRACKING_URI"].startswith("http://labworks.labworks.svc")
    assert secret["metadata"]["ownerReferences"] == [{
        "apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService", "name": name,
        "uid": isvc["metadata"]["uid"],
    }]  # fmt: skip
    assert_valid(secret)
    [server] = (await store.run(_states)).values()
    assert TOKEN not in json.dumps(server)  # the stored state holds no secret

    await serving.tick()  # not ready yet: nothing new
    assert kube.created() == [name] and (await deployment(store)).status == "starting"
    kube.ready(name)
    await serving.tick()
    assert (await deployment(store)).status == "ready"
    assert hub.revoked == ["t1"]  # the model is loaded: its token is not needed any more
    route = serving.routes["iris"]
    client = serving.backend.client(route.ready["3"])
    assert client.base_url == f"http://{name}-predictor.{NAMESPACE}.svc.cluster.local"
    await serving.backend.close()


def _states(session) -> dict[str, dict]:
    """Every model server's stored state, by version."""
    return {s.version: dict(s.state) for s in session.query(ModelServer)}


async def test_a_canary_is_a_second_inference_service_and_undeploy_deletes_both(store):
    kube = FakeKube()
    serving = make_service(store, kube)
    await serve(store)
    await serving.tick()
    kube.ready(isvc_of(kube, "3")["metadata"]["name"])
    await serving.tick()
    body = models.TrafficRequest(canary_version="4", percent=10)
    await store.run(ops.set_traffic, ANA, "iris", body)
    await serving.tick()
    stable, canary = isvc_of(kube, "3"), isvc_of(kube, "4")
    assert canary["metadata"]["name"] != stable["metadata"]["name"]
    assert canary["spec"]["predictor"]["model"]["args"][-3:] == ["4", "--task", "classification"]
    assert len(kube.created()) == 2
    kube.ready(canary["metadata"]["name"])
    await serving.tick()
    route = serving.routes["iris"]
    assert set(route.ready) == {"3", "4"} and route.percent == 10
    names = [stable["metadata"]["name"], canary["metadata"]["name"]]
    assert sorted(kube.secrets) == sorted(f"{n}-env-1" for n in names)  # one per version

    await store.run(ops.undeploy, ANA, "iris")
    await serving.settle_now((await deployment(store)).id)
    deleted = [n for c, n in kube.calls if c == "delete_inference_service"]
    assert sorted(deleted) == sorted(names)
    assert kube.secrets == {}
    assert await deployment(store) is None  # every server stopped: the row is gone
    kube.finalize()
    assert kube.isvcs == {} and "iris" not in serving.routes


# --- failures and restarts ------------------------------------------------------------------


async def test_a_model_that_fails_to_load_fails_the_deployment_with_kserve_s_message(store):
    kube = FakeKube()
    serving = make_service(store, kube, FakeHub(), max_restarts=0)
    await serve(store)
    await serving.tick()
    name = isvc_of(kube, "3")["metadata"]["name"]
    kube.fail(name, "cannot load model /mnt/models: ModuleNotFoundError: No module named 'xgb'")
    await serving.tick()
    failed = await deployment(store)
    assert failed.status == "failed"
    assert "No module named 'xgb'" in failed.reason and "ModelLoadFailed" in failed.reason
    assert ("delete_inference_service", name) in kube.calls and kube.secrets == {}


async def test_a_dead_server_is_started_again_once_kserve_let_the_old_one_go(store):
    kube = FakeKube()
    serving = make_service(store, kube, FakeHub(), max_restarts=2)
    await serve(store)
    await serving.tick()
    name = isvc_of(kube, "3")["metadata"]["name"]
    first_uid = kube.isvcs[name]["metadata"]["uid"]
    kube.fail(name, "CrashLoopBackOff: back-off restarting failed container")
    await serving.tick()  # stopped; generation 2 waits for the name (the finalizer holds it)
    assert "deletionTimestamp" in kube.isvcs[name]["metadata"]
    assert kube.created() == [name] and f"{name}-env-2" in kube.secrets
    assert (await deployment(store)).status == "starting"
    await serving.tick()
    assert kube.created() == [name]  # still held: not created over it
    kube.finalize()
    await serving.tick()
    isvc = kube.isvcs[name]
    assert (
        isvc["metadata"]["uid"] != first_uid and isvc["metadata"]["annotations"][GENERATION] == "2"
    )
    owners = kube.secrets[f"{name}-env-2"]["metadata"]["ownerReferences"]
    assert [o["uid"] for o in owners] == [isvc["metadata"]["uid"]]
    assert set(kube.secrets) == {f"{name}-env-2"}  # generation 1's went with its owner
    kube.ready(name)
    await serving.tick()
    assert (await deployment(store)).status == "ready"


async def test_an_inference_service_deleted_outside_labworks_is_a_dead_server(store):
    kube = FakeKube()
    serving = make_service(store, kube, max_restarts=0)
    await serve(store)
    await serving.tick()
    name = isvc_of(kube, "3")["metadata"]["name"]
    del kube.isvcs[name]
    await serving.tick()
    failed = await deployment(store)
    assert failed.status == "failed" and "deleted outside Labworks" in failed.reason


async def test_a_restarted_platform_re_attaches_and_creates_nothing_twice(store):
    kube, hub = FakeKube(), FakeHub()
    first = make_service(store, kube, hub)
    await serve(store)
    await first.tick()
    name = isvc_of(kube, "3")["metadata"]["name"]
    kube.ready(name)
    await first.tick()
    await first.backend.close()
    calls = list(kube.calls)

    again = make_service(store, kube, hub)  # a new process: new service, new backend
    await again.refresh_routes()
    assert set(again.routes["iris"].ready) == {"3"}
    await again.tick()
    await again.tick()
    assert kube.calls == calls  # nothing created, patched or deleted
    assert (await deployment(store)).status == "ready" and hub.made == ["ana"]


async def test_a_start_cut_short_is_adopted_not_created_twice(store):
    kube = FakeKube()
    backend = make_backend(kube)
    serving = make_service(store, kube, FakeHub())
    await serve(store)
    spec = serving._spec(await deployment(store), "3")
    env = {"MLFLOW_TRACKING_TOKEN": TOKEN}
    first = await backend.start(spec, 1, env)
    again = await backend.start(spec, 1, env)  # the platform died before keeping the state
    assert kube.created() == [first["name"]] and again["created"] is True
    assert again["manifest"] == first["manifest"]


async def test_kubernetes_refusing_the_server_is_a_clear_failure_and_leaves_no_secret(store):
    kube = FakeKube()
    kube.refuse = KubeError(403, "Forbidden: exceeded quota: requests.cpu")
    serving = make_service(store, kube, FakeHub())
    await serve(store)
    await serving.tick()
    failed = await deployment(store)
    assert failed.status == "failed" and "exceeded quota" in failed.reason
    assert kube.secrets == {}


async def test_files_a_pod_cannot_read_fail_the_deployment_with_the_reason(store):
    kube = FakeKube()
    serving = make_service(store, kube)
    serving.backend.locate = lambda model, version: storage_uri(  # type: ignore[attr-defined]
        files_of(model, version), "file:///var/lib/labworks/mlflow"
    )
    await serve(store)
    await serving.tick()
    failed = await deployment(store)
    assert failed.status == "failed" and "c.TrackingServer.artifacts_destination" in failed.reason
    assert kube.calls == []


# --- pure parts -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "wanted"),
    [
        ("mlflow-artifacts:/1/models/m-a/artifacts", "s3://b/mlflow/1/models/m-a/artifacts"),
        ("mlflow-artifacts:1/x", "s3://b/mlflow/1/x"),
        ("s3://other/model", "s3://other/model"),
    ],
)
def test_storage_uri_maps_the_tracking_server_s_files_onto_its_object_store(source, wanted):
    assert storage_uri(source, "s3://b/mlflow/") == wanted


@pytest.mark.parametrize(
    "source", ["mlflow-artifacts://elsewhere/1/x", "file:///tmp/model", "runs:/abc/model"]
)
def test_storage_uri_refuses_files_a_pod_cannot_read(source):
    with pytest.raises(KServeError):
        storage_uri(source, "s3://b/mlflow")


@pytest.mark.parametrize(
    ("status", "said"),
    [
        ({"conditions": [{"type": "Ready", "status": "False", "reason": "ImagePullBackOff",
                          "message": "Back-off pulling image"}]},
         "ImagePullBackOff: Back-off pulling image"),
        ({"modelStatus": {"transitionStatus": "InvalidSpec"}}, "KServe: InvalidSpec"),
        ({"conditions": [{"type": "Ready", "status": "False", "reason": "Progressing"}]}, None),
        ({}, None),
    ],
)  # fmt: skip
def test_failure_reads_kserve_s_and_knative_s_reasons(status, said):
    assert failure({"status": status}) == said


# --- the router picks the backend -----------------------------------------------------------


def app_with(executor: Any, store=None) -> Any:
    state = SimpleNamespace(
        jobs=SimpleNamespace(executor=executor, config=Config({"KServeBackend": {"image": IMAGE}}),
                             hub=None, api_url="http://x/api/v1", public_url=""),
        store=store, artifacts=ArtifactStore(url="memory://labworks-test/serving-router"),
        tracking=SimpleNamespace(artifacts_destination="s3://b/mlflow"),
        identity=SimpleNamespace(revoked=lambda digest: None),
    )  # fmt: skip
    return SimpleNamespace(state=state)


def test_beside_the_kubernetes_executor_deployments_are_inference_services(store):
    from labworks_hub.service.jobs.executors.kubernetes import KubernetesExecutor

    executor = KubernetesExecutor(config=Config({"KubernetesExecutor": {
        "api_class": FakeKube, "namespace": NAMESPACE}}))  # fmt: skip
    serving = router.serving_of(app_with(executor, store))
    assert isinstance(serving.backend, KServeBackend)
    assert serving.backend.api is executor.api  # one client, one seam
    assert serving.backend.namespace == NAMESPACE  # the jobs' unless configured
    assert serving.backend.settings().image == IMAGE


def test_an_unconfigured_kserve_backend_or_another_executor_answers_unavailable():
    from labworks_hub.service.jobs.executors.kubernetes import KubernetesExecutor

    executor = KubernetesExecutor(config=Config({"KubernetesExecutor": {
        "api_class": FakeKube, "namespace": NAMESPACE}}))  # fmt: skip
    app = app_with(executor)
    app.state.jobs.config = Config()  # no serving image
    with pytest.raises(Unavailable, match=r"c\.KServeBackend\.image"):
        router.serving_of(app)
    with pytest.raises(Unavailable, match="the local or the Kubernetes one"):
        router.serving_of(app_with(SimpleNamespace(name="slurm")))


# --- the real client: kubernetes_asyncio's CustomObjectsApi -----------------------------------


class RecordingCustomObjects:
    """kubernetes_asyncio's CustomObjectsApi, recording what it is asked."""

    calls: list[tuple[str, tuple, dict]] = []  # noqa: RUF012

    def __init__(self, api_client: Any) -> None:
        self.api_client = api_client

    def __getattr__(self, method: str):
        async def call(*args: Any, **kwargs: Any) -> Any:
            RecordingCustomObjects.calls.append((method, args, kwargs))
            if args[-1] == "missing":
                raise ApiException(status=404, reason="Not Found")
            if args[-1] == "forbidden":
                raise ApiException(status=403, reason="Forbidden")
            return {"metadata": {"name": args[-1] if method != "create_namespaced_custom_object"
                                 else args[-1]["metadata"]["name"], "uid": "u1"}}  # fmt: skip

        return call


async def test_the_real_api_calls_custom_objects_for_kserve_inference_services(monkeypatch):
    monkeypatch.setattr(kube_client, "CustomObjectsApi", RecordingCustomObjects)
    RecordingCustomObjects.calls = []
    api = KubernetesAPI()
    api._client = object()  # no cluster configuration to load
    group = ("serving.kserve.io", "v1beta1", NAMESPACE, "inferenceservices")
    manifest = {"metadata": {"name": "lw-iris"}}
    assert (await api.create_inference_service(NAMESPACE, manifest))["metadata"]["uid"] == "u1"
    assert (await api.read_inference_service(NAMESPACE, "lw-iris"))["metadata"]["name"] == "lw-iris"
    assert await api.read_inference_service(NAMESPACE, "missing") is None
    await api.delete_inference_service(NAMESPACE, "lw-iris")
    await api.delete_inference_service(NAMESPACE, "missing")  # gone already: fine
    with pytest.raises(KubeError) as refused:
        await api.read_inference_service(NAMESPACE, "forbidden")
    assert refused.value.status == 403
    assert RecordingCustomObjects.calls[:4] == [
        ("create_namespaced_custom_object", (*group, manifest), {}),
        ("get_namespaced_custom_object", (*group, "lw-iris"), {}),
        ("get_namespaced_custom_object", (*group, "missing"), {}),
        ("delete_namespaced_custom_object", (*group, "lw-iris"),
         {"propagation_policy": "Background"}),
    ]  # fmt: skip
