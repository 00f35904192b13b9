"""Settings of the platform service, read once from the environment JupyterHub gives a managed
service (JUPYTERHUB_*) plus LABWORKS_DB_URL and LABWORKS_IMAGE_CATALOG."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

# How long the service trusts the hub's answers about a token or a user (and what it derived
# from them: MLflow's copy of the user, remembered decisions), in seconds.
USER_CACHE_SECONDS = 30


@dataclass(frozen=True)
class ServiceSettings:
    db_url: str
    prefix: str  # e.g. /services/labworks/
    host: str
    port: int
    hub_api_url: str
    api_token: str
    base_url: str  # the hub's public base URL, e.g. /
    client_id: str
    oauth_callback_url: str
    # ImageCatalog traits (labworks_hub.catalog), as `labworks up` hands them over; empty: none
    image_catalog: dict[str, Any] = field(default_factory=dict, repr=False)  # has a password
    # Notebook jobs (service/jobs): traitlets config sections (JobService, LocalExecutor, ...),
    # the workspace profiles jobs run on (empty: the defaults), and the state directory
    jobs_config: dict[str, Any] = field(default_factory=dict, repr=False)
    profiles: list[dict[str, Any]] = field(default_factory=list)
    state_dir: str = "."

    @property
    def api_prefix(self) -> str:
        return self.prefix + "api/v1"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> ServiceSettings:
        env = dict(os.environ if env is None else env)
        url = urlparse(env.get("JUPYTERHUB_SERVICE_URL", "http://127.0.0.1:8010"))
        prefix = env.get("JUPYTERHUB_SERVICE_PREFIX", "/services/labworks/")
        if not prefix.endswith("/"):
            prefix += "/"
        return cls(
            db_url=env.get("LABWORKS_DB_URL", "sqlite:///labworks.sqlite"),
            prefix=prefix,
            host=url.hostname or "127.0.0.1",
            port=url.port or 8010,
            hub_api_url=env.get("JUPYTERHUB_API_URL", "http://127.0.0.1:8081/hub/api"),
            api_token=env.get("JUPYTERHUB_API_TOKEN", ""),
            base_url=env.get("JUPYTERHUB_BASE_URL", "/"),
            client_id=env.get("JUPYTERHUB_CLIENT_ID", "service-labworks"),
            oauth_callback_url=env.get("JUPYTERHUB_OAUTH_CALLBACK_URL", prefix + "oauth_callback"),
            image_catalog=_json_object(env, "LABWORKS_IMAGE_CATALOG"),
            jobs_config=_json_object(env, "LABWORKS_JOBS_CONFIG"),
            profiles=_json_object(env, "LABWORKS_PROFILES").get("profiles", []),
            state_dir=os.path.abspath(env.get("LABWORKS_STATE_DIR", ".")),
        )


def _json_object(env: dict[str, str], name: str) -> dict[str, Any]:
    raw = env.get(name, "").strip()
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError as e:
        raise ValueError(f"{name} is not valid JSON: {e}") from None
    if not isinstance(value, dict):
        raise ValueError(f"{name} must be a JSON object")
    return value
