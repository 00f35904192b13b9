"""The platform service in-process (real app, real SQLite store) with no hub listening: what a
client sees for health, missing tokens, a hub outage, browser logins and unknown routes."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from labworks_hub.service.app import create_app
from labworks_hub.service.auth import require_scope
from labworks_hub.service.jobs.artifacts import ArtifactStore
from labworks_hub.service.routers.jobs_common import service_of
from labworks_hub.service.settings import ServiceSettings
from labworks_hub.service.store import Store
from tests.platform import free_port

API = "/services/labworks/api/v1"


@pytest.fixture
def client(tmp_path):
    settings = ServiceSettings.from_env(
        {
            "LABWORKS_DB_URL": f"sqlite:///{tmp_path / 'store.sqlite'}",
            "LABWORKS_STATE_DIR": str(tmp_path / "state"),  # its key file, not the checkout's
            "JUPYTERHUB_SERVICE_PREFIX": "/services/labworks/",
            "JUPYTERHUB_API_URL": f"http://127.0.0.1:{free_port()}/hub/api",
            "JUPYTERHUB_API_TOKEN": "service-token",
            "JUPYTERHUB_CLIENT_ID": "service-labworks",
            "JUPYTERHUB_OAUTH_CALLBACK_URL": "/services/labworks/oauth_callback",
        }
    )
    with TestClient(create_app(settings)) as c:
        yield c


class OtherArtifactStore(ArtifactStore):
    """An operator's own artifact store class."""


def _settings(tmp_path, jobs_config: dict) -> ServiceSettings:
    return ServiceSettings.from_env(
        {
            "LABWORKS_DB_URL": f"sqlite:///{tmp_path / 'store.sqlite'}",
            "LABWORKS_STATE_DIR": str(tmp_path / "state"),
            "LABWORKS_JOBS_CONFIG": json.dumps(jobs_config),
            "JUPYTERHUB_API_URL": f"http://127.0.0.1:{free_port()}/hub/api",
            "JUPYTERHUB_API_TOKEN": "service-token",
        }
    )


def test_the_artifact_store_is_one_object_as_the_operator_configured_it(tmp_path):
    default = create_app(_settings(tmp_path, {}))
    assert type(default.state.artifacts) is ArtifactStore
    assert default.state.artifacts.url == f"{tmp_path / 'state'}/jobs/artifacts"
    config = {
        "JobService": {"artifact_store_class": f"{__name__}.OtherArtifactStore"},
        "ArtifactStore": {"url": str(tmp_path / "objects"), "max_blob_size": 1234},
    }
    app = create_app(_settings(tmp_path, config))
    artifacts = app.state.artifacts
    assert type(artifacts) is OtherArtifactStore
    assert (artifacts.url, artifacts.max_blob_size) == (str(tmp_path / "objects"), 1234)
    assert service_of(app).artifacts is artifacts  # jobs and datasets keep objects in it


def test_health_needs_nothing_and_migrates_the_store(client, tmp_path):
    reply = client.get(API + "/health")
    assert reply.status_code == 200
    assert reply.json()["status"] == "ok"
    assert (tmp_path / "store.sqlite").exists()


def test_health_is_a_503_when_the_store_is_down(client):
    client.app.state.store = Store(f"postgresql://u:secret@127.0.0.1:{free_port()}/db")
    reply = client.get(API + "/health")
    assert reply.status_code == 503
    assert reply.json()["error"] == "unavailable"
    assert "cannot connect to database" in reply.json()["message"]
    assert "secret" not in reply.text


def test_missing_token_is_a_json_401(client):
    reply = client.get(API + "/me")
    assert reply.status_code == 401
    assert reply.json() == {
        "error": "unauthorized",
        "message": "authentication required: send 'Authorization: token <hub token>'",
    }


def test_hub_outage_is_a_503_not_a_500(client):
    reply = client.get(API + "/me", headers={"Authorization": "token some-user-token"})
    assert reply.status_code == 503
    assert reply.json()["error"] == "unavailable"
    assert "cannot reach JupyterHub" in reply.json()["message"]
    assert "some-user-token" not in reply.text


def test_browser_without_token_goes_through_hub_oauth(client):
    reply = client.get(API + "/docs", headers={"Accept": "text/html"}, follow_redirects=False)
    assert reply.status_code == 302
    assert "/hub/api/oauth2/authorize?client_id=service-labworks" in reply.headers["location"]
    assert "state=" in reply.headers["location"]
    assert "labworks-oauth-state" in reply.headers["set-cookie"]


def test_oauth_callback_refuses_a_forged_state(client):
    reply = client.get("/services/labworks/oauth_callback?code=abc&state=forged")
    assert reply.status_code == 400
    assert reply.json()["error"] == "bad_request"


def test_oauth_callback_during_a_hub_outage_is_a_503(client):
    login = client.get(API + "/docs", headers={"Accept": "text/html"}, follow_redirects=False)
    state = login.cookies["labworks-oauth-state"]
    client.cookies.set("labworks-oauth-state", state, path="/services/labworks/")
    reply = client.get(f"/services/labworks/oauth_callback?code=abc&state={state}")
    assert reply.status_code == 503
    assert reply.json()["message"] == "cannot reach JupyterHub to finish the login"


def test_unknown_route_and_method_are_json(client):
    assert client.get(API + "/nope").json()["error"] == "not_found"
    assert client.post(API + "/health").json()["error"] == "method_not_allowed"


def test_unknown_scope_is_refused_when_a_route_is_declared():
    with pytest.raises(ValueError, match="unknown labworks scope 'read:everything'"):
        require_scope("read:everything")
