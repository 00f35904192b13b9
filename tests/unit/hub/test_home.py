from __future__ import annotations

import pytest

from labworks_hub.home import HomeError, LabworksHome


def test_resolve_prefers_argument_then_env(tmp_path, monkeypatch):
    monkeypatch.setenv("LABWORKS_HOME", str(tmp_path / "env"))
    assert LabworksHome.resolve(tmp_path / "arg").root == tmp_path / "arg"
    assert LabworksHome.resolve().root == tmp_path / "env"
    monkeypatch.delenv("LABWORKS_HOME")
    monkeypatch.chdir(tmp_path)
    assert LabworksHome.resolve().root == tmp_path / ".labworks"


def test_settings_roundtrip_and_db_url(tmp_path):
    home = LabworksHome(tmp_path).ensure()
    assert home.db_url() == f"sqlite:///{tmp_path / 'labworks.sqlite'}"
    home.save_settings({"db_url": "postgresql://u@h/db"})
    assert home.db_url() == "postgresql://u@h/db"
    assert (tmp_path / "labworks.json").stat().st_mode & 0o077 == 0


def test_home_is_private(tmp_path):
    LabworksHome(tmp_path / "lw").ensure()
    assert (tmp_path / "lw").stat().st_mode & 0o077 == 0


def test_corrupt_settings_are_a_clear_error(tmp_path):
    home = LabworksHome(tmp_path).ensure()
    (tmp_path / "labworks.json").write_text("{not json")
    with pytest.raises(HomeError, match="cannot read"):
        home.load_settings()


def test_unusable_home_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(HomeError, match="is not writable"):
        LabworksHome(blocker / "home").ensure()
