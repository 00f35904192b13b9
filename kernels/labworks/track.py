"""Lineage for MLflow runs: where a run came from, recorded as ``labworks.*`` tags.

``run()`` wraps ``mlflow.start_run`` and tags the run; ``lineage()`` returns the same tags as a
dict; ``log_metric()`` logs a metric over MLflow's REST API without importing mlflow (about two
seconds of a short job, such as a sweep trial that only reports its objective).
``LineageRunContext`` is an MLflow run-context provider (entry point group
``mlflow.run_context_provider``), so a plain ``mlflow.start_run()`` in a Labworks kernel or job
gets the tags too. Importing this module does not import mlflow; only ``run()`` does.

Tags (all values strings; a tag is left out when its value is unknown):

- ``labworks.user``: the hub user (``JUPYTERHUB_USER``).
- ``labworks.notebook.path``, ``labworks.notebook.sha256``: the notebook the kernel runs and the
  sha256 of its bytes on disk (the last save, in a workspace; the exact input, in a job).
- ``labworks.job.id``, ``labworks.job.name``, ``labworks.job.attempt``: in a job.
- ``labworks.param.<name>``: a job's papermill parameters (strings as they are, other values
  as JSON). Tags, not MLflow params: a notebook may still ``log_param`` the same names.
- ``labworks.profile``, ``labworks.image``, ``labworks.image.digest``: the workspace profile and
  image; ``labworks.env.hash`` (sha256 over the installed distributions) where there is no
  image digest (the local, embedded workspaces and jobs).
- ``labworks.git.commit``, ``labworks.git.branch``, ``labworks.git.dirty`` (``true``/``false``,
  tracked files only): when the notebook's folder is in a git work tree.
- ``mlflow.source.name`` (the notebook path) and ``mlflow.source.type`` (``NOTEBOOK``), so the
  MLflow UI shows the notebook rather than ``ipykernel_launcher.py``.
- ``labworks.dataset.<owner>/<name>``: the version number of each dataset this process read
  with ``labworks.data`` (the last one read). A read also logs a dataset input (named
  ``<owner>/<name>``, its source the version's API address) on the active run; ``run()`` logs
  the inputs of the reads made before it started.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from functools import lru_cache
from importlib.metadata import distributions
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .api import TOKEN_VARIABLES, Api, PlatformError

if TYPE_CHECKING:
    from mlflow import ActiveRun

__all__ = ["LineageRunContext", "lineage", "log_metric", "record_dataset", "run"]

PREFIX = "labworks."
GIT_TIMEOUT = 5.0
API_TIMEOUT = 5.0
MLFLOW_DIGEST_LENGTH = 32  # of the version digest's hex; MLflow keeps at most 36 characters

# The dataset versions this process read: (ref, number) -> (digest, API address), last read
# last; and the (run id, ref, number) inputs already logged.
_DATASET_READS: dict[tuple[str, int], tuple[str, str]] = {}
_LOGGED_INPUTS: set[tuple[str, str, int]] = set()
_OWN_RUN: dict[str, str] = {}  # the run log_metric started in this process: {"id": run id}


def lineage(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The lineage tags of a run started now, in this kernel or job (see the module docstring).

    Args:
        environ: the environment to read (default: ``os.environ``).
    """
    env = os.environ if environ is None else environ
    tags: dict[str, str] = {}
    if user := env.get("JUPYTERHUB_USER", ""):
        tags[PREFIX + "user"] = user
    notebook: Path | None = None
    if job_id := env.get("LABWORKS_JOB_ID", ""):
        job = _job(env, job_id)
        tags[PREFIX + "job.id"] = job_id
        for key in ("name", "attempt"):
            if value := env.get(f"LABWORKS_JOB_{key.upper()}", ""):
                tags[f"{PREFIX}job.{key}"] = value
        if path := str(job.get("notebook_path") or ""):
            tags[PREFIX + "notebook.path"] = path
        if digest := str(job.get("notebook_sha256") or ""):
            tags[PREFIX + "notebook.sha256"] = digest
        for name, value in sorted((job.get("parameters") or {}).items()):
            tags[f"{PREFIX}param.{name}"] = value if isinstance(value, str) else json.dumps(value)
    elif session := env.get("JPY_SESSION_NAME", ""):
        notebook = Path(session).expanduser()
        if not notebook.is_absolute():
            notebook = Path.cwd() / notebook
        tags[PREFIX + "notebook.path"] = _shown(notebook, env)
        if digest := _sha256(notebook):
            tags[PREFIX + "notebook.sha256"] = digest
    if source := tags.get(PREFIX + "notebook.path"):
        tags["mlflow.source.name"] = source
        tags["mlflow.source.type"] = "NOTEBOOK"
    tags.update(_environment(env))
    folder = notebook.parent if notebook is not None and notebook.parent.is_dir() else Path.cwd()
    tags.update(_git(folder))
    tags.update(_dataset_tags())
    return tags


