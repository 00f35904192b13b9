"""What runs now and costs: workspaces (the hub's servers), job runs (sweep trials among them)
and deployments' model servers, each as a `Subject` the meter records.

Jobs and model servers are rows of the platform store; workspaces are the hub's, read over its
REST API with the service's token (`read:servers` for the servers and their user options,
`admin:server_state` for the pid and cgroup the local spawner records).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...gpus import job_holder, workspace_holder
from ..hubapi import HubError, HubTokens
from ..store.cost import DEPLOYMENT, JOB, WORKSPACE
from ..store.deployments import LIVE, Deployment, ModelServer
from ..store.gpus import GPULease
from ..store.jobs import RUNNING, JobRun
from ..store.sweeps import SweepTrial


@dataclass(frozen=True)
class Subject:
    """One running thing that costs: who owns it, what it reserves (its profile; "" for a
    deployment), and where to measure it (a pid and its start time, or a cgroup)."""

    kind: str
    id: str
    owner: str
    name: str
    profile: str = ""
    started_at: datetime | None = None
    pid: int | None = None
    start_ticks: int | None = None
    cgroup: str = ""
    gpu_holder: str = ""
    sweep_id: str = ""
    gpus: list[int] = field(default_factory=list, hash=False)
    last_activity: datetime | None = None  # workspaces: the hub's (a busy kernel moves it)

    @property
    def key(self) -> tuple[str, str]:
        return self.kind, self.id


def workspace_id(user: str, server: str) -> str:
    """`alice` for a default server, `alice/gpu` for a named one."""
    return f"{user}/{server}" if server else user


def running_jobs(session: Session) -> list[Subject]:
    """Job runs with an attempt running now (sweep trials carry their sweep's id)."""
    runs = session.execute(
        select(JobRun, SweepTrial.sweep_id)
        .outerjoin(SweepTrial, SweepTrial.run_id == JobRun.id)
        .where(JobRun.status == RUNNING)
    )
    found = []
    for run, sweep_id in runs:
        state = run.executor_state or {}
        found.append(
            Subject(
                JOB,
                run.id,
                run.owner,
                run.name,
                run.profile,
                run.started_at,
                _int(state.get("pid")),
                _int(state.get("start_ticks")),
                gpu_holder=job_holder(run.id),
                sweep_id=sweep_id or "",
            )
        )
    return found


def running_deployments(session: Session) -> list[Subject]:
    """Model servers that run (starting or ready), one subject per deployment version."""
    rows = session.execute(
        select(ModelServer, Deployment)
        .join(Deployment, Deployment.id == ModelServer.deployment_id)
        .where(ModelServer.status.in_(LIVE))
    )
    found = []
    for server, deployment in rows:
        state = server.state or {}
        found.append(
            Subject(
                DEPLOYMENT,
                f"{deployment.id}/{server.version}",
                deployment.owner,
                f"{deployment.name} v{server.version}",
                "",
                server.started_at,
                _int(state.get("pid")),
                _int(state.get("start_ticks")),
            )
        )
    return found


def leases(session: Session, host: str) -> dict[str, list[int]]:
    """{holder: GPU indices} of `host`."""
    found: dict[str, list[int]] = {}
    query = select(GPULease.holder, GPULease.gpu_index).where(GPULease.host == host)
    for holder, index in session.execute(query.order_by(GPULease.gpu_index)):
        found.setdefault(holder, []).append(index)
    return found


class HubWorkspaces(HubTokens):
    """The hub's running servers, with the service's token."""

    page = 200  # JupyterHub's largest page (`api_page_max_limit`)

    async def running(self, default_profile: str) -> list[Subject]:
        """Every server that runs now, page by page; HubError when the hub cannot tell."""
        users: list = []
        while True:
            params = {"state": "active", "offset": len(users), "limit": self.page}
            reply = await self._send("GET", f"{self.api_url}/users", params=params)
            try:
                found = reply.json() if reply.status_code == 200 else None
            except ValueError:
                found = None
            if not isinstance(found, list):
                raise HubError(f"JupyterHub answered {reply.status_code} to the list of users")
            users += found
            if len(found) < self.page:
                return parse_users(users, default_profile)

    async def stop(self, workspace: str) -> None:
        """Stop the server of `workspace` (`workspace_id`'s form); HubError when refused."""
        user, _, server = workspace.partition("/")
        path = f"servers/{quote(server, safe='')}" if server else "server"
        reply = await self._send("DELETE", f"{self.api_url}/users/{quote(user, safe='')}/{path}")
        if reply.status_code not in (202, 204, 404):
            raise HubError(f"JupyterHub did not stop {workspace}: {reply.status_code}")


def parse_users(users: object, default_profile: str) -> list[Subject]:
    """Subjects from the hub's user models (`GET /users?state=active`)."""
    found = []
    for user in users if isinstance(users, list) else []:
        for server in (user.get("servers") or {}).values():
            if server.get("stopped") or not server.get("started"):
                continue
            options = server.get("user_options") or {}
            state = server.get("state") or {}
            name = server.get("name", "")
            found.append(
                Subject(
                    WORKSPACE,
                    workspace_id(user["name"], name),
                    user["name"],
                    name or "default",
                    str(options.get("profile") or default_profile),
                    _time(server["started"]),
                    _int(state.get("pid")),
                    None,
                    str(state.get("cgroup") or ""),
                    workspace_holder(user["name"], name),
                    last_activity=_time(server.get("last_activity") or ""),
                )
            )
    return found


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _time(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (TypeError, ValueError):
        return None
