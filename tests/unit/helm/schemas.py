"""Offline validation of the manifests Labworks produces, strictly: a field that does not exist
is an error, as a wrong type or a missing required field is.

Kubernetes kinds are checked against the OpenAPI schemas that `kubernetes-validate` ships, for
the oldest Kubernetes the chart supports (its `kubeVersion`) and the newest there is; Kueue
and KServe kinds against their CRD schemas vendored in crds/ and tests/data/kserve/ (their
openAPIV3Schema, made strict here the same way: the API server would prune an unknown field
silently, so it would be lost, not refused).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

CRDS = (Path(__file__).with_name("crds"), Path(__file__).resolve().parents[2] / "data" / "kserve")
CRD_GROUPS = (".x-k8s.io", "serving.kserve.io")  # API groups checked against a vendored CRD
CHART_FILE = Path(__file__).resolve().parents[3] / "helm" / "labworks" / "Chart.yaml"


def kubernetes_versions() -> tuple[str, str]:
    """The chart's minimum Kubernetes version (`kubeVersion: ">=1.27.0-0"`) and the newest."""
    wanted = yaml.safe_load(CHART_FILE.read_text())["kubeVersion"]
    found = re.fullmatch(r">=\s*(\d+\.\d+\.\d+)(-0)?", wanted)
    assert found, f"Chart.yaml kubeVersion {wanted!r} is not '>=x.y.z'"
    return found.group(1), kubernetes_validate.latest_version()


KUBERNETES_VERSIONS = kubernetes_versions()


def strict(schema: Any) -> Any:
    """`schema` with `additionalProperties: false` on every object that lists its properties
    and does not keep unknown fields."""
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: strict(value) for key, value in schema.items()}
    if (
        "properties" in out
        and "additionalProperties" not in out
        and not out.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


@cache
def crd_schemas() -> dict[tuple[str, str], dict]:
    """The vendored CRD schemas by (apiVersion, kind)."""
    schemas = {}
    for path in sorted(p for folder in CRDS for p in folder.glob("*.yaml")):
        crd = yaml.safe_load(path.read_text())
        schemas[crd["apiVersion"], crd["kind"]] = strict(crd["schema"])
    return schemas


def assert_valid(manifest: dict[str, Any]) -> None:
    """AssertionError naming the object, the field and the reason unless `manifest` is valid."""
    what = f"{manifest.get('kind')} {manifest.get('metadata', {}).get('name', '')}".strip()
    key = (manifest.get("apiVersion"), manifest.get("kind"))
    if key[0] and key[0].split("/")[0].endswith(CRD_GROUPS):
        schema = crd_schemas().get(key)  # type: ignore[call-overload]
        assert schema is not None, f"{what}: no vendored CRD schema for {key}"
        error = jsonschema.exceptions.best_match(
            jsonschema.Draft7Validator(schema).iter_errors(manifest)
        )
        assert error is None, f"{what}: {error.message} at {error.json_path}"
        return
    for version in KUBERNETES_VERSIONS:
        try:
            kubernetes_validate.validate(manifest, version, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            raise AssertionError(f"{what}: Kubernetes {version} has no kind {key}") from None
        except kubernetes_validate.ValidationError as e:
            raise AssertionError(
                f"{what} (Kubernetes {version}): {e.message} at {e.json_path}"
            ) from None