@contextmanager
def run(
    name: str | None = None, experiment: str | None = None, **mlflow_kwargs: Any
) -> Iterator[ActiveRun]:
    """``mlflow.start_run`` with the lineage tags set.

    Args:
        name: the run name (``run_name``).
        experiment: an experiment name, created when missing (default: MLflow's active one).
        mlflow_kwargs: passed on to ``mlflow.start_run``; its ``tags`` win over lineage tags.
    """
    import mlflow

    if experiment is not None:
        mlflow_kwargs["experiment_id"] = _experiment_id(experiment)
    if name is not None:
        mlflow_kwargs["run_name"] = name
    mlflow_kwargs["tags"] = {**lineage(), **(mlflow_kwargs.get("tags") or {})}
    with mlflow.start_run(**mlflow_kwargs) as active:
        _log_inputs(active.info.run_id, list(_DATASET_READS))
        yield active


def log_metric(key: str, value: float, step: int | None = None) -> str:
    """``mlflow.log_metric`` without importing mlflow where this process has not: on MLflow's
    active run when mlflow is imported and has one, else, with an HTTP tracking server
    (``MLFLOW_TRACKING_URI``), over its REST API on a run this process starts once (the
    lineage tags, ``MLFLOW_EXPERIMENT_NAME`` or the default experiment) and ends ``FINISHED``
    at exit. Steps feed a sweep's pruner as MLflow's do. Returns the run id.

    Args:
        key: the metric's name.
        value: its value.
        step: the step (an epoch, say); 0 when not given, as in MLflow.
    """
    loaded = sys.modules.get("mlflow")
    active = loaded.active_run() if loaded is not None else None
    tracking = _tracking_api() if active is None else None
    if tracking is None:  # MLflow's own run, or a store only mlflow can write
        import mlflow

        mlflow.log_metric(key, value, step=step)
        started = mlflow.active_run()  # log_metric starts one when there is none
        assert started is not None
        return str(started.info.run_id)
    run_id = _OWN_RUN.get("id") or _start_own_run(tracking)
    body = {"run_id": run_id, "key": key, "value": float(value), "timestamp": _now_ms(),
            "step": int(step or 0)}  # fmt: skip
    tracking.json("POST", "runs/log-metric", body)
    return run_id


def _tracking_api() -> Api | None:
    """MLflow's REST API at MLFLOW_TRACKING_URI with this process's token; None when the
    tracking URI is not an HTTP server."""
    uri = os.environ.get("MLFLOW_TRACKING_URI", "")
    if urllib.parse.urlsplit(uri).scheme not in ("http", "https"):
        return None
    names = ("MLFLOW_TRACKING_TOKEN", *TOKEN_VARIABLES)
    token = next((os.environ[name] for name in names if os.environ.get(name)), "")
    return Api(uri.rstrip("/") + "/api/2.0/mlflow", token)


def _start_own_run(tracking: Api) -> str:
    experiment = os.environ.get("MLFLOW_EXPERIMENT_ID") or _rest_experiment_id(
        tracking, os.environ.get("MLFLOW_EXPERIMENT_NAME", "")
    )
    tags = [{"key": key, "value": value} for key, value in lineage().items()]
    body = {"experiment_id": experiment, "start_time": _now_ms(), "tags": tags}
    run_id = str(tracking.json("POST", "runs/create", body)["run"]["info"]["run_id"])
    _OWN_RUN["id"] = run_id
    atexit.register(_end_own_run, tracking, run_id)
    return run_id


def _end_own_run(tracking: Api, run_id: str) -> None:
    with suppress(PlatformError):  # at exit: nobody to tell
        body = {"run_id": run_id, "status": "FINISHED", "end_time": _now_ms()}
        tracking.json("POST", "runs/update", body)


