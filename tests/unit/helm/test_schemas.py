"""Every object of the chart's `helm template` output (default values, and the production-like
gpu-external-values.yaml), every Job the chart's executor config makes and every object its
serving config makes the platform create are valid against the Kubernetes, Kueue and KServe
schemas (schemas.py), offline; a field that does not exist fails."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable

import pytest
from traitlets.config import Config

from labworks_hub.profiles import DEFAULT_PROFILES
from labworks_hub.service.serving.kube_backend import KServeBackend

from .schemas import assert_valid, crd_schemas
from .test_chart import BOTH, DEFAULT, GPU_EXTERNAL, one, render, server_spec, settings_of
from .test_job_admission import jobs_for


@BOTH
def test_every_rendered_object_is_valid(args) -> None:
    docs = render(*args)
    assert {"Deployment", "ClusterQueue", "LocalQueue", "ResourceFlavor"} <= {
        d["kind"] for d in docs
    }
    for doc in docs:
        assert_valid(doc)


@BOTH
def test_every_job_the_chart_s_executor_config_makes_is_valid(args) -> None:
    for job in jobs_for(args).values():
        assert_valid(job)


class Recorder:
    """The Kubernetes API, keeping what it is asked to create."""

    def __init__(self) -> None:
        self.made: list[dict] = []

    async def create_secret(self, namespace: str, manifest: dict) -> None:
        self.made.append(manifest)

    async def patch_secret(self, namespace: str, name: str, patch: dict) -> None:
        pass

    async def read_inference_service(self, namespace: str, name: str) -> None:
        return None

    async def create_inference_service(self, namespace: str, manifest: dict) -> dict:
        self.made.append(manifest)
        return {**manifest, "metadata": {**manifest["metadata"], "uid": "u1"}}


@pytest.mark.parametrize("profile", DEFAULT_PROFILES, ids=lambda p: p.name)
async def test_every_object_the_chart_s_serving_config_creates_is_valid(profile) -> None:
    """What KServeBackend.start creates (the InferenceService and its Secret), configured as
    the chart configures the platform."""
    settings, _ = settings_of(GPU_EXTERNAL)
    kube = Recorder()
    backend = KServeBackend(api=kube, config=Config(settings.jobs_config))  # type: ignore[arg-type]
    spec = dataclasses.replace(server_spec(), profile=profile)
    await backend.start(spec, 1, {"MLFLOW_TRACKING_TOKEN": "t0k3n"})
    assert [m["kind"] for m in kube.made] == ["Secret", "InferenceService"]
    for manifest in kube.made:
        assert_valid(manifest)


def test_the_kueue_kinds_of_the_chart_all_have_a_vendored_schema() -> None:
    kinds = {(d["apiVersion"], d["kind"]) for d in render(*DEFAULT) if "kueue" in d["apiVersion"]}
    assert kinds == {key for key in crd_schemas() if "kueue" in key[0]}


def set_in(path: tuple[str, ...], value: object) -> Callable[[dict], None]:
    def change(doc: dict) -> None:
        for key in path[:-1]:
            doc = doc[key]
        doc[path[-1]] = value

    return change


@pytest.mark.parametrize(
    ("kind", "name", "change", "error"),
    [
        (
            "Deployment",
            None,
            set_in(("spec", "template", "spec", "nodeSelectors"), {}),
            "'nodeSelectors' was unexpected",
        ),
        ("Service", "labworks", set_in(("spec", "selectors"), {}), "'selectors' was unexpected"),
        ("Deployment", None, set_in(("spec", "replicas"), "two"), "is not of type"),
        (
            "ClusterQueue",
            None,
            set_in(("spec", "namespaceSelectors"), {}),
            "'namespaceSelectors' was unexpected",
        ),
        (
            "ResourceFlavor",
            "labworks-gpu",
            set_in(("spec", "nodeLabels", "gpu"), 7),
            "is not of type",
        ),
        ("LocalQueue", None, set_in(("spec", "queue"), "labworks"), "'queue' was unexpected"),
    ],
)
def test_a_field_that_does_not_exist_or_a_wrong_type_fails(kind, name, change, error) -> None:
    doc = copy.deepcopy(one(render(*DEFAULT), kind, name))
    assert_valid(doc)
    change(doc)
    with pytest.raises(AssertionError, match=error):
        assert_valid(doc)
