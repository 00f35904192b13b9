"""The platform API from a notebook: one authenticated HTTP client the SDK modules share.

The address is ``LABWORKS_API_URL`` and the token the first of ``LABWORKS_API_TOKEN``,
``JUPYTERHUB_API_TOKEN`` and ``MLFLOW_TRACKING_TOKEN`` that is set (workspaces and jobs have
them). Standard library only, so the SDK installs into a slim image. A refusal is the calling
module's error class carrying the platform's message and HTTP status.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

TOKEN_VARIABLES = ("LABWORKS_API_TOKEN", "JUPYTERHUB_API_TOKEN", "MLFLOW_TRACKING_TOKEN")
TIMEOUT = 60.0
ORIGIN_HEADER = "X-Labworks-Origin"  # where a request comes from, for the access audit


def origin(environ: Mapping[str, str] | None = None) -> str:
    """Where this process calls from, as the audit records it: ``job:<id>`` in a job, else
    ``workspace:<user>/<server name>``."""
    env = os.environ if environ is None else environ
    if env.get("LABWORKS_JOB_ID"):
        return f"job:{env['LABWORKS_JOB_ID']}"
    return f"workspace:{env.get('JUPYTERHUB_USER', '')}/{env.get('JUPYTERHUB_SERVER_NAME', '')}"


class PlatformError(Exception):
    """The platform refused or could not be reached; `status` is the HTTP status, if any."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class Api:
    """Requests to one platform API address with one token; refusals raise `error`."""

    def __init__(
        self, api_url: str, token: str, error: type[PlatformError] = PlatformError,
        origin: str = "",
    ) -> None:  # fmt: skip
        if urllib.parse.urlsplit(api_url).scheme not in ("http", "https"):
            raise error(f"the platform API address must be http(s), not {api_url!r}")
        self.api_url = api_url.rstrip("/")
        self.token = token
        self.error = error
        self.origin = origin

    @classmethod
    def from_env(
        cls,
        module: str,
        error: type[PlatformError] = PlatformError,
        environ: Mapping[str, str] | None = None,
    ) -> Api:
        """The API of this workspace or job; `module` (e.g. "labworks.data") names who needs
        it when a variable is missing."""
        env = os.environ if environ is None else environ
        api = env.get("LABWORKS_API_URL", "")
        token = next((env[k] for k in TOKEN_VARIABLES if env.get(k)), "")
        missing = [] if api else ["LABWORKS_API_URL (the platform API address)"]
        if not token:
            missing.append("a token in " + " or ".join(TOKEN_VARIABLES))
        if missing:
            raise error(
                f"{module} needs " + " and ".join(missing) + "; workspaces and jobs have them"
            )
        return cls(api, token, error, origin(env))

    def json(self, method: str, path: str, body: Any = None, size: int | None = None) -> Any:
        with self.open(method, path, body, size) as response:
            return json.load(response)

    def open(self, method: str, path: str, body: Any = None, size: int | None = None) -> Any:
        """One request; a file object `body` is streamed (`size` bytes), anything else sent
        as JSON. The response, open; a refusal raises `error` with the platform's message."""
        headers = {"Authorization": f"token {self.token}", "Accept": "application/json"}
        if self.origin:
            headers[ORIGIN_HEADER] = self.origin
        if size is not None:
            headers.update({"Content-Type": "application/octet-stream",
                            "Content-Length": str(size)})  # fmt: skip
        elif body is not None:
            body = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        # The scheme is http(s), checked in __init__.
        request = urllib.request.Request(  # noqa: S310
            f"{self.api_url}/{path}", data=body, method=method, headers=headers
        )
        try:
            return urllib.request.urlopen(request, timeout=TIMEOUT)  # noqa: S310
        except urllib.error.HTTPError as e:
            with e:
                raise self.error(_message(e), e.code) from None
        except (OSError, urllib.error.URLError) as e:
            raise self.error(f"cannot reach the platform at {self.api_url}: {e}") from None


def _message(error: urllib.error.HTTPError) -> str:
    try:
        body = json.load(error)
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])
    return f"{error.code} {error.reason}"
