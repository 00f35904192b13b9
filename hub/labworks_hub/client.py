"""HTTP client of the platform REST API, used by the CLI's client commands.

Outside a workspace it reads LABWORKS_URL (the address people open) and LABWORKS_TOKEN; inside one
it falls back to LABWORKS_API_URL and JUPYTERHUB_API_TOKEN, which every workspace server has.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import httpx

API_PATH = "services/labworks/api/v1/"


class ClientError(Exception):
    """A clear one-line message for the user (never contains the token)."""


class LabworksClient:
    def __init__(self, api_url: str, token: str | None, timeout: float = 30.0) -> None:
        self.api_url = api_url.rstrip("/") + "/"
        self.token = token
        self.timeout = timeout

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> LabworksClient:
        env = dict(os.environ if env is None else env)
        url = env.get("LABWORKS_URL")
        if url:
            if urlsplit(url).scheme not in ("http", "https"):
                raise ClientError(f"LABWORKS_URL must start with http:// or https://, not {url!r}")
            api_url = url.rstrip("/") + "/" + API_PATH
        elif env.get("LABWORKS_API_URL"):
            api_url = env["LABWORKS_API_URL"]
        else:
            raise ClientError(
                "set LABWORKS_URL to the platform address, e.g. http://127.0.0.1:8000"
            )
        token = env.get("LABWORKS_TOKEN") or env.get("JUPYTERHUB_API_TOKEN")
        return cls(api_url, token)

    def get(self, path: str, *, auth: bool = True) -> dict:
        return self.request("GET", path, auth=auth)

    def request(self, method: str, path: str, *, auth: bool = True, **kwargs) -> dict:
        return self._send(method, self.api_url, path, auth, **kwargs)

    def service(self, method: str, path: str, **kwargs) -> dict:
        """A request below the platform service's root rather than its REST API: the
        inference gateway (`models/v2/...`) and the tracking server (`mlflow/...`)."""
        root = self.api_url.removesuffix("api/v1/")
        return self._send(method, root, path, True, **kwargs)

    def _send(self, method: str, base: str, path: str, auth: bool, **kwargs) -> dict:
        headers = {"Accept": "application/json"}
        if auth:
            if not self.token:
                raise ClientError("set LABWORKS_TOKEN (create one with `labworks token NAME`)")
            headers["Authorization"] = f"token {self.token}"
        url = base + path.lstrip("/")
        try:
            response = httpx.request(method, url, headers=headers, timeout=self.timeout, **kwargs)
        except httpx.HTTPError as e:
            raise ClientError(f"cannot reach Labworks at {self.api_url}: {e}") from None
        if response.status_code == 204:  # done, nothing to say (e.g. a DELETE)
            return {}
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code >= 400:
            message = (  # the platform's {"message"}, MLflow's too; OIP v2's {"error"}
                body.get("message") or body.get("error")
                if isinstance(body, dict)
                else response.reason_phrase
            )
            raise ClientError(f"{method} {path} failed ({response.status_code}): {message}")
        if not isinstance(body, dict):
            raise ClientError(
                f"{method} {path}: the server did not answer JSON; is {self.api_url} Labworks?"
            )
        return body
