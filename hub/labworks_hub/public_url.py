"""The platform's public URL: the address people open (`http://127.0.0.1:8000/`), as opposed to
the internal addresses the hub, proxy and platform service listen on.

Every link shown to a person (MLflow's "View run at" lines, mails, CLI output) starts with it.
`labworks up` derives it from `--ip`, `--port` and the base URL; an operator sets another one
with `c.JupyterHub.public_url` in `jupyterhub_config.local.py` (behind a reverse proxy, on a
host name), and the Helm chart with `hub.publicUrl`. It reaches the platform service and
workspaces as $LABWORKS_PUBLIC_URL; JupyterHub's own $JUPYTERHUB_PUBLIC_HUB_URL (set when
`JupyterHub.public_url` is) is the fallback. This module imports nothing heavy: spawners and
kernels' environments are built from it.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping

PUBLIC_URL_ENV = "LABWORKS_PUBLIC_URL"
HUB_PUBLIC_URL_ENV = "JUPYTERHUB_PUBLIC_HUB_URL"  # JupyterHub's, e.g. https://lab.example.org/hub/
WILDCARDS = ("", "0.0.0.0", "::")  # noqa: S104 (names of the wildcard addresses, not a bind)


def listening_url(ip: str, port: int, base_url: str = "/") -> str:
    """The URL of a hub listening on ip:port: the one `labworks up` prints. A wildcard address
    is not one a person can open, so this machine's name stands in for it."""
    host = socket.getfqdn() if ip in WILDCARDS else ip
    if ":" in host:
        host = f"[{host}]"
    return normalized(f"http://{host}:{port}{base_url}")


def normalized(url: str) -> str:
    """`url` with exactly one trailing slash ('' stays '')."""
    return url.rstrip("/") + "/" if url.strip() else ""


def from_environment(environ: Mapping[str, str] | None = None) -> str:
    """The public URL ending in '/' (base URL included), or '' when none is known."""
    env = os.environ if environ is None else environ
    if env.get(PUBLIC_URL_ENV, "").strip():
        return normalized(env[PUBLIC_URL_ENV].strip())
    hub = normalized(env.get(HUB_PUBLIC_URL_ENV, "").strip())
    return hub.removesuffix("hub/") if hub.endswith("/hub/") else hub


def service_url(public_url: str, service: str, path: str = "") -> str:
    """The public URL of hub service `service` (`.../services/<service>/<path>`); '' when the
    public URL is not known."""
    if not public_url:
        return ""
    return f"{normalized(public_url)}services/{service}/{path.lstrip('/')}"
