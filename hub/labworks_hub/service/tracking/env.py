"""The environment that makes the stock `mlflow` client log to Labworks with no setup.

Workspace kernels (spawners/base.py) and jobs get it: `import mlflow; mlflow.log_metric("x", 1)`
logs to the user's personal experiment on the platform's tracking server, authenticated with
the user's hub token. This module imports nothing heavy: spawners import it.
"""

from __future__ import annotations

API_SUFFIX = "/api/v1"
TRACKING_SUFFIX = "/mlflow"
PERSONAL_PREFIX = "users/"


def tracking_uri(api_url: str) -> str:
    """The tracking server URL for a platform API root: `.../api/v1` becomes `.../mlflow`."""
    root = api_url.rstrip("/")
    if root.endswith(API_SUFFIX):
        root = root[: -len(API_SUFFIX)]
    return root + TRACKING_SUFFIX


def personal_experiment(user: str) -> str:
    """The experiment a user's runs go to unless they choose one (`mlflow.set_experiment`).

    Names under `users/<name>` belong to that user: nobody else may create or rename an
    experiment to one of them (tracking/server.py), so it cannot be taken first."""
    return f"{PERSONAL_PREFIX}{user}"


def tracking_env(api_url: str, user: str, token: str) -> dict[str, str]:
    """MLFLOW_TRACKING_URI, MLFLOW_TRACKING_TOKEN and MLFLOW_EXPERIMENT_NAME for `user`;
    empty when the platform API URL is not known."""
    if not api_url:
        return {}
    return {
        "MLFLOW_TRACKING_URI": tracking_uri(api_url),
        "MLFLOW_TRACKING_TOKEN": token,
        "MLFLOW_EXPERIMENT_NAME": personal_experiment(user),
    }
