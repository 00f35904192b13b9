"""Deployments on Kubernetes with no cluster: the InferenceServices and the ServingRuntime that
serving/kserve.py makes, against golden manifests and against KServe's own CRD schemas
(tests/data/kserve/, KServe v0.20.0, checked strictly by tests/unit/helm/schemas.py), and the
stable + canary mapping onto one InferenceService per version behind the platform's router.

Golden manifests live in tests/unit/hub/serving/golden/; regenerate them with
`LABWORKS_UPDATE_GOLDEN=1 pytest tests/unit/hub/serving/test_kserve.py` and review the diff.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from traitlets import TraitError
from traitlets.config import Config

from labworks_hub.profiles import DEFAULT_PROFILES, Profile
from labworks_hub.service.serving.kserve import KServeError, isvc_name, serving_runtime
from labworks_hub.service.serving.kube_backend import KServeBackend
from labworks_hub.service.serving.spec import CANARY, STABLE, ServerSpec
from tests.unit.helm.schemas import assert_valid

GOLDEN = Path(__file__).with_name("golden")
IMAGE = "registry.example.org/labworks/labworks-serving:ci-7@sha256:" + "cd" * 32
GPU_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
DNS_1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")


def profile(name: str) -> Profile:
    return next(p for p in DEFAULT_PROFILES if p.name == name)


def server(version: str = "3", role: str = STABLE, **fields) -> ServerSpec:
    values = dict(
        deployment_id="d0123456789abcdef", endpoint="iris", owner="ana@example.org",
        model_name="Iris classifier", version=version,
        model_uri=f"models:/Iris classifier/{version}",
        storage_uri=f"s3://labworks-artifacts/mlflow/1/abc{version}/artifacts/model",
        task="classification", role=role, profile=profile("cpu-small"),
    )  # fmt: skip
    values.update(fields)
    return ServerSpec(**values)


def backend(**traits) -> KServeBackend:
    config = {"namespace": "labworks-models", "image": IMAGE, **traits}
    return KServeBackend(config=Config({"KServeBackend": config}))


def check_golden(name: str, manifest: dict) -> None:
    path = GOLDEN / f"{name}.yaml"
    if os.environ.get("LABWORKS_UPDATE_GOLDEN") == "1":
        path.write_text(yaml.safe_dump(manifest, sort_keys=True, width=100))
    assert manifest == yaml.safe_load(path.read_text())


# --- golden manifests, valid against KServe's schema ------------------------------------------


@pytest.mark.parametrize("name", [p.name for p in DEFAULT_PROFILES])
def test_inference_service_matches_golden_manifest_and_kserve_s_schema(name):
    kserve = backend(spot_profiles=["cpu-large"])
    [manifest] = kserve.rollout(server(profile=profile(name)), None, 0).manifests
    assert_valid(manifest)
    check_golden(f"isvc-{name}", manifest)


def test_serving_runtime_matches_golden_manifest_and_kserve_s_schema():
    runtime = serving_runtime(backend().settings())
    assert_valid(runtime)
    check_golden("servingruntime", runtime)


def test_a_deployment_without_a_profile_gets_the_default_resources_and_is_valid():
    [manifest] = (
        backend(default_cpu=0.5, default_memory="1Gi")
        .rollout(server(profile=None), None, 0)
        .manifests
    )
    assert_valid(manifest)
    assert manifest["spec"]["predictor"]["model"]["resources"] == {
        "limits": {"cpu": "0.5", "memory": str(2**30)},
        "requests": {"cpu": "0.5", "memory": str(2**30)},
    }


def set_in(path: tuple[str, ...], value: object):
    def change(doc: dict) -> None:
        for key in path[:-1]:
            doc = doc[key]
        doc[path[-1]] = value

    return change


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (set_in(("spec", "predictor", "model", "storageURI"), "s3://x"), "'storageURI' was unex"),
        (set_in(("spec", "predictor", "nodeSelectors"), {}), "'nodeSelectors' was unexpected"),
        (set_in(("spec", "predictor", "minReplicas"), "one"), "is not of type 'integer'"),
        (set_in(("spec", "predictor", "canaryTrafficPercent"), "10%"), "is not of type 'integer'"),
        (set_in(("spec", "predictor", "model", "modelFormat"), {}), "'name' is a required"),
        (set_in(("spec", "predictor", "sklearn"), {}), "'sklearn' was unexpected"),  # pruned
        (set_in(("spec", "predictor", "name"), "Stable"), "does not match"),
    ],
)  # fmt: skip
def test_the_schema_check_refuses_a_wrong_field(change, error):
    """The vendored CRD schema is real and strict: each change would be refused or lost."""
    [manifest] = backend().rollout(server(), None, 0).manifests
    manifest = copy.deepcopy(manifest)
    change(manifest)
    with pytest.raises(AssertionError, match=error):
        assert_valid(manifest)


def test_the_runtime_schema_check_refuses_a_wrong_field():
    runtime = serving_runtime(backend().settings())
    runtime["spec"]["protocolVersion"] = ["v2"]  # it is protocolVersions
    with pytest.raises(AssertionError, match="'protocolVersion' was unexpected"):
        assert_valid(runtime)


# --- what a version's server is ------------------------------------------------------------


def test_the_server_is_the_labworks_runtime_speaking_v2_loading_the_version_s_files():
    spec = server(version="7", task="regression")
    manifest = backend().rollout(spec, None, 0).manifests[0]
    model = manifest["spec"]["predictor"]["model"]
    assert model["runtime"] == "labworks" and model["protocolVersion"] == "v2"
    assert model["modelFormat"] == {"name": "labworks"}
    assert model["storageUri"] == spec.storage_uri
    assert model["args"] == ["--name", "iris", "--version", "7", "--task", "regression"]
    runtime = serving_runtime(backend().settings())
    assert runtime["metadata"]["name"] == model["runtime"]
    assert runtime["metadata"]["namespace"] == manifest["metadata"]["namespace"]
    assert runtime["spec"]["supportedModelFormats"][0]["name"] == model["modelFormat"]["name"]
    assert "v2" in runtime["spec"]["protocolVersions"]
    [container] = runtime["spec"]["containers"]
    assert container["name"] == "kserve-container"  # the container KServe merges the model into
    assert container["image"] == IMAGE
    assert container["args"] == ["--port", "8080", "--model-uri", "/mnt/models"]
    assert container["readinessProbe"]["httpGet"] == {"path": "/v2/health/ready", "port": 8080}


def test_the_server_is_hardened_like_workspaces_and_jobs():
    manifest = backend(service_account="model-reader").rollout(server(), None, 0).manifests[0]
    predictor = manifest["spec"]["predictor"]
    assert predictor["automountServiceAccountToken"] is False
    assert predictor["serviceAccountName"] == "model-reader"
    assert predictor["securityContext"] == {
        "runAsNonRoot": True, "runAsUser": 1000, "runAsGroup": 100, "fsGroup": 100,
        "seccompProfile": {"type": "RuntimeDefault"},
    }  # fmt: skip
    context = predictor["model"]["securityContext"]
    assert context["allowPrivilegeEscalation"] is False
    assert context["readOnlyRootFilesystem"] is True
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert context["seccompProfile"] == {"type": "RuntimeDefault"}
    runtime = serving_runtime(backend().settings())["spec"]["containers"][0]
    assert runtime["securityContext"] == context
    metadata = manifest["metadata"]
    assert metadata["labels"]["networking.kserve.io/visibility"] == "cluster-local"
    assert metadata["annotations"]["serving.kserve.io/deploymentMode"] == "Standard"
    assert metadata["annotations"]["labworks.io/owner"] == "ana@example.org"
    assert predictor["labels"]["labworks.io/owner"] == "ana-example.org"
    assert predictor["labels"]["app.kubernetes.io/component"] == "model-server"


def test_a_gpu_profile_gets_gpu_limits_its_toleration_and_gpu_model():
    h100 = Profile(name="h100", display_name="H100", cpu_limit=8, mem_limit=2**34, gpu_count=2,
                   gpu_model="NVIDIA H100 80GB HBM3")  # fmt: skip
    manifest = backend(guarantee_fraction=0.5).rollout(server(profile=h100), None, 0).manifests[0]
    predictor = manifest["spec"]["predictor"]
    resources = predictor["model"]["resources"]
    assert resources["limits"]["nvidia.com/gpu"] == resources["requests"]["nvidia.com/gpu"] == "2"
    assert resources["requests"]["cpu"] == "4"
    assert GPU_TOLERATION in predictor["tolerations"]
    assert predictor["nodeSelector"] == {"nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3"}
    cpu = backend().rollout(server(profile=profile("cpu-large")), None, 0).manifests[0]
    assert "nvidia.com/gpu" not in cpu["spec"]["predictor"]["model"]["resources"]["limits"]
    assert "tolerations" not in cpu["spec"]["predictor"]


def test_a_spot_profile_and_per_profile_placement_reach_the_predictor():
    kserve = backend(
        spot_profiles=["cpu-small"], profile_node_selectors={"cpu-small": {"pool": "x"}}
    )
    predictor = kserve.rollout(server(), None, 0).manifests[0]["spec"]["predictor"]
    assert predictor["nodeSelector"] == {"pool": "x"}
    assert {"key": "labworks.io/spot", "operator": "Exists", "effect": "NoSchedule"} in predictor[
        "tolerations"
    ]


# --- names --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "endpoint",
    ["iris", "Iris_Classifier.v2", "9-lives", "---", "é" * 10, "x" * 200, "a--b__c"],
)
def test_names_are_valid_dns_labels_stable_and_fit_knative_s_revision_names(endpoint):
    spec = server(endpoint=endpoint)
    settings = backend().settings()
    name = isvc_name(spec, settings)
    assert DNS_1035.match(name), name
    assert len(name + "-predictor-00001") <= 63
    assert name == isvc_name(server(endpoint=endpoint), settings)  # stable
    assert name.endswith("-v3")


def test_names_keep_versions_and_deployments_apart():
    settings = backend().settings()
    names = {
        isvc_name(server(), settings),
        isvc_name(server(version="4"), settings),
        isvc_name(server(endpoint="Iris"), settings),  # the same slug as "iris" ...
        isvc_name(server(endpoint="Iris", deployment_id="other"), settings),  # ... another id
    }
    assert len(names) == 3
    assert isvc_name(server(), settings) == "lw-iris-" + names_hash("d0123456789abcdef") + "-v3"


def names_hash(deployment_id: str) -> str:
    return hashlib.sha256(deployment_id.encode()).hexdigest()[:6]


def test_a_version_that_cannot_name_a_server_is_refused():
    with pytest.raises(KServeError, match="no letter or digit"):
        isvc_name(server(version="..."), backend().settings())
    with pytest.raises(TraitError, match="name_prefix"):
        backend(name_prefix="9-")


# --- bad settings and specs -----------------------------------------------------------------


@pytest.mark.parametrize(
    "image",
    [
        "registry.example.org/labworks/labworks-serving:ci-7",
        "registry.example.org/labworks/labworks-serving@sha256:abc",
    ],
)
def test_an_image_not_pinned_by_digest_is_refused(image):
    with pytest.raises(TraitError, match="not pinned by digest"):
        backend(image=image)


def test_the_deployment_mode_is_kserve_s_name_for_it():
    manifest = backend(deployment_mode="Knative").rollout(server(), None, 0).manifests[0]
    assert manifest["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == "Knative"
    with pytest.raises(TraitError):
        backend(deployment_mode="RawDeployment")  # KServe's old name, deprecated since 0.16


def test_no_image_or_namespace_is_a_clear_error():
    with pytest.raises(KServeError, match=r"c\.KServeBackend\.image"):
        backend(image="").settings()
    with pytest.raises(KServeError, match=r"c\.KServeBackend\.namespace"):
        backend(namespace="").settings()
    with pytest.raises(KServeError, match="max_replicas is below min_replicas"):
        backend(min_replicas=2, max_replicas=1).settings()
    with pytest.raises(TraitError, match="min_replicas must be >= 0"):
        backend(min_replicas=-1)


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"storage_uri": "file:///var/lib/labworks/artifacts/m"}, "not one KServe's storage"),
        ({"storage_uri": ""}, "not one KServe's storage"),
        ({"task": "clustering"}, "task 'clustering' is not one of"),
    ],
)
def test_a_spec_a_pod_could_not_serve_is_refused(fields, error):
    with pytest.raises(KServeError, match=error):
        backend().rollout(server(**fields), None, 0)


# --- stable + canary ----------------------------------------------------------------------


def test_a_canary_is_a_second_inference_service_with_its_share_of_the_routes():
    kserve = backend()
    plan = kserve.rollout(server("3"), server("4", CANARY), 10)
    stable, canary = plan.manifests
    for manifest in plan.manifests:
        assert_valid(manifest)
    assert stable["spec"]["predictor"]["model"]["args"][3] == "3"
    assert canary["spec"]["predictor"]["model"]["args"][3] == "4"
    assert [(r.version, r.role, r.weight) for r in plan.routes] == [
        ("3", STABLE, 90),
        ("4", CANARY, 10),
    ]
    assert sum(r.weight for r in plan.routes) == 100
    for route, manifest in zip(plan.routes, plan.manifests, strict=True):
        name = manifest["metadata"]["name"]
        assert route.name == name
        assert route.url == f"http://{name}-predictor.labworks-models.svc.cluster.local"
        # KServe's own canaries are not used: the split is exact, done by the router
        assert "canaryTrafficPercent" not in manifest["spec"]["predictor"]
        assert "canary" not in manifest["spec"]
    assert plan.selector == "labworks.io/deployment-id=d0123456789abcdef"
    assert all(
        m["metadata"]["labels"]["labworks.io/deployment-id"] == "d0123456789abcdef"
        for m in plan.manifests
    )


def test_promoting_and_rolling_back_leave_the_kept_version_untouched_and_delete_the_other():
    kserve = backend()
    split = kserve.rollout(server("3"), server("4", CANARY), 25)
    existing = [m["metadata"]["name"] for m in split.manifests]
    promoted = kserve.rollout(server("4"), None, 0)
    assert promoted.manifests == (split.manifests[1],)  # the same manifest: no restart
    assert [(r.version, r.weight) for r in promoted.routes] == [("4", 100)]
    assert promoted.stale(existing) == [existing[0]]
    rolled_back = kserve.rollout(server("3"), None, 0)
    assert rolled_back.manifests == (split.manifests[0],)
    assert rolled_back.stale(existing) == [existing[1]]
    # reversible: the split again gives back exactly the manifests it started from
    assert kserve.rollout(server("3"), server("4", CANARY), 25) == split


def test_a_canary_at_zero_or_a_hundred_percent_is_deployed_with_that_share():
    kserve = backend()
    dark = kserve.rollout(server("3"), server("4", CANARY), 0)
    assert [r.weight for r in dark.routes] == [100, 0] and len(dark.manifests) == 2
    full = kserve.rollout(server("3"), server("4", CANARY), 100)
    assert [r.weight for r in full.routes] == [0, 100]


@pytest.mark.parametrize("percent", [-1, 101, 10.5, "10", True, None])
def test_a_canary_percent_outside_0_to_100_is_refused(percent):
    with pytest.raises(KServeError, match="whole percent from 0 to 100"):
        backend().rollout(server("3"), server("4", CANARY), percent)


@pytest.mark.parametrize(
    ("stable", "canary", "percent", "error"),
    [
        (server("3"), None, 10, "there is no canary"),
        (server("3"), server("3", CANARY), 10, "cannot be its own canary"),
        (server("3"), server("4", CANARY, deployment_id="other"), 10, "another deployment"),
        (server("3"), server("4", CANARY, endpoint="wine"), 10, "another deployment"),
        (server("3"), server("4"), 10, "is not a canary"),
        (server("3", CANARY), None, 0, "is not the stable one"),
    ],
)
def test_a_split_that_does_not_say_stable_v1_canary_v2_is_refused(stable, canary, percent, error):
    with pytest.raises(KServeError, match=error):
        backend().rollout(stable, canary, percent)


def test_the_canary_runs_on_its_own_profile():
    plan = backend().rollout(server("3"), server("4", CANARY, profile=profile("gpu-1")), 5)
    stable, canary = (
        m["spec"]["predictor"]["model"]["resources"]["limits"] for m in plan.manifests
    )
    assert "nvidia.com/gpu" not in stable and canary["nvidia.com/gpu"] == "1"


# --- the arguments reach the runtime as it parses them -------------------------------------

SERVING_PYTHON = (
    Path(__file__).resolve().parents[4] / ".venv" / "lib" / "serving" / "bin" / "python"
)
RUNTIME = Path(serving_runtime.__code__.co_filename).with_name("runtime")


@pytest.mark.skipif(not SERVING_PYTHON.exists(), reason="no serving environment (make install)")
def test_the_runtime_s_and_the_inference_service_s_arguments_are_what_the_runtime_parses():
    """KServe runs the image's entrypoint with the ServingRuntime's args, then the model's."""
    runtime = serving_runtime(backend().settings())["spec"]["containers"][0]["args"]
    model = backend().rollout(server("5", task="regression"), None, 0).manifests[0]
    argv = runtime + model["spec"]["predictor"]["model"]["args"]
    probe = (  # the arguments are read as the runtime reads them, before kserve is imported
        "import json, sys; argv = sys.argv[2:]; sys.path.insert(0, sys.argv[1]);"
        " import runtime_args; print(json.dumps(vars(runtime_args.arguments(argv))))"
    )
    proc = subprocess.run(
        [str(SERVING_PYTHON), "-P", "-c", probe, str(RUNTIME), *argv],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    parsed = json.loads(proc.stdout.strip().splitlines()[-1])
    assert (parsed["port"], parsed["model_uri"]) == (8080, "/mnt/models")
    assert (parsed["name"], parsed["version"], parsed["task"]) == ("iris", "5", "regression")
