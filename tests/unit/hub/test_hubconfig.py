"""The generated jupyterhub_config.py, executed as JupyterHub would."""

from __future__ import annotations

import json

from traitlets.config import Config

from labworks_hub.hubconfig import HubSettings, render


def run_config(settings: HubSettings) -> tuple[Config, list[str]]:
    """Execute the generated file as JupyterHub does; also return the subconfigs it loads."""
    c = Config()
    subconfigs: list[str] = []
    code = render(settings)
    exec(code, {"get_config": lambda: c, "load_subconfig": subconfigs.append})  # noqa: S102
    return c, subconfigs


def load(settings: HubSettings) -> Config:
    return run_config(settings)[0]


def settings(tmp_path, **kw) -> HubSettings:
    base = dict(home=str(tmp_path), ip="127.0.0.1", port=8000, hub_port=18081,
                proxy_api_port=18001, service_port=18010, db_url="sqlite:///x.sqlite")  # fmt: skip
    return HubSettings(**{**base, **kw})


def test_hub_runs_our_parts(tmp_path):
    c = load(settings(tmp_path))
    assert c.JupyterHub.authenticator_class == "labworks"
    assert c.JupyterHub.spawner_class == "labworks-local"
    assert c.JupyterHub.db_url == f"sqlite:///{tmp_path / 'jupyterhub.sqlite'}"
    services = {s["name"]: s for s in c.JupyterHub.services}
    assert services["labworks"]["url"] == "http://127.0.0.1:18010"
    environment = services["labworks"]["environment"]
    assert environment["LABWORKS_DB_URL"] == "sqlite:///x.sqlite"
    assert environment["LABWORKS_STATE_DIR"] == str(tmp_path / "platform")
    jobs = json.loads(environment["LABWORKS_JOBS_CONFIG"])  # the pinned places of job files
    assert jobs["LocalExecutor"]["runs_dir"] == str(tmp_path / "jobs" / "runs")
    assert set(environment) == {
        "LABWORKS_DB_URL", "LABWORKS_STATE_DIR", "LABWORKS_JOBS_CONFIG", "LABWORKS_PUBLIC_URL",
    }  # fmt: skip
    assert environment["LABWORKS_PUBLIC_URL"] == "http://127.0.0.1:8000/"  # what people open
    assert "--timeout=3600" in services["idle-culler"]["command"]
    socket = str(tmp_path / "secrets" / "preload.sock")
    assert services["preload"]["command"][-1] == socket
    assert c.LocalWorkspaceSpawner.preload_socket == socket
    assert c.LocalWorkspaceSpawner.platform_api_url == (
        "http://127.0.0.1:18010/services/labworks/api/v1"
    )


def test_internal_addresses_are_the_ones_given_and_started_processes_are_recorded(tmp_path):
    """`labworks up` passes the ports kept in the home; the hub records what it starts there,
    for the next start to stop after a crash (supervisor.py)."""
    c = load(settings(tmp_path))
    assert c.JupyterHub.hub_port == 18081
    assert c.ConfigurableHTTPProxy.api_url == "http://127.0.0.1:18001"
    assert c.SupervisedHub.process_record == str(tmp_path / "processes.json")
    assert c.ConfigurableHTTPProxy.pid_file == str(tmp_path / "proxy.pid")


def test_users_and_their_servers_may_use_the_service(tmp_path):
    c = load(settings(tmp_path))
    roles = {r["name"]: r for r in c.JupyterHub.load_roles}
    assert "access:services!service=labworks" in roles["user"]["scopes"]
    assert "access:services!service=labworks" in c.Spawner.server_token_scopes
    assert roles["idle-culler"]["services"] == ["idle-culler"]
    assert "delete:servers" in roles["idle-culler"]["scopes"]


def test_secrets_are_kept_private_and_stable(tmp_path):
    first = load(settings(tmp_path))
    second = load(settings(tmp_path))
    assert first.ConfigurableHTTPProxy.auth_token == second.ConfigurableHTTPProxy.auth_token
    secret = tmp_path / "secrets" / "cookie_secret"
    assert first.JupyterHub.cookie_secret_file == str(secret)
    assert secret.stat().st_mode & 0o077 == 0


def test_zero_timeout_turns_the_culler_off(tmp_path):
    c = load(settings(tmp_path, cull_idle_timeout=0))
    assert [s["name"] for s in c.JupyterHub.services] == ["labworks", "preload"]


def test_operator_overrides_are_loaded_only_when_present(tmp_path):
    assert run_config(settings(tmp_path))[1] == []
    local = tmp_path / "jupyterhub_config.local.py"
    local.write_text("c.Spawner.poll_interval = 2\n")
    assert run_config(settings(tmp_path))[1] == [str(local)]