def _rest_experiment_id(tracking: Api, name: str) -> str:
    """The id of the experiment `name` (the default one, "0", when empty), created when
    missing (also when another process creates it at the same moment)."""
    if not name:
        return "0"
    path = "experiments/get-by-name?experiment_name=" + urllib.parse.quote(name)
    try:
        return str(tracking.json("GET", path)["experiment"]["experiment_id"])
    except PlatformError as e:
        if e.status != 404:
            raise
    try:
        return str(tracking.json("POST", "experiments/create", {"name": name})["experiment_id"])
    except PlatformError as e:
        if e.status != 400:  # RESOURCE_ALREADY_EXISTS: another process made it meanwhile
            raise
    return str(tracking.json("GET", path)["experiment"]["experiment_id"])


def _now_ms() -> int:
    return int(time.time() * 1000)


def record_dataset(ref: str, number: int, digest: str, url: str) -> None:
    """Remember that this process read version `number` of dataset `ref` (``labworks.data``
    calls this): its tag and input land on the active MLflow run, if any (looked for only
    when mlflow is imported already), and on the runs started later.

    Args:
        ref: ``<owner>/<name>``.
        number: the version number.
        digest: the version's digest (``sha256:<hex>``).
        url: the version's platform API address (the input's source).
    """
    _DATASET_READS.pop((ref, number), None)
    _DATASET_READS[(ref, number)] = (digest, url)
    mlflow = sys.modules.get("mlflow")
    active = mlflow.active_run() if mlflow is not None else None
    if mlflow is not None and active is not None:
        mlflow.set_tag(f"{PREFIX}dataset.{ref}", str(number))
        _log_inputs(active.info.run_id, [(ref, number)])


class LineageRunContext:
    """MLflow run-context provider: every ``mlflow.start_run()`` in a Labworks kernel or job
    (and any process that read a dataset with ``labworks.data``) gets the lineage tags.
    Registered by the ``mlflow.run_context_provider`` entry point (duck-typed, so loading it
    does not import mlflow)."""

    def in_context(self) -> bool:
        env = os.environ
        keys = ("LABWORKS_KERNEL", "LABWORKS_JOB_ID", "JPY_SESSION_NAME")
        return bool(_DATASET_READS) or any(k in env for k in keys)

    def tags(self) -> dict[str, str]:
        return lineage()


def _dataset_tags() -> dict[str, str]:
    return {f"{PREFIX}dataset.{ref}": str(number) for ref, number in _DATASET_READS}


def _log_inputs(run_id: str, reads: list[tuple[str, int]]) -> None:
    """Log the dataset inputs of `reads` (keys of ``_DATASET_READS``) on the active run, whose
    id is `run_id`, each once."""
    import mlflow
    from mlflow.data.dataset import Dataset
    from mlflow.data.http_dataset_source import HTTPDatasetSource
    from mlflow.data.meta_dataset import MetaDataset

    new = [read for read in reads if (run_id, *read) not in _LOGGED_INPUTS]
    if not new:
        return
    datasets: list[Dataset | None] = []
    for ref, number in new:
        digest, url = _DATASET_READS[(ref, number)]
        short = digest.removeprefix("sha256:")[:MLFLOW_DIGEST_LENGTH]
        # MetaDataset's `profile` is None (mypy sees Dataset's abstract property).
        source = HTTPDatasetSource(url)
        datasets.append(MetaDataset(source, name=ref, digest=short))  # type: ignore[abstract]
    mlflow.log_inputs(
        datasets,
        contexts=[None] * len(new),
        tags_list=[{f"{PREFIX}dataset.version": str(number)} for _, number in new],
    )
    _LOGGED_INPUTS.update((run_id, *read) for read in new)


def _experiment_id(name: str) -> str:
    """The id of the experiment `name`, created when missing (also when another process
    creates it at the same moment)."""
    import mlflow
    from mlflow.exceptions import MlflowException

    found = mlflow.get_experiment_by_name(name)
    if found is not None:
        return str(found.experiment_id)
    try:
        return str(mlflow.create_experiment(name))
    except MlflowException:
        found = mlflow.get_experiment_by_name(name)
        if found is None:
            raise
        return str(found.experiment_id)


