"""Every object of the chart's `helm template` output (default values, and the production-like
gpu-external-values.yaml) and every Job the chart's executor config makes are valid against the
Kubernetes and Kueue schemas (schemas.py), offline; a field that does not exist fails."""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest

from .schemas import assert_valid, crd_schemas
from .test_chart import BOTH, DEFAULT, one, render
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
