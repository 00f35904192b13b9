"""The environment that makes the stock `mlflow` client log to Labworks with no setup.

Workspace kernels (spawners/base.py) and jobs (jobs/service.py) get it: `import mlflow;
mlflow.log_metric("x", 1)` logs to the user's personal experiment on the platform's tracking
server, authenticated with the user's hub token.

The tracking URI is also what MLflow prints as the link of every run ("View run ... at:
<tracking URI>/#/experiments/..."), so it is the platform's public URL (public_url.py) when one
is known: the address the person opened, through the hub's proxy, which survives restarts and
answers in a browser. Only without a public URL is it the platform service's internal address.
This module imports nothing heavy: spawners import it.
"""

from __future__ import annotations

from ...public_url import service_url

API_SUFFIX = "/api/v1"
TRACKING_SUFFIX = "/mlflow"
PERSONAL_PREFIX = "users/"
SERVICE_NAME = "labworks"  # the hub service: /services/labworks/


def tracking_uri(api_url: str, public_url: str = "") -> str:
    """The tracking server URL: under the public URL when it is known (`<public>services/
    labworks/mlflow`), else beside the platform API root (`.../api/v1` becomes `.../mlflow`)."""
    if public_url:
        return service_url(public_url, SERVICE_NAME, TRACKING_SUFFIX.lstrip("/"))
    root = api_url.rstrip("/")
    if root.endswith(API_SUFFIX):
        root = root[: -len(API_SUFFIX)]
    return root + TRACKING_SUFFIX


def personal_experiment(user: str) -> str:
    """The experiment a user's runs go to unless they choose one (`mlflow.set_experiment`).

    Names under `users/<name>` belong to that user: nobody else may create or rename an
    experiment to one of them (tracking/server.py), so it cannot be taken first."""
    return f"{PERSONAL_PREFIX}{user}"


def tracking_env(api_url: str, user: str, token: str, public_url: str = "") -> dict[str, str]:
    """MLFLOW_TRACKING_URI, MLFLOW_TRACKING_TOKEN and MLFLOW_EXPERIMENT_NAME for `user`;
    empty when the platform API URL is not known."""
    if not api_url:
        return {}
    return {
        "MLFLOW_TRACKING_URI": tracking_uri(api_url, public_url),
        "MLFLOW_TRACKING_TOKEN": token,
        "MLFLOW_EXPERIMENT_NAME": personal_experiment(user),
    }