def _shown(path: Path, env: Mapping[str, str]) -> str:
    """`path` relative to the workspace home when inside it (as jobs name notebooks)."""
    home = Path(env.get("HOME") or Path.home())
    try:
        return path.resolve().relative_to(home.resolve()).as_posix()
    except (ValueError, OSError):
        return path.as_posix()


def _sha256(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


def _environment(env: Mapping[str, str]) -> dict[str, str]:
    """Profile, image and image digest, or the local environment hash without a digest."""
    tags: dict[str, str] = {}
    if profile := env.get("LABWORKS_PROFILE", ""):
        tags[PREFIX + "profile"] = profile
    image = env.get("LABWORKS_RECORDED_IMAGE") or env.get("LABWORKS_IMAGE", "")
    digest = env.get("LABWORKS_RECORDED_IMAGE_DIGEST") or env.get("LABWORKS_IMAGE_DIGEST", "")
    if image:
        tags[PREFIX + "image"] = image
    if digest:
        tags[PREFIX + "image.digest"] = digest
    else:  # a job has it from the platform, which recorded it: hashing takes a few tenths
        tags[PREFIX + "env.hash"] = env.get("LABWORKS_ENV_HASH") or local_env_hash()
    return tags


@lru_cache(maxsize=1)
def local_env_hash() -> str:
    """sha256 over the sorted ``name==version`` of every installed distribution (the value
    the platform's LocalExecutor records for a job, so the two compare)."""
    names = sorted({f"{(d.metadata['Name'] or '').lower()}=={d.version}" for d in distributions()})
    return "sha256:" + hashlib.sha256("\n".join(names).encode()).hexdigest()


def _git(folder: Path) -> dict[str, str]:
    """Commit, branch and dirty flag of the work tree holding `folder`; {} outside one or
    without git."""
    commit = _execute(["git", "rev-parse", "HEAD"], folder)
    if not commit:
        return {}
    tags = {PREFIX + "git.commit": commit}
    branch = _execute(["git", "rev-parse", "--abbrev-ref", "HEAD"], folder)
    if branch and branch != "HEAD":
        tags[PREFIX + "git.branch"] = branch
    status = _execute(["git", "status", "--porcelain", "--untracked-files=no"], folder)
    if status is not None:
        tags[PREFIX + "git.dirty"] = "true" if status else "false"
    return tags


def _execute(argv: list[str], cwd: Path) -> str | None:
    """The one subprocess seam: stdout stripped, or None when the command fails."""
    try:
        done = subprocess.run(
            argv, cwd=cwd, capture_output=True, text=True, timeout=GIT_TIMEOUT, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _job(env: Mapping[str, str], job_id: str) -> dict[str, Any]:
    """The job's notebook path, notebook sha256 and parameters: from LABWORKS_JOB_* variables
    when the job service sets them, else from the platform API (``GET /jobs/<id>``)."""
    if "LABWORKS_JOB_PARAMETERS" in env:
        try:
            parameters = json.loads(env["LABWORKS_JOB_PARAMETERS"])
        except ValueError:
            parameters = {}
        return {
            "notebook_path": env.get("LABWORKS_JOB_NOTEBOOK_PATH", ""),
            "notebook_sha256": env.get("LABWORKS_JOB_NOTEBOOK_SHA256", ""),
            "parameters": parameters if isinstance(parameters, dict) else {},
        }
    api = env.get("LABWORKS_API_URL", "").rstrip("/")
    token = next((env[k] for k in TOKEN_VARIABLES if env.get(k)), "")
    if not api.startswith(("http://", "https://")) or not token:
        return {}
    return dict(_fetch_job(api, token, job_id))


@lru_cache(maxsize=8)
def _fetch_job(api: str, token: str, job_id: str) -> tuple[tuple[str, Any], ...]:
    # The scheme is http(s), checked by _job().
    request = urllib.request.Request(  # noqa: S310
        f"{api}/jobs/{urllib.parse.quote(job_id, safe='')}",
        headers={"Authorization": f"token {token}", "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=API_TIMEOUT) as response:  # noqa: S310
            job = json.load(response)
    except (OSError, ValueError, urllib.error.URLError):
        return ()
    keys = ("notebook_path", "notebook_sha256", "parameters")
    return tuple((k, job[k]) for k in keys if isinstance(job, dict) and k in job)
