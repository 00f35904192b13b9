"""Sources' credentials at rest: sealed under the platform's key, which the hub hands to the
platform service from its environment (never from the config dump), with rotation."""

from __future__ import annotations

import json
import os
import stat

import pytest
from cryptography.fernet import Fernet
from traitlets.config import Config

from labworks_hub.hubconfig import SOURCES_KEY_ENV, jobs_environment
from labworks_hub.service.access import Invalid, Unavailable
from labworks_hub.service.settings import ServiceSettings
from labworks_hub.service.sources import catalog
from labworks_hub.service.sources.secrets import SourceSecrets, key_file
from labworks_hub.service.sources.service import DataSources
from labworks_hub.service.store import Store

SECRET = {"password": "hunter2-of-the-warehouse"}


def test_the_hub_hands_the_key_variable_and_the_section_to_the_service(monkeypatch):
    c = Config()
    c.DataSources.registrars_group = "stewards"
    key = Fernet.generate_key().decode()
    monkeypatch.delenv(SOURCES_KEY_ENV, raising=False)
    assert SOURCES_KEY_ENV not in jobs_environment(c, None)
    monkeypatch.setenv(SOURCES_KEY_ENV, key)
    environment = jobs_environment(c, None)
    assert environment[SOURCES_KEY_ENV] == key
    assert key not in environment["LABWORKS_JOBS_CONFIG"]

    service = ServiceSettings.from_env(environment)
    sources = DataSources(config=Config(service.jobs_config), state_dir="/nonexistent")
    assert sources.registrars_group == "stewards"
    sealed = sources.secrets.seal(SECRET)  # the variable's key: no key file is made
    assert SourceSecrets([key]).open(sealed) == SECRET


def test_a_key_file_is_made_once_private_and_kept(tmp_path, monkeypatch):
    monkeypatch.delenv(SOURCES_KEY_ENV, raising=False)
    first = DataSources(state_dir=str(tmp_path)).secrets.seal(SECRET)
    path = tmp_path / "secrets" / "sources.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert key_file(str(tmp_path)) == path.read_text().strip()  # the same key next time
    assert DataSources(state_dir=str(tmp_path)).secrets.open(first) == SECRET
    assert json.dumps(SECRET["password"])[1:-1] not in first


def test_a_rotated_key_still_opens_what_the_old_one_sealed(tmp_path):
    old = DataSources(secret_key="an old passphrase", state_dir=str(tmp_path))
    sealed = old.secrets.seal(SECRET)
    new_key = Fernet.generate_key().decode()
    rotated = DataSources(
        secret_key=new_key, previous_secret_keys=["an old passphrase"], state_dir=str(tmp_path)
    )
    assert rotated.secrets.open(sealed) == SECRET
    resealed = rotated.secrets.seal(SECRET)
    with pytest.raises(Unavailable, match="cannot be opened with the platform's key"):
        old.secrets.open(resealed)  # the new key sealed it
    assert not os.path.exists(tmp_path / "secrets")  # configured keys make no key file


def test_sources_declared_in_the_config_are_registered_with_credentials_from_the_env(
    tmp_path, monkeypatch
):
    """`c.DataSources.sources` names where credentials are (environment variables the hub
    passes on), never the credentials: the service registers the source at start, keeps it
    up to date, and re-seals only what changed."""
    c = Config()
    c.DataSources.sources = [{
        "name": "warehouse", "kind": "postgres", "owner": "ana", "tags": ["sales"],
        "config": {"host": "db.example.org", "dbname": "dw", "user": "reader"},
        "credentials_env": {"password": "WAREHOUSE_PASSWORD"},
    }]  # fmt: skip
    monkeypatch.setenv("WAREHOUSE_PASSWORD", SECRET["password"])
    environment = jobs_environment(c, None)
    assert environment["WAREHOUSE_PASSWORD"] == SECRET["password"]
    assert SECRET["password"] not in environment["LABWORKS_JOBS_CONFIG"]

    service = ServiceSettings.from_env(environment)
    sources = DataSources(config=Config(service.jobs_config), state_dir=str(tmp_path))
    store = Store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    store.migrate()
    with store.session() as s:
        catalog.declare(s, sources.declared(environment), sources.secrets)
    with store.session() as s:
        made = catalog.get(s, "warehouse")
        first = (made.owner, made.tags, made.config["port"], made.updated_at, made.credentials)
        assert first[:3] == ("ana", ["sales"], 5432)
        assert sources.secrets.open(made.credentials) == SECRET
        catalog.declare(s, sources.declared(environment), sources.secrets)  # a restart
    with store.session() as s:
        again = catalog.get(s, "warehouse")
        assert (again.updated_at, again.credentials) == (first[3], first[4])  # nothing changed
    with store.session() as s:
        changed = {**environment, "WAREHOUSE_PASSWORD": "rotated"}
        catalog.declare(s, sources.declared(changed), sources.secrets)
    with store.session() as s:
        assert sources.secrets.open(catalog.get(s, "warehouse").credentials) == {
            "password": "rotated"
        }
    with pytest.raises(Invalid, match="warehouse: set WAREHOUSE_PASSWORD"):
        sources.declared({})
    store.dispose()
