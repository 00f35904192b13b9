"""`labworks workspace start|stop|status|gpus`: one's own workspace through JupyterHub's REST API.

Outside a workspace the hub is found from LABWORKS_URL (the address people open) and the token
is LABWORKS_TOKEN; inside one, JUPYTERHUB_API_URL and JUPYTERHUB_API_TOKEN are used.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import click
import httpx

from ..public_url import from_environment

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


@dataclass(frozen=True)
class Hub:
    """Where the hub API and the user servers are, and the token to use."""

    api: str  # .../hub/api
    public: str | None  # the address people open; None inside a workspace
    token: str

    @classmethod
    def from_env(cls) -> Hub:
        env = os.environ
        token = env.get("LABWORKS_TOKEN") or env.get("JUPYTERHUB_API_TOKEN")
        if not token:
            raise click.ClickException("set LABWORKS_TOKEN (create one with `labworks token NAME`)")
        if env.get("LABWORKS_URL"):
            public = env["LABWORKS_URL"].rstrip("/")
            if not public.startswith(("http://", "https://")):
                raise click.ClickException(
                    f"LABWORKS_URL must start with http:// or https://, not {public!r}"
                )
            return cls(public + "/hub/api", public, token)
        if env.get("JUPYTERHUB_API_URL"):  # in a workspace: links at the platform's public URL
            parts = urlsplit(from_environment(env))
            origin = f"{parts.scheme}://{parts.netloc}" if parts.netloc else None
            return cls(env["JUPYTERHUB_API_URL"].rstrip("/"), origin, token)
        raise click.ClickException(
            "set LABWORKS_URL to the platform address, e.g. http://127.0.0.1:8000"
        )

    def request(self, method: str, path: str, **kwargs) -> httpx.Response:
        url = path if path.startswith("http") else self.api + path
        try:
            response = httpx.request(method, url, headers=self.headers, timeout=60, **kwargs)
        except httpx.HTTPError as e:
            raise click.ClickException(f"cannot reach the hub at {self.api}: {e}") from None
        if response.status_code >= 400:
            raise click.ClickException(_message(response))
        return response

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}

    def me(self) -> dict:
        return self.request("GET", "/user").json()

    def server_url(self, user: dict) -> str:
        """The user's running server (its /user/<name>/ address)."""
        server = user.get("servers", {}).get("")
        if not server or not server.get("ready"):
            raise click.ClickException(
                "your workspace is not running; start it with `labworks workspace start`"
            )
        if self.public:
            return self.public + server["url"]
        return os.environ.get("JUPYTERHUB_SERVICE_URL", "").rstrip("/") + "/"


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        body = {}
    text = body.get("message") if isinstance(body, dict) else None
    return f"the hub answered {response.status_code}: {text or response.reason_phrase}"


def _progress(hub: Hub, name: str) -> Iterator[dict]:
    """The spawn's progress events (the hub's event stream) until ready or failed."""
    url = f"{hub.api}/users/{quote(name)}/server/progress"
    timeout = httpx.Timeout(30, read=600)  # a spawn may be quiet for minutes (image pulls)
    with httpx.stream("GET", url, headers=hub.headers, timeout=timeout) as response:
        if response.status_code >= 400:
            response.read()
            raise click.ClickException(_message(response))
        for line in response.iter_lines():
            if line.startswith("data:"):
                event = json.loads(line[5:])
                yield event
                if event.get("ready") or event.get("failed"):
                    return


@click.group()
def workspace() -> None:
    """Start, stop and inspect your workspace (your Jupyter server)."""


@workspace.command()
@click.option("--profile", help="Profile name (see the spawn page); default: the first one.")
@click.option("--image", help="Image from the catalog, repo:tag (Kubernetes backend).")
@click.option("--wait/--no-wait", default=True, show_default=True, help="Follow until ready.")
def start(profile: str | None, image: str | None, wait: bool) -> None:
    """Start your workspace with a profile, following the hub's progress."""
    hub = Hub.from_env()
    name = hub.me()["name"]
    options = {k: v for k, v in {"profile": profile, "image": image}.items() if v}
    hub.request("POST", f"/users/{quote(name)}/server", json=options)
    if not wait:
        click.echo(f"Starting the workspace of {name}")
        return
    for event in _progress(hub, name):
        if event.get("message"):
            click.echo(event["message"])
        if event.get("failed"):
            raise click.ClickException("the workspace did not start")
    click.echo(f"Ready: {hub.server_url(hub.me())}lab")


@workspace.command()
@click.option("--wait/--no-wait", default=True, show_default=True, help="Wait until stopped.")
def stop(wait: bool) -> None:
    """Stop your workspace; your files are kept."""
    hub = Hub.from_env()
    name = hub.me()["name"]
    hub.request("DELETE", f"/users/{quote(name)}/server")
    deadline = time.monotonic() + 120
    while wait and hub.me().get("servers"):
        if time.monotonic() > deadline:
            raise click.ClickException("the workspace did not stop within 2 minutes")
        time.sleep(0.5)
    click.echo(f"Stopped the workspace of {name}" if wait else f"Stopping the workspace of {name}")


def server_state(server: dict | None) -> str:
    """`stopped`, `starting`, `ready` or `stopping`, from the hub's server model.

    An idle workspace asks the hub to stop it, so the hub knows at once (no wait for its poll).
    """
    if not server:
        return "stopped"
    if server.get("ready"):
        return "ready"
    return {"spawn": "starting", "stop": "stopping"}.get(server.get("pending") or "", "starting")


@workspace.command()
@json_option
def status(as_json: bool) -> None:
    """Show whether your workspace runs, with its profile and address."""
    hub = Hub.from_env()
    user = hub.me()
    server = user.get("servers", {}).get("")
    facts = {
        "user": user["name"],
        "state": server_state(server),
        "profile": (server or {}).get("user_options", {}).get("profile"),
        "started": (server or {}).get("started"),
        "last_activity": (server or {}).get("last_activity"),
        "url": hub.server_url(user) + "lab" if server and server.get("ready") else None,
    }
    if as_json:
        click.echo(json.dumps(facts, indent=2))
        return
    for key, value in facts.items():
        click.echo(f"{key}: {value if value is not None else '-'}")


@workspace.command()
@json_option
def gpus(as_json: bool) -> None:
    """Show your workspace's GPUs with memory and utilization now."""
    hub = Hub.from_env()
    devices = hub.request("GET", hub.server_url(hub.me()) + "labworks/gpus").json()["gpus"]
    if as_json:
        click.echo(json.dumps(devices, indent=2))
        return
    if not devices:
        click.echo("No GPU in this workspace.")
        return
    for gpu in devices:
        click.echo(
            f"GPU {gpu.get('index')}: {gpu.get('name')}  "
            f"memory {_gib(gpu.get('memory_used'))}/{_gib(gpu.get('memory_total'))} GiB  "
            f"utilization {gpu.get('utilization', '-')}%"
        )


def _gib(value: int | None) -> str:
    return "-" if value is None else f"{value / 1024**3:.1f}"
